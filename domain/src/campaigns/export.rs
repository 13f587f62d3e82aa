//! `exportCampaignReport`: the report as CSV (one sheet a spreadsheet opens as is) or JSON.
//!
//! The CSV has one header and one row per item, creator, platform, day and the campaign total;
//! `row_type` says which (`CONTENT`, `CREATOR`, `PLATFORM`, `DAY`, `TOTAL`), so a filter on it
//! gives each table and the CONTENT rows add up to the TOTAL row.

use serde_json::{json, Value};

use super::report::{ContentRow, Report, Totals};
use crate::error::{DomainError, DomainResult};

/// The formats a report exports to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

impl Format {
    /// The MIME type of the exported document.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv",
            Format::Json => "application/json",
        }
    }

    /// A file name for the export of a campaign called `name`.
    pub fn file_name(self, name: &str) -> String {
        let slug: String = name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        let slug = slug.trim_matches('-');
        let slug = if slug.is_empty() { "campaign" } else { slug };
        match self {
            Format::Csv => format!("{slug}-report.csv"),
            Format::Json => format!("{slug}-report.json"),
        }
    }
}

/// The report in `format`.
pub fn export(report: &Report, format: Format) -> DomainResult<String> {
    match format {
        Format::Csv => to_csv(report),
        Format::Json => serde_json::to_string_pretty(&to_json(report))
            .map_err(|e| DomainError::invalid("EXPORT_FAILED", None, e.to_string())),
    }
}

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 27] = [
    "row_type",
    "day",
    "creator",
    "platform",
    "handle",
    "content_id",
    "kind",
    "permalink",
    "taken_at",
    "matched_by",
    "content_count",
    "views",
    "reach",
    "engagements",
    "likes",
    "comments",
    "shares",
    "saves",
    "video_views",
    "followers",
    "engagement_rate_by_reach",
    "engagement_rate_by_followers",
    "story_count",
    "story_reach",
    "metrics_as_of",
    "account_status",
    "stale",
];

/// A text cell that a spreadsheet will not run as a formula (OWASP "CSV Injection"): a value
/// beginning with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'`, which
/// spreadsheets show as text. Only cells holding text from outside (names, handles, links) go
/// through it; the numbers we write ourselves stay numbers.
fn text_cell(v: &str) -> String {
    match v.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{v}"),
        _ => v.to_owned(),
    }
}

fn opt(v: Option<i64>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

fn ratio(v: Option<f64>) -> String {
    v.map(|r| format!("{r:.6}")).unwrap_or_default()
}

fn totals_row(row_type: &str, day: &str, creator: &str, platform: &str, t: &Totals) -> Vec<String> {
    vec![
        row_type.to_owned(),
        day.to_owned(),
        text_cell(creator),
        platform.to_owned(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        t.content_count.to_string(),
        t.views.to_string(),
        t.reach.to_string(),
        t.engagements.to_string(),
        t.likes.to_string(),
        t.comments.to_string(),
        t.shares.to_string(),
        t.saves.to_string(),
        t.video_views.to_string(),
        t.followers.to_string(),
        ratio(t.engagement_rate_by_reach),
        ratio(t.engagement_rate_by_followers),
        t.story_count.to_string(),
        t.story_reach.to_string(),
        String::new(),
        String::new(),
        String::new(),
    ]
}

fn content_row(r: &ContentRow) -> Vec<String> {
    let story = r.kind == crate::kinds::MediaKind::Story;
    vec![
        "CONTENT".to_owned(),
        String::new(),
        text_cell(r.profile_name.as_deref().unwrap_or_default()),
        r.platform.as_str().to_owned(),
        text_cell(&r.handle),
        r.content_id.to_string(),
        format!("{:?}", r.kind).to_uppercase(),
        text_cell(r.permalink.as_deref().unwrap_or_default()),
        r.taken_at.to_rfc3339(),
        r.matched_by.as_str().to_owned(),
        "1".to_owned(),
        opt(r.counters.views),
        opt(r.counters.reach),
        opt(r.counters.engagements),
        opt(r.counters.likes),
        opt(r.counters.comments),
        opt(r.counters.shares),
        opt(r.counters.saves),
        opt(r.counters.video_views),
        opt(r.followers),
        ratio(r.engagement_rate_by_reach),
        ratio(r.engagement_rate_by_followers),
        if story { "1" } else { "0" }.to_owned(),
        if story {
            opt(r.counters.reach)
        } else {
            "0".to_owned()
        },
        r.metrics_as_of.map(|t| t.to_rfc3339()).unwrap_or_default(),
        r.account_status.as_str().to_owned(),
        r.stale.to_string(),
    ]
}

fn to_csv(report: &Report) -> DomainResult<String> {
    let failed = |e: csv::Error| DomainError::invalid("EXPORT_FAILED", None, e.to_string());
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_HEADER).map_err(failed)?;
    for r in &report.content {
        w.write_record(content_row(r)).map_err(failed)?;
    }
    for c in &report.creators {
        let name = c.profile_name.clone().unwrap_or_default();
        w.write_record(totals_row("CREATOR", "", &name, "", &c.totals))
            .map_err(failed)?;
    }
    for p in &report.platforms {
        w.write_record(totals_row(
            "PLATFORM",
            "",
            "",
            p.platform.as_str(),
            &p.totals,
        ))
        .map_err(failed)?;
    }
    for d in &report.days {
        w.write_record(totals_row("DAY", &d.day.to_string(), "", "", &d.totals))
            .map_err(failed)?;
    }
    w.write_record(totals_row("TOTAL", "", "", "", &report.totals))
        .map_err(failed)?;
    let bytes = w
        .into_inner()
        .map_err(|e| DomainError::invalid("EXPORT_FAILED", None, e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| DomainError::invalid("EXPORT_FAILED", None, e.to_string()))
}

fn totals_json(t: &Totals) -> Value {
    json!({
        "contentCount": t.content_count,
        "views": t.views,
        "reach": t.reach,
        "engagements": t.engagements,
        "likes": t.likes,
        "comments": t.comments,
        "shares": t.shares,
        "saves": t.saves,
        "videoViews": t.video_views,
        "followers": t.followers,
        "engagementRateByReach": t.engagement_rate_by_reach,
        "engagementRateByFollowers": t.engagement_rate_by_followers,
        "storyCount": t.story_count,
        "storyReach": t.story_reach,
    })
}

/// The report as a JSON document (the same numbers as the CSV, nested).
pub fn to_json(report: &Report) -> Value {
    let c = &report.campaign;
    json!({
        "campaign": {
            "id": c.id,
            "name": c.name,
            "brand": c.brand,
            "status": c.status.as_str(),
            "startsAt": c.starts_at,
            "endsAt": c.ends_at,
        },
        "generatedAt": report.generated_at,
        "totals": totals_json(&report.totals),
        "creators": report.creators.iter().map(|r| json!({
            "profileId": r.profile_id,
            "name": r.profile_name,
            "totals": totals_json(&r.totals),
            "staleAccounts": r.stale_accounts,
        })).collect::<Vec<_>>(),
        "platforms": report.platforms.iter().map(|r| json!({
            "platform": r.platform.as_str(),
            "totals": totals_json(&r.totals),
        })).collect::<Vec<_>>(),
        "content": report.content.iter().map(|r| json!({
            "contentId": r.content_id,
            "creator": r.profile_name,
            "platform": r.platform.as_str(),
            "handle": r.handle,
            "kind": format!("{:?}", r.kind).to_uppercase(),
            "permalink": r.permalink,
            "takenAt": r.taken_at,
            "matchedBy": r.matched_by.as_str(),
            "views": r.counters.views,
            "reach": r.counters.reach,
            "engagements": r.counters.engagements,
            "likes": r.counters.likes,
            "comments": r.counters.comments,
            "shares": r.counters.shares,
            "saves": r.counters.saves,
            "videoViews": r.counters.video_views,
            "followers": r.followers,
            "engagementRateByReach": r.engagement_rate_by_reach,
            "engagementRateByFollowers": r.engagement_rate_by_followers,
            "metricsAsOf": r.metrics_as_of,
            "accountStatus": r.account_status.as_str(),
            "stale": r.stale,
        })).collect::<Vec<_>>(),
        "days": report.days.iter().map(|d| json!({
            "day": d.day.to_string(),
            "totals": totals_json(&d.totals),
        })).collect::<Vec<_>>(),
    })
}
