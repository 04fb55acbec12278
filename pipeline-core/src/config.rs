//! Market configuration (`market.toml` merged over the base) and model weights (`model.toml`).
//!
//! Markets embed their two files at compile time, so the runner built from the current sources always sees the
//! current configuration and the cache key of every stage reflects it.

use std::collections::BTreeMap;

use chrono::Weekday;
use serde::{Deserialize, Serialize};

use crate::error::{PipelineError, Result};
use crate::schema::Table;

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
    /// Region codes the market's customers live in (the fixture generator draws from them, in this order).
    pub regions: Vec<String>,
    /// How the raw extracts are written.
    pub raw: RawFormat,
    /// Quality-check thresholds.
    pub checks: CheckThresholds,
    /// History-aware checks and model drift.
    pub quality: QualitySettings,
    /// Who hears about a run's ALERTs and FAILs.
    pub alerts: AlertSettings,
}

/// History-aware checks (a metric against the same market's earlier successful runs) and model drift
/// (this run's output against the previous successful run's), from `[quality]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualitySettings {
    /// Compare with at most this many of the newest successful runs.
    pub history_runs: u32,
    /// Only runs from the last this many days; 0 means no limit in time.
    pub history_days: u32,
    /// With fewer earlier runs than this, a check says "not enough history" and passes.
    pub min_history: u32,
    /// ALERT outside mean ± this many standard deviations.
    pub alert_sigma: f64,
    /// FAIL outside mean ± this many standard deviations.
    pub fail_sigma: f64,
    /// The smallest σ used, as a share of |mean|, so a metric that never moved does not fail on any change.
    pub min_sigma_share: f64,
    /// The metrics checked against their history (`pipeline_core::metrics` names them).
    pub history_metrics: Vec<String>,
    /// Per-metric bands that replace `alert_sigma` and `fail_sigma`.
    pub bands: BTreeMap<String, SigmaBand>,
    /// A drift test ALERTs when its p-value is below this.
    pub drift_alpha: f64,
    /// Metric values kept in run history per market (newest runs).
    pub retention_runs: u32,
}

/// One metric's band, in standard deviations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigmaBand {
    /// ALERT outside mean ± this many σ.
    pub alert_sigma: f64,
    /// FAIL outside mean ± this many σ.
    pub fail_sigma: f64,
}

/// Where a run's ALERT and FAIL summary goes, from `[alerts]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertSettings {
    /// The sender address.
    pub sender: String,
    /// Recipient addresses; empty sends nothing.
    pub recipients: Vec<String>,
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
    /// Canonical column → the name the raw files use for it (BR's Portuguese names), in every table.
    pub rename: BTreeMap<String, String>,
    /// Canonical columns the raw files do not carry (JP: `sms_opt_in`).
    pub omit_columns: Vec<String>,
    /// Optional canonical columns the raw files do carry, after the required ones (DE: `doi_confirmed`).
    pub extra_columns: Vec<String>,
}

impl RawFormat {
    /// The delimiter as a byte; config validation guarantees it is one ASCII character.
    pub fn delimiter_byte(&self) -> u8 {
        self.delimiter.as_bytes()[0]
    }

    /// The columns of `table`'s raw file in file order, by canonical name: the required canonical columns less
    /// `omit_columns`, then the `extra_columns` of this table.
    pub fn columns(&self, table: Table) -> Vec<&'static str> {
        let specs = table.columns();
        let omitted = |name: &str| self.omit_columns.iter().any(|c| c == name);
        let extra = |name: &str| self.extra_columns.iter().any(|c| c == name);
        let mut columns: Vec<&'static str> =
            specs.iter().filter(|s| s.default.is_none() && !omitted(s.name)).map(|s| s.name).collect();
        columns.extend(specs.iter().filter(|s| s.default.is_some() && extra(s.name)).map(|s| s.name));
        columns
    }

    /// The name the raw files give the canonical column `canonical` (itself unless `rename` lists it).
    pub fn file_name<'a>(&'a self, canonical: &'a str) -> &'a str {
        self.rename.get(canonical).map(String::as_str).unwrap_or(canonical)
    }

    /// (raw name, canonical name) for every renamed column of `table`, in the table's column order.
    pub fn renames(&self, table: Table) -> Vec<(&str, &'static str)> {
        table.columns().iter().filter_map(|s| self.rename.get(s.name).map(|raw| (raw.as_str(), s.name))).collect()
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
        if self.raw.decimal_comma && self.raw.delimiter == "," {
            return Err("raw.delimiter \",\" cannot go with raw.decimal_comma = true: every decimal would split its \
                        field; use \";\" or set decimal_comma = false"
                .into());
        }
        if self.languages.is_empty() {
            return Err("languages must list at least the default language".into());
        }
        if iso_currency::Currency::from_code(&self.currency).is_none() {
            return Err(format!("currency: {:?} is not an ISO 4217 code (e.g. EUR, JPY)", self.currency));
        }
        if self.timezone.parse::<chrono_tz::Tz>().is_err() {
            return Err(format!(
                "timezone: {:?} is not an IANA time zone (e.g. Europe/Paris, America/Toronto)",
                self.timezone
            ));
        }
        for language in &self.languages {
            if language.len() != 2 || !language.bytes().all(|b| b.is_ascii_lowercase()) {
                return Err(format!(
                    "languages: {language:?} is not an ISO 639-1 code (two lowercase letters, e.g. fr)"
                ));
            }
        }
        if self.regions.is_empty() {
            return Err("regions must list at least one region code".into());
        }
        let canonical: Vec<crate::schema::ColumnSpec> = Table::ALL.iter().flat_map(|t| t.columns()).collect();
        let known = |name: &str| canonical.iter().any(|c| c.name == name);
        for column in self.raw.rename.keys() {
            if !known(column) {
                return Err(format!("raw.rename: {column:?} is not a canonical column"));
            }
        }
        for column in &self.raw.omit_columns {
            if !canonical.iter().any(|c| c.name == column.as_str() && c.default.is_none()) {
                return Err(format!("raw.omit_columns: {column:?} is not a required canonical column"));
            }
        }
        for column in &self.raw.extra_columns {
            if !canonical.iter().any(|c| c.name == column.as_str() && c.default.is_some()) {
                return Err(format!(
                    "raw.extra_columns: {column:?} is not an optional canonical column (doi_confirmed)"
                ));
            }
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
        self.validate_quality()?;
        for address in self.alerts.recipients.iter().chain(std::iter::once(&self.alerts.sender)) {
            let parts: Vec<&str> = address.split('@').collect();
            if parts.len() != 2 || parts.iter().any(|p| p.is_empty() || p.contains(char::is_whitespace)) {
                return Err(format!("alerts: {address:?} is not an email address (name@domain)"));
            }
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

    /// Checks `[quality]`: every listed metric is known, bands are positive and ordered, α is within (0, 1).
    fn validate_quality(&self) -> std::result::Result<(), String> {
        let q = &self.quality;
        let sigma = |key: &str, alert: f64, fail: f64| -> std::result::Result<(), String> {
            if !(alert.is_finite() && alert > 0.0) {
                return Err(format!("{key}alert_sigma must be a positive number of standard deviations, got {alert}"));
            }
            if !(fail.is_finite() && fail > 0.0) {
                return Err(format!("{key}fail_sigma must be a positive number of standard deviations, got {fail}"));
            }
            if fail < alert {
                return Err(format!("{key}fail_sigma ({fail}) must be at least alert_sigma ({alert})"));
            }
            Ok(())
        };
        sigma("quality.", q.alert_sigma, q.fail_sigma)?;
        for (metric, band) in &q.bands {
            if !crate::metrics::is_known(metric) {
                return Err(format!("quality.bands.{metric:?}: unknown metric; {}", crate::metrics::naming_hint()));
            }
            sigma(&format!("quality.bands.{metric:?}."), band.alert_sigma, band.fail_sigma)?;
        }
        for metric in &q.history_metrics {
            if !crate::metrics::is_known(metric) {
                return Err(format!(
                    "quality.history_metrics: unknown metric {metric:?}; {}",
                    crate::metrics::naming_hint()
                ));
            }
        }
        if !(q.drift_alpha > 0.0 && q.drift_alpha < 1.0) {
            return Err(format!("quality.drift_alpha must be within (0, 1), got {}", q.drift_alpha));
        }
        if !(q.min_sigma_share.is_finite() && q.min_sigma_share >= 0.0) {
            return Err(format!("quality.min_sigma_share must be >= 0, got {}", q.min_sigma_share));
        }
        if q.history_runs == 0 {
            return Err("quality.history_runs must be at least 1".into());
        }
        if q.min_history < 2 {
            return Err(format!(
                "quality.min_history must be at least 2 (a standard deviation needs two runs), got {}",
                q.min_history
            ));
        }
        if q.retention_runs < q.history_runs {
            return Err(format!(
                "quality.retention_runs ({}) must be at least quality.history_runs ({}), or the checks would \
                 never see the runs they ask for",
                q.retention_runs, q.history_runs
            ));
        }
        Ok(())
    }

    /// The base's `[quality]` settings (what a market gets unless it says otherwise).
    pub fn base_quality() -> QualitySettings {
        #[derive(Deserialize)]
        struct Base {
            quality: QualitySettings,
        }
        let base: Base = toml::from_str(BASE_CONFIG).expect("base.toml has a valid [quality]");
        base.quality
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
regions = ["N", "S"]
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

    /// The error of [`MINIMAL`] with the line of `key` replaced by `line`.
    fn resolve_err(key: &str, line: &str) -> String {
        let kept: Vec<&str> = MINIMAL.lines().filter(|l| !l.starts_with(&format!("{key} ="))).collect();
        MarketConfig::resolve("foobar-xx", &format!("{}\n{line}\n", kept.join("\n"))).unwrap_err().to_string()
    }

    const PREFIX: &str = "invalid market.toml for market foobar-xx: ";

    #[test]
    fn currency_must_be_iso_4217() {
        assert_eq!(
            resolve_err("currency", "currency = \"EURO\""),
            format!("{PREFIX}currency: \"EURO\" is not an ISO 4217 code (e.g. EUR, JPY)")
        );
        assert_eq!(
            resolve_err("currency", "currency = \"ABC\""),
            format!("{PREFIX}currency: \"ABC\" is not an ISO 4217 code (e.g. EUR, JPY)")
        );
    }

    #[test]
    fn timezone_must_be_iana() {
        assert_eq!(
            resolve_err("timezone", "timezone = \"Europe/Pariss\""),
            format!(
                "{PREFIX}timezone: \"Europe/Pariss\" is not an IANA time zone (e.g. Europe/Paris, America/Toronto)"
            )
        );
    }

    #[test]
    fn languages_must_be_two_lowercase_letters() {
        assert_eq!(
            resolve_err("languages", "languages = [\"fr\", \"FR\"]"),
            format!("{PREFIX}languages: \"FR\" is not an ISO 639-1 code (two lowercase letters, e.g. fr)")
        );
        assert_eq!(
            resolve_err("languages", "languages = [\"fra\"]"),
            format!("{PREFIX}languages: \"fra\" is not an ISO 639-1 code (two lowercase letters, e.g. fr)")
        );
    }

    #[test]
    fn regions_must_not_be_empty() {
        assert_eq!(
            resolve_err("regions", "regions = []"),
            format!("{PREFIX}regions must list at least one region code")
        );
    }

    #[test]
    fn raw_columns_must_be_canonical() {
        assert_eq!(
            resolve_err("-", "[raw.rename]\nclient_id = \"id_cliente\""),
            format!("{PREFIX}raw.rename: \"client_id\" is not a canonical column")
        );
        assert_eq!(
            resolve_err("-", "[raw]\nomit_columns = [\"doi_confirmed\"]"),
            format!("{PREFIX}raw.omit_columns: \"doi_confirmed\" is not a required canonical column")
        );
        assert_eq!(
            resolve_err("-", "[raw]\nextra_columns = [\"sms_opt_in\"]"),
            format!("{PREFIX}raw.extra_columns: \"sms_opt_in\" is not an optional canonical column (doi_confirmed)")
        );
    }

    #[test]
    fn raw_columns_follow_omit_and_extra_and_rename() {
        let c = MarketConfig::resolve(
            "foobar-xx",
            &format!(
                "{MINIMAL}\n[raw]\nomit_columns = [\"sms_opt_in\"]\nextra_columns = [\"doi_confirmed\"]\n\
                 [raw.rename]\ncustomer_id = \"id_cliente\"\n"
            ),
        )
        .unwrap();
        assert_eq!(
            c.raw.columns(Table::Customers),
            [
                "customer_id",
                "segment",
                "region",
                "language",
                "signup_date",
                "email_opt_in",
                "phone_opt_in",
                "doi_confirmed"
            ]
        );
        assert_eq!(c.raw.columns(Table::Orders), ["order_id", "customer_id", "order_date", "quantity", "amount"]);
        assert_eq!(c.raw.file_name("customer_id"), "id_cliente");
        assert_eq!(c.raw.file_name("segment"), "segment");
        assert_eq!(c.raw.renames(Table::Orders), [("id_cliente", "customer_id")]);
    }

    #[test]
    fn model_missing_weight_is_named() {
        let e = ModelWeights::parse("foobar-xx", "b = 1.0").unwrap_err();
        assert!(e.to_string().contains("missing field `w_freq`"), "{e}");
    }

    #[test]
    fn a_comma_delimiter_with_decimal_commas_is_refused() {
        let toml = format!("{MINIMAL}\n[raw]\ndelimiter = \",\"\ndecimal_comma = true\n");
        assert_eq!(
            MarketConfig::resolve("foobar-xx", &toml).unwrap_err().to_string(),
            "invalid market.toml for market foobar-xx: raw.delimiter \",\" cannot go with raw.decimal_comma = true: \
             every decimal would split its field; use \";\" or set decimal_comma = false"
        );
    }

    fn quality_error(section: &str) -> String {
        MarketConfig::resolve("foobar-xx", &format!("{MINIMAL}\n{section}\n")).unwrap_err().to_string()
    }

    #[test]
    fn bad_quality_config_is_named_by_its_key() {
        let prefix = "invalid market.toml for market foobar-xx: ";
        assert_eq!(
            quality_error("[quality]\nhistory_metrics = [\"score.propensity.median\"]"),
            format!(
                "{prefix}quality.history_metrics: unknown metric \"score.propensity.median\"; metrics are named like \
                 ingest.rows.orders, ingest.null_share.customers.region, score.propensity.mean, \
                 recommend.action_share.offer (`wb kpi --metrics` lists them all)"
            )
        );
        assert_eq!(
            quality_error("[quality]\nalert_sigma = -1.0"),
            format!("{prefix}quality.alert_sigma must be a positive number of standard deviations, got -1")
        );
        assert_eq!(
            quality_error("[quality.bands]\n\"score.propensity.mean\" = { alert_sigma = 2.0, fail_sigma = -3.0 }"),
            format!(
                "{prefix}quality.bands.\"score.propensity.mean\".fail_sigma must be a positive number of standard \
                 deviations, got -3"
            )
        );
        assert_eq!(
            quality_error("[quality.bands]\n\"score.mean\" = { alert_sigma = 2.0, fail_sigma = 3.0 }"),
            format!(
                "{prefix}quality.bands.\"score.mean\": unknown metric; metrics are named like ingest.rows.orders, \
                 ingest.null_share.customers.region, score.propensity.mean, recommend.action_share.offer (`wb kpi \
                 --metrics` lists them all)"
            )
        );
        for alpha in ["0.0", "1.0", "1.5"] {
            assert_eq!(
                quality_error(&format!("[quality]\ndrift_alpha = {alpha}")),
                format!("{prefix}quality.drift_alpha must be within (0, 1), got {}", alpha.trim_end_matches(".0"))
            );
        }
        assert_eq!(
            quality_error("[quality]\nalert_sigma = 4.0\nfail_sigma = 3.0"),
            format!("{prefix}quality.fail_sigma (3) must be at least alert_sigma (4)")
        );
        assert_eq!(
            quality_error("[quality]\nmin_history = 1"),
            format!("{prefix}quality.min_history must be at least 2 (a standard deviation needs two runs), got 1")
        );
        assert_eq!(
            quality_error("[alerts]\nrecipients = [\"team at example\"]"),
            format!("{prefix}alerts: \"team at example\" is not an email address (name@domain)")
        );
        assert!(quality_error("[quality]\nsigma = 2.0").contains("unknown field `sigma`"));
    }
}
