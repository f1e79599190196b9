//! The engine's layering (issue 21): no import circle between the engine's modules, nor between
//! the files of one module, and no protocol family imports the runner. Read from the sources, so
//! a new `use` that closes a circle fails here before it tangles the engine.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The protocol families: each implements `flow::FlowJob` and knows nothing of the runner.
const FAMILIES: [&str; 4] = ["rest", "oidc", "ciba", "sign"];

/// Source without comments (a doc comment may name any module).
fn code(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The identifiers after each `prefix` in `src` (`crate::` → `rest`, `flow`, ...).
fn names_after<'a>(src: &'a str, prefix: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    src.match_indices(prefix).filter_map(move |(i, _)| {
        let rest = &src[i + prefix.len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        (end > 0).then(|| &rest[..end])
    })
}

/// Top-level modules (`src/x.rs` or `src/x/`) and, per module directory, its files.
fn modules(src: &Path) -> BTreeMap<String, Vec<std::path::PathBuf>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(src).unwrap().flatten() {
        let path = entry.path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "lib" {
            continue;
        }
        let files = if path.is_dir() {
            std::fs::read_dir(&path)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "rs"))
                .collect()
        } else {
            vec![path]
        };
        out.insert(name, files);
    }
    out
}

fn cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &Graph,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == n) {
            let mut c = stack[i..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.to_string());
        for next in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(next, g, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

fn src_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn module_graph() -> Graph {
    let mods = modules(&src_dir());
    let mut g = Graph::new();
    for (name, files) in &mods {
        let deps = g.entry(name.clone()).or_default();
        for f in files {
            for target in names_after(&code(f), "crate::") {
                if target != name && mods.contains_key(target) {
                    deps.insert(target.to_string());
                }
            }
        }
    }
    g
}

#[test]
fn the_engine_modules_form_no_circle() {
    let g = module_graph();
    assert!(g.contains_key("runner") && g.contains_key("flow"), "{g:?}");
    assert_eq!(cycle(&g), None, "{g:#?}");
}

#[test]
fn no_family_imports_the_runner_and_the_vocabulary_imports_no_family() {
    let g = module_graph();
    for family in FAMILIES {
        let deps = &g[family];
        assert!(!deps.contains("runner"), "{family} imports the runner");
        assert!(
            deps.contains("flow"),
            "{family} does not speak the flow vocabulary"
        );
    }
    for low in ["flow", "vault"] {
        for above in FAMILIES.iter().chain(&["runner", "desk"]) {
            assert!(!g[low].contains(*above), "{low} imports {above}");
        }
    }
}

#[test]
fn the_files_of_each_module_form_no_circle() {
    for (name, files) in modules(&src_dir()) {
        let stems: BTreeSet<String> = files
            .iter()
            .map(|f| f.file_stem().unwrap().to_string_lossy().into_owned())
            .filter(|s| s != "mod")
            .collect();
        let mut g = Graph::new();
        for f in &files {
            let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
            if stem == "mod" {
                continue;
            }
            let src = code(f);
            let own = format!("crate::{name}::");
            let deps = g.entry(stem.clone()).or_default();
            for target in names_after(&src, "super::").chain(names_after(&src, &own)) {
                if target != stem && stems.contains(target) {
                    deps.insert(target.to_string());
                }
            }
        }
        assert_eq!(cycle(&g), None, "module {name}: {g:#?}");
    }
}
