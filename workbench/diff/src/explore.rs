//! The market explorer's model: for a market, which hooks it overrides (file, line of the hook function, what the
//! override is for), its resolved configuration against the base, its model weights and its raw-format
//! differences; for two markets, every setting and hook side by side with the differences marked; for all
//! markets, an overview. Plain data: renderings are in [`crate::explore_render`].

use pipeline_core::config::BASE_CONFIG;
use pipeline_core::{Hook, Market};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where the base hooks live, shown for hooks a market does not override.
pub const BASE_HOOKS_FILE: &str = "pipeline-core/src/hooks.rs";

/// One hook of a market: overridden (where) or the base behaviour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookInfo {
    /// Hook name, e.g. `normalize`.
    pub hook: String,
    /// Whether the market overrides it.
    pub overridden: bool,
    /// The override's source file from the workspace root (`None` for the base).
    pub file: Option<String>,
    /// 1-based line of `fn <hook>` in that file, when found.
    pub line: Option<usize>,
    /// The first line of the override module's `//!` doc: what it is for.
    pub summary: Option<String>,
}

impl HookInfo {
    /// `file:line` of the override, `file` when the line is unknown, or `base` for the base behaviour.
    pub fn location(&self) -> String {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => format!("{file}:{line}"),
            (Some(file), None) => file.clone(),
            (None, _) => "base".to_string(),
        }
    }
}

/// One resolved configuration setting, with the base's value when the base sets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting {
    /// Dotted key, e.g. `raw.delimiter`.
    pub key: String,
    /// The market's resolved value, formatted.
    pub value: String,
    /// The base's value (`None`: every market must set it).
    pub base: Option<String>,
}

impl Setting {
    /// Whether the market's value differs from the base's (settings the base lacks always count).
    pub fn differs_from_base(&self) -> bool {
        self.base.as_deref() != Some(self.value.as_str())
    }
}

/// One model weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Weight {
    /// Weight name, e.g. `w_freq`.
    pub name: String,
    /// Its value.
    pub value: f64,
}

/// A raw-format setting that differs from the base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawDifference {
    /// Key within `[raw]`, e.g. `delimiter`.
    pub key: String,
    /// The base's value.
    pub base: String,
    /// The market's value.
    pub market: String,
}

/// Everything the explorer shows about one market.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarketProfile {
    /// Market id.
    pub market: String,
    /// Every hook, in pipeline order, overridden or not.
    pub hooks: Vec<HookInfo>,
    /// The resolved configuration, flattened, keys sorted.
    pub config: Vec<Setting>,
    /// Model weights, in the model's order.
    pub model: Vec<Weight>,
    /// `[raw]` settings that differ from the base.
    pub raw_format: Vec<RawDifference>,
}

impl MarketProfile {
    /// The hooks the market overrides.
    pub fn overrides(&self) -> impl Iterator<Item = &HookInfo> {
        self.hooks.iter().filter(|h| h.overridden)
    }

    /// The setting `key`, if any.
    pub fn setting(&self, key: &str) -> Option<&Setting> {
        self.config.iter().find(|s| s.key == key)
    }
}

/// Describes `market`.
pub fn profile(market: &dyn Market) -> MarketProfile {
    let hooks = Hook::ALL
        .iter()
        .map(|hook| match market.overrides().iter().find(|o| o.hook == *hook) {
            Some(o) => HookInfo {
                hook: hook.name().to_string(),
                overridden: true,
                file: Some(o.file.to_string()),
                line: function_line(o.source, hook.name()),
                summary: module_summary(o.source),
            },
            None => {
                HookInfo { hook: hook.name().to_string(), overridden: false, file: None, line: None, summary: None }
            }
        })
        .collect();
    let base = flatten_value(&base_config());
    let config: Vec<Setting> = flatten_value(&market.config().to_json())
        .into_iter()
        .map(|(key, value)| {
            let base = base.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone());
            Setting { key, value, base }
        })
        .collect();
    let raw_format = config
        .iter()
        .filter(|s| s.key.starts_with("raw.") && s.differs_from_base())
        .map(|s| RawDifference {
            key: s.key["raw.".len()..].to_string(),
            base: s.base.clone().unwrap_or_default(),
            market: s.value.clone(),
        })
        .collect();
    MarketProfile { market: market.id().to_string(), hooks, config, model: weights(market), raw_format }
}

/// The model's weights in the spec's order.
fn weights(market: &dyn Market) -> Vec<Weight> {
    let m = market.model();
    [
        ("b", m.b),
        ("w_freq", m.w_freq),
        ("w_mon", m.w_mon),
        ("w_rec", m.w_rec),
        ("w_open", m.w_open),
        ("w_click", m.w_click),
    ]
    .into_iter()
    .map(|(name, value)| Weight { name: name.to_string(), value })
    .collect()
}

/// The base configuration as JSON (`pipeline-core/base.toml`).
fn base_config() -> Value {
    let table: toml::Table = BASE_CONFIG.parse().expect("base.toml parses (pipeline-core tests it)");
    serde_json::to_value(table).expect("TOML serialises as JSON")
}

/// The 1-based line of the first `fn <name>(` or `fn <name><` in `source`.
pub fn function_line(source: &str, name: &str) -> Option<usize> {
    let (paren, generic) = (format!("fn {name}("), format!("fn {name}<"));
    source.lines().position(|line| line.contains(&paren) || line.contains(&generic)).map(|i| i + 1)
}

/// The first `//!` line of a module, without the marker.
pub fn module_summary(source: &str) -> Option<String> {
    source
        .lines()
        .find_map(|line| line.strip_prefix("//!"))
        .map(|line| line.trim().to_string())
        .filter(|line| !line.is_empty())
}

/// A JSON object flattened to dotted keys with formatted leaf values, keys sorted.
pub fn flatten_value(value: &Value) -> Vec<(String, String)> {
    fn walk(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    walk(&key, v, out);
                }
            }
            leaf => out.push((prefix.to_string(), format_leaf(leaf))),
        }
    }
    let mut out = Vec::new();
    walk("", value, &mut out);
    out.sort();
    out
}

/// A leaf value as people write it: strings bare, lists as `[a, b]`.
fn format_leaf(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!("[{}]", items.iter().map(format_leaf).collect::<Vec<_>>().join(", ")),
        Value::Null => "null".to_string(),
        other => other.to_string(),
    }
}

/// One hook of two markets side by side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookPair {
    /// Hook name.
    pub hook: String,
    /// Market A's implementation.
    pub a: HookInfo,
    /// Market B's implementation.
    pub b: HookInfo,
    /// Whether they run different code (one overrides and the other not, or different override files).
    pub differs: bool,
}

/// One setting or weight of two markets side by side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingPair {
    /// `config` or `model`.
    pub section: String,
    /// Dotted key or weight name.
    pub key: String,
    /// Market A's value (`None`: not set).
    pub a: Option<String>,
    /// Market B's value.
    pub b: Option<String>,
    /// Whether the values differ.
    pub differs: bool,
}

/// Two markets side by side: hooks, configuration and model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    /// Market A.
    pub a: String,
    /// Market B.
    pub b: String,
    /// Every hook.
    pub hooks: Vec<HookPair>,
    /// Every config key (sorted) then every model weight.
    pub settings: Vec<SettingPair>,
}

impl Comparison {
    /// How many settings differ.
    pub fn differing_settings(&self) -> usize {
        self.settings.iter().filter(|s| s.differs).count()
    }
}

/// Compares two market profiles.
pub fn compare(a: &MarketProfile, b: &MarketProfile) -> Comparison {
    let hooks = a
        .hooks
        .iter()
        .zip(&b.hooks)
        .map(|(ha, hb)| HookPair {
            hook: ha.hook.clone(),
            a: ha.clone(),
            b: hb.clone(),
            differs: ha.overridden != hb.overridden || ha.file != hb.file,
        })
        .collect();
    let mut keys: Vec<&str> = a.config.iter().chain(&b.config).map(|s| s.key.as_str()).collect();
    keys.sort();
    keys.dedup();
    let mut settings: Vec<SettingPair> = keys
        .into_iter()
        .map(|key| {
            let (va, vb) = (a.setting(key).map(|s| s.value.clone()), b.setting(key).map(|s| s.value.clone()));
            SettingPair { section: "config".into(), key: key.to_string(), differs: va != vb, a: va, b: vb }
        })
        .collect();
    for (wa, wb) in a.model.iter().zip(&b.model) {
        let (va, vb) = (crate::doc::number(wa.value), crate::doc::number(wb.value));
        settings.push(SettingPair {
            section: "model".into(),
            key: wa.name.clone(),
            differs: va != vb,
            a: Some(va),
            b: Some(vb),
        });
    }
    Comparison { a: a.market.clone(), b: b.market.clone(), hooks, settings }
}

/// Every market at a glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    /// One profile per market, in registry order.
    pub markets: Vec<MarketProfile>,
}

impl Overview {
    /// Profiles `markets`.
    pub fn of(markets: &[&dyn Market]) -> Self {
        Self { markets: markets.iter().map(|m| profile(*m)).collect() }
    }

    /// Config keys whose value is not the same in every market, sorted.
    pub fn varying_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.markets.iter().flat_map(|m| m.config.iter().map(|s| s.key.clone())).collect();
        keys.sort();
        keys.dedup();
        keys.retain(|key| {
            let values: Vec<Option<&str>> =
                self.markets.iter().map(|m| m.setting(key).map(|s| s.value.as_str())).collect();
            values.windows(2).any(|w| w[0] != w[1])
        });
        keys
    }
}
