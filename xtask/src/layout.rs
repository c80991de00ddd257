//! `cargo xtask layout`: the shape rules of ARCHITECTURE.md that Cargo cannot check.
//!
//! - no module cycle inside a crate: the files of a crate, joined by the paths they use
//!   (`use crate::…`, `use super::…`, `crate::…` in expressions, a child module by name),
//!   form no cycle;
//! - no source file over [`MAX_LINES`] lines, not counting its `#[cfg(test)]` module, outside
//!   tests, examples and benches.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The most lines a source file may have before its tests.
pub const MAX_LINES: usize = 500;

pub fn run(root: &Path) -> Result<()> {
    let mut problems = Vec::new();
    let mut crates = 0;
    for src in crate_sources(root)? {
        crates += 1;
        let files = rust_files(&src)?;
        let mut texts = BTreeMap::new();
        for file in &files {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let lines = lines_before_tests(&text);
            if lines > MAX_LINES {
                problems.push(format!(
                    "{}: {lines} lines before its tests (at most {MAX_LINES}): split it by job",
                    relative(root, file)
                ));
            }
            texts.insert(file.clone(), text);
        }
        let graph = module_graph(&src, &texts);
        for cycle in cycles(&graph) {
            let names: Vec<String> = cycle.iter().map(|f| relative(root, f)).collect();
            problems.push(format!("module cycle: {}", names.join(" -> ")));
        }
    }
    if problems.is_empty() {
        println!("layout: {crates} crates, no module cycle, no source file over {MAX_LINES} lines");
        Ok(())
    } else {
        bail!("layout rules broken:\n  {}", problems.join("\n  "))
    }
}

fn relative(root: &Path, file: &Path) -> String {
    file.strip_prefix(root)
        .unwrap_or(file)
        .display()
        .to_string()
}

/// The `src` folder of every package in the workspace (crates, binaries, examples, xtask).
fn crate_sources(root: &Path) -> Result<Vec<PathBuf>> {
    let mut sources = Vec::new();
    for group in ["crates", "bins", "examples"] {
        let Ok(entries) = std::fs::read_dir(root.join(group)) else {
            continue;
        };
        let mut dirs: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        dirs.sort();
        sources.extend(
            dirs.into_iter()
                .map(|d| d.join("src"))
                .filter(|s| s.is_dir()),
        );
    }
    sources.push(root.join("xtask/src"));
    Ok(sources)
}

fn rust_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                // A binary target's own folder is another crate root; fixtures are not modules.
                if path.file_name().is_some_and(|n| n != "bin") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The file's lines up to its `#[cfg(test)]` module (all of them when it has none).
fn before_tests(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .windows(2)
        .position(|pair| {
            pair[0].trim() == "#[cfg(test)]" && pair[1].trim_start().starts_with("mod ")
        })
        .unwrap_or(lines.len());
    lines[..end].to_vec()
}

/// How many lines the file has before its tests.
fn lines_before_tests(text: &str) -> usize {
    before_tests(text).len()
}

/// The module path of a file under `src`: `lib.rs` / `main.rs` is the root, `a/mod.rs` and
/// `a.rs` are `a`, `a/b.rs` is `a::b`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap_or(file);
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// One source file as a module: what it declares and what it imports.
struct Module {
    file: PathBuf,
    code: String,
    /// Names the file brings into scope with `use`, by the absolute path they stand for.
    imports: BTreeMap<String, Vec<String>>,
    /// Absolute paths of its glob imports (`use a::*`).
    globs: Vec<Vec<String>>,
    /// Absolute paths the file refers to (its `use` paths and `crate::`/`super::` paths).
    references: Vec<Vec<String>>,
}

/// File-to-file edges of one crate: a file depends on the file that *defines* what it uses,
/// through any re-exports on the way (a parent re-exporting its children is no cycle).
fn module_graph(
    src: &Path,
    texts: &BTreeMap<PathBuf, String>,
) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let mut modules: BTreeMap<Vec<String>, Module> = BTreeMap::new();
    for (file, text) in texts {
        let here = module_path(src, file);
        let code = strip_comments_and_tests(text);
        let children = declared_modules(&code);
        let absolute = |path: &[String]| absolutize(&here, &children, path);
        let mut module = Module {
            file: file.clone(),
            code: String::new(),
            imports: BTreeMap::new(),
            globs: Vec::new(),
            references: Vec::new(),
        };
        for (path, name) in use_declarations(&code) {
            let Some(path) = absolute(&path) else {
                continue;
            };
            match name.as_deref() {
                Some("*") => module.globs.push(path.clone()),
                Some(name) => {
                    module.imports.insert(name.to_owned(), path.clone());
                }
                None => {}
            }
            module.references.push(path);
        }
        module.references.extend(
            code_paths(&code, &children)
                .iter()
                .filter_map(|p| absolute(p)),
        );
        module.code = code;
        modules.insert(here, module);
    }
    let mut graph = BTreeMap::new();
    for module in modules.values() {
        let edges: BTreeSet<PathBuf> = module
            .references
            .iter()
            .filter_map(|path| resolve(&modules, path, 0))
            .filter(|target| *target != module.file)
            .collect();
        graph.insert(module.file.clone(), edges);
    }
    graph
}

/// A path as written in module `here` (with child modules `children`), made absolute from
/// the crate root; `None` for paths into other crates.
fn absolutize(
    here: &[String],
    children: &BTreeSet<String>,
    path: &[String],
) -> Option<Vec<String>> {
    let (first, rest) = path.split_first()?;
    let mut base: Vec<String> = match first.as_str() {
        "crate" => Vec::new(),
        "self" => here.to_vec(),
        "super" => {
            let mut base = here.to_vec();
            base.pop();
            let mut rest = rest;
            while rest.first().is_some_and(|s| s == "super") {
                base.pop();
                rest = &rest[1..];
            }
            return Some(base.into_iter().chain(rest.iter().cloned()).collect());
        }
        name if children.contains(name) => {
            let mut base = here.to_vec();
            base.push(name.to_owned());
            base
        }
        _ => return None,
    };
    base.extend(rest.iter().cloned());
    Some(base)
}

/// The file that defines what `path` names: the deepest module on the path, then through that
/// module's imports while the name is not its own.
fn resolve(modules: &BTreeMap<Vec<String>, Module>, path: &[String], depth: u8) -> Option<PathBuf> {
    let n = (0..=path.len())
        .rev()
        .find(|n| modules.contains_key(&path[..*n]))?;
    let module = &modules[&path[..n]];
    let rest = &path[n..];
    let Some(name) = rest.first() else {
        return Some(module.file.clone());
    };
    if depth >= 8 || defines(&module.code, name) {
        return Some(module.file.clone());
    }
    if let Some(target) = module.imports.get(name) {
        let through: Vec<String> = target.iter().chain(&rest[1..]).cloned().collect();
        return resolve(modules, &through, depth + 1).or_else(|| Some(module.file.clone()));
    }
    for glob in &module.globs {
        let through: Vec<String> = glob.iter().chain(rest).cloned().collect();
        if let Some(found) = resolve(modules, &through, depth + 1) {
            if found != module.file {
                return Some(found);
            }
        }
    }
    Some(module.file.clone())
}

/// Whether `code` defines an item called `name` itself.
fn defines(code: &str, name: &str) -> bool {
    const KINDS: [&str; 10] = [
        "struct ",
        "enum ",
        "trait ",
        "fn ",
        "type ",
        "const ",
        "static ",
        "mod ",
        "union ",
        "macro_rules! ",
    ];
    KINDS.iter().any(|kind| {
        let needle = format!("{kind}{name}");
        code.match_indices(&needle).any(|(at, _)| {
            let after = code[at + needle.len()..].chars().next();
            let before = code[..at].chars().next_back();
            !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
                && !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    })
}

/// The text without comments and without its `#[cfg(test)]` module (tests may use anything).
fn strip_comments_and_tests(text: &str) -> String {
    let mut out = String::new();
    for line in before_tests(text) {
        out.push_str(line.split("//").next().unwrap_or_default());
        out.push('\n');
    }
    out
}

/// `mod name;` declarations: the file's child modules.
fn declared_modules(code: &str) -> BTreeSet<String> {
    code.lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line
                .strip_prefix("pub(crate) mod ")
                .or_else(|| line.strip_prefix("pub mod "))
                .or_else(|| line.strip_prefix("mod "))?;
            rest.strip_suffix(';').map(|name| name.trim().to_owned())
        })
        .collect()
}

/// Every `use` declaration's paths, braces expanded, with the name each binds (`*` for a
/// glob, `None` for `self` of a group, which binds the group's last segment).
fn use_declarations(code: &str) -> Vec<(Vec<String>, Option<String>)> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(start) = find_keyword(rest, "use ") {
        let after = &rest[start + 4..];
        let end = after.find(';').unwrap_or(after.len());
        found.extend(expand_use_tree(after[..end].trim()));
        rest = &after[end..];
    }
    found
}

/// Paths in code that start at `crate::`, `super::`, `self::` or a child module.
fn code_paths(code: &str, children: &BTreeSet<String>) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let roots = ["crate", "super", "self"]
        .into_iter()
        .map(str::to_owned)
        .chain(children.iter().cloned())
        .map(|root| format!("{root}::"));
    for root in roots {
        let root = root.as_str();
        let mut from = 0;
        while let Some(at) = code[from..].find(root) {
            let start = from + at;
            from = start + root.len();
            let before = code[..start].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let path: Vec<String> = code[start..]
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or_default()
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            // `crate::{` opens a `use` group, read with the `use` declarations.
            if path.len() > 1 {
                paths.push(path);
            }
        }
    }
    paths
}

/// Where `keyword` starts a statement (after start, whitespace, `pub`, `pub(crate)`, `{`, `;`).
fn find_keyword(text: &str, keyword: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = text[from..].find(keyword) {
        let start = from + at;
        let before = text[..start].trim_end();
        if before.is_empty()
            || before.ends_with(['\n', ';', '{', '}', ']'])
            || before.ends_with("pub")
            || before.ends_with("pub(crate)")
            || before.ends_with("pub(super)")
        {
            return Some(start);
        }
        from = start + keyword.len();
    }
    None
}

/// `a::{b, c::{d as e}}` as `([a, b], b)` and `([a, c, d], e)`; a glob binds `*`.
fn expand_use_tree(tree: &str) -> Vec<(Vec<String>, Option<String>)> {
    // `X as Y` becomes `X@Y`, so the tree can lose its whitespace.
    let mut joined = String::new();
    let mut words = tree.split_whitespace().peekable();
    while let Some(word) = words.next() {
        joined.push_str(word);
        if words.peek() == Some(&"as") {
            words.next();
            joined.push('@');
        }
    }
    let mut out = Vec::new();
    expand(&[], &joined, &mut out);
    out
}

fn expand(prefix: &[String], tree: &str, out: &mut Vec<(Vec<String>, Option<String>)>) {
    if let Some(open) = tree.find('{') {
        let base: Vec<String> = prefix
            .iter()
            .cloned()
            .chain(segments(&tree[..open]))
            .collect();
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        for part in split_top_level(inner) {
            if part == "self" {
                let name = base.last().cloned();
                out.push((base.clone(), name));
            } else if !part.is_empty() {
                expand(&base, part, out);
            }
        }
    } else {
        let (path, alias) = match tree.split_once('@') {
            Some((path, alias)) => (path, Some(alias.to_owned())),
            None => (tree, None),
        };
        let mut path: Vec<String> = prefix.iter().cloned().chain(segments(path)).collect();
        let name = if path.last().is_some_and(|s| s == "*") {
            path.pop();
            Some("*".to_owned())
        } else {
            alias.or_else(|| path.last().cloned())
        };
        out.push((path, name));
    }
}

fn segments(path: &str) -> impl Iterator<Item = String> + '_ {
    path.split("::")
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// Cycles found by a depth-first search: each back edge reports the cycle it closes (enough to
/// name the files to untangle; not every elementary cycle).
fn cycles(graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut done: BTreeSet<PathBuf> = BTreeSet::new();
    for start in graph.keys() {
        if done.contains(start) {
            continue;
        }
        dfs(start, graph, &mut Vec::new(), &mut done, &mut found);
    }
    found
}

fn dfs(
    node: &PathBuf,
    graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
    on_path: &mut Vec<PathBuf>,
    done: &mut BTreeSet<PathBuf>,
    found: &mut Vec<Vec<PathBuf>>,
) {
    if let Some(at) = on_path.iter().position(|n| n == node) {
        let mut cycle = on_path[at..].to_vec();
        cycle.push(node.clone());
        found.push(cycle);
        return;
    }
    if done.contains(node) {
        return;
    }
    on_path.push(node.clone());
    for next in graph.get(node).into_iter().flatten() {
        dfs(next, graph, on_path, done, found);
    }
    on_path.pop();
    done.insert(node.clone());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph_of(files: &[(&str, &str)]) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
        let src = PathBuf::from("/c/src");
        let texts = files
            .iter()
            .map(|(name, text)| (src.join(name), (*text).to_owned()))
            .collect();
        module_graph(&src, &texts)
    }

    #[test]
    fn use_trees_expand() {
        let paths = |tree| -> Vec<(String, Option<String>)> {
            expand_use_tree(tree)
                .into_iter()
                .map(|(path, name)| (path.join("::"), name))
                .collect()
        };
        let bound = |path: &str, name: &str| (path.to_owned(), Some(name.to_owned()));
        assert_eq!(
            paths("super::{a::{B as Base, c}, d::*, self}"),
            vec![
                bound("super::a::B", "Base"),
                bound("super::a::c", "c"),
                bound("super::d", "*"),
                bound("super", "super"),
            ]
        );
    }

    #[test]
    fn sibling_modules_that_use_each_other_are_a_cycle() {
        let graph = graph_of(&[
            ("lib.rs", "mod a;\nmod b;\npub use a::Thing;\n"),
            ("a.rs", "use super::b::Other;\npub struct Thing;\n"),
            ("b.rs", "pub struct Other;\nfn f() { crate::a::Thing; }\n"),
        ]);
        let found = cycles(&graph);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].iter().any(|f| f.ends_with("a.rs")));
        assert!(found[0].iter().any(|f| f.ends_with("b.rs")));
    }

    #[test]
    fn a_parent_that_re_exports_its_children_is_not_a_cycle() {
        let graph = graph_of(&[
            (
                "lib.rs",
                "mod a;\nmod b;\npub use a::Thing;\npub use b::Other;\n",
            ),
            ("a.rs", "use crate::b::Other;\npub struct Thing;\n"),
            (
                "b.rs",
                "pub struct Other;\n#[cfg(test)]\nmod tests { use crate::a::Thing; }\n",
            ),
            ("c/mod.rs", "mod d;\nuse d::X;\n"),
            ("c/d.rs", "pub struct X; // see crate::c::Y\n"),
        ]);
        assert!(cycles(&graph).is_empty(), "{graph:?}");
    }

    #[test]
    fn tests_do_not_count_toward_the_size_limit() {
        let text = "a\nb\n#[cfg(test)]\nmod tests {\n x\n}\n";
        assert_eq!(lines_before_tests(text), 2);
        assert_eq!(
            lines_before_tests("a\n#[cfg(test)]\nfn only_in_tests() {}\n"),
            3
        );
    }
}
