//! No two modules of one crate import each other, directly or through others.
//!
//! A loop between modules means neither can be read, tested or moved without the other: the
//! layering the crates keep between themselves (`profiles` ← `hsm` ← {`tsa`, `signer`};
//! `profiles` ← `verifier`) should hold inside each crate too. This test reads each crate's
//! sources as text, takes every `crate::MODULE` path outside comments, string literals and
//! the unit-test modules, and fails naming the modules of any loop it finds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const CRATES: [&str; 5] = ["profiles", "hsm", "tsa", "signer", "verifier"];

/// Top-level module name → the source text of its files.
fn modules(src: &Path) -> BTreeMap<String, String> {
    fn walk(dir: &Path, src: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(src).unwrap();
            let first = rel.components().next().unwrap().as_os_str();
            if first == "bin" {
                continue;
            }
            if path.is_dir() {
                walk(&path, src, out);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let name = Path::new(first)
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if name == "lib" || name == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            out.entry(name).or_default().push_str(&code_only(&text));
        }
    }
    let mut out = BTreeMap::new();
    walk(src, src, &mut out);
    out
}

/// The text without the unit-test module, comments (doc links are not imports) and the
/// contents of string literals.
fn code_only(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let line = match line.trim_start().starts_with("//") {
            true => "",
            false => line,
        };
        let mut in_str = false;
        let mut escaped = false;
        for c in line.chars() {
            if in_str {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => {
                        in_str = false;
                        out.push('"');
                    }
                    _ => {}
                }
                continue;
            }
            if c == '"' {
                in_str = true;
            }
            out.push(c);
        }
        out.push('\n');
    }
    out
}

/// The modules of `mods` that `text` names as `crate::NAME` (also inside `use crate::{..}`).
fn uses(text: &str, mods: &BTreeMap<String, String>, own: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a, b::C, c::{..}}`: the first identifier of each top-level item.
            let mut depth = 0;
            let mut item_start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && (c.is_alphanumeric() || c == '_') => {
                        found.insert(ident(&group[j..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            found.insert(ident(rest));
        }
    }
    found.retain(|m| m != own && mods.contains_key(m));
    found
}

/// A loop in the graph, as the modules along it, if there is one.
fn find_loop(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == m) {
            let mut cycle = path[at..].to_vec();
            cycle.push(m.to_owned());
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_owned());
        for next in &graph[m] {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|m| visit(m, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_module_imports_itself_through_others() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut loops = Vec::new();
    for krate in CRATES {
        let mods = modules(&root.join(krate).join("src"));
        assert!(mods.len() > 3, "{krate}: no modules found");
        let graph: BTreeMap<String, BTreeSet<String>> = mods
            .iter()
            .map(|(m, text)| (m.clone(), uses(text, &mods, m)))
            .collect();
        if let Some(cycle) = find_loop(&graph) {
            loops.push(format!("{krate}: {}", cycle.join(" -> ")));
        }
    }
    assert!(
        loops.is_empty(),
        "module import loops:\n{}",
        loops.join("\n")
    );
}

#[test]
fn the_reader_sees_imports_in_every_form() {
    let mods: BTreeMap<String, String> = ["a", "b", "c", "d"]
        .iter()
        .map(|m| (m.to_string(), String::new()))
        .collect();
    let text = code_only(
        "use crate::a::X;\nuse crate::{b::{Y, Z}, c};\n// crate::d in a comment\nlet s = \"crate::d\";\n",
    );
    let found: Vec<_> = uses(&text, &mods, "c").into_iter().collect();
    assert_eq!(found, ["a", "b"]);
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(
        find_loop(&graph).unwrap(),
        ["a", "b", "c", "a"].map(str::to_owned)
    );
}
