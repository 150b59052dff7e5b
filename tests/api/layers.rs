//! The house's layers: the top-level modules of `src/` import only their own layer or
//! the ones below, and no imports run in a circle (the check `../shared/tools/
//! import_layers.py src` makes, kept here so a plain clone checks itself). An import is
//! any `crate::<module>` path outside a file's `#[cfg(test)]` part; tests may reach
//! anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Bottom to top. A new module must be placed here, in the layer its imports allow.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "base",
        &[
            "api_keys",
            "clock",
            "crypto",
            "metrics",
            "model",
            "net_guard",
            "pkce",
            "rate_limit",
            "sigv4",
        ],
    ),
    (
        "store and settings",
        &[
            "config", "error", "events", "hosts", "keys", "mail", "store", "throttle",
        ],
    ),
    ("services", &["services"]),
    (
        "domain",
        &[
            "clients",
            "domains",
            "federation",
            "groups",
            "operators",
            "pool",
            "resource_servers",
            "tokens",
            "triggers",
            "users",
        ],
    ),
    ("operations", &["declared", "flows", "session"]),
    (
        "app state",
        &["client_addr", "host_routing", "state", "test_clock"],
    ),
    (
        "surfaces",
        &[
            "body_deadline",
            "cognito_api",
            "console",
            "home",
            "hosted_ui",
            "oauth",
            "standin",
        ],
    ),
    (
        "binary",
        &["bench_bound", "cli", "demo", "fuzz_checks", "server"],
    ),
];

/// Top-level module -> the top-level modules it imports.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: BTreeMap<String, Vec<String>> = BTreeMap::new();
    collect(&src, &src, &mut files);
    let modules: BTreeSet<String> = files.keys().cloned().collect();
    files
        .into_iter()
        .map(|(module, texts)| {
            let mut to = BTreeSet::new();
            for text in texts {
                let body = text.split("#[cfg(test)]").next().unwrap_or_default();
                for (i, _) in body.match_indices("crate::") {
                    let name: String = body[i + "crate::".len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                        .collect();
                    let preceded_by_word = body[..i]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_');
                    if !preceded_by_word && name != module && modules.contains(&name) {
                        to.insert(name);
                    }
                }
            }
            (module, to)
        })
        .collect()
}

fn collect(src: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<String>>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(src, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(src).unwrap();
            let first = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy();
            let module = first.trim_end_matches(".rs").to_string();
            if module != "main" && module != "lib" {
                let text = std::fs::read_to_string(&path).unwrap();
                out.entry(module).or_default().push(text);
            }
        }
    }
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, ms)| ms.contains(&module))
}

#[test]
fn every_module_has_a_layer_and_imports_only_its_own_or_lower_ones() {
    let imports = imports();
    let unplaced: Vec<&String> = imports.keys().filter(|m| layer_of(m).is_none()).collect();
    assert!(
        unplaced.is_empty(),
        "modules without a layer in LAYERS: {unplaced:?}"
    );
    let mut upward = Vec::new();
    for (from, tos) in &imports {
        for to in tos {
            let (f, t) = (layer_of(from).unwrap(), layer_of(to).unwrap());
            if t > f {
                upward.push(format!(
                    "{from} ({}) -> {to} ({})",
                    LAYERS[f].0, LAYERS[t].0
                ));
            }
        }
    }
    assert!(upward.is_empty(), "imports running upward: {upward:#?}");
}

#[test]
fn no_imports_run_in_a_circle() {
    let imports = imports();
    // Kahn's algorithm: whatever cannot be peeled off, leaf first, is on a circle.
    let mut left: BTreeMap<&str, BTreeSet<&str>> = imports
        .iter()
        .map(|(m, tos)| (m.as_str(), tos.iter().map(String::as_str).collect()))
        .collect();
    loop {
        let leaves: Vec<&str> = left
            .iter()
            .filter(|(_, tos)| tos.is_empty())
            .map(|(m, _)| *m)
            .collect();
        if leaves.is_empty() {
            break;
        }
        for leaf in &leaves {
            left.remove(leaf);
        }
        for tos in left.values_mut() {
            for leaf in &leaves {
                tos.remove(leaf);
            }
        }
    }
    assert!(left.is_empty(), "modules on an import circle: {left:#?}");
}
