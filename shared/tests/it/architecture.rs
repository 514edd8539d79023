//! The layers of docs/architecture.md, held against the code: each module
//! of `shared/src` imports only the modules its row allows (a module's
//! `#[cfg(test)]` part may also use the embedded adapters as doubles, and is
//! not read). The rows only point down, so no two modules import each other.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const CAPABILITIES: &[&str] = &["bus", "directory", "records", "notifications", "inbox", "subscriptions", "outbox", "sessions"];

/// What each module may import, from the ground up.
fn allowed() -> BTreeMap<&'static str, Vec<&'static str>> {
    let with_capabilities = |extra: &[&'static str]| -> Vec<&'static str> { CAPABILITIES.iter().chain(extra).copied().collect() };
    BTreeMap::from([
        ("domain", vec![]),
        ("telemetry", vec![]),
        ("bus", vec!["domain"]),
        ("directory", vec!["domain"]),
        ("records", vec!["domain"]),
        ("auth", vec!["domain", "bus"]),
        ("notifications", vec!["domain", "directory"]),
        ("inbox", vec!["domain", "notifications"]),
        ("subscriptions", vec!["domain", "directory", "records", "notifications"]),
        ("outbox", vec!["domain", "bus", "notifications", "inbox"]),
        ("sessions", vec!["domain"]),
        ("config", vec!["domain", "bus", "auth", "directory", "subscriptions", "sessions"]),
        ("services", with_capabilities(&["domain", "auth"])),
        ("adapters", with_capabilities(&["domain"])),
        ("http", with_capabilities(&["domain", "auth", "config", "services"])),
        ("events", with_capabilities(&["domain", "services"])),
        ("wiring", with_capabilities(&["domain", "auth", "config", "services", "adapters"])),
    ])
}

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The modules a file names as `crate::<module>`, outside comments and its
/// test module.
fn imports(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in text.lines().take_while(|l| !l.trim_start().starts_with("#[cfg(test)]")) {
        let code = line.split("//").next().unwrap_or_default();
        for (at, _) in code.match_indices("crate::") {
            let name: String = code[at + "crate::".len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            names.insert(name);
        }
    }
    names
}

#[test]
fn each_module_imports_only_what_its_layer_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let allowed = allowed();
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut seen = BTreeSet::new();
    let mut wrong = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        let module = relative.components().next().and_then(|c| c.as_os_str().to_str()).unwrap_or_default().trim_end_matches(".rs").to_owned();
        if module == "lib" {
            continue;
        }
        seen.insert(module.clone());
        let Some(may) = allowed.get(module.as_str()) else {
            wrong.push(format!("{}: module '{module}' has no row in docs/architecture.md", relative.display()));
            continue;
        };
        for name in imports(&std::fs::read_to_string(&file).expect("read")) {
            if name != module && !may.contains(&name.as_str()) {
                wrong.push(format!("{}: {module} imports {name}", relative.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layers:\n{}", wrong.join("\n"));
    assert_eq!(seen, allowed.keys().map(|k| k.to_string()).collect(), "every row is a module");
}

#[test]
fn the_reader_sees_an_upward_import() {
    assert_eq!(imports("use crate::adapters::aws::Table;\n// crate::wiring\nfn f() { crate::http::ApiError::MethodNotAllowed; }\n#[cfg(test)]\nuse crate::events;"), BTreeSet::from(["adapters".to_owned(), "http".to_owned()]));
}
