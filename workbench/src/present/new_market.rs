//! What `wb new-market` prints: what was created, then the next steps, with the hook to override for each kind
//! of difference and a registered market that already does it.

use crate::services::new_market::{NewMarket, Step, golden_command};

/// Which hook serves which kind of difference (hook, what it changes), in pipeline order.
const HOOK_USES: [(&str, &str); 5] = [
    ("normalize", "raw column names, a time zone in the extract, a missing or extra column"),
    ("eligible_channels", "who may be contacted on which channel (consents, double opt-in)"),
    ("content", "which content a customer gets for an action and language"),
    ("schedule", "which day recommendations are scheduled for (beyond quiet_weekdays)"),
    ("export_format", "the export file's delimiter and date format"),
];

/// The progress line of a step (stderr).
pub fn step_line(id: &str, step: &Step) -> String {
    match step {
        Step::Copied => format!("{id}: creating the crate"),
        Step::Registered => format!("{id}: registering it in Cargo.toml and markets/registry/Cargo.toml"),
        Step::Fixtures => format!("{id}: writing its fixtures"),
        Step::Goldens => {
            format!("{id}: building and running its golden test to write the goldens (cargo output follows)")
        }
    }
}

/// The next steps, one line each (also the JSON's `next_steps`).
pub fn next_steps(created: &NewMarket) -> Vec<String> {
    let id = &created.id;
    let mut steps = Vec::new();
    if created.goldens.is_none() {
        steps.push(format!("write the goldens: {}", golden_command(id)));
    }
    steps.push(format!("test it: cargo test -p {id}"));
    steps.push(format!("run it (rebuilds wb with the new market): cargo run -- run --market {id}"));
    steps.push(format!("compare it with {}: wb diff {} {id} --stage recommend", created.like, created.like));
    steps.push(format!(
        "configuration-only differences (currency, fx, delimiter, date formats, quiet days, thresholds): {}/market.toml",
        created.dir
    ));
    steps
}

/// The text report.
pub fn text(created: &NewMarket) -> String {
    let mut out = format!("created {} ({}) from {}\n", created.id, created.dir, created.like);
    out.push_str(&format!("  files:      {}\n", created.created.join(", ")));
    out.push_str(&format!("  registered: {}\n", created.registered_in.join(", ")));
    if created.overrides.is_empty() {
        out.push_str("  overrides:  none (every hook behaves as the base)\n");
    } else {
        let list: Vec<String> = created.overrides.iter().map(|(hook, file)| format!("{hook} ({file})")).collect();
        out.push_str(&format!("  overrides:  {}, copied from {}\n", list.join(", "), created.like));
    }
    out.push_str(&format!("  fixtures:   {}/\n", created.fixtures));
    match &created.goldens {
        Some(dir) => out.push_str(&format!("  goldens:    {dir}/\n")),
        None => out.push_str("  goldens:    not written (--no-goldens)\n"),
    }
    out.push_str("\nnext:\n");
    for (i, step) in next_steps(created).iter().enumerate() {
        out.push_str(&format!("  {}. {step}\n", i + 1));
    }
    out.push_str("\nwhere this market differs in behaviour, override one hook per kind of difference:\n");
    let width = HOOK_USES.iter().map(|(hook, _)| hook.len()).max().unwrap_or(0);
    for (hook, what) in HOOK_USES {
        let example = created.examples.iter().find(|(h, _)| h == hook).map(|(_, by)| by.as_slice()).unwrap_or(&[]);
        let like = match example.first() {
            Some((market, file)) => format!("like {market} ({file})"),
            None => "no market overrides it yet: start from its base in pipeline-core/src/hooks.rs".into(),
        };
        out.push_str(&format!("  {hook:<width$}  {what}\n  {:<width$}  {like}\n", ""));
    }
    out.push_str(&format!(
        "  an override is src/<hook>.rs with `pub fn <hook>` and the hook's name in `overrides: [...]` in {}/src/lib.rs\n",
        created.dir
    ));
    out
}

/// The JSON report: what was created and the next steps.
pub fn json(created: &NewMarket) -> serde_json::Value {
    let mut value = serde_json::to_value(created).expect("the report serialises");
    value["next_steps"] = serde_json::json!(next_steps(created));
    value
}
