//! The market explorer's model on the registered markets, checked against their source files and TOML.

use workbench_diff::explore::{self, Overview, flatten_value, function_line, module_summary};

#[test]
fn the_line_of_an_override_is_the_line_of_its_hook_function() {
    let source = "//! Why.\n\nuse x;\n\n/// Doc.\npub fn eligible_channels() -> Vec<()> {\n    vec![]\n}\n";
    assert_eq!(function_line(source, "eligible_channels"), Some(6));
    assert_eq!(function_line(source, "eligible"), None, "a prefix of the name is not the function");
    assert_eq!(module_summary(source).as_deref(), Some("Why."));
    assert_eq!(module_summary("fn x() {}"), None);
}

#[test]
fn nested_config_is_flattened_to_dotted_keys() {
    let value = serde_json::json!({"b": {"y": [1, "a"], "x": "s"}, "a": 0.5, "c": []});
    assert_eq!(
        flatten_value(&value),
        [
            ("a".to_string(), "0.5".to_string()),
            ("b.x".into(), "s".into()),
            ("b.y".into(), "[1, a]".into()),
            ("c".into(), "[]".into())
        ]
    );
}

#[test]
fn de_overrides_normalize_and_eligible_channels_where_their_functions_are() {
    let de = markets::load("foobar-de").unwrap();
    let p = explore::profile(de.as_ref());
    let overridden: Vec<(&str, String)> = p.overrides().map(|h| (h.hook.as_str(), h.location())).collect();
    let source = include_str!("../../../markets/de/src/eligible_channels.rs");
    let line = source.lines().position(|l| l.starts_with("pub fn eligible_channels(")).unwrap() + 1;
    let normalize = include_str!("../../../markets/de/src/normalize.rs");
    let nline = normalize.lines().position(|l| l.contains("fn normalize(")).unwrap() + 1;
    assert_eq!(
        overridden,
        [
            ("normalize", format!("markets/de/src/normalize.rs:{nline}")),
            ("eligible_channels", format!("markets/de/src/eligible_channels.rs:{line}"))
        ]
    );
    let eligible = p.hooks.iter().find(|h| h.hook == "eligible_channels").unwrap();
    assert_eq!(
        eligible.summary.as_deref(),
        Some("German law requires double opt-in for marketing email: `email` is eligible only with `doi_confirmed`.")
    );
    // markets/de/market.toml sets delimiter, date_format, datetime_format, decimal_comma and extra_columns under [raw].
    let raw: Vec<(&str, &str, &str)> =
        p.raw_format.iter().map(|d| (d.key.as_str(), d.base.as_str(), d.market.as_str())).collect();
    assert_eq!(
        raw,
        [
            ("date_format", "%Y-%m-%d", "%d.%m.%Y"),
            ("datetime_format", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M:%S"),
            ("decimal_comma", "false", "true"),
            ("delimiter", ",", ";"),
            ("extra_columns", "[]", "[doi_confirmed]"),
        ]
    );
    let quiet = p.setting("quiet_weekdays").unwrap();
    assert_eq!(
        (quiet.value.as_str(), quiet.base.as_deref(), quiet.differs_from_base()),
        ("[Sat, Sun]", Some("[]"), true)
    );
    assert!(!p.setting("franchise").unwrap().differs_from_base());
    assert!(p.setting("currency").unwrap().differs_from_base(), "a key the base does not set is the market's own");
}

#[test]
fn two_markets_side_by_side_mark_exactly_the_differences() {
    let (au, ca) = (markets::load("foobar-au").unwrap(), markets::load("foobar-ca").unwrap());
    let c = explore::compare(&explore::profile(au.as_ref()), &explore::profile(ca.as_ref()));
    // markets/au/market.toml vs markets/ca/market.toml: id, currency, fx_to_usd, timezone, languages,
    // channel_priority, regions and raw.datetime_format differ; every model weight differs.
    let differing: Vec<&str> = c.settings.iter().filter(|s| s.differs).map(|s| s.key.as_str()).collect();
    assert_eq!(
        differing,
        [
            "channel_priority",
            "currency",
            "fx_to_usd",
            "id",
            "languages",
            "raw.datetime_format",
            "regions",
            "timezone",
            "b",
            "w_freq",
            "w_mon",
            "w_rec",
            "w_open",
            "w_click"
        ]
    );
    let hooks: Vec<(&str, bool)> = c.hooks.iter().map(|h| (h.hook.as_str(), h.differs)).collect();
    assert_eq!(
        hooks,
        [
            ("normalize", true),
            ("eligible_channels", false),
            ("content", false),
            ("schedule", false),
            ("export_format", false)
        ]
    );
}

#[test]
fn the_overview_lists_the_settings_that_vary() {
    let all = markets::load_all().unwrap();
    let refs: Vec<&dyn pipeline_core::Market> = all.iter().map(|m| m.as_ref()).collect();
    let o = Overview::of(&refs);
    let keys = o.varying_keys();
    assert!(keys.contains(&"raw.delimiter".to_string()) && keys.contains(&"contact_share".to_string()));
    assert!(!keys.contains(&"franchise".to_string()) && !keys.contains(&"checks.freshness_days".to_string()));
}
