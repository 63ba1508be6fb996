//! The crate's modules import one another in one direction only: no cycle
//! between files, none between top-level modules, and each top-level module
//! imports only its own layer or the ones below (docs/architecture.md).
//! Read from the source text: every `crate::`, `super::` and `self::` path,
//! and paths that start with a child module's name.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Module = Vec<String>;

/// The layers, bottom first; a top-level module may import its own layer and below.
const LAYERS: &[&[&str]] = &[
    &[
        "clock",
        "config",
        "error",
        "feed_proof",
        "fields",
        "grant_types",
        "key_encryption",
        "outbound",
        "paging",
        "query_terms",
        "scope",
        "secrets",
        "submissions",
        "telemetry",
        "validate",
    ],
    &["audit", "cache", "db", "housekeeping"],
    &[
        "auth_modules",
        "authz",
        "bootstrap",
        "factors",
        "groups",
        "registry",
        "sessions",
        "users",
    ],
    &["accounts"],
    &["oidc"],
    &["oauth2"],
    &["invalidation"],
    &["state"],
    &["web"],
    &["rest"],
    &["endpoints"],
    &["startup"],
    &["cli"],
];

fn module_of(relative: &Path) -> Module {
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let file = parts.pop().unwrap_or_default();
    let stem = file.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_owned());
    }
    parts
}

fn collect(dir: &Path, root: &Path, out: &mut BTreeMap<Module, String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read src")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(root).expect("under src");
            if relative == Path::new("main.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read file");
            out.insert(module_of(relative), without_comments_and_tests(&text));
        }
    }
}

/// Unit tests may reach anywhere; comments name modules without using them.
fn without_comments_and_tests(text: &str) -> String {
    let code = match text.find("#[cfg(test)]") {
        Some(at) => &text[..at],
        None => text,
    };
    code.lines()
        .map(|line| match line.trim_start().starts_with("//") {
            true => "",
            false => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path of a `use` tree, braces expanded: `a::{b, c::{d}}` → `a::b`, `a::c::d`.
fn expand(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let mut leaves = Vec::new();
    expand_keeping_aliases(tree, prefix, &mut leaves);
    out.extend(
        leaves
            .iter()
            .filter_map(|leaf| bound_name(leaf).map(|(path, _)| path.to_owned())),
    );
}

fn join(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path.to_owned(),
        (_, true) => prefix.to_owned(),
        _ => format!("{prefix}::{path}"),
    }
}

/// The name a `use` path binds: its alias or its last segment.
fn bound_name(tree_leaf: &str) -> Option<(&str, &str)> {
    let (path, alias) = match tree_leaf.split_once(" as ") {
        Some((path, alias)) => (path.trim(), alias.trim()),
        None => (
            tree_leaf.trim(),
            tree_leaf.trim().rsplit("::").next()?.trim(),
        ),
    };
    Some((path, alias))
}

/// The paths a file mentions: its `use` trees, and inline `a::b` paths with
/// a first segment that a `use` bound replaced by what it stands for.
fn paths_in(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let use_statement =
        regex::Regex::new(r"(?ms)^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);").expect("regex");
    let mut leaves = Vec::new();
    for capture in use_statement.captures_iter(code) {
        expand_keeping_aliases(&capture[1], "", &mut leaves);
    }
    let mut bound: BTreeMap<String, String> = BTreeMap::new();
    for leaf in &leaves {
        if let Some((path, name)) = bound_name(leaf) {
            let full = match path.strip_suffix("::self") {
                Some(parent) => parent,
                None => path,
            };
            bound.insert(name.to_owned(), full.to_owned());
            paths.push(full.to_owned());
        }
    }
    let rest = use_statement.replace_all(code, "");
    let inline =
        regex::Regex::new(r"\b([a-z_][a-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)+)").expect("regex");
    for capture in inline.captures_iter(&rest) {
        let path = &capture[1];
        let (first, tail) = path.split_once("::").unwrap_or((path, ""));
        match bound.get(first) {
            Some(full) => paths.push(format!("{full}::{tail}")),
            None => paths.push(path.to_owned()),
        }
    }
    paths
}

/// Like `expand`, but each leaf keeps its ` as alias`.
fn expand_keeping_aliases(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head = tree[..open].trim().trim_end_matches("::");
        let close = tree.rfind('}').filter(|c| *c > open).unwrap_or(tree.len());
        let inner = &tree[open + 1..close];
        let joined = join(prefix, head);
        let mut depth = 0;
        let mut start = 0;
        for (i, ch) in inner.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand_keeping_aliases(&inner[start..i], &joined, out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand_keeping_aliases(&inner[start..], &joined, out);
    } else if !tree.is_empty() {
        out.push(join(prefix, tree));
    }
}

/// The module a path lands in: the longest prefix that is a known module.
fn resolve(from: &Module, path: &str, modules: &BTreeMap<Module, String>) -> Option<Module> {
    let mut segments: Vec<&str> = path.split("::").collect();
    let mut base: Module = match segments.first().copied() {
        Some("crate") => {
            segments.remove(0);
            Vec::new()
        }
        Some("self") => {
            segments.remove(0);
            from.clone()
        }
        Some("super") => {
            let mut base = from.clone();
            while segments.first() == Some(&"super") {
                segments.remove(0);
                base.pop();
            }
            base
        }
        // A child of this module, named without `self::`.
        Some(first) => {
            let mut child = from.clone();
            child.push(first.to_owned());
            if !modules.contains_key(&child) {
                return None;
            }
            from.clone()
        }
        None => return None,
    };
    let mut found = base.clone();
    for segment in segments {
        base.push(segment.to_owned());
        if modules.contains_key(&base) {
            found = base.clone();
        } else {
            break;
        }
    }
    Some(found)
}

fn graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules = BTreeMap::new();
    collect(&root, &root, &mut modules);
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, code) in &modules {
        let targets = edges.entry(module.clone()).or_default();
        for path in paths_in(code) {
            if let Some(target) = resolve(module, &path, &modules) {
                if &target != module && !target.is_empty() {
                    targets.insert(target);
                }
            }
        }
    }
    edges
}

fn name(module: &Module) -> String {
    format!("crate::{}", module.join("::"))
}

/// A cycle as a list of names, if the graph has one.
fn find_cycle<N: Ord + Clone>(edges: &BTreeMap<N, BTreeSet<N>>) -> Option<Vec<N>> {
    fn visit<N: Ord + Clone>(
        node: &N,
        edges: &BTreeMap<N, BTreeSet<N>>,
        done: &mut BTreeSet<N>,
        stack: &mut Vec<N>,
    ) -> Option<Vec<N>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.clone());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, done, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        if let Some(cycle) = visit(node, edges, &mut done, &mut Vec::new()) {
            return Some(cycle);
        }
    }
    None
}

/// A graph read from nothing passes every check: the test must have seen
/// the crate's real imports, many of them and a known one.
fn assert_read_real_edges(edges: &BTreeMap<Module, BTreeSet<Module>>) {
    let count: usize = edges.values().map(BTreeSet::len).sum();
    assert!(
        count >= 500,
        "only {count} imports between files were read: the source or its paths were not understood"
    );
    let module = |path: &str| -> Module { path.split("::").map(str::to_owned).collect() };
    let (from, to) = (module("endpoints::token"), module("oauth2::token"));
    assert!(
        edges
            .get(&from)
            .is_some_and(|targets| targets.contains(&to)),
        "the known import of crate::oauth2::token by crate::endpoints::token was not read"
    );
}

#[test]
fn no_file_imports_one_that_imports_it_back() {
    let edges = graph();
    assert_read_real_edges(&edges);
    if let Some(cycle) = find_cycle(&edges) {
        let names: Vec<String> = cycle.iter().map(name).collect();
        panic!("import cycle: {}", names.join(" -> "));
    }
}

#[test]
fn top_level_modules_import_only_their_layer_and_below() {
    let layer_of = |top: &str| LAYERS.iter().position(|layer| layer.contains(&top));
    let mut tops: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut wrong = Vec::new();
    for (module, targets) in graph() {
        // The crate root only declares the modules.
        let Some(from) = module.first().cloned() else {
            continue;
        };
        let from_layer = layer_of(&from)
            .unwrap_or_else(|| panic!("crate::{from} is in no layer of this test and the docs"));
        for target in targets {
            let to = target[0].clone();
            if to == from {
                continue;
            }
            let to_layer = layer_of(&to)
                .unwrap_or_else(|| panic!("crate::{to} is in no layer of this test and the docs"));
            if to_layer > from_layer {
                wrong.push(format!("{} imports {}", name(&module), name(&target)));
            }
            tops.entry(from.clone()).or_default().insert(to);
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that point up:\n{}",
        wrong.join("\n")
    );
    if let Some(cycle) = find_cycle(&tops) {
        panic!("cycle between top-level modules: {}", cycle.join(" -> "));
    }
}

/// The protocol and the layers below it know nothing of HTTP: actix stays
/// in the HTTP layer and the wiring (`state` and above).
#[test]
fn no_actix_below_the_http_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules = BTreeMap::new();
    collect(&root, &root, &mut modules);
    let first_http = LAYERS
        .iter()
        .position(|layer| layer.contains(&"state"))
        .expect("the state layer");
    let below: BTreeSet<&str> = LAYERS[..first_http]
        .iter()
        .flat_map(|l| l.iter().copied())
        .collect();
    let actix = regex::Regex::new(r"\bactix(?:_[a-z]+)?::").expect("regex");
    let mut wrong = Vec::new();
    let mut seen_in_http = 0;
    for (module, code) in &modules {
        let Some(top) = module.first() else { continue };
        match (below.contains(top.as_str()), actix.is_match(code)) {
            (true, true) => wrong.push(name(module)),
            (false, true) => seen_in_http += 1,
            _ => {}
        }
    }
    // The scan finds actix where it belongs, so its silence below means something.
    assert!(
        seen_in_http >= 20,
        "actix was found in only {seen_in_http} HTTP files: the scan is broken"
    );
    assert!(
        wrong.is_empty(),
        "actix below the HTTP layer:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn paths_resolve_to_the_modules_they_name() {
    let mut out = Vec::new();
    expand("crate::{a::{b, c as d}, e}", "", &mut out);
    assert_eq!(out, vec!["crate::a::b", "crate::a::c", "crate::e"]);
    let modules: BTreeMap<Module, String> = [
        vec!["a".to_owned()],
        vec!["a".to_owned(), "b".to_owned()],
        vec!["c".to_owned()],
    ]
    .into_iter()
    .map(|m| (m, String::new()))
    .collect();
    let a_b = vec!["a".to_owned(), "b".to_owned()];
    assert_eq!(
        resolve(&a_b, "super::Thing", &modules),
        Some(vec!["a".to_owned()])
    );
    assert_eq!(
        resolve(&a_b, "crate::c::f", &modules),
        Some(vec!["c".to_owned()])
    );
    assert_eq!(
        resolve(&vec!["a".to_owned()], "b::g", &modules),
        Some(a_b.clone())
    );
    assert_eq!(resolve(&a_b, "std::mem::take", &modules), None);
    let mut cyclic: BTreeMap<u8, BTreeSet<u8>> = BTreeMap::new();
    cyclic.insert(1, [2].into());
    cyclic.insert(2, [1].into());
    assert!(find_cycle(&cyclic).is_some());
}
