//! The TUI's coverage screen (`C`): a real git repository laid out as a two-crate workspace with a commit on
//! `main` and changes after it, a hand-written LCOV tracefile and JSON export in `.workbench/coverage/`, loaded
//! through the same function the executor runs; the table in both sort orders, the patch and hook panes, the file
//! view with its marks, the empty and error states (insta snapshots and exact values), and the keys.

mod common;

use common::tui::{app, ch, key, render};

use std::path::Path;

use crossterm::event::KeyCode;
use git2::Repository;
use ratatui::style::{Color, Modifier};
use serde_json::json;
use workbench::tui::app::{App, Effect, Msg, Overlay};
use workbench::tui::exec::load_coverage as load_workspace;
use workbench::tui::keys::Screen;
use workbench::tui::screens::coverage::{CoverageLoad, Pane, SortKey, TableRow};
use workbench::workspace::Workspace;
use workbench_coverage::HookStatus;
use workbench_testkit::{self as testkit, Lcov, commit_at, init_repo_on, write};

/// The commits' author time, so their hashes are the same on every run.
const FIXED_TIME: i64 = 1_700_000_000;

const APP_LIB_BASE: &str = "pub fn f() -> u8 {\n    1\n}\n// old\npub fn old() -> u8 {\n    2\n}\n";
/// Lines 4-9 (`g`) are new on `feature`.
const APP_LIB: &str = "pub fn f() -> u8 {\n    1\n}\npub fn g(x: u8) -> u8 {\n    if x > 0 {\n        return x;\n    }\n    \
                       0\n} // g\n// old\npub fn old() -> u8 {\n    2\n}\n";
const APP_FMT: &str = "pub fn show(n: u8) -> String {\n    format!(\"{n}\")\n}\n";
const APP_PARSE: &str = "pub fn p(s: &str) -> usize {\n    s.len()\n}\n";
const UTIL_BASE: &str = "pub fn u() -> u8 {\n    7\n}\n";
/// Lines 4-5 are new and not committed.
const UTIL: &str = "pub fn u() -> u8 {\n    7\n}\npub fn w() {}\npub fn x() {}\n";

/// A workspace (`crates/app` with lib.rs, fmt.rs, parse.rs; `crates/util`) committed on `branch`; on `feature`,
/// app's lib.rs gains `g` (lines 4-9, committed) and util gains lines 4-5 (uncommitted). The tracefile says:
/// lib.rs: 1, 2, 4, 5, 8 ran, 6, 11, 12 did not (5/8); fmt.rs 2/3 (3 did not); parse.rs 3/3; util 1, 2 ran,
/// 4, 5 did not (2/4). The JSON export gives regions: lib.rs 6/10, fmt.rs 2/2, parse.rs 1/1, util 1/4.
fn workspace(branch: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "Cargo.toml", "[workspace]\nmembers = [\"crates/app\", \"crates/util\"]\n");
    write(root, "crates/app/Cargo.toml", "[package]\nname = \"app\"\n");
    write(root, "crates/util/Cargo.toml", "[package]\nname = \"util\"\n");
    write(root, "crates/app/src/lib.rs", APP_LIB_BASE);
    write(root, "crates/app/src/fmt.rs", APP_FMT);
    write(root, "crates/app/src/parse.rs", APP_PARSE);
    write(root, "crates/util/src/lib.rs", UTIL_BASE);
    write(root, ".gitignore", "/.workbench/\n");
    std::fs::create_dir_all(root.join("markets")).unwrap();
    let repo = init_repo_on(root, branch);
    commit_at(
        &repo,
        &[
            ".gitignore",
            "Cargo.toml",
            "crates/app/Cargo.toml",
            "crates/util/Cargo.toml",
            "crates/app/src/lib.rs",
            "crates/app/src/fmt.rs",
            "crates/app/src/parse.rs",
            "crates/util/src/lib.rs",
        ],
        "base",
        FIXED_TIME,
    );
    testkit::branch(&repo, "feature");
    write(root, "crates/app/src/lib.rs", APP_LIB);
    commit_at(&repo, &["crates/app/src/lib.rs"], "app: g", FIXED_TIME);
    write(root, "crates/util/src/lib.rs", UTIL);
    let r = root.display();
    write(
        root,
        ".workbench/coverage/lcov.info",
        Lcov::new()
            .file(
                &format!("{r}/crates/app/src/lib.rs"),
                &[(1, "f", 5), (4, "g", 3), (11, "old", 0)],
                &[(1, 5), (2, 5), (4, 3), (5, 3), (6, 0), (8, 3), (11, 0), (12, 0)],
            )
            .file(&format!("{r}/crates/app/src/fmt.rs"), &[(1, "show", 1)], &[(1, 1), (2, 1), (3, 0)])
            .file(
                &format!("{r}/crates/app/src/parse.rs"),
                &[(1, "p", 123456)],
                &[(1, 123456), (2, 123456), (3, 123456)],
            )
            .file(
                &format!("{r}/crates/util/src/lib.rs"),
                &[(1, "u", 2), (4, "w", 0), (5, "x", 0)],
                &[(1, 2), (2, 2), (4, 0), (5, 0)],
            )
            .text(),
    );
    let summary = |lines: (u64, u64), functions: (u64, u64), regions: (u64, u64)| {
        json!({
            "lines": { "covered": lines.0, "count": lines.1 },
            "functions": { "covered": functions.0, "count": functions.1 },
            "regions": { "covered": regions.0, "count": regions.1 },
        })
    };
    let export = json!({ "type": "llvm.coverage.json.export", "data": [{ "files": [
        { "filename": format!("{r}/crates/app/src/lib.rs"), "summary": summary((5, 8), (2, 3), (6, 10)) },
        { "filename": format!("{r}/crates/app/src/fmt.rs"), "summary": summary((2, 3), (1, 1), (2, 2)) },
        { "filename": format!("{r}/crates/app/src/parse.rs"), "summary": summary((3, 3), (1, 1), (1, 1)) },
        { "filename": format!("{r}/crates/util/src/lib.rs"), "summary": summary((2, 4), (1, 3), (1, 4)) },
    ] }] });
    write(root, ".workbench/coverage/coverage.json", &export.to_string());
    dir
}

/// An app on the coverage screen with the workspace's reports loaded the way the executor loads them.
fn loaded(root: &Path) -> App {
    let mut app = app();
    let effects = app.handle(ch('C'));
    assert_eq!(effects, vec![Effect::LoadCoverage]);
    assert_eq!(app.screen, Screen::Coverage);
    let mut load = load_workspace(&Workspace::open(root).unwrap());
    // The screen's rows of hook overrides: those of the snapshot markets, whatever else is registered.
    if let CoverageLoad::Ready(data) = &mut load
        && let Ok(hooks) = data.hooks.as_mut()
    {
        hooks.markets.retain(|m| workbench_testkit::SNAPSHOT_MARKETS.contains(&m.as_str()));
        hooks.overrides.retain(|o| workbench_testkit::SNAPSHOT_MARKETS.contains(&o.market.as_str()));
    }
    app.handle(Msg::Coverage(Box::new(load)));
    app
}

/// The table's rows as the screen names them (`app`, `  crates/app/src/lib.rs`).
fn row_names(app: &App) -> Vec<String> {
    let screen = app.coverage.as_ref().unwrap();
    let data = screen.data().expect("the report loaded");
    screen
        .rows()
        .into_iter()
        .map(|row| match row {
            TableRow::Crate(i) => data.summary.crates[i].name.clone(),
            TableRow::File(i, j) => format!("  {}", data.summary.crates[i].files[j].path),
        })
        .collect()
}

#[test]
fn the_report_loads_with_exact_figures() {
    let dir = workspace("main");
    let app = loaded(dir.path());
    let screen = app.coverage.as_ref().unwrap();
    assert!(!screen.loading);
    let data = screen.data().unwrap();
    let s = &data.summary;
    assert_eq!((s.lines.covered, s.lines.count), (12, 18));
    assert_eq!((s.functions.covered, s.functions.count), (5, 8));
    assert_eq!(s.regions.map(|r| (r.covered, r.count)), Some((10, 17)));
    let patch = data.patch.as_ref().unwrap();
    assert_eq!((patch.changed, patch.instrumented, patch.covered), (8, 6, 3));
    assert_eq!(patch.percent, Some(50.0));
    let uncovered: Vec<(&str, &[u32])> =
        data.patch_entries().iter().map(|f| (f.path.as_str(), &f.uncovered[..])).collect();
    assert_eq!(uncovered, vec![("crates/app/src/lib.rs", &[6][..]), ("crates/util/src/lib.rs", &[4, 5][..])]);
    assert_eq!(data.files["crates/app/src/lib.rs"].uncovered(), vec![6, 11, 12]);
    assert_eq!(data.files["crates/app/src/lib.rs"].text.as_ref().unwrap().len(), 13);
    assert_eq!((data.line_ok(), data.patch_ok()), (false, Some(false)));
    // No market's override file is in the tracefile.
    let hooks = data.hooks.as_ref().unwrap();
    assert_eq!(hooks.markets, workbench_testkit::SNAPSHOT_MARKETS);
    assert!(hooks.overrides.iter().all(|o| o.status == HookStatus::NotInstrumented), "{hooks:?}");
    assert_eq!(app.status_line, "coverage loaded: 2 crates, 4 files");
}

#[test]
fn the_table_sorts_by_name_then_by_line_coverage_worst_first() {
    let dir = workspace("main");
    let mut app = loaded(dir.path());
    assert_eq!(app.coverage.as_ref().unwrap().sort, SortKey::Name);
    assert_eq!(
        row_names(&app),
        vec![
            "app",
            "  crates/app/src/fmt.rs",
            "  crates/app/src/lib.rs",
            "  crates/app/src/parse.rs",
            "util",
            "  crates/util/src/lib.rs"
        ]
    );
    insta::assert_snapshot!("coverage_by_name", render(&app, 120, 40).0);

    app.handle(ch('j'));
    app.handle(ch('j')); // lib.rs
    app.handle(ch('s'));
    let screen = app.coverage.as_ref().unwrap();
    assert_eq!(screen.sort, SortKey::Lines);
    assert_eq!(
        row_names(&app),
        vec![
            "util",
            "  crates/util/src/lib.rs",
            "app",
            "  crates/app/src/lib.rs",
            "  crates/app/src/fmt.rs",
            "  crates/app/src/parse.rs"
        ]
    );
    assert_eq!(screen.selected_file(), Some("crates/app/src/lib.rs"), "the selection follows the row");
    assert_eq!(app.status_line, "sorted by line % (worst first)");
    insta::assert_snapshot!("coverage_by_line", render(&app, 120, 40).0);

    // Functions, regions, uncovered lines, back to names.
    app.handle(ch('s'));
    assert_eq!(row_names(&app)[..2], ["util".to_string(), "  crates/util/src/lib.rs".to_string()]);
    app.handle(ch('s'));
    assert_eq!(app.coverage.as_ref().unwrap().sort, SortKey::Regions);
    assert_eq!(row_names(&app)[2..4], ["app".to_string(), "  crates/app/src/lib.rs".to_string()]);
    app.handle(ch('s'));
    assert_eq!(app.coverage.as_ref().unwrap().sort, SortKey::Uncovered);
    assert_eq!(
        row_names(&app),
        vec![
            "app",
            "  crates/app/src/lib.rs",
            "  crates/app/src/fmt.rs",
            "  crates/app/src/parse.rs",
            "util",
            "  crates/util/src/lib.rs"
        ],
        "app has 4 uncovered lines, util 2; lib.rs 3, fmt.rs 1, parse.rs 0"
    );
    app.handle(ch('s'));
    assert_eq!(app.coverage.as_ref().unwrap().sort, SortKey::Name);
}

#[test]
fn enter_folds_a_crate() {
    let dir = workspace("main");
    let mut app = loaded(dir.path());
    app.handle(key(KeyCode::Enter));
    assert_eq!(row_names(&app), vec!["app", "util", "  crates/util/src/lib.rs"]);
    assert_eq!(app.screen, Screen::Coverage);
    let (text, _) = render(&app, 120, 40);
    assert!(text.contains("▸ app (3 files)"), "{text}");
    app.handle(ch(' '));
    assert_eq!(row_names(&app).len(), 6);
}

#[test]
fn small_terminals_switch_between_the_table_and_the_patch_and_hooks_pane() {
    let dir = workspace("main");
    let mut app = loaded(dir.path());
    insta::assert_snapshot!("coverage_small_table", render(&app, 80, 20).0);
    app.handle(key(KeyCode::Tab));
    assert_eq!(app.coverage.as_ref().unwrap().pane, Pane::Patch);
    insta::assert_snapshot!("coverage_small_patch", render(&app, 80, 20).0);
    // Enter on the second entry opens util's lib.rs at its first uncovered changed line.
    app.handle(ch('j'));
    app.handle(key(KeyCode::Enter));
    assert_eq!(app.screen, Screen::CoverageFile);
    let view = app.coverage.as_ref().unwrap().file.clone().unwrap();
    assert_eq!((view.path.as_str(), view.cursor), ("crates/util/src/lib.rs", Some(4)));
}

#[test]
fn the_file_view_marks_uncovered_and_changed_uncovered_lines() {
    let dir = workspace("main");
    let mut app = loaded(dir.path());
    app.handle(ch('j'));
    app.handle(key(KeyCode::Down));
    app.handle(key(KeyCode::Enter));
    assert_eq!(app.screen, Screen::CoverageFile);
    app.handle(ch('n'));
    let view = app.coverage.as_ref().unwrap().file.clone().unwrap();
    assert_eq!((view.path.as_str(), view.top, view.cursor), ("crates/app/src/lib.rs", 2, Some(6)));
    app.handle(ch('N'));
    assert_eq!(app.status_line, "no uncovered line above");
    app.handle(key(KeyCode::PageUp));
    let (text, terminal) = render(&app, 100, 24);
    insta::assert_snapshot!("coverage_file_view", text);
    // Row of source line n: header (2) + border (1) + n - 1.
    let buffer = terminal.backend().buffer();
    let row = |line: u16| line + 2;
    let marker_x = 1 + 5 + 8;
    assert_eq!(buffer[(marker_x, row(6))].symbol(), "!");
    assert_eq!(buffer[(marker_x, row(6))].bg, Color::Red);
    assert_eq!(buffer[(marker_x + 3, row(6))].fg, Color::Red, "the changed, uncovered source is red");
    assert_eq!(buffer[(marker_x, row(11))].symbol(), "▌");
    assert_eq!(buffer[(marker_x, row(11))].fg, Color::Red);
    assert_eq!(buffer[(marker_x, row(4))].symbol(), "+", "changed and covered");
    assert_eq!(buffer[(marker_x, row(1))].symbol(), " ");
    assert!(buffer[(5, row(6))].modifier.contains(Modifier::REVERSED), "the jumped-to line is highlighted");
}

#[test]
fn keys_open_the_screen_a_file_and_go_back() {
    let dir = workspace("main");
    let mut app = loaded(dir.path());
    for msg in [ch('j'), ch('j'), key(KeyCode::Enter)] {
        assert_eq!(app.handle(msg), Vec::<Effect>::new());
    }
    assert_eq!(app.screen, Screen::CoverageFile);
    assert_eq!(app.coverage.as_ref().unwrap().file.as_ref().unwrap().path, "crates/app/src/lib.rs");
    let cursors: Vec<Option<u32>> = (0..3)
        .map(|_| {
            app.handle(ch('n'));
            app.coverage.as_ref().unwrap().file.as_ref().unwrap().cursor
        })
        .collect();
    assert_eq!(cursors, vec![Some(6), Some(11), Some(12)]);
    assert_eq!(app.coverage.as_ref().unwrap().file.as_ref().unwrap().top, 8);
    app.handle(ch('n'));
    assert_eq!(app.status_line, "no uncovered line below");
    app.handle(ch('N'));
    assert_eq!(app.coverage.as_ref().unwrap().file.as_ref().unwrap().cursor, Some(11));
    app.handle(ch('k'));
    assert_eq!(app.coverage.as_ref().unwrap().file.as_ref().unwrap().top, 6);

    app.handle(key(KeyCode::Esc));
    assert_eq!(app.screen, Screen::Coverage);
    assert_eq!(app.coverage.as_ref().unwrap().file, None);
    assert_eq!(app.coverage.as_ref().unwrap().selected_file(), Some("crates/app/src/lib.rs"));
    app.handle(key(KeyCode::Esc));
    assert_eq!(app.screen, Screen::Matrix);
    // `C` again reloads, keeping the sort and the selection.
    assert_eq!(app.handle(ch('C')), vec![Effect::LoadCoverage]);
    assert!(app.coverage.as_ref().unwrap().loading);
    assert_eq!(app.coverage.as_ref().unwrap().selected_file(), Some("crates/app/src/lib.rs"));
}

#[test]
fn the_help_lists_the_coverage_keys() {
    let dir = workspace("main");
    let mut app = loaded(dir.path());
    app.handle(ch('?'));
    assert_eq!(app.overlay, Some(Overlay::Help));
    let (text, _) = render(&app, 120, 40);
    for line in [
        "│ C           coverage: per crate and file, patch coverage, hook overrides run by tests",
        "│ Enter Space open the selected file, or fold / unfold the selected crate",
        "│ s           sort by the next column (coverage: worst first)",
        "│ Tab         switch between the file table and the patch & hooks pane",
        "│ Esc         back / close",
    ] {
        assert!(text.contains(line), "{line:?} is not in the help:\n{text}");
    }
    assert!(!text.contains("jump to the next uncovered line"), "{text}");
    app.handle(ch('?'));
    for msg in [ch('j'), ch('j'), key(KeyCode::Enter), ch('?')] {
        app.handle(msg);
    }
    let (text, _) = render(&app, 120, 40);
    assert!(text.contains(" Keys · Coverage file "), "{text}");
    for line in ["│ n           jump to the next uncovered line", "│ N           jump to the previous uncovered line"]
    {
        assert!(text.contains(line), "{line:?} is not in the help:\n{text}");
    }
}

#[test]
fn the_hook_matrix_says_which_overrides_the_tests_run() {
    let dir = workspace("main");
    let root = dir.path();
    // foobar-br's real override files, with its normalize override run and its export_format one never run.
    let br = markets::load("foobar-br").unwrap();
    let mut lcov = std::fs::read_to_string(root.join(".workbench/coverage/lcov.info")).unwrap();
    for o in br.overrides() {
        write(root, o.file, o.source);
        let (start, end) = workbench_coverage::hooks::fn_range(o.source, o.hook.name()).unwrap();
        let hits = if o.hook == pipeline_core::Hook::Normalize { 1 } else { 0 };
        let lines: Vec<(u32, u64)> = (start..=end).map(|line| (line, hits)).collect();
        lcov.push_str(Lcov::new().file(&format!("{}/{}", root.display(), o.file), &[], &lines).text());
    }
    write(root, ".workbench/coverage/lcov.info", &lcov);
    let app = loaded(root);
    let hooks = app.coverage.as_ref().unwrap().data().unwrap().hooks.clone().unwrap();
    let br: Vec<(&str, HookStatus)> =
        hooks.overrides.iter().filter(|o| o.market == "foobar-br").map(|o| (o.hook.name(), o.status)).collect();
    assert_eq!(br, vec![("normalize", HookStatus::Executed), ("export_format", HookStatus::NotExecuted)]);
    let (text, terminal) = render(&app, 120, 40);
    let row = text.lines().position(|l| l.contains("│foobar-br yes ")).unwrap_or_else(|| panic!("{text}"));
    assert!(
        text.lines().nth(row).unwrap().ends_with("│foobar-br yes       -        -       -        NO    │"),
        "{text}"
    );
    let x = text.lines().nth(row).unwrap().chars().collect::<Vec<_>>().iter().rposition(|c| *c == 'N').unwrap() as u16;
    assert_eq!(terminal.backend().buffer()[(x, row as u16)].fg, Color::Red, "NO is red");
}

#[test]
fn without_a_report_the_screen_names_the_command() {
    let dir = workspace("main");
    std::fs::remove_dir_all(dir.path().join(".workbench")).unwrap();
    let app = loaded(dir.path());
    assert_eq!(
        app.coverage.as_ref().unwrap().load,
        Some(CoverageLoad::Missing { lcov: ".workbench/coverage/lcov.info".into() })
    );
    assert_eq!(app.status_line, "no coverage yet: run `wb coverage`");
    insta::assert_snapshot!("coverage_empty", render(&app, 80, 20).0);
}

#[test]
fn a_malformed_tracefile_names_the_file_and_line() {
    let dir = workspace("main");
    let lcov = dir.path().join(".workbench/coverage/lcov.info");
    std::fs::write(&lcov, "SF:/w/a.rs\nDA:3,2\nDA:x,1\nend_of_record\n").unwrap();
    let app = loaded(dir.path());
    let expected = format!(
        "{}:3: DA: line `x` is not a number; regenerate the file with `cargo llvm-cov report --lcov`",
        lcov.display()
    );
    assert_eq!(app.coverage.as_ref().unwrap().load, Some(CoverageLoad::Failed(expected)));
    let (text, _) = render(&app, 200, 20);
    assert!(text.contains("lcov.info:3: DA: line `x` is not a number"), "{text}");
}

#[test]
fn without_a_main_branch_the_summary_shows_and_the_patch_pane_says_why() {
    let dir = workspace("trunk");
    let mut app = loaded(dir.path());
    let data = app.coverage.as_ref().unwrap().data().unwrap();
    assert_eq!((data.summary.lines.covered, data.summary.lines.count), (12, 18));
    let workdir = Repository::open(dir.path()).unwrap().workdir().unwrap().components().collect::<std::path::PathBuf>();
    assert_eq!(
        data.patch,
        Err(format!(
            "base branch `main` does not exist in {}: pass --base <branch> naming the branch this work started \
             from",
            workdir.display()
        ))
    );
    assert_eq!(data.patch_ok(), None);
    let (text, _) = render(&app, 120, 40);
    assert!(text.contains("patch n/a (see the patch pane)"), "{text}");
    assert!(text.contains("No patch coverage:"), "{text}");
    app.handle(key(KeyCode::Tab));
    let (text, _) = render(&app, 80, 20);
    assert!(text.contains("base branch `main` does not exist"), "{text}");
}

#[test]
fn the_coverage_screen_renders_at_every_size_without_panicking() {
    let dir = workspace("main");
    let mut app = loaded(dir.path());
    for (w, h) in [(80, 20), (100, 27), (110, 28), (120, 40), (200, 60)] {
        render(&app, w, h);
    }
    app.handle(key(KeyCode::Tab));
    app.handle(key(KeyCode::Enter));
    for _ in 0..40 {
        app.handle(key(KeyCode::PageDown));
    }
    for (w, h) in [(80, 20), (120, 40)] {
        render(&app, w, h);
    }
}
