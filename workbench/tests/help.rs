//! `wb completions` and `wb help`, through the real binary: the completion scripts per shell (bash's checked by
//! `bash -n`), command help identical to `--help`, the topics identical to `docs/topics/*.md`, unknown names.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{Root, stderr, stdout};
use serde_json::Value;

fn wb(args: &[&str]) -> Output {
    Root::empty().run(args)
}

fn ok(args: &[&str]) -> String {
    let out = wb(args);
    assert_eq!(out.status.code(), Some(0), "wb {args:?}: {}", stderr(&out));
    assert_eq!(stderr(&out), "", "wb {args:?}");
    stdout(&out)
}

fn topic_file(name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "docs", "topics", &format!("{name}.md")].iter().collect();
    std::fs::read_to_string(path).unwrap()
}

/// The commands `wb --help` lists (hidden `runner` is not one of them).
const COMMANDS: [&str; 14] = [
    "tui",
    "run",
    "aws",
    "runs",
    "show",
    "outbox",
    "affected",
    "watch",
    "diff",
    "explore",
    "coverage",
    "check",
    "completions",
    "help",
];

#[test]
fn bash_completions_define_wb_and_every_command_and_offer_the_markets() {
    let script = ok(&["completions", "bash"]);
    assert!(script.contains("_wb() {"), "{script}");
    assert!(script.contains("complete -F _wb"), "{script}");
    for command in COMMANDS {
        assert!(script.contains(&format!("wb,{command})")), "no case for {command}");
    }
    for hidden in ["wb,runner)", "wb__subcmd__aws,serve)", "wb__subcmd__runner", " serve", " --wb "] {
        assert!(!script.contains(hidden), "hidden {hidden} is offered");
    }
    assert!(script.contains("wb__subcmd__aws,up)"), "no case for aws up");
    assert!(script.contains(&markets::ids().join(" ")), "market ids not offered");
    assert!(script.contains("embedded localstack container endpoint"), "backends not offered");
    assert!(script.contains("ingest validate features score recommend export"), "stages not offered");
}

#[test]
fn bash_completion_script_is_valid_bash() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wb.bash");
    std::fs::write(&file, ok(&["completions", "bash"])).unwrap();
    let check = std::process::Command::new("bash").arg("-n").arg(&file).output().expect("bash runs");
    assert!(check.status.success(), "bash -n: {}", String::from_utf8_lossy(&check.stderr));
}

#[test]
fn bash_completes_commands_and_market_ids() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wb.bash");
    std::fs::write(&file, ok(&["completions", "bash"])).unwrap();
    // What bash sets before calling the completion function, for the words typed so far.
    let complete = |words: &[&str]| -> String {
        let script = format!(
            "source {}; COMP_WORDS=({}); COMP_CWORD={}; _wb wb {} {}; echo \"${{COMPREPLY[*]}}\"",
            file.display(),
            words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(" "),
            words.len() - 1,
            words.last().map_or("''".to_string(), |w| format!("'{w}'")),
            words.get(words.len().wrapping_sub(2)).map_or("''".to_string(), |w| format!("'{w}'")),
        );
        let out = std::process::Command::new("bash").arg("-c").arg(&script).output().expect("bash runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    };
    assert_eq!(complete(&["wb", "run", "--market", ""]), markets::ids().join(" "));
    assert_eq!(complete(&["wb", "co"]), "coverage completions");
    assert_eq!(complete(&["wb", "ru"]), "run runs");
}

#[test]
fn zsh_and_fish_completions_are_for_wb() {
    let zsh = ok(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef wb\n"), "{}", &zsh[..zsh.len().min(80)]);
    let fish = ok(&["completions", "fish"]);
    assert!(fish.contains("complete -c wb "), "{fish}");
    assert!(fish.contains("foobar-jp"), "fish completions do not offer the markets");
    assert!(!fish.contains("-a \"runner\""), "fish offers the hidden runner command");
    assert!(!fish.contains("-a \"serve\""), "fish offers the hidden aws serve command");
    for hidden in ["(runner)", "(serve)", "'runner:"] {
        assert!(!zsh.contains(hidden), "zsh offers the hidden {hidden}");
    }
}

#[test]
fn completions_for_an_unsupported_shell_name_the_supported_ones() {
    let out = wb(&["completions", "powershell"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .starts_with("error: invalid value 'powershell' for '<SHELL>'\n  [possible values: bash, zsh, fish]\n"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn help_topic_prints_the_docs_file_exactly() {
    for name in ["cache-keys", "backends", "checks", "affected-rules"] {
        assert_eq!(ok(&["help", name]), topic_file(name), "wb help {name}");
    }
    assert_eq!(ok(&["help", "cache"]), topic_file("cache-keys"), "alias cache");
    assert_eq!(ok(&["help", "rules"]), topic_file("affected-rules"), "alias rules");
}

#[test]
fn help_of_a_command_is_exactly_its_dash_dash_help() {
    assert_eq!(ok(&["help", "run"]), ok(&["run", "--help"]));
    assert_eq!(ok(&["help", "aws", "up"]), ok(&["aws", "up", "--help"]));
    assert_eq!(ok(&["help", "affected"]), ok(&["affected", "--help"]));
    assert!(ok(&["help", "affected"]).ends_with("The rules, file by file: wb help affected-rules\n"));
}

#[test]
fn help_without_a_topic_is_the_overview_then_the_topics() {
    let overview = ok(&["--help"]);
    for command in COMMANDS {
        assert!(overview.contains(&format!("\n  {command} ")), "wb --help does not list {command}");
    }
    assert_eq!(
        ok(&["help"]),
        format!(
            "{overview}\nTopics (wb help <topic>):\n\
             \x20 cache-keys      what goes into a stage's cache key, and when a stage is served from the cache\n\
             \x20 backends        the four local AWS backends behind --aws, and wb aws up/status/down\n\
             \x20 checks          the data-quality checks of each stage: ALERT or FAIL, thresholds, quarantine\n\
             \x20 affected-rules  which changed files re-run which markets and stages (wb affected, wb watch)\n"
        )
    );
}

#[test]
fn an_unknown_topic_exits_2_naming_it_and_listing_commands_and_topics() {
    for (args, asked) in [(&["help", "nope"][..], "nope"), (&["help", "aws", "nope"][..], "aws nope")] {
        let out = wb(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(stdout(&out), "");
        assert_eq!(
            stderr(&out),
            format!(
                "error: no command or help topic '{asked}': use a command (tui, run, aws, runs, show, outbox, affected, \
                 watch, diff, explore, coverage, check, kpi, doctor, new-market, completions, help) or a topic (cache-keys, backends, \
                 checks, affected-rules), e.g. wb help run\n"
            )
        );
    }
}

#[test]
fn help_json_is_topic_title_and_text() {
    let parse = |args: &[&str]| -> Value { serde_json::from_str(&ok(args)).unwrap() };
    let checks = parse(&["help", "checks", "--json"]);
    assert_eq!(checks, serde_json::json!({ "topic": "checks", "title": "Checks", "text": topic_file("checks") }));
    let run = parse(&["help", "run", "--json"]);
    assert_eq!(run["topic"], "run");
    assert_eq!(
        run["title"],
        "Run a stage (and what it needs upstream, from cache where valid) for one or more markets"
    );
    assert_eq!(run["text"], ok(&["run", "--help"]));
    let overview = parse(&["help", "--json"]);
    assert_eq!(overview["topic"], Value::Null);
    assert_eq!(overview["title"], "Workbench for the per-market data pipeline");
    assert_eq!(overview["text"], ok(&["help"]));
    assert_eq!(overview.as_object().unwrap().len(), 3);
}

#[test]
fn readme_links_every_topic() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    for name in ["cache-keys", "backends", "checks", "affected-rules"] {
        assert!(readme.contains(&format!("(docs/topics/{name}.md)")), "README does not link {name}");
    }
}
