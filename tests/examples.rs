//! Every C example compiles with -Wall -Wextra -Werror -std=c11 and runs
//! to success against the embedded broker (and against
//! KAFKA_BOOTSTRAP_SERVERS when that is set: the examples read it).

mod common;
use common::cbuild::{assert_ok, compile_c, run, ROOT};

use std::path::Path;

fn example(name: &str) -> String {
    let bin = compile_c(&Path::new(ROOT).join("examples-c").join(format!("{name}.c")));
    let out = run(&bin, &[]);
    assert_ok(&out, name);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_example_is_tested() {
    let mut sources: Vec<String> = std::fs::read_dir(Path::new(ROOT).join("examples-c"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".c").map(str::to_owned)
        })
        .collect();
    sources.sort();
    assert_eq!(
        sources, TESTED,
        "add a test for each example in examples-c/"
    );
}

const TESTED: &[&str] = &["quickstart"];

#[test]
fn quickstart() {
    let out = example("quickstart");
    assert!(out.contains("produced 6 orders"), "{out}");
    assert!(
        out.contains("consumed 6/6 orders, 6 byte-identical"),
        "{out}"
    );
    assert!(out.contains("quickstart: ok"), "{out}");
}

/// The README's C example compiles as printed (it needs a broker on
/// localhost:9092 to run, so it is only compiled).
#[test]
fn the_readme_c_example_compiles() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let start = readme
        .find("## In C")
        .expect("README has an 'In C' section");
    let code_start = readme[start..].find("```c\n").unwrap() + start + 5;
    let code_end = readme[code_start..].find("```").unwrap() + code_start;
    let dir = Path::new(ROOT).join("target").join("c-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("readme_example.c");
    std::fs::write(&source, &readme[code_start..code_end]).unwrap();
    compile_c(&source);
}
