//! `wb new-market` on a temporary copy of the workspace's market declarations: what it creates and registers,
//! the fixtures it writes in the new market's raw format, its next steps, and its errors (each leaving the copy
//! untouched). The full flow (goldens, `cargo test -p <id>`, `wb run --market <id>` in a copy that builds) is the
//! opt-in `a_new_market_builds_tests_and_runs_in_a_copy_of_the_workspace` below and `just bench-new-market`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use workbench_testkit::copy_dir;

const WB: &str = env!("CARGO_BIN_EXE_wb");

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A temp dir holding what `wb new-market` reads and writes: the root and registry manifests, every market
/// crate, pipeline-core's base configuration, and the committed fixtures of the existing markets.
fn copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace_root();
    std::fs::copy(ws.join("Cargo.toml"), dir.path().join("Cargo.toml")).unwrap();
    copy_dir(&ws.join("markets"), &dir.path().join("markets"));
    std::fs::create_dir_all(dir.path().join("pipeline-core")).unwrap();
    std::fs::copy(ws.join("pipeline-core/base.toml"), dir.path().join("pipeline-core/base.toml")).unwrap();
    copy_dir(&ws.join("fixtures/data/foobar-de"), &dir.path().join("fixtures/data/foobar-de"));
    dir
}

fn wb(dir: &Path, args: &[&str]) -> Output {
    Command::new(WB).args(args).current_dir(dir).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn read(dir: &Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every file under `dir` with its bytes, to show that a refused command changed nothing.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out
}

const NZ: [&str; 14] = [
    "new-market",
    "wbtest-zz",
    "--like",
    "foobar-de",
    "--currency",
    "NZD",
    "--fx",
    "0.6",
    "--timezone",
    "Pacific/Auckland",
    "--languages",
    "en,mi",
    "--delimiter",
    "|",
];

#[test]
fn new_market_copies_registers_and_writes_fixtures_in_its_own_raw_format() {
    let dir = copy();
    let root = dir.path();
    let out = wb(root, &[&NZ[..], &["--no-goldens"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "wbtest-zz: creating the crate\nwbtest-zz: registering it in Cargo.toml and markets/registry/Cargo.toml\n\
         wbtest-zz: writing its fixtures\n"
    );

    // The crate: DE's overrides and model, the options given in market.toml, a test of them.
    assert!(read(root, "markets/zz/Cargo.toml").contains("name = \"wbtest-zz\""));
    assert_eq!(read(root, "markets/zz/build.rs"), read(&workspace_root(), "markets/de/build.rs"));
    for hook in ["normalize", "eligible_channels"] {
        let path = format!("src/{hook}.rs");
        assert_eq!(read(root, &format!("markets/zz/{path}")), read(&workspace_root(), &format!("markets/de/{path}")));
    }
    assert_eq!(
        read(root, "markets/zz/market.toml"),
        "# wbtest-zz: created by `wb new-market wbtest-zz --like foobar-de`. Only what differs from \
         pipeline-core/base.toml is listed.\n\
         id = \"wbtest-zz\"\ncurrency = \"NZD\"\nfx_to_usd = 0.6\ntimezone = \"Pacific/Auckland\"\n\
         languages = [\"en\", \"mi\"]\n"
            .to_string()
            + &read(&workspace_root(), "markets/de/market.toml")
                .lines()
                .skip_while(|l| !l.starts_with("channel_priority"))
                .map(|l| if l.starts_with("delimiter") { "delimiter = \"|\"".to_string() } else { l.to_string() })
                .map(|l| l + "\n")
                .collect::<String>()
    );
    assert_eq!(
        read(root, "markets/zz/src/lib.rs"),
        "//! `wbtest-zz`, created by `wb new-market wbtest-zz --like foobar-de`. Its overrides (normalize, \
         eligible_channels) are copies of foobar-de's: change them where this market differs.\n\
         //! Configuration is in `market.toml`, the model in `model.toml`; markets/README.md says which \
         hook serves which kind of difference.\n\n\
         pipeline_core::market! {\n    /// The wbtest-zz market.\n    pub struct WbtestZz;\n    \
         overrides: [normalize, eligible_channels];\n}\n"
    );
    let test = read(root, "markets/zz/tests/zz.rs");
    assert!(test.contains("    assert_eq!(c.currency, \"NZD\");\n"), "{test}");
    assert!(test.contains("    assert_eq!(c.raw.delimiter, \"|\");\n"), "{test}");

    // Registered: one line after the last market of each list (foobar-de, or a market added after it).
    let (manifest, registry) = (read(root, "Cargo.toml"), read(root, "markets/registry/Cargo.toml"));
    let (old_manifest, old_registry) =
        (read(&workspace_root(), "Cargo.toml"), read(&workspace_root(), "markets/registry/Cargo.toml"));
    let last = |text: &str, market_line: &dyn Fn(&str) -> bool| {
        text.lines().filter(|l| market_line(l)).last().unwrap().to_string()
    };
    let member = last(&old_manifest, &|l| l.starts_with("    \"markets/") && !l.contains("registry"));
    assert!(manifest.contains(&format!("{member}\n    \"markets/zz\",\n")), "{manifest}");
    let dependency = last(&old_manifest, &|l| l.contains(" = { path = \"markets/") && !l.contains("registry"));
    assert!(manifest.contains(&format!("{dependency}\nwbtest-zz = {{ path = \"markets/zz\" }}\n")), "{manifest}");
    let registered = last(&old_registry, &|l| {
        l.strip_suffix(".workspace = true").is_some_and(|name| name.contains('-') && name != "pipeline-core")
    });
    assert!(registry.contains(&format!("{registered}\nwbtest-zz.workspace = true\n")), "{registry}");
    assert_eq!(manifest.lines().count(), old_manifest.lines().count() + 2);
    assert_eq!(registry.lines().count(), old_registry.lines().count() + 1);

    // Fixtures: the same population as foobar-de, in the new format (| delimiter, DE's dates and doi column).
    let customers = read(root, "fixtures/data/wbtest-zz/customers.csv");
    let de_customers = read(root, "fixtures/data/foobar-de/customers.csv");
    assert_eq!(
        customers.lines().next().unwrap(),
        "customer_id|segment|region|language|signup_date|email_opt_in|sms_opt_in|phone_opt_in|doi_confirmed"
    );
    assert_eq!(customers.lines().count(), de_customers.lines().count());
    for (nz, de) in customers.lines().zip(de_customers.lines()).skip(1).take(50) {
        if !de.contains('|') {
            assert_eq!(nz.split('|').next(), de.split(';').next(), "{nz} / {de}");
        }
    }
    assert!(root.join("fixtures/data/wbtest-zz/_manifest.json").is_file());

    // What to do next, with the hooks and a market that overrides each.
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("created wbtest-zz (markets/zz) from foobar-de\n"), "{stdout}");
    for line in [
        "  overrides:  normalize (markets/zz/src/normalize.rs), eligible_channels (markets/zz/src/eligible_channels.rs), \
         copied from foobar-de\n",
        "  goldens:    not written (--no-goldens)\n",
        "  1. write the goldens: UPDATE_GOLDEN=1 cargo test -p workbench-tests --test golden -- \
         matches_golden_outputs::wbtest_zz --exact\n",
        "  2. test it: cargo test -p wbtest-zz\n",
        "  3. run it (rebuilds wb with the new market): cargo run -- run --market wbtest-zz\n",
        "  normalize          raw column names, a time zone in the extract, a missing or extra column\n                     \
         like foobar-br (markets/br/src/normalize.rs)\n",
        "  eligible_channels  who may be contacted on which channel (consents, double opt-in)\n                     \
         like foobar-de (markets/de/src/eligible_channels.rs)\n",
        "  content            which content a customer gets for an action and language\n                     \
         no market overrides it yet: start from its base in pipeline-core/src/hooks.rs\n",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in\n{stdout}");
    }
}

#[test]
fn new_market_json_lists_what_it_created_and_the_next_steps() {
    let dir = copy();
    let out = wb(dir.path(), &["new-market", "wbtest-zy", "--like", "foobar-au", "--no-goldens", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["id"], "wbtest-zy");
    assert_eq!(json["dir"], "markets/zy");
    assert_eq!(json["overrides"], serde_json::json!([]));
    assert_eq!(json["registered_in"], serde_json::json!(["Cargo.toml", "markets/registry/Cargo.toml"]));
    assert_eq!(json["fixtures"], "fixtures/data/wbtest-zy");
    assert_eq!(json["goldens"], serde_json::Value::Null);
    assert_eq!(json["next_steps"][1], "test it: cargo test -p wbtest-zy");
    assert!(dir.path().join("fixtures/data/wbtest-zy/orders.csv").is_file());
}

#[test]
fn bad_input_is_named_and_leaves_the_workspace_untouched() {
    let dir = copy();
    let before = tree(dir.path());
    let cases: [(&[&str], &str); 6] = [
        (
            &["new-market", "foobar-de", "--like", "foobar-au"],
            "market 'foobar-de' already exists (markets/de): pick another id",
        ),
        (
            &["new-market", "wbtest_zz", "--like", "foobar-au"],
            "market id 'wbtest_zz' is not of the form franchise-cc (lowercase letters, a dash, a two-letter country \
             code), e.g. foobar-nz",
        ),
        (
            &["new-market", "wbtest-zzl", "--like", "foobar-au"],
            "market id 'wbtest-zzl' is not of the form franchise-cc (lowercase letters, a dash, a two-letter country \
             code), e.g. foobar-nz",
        ),
        (
            &["new-market", "acme-de", "--like", "foobar-au"],
            "market 'acme-de' cannot be created: markets/de already exists; pick another id or move it away",
        ),
        (&["new-market", "wbtest-zz", "--like", "foobar-au", "--timezone", "Mars/Olympus"], "timezone"),
        (&["new-market", "wbtest-zz", "--like", "foobar-au", "--currency", "XYZ"], "currency"),
    ];
    for (args, message) in cases {
        let out = wb(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        let stderr = text(&out.stderr);
        if message.contains(' ') {
            assert_eq!(stderr, format!("error: {message}\n"), "{args:?}");
        } else {
            assert!(stderr.starts_with("error: ") && stderr.contains(message), "{args:?}: {stderr}");
            assert!(stderr.contains("wbtest-zz"), "{args:?}: {stderr}");
        }
        assert!(tree(dir.path()) == before, "{args:?} changed the workspace");
    }
    let unknown = wb(dir.path(), &["new-market", "wbtest-zz", "--like", "foobar-zz"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown.stderr).contains("unknown market 'foobar-zz': use one of foobar-au"),
        "{}",
        text(&unknown.stderr)
    );
}

/// The whole flow in a fresh clone of this repository: new-market with goldens, then the new crate's tests and a
/// run of it, each by cargo in the clone, whose target starts cold (about 20 minutes on 2 cores). Opt-in:
/// `cargo test -p workbench --test new_market -- --ignored`; `just bench-new-market` times the same steps.
#[test]
#[ignore = "builds the workspace in a fresh clone (about 20 minutes); run with --ignored or `just bench-new-market`"]
fn a_new_market_builds_tests_and_runs_in_a_copy_of_the_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let status = Command::new("git")
        .args(["clone", "--quiet", "--no-hardlinks"])
        .arg(workspace_root())
        .arg(&ws)
        .status()
        .unwrap();
    assert!(status.success());
    let out = Command::new(WB).args(NZ).current_dir(&ws).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(ws.join("fixtures/golden/wbtest-zz/export/recommendations.csv").is_file());
    let test = Command::new("cargo").args(["test", "-p", "wbtest-zz"]).current_dir(&ws).output().unwrap();
    assert!(test.status.success(), "{}", text(&test.stderr));
    let run = Command::new("cargo")
        .args(["run", "-q", "--", "run", "--market", "wbtest-zz"])
        .current_dir(&ws)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}{}", text(&run.stdout), text(&run.stderr));
    assert!(text(&run.stdout).contains("wbtest-zz"), "{}", text(&run.stdout));
}
