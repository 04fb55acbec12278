//! `wb diff` and `wb explore` end to end: real runs of the committed fixtures in a temp workspace, diffs read
//! back through the embedded S3, and the expected counts and cells worked out here from the golden CSVs with
//! plain Rust.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::{Root, describe, stderr, stdout};
use serde_json::Value;

/// A golden CSV (comma-separated, no quoting): its header and its rows by first column.
struct Golden {
    header: Vec<String>,
    rows: BTreeMap<String, Vec<String>>,
}

fn golden(market: &str, stage: &str, table: &str) -> Golden {
    let path: PathBuf =
        [env!("CARGO_MANIFEST_DIR"), "..", "fixtures", "golden", market, stage, &format!("{table}.csv")]
            .iter()
            .collect();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(str::to_string).collect();
    let rows = lines
        .map(|line| {
            let fields: Vec<String> = line.split(',').map(str::to_string).collect();
            (fields[0].clone(), fields)
        })
        .collect();
    Golden { header, rows }
}

/// Whether two golden values differ: numerically for propensity (printed with 6 decimals in the CSV, read back
/// as the shortest float text by the diff), as text otherwise.
fn differ(column: &str, a: &str, b: &str) -> bool {
    if column == "propensity" { a.parse::<f64>().unwrap() != b.parse::<f64>().unwrap() } else { a != b }
}

fn wb_ok(root: &Root, args: &[&str]) -> std::process::Output {
    let output = root.run(args);
    assert_eq!(output.status.code(), Some(0), "wb {}: {}", args.join(" "), describe(&output));
    output
}

fn json(output: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(output)).unwrap_or_else(|e| panic!("not JSON ({e}): {}", describe(output)))
}

fn counts_of(values: impl Iterator<Item = String>) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for v in values {
        *counts.entry(v).or_insert(0) += 1;
    }
    counts
}

#[test]
fn recommend_foobar_au_against_foobar_br_matches_the_golden_outputs_worked_out_by_hand() {
    let root = Root::with_fixtures(&["foobar-au", "foobar-br"]);
    wb_ok(&root, &["run", "--market", "foobar-au", "--market", "foobar-br", "--stage", "recommend", "--json"]);
    let diff = json(&wb_ok(&root, &["diff", "--stage", "recommend", "foobar-au", "foobar-br", "--json"]));

    let (au, br) =
        (golden("foobar-au", "recommend", "recommendations"), golden("foobar-br", "recommend", "recommendations"));
    let (ka, kb): (BTreeSet<&String>, BTreeSet<&String>) = (au.rows.keys().collect(), br.rows.keys().collect());
    let added: Vec<&&String> = kb.difference(&ka).collect();
    let removed: Vec<&&String> = ka.difference(&kb).collect();
    let columns = &au.header[1..];
    let mut per_column = vec![0u64; columns.len()];
    let mut changed_keys = Vec::new();
    for key in ka.intersection(&kb) {
        let (ra, rb) = (&au.rows[*key], &br.rows[*key]);
        let mut any = false;
        for (i, column) in columns.iter().enumerate() {
            if differ(column, &ra[i + 1], &rb[i + 1]) {
                per_column[i] += 1;
                any = true;
            }
        }
        if any {
            changed_keys.push((*key).clone());
        }
    }
    let matched = ka.intersection(&kb).count() as u64;

    assert_eq!(diff["stage"], "recommend");
    assert_eq!((diff["a"]["label"].as_str(), diff["b"]["label"].as_str()), (Some("foobar-au"), Some("foobar-br")));
    let table = &diff["tables"][0];
    assert_eq!(table["table"], "recommendations");
    assert_eq!(table["keys"], serde_json::json!(["customer_id"]));
    assert_eq!(table["rows"], serde_json::json!({"a": au.rows.len(), "b": br.rows.len()}));
    let keyed = &table["keyed"];
    assert_eq!(keyed["added"], added.len() as u64);
    assert_eq!(keyed["removed"], removed.len() as u64);
    assert_eq!(keyed["changed"], changed_keys.len() as u64);
    assert_eq!(keyed["unchanged"], matched - changed_keys.len() as u64);
    let expected_columns: Vec<Value> =
        columns.iter().zip(&per_column).map(|(c, n)| serde_json::json!({"column": c, "changed": n})).collect();
    assert_eq!(keyed["columns"], Value::Array(expected_columns));
    let first_added: Vec<Value> = added.iter().take(10).map(|k| serde_json::json!([k])).collect();
    assert_eq!(keyed["added_keys"], Value::Array(first_added));
    let first_removed: Vec<Value> = removed.iter().take(10).map(|k| serde_json::json!([k])).collect();
    assert_eq!(keyed["removed_keys"], Value::Array(first_removed));
    // The sampled rows are the first changed keys, every cell with both values and its changed flag.
    let samples = keyed["samples"].as_array().unwrap();
    assert_eq!(samples.len(), changed_keys.len().min(10));
    for (sample, key) in samples.iter().zip(&changed_keys) {
        assert_eq!(sample["key"], serde_json::json!([key]));
        let (ra, rb) = (&au.rows[key], &br.rows[key]);
        for (i, column) in columns.iter().enumerate() {
            let cell = &sample["cells"][i];
            assert_eq!(cell["column"], column.as_str());
            let (a, b) = (cell["a"].as_str().unwrap(), cell["b"].as_str().unwrap());
            assert!(!differ(column, a, &ra[i + 1]) && !differ(column, b, &rb[i + 1]), "{key} {column}: {cell}");
            assert_eq!(cell["changed"], differ(column, &ra[i + 1], &rb[i + 1]), "{key} {column}");
        }
    }
    // The action and channel mix per market.
    for (mix, column) in diff["mixes"].as_array().unwrap().iter().zip(["action", "channel"]) {
        assert_eq!(mix["column"], column);
        let i = au.header.iter().position(|h| h == column).unwrap();
        let (ca, cb) =
            (counts_of(au.rows.values().map(|r| r[i].clone())), counts_of(br.rows.values().map(|r| r[i].clone())));
        let got: BTreeMap<String, (u64, u64)> = mix["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["value"].as_str().unwrap().to_string(), (v["a"].as_u64().unwrap(), v["b"].as_u64().unwrap())))
            .collect();
        let values: BTreeSet<&String> = ca.keys().chain(cb.keys()).collect();
        let want: BTreeMap<String, (u64, u64)> = values
            .into_iter()
            .map(|v| (v.clone(), (ca.get(v).copied().unwrap_or(0), cb.get(v).copied().unwrap_or(0))))
            .collect();
        assert_eq!(got, want, "{column} mix");
    }

    // The Markdown rendering, with the run id and cache keys (which change with the sources) replaced.
    let markdown = stdout(&wb_ok(&root, &["diff", "--stage", "recommend", "foobar-au", "foobar-br", "--markdown"]));
    let mut stable = markdown.clone();
    for (side, name) in [("a", "A"), ("b", "B")] {
        stable = stable.replace(diff[side]["cache_key"].as_str().unwrap(), &format!("[cache key {name}]"));
        stable = stable.replace(diff[side]["run_id"].as_str().unwrap(), "[run]");
    }
    insta::assert_snapshot!("recommend_au_vs_br_markdown", stable);

    // A key that does not identify a row, and one that does not exist, are refused with what to do.
    let repeated = root.run(&["diff", "--stage", "recommend", "foobar-au", "foobar-br", "--key", "action"]);
    assert_eq!(repeated.status.code(), Some(2), "{}", describe(&repeated));
    let actions = counts_of(au.rows.values().map(|r| r[1].clone()));
    let repeating: Vec<&String> = actions.iter().filter(|(_, n)| **n > 1).map(|(v, _)| v).collect();
    assert_eq!(
        stderr(&repeated).trim_end(),
        format!(
            "error: cannot diff recommendations on key action: {} key value(s) occur more than once in foobar-au \
             (e.g. {}); pass --key with the columns that identify one row",
            repeating.len(),
            repeating[0]
        )
    );
    let missing = root.run(&["diff", "--stage", "recommend", "foobar-au", "foobar-br", "--key", "segment"]);
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(
        stderr(&missing).trim_end(),
        format!(
            "error: cannot diff recommendations on key segment: foobar-au has no column segment (it has {}); pass \
             --key with columns both sides have",
            au.header.join(", ")
        )
    );

    // The export file, read back with each market's delimiter: the same rows as recommend, dates in BR's format.
    wb_ok(&root, &["run", "--market", "foobar-au", "--market", "foobar-br", "--stage", "export", "--json"]);
    let export = json(&wb_ok(&root, &["diff", "--stage", "export", "foobar-au", "foobar-br", "--json"]));
    let keyed = &export["tables"][0]["keyed"];
    assert_eq!(
        (keyed["added"].as_u64(), keyed["removed"].as_u64()),
        (Some(added.len() as u64), Some(removed.len() as u64))
    );
    let date = keyed["columns"].as_array().unwrap().iter().find(|c| c["column"] == "scheduled_date").unwrap();
    assert_eq!(date["changed"], matched, "every scheduled_date is written DD/MM/YYYY in BR's file");
    assert_eq!(export["mixes"], diff["mixes"]);
}

#[test]
fn a_market_against_an_earlier_run_shows_what_changed_since() {
    let root = Root::with_fixtures(&["foobar-au"]);
    let first = wb_ok(&root, &["run", "--market", "foobar-au", "--stage", "features", "--json"]);
    let first_run = stdout(&first)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["event"] == "summary")
        .and_then(|e| e["run_id"].as_str().map(str::to_string))
        .unwrap();
    // Customer C000007 leaves the CRM extract: its features row goes, nobody else's changes.
    let customers = root.market_fixtures("foobar-au").join("customers.csv");
    let text = std::fs::read_to_string(&customers).unwrap();
    let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with("C000007,")).collect();
    assert_eq!(kept.len(), text.lines().count() - 1);
    std::fs::write(&customers, kept.join("\n") + "\n").unwrap();
    wb_ok(&root, &["run", "--market", "foobar-au", "--stage", "features", "--json"]);

    let diff = json(&wb_ok(
        &root,
        &["diff", "--stage", "features", "--market", "foobar-au", "--against", &first_run, "--json"],
    ));
    let rows = golden("foobar-au", "features", "features").rows.len() as u64;
    assert_eq!(diff["a"]["label"], format!("foobar-au@{first_run}"));
    assert_eq!(diff["a"]["run_id"], first_run.as_str());
    assert_ne!(diff["a"]["cache_key"], diff["b"]["cache_key"]);
    let table = &diff["tables"][0];
    assert_eq!(table["rows"], serde_json::json!({"a": rows, "b": rows - 1}));
    let keyed = &table["keyed"];
    assert_eq!(
        (keyed["added"].as_u64(), keyed["removed"].as_u64(), keyed["changed"].as_u64()),
        (Some(0), Some(1), Some(0))
    );
    assert_eq!(keyed["unchanged"], rows - 1);
    assert_eq!(keyed["removed_keys"], serde_json::json!([["C000007"]]));
    assert!(diff["mixes"].as_array().unwrap().is_empty());

    // A run that did not run the stage for the market is named, and so is an id that is nothing.
    let no_stage = root.run(&["diff", "--stage", "recommend", "--market", "foobar-au", "--against", &first_run]);
    assert_eq!(no_stage.status.code(), Some(2));
    assert_eq!(
        stderr(&no_stage).trim_end(),
        "error: foobar-au has no recommend output yet: run `wb run --market foobar-au --stage recommend` first"
    );
    let unknown = root.run(&["diff", "--stage", "features", "--market", "foobar-au", "--against", "no-such-thing"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert_eq!(
        stderr(&unknown).trim_end(),
        "error: --against no-such-thing: no run in the history has this id and it is not a git revision: give a run \
         id (`wb runs`), a commit, branch or tag, or `base`"
    );
}

#[test]
fn bad_requests_say_what_to_run_or_type() {
    let root = Root::with_fixtures(&["foobar-au"]);
    let no_output = root.run(&["diff", "--stage", "recommend", "foobar-jp", "foobar-au"]);
    assert_eq!(no_output.status.code(), Some(2), "{}", describe(&no_output));
    assert_eq!(
        stderr(&no_output).trim_end(),
        "error: foobar-jp has no recommend output yet: run `wb run --market foobar-jp --stage recommend` first"
    );
    let market = root.run(&["diff", "--stage", "recommend", "foobar-zz", "foobar-au"]);
    assert_eq!(market.status.code(), Some(2));
    assert!(
        stderr(&market).contains(&format!("unknown market 'foobar-zz': use one of {}", markets::ids().join(", "))),
        "{}",
        describe(&market)
    );
    let stage = root.run(&["diff", "--stage", "recommendation", "foobar-au", "foobar-br"]);
    assert_eq!(stage.status.code(), Some(2));
    assert!(
        stderr(&stage).contains(
            "unknown stage 'recommendation': use one of ingest, validate, features, score, recommend, export"
        ),
        "{}",
        describe(&stage)
    );
    let one = root.run(&["diff", "--stage", "score", "foobar-au"]);
    assert_eq!(one.status.code(), Some(2));
    assert_eq!(
        stderr(&one).trim_end(),
        "error: say what to compare: two markets (`wb diff --stage score foobar-au foobar-br`) or one market and a \
         run or revision (`wb diff --stage score --market foobar-ca --against base`)"
    );
    let table = root.run(&["diff", "--stage", "ingest", "foobar-au", "foobar-br", "--table", "order"]);
    assert_eq!(table.status.code(), Some(2));
    assert_eq!(
        stderr(&table).trim_end(),
        "error: ingest has no table order: use one of customers, orders, interactions"
    );
}

/// The 1-based line of `fn <name>(` in a workspace file.
fn line_of(file: &str, name: &str) -> usize {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines().position(|l| l.contains(&format!("fn {name}("))).unwrap() + 1
}

#[test]
fn explore_shows_a_markets_overrides_with_file_and_line_and_its_raw_format() {
    let root = Root::empty();
    let br = json(&wb_ok(&root, &["explore", "foobar-br", "--json"]));
    assert_eq!(br["market"], "foobar-br");
    let overrides: Vec<(String, String, u64)> = br["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["overridden"] == true)
        .map(|h| (h["hook"].as_str().unwrap().into(), h["file"].as_str().unwrap().into(), h["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        overrides,
        [
            (
                "normalize".into(),
                "markets/br/src/normalize.rs".into(),
                line_of("markets/br/src/normalize.rs", "normalize") as u64
            ),
            (
                "export_format".into(),
                "markets/br/src/export_format.rs".into(),
                line_of("markets/br/src/export_format.rs", "export_format") as u64
            ),
        ]
    );
    // markets/br/market.toml's [raw] against pipeline-core/base.toml's.
    assert_eq!(
        br["raw_format"],
        serde_json::json!([
            {"key": "date_format", "base": "%Y-%m-%d", "market": "%d/%m/%Y"},
            {"key": "datetime_format", "base": "%Y-%m-%d %H:%M:%S", "market": "%d/%m/%Y %H:%M:%S"},
            {"key": "decimal_comma", "base": "false", "market": "true"},
            {"key": "delimiter", "base": ",", "market": ";"},
            {"key": "false_values", "base": "[false]", "market": "[N]"},
            // The Portuguese column names, declared in [raw.rename] (the base renames nothing).
            {"key": "rename.amount", "base": "", "market": "valor"},
            {"key": "rename.channel", "base": "", "market": "canal"},
            {"key": "rename.clicked", "base": "", "market": "clicou"},
            {"key": "rename.customer_id", "base": "", "market": "id_cliente"},
            {"key": "rename.email_opt_in", "base": "", "market": "aceita_email"},
            {"key": "rename.interaction_id", "base": "", "market": "id_interacao"},
            {"key": "rename.language", "base": "", "market": "idioma"},
            {"key": "rename.opened", "base": "", "market": "abriu"},
            {"key": "rename.order_date", "base": "", "market": "data_pedido"},
            {"key": "rename.order_id", "base": "", "market": "id_pedido"},
            {"key": "rename.phone_opt_in", "base": "", "market": "aceita_telefone"},
            {"key": "rename.quantity", "base": "", "market": "quantidade"},
            {"key": "rename.region", "base": "", "market": "regiao"},
            {"key": "rename.segment", "base": "", "market": "segmento"},
            {"key": "rename.signup_date", "base": "", "market": "data_cadastro"},
            {"key": "rename.sms_opt_in", "base": "", "market": "aceita_sms"},
            {"key": "rename.ts", "base": "", "market": "data_hora"},
            {"key": "true_values", "base": "[true]", "market": "[S]"},
        ])
    );
    let weights: Vec<(&str, f64)> = br["model"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["name"].as_str().unwrap(), w["value"].as_f64().unwrap()))
        .collect();
    assert_eq!(
        weights,
        [("b", -1.0), ("w_freq", 0.7), ("w_mon", 0.3), ("w_rec", 1.2), ("w_open", 0.6), ("w_click", 1.5)]
    );
    let share = br["config"].as_array().unwrap().iter().find(|s| s["key"] == "contact_share").unwrap();
    assert_eq!(share, &serde_json::json!({"key": "contact_share", "value": "0.4", "base": "0.5"}));

    let side_by_side = stdout(&wb_ok(&root, &["explore", "foobar-au", "--against", "foobar-de", "--markdown"]));
    insta::assert_snapshot!("explore_au_vs_de_markdown", side_by_side);
    // `wb explore` prints the overview of every registered market; the snapshot is of the snapshot markets, so a
    // market added later leaves it as it is.
    let overview_of = |ids: &[&str]| {
        let loaded: Vec<Box<dyn pipeline_core::Market>> = ids.iter().map(|id| markets::load(id).unwrap()).collect();
        let refs: Vec<&dyn pipeline_core::Market> = loaded.iter().map(|m| m.as_ref()).collect();
        workbench_diff::explore_render::overview(
            &workbench_diff::explore::Overview::of(&refs),
            workbench_diff::doc::Style::Text,
        )
    };
    let printed = stdout(&wb_ok(&root, &["explore"]));
    assert_eq!(printed.trim_end(), overview_of(&markets::ids()).trim_end());
    insta::assert_snapshot!("explore_overview_text", overview_of(&workbench_testkit::SNAPSHOT_MARKETS));
}

/// Runs git in `dir` with a fixed identity; panics with its output when it fails.
fn git(dir: &Path, args: &[&str]) -> String {
    let output = std::process::Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[test]
fn revisions_resolve_with_base_as_the_merge_base_with_main() {
    use workbench::services::revision::{self, RevisionError};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q"]);
    std::fs::write(root.join("a.txt"), "1\n").unwrap();
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "one"]);
    let one = git(root, &["rev-parse", "HEAD"]);
    git(root, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(root.join("a.txt"), "2\n").unwrap();
    git(root, &["commit", "-q", "-am", "two"]);
    let two = git(root, &["rev-parse", "HEAD"]);
    git(root, &["checkout", "-q", "main"]);
    std::fs::write(root.join("b.txt"), "3\n").unwrap();
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "three on main"]);
    git(root, &["checkout", "-q", "feature"]);

    let base = revision::resolve(root, "base").unwrap().unwrap();
    assert_eq!(base.commit, one, "HEAD (feature) forked from main at commit one");
    assert_eq!(base.label(), format!("base ({})", &one[..12]));
    assert_eq!(revision::resolve(root, "HEAD").unwrap().unwrap().commit, two);
    assert_eq!(revision::resolve(root, "HEAD~1").unwrap().unwrap().commit, one);
    let short = revision::resolve(root, &two[..7]).unwrap().unwrap();
    assert_eq!((short.commit.as_str(), short.label()), (two.as_str(), two[..12].to_string()));
    assert_eq!(revision::resolve(root, "no-such-branch").unwrap(), None);

    let elsewhere = tempfile::tempdir().unwrap();
    assert_eq!(revision::resolve(elsewhere.path(), "HEAD~1").unwrap(), None);
    let err = revision::resolve(elsewhere.path(), "base").unwrap_err();
    assert!(matches!(err, RevisionError::NotARepository { .. }), "{err}");
    assert!(err.to_string().ends_with("; diff against a run id instead"), "{err}");
}

#[test]
fn against_base_runs_the_base_revision_in_a_worktree_and_diffs_its_output() {
    use workbench::services::revision;
    // A repository whose main branch has the committed fixtures and whose feature branch drops customer C000007.
    let root = Root::with_fixtures(&["foobar-au"]);
    std::fs::write(root.path().join(".gitignore"), "/.workbench\n").unwrap();
    std::fs::write(root.path().join("markets/README.md"), "markets\n").unwrap();
    git(root.path(), &["init", "-q"]);
    git(root.path(), &["add", "-A"]);
    git(root.path(), &["commit", "-q", "-m", "fixtures"]);
    git(root.path(), &["checkout", "-q", "-b", "feature"]);
    let customers = root.market_fixtures("foobar-au").join("customers.csv");
    let text = std::fs::read_to_string(&customers).unwrap();
    let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with("C000007,")).collect();
    std::fs::write(&customers, kept.join("\n") + "\n").unwrap();
    git(root.path(), &["commit", "-q", "-am", "C000007 leaves"]);
    wb_ok(&root, &["run", "--market", "foobar-au", "--stage", "features", "--json"]);

    // The revision's wb is this one (same sources): placed where the build would put it, so no cargo build runs
    // here; everything else (worktree, its own buckets, its run against the same endpoint) is real.
    let workspace = workbench::workspace::Workspace::open(root.path()).unwrap();
    let base = revision::resolve(root.path(), "base").unwrap().unwrap();
    let worktree = revision::worktree_dir(&workspace, &base);
    let buckets = revision::revision_buckets(&workspace.settings().buckets, &base);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(revision::prepare_worktree(root.path(), &base, &worktree, &buckets)).unwrap();
    let bin = revision::binary_path(&worktree);
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_wb"), &bin).unwrap();

    let diff =
        json(&wb_ok(&root, &["diff", "--stage", "features", "--market", "foobar-au", "--against", "base", "--json"]));
    let rows = golden("foobar-au", "features", "features").rows.len() as u64;
    assert_eq!(diff["a"]["label"], format!("foobar-au@base ({})", base.short()));
    assert_eq!(diff["a"]["revision"], base.short());
    assert_eq!(diff["tables"][0]["rows"], serde_json::json!({"a": rows, "b": rows - 1}));
    let keyed = &diff["tables"][0]["keyed"];
    assert_eq!(
        (keyed["added"].as_u64(), keyed["removed"].as_u64(), keyed["changed"].as_u64()),
        (Some(0), Some(1), Some(0))
    );
    assert_eq!(keyed["removed_keys"], serde_json::json!([["C000007"]]));
    // The base's fixtures went to its own raw bucket; the main raw bucket still has the feature branch's.
    assert!(root.object_file(&buckets.raw, "foobar-au/customers.csv").is_file());
    let main_raw = std::fs::read_to_string(root.object_file("raw", "foobar-au/customers.csv")).unwrap();
    assert!(!main_raw.contains("\nC000007,"));
    // A second diff reuses the worktree and its run's cached stages.
    let again =
        json(&wb_ok(&root, &["diff", "--stage", "features", "--market", "foobar-au", "--against", "base", "--json"]));
    assert_eq!(again["a"]["cache_key"], diff["a"]["cache_key"]);
    assert_eq!(git(root.path(), &["worktree", "list"]).lines().count(), 2);
}
