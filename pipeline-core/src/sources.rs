//! The code a stage can reach, as its cache key sees it.
//!
//! A cache key is sound only if it covers every source whose change could change the stage's output. Hand-kept
//! lists missed files (a base hook an override delegates to, a helper moved into a new module, `lib.rs`,
//! `Cargo.lock`), so the set is derived from the code itself:
//!
//! - **pipeline-core, whole.** Its stage dispatch (`Stage::spec`) names every stage module, so the import closure
//!   of any stage is the whole crate; finer is not provably sound. Every file of the crate is embedded at build
//!   time (`build.rs`, [`workspace_sources::embed`]), so a new module is covered without anyone listing it.
//! - **`Cargo.lock`**: a dependency's version (polars) can change outputs.
//! - **The market crate, per hook.** Every file of the crate is embedded the same way ([`Market::sources`]). A
//!   stage reaches the market only through the hooks its spec declares (the engine refuses a call to any other,
//!   see `engine::DeclaredHooks`). Its market files are the module import closure of the crate's `lib.rs` with
//!   the methods of the hooks the stage does not call left out, plus every file that is not a Rust module of
//!   `src/` (manifests, `market.toml`, `model.toml`, data). A module is reached when its name appears as an
//!   identifier in reached code (comments, string literals and `mod` declarations do not count), which also
//!   catches `use crate::{a, b}` and `super::a`. So an edit of BR's export rule changes only export's key, while
//!   a helper module used by its `normalize` override is in ingest's key.

use std::collections::{BTreeMap, BTreeSet};

use crate::hooks::{Hook, Market};

/// One file compiled into a crate: its path from the workspace root and its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceFile {
    /// Path from the workspace root, `/`-separated, e.g. `markets/br/src/normalize.rs`.
    pub path: &'static str,
    /// The file's bytes as compiled.
    pub bytes: &'static [u8],
}

/// Every file of pipeline-core, as compiled (embedded by `build.rs`).
pub const CORE: &[SourceFile] = include!(concat!(env!("OUT_DIR"), "/sources.rs"));

/// The workspace's `Cargo.lock`, as compiled.
pub const CARGO_LOCK: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"));

/// A set of source files: (path from the workspace root, bytes). Borrowed, so tests can derive keys from a mutated
/// copy of the compiled-in set.
pub type FileSet<'a> = Vec<(&'a str, &'a [u8])>;

/// All the code a market's stages can reach: pipeline-core, the market crate and the lock file.
#[derive(Debug, Clone)]
pub struct CodeSet<'a> {
    /// Every file of pipeline-core.
    pub core: FileSet<'a>,
    /// Every file of the market's crate.
    pub market: FileSet<'a>,
    /// `Cargo.lock`.
    pub lock: &'a [u8],
}

impl CodeSet<'static> {
    /// The code compiled into this binary for `market`.
    pub fn compiled(market: &dyn Market) -> Self {
        let set = |files: &'static [SourceFile]| files.iter().map(|f| (f.path, f.bytes)).collect();
        CodeSet { core: set(CORE), market: set(market.sources()), lock: CARGO_LOCK }
    }
}

impl<'a> CodeSet<'a> {
    /// The files a stage calling `hooks` can reach: every core file, and the market files of [`market_reach`].
    pub fn reachable(&self, hooks: &[Hook]) -> FileSet<'a> {
        let market: BTreeSet<&str> = market_reach(&self.market, hooks);
        let mut files: FileSet<'a> = self.core.clone();
        files.extend(self.market.iter().filter(|(path, _)| market.contains(path)).copied());
        files
    }
}

/// The files of a market crate (`files`, as embedded) that a stage calling `hooks` can reach; see the module docs.
/// Without a `src/lib.rs` every file is reached.
pub fn market_reach<'a>(files: &[(&'a str, &[u8])], hooks: &[Hook]) -> BTreeSet<&'a str> {
    let Some(lib) = files.iter().map(|(p, _)| *p).filter(|p| p.ends_with("src/lib.rs")).min_by_key(|p| p.len()) else {
        return files.iter().map(|(p, _)| *p).collect();
    };
    let src = &lib[..lib.len() - "lib.rs".len()];
    // Rust modules of src/: module name → its files (`a.rs`, `a/mod.rs`, `a/b.rs` all belong to `a`).
    let mut modules: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut reached: BTreeSet<&'a str> = BTreeSet::new();
    for (i, (path, _)) in files.iter().enumerate() {
        let module = path
            .strip_prefix(src)
            .filter(|_| path.ends_with(".rs") && *path != lib)
            .map(|rest| rest.split('/').next().unwrap_or(rest).trim_end_matches(".rs").to_string());
        match module {
            Some(name) => modules.entry(name).or_default().push(i),
            None => {
                reached.insert(path);
            }
        }
    }
    let text = |i: usize| String::from_utf8_lossy(files[i].1).into_owned();
    let lib_index = files.iter().position(|(p, _)| *p == lib).expect("lib is one of the files");
    let skipped: Vec<&str> = Hook::ALL.iter().filter(|h| !hooks.contains(h)).map(|h| h.name()).collect();
    let lib_code = without_listed_overrides(&without_fns(&code_only(&text(lib_index)), &skipped), &skipped);
    let mut todo: Vec<String> = vec![lib_code];
    let mut visited: BTreeSet<&str> = BTreeSet::new();
    while let Some(code) = todo.pop() {
        let idents = identifiers(&code);
        for (name, indices) in &modules {
            if idents.contains(name.as_str()) && visited.insert(name) {
                for &i in indices {
                    reached.insert(files[i].0);
                    todo.push(code_only(&text(i)));
                }
            }
        }
    }
    reached
}

/// Rust source with comments, string and char literals blanked and `mod name;` declarations removed, so only code
/// that names something is left. Line structure is kept.
pub fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0usize;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == '"' || (c == 'r' && matches!(next, Some('"') | Some('#')) && raw_string_start(&chars, i)) {
            i = skip_string(&chars, i, &mut out);
        } else if c == '\'' && char_literal_len(&chars, i).is_some() {
            let len = char_literal_len(&chars, i).expect("checked");
            out.extend(std::iter::repeat_n(' ', len));
            i += len;
        } else {
            out.push(c);
            i += 1;
        }
    }
    remove_mod_declarations(&out)
}

/// Whether `r` at `i` starts a raw string (`r"`, `r#"`, `r##"` …) rather than an identifier ending in `r`.
fn raw_string_start(chars: &[char], i: usize) -> bool {
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return false;
    }
    let mut j = i + 1;
    while chars.get(j) == Some(&'#') {
        j += 1;
    }
    chars.get(j) == Some(&'"')
}

/// Blanks a string literal (plain or raw) starting at `i` into `out`; returns the index after it.
fn skip_string(chars: &[char], mut i: usize, out: &mut String) -> usize {
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    if chars[i] == 'r' {
        let mut hashes = 0;
        out.push(' ');
        i += 1;
        while chars.get(i) == Some(&'#') {
            hashes += 1;
            out.push(' ');
            i += 1;
        }
        out.push(' ');
        i += 1; // the opening quote
        while i < chars.len() {
            if chars[i] == '"' && (1..=hashes).all(|k| chars.get(i + k) == Some(&'#')) {
                out.extend(std::iter::repeat_n(' ', hashes + 1));
                return i + hashes + 1;
            }
            out.push(blank(chars[i]));
            i += 1;
        }
        return i;
    }
    out.push(' ');
    i += 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                out.push(' ');
                if let Some(&c) = chars.get(i + 1) {
                    out.push(blank(c));
                }
                i += 2;
            }
            '"' => {
                out.push(' ');
                return i + 1;
            }
            c => {
                out.push(blank(c));
                i += 1;
            }
        }
    }
    i
}

/// The length of a char literal at `i` (`'a'`, `'\n'`, `'\u{1F600}'`), or `None` for a lifetime (`'a`).
fn char_literal_len(chars: &[char], i: usize) -> Option<usize> {
    match chars.get(i + 1)? {
        '\\' => (i + 2..chars.len().min(i + 12)).find(|&j| chars[j] == '\'').map(|j| j - i + 1),
        _ => (chars.get(i + 2) == Some(&'\'')).then_some(3),
    }
}

/// Removes `mod name;` declarations (with any `pub`/`pub(crate)` before): declaring a module does not call it.
fn remove_mod_declarations(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    for line in code.split_inclusive('\n') {
        let trimmed = line.trim();
        let rest = trimmed.strip_prefix("pub(crate) ").or_else(|| trimmed.strip_prefix("pub ")).unwrap_or(trimmed);
        let is_declaration = rest.strip_prefix("mod ").is_some_and(|m| {
            let m = m.trim_end();
            m.ends_with(';') && m[..m.len() - 1].trim().chars().all(|c| c.is_alphanumeric() || c == '_')
        });
        if is_declaration {
            out.push_str(if line.ends_with('\n') { "\n" } else { "" });
        } else {
            out.push_str(line);
        }
    }
    out
}

/// `code` (already [`code_only`]) with `names` blanked inside the `overrides: [...]` list of a
/// [`market!`](crate::market) invocation: the macro makes each listed hook's module reachable only through that
/// hook's method, so a stage that does not call the hook does not reach its module by the list.
pub fn without_listed_overrides(code: &str, names: &[&str]) -> String {
    let mut code = code.to_string();
    let mut from = 0;
    while let Some(at) = code[from..].find("overrides").map(|o| from + o) {
        from = at + "overrides".len();
        let whole = at == 0 || !is_ident_byte(code.as_bytes()[at - 1]);
        let rest = code[from..].trim_start();
        let Some(list) = rest.strip_prefix(':').map(str::trim_start).filter(|r| r.starts_with('[')) else { continue };
        if !whole {
            continue;
        }
        let open = code.len() - list.len();
        let Some(close) = code[open..].find(']').map(|o| open + o) else { break };
        let kept: String = code[open + 1..close]
            .split(',')
            .map(|entry| if names.contains(&entry.trim()) { " ".repeat(entry.len()) } else { entry.to_string() })
            .collect::<Vec<_>>()
            .join(",");
        code.replace_range(open + 1..close, &kept);
        from = close;
    }
    code
}

/// `code` (already [`code_only`]) with every `fn <name>` item of `names` removed, signature and body: the methods of
/// hooks a stage does not call.
pub fn without_fns(code: &str, names: &[&str]) -> String {
    let mut code = code.to_string();
    for name in names {
        while let Some(start) = find_fn(&code, name) {
            let Some(open) = code[start..].find(['{', ';']).map(|o| start + o) else { break };
            let end = if code.as_bytes()[open] == b';' { open + 1 } else { matching_brace(&code, open) };
            let blanked: String = code[start..end].chars().map(|c| if c == '\n' { '\n' } else { ' ' }).collect();
            code.replace_range(start..end, &blanked);
        }
    }
    code
}

/// Byte index of `fn <name>` followed by `(` or `<` (a whole identifier), if any.
fn find_fn(code: &str, name: &str) -> Option<usize> {
    let bytes = code.as_bytes();
    let mut from = 0;
    while let Some(at) = code[from..].find("fn ").map(|o| from + o) {
        let before_ok = at == 0 || !is_ident_byte(bytes[at - 1]);
        let rest = code[at + 3..].trim_start();
        let name_at = code.len() - rest.len();
        if before_ok && rest.starts_with(name) {
            let after = code[name_at + name.len()..].trim_start();
            if after.starts_with('(') || after.starts_with('<') {
                return Some(at);
            }
        }
        from = at + 3;
    }
    None
}

/// Index just after the `}` closing the `{` at `open` (or the end of the text when unbalanced).
fn matching_brace(code: &str, open: usize) -> usize {
    let mut depth = 0usize;
    for (i, b) in code.bytes().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    code.len()
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Every identifier in `code`.
fn identifiers(code: &str) -> BTreeSet<&str> {
    code.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|s| !s.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reach(files: &[(&'static str, &'static str)], hooks: &[Hook]) -> Vec<&'static str> {
        let files: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
        market_reach(&files, hooks).into_iter().collect()
    }

    const LIB: &str = "//! uses normalize:: in a comment\nmod export_format;\nmod normalize;\nmod util;\n\
                       const S: &str = include_str!(\"normalize.rs\");\n\
                       impl Market for M {\n    fn def(&self) -> &MarketDef { &self.def }\n\
                       fn normalize(&self, raw: RawTable) -> Result<ParsedTable> { normalize::normalize(raw) }\n\
                       fn export_format(&self) -> ExportFormat { export_format::export_format() }\n}\n";

    const FILES: &[(&str, &str)] = &[
        ("markets/x/Cargo.toml", "[package]"),
        ("markets/x/market.toml", "id = 'x'"),
        ("markets/x/src/lib.rs", LIB),
        ("markets/x/src/normalize.rs", "use crate::{util};\npub fn normalize() { util::trim() }"),
        ("markets/x/src/export_format.rs", "pub fn export_format() -> ExportFormat { let s = \"util\"; }"),
        ("markets/x/src/util.rs", "pub fn trim() {}"),
    ];

    #[test]
    fn a_stage_reaches_the_modules_of_the_hooks_it_calls_and_their_helpers() {
        let always = ["markets/x/Cargo.toml", "markets/x/market.toml", "markets/x/src/lib.rs"];
        let mut ingest = always.to_vec();
        ingest.extend(["markets/x/src/normalize.rs", "markets/x/src/util.rs"]);
        ingest.sort();
        assert_eq!(reach(FILES, &[Hook::Normalize]), ingest);
        let mut export = always.to_vec();
        export.push("markets/x/src/export_format.rs");
        export.sort();
        assert_eq!(reach(FILES, &[Hook::ExportFormat]), export, "a string naming util is not a reference");
        assert_eq!(reach(FILES, &[]), always, "a stage calling no hook reaches only lib.rs and the data files");
    }

    /// The same crate declared with `pipeline_core::market!`: the overrides list is the only mention of the hooks.
    const MACRO_LIB: &str = "//! uses normalize:: in a comment\npipeline_core::market! {\n    /// X.\n    pub struct X;\n    \
                             overrides: [normalize, export_format];\n}\n";

    #[test]
    fn a_market_macro_crate_reaches_a_hooks_module_only_from_the_stages_calling_it() {
        let files: Vec<(&str, &str)> =
            FILES.iter().map(|&(p, t)| if p.ends_with("lib.rs") { (p, MACRO_LIB) } else { (p, t) }).collect();
        let always = ["markets/x/Cargo.toml", "markets/x/market.toml", "markets/x/src/lib.rs"];
        assert_eq!(
            reach(&files, &[Hook::Normalize]),
            [always.as_slice(), &["markets/x/src/normalize.rs", "markets/x/src/util.rs"]].concat()
        );
        assert_eq!(
            reach(&files, &[Hook::ExportFormat]),
            ["markets/x/Cargo.toml", "markets/x/market.toml", "markets/x/src/export_format.rs", "markets/x/src/lib.rs"]
        );
        assert_eq!(reach(&files, &[Hook::Schedule]), always);
        assert_eq!(
            without_listed_overrides("m! { overrides: [normalize, schedule]; } my_overrides: [a]", &["normalize", "a"]),
            "m! { overrides: [         , schedule]; } my_overrides: [a]"
        );
    }

    #[test]
    fn a_module_named_outside_a_hook_method_is_reached_by_every_stage() {
        let lib = LIB.replace("const S", "fn shared() { util::trim() }\nconst S");
        let lib: &'static str = Box::leak(lib.into_boxed_str());
        let files: Vec<(&str, &str)> =
            FILES.iter().map(|&(p, t)| if p.ends_with("lib.rs") { (p, lib) } else { (p, t) }).collect();
        assert!(reach(&files, &[]).contains(&"markets/x/src/util.rs"));
    }

    #[test]
    fn code_only_blanks_comments_strings_chars_and_mod_declarations() {
        let code =
            code_only("mod a;\npub mod b;\n// c::x\nlet s = \"d::x\"; let r = r#\"e::\"#; let c = '{'; f::g('a);");
        assert_eq!(identifiers(&code).into_iter().collect::<Vec<_>>(), ["a", "c", "f", "g", "let", "r", "s"]);
    }

    #[test]
    fn without_fns_drops_the_whole_method_including_nested_braces() {
        let code = "fn keep() { a() }\nfn drop_me(&self) -> X { if y { b() } else { c() } }\nfn after() { d() }";
        let left = without_fns(code, &["drop_me"]);
        let ids = identifiers(&left);
        assert!(ids.contains("a") && ids.contains("d") && ids.contains("after"));
        assert!(!ids.contains("b") && !ids.contains("c") && !ids.contains("drop_me"));
    }

    #[test]
    fn the_compiled_core_holds_every_module_and_the_lock_file_is_embedded() {
        let paths: Vec<&str> = CORE.iter().map(|f| f.path).collect();
        for expected in ["pipeline-core/src/sources.rs", "pipeline-core/src/hooks.rs", "pipeline-core/Cargo.toml"] {
            assert!(paths.contains(&expected), "{expected} missing from {paths:?}");
        }
        assert!(!paths.iter().any(|p| p.starts_with("pipeline-core/tests/")), "tests never run inside a stage");
        assert!(CARGO_LOCK.starts_with(b"# This file is automatically @generated by Cargo."));
    }
}
