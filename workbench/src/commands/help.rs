//! `wb help`: the overview with the list of topics, a command's help (exactly what `--help` prints), or a topic
//! explaining one of the workbench's concepts. The topics' texts are the Markdown files in `docs/topics/`,
//! compiled in, so the docs and the binary say the same thing.

use std::ffi::OsString;

use clap::CommandFactory;
use serde::Serialize;

use crate::cli::{Cli, HelpArgs};
use crate::exit::ExitStatus;

/// One help topic: a concept a new hire meets in the first hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Topic {
    /// The name after `wb help`, also the file name in `docs/topics/` (without `.md`).
    pub name: &'static str,
    /// Other names `wb help` accepts for it.
    pub aliases: &'static [&'static str],
    /// The title, as in the file's first line (`# Title`).
    pub title: &'static str,
    /// One line for the list of topics.
    pub summary: &'static str,
    /// The whole text: `docs/topics/<name>.md`.
    pub text: &'static str,
}

/// Every topic, in the order `wb help` lists them. Names and aliases never equal a command's name, so
/// `wb help <command>` always means the command.
pub const TOPICS: &[Topic] = &[
    Topic {
        name: "cache-keys",
        aliases: &["cache", "keys"],
        title: "Cache keys",
        summary: "what goes into a stage's cache key, and when a stage is served from the cache",
        text: include_str!("../../../docs/topics/cache-keys.md"),
    },
    Topic {
        name: "backends",
        aliases: &["backend", "s3", "localstack"],
        title: "Backends",
        summary: "the four local AWS backends behind --aws, and wb aws up/status/down",
        text: include_str!("../../../docs/topics/backends.md"),
    },
    Topic {
        name: "checks",
        aliases: &["quality", "quarantine"],
        title: "Checks",
        summary: "the data-quality checks of each stage: ALERT or FAIL, thresholds, quarantine",
        text: include_str!("../../../docs/topics/checks.md"),
    },
    Topic {
        name: "affected-rules",
        aliases: &["rules"],
        title: "Affected rules",
        summary: "which changed files re-run which markets and stages (wb affected, wb watch)",
        text: include_str!("../../../docs/topics/affected-rules.md"),
    },
];

/// The topic called `name` (its name or an alias).
pub fn topic(name: &str) -> Option<&'static Topic> {
    TOPICS.iter().find(|t| t.name == name || t.aliases.contains(&name))
}

/// What `wb help --json` prints.
#[derive(Debug, Serialize)]
struct HelpJson<'a> {
    /// The topic or command path asked for (`cache-keys`, `aws up`); null for the overview.
    topic: Option<&'a str>,
    /// The topic's title, or the command's one-line description.
    title: &'a str,
    /// The text, as printed without `--json`.
    text: &'a str,
}

/// Runs `wb help`: 0, or 2 for an unknown command or topic.
pub fn main(args: &HelpArgs) -> ExitStatus {
    let asked = args.topic.join(" ");
    if let [name] = args.topic.as_slice()
        && let Some(topic) = topic(name)
    {
        return show(args.json, Some(topic.name), topic.title, topic.text);
    }
    let Some(about) = command_about(&args.topic) else {
        eprintln!("error: {}", unknown(&asked));
        return ExitStatus::Error;
    };
    // Clap's own `--help` for the same path, so `wb help run` is exactly `wb run --help`.
    let bin = std::env::args_os().next().unwrap_or_else(|| OsString::from("wb"));
    let argv = std::iter::once(bin).chain(args.topic.iter().map(OsString::from)).chain([OsString::from("--help")]);
    let help = match Cli::command().try_get_matches_from(argv) {
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => e,
        _ => {
            eprintln!("error: {}", unknown(&asked));
            return ExitStatus::Error;
        }
    };
    if args.topic.is_empty() {
        let text = format!("{}{}", ensure_newline(help.render().to_string()), topics_list());
        if args.json {
            return show(true, None, &about, &text);
        }
        // Clap prints the help itself so it keeps its colours on a terminal.
        let _ = help.print();
        print!("{}", topics_list());
        return ExitStatus::Ok;
    }
    if args.json {
        return show(true, Some(&asked), &about, &help.render().to_string());
    }
    let _ = help.print();
    ExitStatus::Ok
}

/// The one-line description of the command at `path` (empty: `wb` itself), if there is such a command.
fn command_about(path: &[String]) -> Option<String> {
    let root = Cli::command();
    let mut cmd = &root;
    for name in path {
        cmd = cmd.find_subcommand(name)?;
    }
    Some(cmd.get_about().map(|a| a.to_string()).unwrap_or_default())
}

/// Prints a text, or it as one JSON object.
fn show(json: bool, topic: Option<&str>, title: &str, text: &str) -> ExitStatus {
    if json {
        println!("{}", serde_json::to_string(&HelpJson { topic, title, text }).expect("help serialises"));
    } else {
        print!("{text}");
    }
    ExitStatus::Ok
}

/// The list of topics printed after the overview.
pub fn topics_list() -> String {
    let width = TOPICS.iter().map(|t| t.name.len()).max().unwrap_or(0);
    let mut out = String::from("\nTopics (wb help <topic>):\n");
    for t in TOPICS {
        out.push_str(&format!("  {:width$}  {}\n", t.name, t.summary));
    }
    out
}

/// The error for a name that is neither a command nor a topic, listing both.
pub fn unknown(asked: &str) -> String {
    let commands: Vec<String> =
        Cli::command().get_subcommands().filter(|c| !c.is_hide_set()).map(|c| c.get_name().to_string()).collect();
    let topics: Vec<&str> = TOPICS.iter().map(|t| t.name).collect();
    format!(
        "no command or help topic '{asked}': use a command ({}) or a topic ({}), e.g. wb help run",
        commands.join(", "),
        topics.join(", ")
    )
}

fn ensure_newline(mut text: String) -> String {
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn every_topic_text_starts_with_its_title() {
        for t in TOPICS {
            assert!(t.text.starts_with(&format!("# {}\n\n", t.title)), "{}: {:?}", t.name, &t.text[..40]);
        }
    }

    #[test]
    fn no_topic_name_or_alias_shadows_a_command() {
        let root = Cli::command();
        for t in TOPICS {
            for name in std::iter::once(&t.name).chain(t.aliases) {
                assert!(root.find_subcommand(name).is_none(), "topic {} named {name} is also a command", t.name);
            }
        }
    }

    #[test]
    fn every_command_a_topic_shows_parses() {
        // The indented example lines: `    wb <command line>   what it does`.
        for t in TOPICS {
            for line in t.text.lines().filter_map(|l| l.strip_prefix("    wb ")) {
                let command = line.split("  ").next().unwrap_or_default();
                let argv = std::iter::once("wb").chain(command.split_whitespace());
                if let Err(e) = Cli::try_parse_from(argv) {
                    panic!("topic {}: `wb {command}` does not parse: {e}", t.name);
                }
            }
        }
    }

    #[test]
    fn topics_resolve_by_name_and_alias() {
        assert_eq!(topic("cache").map(|t| t.name), Some("cache-keys"));
        assert_eq!(topic("rules").map(|t| t.name), Some("affected-rules"));
        assert_eq!(topic("affected"), None);
    }
}
