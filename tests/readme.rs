//! The README's first screen against what the tests really need, so that
//! the two cannot drift apart again: its two commands, CI running exactly
//! the test command, and every program a test starts either named there as
//! a prerequisite or installed by the test command.

#![allow(unsafe_code)] // the shared helpers call the C ABI, as a C program would

mod common;
use common::cbuild::ROOT;

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
    let mut files = vec![Path::new(ROOT).join("tests/common/cbuild.rs")];
    for entry in std::fs::read_dir(Path::new(ROOT).join("tests")).unwrap() {
        let path = entry.unwrap().path();
        // This file names the pattern itself.
        if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("readme.rs") {
            files.push(path);
        }
    }
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
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
    // A shell is part of every machine; python3 is on Debian's base image.
    let given = ["sh"];
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

/// The README's Python, Go and Node programs are the files the binding
/// tests run (tests/bindings.rs), word for word.
#[test]
fn the_readme_programs_in_other_languages_are_the_tested_files() {
    let readme = read("README.md");
    for (fence, file) in [
        ("```python\n", "examples-python/orders.py"),
        ("```go\n", "go/cmd/orders/main.go"),
        ("```js\n", "node/examples/orders.js"),
    ] {
        let start = readme
            .find(fence)
            .unwrap_or_else(|| panic!("no {fence:?} block in the README"))
            + fence.len();
        let end = start + readme[start..].find("```\n").unwrap();
        assert_eq!(
            &readme[start..end],
            read(file),
            "the README's {fence:?} block differs from {file}"
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
