//! The README's first screen against what the tests really need, so that
//! the two cannot drift apart again: its two commands, CI running exactly
//! the test command, and every program a test starts either named there as
//! a prerequisite or installed by the test command.

#![allow(unsafe_code)] // the shared helpers call the C ABI, as a C program would

mod common;
use common::cbuild::ROOT;
use common::sources::{handles, rust_files};

use std::collections::BTreeSet;
use std::path::Path;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(path)).unwrap()
}

/// The README up to its first section: what a newcomer reads first.
fn first_screen() -> String {
    let readme = read("README.md");
    let end = readme.find("\n## ").unwrap();
    // One line: a name may be broken across two.
    readme[..end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `need COMMAND PACKAGE` lines of scripts/test.sh: what it installs.
fn installed_by_test_script() -> Vec<(String, String)> {
    read("scripts/test.sh")
        .lines()
        .filter_map(|l| {
            let mut words = l.trim().strip_prefix("need ")?.split_whitespace();
            Some((words.next()?.to_owned(), words.next()?.to_owned()))
        })
        .collect()
}

/// The programs the tests start by name: `Command::new("...")` in tests/.
fn programs_the_tests_run() -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    // This file names the pattern itself.
    let files = rust_files(&Path::new(ROOT).join("tests"));
    for (_, text) in files
        .iter()
        .filter(|(path, _)| !path.ends_with("readme.rs"))
    {
        for (i, _) in text.match_indices("Command::new(\"") {
            let rest = &text[i + "Command::new(\"".len()..];
            found.insert(rest[..rest.find('"').unwrap()].to_owned());
        }
    }
    // The compilers, chosen through CC and CXX.
    found.extend(["cc".to_owned(), "c++".to_owned()]);
    found
}

#[test]
fn the_first_screen_shows_the_two_commands_and_ci_runs_the_second() {
    let screen = first_screen();
    assert!(screen.contains("make -C examples-c run"), "{screen}");
    assert!(screen.contains("scripts/test.sh"), "{screen}");
    let ci = read(".ci/run");
    let runs: Vec<&str> = ci
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && l.contains("scripts/test.sh"))
        .collect();
    assert_eq!(
        runs,
        [
            "scripts/test.sh",
            "env \"$broker_env\" scripts/test.sh $broker_facing"
        ],
        "CI runs the README's test command, then the same against tansu (for the tests \
         that talk to a broker)"
    );
}

#[test]
fn every_program_the_tests_start_is_a_prerequisite_or_installed() {
    let screen = first_screen();
    let installed = installed_by_test_script();
    let installs: BTreeSet<&str> = installed.iter().map(|(c, _)| c.as_str()).collect();
    // Named on the first screen as what the machine must have.
    for prerequisite in ["Rust toolchain", "C compiler", "`make`", "`pkg-config`"] {
        assert!(
            screen.contains(prerequisite),
            "the first screen names {prerequisite}"
        );
    }
    // A shell is part of every machine, and flock of every Debian one
    // (util-linux is essential); python3 is on Debian's base image.
    let given = ["sh", "flock"];
    let missing: Vec<String> = programs_the_tests_run()
        .into_iter()
        .filter(|p| !installs.contains(p.as_str()) && !given.contains(&p.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "tests start {missing:?}, which scripts/test.sh does not install (add a `need` line, \
         and name its package on the README's first screen)"
    );
    // Every package the test command installs is named on the first
    // screen, except the ones it names as prerequisites.
    let prerequisites = ["gcc", "make", "pkg-config", "python3"];
    for (_, package) in &installed {
        assert!(
            prerequisites.contains(&package.as_str()) || screen.contains(package.as_str()),
            "the first screen names {package}, which scripts/test.sh installs"
        );
    }
}

/// The Python, Go and Node programs of the guides (docs/python.md,
/// docs/go.md, docs/node.md) are the files the binding tests run
/// (tests/bindings.rs), word for word.
#[test]
fn the_readme_programs_in_other_languages_are_the_tested_files() {
    for (page, fence, file) in [
        ("docs/python.md", "```python\n", "examples-python/orders.py"),
        ("docs/go.md", "```go\n", "go/cmd/orders/main.go"),
        ("docs/node.md", "```js\n", "node/examples/orders.js"),
    ] {
        let text = read(page);
        let start = text
            .find(fence)
            .unwrap_or_else(|| panic!("no {fence:?} block in {page}"))
            + fence.len();
        let end = start + text[start..].find("```\n").unwrap();
        assert_eq!(
            &text[start..end],
            read(file),
            "the {fence:?} block of {page} differs from {file}"
        );
    }
}

/// The pages of docs/, as paths from the repository's root, sorted.
fn guide_pages() -> Vec<String> {
    let mut pages: Vec<String> = std::fs::read_dir(Path::new(ROOT).join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    pages.sort();
    pages
}

/// A markdown text without its fenced code blocks and inline code spans
/// (their `](` and `#` are code, not links or headings); the lines stay
/// where they were.
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            out.push('\n');
            continue;
        }
        if !fenced {
            let mut in_code = false;
            for c in line.chars() {
                if c == '`' {
                    in_code = !in_code;
                } else if !in_code {
                    out.push(c);
                }
            }
        }
        out.push('\n');
    }
    out
}

/// The targets of the inline links `[text](target)` of a markdown text,
/// code left out.
fn link_targets(text: &str) -> Vec<String> {
    let text = prose(text);
    let mut targets = Vec::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        let end = rest.find(')').unwrap_or(rest.len());
        targets.push(rest[..end].trim().to_owned());
        rest = &rest[end..];
    }
    targets
}

/// The anchors GitHub gives the headings of a markdown text: the heading's
/// text lowercased, punctuation other than `-` and `_` dropped, spaces
/// made `-`; a repeated one gets `-1`, `-2`, ...
fn anchors(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let Some(heading) = line.strip_prefix('#') else {
            continue;
        };
        let heading = heading.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let anchor: String = heading
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '_' || *c == ' ')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let mut unique = anchor.clone();
        let mut n = 0;
        while found.contains(&unique) {
            n += 1;
            unique = format!("{anchor}-{n}");
        }
        found.insert(unique);
    }
    found
}

/// Every relative link of the README, ARCHITECTURE.md and the guides
/// (docs/) names a file that exists, and every `#anchor` a heading of its
/// file.
#[test]
fn every_link_between_the_readme_and_the_guides_resolves() {
    let mut files = vec!["README.md".to_owned(), "ARCHITECTURE.md".to_owned()];
    files.extend(guide_pages());
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in &files {
        let dir = Path::new(file).parent().unwrap();
        for target in link_targets(&read(file)) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, anchor) = match target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (target.as_str(), None),
            };
            let linked = if path.is_empty() {
                Path::new(file).to_path_buf()
            } else {
                dir.join(path)
            };
            if !Path::new(ROOT).join(&linked).exists() {
                broken.push(format!("{file}: ({target}): no file {}", linked.display()));
                continue;
            }
            if let Some(anchor) = anchor {
                let text =
                    std::fs::read_to_string(Path::new(ROOT).join(&linked)).unwrap_or_default();
                if !anchors(&text).contains(anchor) {
                    broken.push(format!(
                        "{file}: ({target}): no heading of {} has the anchor #{anchor}",
                        linked.display()
                    ));
                }
            }
        }
    }
    assert!(checked > 20, "only {checked} links found");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The README is a first screen, a first program and a map: the rest is
/// in the guides.
#[test]
fn the_readme_stays_short() {
    let lines = read("README.md").lines().count();
    assert!(
        lines <= 400,
        "README.md has {lines} lines: move the detail into a page of docs/"
    );
}

/// Every page of docs/ is linked from the README.
#[test]
fn every_guide_page_is_linked_from_the_readme() {
    let linked: BTreeSet<String> = link_targets(&read("README.md"))
        .into_iter()
        .map(|t| t.split('#').next().unwrap().to_owned())
        .collect();
    let pages = guide_pages();
    assert!(pages.len() > 10, "{pages:?}");
    for page in pages {
        assert!(
            linked.contains(&page),
            "README.md does not link {page} (add it to its Guides list)"
        );
    }
}

/// The list of tests that could not run names each once, in the order
/// they were recorded, however many tests recorded the same line (two
/// tests sharing a helper did): scripts/test.sh's own printing of it, run
/// on such a file.
#[test]
fn the_not_run_list_names_each_test_once() {
    let script = read("scripts/test.sh");
    let start = script
        .find("if [ -s \"$not_run\" ]; then")
        .expect("scripts/test.sh prints the not-run list");
    let end = start + script[start..].find("\nfi\n").expect("its end");
    let block = &script[start..end + 4];
    let dir = Path::new(ROOT).join("target/readme-not-run");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("not-run.txt");
    std::fs::write(
        &file,
        "a::login: needs a broker with OAUTHBEARER\n\
         b::every_committed_partition: not run against this broker\n\
         a::login: needs a broker with OAUTHBEARER\n\
         b::every_committed_partition: not run against this broker\n\
         c::pipeline: its stderr:\n  line one\n",
    )
    .unwrap();
    let out = std::process::Command::new("bash")
        .args(["-c", &format!("not_run=\"$1\"\n{block}"), "sh"])
        .arg(&file)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = printed.lines().skip(1).collect();
    assert_eq!(
        lines,
        [
            "  a::login: needs a broker with OAUTHBEARER",
            "  b::every_committed_partition: not run against this broker",
            "  c::pipeline: its stderr:",
            "    line one",
        ],
        "{printed}"
    );
}

/// A newcomer finds every file of src/ in ARCHITECTURE.md, by its path
/// below src/ (a path not preceded by another folder's name).
#[test]
fn every_source_file_is_in_architecture_md() {
    let architecture = read("ARCHITECTURE.md");
    let src = Path::new(ROOT).join("src");
    let files: Vec<String> = rust_files(&src)
        .into_iter()
        .map(|(path, _)| {
            path.strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert!(files.len() > 40, "{files:?}");
    let named = |path: &str| {
        architecture.match_indices(path).any(|(at, _)| {
            let before = architecture[..at].chars().next_back();
            !before.is_some_and(|c| c == '/' || c == '_' || c.is_ascii_alphanumeric())
                || architecture[..at].ends_with("src/")
        })
    };
    let missing: Vec<&String> = files.iter().filter(|f| !named(f)).collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md does not name: {missing:?}"
    );
}

/// ARCHITECTURE.md's list of handles is src/ffi/handles.rs's: each handle
/// with its C type and its boundary file.
#[test]
fn architecture_md_lists_every_handle_of_the_one_list() {
    let architecture = read("ARCHITECTURE.md");
    for h in handles::HANDLES {
        let file = format!("ffi/{}.rs", h.name);
        assert!(architecture.contains(&file), "ARCHITECTURE.md lacks {file}");
        assert!(
            h.c_type.is_empty() || architecture.contains(&format!("`{}`", h.c_type)),
            "ARCHITECTURE.md lacks `{}`",
            h.c_type
        );
    }
}

/// ARCHITECTURE.md's layers: src/ffi/ is imported by nothing outside it;
/// the safe layer names no C type and holds no `unsafe`; src/sys/ imports
/// nothing of the safe layer.
#[test]
fn the_layers_point_one_way() {
    let src = Path::new(ROOT).join("src");
    let mut wrong = Vec::new();
    for (path, text) in rust_files(&src) {
        let below = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let layer = below.split('/').next().unwrap();
        let c_words = [
            "unsafe",
            "c_char",
            "c_void",
            "c_int",
            "CStr",
            "CString",
            "libc::",
            "rdkafka::bindings",
            "extern \"C\"",
        ];
        match layer {
            "ffi" => {}
            "sys" | "sys.rs" => {
                for word in code.split("crate::").skip(1) {
                    if !word.starts_with("sys") {
                        wrong.push(format!(
                            "src/{below} (below the safe layer) uses crate::{}",
                            &word[..word.len().min(20)]
                        ));
                    }
                }
            }
            _ if below == "lib.rs" => {}
            _ => {
                if code.contains("crate::ffi") || code.contains("ffi::") {
                    wrong.push(format!("src/{below} imports the C boundary"));
                }
                for word in c_words {
                    if code.contains(word) {
                        wrong.push(format!("src/{below} names `{word}`"));
                    }
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "layers pointing the wrong way: {wrong:#?}"
    );
}

/// A reader can hold a file: none in src/ passes 600 lines, none in
/// tests/ 800.
#[test]
fn no_file_passes_its_line_limit() {
    let mut long = Vec::new();
    for (dir, limit) in [("src", 600), ("tests", 800)] {
        for (path, text) in rust_files(&Path::new(ROOT).join(dir)) {
            let lines = text.lines().count();
            if lines > limit {
                long.push(format!(
                    "{} ({} lines, limit {limit})",
                    path.display(),
                    lines
                ));
            }
        }
    }
    assert!(long.is_empty(), "too long: {long:?}");
}

/// No two modules of src/ import each other, directly or around a circle
/// (`use crate::a` in a file of module `b`, at the level of the crate's
/// top modules; the C boundary, above all, is left out: nothing imports it).
#[test]
fn no_import_circle_between_the_modules() {
    use std::collections::{BTreeMap, BTreeSet};
    let src = Path::new(ROOT).join("src");
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in rust_files(&src) {
        let below = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let from = below.split(['/', '.']).next().unwrap().to_owned();
        if from == "ffi" || from == "lib" {
            continue;
        }
        for (at, _) in text.match_indices("crate::") {
            let to: String = text[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !to.is_empty() && to != from {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    // Depth-first: a module met again on the path is a circle.
    fn visit(
        m: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == m) {
            let mut circle = path[i..].to_vec();
            circle.push(m.to_owned());
            return Some(circle);
        }
        if !done.insert(m.to_owned()) {
            return None;
        }
        path.push(m.to_owned());
        for next in edges.get(m).into_iter().flatten() {
            if let Some(c) = visit(next, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for m in edges.keys() {
        let circle = visit(m, &edges, &mut Vec::new(), &mut done);
        assert!(
            circle.is_none(),
            "an import circle: {}",
            circle.unwrap().join(" -> ")
        );
    }
}
