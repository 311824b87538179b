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
    assert!(out.contains("instance ready"), "{out}");
    assert!(out.contains("quickstart: done"), "{out}");
}
