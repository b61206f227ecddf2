//! The library's modules form layers: each top-level module may use only modules below it,
//! so there is no import circle and no upward import.
//!
//! The check reads `src/**/*.rs`, cuts comments (doc-tests included), string and character
//! literals out, and collects every reference one top-level module makes to another:
//! `use crate::x…`, `crate::x::…` in paths, `use crate::{x, y::…}` groups and `super::`
//! chains that climb out of the module. `lib.rs` is the crate root above every layer (it
//! declares and re-exports the modules) and is not scanned. Test modules (`tests.rs` files and
//! inline `mod tests`) are scanned like the rest: they may use lower layers only, too.
//!
//! A scanner of Rust's lexical surface is enough here: the references are syntactic paths,
//! and `syn` would parse them but not resolve them either, while costing a dependency.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The layers, bottom first: a module may use the modules listed before it and no other.
const LAYERS: &[&str] = &[
    "text",
    "limits",
    "atomic_file",
    "interrupt",
    "serialization",
    "manifest",
    "error",
    "model",
    "hashing",
    "stat_cache",
    "keys",
    "x509",
    "dsse",
    "intoto",
    "statement",
    "bundle",
    "known_digests",
    "signing",
    "verifying",
    "reuse",
    "spec",
    "attestation",
    "oci",
    "card",
    "provenance",
    "trust",
    "lineage",
];

/// One reference from a file of one top-level module to another top-level module.
#[derive(Debug, Clone)]
struct Import {
    from: String,
    to: String,
    file: PathBuf,
    line: usize,
    /// The path as written, e.g. `crate::hashing::HashAlgorithm`.
    text: String,
}

impl std::fmt::Display for Import {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: `{}` ({} -> {})",
            self.file.display(),
            self.line,
            self.text,
            self.from,
            self.to
        )
    }
}

#[test]
fn modules_import_only_lower_layers_and_form_no_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let root = read_root(&src.join("lib.rs"));
    let declared = &root.modules;
    let imports = scan_crate(&src, &root);
    let mut problems = String::new();

    for module in declared {
        if !LAYERS.contains(&module.as_str()) {
            writeln!(
                problems,
                "module `{module}` is not in LAYERS: add it where it belongs"
            )
            .unwrap();
        }
    }
    for layer in LAYERS {
        if !declared.iter().any(|m| m == layer) {
            writeln!(
                problems,
                "LAYERS lists `{layer}`, which lib.rs does not declare"
            )
            .unwrap();
        }
    }
    let rank = |module: &str| LAYERS.iter().position(|l| *l == module);
    for import in &imports {
        if let (Some(from), Some(to)) = (rank(&import.from), rank(&import.to)) {
            if to >= from {
                writeln!(problems, "upward import: {import}").unwrap();
            }
        }
    }
    for cycle in cycles(&imports) {
        let path: Vec<String> = cycle.iter().map(ToString::to_string).collect();
        writeln!(problems, "import circle:\n    {}", path.join("\n    ")).unwrap();
    }
    assert!(
        problems.is_empty(),
        "the library's modules are not layered (order, bottom first: {}):\n{problems}",
        LAYERS.join(", ")
    );
}

/// What the crate root declares.
struct Root {
    /// The top-level modules (`mod x;` / `pub mod x;`).
    modules: Vec<String>,
    /// Each name the root re-exports (`pub use x::{A, b::C}`), with the module it comes
    /// from: `crate::A` elsewhere is a use of that module.
    reexports: BTreeMap<String, String>,
}

fn read_root(lib: &Path) -> Root {
    let code = strip(&std::fs::read_to_string(lib).expect("lib.rs is readable"));
    let tokens = tokenize(&code);
    let mut root = Root {
        modules: Vec::new(),
        reexports: BTreeMap::new(),
    };
    for (i, token) in tokens.iter().enumerate() {
        let next = |k: usize| tokens.get(i + k).map_or("", |t| t.text.as_str());
        if token.text == "mod" && next(2) == ";" {
            root.modules.push(next(1).to_owned());
        }
        if token.text == "use" {
            let module = next(1).to_owned();
            let names = tokens[i + 2..].iter().take_while(|t| t.text != ";");
            for name in names {
                if name
                    .text
                    .starts_with(|c: char| c.is_alphabetic() || c == '_')
                {
                    root.reexports.insert(name.text.clone(), module.clone());
                }
            }
        }
    }
    root
}

/// Every cross-module reference in the crate's files except `lib.rs`.
fn scan_crate(src: &Path, root: &Root) -> Vec<Import> {
    let mut files = Vec::new();
    collect_rs_files(src, &mut files);
    files.sort();
    let mut imports = Vec::new();
    for file in files {
        let relative = file.strip_prefix(src).expect("under src").to_path_buf();
        let Some(module_path) = module_path_of(&relative) else {
            continue; // lib.rs: the root
        };
        let text = std::fs::read_to_string(&file).expect("source file is readable");
        let shown = Path::new("crates/modelsign/src").join(&relative);
        for mut import in references(&strip(&text), &module_path, &shown) {
            if let Some(module) = root.reexports.get(&import.to) {
                if !root.modules.contains(&import.to) {
                    import.to.clone_from(module);
                }
            }
            if import.from != import.to && root.modules.contains(&import.to) {
                imports.push(import);
            }
        }
    }
    imports
}

fn collect_rs_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect_rs_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The module path a file defines: `hashing/engine.rs` → [hashing, engine],
/// `hashing/mod.rs` → [hashing]; `None` for the crate root.
fn module_path_of(relative: &Path) -> Option<Vec<String>> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop()?;
    let stem = last.strip_suffix(".rs")?;
    if stem != "mod" && !(parts.is_empty() && stem == "lib") {
        parts.push(stem.to_owned());
    }
    (!parts.is_empty()).then_some(parts)
}

/// Source text with comments, strings and character literals blanked out (newlines kept, so
/// line numbers stay right).
fn strip(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
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
        } else if let Some(hashes) = raw_string_start(&chars, i) {
            // r"…", r#"…"#, br#"…"#: ends at a quote followed by as many hashes.
            let open = chars[i..].iter().position(|&c| c == '"').unwrap_or(0) + 1;
            for _ in 0..open {
                out.push(' ');
            }
            i += open;
            while i < chars.len() {
                let closes =
                    chars[i] == '"' && (1..=hashes).all(|k| chars.get(i + k) == Some(&'#'));
                if closes {
                    for _ in 0..=hashes {
                        out.push(' ');
                    }
                    i += hashes + 1;
                    break;
                }
                out.push(blank(chars[i]));
                i += 1;
            }
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                let step = if chars[i] == '\\' { 2 } else { 1 };
                for k in 0..step {
                    if let Some(&c) = chars.get(i + k) {
                        out.push(blank(c));
                    }
                }
                i += step;
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{..}'), or else a lifetime, kept.
            let end = if next == Some('\\') {
                chars[i + 2..]
                    .iter()
                    .position(|&c| c == '\'')
                    .map(|p| i + 2 + p)
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(end) => {
                    for _ in i..=end {
                        out.push(' ');
                    }
                    i = end + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The number of `#`s when a raw string literal starts at `i` (`r"`, `r#"`, `br"`, …).
fn raw_string_start(chars: &[char], i: usize) -> Option<usize> {
    let preceded_by_ident = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    if preceded_by_ident {
        return None;
    }
    let mut j = i;
    if chars.get(j) == Some(&'b') {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = chars[j..].iter().take_while(|&&c| c == '#').count();
    (chars.get(j + hashes) == Some(&'"')).then_some(hashes)
}

#[derive(Debug)]
struct Token {
    text: String,
    line: usize,
}

/// Identifiers, `::` and single punctuation characters, with their line numbers.
fn tokenize(code: &str) -> Vec<Token> {
    let chars: Vec<char> = code.chars().collect();
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token {
                text: chars[start..i].iter().collect(),
                line,
            });
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push(Token {
                text: "::".into(),
                line,
            });
            i += 2;
        } else {
            tokens.push(Token {
                text: c.to_string(),
                line,
            });
            i += 1;
        }
    }
    tokens
}

/// The top-level modules a file's code refers to. `file_module` is the module the file
/// defines; inline `mod name { … }` blocks are tracked so that `super::` resolves right.
fn references(code: &str, file_module: &[String], shown: &Path) -> Vec<Import> {
    let tokens = tokenize(code);
    let from = file_module[0].clone();
    let mut found = Vec::new();
    // Inline modules open at a brace depth: (depth, name).
    let mut inline: Vec<(usize, String)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        match t.text.as_str() {
            "{" => depth += 1,
            "}" => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(d, _)| *d == depth) {
                    inline.pop();
                }
            }
            "mod" => {
                let name = tokens.get(i + 1);
                if let (Some(name), Some(open)) = (name, tokens.get(i + 2)) {
                    if open.text == "{" {
                        inline.push((depth, name.text.clone()));
                    }
                }
            }
            _ => {}
        }
        let preceded_by_path = i > 0 && tokens[i - 1].text == "::";
        let target_start = if t.text == "crate" && !preceded_by_path {
            // `$crate` in macros is the crate root too.
            Some((Vec::new(), i + 1))
        } else if t.text == "super" && !preceded_by_path {
            let mut path: Vec<String> = file_module
                .iter()
                .cloned()
                .chain(inline.iter().map(|(_, n)| n.clone()))
                .collect();
            let mut j = i;
            while tokens.get(j).is_some_and(|t| t.text == "super") {
                path.pop();
                if tokens.get(j + 1).is_some_and(|t| t.text == "::")
                    && tokens.get(j + 2).is_some_and(|t| t.text == "super")
                {
                    j += 2;
                } else {
                    j += 1;
                    break;
                }
            }
            // Only a climb to the crate root leaves the module.
            path.is_empty().then_some((path, j))
        } else {
            None
        };
        if let Some((_, after)) = target_start {
            if tokens.get(after).is_some_and(|t| t.text == "::") {
                for (name, line, text) in first_segments(&tokens, after + 1) {
                    found.push(Import {
                        from: from.clone(),
                        to: name,
                        file: shown.to_path_buf(),
                        line,
                        text,
                    });
                }
            }
        }
        i += 1;
    }
    found
}

/// The first path segments after `crate::` at `start`: one identifier, or each item of a
/// `{ a, b::c, d::{e} }` group. Returns (segment, line, path as written).
fn first_segments(tokens: &[Token], start: usize) -> Vec<(String, usize, String)> {
    let Some(first) = tokens.get(start) else {
        return Vec::new();
    };
    if first.text != "{" {
        let text = format!("crate::{}", path_text(tokens, start));
        return vec![(first.text.clone(), first.line, text)];
    }
    let mut segments = Vec::new();
    let mut depth = 0;
    let mut expect_item = true;
    for (k, token) in tokens.iter().enumerate().skip(start) {
        match token.text.as_str() {
            "{" => depth += 1,
            "}" => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            "," if depth == 1 => expect_item = true,
            _ if depth == 1 && expect_item => {
                expect_item = false;
                let text = format!("crate::{{{}}}", path_text(tokens, k));
                segments.push((token.text.clone(), token.line, text));
            }
            _ => {}
        }
    }
    segments
}

/// `a::b::C` as written from `start` (a group shortened to `{…}`), for messages.
fn path_text(tokens: &[Token], start: usize) -> String {
    let mut text = String::new();
    let mut k = start;
    while let Some(t) = tokens.get(k) {
        let is_ident = t.text.chars().all(|c| c.is_alphanumeric() || c == '_');
        if t.text == "{" {
            text.push_str("{…}");
        }
        if !(is_ident || t.text == "::") {
            break;
        }
        text.push_str(&t.text);
        k += 1;
    }
    text
}

/// The module graph's circles, each as the imports that close it (one import per edge).
fn cycles(imports: &[Import]) -> Vec<Vec<Import>> {
    let mut edges: BTreeMap<&str, BTreeMap<&str, &Import>> = BTreeMap::new();
    for import in imports {
        edges
            .entry(import.from.as_str())
            .or_default()
            .entry(import.to.as_str())
            .or_insert(import);
    }
    // Strongly connected components (Tarjan); each component of more than one module holds
    // a circle, reported as one shortest circle through its first module.
    let nodes: Vec<&str> = edges
        .keys()
        .copied()
        .chain(edges.values().flat_map(|e| e.keys().copied()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut found = Vec::new();
    for component in strongly_connected(&nodes, &edges) {
        if component.len() < 2 {
            continue;
        }
        let start = component[0];
        if let Some(circle) = shortest_circle(start, &component, &edges) {
            found.push(circle);
        }
    }
    found
}

fn strongly_connected<'a>(
    nodes: &[&'a str],
    edges: &BTreeMap<&'a str, BTreeMap<&'a str, &Import>>,
) -> Vec<Vec<&'a str>> {
    struct State<'a> {
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        components: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(
        node: &'a str,
        edges: &BTreeMap<&'a str, BTreeMap<&'a str, &Import>>,
        state: &mut State<'a>,
    ) {
        let n = state.index.len();
        state.index.insert(node, n);
        state.low.insert(node, n);
        state.stack.push(node);
        for &next in edges.get(node).into_iter().flat_map(|e| e.keys()) {
            if !state.index.contains_key(next) {
                visit(next, edges, state);
                let low = state.low[node].min(state.low[next]);
                state.low.insert(node, low);
            } else if state.stack.contains(&next) {
                let low = state.low[node].min(state.index[next]);
                state.low.insert(node, low);
            }
        }
        if state.low[node] == state.index[node] {
            let mut component = Vec::new();
            while let Some(top) = state.stack.pop() {
                component.push(top);
                if top == node {
                    break;
                }
            }
            component.sort_unstable();
            state.components.push(component);
        }
    }
    let mut state = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        components: Vec::new(),
    };
    for &node in nodes {
        if !state.index.contains_key(node) {
            visit(node, edges, &mut state);
        }
    }
    state.components
}

/// A shortest circle from `start` back to itself inside `component` (breadth first).
fn shortest_circle(
    start: &str,
    component: &[&str],
    edges: &BTreeMap<&str, BTreeMap<&str, &Import>>,
) -> Option<Vec<Import>> {
    let mut came_from: BTreeMap<&str, &Import> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for (&next, &import) in edges.get(node).into_iter().flatten() {
            if !component.contains(&next) || came_from.contains_key(next) {
                continue;
            }
            came_from.insert(next, import);
            if next == start {
                let mut circle = vec![import.clone()];
                let mut at = import.from.as_str();
                while at != start {
                    let step = came_from[at];
                    circle.push(step.clone());
                    at = step.from.as_str();
                }
                circle.reverse();
                return Some(circle);
            }
            queue.push_back(next);
        }
    }
    None
}

#[test]
fn the_scanner_sees_through_comments_strings_and_groups() {
    let code = strip(
        "// use crate::card;\n/* crate::x509 /* nested */ */ let s = \"crate::bundle\";\n\
         let r = r#\"crate::dsse\"#; let c = '\"'; fn f<'a>() {}\n\
         use crate::{error::{HashError, WalkError}, manifest::Manifest,\n  text};\n\
         mod tests { use super::*; use super::super::limits; }\n\
         let h = crate::hashing::HashAlgorithm::Sha256;\n",
    );
    let found = references(&code, &["model".to_owned()], Path::new("model/mod.rs"));
    let seen: Vec<(String, usize)> = found.iter().map(|i| (i.to.clone(), i.line)).collect();
    assert_eq!(
        seen,
        [
            ("error".to_owned(), 4),
            ("manifest".to_owned(), 4),
            ("text".to_owned(), 5),
            ("limits".to_owned(), 6),
            ("hashing".to_owned(), 7),
        ]
    );
    assert_eq!(found[1].text, "crate::{manifest::Manifest}");
    assert_eq!(found[4].text, "crate::hashing::HashAlgorithm::Sha256");
}
