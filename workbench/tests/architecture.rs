//! The layering of `workbench/src`, checked from the source text (see `docs/architecture.md`):
//! - the files' imports form a DAG (`mod` declarations aside): no two files depend on each other, directly or
//!   through others;
//! - `services` never imports `cli`, `commands`, `present` or `tui`; a command never imports another command;
//!   `history`, `present`, `cli` and the leaf modules stay below what uses them;
//! - only `history/` holds SQL;
//! - `MarketId` lives with the markets (the registry crate), not in the workbench.
//!
//! An import is any `crate::…`, `super::…` or `self::…` path in the code (comments and string literals are blanked
//! first), resolved to the longest prefix that is a module file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path relative to the crate root, `""` for `lib.rs`, e.g. `services::diff`.
type Module = String;

/// Every `.rs` file under `src` by module path, with its code (comments and strings blanked).
fn modules(src: &Path) -> BTreeMap<Module, String> {
    let mut files = Vec::new();
    collect(src, &mut files);
    files
        .into_iter()
        .filter_map(|path| {
            let relative = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> =
                relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
                parts.pop();
            }
            if parts == ["main"] {
                return None; // the binary's two lines call `workbench::main`
            }
            let text = std::fs::read_to_string(&path).unwrap();
            Some((parts.join("::"), without_test_modules(&code_only(&text))))
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `text` with comments, string and char literals replaced by spaces (line structure kept).
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(if chars[i] == '\n' { '\n' } else { ' ' });
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_char(chars.get(i.wrapping_sub(1))) {
            // A raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            'raw: while j < chars.len() {
                if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break 'raw;
                }
                if chars[j] == '\n' {
                    out.push('\n');
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                } else if chars[i] == '\n' {
                    out.push('\n');
                }
                i += 1;
            }
            out.push_str("\"\"");
            i += 1;
        } else if c == '\'' && next.is_some() && chars.get(i + 2) == Some(&'\'') {
            out.push_str("' '");
            i += 3;
        } else if c == '\'' && next == Some('\\') {
            let mut j = i + 2;
            while j < chars.len() && chars[j] != '\'' {
                j += 1;
            }
            out.push_str("' '");
            i = j + 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// `code` without its `#[cfg(test)] mod … { … }` blocks: unit tests sit inside their module (where `super` means
/// the module itself) and may use anything.
fn without_test_modules(code: &str) -> String {
    let mut out = code.to_string();
    while let Some(start) = out.find("#[cfg(test)]") {
        let after = &out[start..];
        let Some(open) = after.find('{') else { break };
        let header = &after["#[cfg(test)]".len()..open];
        if !header.trim_start().starts_with("mod ") && !header.contains("\nmod ") {
            // Not a module: blank the attribute only.
            out.replace_range(start..start + "#[cfg(test)]".len(), "");
            continue;
        }
        let mut depth = 0;
        let mut end = out.len();
        for (i, c) in out[start + open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = start + open + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        let lines = out[start..end].matches('\n').count();
        out.replace_range(start..end, &"\n".repeat(lines));
    }
    out
}

fn ident_char(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || *c == '_')
}

/// The modules `module` imports (other than itself and its own `mod` children's declarations).
fn imports(module: &str, code: &str, all: &BTreeSet<Module>, is_dir_module: bool) -> BTreeSet<Module> {
    let mut found = BTreeSet::new();
    let parent = |m: &str| -> String { m.rsplit_once("::").map(|(p, _)| p.to_string()).unwrap_or_default() };
    // `self` of a file `a/b.rs` is `a::b`; `super` is `a`. For `a/mod.rs`, `self` is `a` too.
    let tokens = path_tokens(code);
    for path in tokens {
        let mut segments: Vec<&str> = path.iter().map(String::as_str).collect();
        let base = match segments.first().copied() {
            Some("crate") => String::new(),
            Some("self") => module.to_string(),
            Some("super") => {
                let mut base = module.to_string();
                while segments.first() == Some(&"super") {
                    base = parent(&base);
                    segments.remove(0);
                }
                segments.insert(0, "super");
                base
            }
            _ => continue,
        };
        let _ = is_dir_module;
        let rest: Vec<&str> = segments[1..].to_vec();
        // Longest prefix of `base::rest` that is a module file.
        let mut best = None;
        for n in (0..=rest.len()).rev() {
            let candidate = join(&base, &rest[..n]);
            if all.contains(&candidate) {
                best = Some(candidate);
                break;
            }
        }
        if let Some(target) = best
            && target != module
        {
            found.insert(target);
        }
    }
    found
}

fn join(base: &str, rest: &[&str]) -> String {
    let mut parts: Vec<&str> = if base.is_empty() { Vec::new() } else { base.split("::").collect() };
    parts.extend(rest.iter().filter(|s| !s.is_empty()));
    parts.join("::")
}

/// Every path starting with `crate`, `self` or `super` in `code`; a `{…}` group expands into one path per item
/// (`crate::a::{b, c::d}` gives `crate::a::b` and `crate::a::c::d`).
fn path_tokens(code: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts_word = !ident_char(if i == 0 { None } else { chars.get(i - 1) });
        if starts_word && chars[i].is_alphabetic() {
            let (word, end) = ident_at(&chars, i);
            if ["crate", "self", "super"].contains(&word.as_str()) && chars.get(end) == Some(&':') {
                let mut prefix = vec![word];
                let mut j = end;
                expand(&chars, &mut j, &mut prefix, &mut out);
                i = j.max(end);
                continue;
            }
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

fn ident_at(chars: &[char], start: usize) -> (String, usize) {
    let mut end = start;
    while end < chars.len() && (chars[end].is_alphanumeric() || chars[end] == '_') {
        end += 1;
    }
    (chars[start..end].iter().collect(), end)
}

fn skip_ws(chars: &[char], j: &mut usize) {
    while *j < chars.len() && chars[*j].is_whitespace() {
        *j += 1;
    }
}

/// Reads `::seg::seg…` (and groups) after `prefix`, pushing every complete path.
fn expand(chars: &[char], j: &mut usize, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    loop {
        skip_ws(chars, j);
        if chars.get(*j) == Some(&':') && chars.get(*j + 1) == Some(&':') {
            *j += 2;
            skip_ws(chars, j);
            if chars.get(*j) == Some(&'{') {
                *j += 1;
                loop {
                    skip_ws(chars, j);
                    match chars.get(*j) {
                        Some('}') => {
                            *j += 1;
                            return;
                        }
                        Some(',') => *j += 1,
                        Some(c) if c.is_alphabetic() || *c == '_' => {
                            let (word, end) = ident_at(chars, *j);
                            *j = end;
                            let mut inner = prefix.clone();
                            inner.push(word);
                            expand(chars, j, &mut inner, out);
                        }
                        Some(_) => *j += 1,
                        None => return,
                    }
                }
            } else if chars.get(*j).is_some_and(|c| c.is_alphabetic() || *c == '_') {
                let (word, end) = ident_at(chars, *j);
                *j = end;
                prefix.push(word);
                continue;
            }
        }
        out.push(prefix.clone());
        return;
    }
}

/// The top-level part of a module path: `services::diff` → `services`.
fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or("")
}

/// The layering rules: which top-level parts a part may import (itself always allowed, except `commands`).
fn allowed(from: &str) -> &'static [&'static str] {
    const LEAVES: [&str; 4] = ["workspace", "sys", "git", "exit"];
    match from {
        "workspace" | "sys" | "git" | "exit" => &LEAVES,
        "history" => &["history", "workspace", "sys", "git", "exit"],
        "services" => &["services", "history", "workspace", "sys", "git", "exit"],
        "present" => &["present", "services", "history", "workspace", "sys", "git", "exit"],
        "cli" => &["cli", "services", "workspace", "sys", "git", "exit"],
        "commands" => &["commands", "cli", "present", "services", "history", "workspace", "sys", "git", "exit"],
        "tui" => &["tui", "cli", "present", "services", "history", "workspace", "sys", "git", "exit"],
        // lib.rs: dispatch only.
        "" => &["cli", "commands", "tui", "exit", "services", "workspace", "sys", "git", "history", "present"],
        _ => &[],
    }
}

/// Every violation of the rules in the tree under `src`, as readable lines.
fn violations(src: &Path) -> Vec<String> {
    let modules = modules(src);
    let names: BTreeSet<Module> = modules.keys().cloned().collect();
    let mut graph: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (module, code) in &modules {
        let edges = imports(module, code, &names, false);
        for target in &edges {
            let (from, to) = (top(module), top(target));
            if target.is_empty() {
                problems.push(format!("{module} imports lib.rs (the crate root is dispatch only)"));
            } else if !allowed(from).contains(&to) {
                problems.push(format!("{module} imports {target}: {from} may not import {to}"));
            } else if from == "commands" && to == "commands" {
                let command = |m: &str| m.split("::").nth(1).map(str::to_string);
                if command(module) != command(target) && !module.is_empty() && module != "commands" {
                    problems.push(format!("{module} imports {target}: a command may not import another command"));
                }
            }
        }
        graph.insert(module.clone(), edges);
        if !module.starts_with("history") {
            for (line, text) in code.lines().enumerate() {
                if text.contains("rusqlite") {
                    problems.push(format!("{module} line {}: uses rusqlite; only history/ holds SQL", line + 1));
                }
            }
            let raw = std::fs::read_to_string(file_of(src, module)).unwrap();
            for (line, text) in raw.lines().enumerate() {
                let upper = text.to_uppercase();
                let sql = ["\"SELECT ", "\"INSERT ", "\"UPDATE ", "\"DELETE FROM", "\"CREATE TABLE", " FROM RUNS"]
                    .iter()
                    .any(|k| upper.contains(k));
                if sql && !text.trim_start().starts_with("//") {
                    problems.push(format!("{module} line {}: SQL outside history/: {}", line + 1, text.trim()));
                }
            }
        }
        if code.contains("struct MarketId") {
            problems.push(format!("{module} defines MarketId; it lives with the markets (markets::MarketId)"));
        }
    }
    // Every cycle, one at a time: report it, cut its last edge, look again.
    while let Some(cycle) = find_cycle(&graph) {
        problems.push(format!("import cycle: {}", cycle.join(" -> ")));
        let name = |m: &String| if m == "lib" { String::new() } else { m.clone() };
        let (from, to) = (name(&cycle[cycle.len() - 2]), name(&cycle[cycle.len() - 1]));
        graph.get_mut(&from).expect("a module of the cycle").remove(&to);
    }
    problems
}

fn file_of(src: &Path, module: &str) -> PathBuf {
    if module.is_empty() {
        return src.join("lib.rs");
    }
    let as_file = src.join(module.replace("::", "/")).with_extension("rs");
    if as_file.is_file() { as_file } else { src.join(module.replace("::", "/")).join("mod.rs") }
}

/// A cycle in `graph` (first found, in module order), as the modules along it back to the first.
fn find_cycle(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<Module>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        node: &Module,
        graph: &BTreeMap<Module, BTreeSet<Module>>,
        marks: &mut BTreeMap<Module, Mark>,
        stack: &mut Vec<Module>,
    ) -> Option<Vec<Module>> {
        marks.insert(node.clone(), Mark::Open);
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            match marks.get(next).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let start = stack.iter().position(|m| m == next).unwrap();
                    let mut cycle: Vec<Module> = stack[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle.into_iter().map(|m| if m.is_empty() { "lib".into() } else { m }).collect());
                }
                Mark::New => {
                    if let Some(cycle) = visit(next, graph, marks, stack) {
                        return Some(cycle);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(node.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if marks.get(node).copied().unwrap_or(Mark::New) == Mark::New {
            let mut stack = Vec::new();
            if let Some(cycle) = visit(node, graph, &mut marks, &mut stack) {
                return Some(cycle);
            }
        }
    }
    None
}

#[test]
fn workbench_src_imports_form_a_layered_dag() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let problems = violations(&src);
    assert!(problems.is_empty(), "{} layering problems:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn market_id_lives_with_the_markets() {
    let registry = Path::new(env!("CARGO_MANIFEST_DIR")).join("../markets/registry/src/lib.rs");
    let text = std::fs::read_to_string(&registry).unwrap();
    assert!(text.contains("pub struct MarketId"), "{} must define MarketId", registry.display());
    let runner = Path::new(env!("CARGO_MANIFEST_DIR")).join("runner/src");
    let mut files = Vec::new();
    collect(&runner, &mut files);
    for file in files {
        assert!(!std::fs::read_to_string(&file).unwrap().contains("struct MarketId"), "{}", file.display());
    }
}

/// The checker itself: a small tree with each kind of problem is reported, line by line.
#[test]
fn the_checker_reports_cycles_layer_breaks_command_imports_and_sql() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    let write = |path: &str, text: &str| {
        let path = src.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("lib.rs", "pub mod commands;\npub mod services;\npub mod tui;\n");
    write("commands/mod.rs", "pub mod a;\npub mod b;\n");
    write("commands/a.rs", "use crate::commands::b::helper;\n// use crate::tui::x; (a comment)\n");
    write("commands/b.rs", "pub fn helper() {}\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n");
    write("services/mod.rs", "pub mod one;\npub mod two;\n");
    write("services/one.rs", "use super::two::X;\nconst Q: &str = \"SELECT * FROM runs\";\n");
    write("services/two.rs", "use crate::services::{one::Y, self};\nuse crate::tui::app;\n");
    write("tui/mod.rs", "pub mod app;\n");
    write("tui/app.rs", "fn f() { let s = \"crate::commands::a\"; }\n");
    let problems = violations(src);
    assert_eq!(
        problems,
        [
            "commands::a imports commands::b: a command may not import another command",
            "services::one line 2: SQL outside history/: const Q: &str = \"SELECT * FROM runs\";",
            "services::two imports tui::app: services may not import tui",
            "import cycle: services::one -> services::two -> services::one",
        ]
    );
}
