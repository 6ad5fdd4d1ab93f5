//! The crate's files depend on each other one way only: this test derives the
//! import graph from the sources under `harness/` (every `use` and every path
//! starting with `crate::`, `super::` or `self::`, resolved to the file that
//! defines the module it names) and fails on a cycle, naming its files.
//!
//! The same graph at the level of rooms (top-level modules), without test
//! code, must have no cycle either, and no file is over 600 lines.
//!
//! `mod child;` declarations are containment, not imports; a parent that
//! re-exports or uses a child's items does depend on it, so a child must not
//! use its parent's items in turn.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// A module path (`["scenario", "load"]`) -> the file defining it.
struct Tree {
    files: BTreeMap<Vec<String>, PathBuf>,
}

impl Tree {
    fn build(root: &Path) -> Self {
        let mut files = BTreeMap::new();
        files.insert(Vec::new(), root.join("lib.rs"));
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                if p.extension().is_none_or(|x| x != "rs") {
                    continue;
                }
                let rel = p.strip_prefix(root).unwrap().with_extension("");
                let mut segs: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if segs.last().is_some_and(|s| s == "mod") {
                    segs.pop();
                }
                // Entry points of other crates (binaries, the scenarios target) and lib.rs.
                if segs == ["lib"] || segs == ["main"] || segs.first().is_some_and(|s| s == "bin") {
                    continue;
                }
                files.insert(segs, p);
            }
        }
        Tree { files }
    }

    /// The file of the longest prefix of `path` that is a module with a file.
    fn resolve(&self, path: &[String]) -> Option<&PathBuf> {
        (0..=path.len())
            .rev()
            .find_map(|n| self.files.get(&path[..n]))
    }
}

/// Collects the absolute module paths a file refers to.
struct Refs<'a> {
    /// Module path of the file, then of any inline `mod x { }` being visited.
    here: Vec<String>,
    /// Names the file's top-level `use` items and `mod` declarations bring into
    /// scope, as absolute module paths (`load` -> `["scenario", "load"]`).
    aliases: &'a BTreeMap<String, Vec<String>>,
    out: &'a mut Vec<Vec<String>>,
    /// Leave out `#[cfg(test)]` modules (the room graph is production code's).
    skip_tests: bool,
}

impl Refs<'_> {
    fn absolute(&self, segs: &[String]) -> Option<Vec<String>> {
        let first = segs.first()?;
        let mut base: Vec<String> = match first.as_str() {
            "crate" => Vec::new(),
            "self" => self.here.clone(),
            "super" => {
                let mut b = self.here.clone();
                b.pop();
                b
            }
            // A one-segment path is a local name (a variable, a type brought in by a
            // `use` already counted); `name::item` through an alias is a module path.
            other if segs.len() >= 2 => {
                let mut p = self.aliases.get(other)?.clone();
                p.extend(segs[1..].iter().cloned());
                return Some(p);
            }
            _ => return None,
        };
        let mut rest = &segs[1..];
        while rest.first().is_some_and(|s| s == "super") {
            base.pop();
            rest = &rest[1..];
        }
        base.extend(rest.iter().cloned());
        Some(base)
    }

    fn record(&mut self, segs: Vec<String>) {
        if let Some(abs) = self.absolute(&segs) {
            self.out.push(abs);
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let mut s = prefix.clone();
                if n.ident != "self" {
                    s.push(n.ident.to_string());
                }
                self.record(s);
            }
            syn::UseTree::Rename(r) => {
                let mut s = prefix.clone();
                s.push(r.ident.to_string());
                self.record(s);
            }
            syn::UseTree::Glob(_) => self.record(prefix.clone()),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Refs<'_> {
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &u.tree);
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        self.record(segs);
        syn::visit::visit_path(self, p);
    }

    /// `pub(super)` and `pub(in crate::x)` name who may see an item, not what it uses.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if self.skip_tests && is_cfg_test(&m.attrs) {
            return;
        }
        if m.content.is_some() {
            self.here.push(m.ident.to_string());
            syn::visit::visit_item_mod(self, m);
            self.here.pop();
        }
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        // Paths inside macro calls (format!, matches!, json!): read them as tokens.
        let tokens: Vec<proc_macro2::TokenTree> = m.tokens.clone().into_iter().collect();
        self.macro_tokens(&tokens);
    }
}

impl Refs<'_> {
    fn macro_tokens(&mut self, tokens: &[proc_macro2::TokenTree]) {
        use proc_macro2::TokenTree as T;
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                T::Group(g) => {
                    let inner: Vec<T> = g.stream().into_iter().collect();
                    self.macro_tokens(&inner);
                }
                T::Ident(id) if ["crate", "super", "self"].contains(&id.to_string().as_str()) => {
                    let mut segs = vec![id.to_string()];
                    let mut j = i + 1;
                    while j + 2 < tokens.len() + 1 {
                        match (&tokens.get(j), &tokens.get(j + 1), &tokens.get(j + 2)) {
                            (Some(T::Punct(a)), Some(T::Punct(b)), Some(T::Ident(n)))
                                if a.as_char() == ':' && b.as_char() == ':' =>
                            {
                                segs.push(n.to_string());
                                j += 3;
                            }
                            _ => break,
                        }
                    }
                    if segs.len() > 1 {
                        self.record(segs);
                    }
                    i = j;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }
}

/// The names a file's top-level items bring into scope, as absolute paths.
fn aliases(module: &[String], ast: &syn::File) -> BTreeMap<String, Vec<String>> {
    let empty = BTreeMap::new();
    let mut sink = Vec::new();
    let resolver = Refs {
        here: module.to_vec(),
        aliases: &empty,
        out: &mut sink,
        skip_tests: false,
    };
    let mut names = BTreeMap::new();
    for item in &ast.items {
        match item {
            syn::Item::Mod(m) if m.content.is_none() => {
                let mut p = module.to_vec();
                p.push(m.ident.to_string());
                names.insert(m.ident.to_string(), p);
            }
            syn::Item::Use(u) => {
                let mut found = Vec::new();
                bindings(&mut Vec::new(), &u.tree, &mut found);
                for (name, segs) in found {
                    if let Some(abs) = resolver.absolute(&segs) {
                        names.insert(name, abs);
                    }
                }
            }
            _ => {}
        }
    }
    names
}

/// (bound name, full path) of each leaf of a use tree; globs bind nothing.
fn bindings(prefix: &mut Vec<String>, t: &syn::UseTree, out: &mut Vec<(String, Vec<String>)>) {
    match t {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            bindings(prefix, &p.tree, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) if n.ident == "self" => {
            if let Some(last) = prefix.last() {
                out.push((last.clone(), prefix.clone()));
            }
        }
        syn::UseTree::Name(n) => {
            let mut full = prefix.clone();
            full.push(n.ident.to_string());
            out.push((n.ident.to_string(), full));
        }
        syn::UseTree::Rename(r) => {
            let mut full = prefix.clone();
            full.push(r.ident.to_string());
            out.push((r.rename.to_string(), full));
        }
        syn::UseTree::Glob(_) => {}
        syn::UseTree::Group(g) => g.items.iter().for_each(|t| bindings(prefix, t, out)),
    }
}

/// `#[cfg(test)]`.
fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.meta
                .require_list()
                .is_ok_and(|l| l.tokens.to_string() == "test")
    })
}

/// Edges between files: file -> files it imports.
fn graph(root: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    graph_with(root, false)
}

/// [`graph`], with test code (test files, `#[cfg(test)]` modules) left out when `skip_tests`.
fn graph_with(root: &Path, skip_tests: bool) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let tree = Tree::build(root);
    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for (module, file) in &tree.files {
        let test_file = module
            .last()
            .is_some_and(|m| m == "tests" || m.ends_with("_tests"));
        if skip_tests && test_file {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        let ast = syn::parse_file(&text)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", file.display()));
        let aliases = aliases(module, &ast);
        let mut found = Vec::new();
        let mut refs = Refs {
            here: module.clone(),
            aliases: &aliases,
            out: &mut found,
            skip_tests,
        };
        refs.visit_file(&ast);
        let set = edges.entry(file.clone()).or_default();
        for path in found {
            if let Some(target) = tree.resolve(&path) {
                if target != file && !target.ends_with("lib.rs") {
                    set.insert(target.clone());
                }
            }
        }
    }
    edges
}

/// One cycle, if the graph has any (depth-first search, white/grey/black).
fn find_cycle(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Option<Vec<PathBuf>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Grey,
        Black,
    }
    fn visit(
        n: &PathBuf,
        edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        marks: &mut BTreeMap<PathBuf, Mark>,
        stack: &mut Vec<PathBuf>,
    ) -> Option<Vec<PathBuf>> {
        marks.insert(n.clone(), Mark::Grey);
        stack.push(n.clone());
        for m in edges.get(n).into_iter().flatten() {
            match marks.get(m) {
                Some(Mark::Grey) => {
                    let start = stack.iter().position(|s| s == m).unwrap();
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                Some(Mark::Black) => {}
                None => {
                    if let Some(c) = visit(m, edges, marks, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        marks.insert(n.clone(), Mark::Black);
        None
    }
    let mut marks = BTreeMap::new();
    for n in edges.keys() {
        if !marks.contains_key(n) {
            if let Some(c) = visit(n, edges, &mut marks, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

/// Every cycle, one per group of files that reach each other: the graph
/// without the first cycle's closing edge is searched again until none is left.
fn all_cycles(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    let mut edges = edges.clone();
    let mut out = Vec::new();
    while let Some(c) = find_cycle(&edges) {
        let (from, to) = (&c[c.len() - 2], &c[c.len() - 1]);
        edges.get_mut(from).unwrap().remove(to);
        out.push(c);
    }
    out
}

#[test]
fn no_import_cycle_between_files_of_the_crate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("harness");
    let edges = graph(&root);
    assert!(edges.len() > 20, "the crate's files were not found");
    let cycles: Vec<String> = all_cycles(&edges)
        .iter()
        .map(|c| {
            c.iter()
                .map(|p| p.strip_prefix(&root).unwrap().display().to_string())
                .collect::<Vec<_>>()
                .join(" -> ")
        })
        .collect();
    assert!(
        cycles.is_empty(),
        "{} import cycle(s) between files of harness/:\n  {}",
        cycles.len(),
        cycles.join("\n  ")
    );
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let p = |s: &str| PathBuf::from(s);
    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    edges.entry(p("a.rs")).or_default().insert(p("b.rs"));
    edges.entry(p("b.rs")).or_default().insert(p("c.rs"));
    edges.entry(p("c.rs")).or_default();
    assert_eq!(find_cycle(&edges), None);
    edges.entry(p("c.rs")).or_default().insert(p("a.rs"));
    assert_eq!(
        find_cycle(&edges).unwrap(),
        vec![p("a.rs"), p("b.rs"), p("c.rs"), p("a.rs")]
    );
}

/// The room (top-level module) a file of `harness/` belongs to.
fn room(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The module graph between rooms (`media -> results`), production code only:
/// derived from the file graph, each file standing for its room.
fn rooms(root: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let mut out: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for (from, tos) in graph_with(root, true) {
        let a = room(root, &from);
        let set = out.entry(PathBuf::from(&a)).or_default();
        for to in tos {
            let b = room(root, &to);
            if a != b {
                set.insert(PathBuf::from(b));
            }
        }
    }
    out
}

/// Rooms depend on each other one way only: evidence flows from `media`
/// (bytes to facts) to `checks` (facts against `expect`) and `snapshot`, and
/// no room is reached back by one it uses. A cycle is named room by room.
#[test]
fn no_import_cycle_between_rooms() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("harness");
    let edges = rooms(&root);
    assert!(edges.len() >= 10, "rooms not found: {:?}", edges.keys());
    let cycles: Vec<String> = all_cycles(&edges)
        .iter()
        .map(|c| {
            c.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" -> ")
        })
        .collect();
    assert!(
        cycles.is_empty(),
        "{} import cycle(s) between the rooms of harness/ (production code):\n  {}",
        cycles.len(),
        cycles.join("\n  ")
    );
    // The evidence pipeline's direction, named: media never judges or compares.
    let media = &edges[&PathBuf::from("media")];
    for judge in ["checks", "snapshot", "run", "targets", "runpod"] {
        assert!(
            !media.contains(&PathBuf::from(judge)),
            "media uses {judge}: {media:?}"
        );
    }
    let checks = &edges[&PathBuf::from("checks")];
    assert!(
        !checks.contains(&PathBuf::from("snapshot")),
        "checks uses snapshot: {checks:?}"
    );
}

/// Small files: none of `harness/` over 600 lines.
#[test]
fn no_file_of_the_crate_is_over_600_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("harness");
    let long: Vec<String> = Tree::build(&root)
        .files
        .values()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).unwrap().lines().count();
            (n > 600).then(|| format!("{} ({n} lines)", f.strip_prefix(&root).unwrap().display()))
        })
        .collect();
    assert!(long.is_empty(), "files over 600 lines: {long:?}");
}

/// Every source file of `harness/`, with its path under it.
fn sources(root: &Path) -> Vec<(String, String)> {
    Tree::build(root)
        .files
        .values()
        .map(|f| {
            (
                f.strip_prefix(root).unwrap().display().to_string(),
                std::fs::read_to_string(f).unwrap(),
            )
        })
        .collect()
}

/// The environment is read once, through the settings table: no module but
/// `settings/env.rs` calls `std::env::var` (and `run/alloc.rs`, which only
/// looks whether glibc's own malloc variables are set), and every variable
/// name the code mentions, clap's `env = "..."` included, is in the table the
/// docs are generated from.
#[test]
fn the_environment_is_read_only_through_the_settings_table() {
    use endpoint_harness::settings::vars::VARS;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("harness");
    let known: BTreeSet<&str> = VARS.iter().map(|v| v.name).collect();
    let name =
        regex::Regex::new(r#""((?:HARNESS|RUNPOD|COMFYUI|NEXTEST|GITHUB|MOCK)[A-Z0-9_]*|CI)""#)
            .unwrap();
    let mut problems = Vec::new();
    for (file, text) in sources(&root) {
        // Production code: a file's inline test module is left out.
        let text = text
            .split("#[cfg(test)]\nmod tests")
            .next()
            .unwrap_or_default();
        let readers = ["std::env::var", "env::var_os", "env::vars"];
        if readers.iter().any(|r| text.contains(r))
            && !["settings/env.rs", "run/alloc.rs"].contains(&file.as_str())
        {
            problems.push(format!("{file} reads the process environment itself"));
        }
        for m in name.captures_iter(text) {
            let n = &m[1];
            // Prefixes matched as prefixes (`starts_with("HARNESS_")`) are not names.
            if n.ends_with('_') || known.contains(n) {
                continue;
            }
            problems.push(format!(
                "{file} names {n}, which is not in settings::vars::VARS"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Errors are typed (thiserror, with the file, job or node they concern), not
/// strings: no `Result<_, String>` in production code.
#[test]
fn no_result_of_string_in_production_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("harness");
    let pattern = regex::Regex::new(r"Result<[^;{]*?,\s*String\s*>").unwrap();
    let mut found = Vec::new();
    for (file, text) in sources(&root) {
        if file.ends_with("tests.rs") {
            continue;
        }
        let code = text
            .split("#[cfg(test)]\nmod tests")
            .next()
            .unwrap_or_default();
        for m in pattern.find_iter(code) {
            let line = code[..m.start()].lines().count();
            found.push(format!("{file}:{line}: {}", m.as_str()));
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
