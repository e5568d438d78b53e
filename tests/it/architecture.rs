//! The layers only point down: every `crate::…` path in `src/` names its own layer or one below.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layers, top to bottom; each folder of `src/` is one. Written here and nowhere else
/// (ARCHITECTURE.md describes them).
const LAYERS: &[&str] = &[
    "cli", "repl", "run", "sim", "script", "runtime", "config", "journal", "vendors", "util",
];

/// Macros exported at the crate root, with the layer that defines them. `with_vendors!` is the
/// vendor registration line in `lib.rs`, which every layer may expand.
const ROOT_MACROS: &[(&str, Option<&str>)] = &[
    ("with_vendors", None),
    ("out", Some("util")),
    ("outln", Some("util")),
];

fn rank(layer: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == layer)
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its comments, so that prose naming a module does not count.
fn code(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::NAME` in the code, with `NAME` followed by `!` when it is a macro.
fn crate_paths(code: &str) -> Vec<(String, bool)> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let is_macro = rest[name.len()..].starts_with('!');
        found.push((name, is_macro));
    }
    found
}

/// `(file, layer of file, layer it names)` for every path that points up or outside the layers.
fn upward_paths(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    let mut wrong = Vec::new();
    for file in files {
        let rel = file.strip_prefix(root.join("src")).unwrap_or(&file);
        let Some(own) = rel.iter().next().and_then(|c| c.to_str()) else {
            continue;
        };
        let Some(own_rank) = rank(own) else {
            // lib.rs and main.rs are the root: they declare the layers.
            assert!(
                own == "lib.rs" || own == "main.rs",
                "{} is outside every layer; put it in one of {LAYERS:?}",
                rel.display()
            );
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for (name, is_macro) in crate_paths(&code(&text)) {
            let target = if is_macro {
                match ROOT_MACROS.iter().find(|(m, _)| *m == name) {
                    Some((_, Some(layer))) => *layer,
                    Some((_, None)) => continue,
                    None => {
                        wrong.push(format!("{}: unknown macro crate::{name}!", rel.display()));
                        continue;
                    }
                }
            } else {
                name.as_str()
            };
            match rank(target) {
                Some(r) if r >= own_rank => {}
                Some(_) => wrong.push(format!(
                    "{}: layer `{own}` uses crate::{target}, a layer above it",
                    rel.display()
                )),
                None => wrong.push(format!("{}: crate::{target} is not a layer", rel.display())),
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    wrong
}

#[test]
fn every_module_uses_only_its_own_layer_and_those_below() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let wrong = upward_paths(root);
    assert!(
        wrong.is_empty(),
        "imports that point up:\n  {}",
        wrong.join("\n  ")
    );
}

#[test]
fn every_folder_of_src_is_a_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let folders: BTreeSet<String> = std::fs::read_dir(&root)
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().is_dir())
                .filter_map(|e| e.file_name().to_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let layers: BTreeSet<String> = LAYERS.iter().map(|s| s.to_string()).collect();
    assert_eq!(folders, layers);
}

/// The checker itself: an upward path is found, a comment or a longer name is not.
#[test]
fn the_check_finds_an_upward_path_and_ignores_prose() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("src");
    for layer in LAYERS {
        std::fs::create_dir_all(src.join(layer)).expect("layer folder");
    }
    std::fs::write(
        src.join("vendors/bad.rs"),
        "use crate::runtime::session::Session;\n\
         // crate::cli in a comment does not count\n\
         use crate::util::secret;\n\
         fn f() { let _ = mycrate::cli::x; crate::outln!(); crate::with_vendors!(m); }\n",
    )
    .expect("write");
    std::fs::write(src.join("cli/ok.rs"), "use crate::util::secret;\n").expect("write");
    let wrong = upward_paths(dir.path());
    assert_eq!(
        wrong,
        vec!["vendors/bad.rs: layer `vendors` uses crate::runtime, a layer above it".to_string()]
    );
}
