//! The table every scenario prints, and latency summaries from an HdrHistogram.

use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;

/// A titled two-column table (`| metric | value |`, Markdown, so it pastes into the docs).
#[derive(Debug, Default)]
pub struct Report {
    title: String,
    rows: Vec<(String, String)>,
}

impl Report {
    pub fn new(title: impl Into<String>) -> Self {
        Report {
            title: title.into(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, metric: impl Into<String>, value: impl fmt::Display) -> &mut Self {
        self.rows.push((metric.into(), value.to_string()));
        self
    }

    /// Adds `p50`, `p90`, `p99` and `max` rows (milliseconds) of a histogram of microseconds.
    pub fn latencies(&mut self, what: &str, micros: &Histogram<u64>) -> &mut Self {
        for (label, q) in [("p50", 0.50), ("p90", 0.90), ("p99", 0.99)] {
            self.row(
                format!("{what} {label} (ms)"),
                ms(micros.value_at_quantile(q)),
            );
        }
        self.row(format!("{what} max (ms)"), ms(micros.max()))
    }
}

/// Microseconds as milliseconds with two decimals.
pub fn ms(micros: u64) -> String {
    format!("{:.2}", micros as f64 / 1000.0)
}

/// A duration as milliseconds with two decimals.
pub fn duration_ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// A histogram of microseconds from 1 µs to 10 minutes at 3 significant digits.
pub fn micros_histogram() -> Histogram<u64> {
    // The bounds are constants that hdrhistogram accepts; a failure is a programming error.
    Histogram::new_with_bounds(1, 600_000_000, 3).unwrap_or_else(|e| panic!("histogram: {e}"))
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .rows
            .iter()
            .map(|(m, _)| m.len())
            .max()
            .unwrap_or(6)
            .max(6);
        let vwidth = self
            .rows
            .iter()
            .map(|(_, v)| v.len())
            .max()
            .unwrap_or(5)
            .max(5);
        writeln!(f, "{}", self.title)?;
        writeln!(f)?;
        writeln!(f, "| {:width$} | {:>vwidth$} |", "metric", "value")?;
        writeln!(f, "| {} | {}: |", "-".repeat(width), "-".repeat(vwidth - 1))?;
        for (m, v) in &self.rows {
            writeln!(f, "| {m:width$} | {v:>vwidth$} |")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_prints_an_aligned_markdown_table_with_latency_quantiles() {
        let mut h = micros_histogram();
        for v in 1..=1000u64 {
            h.record(v * 1000).unwrap();
        }
        let mut report = Report::new("demo");
        report.row("requests", 1000).latencies("latency", &h);
        let text = report.to_string();
        assert!(text.starts_with("demo\n\n| metric"), "{text}");
        assert!(text.contains("| latency p50 (ms) |"), "{text}");
        let p99: f64 = text
            .lines()
            .find(|l| l.contains("latency p99"))
            .and_then(|l| l.split('|').nth(2))
            .map(|v| v.trim().parse().unwrap())
            .unwrap();
        assert!((989.0..=991.0).contains(&p99), "{p99}");
        let widths: Vec<usize> = text.lines().skip(2).map(str::len).collect();
        assert!(widths.windows(2).all(|w| w[0] == w[1]), "{text}");
    }
}
