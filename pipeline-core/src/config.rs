//! Market configuration (`market.toml` merged over the base) and model weights (`model.toml`).
//!
//! Markets embed their two files at compile time, so the runner built from the current sources always sees the
//! current configuration and the cache key of every stage reflects it.

use chrono::Weekday;
use serde::{Deserialize, Serialize};

use crate::error::{PipelineError, Result};

/// The base configuration every market starts from.
pub const BASE_CONFIG: &str = include_str!("../base.toml");

/// A market's resolved configuration: the base merged with its `market.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketConfig {
    /// Market id, e.g. `foobar-br`.
    pub id: String,
    /// Product line, the prefix of content ids.
    pub franchise: String,
    /// ISO currency code of raw amounts.
    pub currency: String,
    /// Multiplier from local currency to USD.
    pub fx_to_usd: f64,
    /// IANA time zone of the market.
    pub timezone: String,
    /// ISO 639-1 languages, default first.
    pub languages: Vec<String>,
    /// Contact channels in the market's order of preference.
    pub channel_priority: Vec<String>,
    /// Weekdays on which nothing is scheduled (`Sat`, `Sun`, ...).
    pub quiet_weekdays: Vec<String>,
    /// Share of ranked recommendations that is kept.
    pub contact_share: f64,
    /// Interaction channels the market's data may contain.
    pub allowed_channels: Vec<String>,
    /// How the raw extracts are written.
    pub raw: RawFormat,
    /// Quality-check thresholds.
    pub checks: CheckThresholds,
}

/// How a market's raw CSV extracts are written (delimiter, date and number formats, boolean tokens).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFormat {
    /// Field delimiter, one ASCII character.
    pub delimiter: String,
    /// strftime format of dates.
    pub date_format: String,
    /// strftime format of datetimes.
    pub datetime_format: String,
    /// Whether decimals are written with a comma.
    pub decimal_comma: bool,
    /// Tokens meaning true.
    pub true_values: Vec<String>,
    /// Tokens meaning false.
    pub false_values: Vec<String>,
}

impl RawFormat {
    /// The delimiter as a byte; config validation guarantees it is one ASCII character.
    pub fn delimiter_byte(&self) -> u8 {
        self.delimiter.as_bytes()[0]
    }
}

/// Thresholds of the data quality checks (spec defaults in `base.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckThresholds {
    /// `parse_errors` FAILs above this share of a table's lines.
    pub parse_errors_fail_share: f64,
    /// Orphan orders/interactions FAIL above this share.
    pub orphans_fail_share: f64,
    /// A canonical column ALERTs when its null share is above this.
    pub null_share_alert: f64,
    /// Freshness ALERTs when the latest order is older than this many days before as_of.
    pub freshness_days: i64,
    /// Row counts ALERT when they move more than this share from the previous successful run.
    pub row_count_change_alert: f64,
    /// An order amount (market currency) above this ALERTs: plausible but worth a look.
    pub amount_alert_max: f64,
    /// An order amount above this FAILs validate: no real order is that large.
    pub amount_fail_max: f64,
    /// An order quantity above this ALERTs.
    pub quantity_alert_max: i64,
    /// An order quantity above this FAILs validate.
    pub quantity_fail_max: i64,
}

/// Logistic model weights, retrained twice a year (`model.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelWeights {
    /// Intercept.
    pub b: f64,
    /// Weight of `ln(1 + frequency_90d)`.
    pub w_freq: f64,
    /// Weight of `ln(1 + monetary_90d_usd)`.
    pub w_mon: f64,
    /// Weight of `min(recency_days, 365) / 365` (subtracted).
    pub w_rec: f64,
    /// Weight of `email_open_rate_90d`.
    pub w_open: f64,
    /// Weight of `click_rate_90d`.
    pub w_click: f64,
}

impl MarketConfig {
    /// Resolves a market's configuration: `market_toml` merged key by key over [`BASE_CONFIG`], then validated.
    pub fn resolve(market: &str, market_toml: &str) -> Result<Self> {
        let err =
            |message: String| PipelineError::Config { market: market.to_string(), file: "market.toml".into(), message };
        let mut base: toml::Table = BASE_CONFIG.parse().map_err(|e: toml::de::Error| err(format!("base.toml: {e}")))?;
        let overlay: toml::Table = market_toml.parse().map_err(|e: toml::de::Error| err(e.to_string()))?;
        merge(&mut base, overlay);
        let config: MarketConfig =
            toml::Value::Table(base).try_into().map_err(|e: toml::de::Error| err(e.to_string()))?;
        config.validate().map_err(err)?;
        Ok(config)
    }

    fn validate(&self) -> std::result::Result<(), String> {
        if self.raw.delimiter.len() != 1 || !self.raw.delimiter.is_ascii() {
            return Err(format!("raw.delimiter must be one ASCII character, got {:?}", self.raw.delimiter));
        }
        if self.languages.is_empty() {
            return Err("languages must list at least the default language".into());
        }
        if !(0.0..=1.0).contains(&self.contact_share) {
            return Err(format!("contact_share must be within [0, 1], got {}", self.contact_share));
        }
        let mut quiet = Vec::new();
        for day in &self.quiet_weekdays {
            quiet.push(
                day.parse::<Weekday>()
                    .map_err(|_| format!("quiet_weekdays: unknown weekday {day:?} (use Mon..Sun)"))?,
            );
        }
        quiet.sort_by_key(|d| d.num_days_from_monday());
        quiet.dedup();
        if quiet.len() == 7 {
            return Err("quiet_weekdays: every weekday is quiet, so nothing could ever be scheduled".into());
        }
        let bp = self.contact_share * 10_000.0;
        if (bp - bp.round()).abs() > 1e-6 {
            return Err(format!("contact_share {} has more than four decimals", self.contact_share));
        }
        if self.checks.freshness_days < 0 {
            return Err(format!("checks.freshness_days must be >= 0, got {}", self.checks.freshness_days));
        }
        let c = &self.checks;
        if !(c.amount_alert_max.is_finite() && c.amount_fail_max.is_finite())
            || c.amount_alert_max < 0.0
            || c.amount_alert_max > c.amount_fail_max
        {
            return Err(format!(
                "checks: need 0 <= amount_alert_max <= amount_fail_max (finite), got {} and {}",
                c.amount_alert_max, c.amount_fail_max
            ));
        }
        if c.quantity_alert_max < 1 || c.quantity_alert_max > c.quantity_fail_max {
            return Err(format!(
                "checks: need 1 <= quantity_alert_max <= quantity_fail_max, got {} and {}",
                c.quantity_alert_max, c.quantity_fail_max
            ));
        }
        for channel in &self.channel_priority {
            if !crate::schema::CONTACT_CHANNELS.contains(&channel.as_str()) {
                return Err(format!(
                    "channel_priority: {channel:?} is not a contact channel (email, sms, call, visit)"
                ));
            }
        }
        Ok(())
    }

    /// The market's default language (the first listed).
    pub fn default_language(&self) -> &str {
        &self.languages[0]
    }

    /// Quiet weekdays, parsed.
    pub fn quiet_days(&self) -> Vec<Weekday> {
        self.quiet_weekdays.iter().filter_map(|d| d.parse().ok()).collect()
    }

    /// `contact_share` in basis points, so `floor(contact_share * n)` is computed exactly in integers
    /// (0.35 has no exact binary form; `0.35 * 100` must give 35, not 34).
    pub fn contact_share_bp(&self) -> u64 {
        (self.contact_share * 10_000.0).round() as u64
    }

    /// The resolved configuration as JSON, for cache keys and the market explorer.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("config serialises")
    }
}

impl ModelWeights {
    /// Parses a market's `model.toml`.
    pub fn parse(market: &str, model_toml: &str) -> Result<Self> {
        toml::from_str(model_toml).map_err(|e| PipelineError::Config {
            market: market.to_string(),
            file: "model.toml".into(),
            message: e.to_string(),
        })
    }
}

/// Merges `overlay` into `base`: tables merge recursively, every other value replaces.
fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
id = "foobar-xx"
currency = "XXX"
fx_to_usd = 0.5
timezone = "UTC"
languages = ["en"]
channel_priority = ["email", "sms"]
"#;

    #[test]
    fn market_toml_overrides_only_what_it_lists() {
        let c = MarketConfig::resolve("foobar-xx", &format!("{MINIMAL}\n[raw]\ndelimiter = \";\"\n")).unwrap();
        assert_eq!(c.raw.delimiter, ";");
        assert_eq!(c.raw.date_format, "%Y-%m-%d", "unlisted raw keys keep the base value");
        assert_eq!(c.franchise, "foobar");
        assert_eq!(c.checks.freshness_days, 14);
    }

    #[test]
    fn plausibility_bounds_default_from_base_and_are_overridable() {
        let c = MarketConfig::resolve("foobar-xx", MINIMAL).unwrap();
        assert_eq!(
            (
                c.checks.amount_alert_max,
                c.checks.amount_fail_max,
                c.checks.quantity_alert_max,
                c.checks.quantity_fail_max
            ),
            (1_000_000.0, 1_000_000_000.0, 100, 10_000)
        );
        let c = MarketConfig::resolve("foobar-xx", &format!("{MINIMAL}\n[checks]\namount_alert_max = 5e7\n")).unwrap();
        assert_eq!((c.checks.amount_alert_max, c.checks.amount_fail_max), (5e7, 1e9));
    }

    #[test]
    fn plausibility_alert_above_fail_is_refused() {
        let e = MarketConfig::resolve("foobar-xx", &format!("{MINIMAL}\n[checks]\nquantity_alert_max = 20000\n"))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid market.toml for market foobar-xx: checks: need 1 <= quantity_alert_max <= quantity_fail_max, \
             got 20000 and 10000"
        );
    }

    #[test]
    fn contact_share_is_exact_in_basis_points() {
        let c = MarketConfig::resolve("foobar-xx", &format!("{MINIMAL}\ncontact_share = 0.35\n")).unwrap();
        assert_eq!(c.contact_share_bp(), 3500);
    }

    #[test]
    fn unknown_key_is_named() {
        let e = MarketConfig::resolve("foobar-xx", &format!("{MINIMAL}\ncontact_shar = 0.3\n")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("invalid market.toml for market foobar-xx:"), "{msg}");
        assert!(msg.contains("contact_shar"), "{msg}");
    }

    #[test]
    fn bad_quiet_day_is_named() {
        let e =
            MarketConfig::resolve("foobar-xx", &format!("{MINIMAL}\nquiet_weekdays = [\"Sunnday\"]\n")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid market.toml for market foobar-xx: quiet_weekdays: unknown weekday \"Sunnday\" (use Mon..Sun)"
        );
    }

    #[test]
    fn model_missing_weight_is_named() {
        let e = ModelWeights::parse("foobar-xx", "b = 1.0").unwrap_err();
        assert!(e.to_string().contains("missing field `w_freq`"), "{e}");
    }
}
