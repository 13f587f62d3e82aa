//! The tracking rules of a campaign and the pure decision whether a media item matches them.
//!
//! A caption matches when it carries one of the campaign's hashtags or mentions one of its
//! accounts, compared case-insensitively as whole tags: `#Summer` matches `summer`, `#summersale`
//! does not. The item must have been taken inside the campaign's dates (both ends included).
//! Stories are matched exactly like posts (Instagram gives each story one caption).

use chrono::{DateTime, Utc};

use crate::error::{DomainError, DomainResult};
use crate::kinds::MatchedBy;

/// A campaign's caption rules, normalized: lower case, no `#`/`@`, no duplicates, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    hashtags: Vec<String>,
    mentions: Vec<String>,
}

/// Why and by what a caption matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptionMatch {
    pub by: MatchedBy,
    /// The rule as written in the caption's normalized form, e.g. `#summer` or `@brand`.
    pub rule: String,
}

impl Rules {
    /// Reads user input (`#Summer`, `summer`, `@Brand`, `brand`) into rules; a tag with
    /// characters a platform would end the tag at is refused.
    pub fn parse(hashtags: &[String], mentions: &[String]) -> DomainResult<Rules> {
        let mut rules = Rules {
            hashtags: Vec::new(),
            mentions: Vec::new(),
        };
        for raw in hashtags {
            let tag = raw.trim().trim_start_matches('#').to_lowercase();
            if tag.is_empty() || !tag.chars().all(is_hashtag_char) {
                return Err(DomainError::invalid(
                    "INVALID_HASHTAG",
                    Some("hashtags"),
                    format!("`{raw}` is not a hashtag: use letters, digits and underscores"),
                ));
            }
            rules.hashtags.push(tag);
        }
        for raw in mentions {
            let name = raw.trim().trim_start_matches('@').to_lowercase();
            let name = name.trim_end_matches('.');
            if name.is_empty() || !name.chars().all(is_mention_char) {
                return Err(DomainError::invalid(
                    "INVALID_MENTION",
                    Some("mentions"),
                    format!("`{raw}` is not an account mention: use letters, digits, `.` and `_`"),
                ));
            }
            rules.mentions.push(name.to_owned());
        }
        rules.hashtags.sort();
        rules.hashtags.dedup();
        rules.mentions.sort();
        rules.mentions.dedup();
        Ok(rules)
    }

    /// Rules as stored (space-separated, already normalized).
    pub fn from_stored(hashtags: &str, mentions: &str) -> Rules {
        let split = |s: &str| {
            s.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<String>>()
        };
        Rules {
            hashtags: split(hashtags),
            mentions: split(mentions),
        }
    }

    /// The hashtags, stored form.
    pub fn hashtags(&self) -> &[String] {
        &self.hashtags
    }

    /// The mentions, stored form.
    pub fn mentions(&self) -> &[String] {
        &self.mentions
    }

    /// `(hashtags, mentions)` as stored in the `campaign` row.
    pub fn to_stored(&self) -> (String, String) {
        (self.hashtags.join(" "), self.mentions.join(" "))
    }

    /// True when there is no caption rule at all (the campaign tracks only added links).
    pub fn is_empty(&self) -> bool {
        self.hashtags.is_empty() && self.mentions.is_empty()
    }

    /// The first rule the caption satisfies: hashtags before mentions, each in sorted order, so
    /// the answer is stable.
    pub fn match_caption(&self, caption: &str) -> Option<CaptionMatch> {
        let tags = tags_in(caption, '#', is_hashtag_char);
        if let Some(tag) = self.hashtags.iter().find(|t| tags.contains(t)) {
            return Some(CaptionMatch {
                by: MatchedBy::Hashtag,
                rule: format!("#{tag}"),
            });
        }
        let mentions = tags_in(caption, '@', is_mention_char)
            .into_iter()
            .map(|m| m.trim_end_matches('.').to_owned())
            .collect::<Vec<_>>();
        self.mentions
            .iter()
            .find(|m| mentions.contains(m))
            .map(|m| CaptionMatch {
                by: MatchedBy::Mention,
                rule: format!("@{m}"),
            })
    }
}

/// True when `taken_at` falls inside the campaign's dates, both ends included.
pub fn within(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>, taken_at: DateTime<Utc>) -> bool {
    starts_at <= taken_at && taken_at <= ends_at
}

/// Decides whether a media item taken at `taken_at` with `caption` is content of a campaign with
/// `rules` running from `starts_at` to `ends_at`.
pub fn matches(
    rules: &Rules,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    taken_at: DateTime<Utc>,
    caption: Option<&str>,
) -> Option<CaptionMatch> {
    if !within(starts_at, ends_at, taken_at) {
        return None;
    }
    rules.match_caption(caption?)
}

fn is_hashtag_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn is_mention_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// Every `sigil`-tag in `text`, lower-cased. A sigil counts only at the start or after a
/// character that cannot be part of a word, so `mail@brand.com` is not a mention of `brand`.
fn tags_in(text: &str, sigil: char, is_tag_char: fn(char) -> bool) -> Vec<String> {
    let mut found = Vec::new();
    let mut prev: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let starts_tag = c == sigil && prev.is_none_or(|p| !(p.is_alphanumeric() || p == '_'));
        prev = Some(c);
        if !starts_tag {
            continue;
        }
        let start = i + c.len_utf8();
        let mut end = start;
        while let Some(&(j, d)) = chars.peek() {
            if !is_tag_char(d) {
                break;
            }
            end = j + d.len_utf8();
            prev = Some(d);
            chars.next();
        }
        if end > start {
            found.push(text[start..end].to_lowercase());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn rules(h: &[&str], m: &[&str]) -> Rules {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Rules::parse(&own(h), &own(m)).expect("valid rules")
    }

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, day, 12, 0, 0)
            .single()
            .expect("date")
    }

    #[test]
    fn a_hashtag_matches_whole_and_in_any_case() {
        let r = rules(&["#Summer"], &[]);
        let m = r
            .match_caption("Sun is out! #SUMMER #beach")
            .expect("match");
        assert_eq!(m.by, MatchedBy::Hashtag);
        assert_eq!(m.rule, "#summer");
        assert!(r.match_caption("#summersale is on").is_none());
        assert!(r.match_caption("summer without the sign").is_none());
        assert!(r.match_caption("end of line #summer").is_some());
        assert!(r.match_caption("#summer, then a comma").is_some());
    }

    #[test]
    fn a_mention_matches_the_account_and_not_an_email_address() {
        let r = rules(&[], &["@Brand.Co"]);
        let m = r
            .match_caption("Thanks @brand.co. See you soon")
            .expect("match");
        assert_eq!(m.by, MatchedBy::Mention);
        assert_eq!(m.rule, "@brand.co");
        assert!(r.match_caption("write to hello@brand.co").is_none());
        assert!(r.match_caption("@brand.company").is_none());
    }

    #[test]
    fn hashtags_win_over_mentions_and_accented_hashtags_work() {
        let r = rules(&["été"], &["brand"]);
        assert_eq!(
            r.match_caption("@brand #Été").expect("match").by,
            MatchedBy::Hashtag
        );
        assert_eq!(
            r.match_caption("@brand only").expect("match").by,
            MatchedBy::Mention
        );
    }

    #[test]
    fn content_outside_the_dates_does_not_match() {
        let r = rules(&["summer"], &[]);
        assert!(matches(&r, at(10), at(20), at(9), Some("#summer")).is_none());
        assert!(matches(&r, at(10), at(20), at(21), Some("#summer")).is_none());
        assert!(matches(&r, at(10), at(20), at(10), Some("#summer")).is_some());
        assert!(matches(&r, at(10), at(20), at(20), Some("#summer")).is_some());
        assert!(matches(&r, at(10), at(20), at(15), None).is_none());
    }

    #[test]
    fn bad_tags_are_refused_and_duplicates_collapse() {
        assert!(Rules::parse(&["two words".into()], &[]).is_err());
        assert!(Rules::parse(&["#".into()], &[]).is_err());
        assert!(Rules::parse(&[], &["@".into()]).is_err());
        let r = rules(&["#A", "a", "b"], &["x", "@X"]);
        assert_eq!(r.to_stored(), ("a b".to_owned(), "x".to_owned()));
        assert_eq!(Rules::from_stored("a b", "x"), r);
    }
}
