//! The run history as people read it, shared by `wb runs` / `wb show` and the TUI's run screens: short commits,
//! market lists, measured check values and local times.

use chrono::{DateTime, TimeZone};

/// A check's measured value: counts without a fraction (`3`), shares as they are (`0.0125`).
pub fn measured(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 { format!("{}", value as i64) } else { format!("{value}") }
}

/// `abc1234*`: the commit's first 7 characters, `*` when the work tree was dirty; `-` outside a repository.
pub fn short_commit(commit: Option<&str>, dirty: Option<bool>) -> String {
    match commit {
        Some(commit) => {
            let short: String = commit.chars().take(crate::git::SHORT_HASH).collect();
            if dirty == Some(true) { format!("{short}*") } else { short }
        }
        None => "-".to_string(),
    }
}

/// `all (5)` when `markets` are every registered market (in any order), else the ids joined by commas.
pub fn markets_label(markets: &[String], registered: &[&str]) -> String {
    let mut selected: Vec<&str> = markets.iter().map(String::as_str).collect();
    let mut all = registered.to_vec();
    selected.sort_unstable();
    all.sort_unstable();
    if !all.is_empty() && selected == all { format!("all ({})", all.len()) } else { markets.join(",") }
}

/// An RFC 3339 time as `YYYY-MM-DD HH:MM:SS` in `tz`; the text as stored when it does not parse.
pub fn local_time<Tz: TimeZone>(rfc3339: &str, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    match DateTime::parse_from_rfc3339(rfc3339) {
        Ok(time) => time.with_timezone(tz).format("%Y-%m-%d %H:%M:%S").to_string(),
        Err(_) => rfc3339.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measured_values_print_counts_without_a_fraction() {
        assert_eq!(measured(3.0), "3");
        assert_eq!(measured(0.0), "0");
        assert_eq!(measured(0.0125), "0.0125");
        assert_eq!(measured(-2.5), "-2.5");
    }

    #[test]
    fn commits_are_shortened_and_starred_when_dirty() {
        let full = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(short_commit(Some(full), Some(true)), "0123456*");
        assert_eq!(short_commit(Some(full), Some(false)), "0123456");
        assert_eq!(short_commit(Some(full), None), "0123456");
        assert_eq!(short_commit(None, None), "-");
    }

    #[test]
    fn every_registered_market_in_any_order_is_all() {
        let registered = ["a", "b", "c"];
        let names = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(markets_label(&names(&["c", "a", "b"]), &registered), "all (3)");
        assert_eq!(markets_label(&names(&["a", "c"]), &registered), "a,c");
        assert_eq!(markets_label(&names(&["a"]), &[]), "a");
    }

    #[test]
    fn times_are_shown_in_the_given_zone() {
        let plus_ten = chrono::FixedOffset::east_opt(10 * 3600).unwrap();
        assert_eq!(local_time("2026-11-20T22:30:05.123Z", &plus_ten), "2026-11-21 08:30:05");
        assert_eq!(local_time("2026-11-20T22:30:05.123Z", &chrono::Utc), "2026-11-20 22:30:05");
        assert_eq!(local_time("yesterday", &chrono::Utc), "yesterday");
    }
}
