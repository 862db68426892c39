//! The dependency rule of the README's "Architecture", checked against the imports in
//! src/: a change that breaks it fails here, naming the file and the import.

use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, as a path relative to src/.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

/// The top-level modules of this crate that a file names (`crate::net::http` → `net`),
/// outside comments.
fn crate_modules_used(text: &str) -> Vec<String> {
    let mut used = Vec::new();
    for line in text.lines().map(str::trim_start) {
        if line.starts_with("//") {
            continue;
        }
        for (at, _) in line.match_indices("crate::") {
            let name: String = line[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && !used.contains(&name) {
                used.push(name);
            }
        }
    }
    used
}

/// What each part may not import. `day` may import nothing else of ours; the store makes
/// no network calls; the stages of the pipeline do not reach into each other or up into
/// the job and the commands; only the commands call the job.
fn forbidden(place: &str) -> &'static [&'static str] {
    match place {
        "day" => &[
            "cli",
            "commands",
            "config",
            "context",
            "error",
            "job",
            "logging",
            "net",
            "output",
            "providers",
            "render",
            "secret",
            "sinks",
            "store",
        ],
        "store" => &[
            "net",
            "providers",
            "render",
            "sinks",
            "job",
            "commands",
            "context",
        ],
        "net" => &["providers", "render", "sinks", "job", "commands"],
        "providers" => &["render", "sinks", "job", "commands"],
        "render" => &[
            "providers",
            "sinks",
            "net",
            "store",
            "job",
            "commands",
            "context",
        ],
        "sinks" => &["providers", "render", "job", "commands"],
        "job" => &["commands"],
        // like the job, it composes the stages; only `run` calls it
        "notify" => &["commands", "job"],
        _ => &[],
    }
}

#[test]
fn no_import_breaks_the_dependency_rule() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken = Vec::new();
    for file in sources(&src) {
        let relative = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let place = relative
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        let text = fs::read_to_string(&file).unwrap();
        for module in crate_modules_used(&text) {
            if forbidden(&place).contains(&module.as_str()) {
                broken.push(format!("{relative} imports crate::{module}"));
            }
        }
        if place == "store" && text.contains("reqwest") {
            broken.push(format!(
                "{relative} uses reqwest: the store makes no network calls"
            ));
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn commands_never_call_each_other() {
    let commands = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/commands");
    let mut broken = Vec::new();
    for file in sources(&commands) {
        let text = fs::read_to_string(&file).unwrap();
        let relative = file
            .strip_prefix(&commands)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let top_level = !relative.contains('/') && relative != "mod.rs";
        // a test module's `use super::*` is the file itself, not another command
        let reaches = text.lines().map(str::trim).any(|line| {
            (line.starts_with("use super::") && line != "use super::*;")
                || line.contains("crate::commands::")
        });
        if top_level && reaches {
            broken.push(format!("commands/{relative} reaches another command"));
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_rule_check_sees_imports_and_skips_comments() {
    let used = crate_modules_used(
        "use crate::net::http::{self, Reply};\n// crate::job is only mentioned\nlet x = crate::day::demo::sample_day();",
    );
    assert_eq!(used, ["net", "day"]);
}
