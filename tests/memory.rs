//! Every C and C++ test program, and the quickstart, under valgrind
//! memcheck: no invalid access, no uninitialised read, and 0 bytes
//! definitely or indirectly lost beyond the allocations named (with their
//! reasons) in tests/valgrind/kafka_instance.supp. The re-entrancy cases
//! (tests/c/reentrancy.c) all run here, under valgrind.

#![allow(unsafe_code)] // the shared helpers call the C ABI, as a C program would

mod common;
use common::cbuild::{compile_c, compile_cpp, ROOT};
use common::have_tool;

use std::path::Path;
use std::process::Command;

fn memcheck(bin: &Path) -> Result<(), String> {
    // A forked child deliberately releases nothing its parent created
    // (tests/c/fork.c), which a leak check would count in the child; its
    // invalid accesses are still errors.
    let leaks: &[&str] = if bin.ends_with("fork") {
        &["--leak-check=no"]
    } else {
        &[
            "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect",
            "--show-leak-kinds=definite,indirect",
        ]
    };
    let out = Command::new("valgrind")
        .arg(format!(
            "--suppressions={ROOT}/tests/valgrind/kafka_instance.supp"
        ))
        .args(leaks)
        .arg("--error-exitcode=3")
        .arg(bin)
        .env("KAFKA_INSTANCE_LOG", "off")
        .output()
        .map_err(|e| format!("running valgrind: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() && stderr.contains("ERROR SUMMARY: 0 errors") {
        Ok(())
    } else {
        Err(format!(
            "{} under memcheck ({}):\n{stderr}",
            bin.display(),
            out.status
        ))
    }
}

#[test]
fn test_programs_and_quickstart_are_memcheck_clean() {
    if !have_tool("memory", "valgrind") {
        return;
    }
    let bins = [
        compile_c(&Path::new(ROOT).join("tests/c/foundation.c")),
        compile_c(&Path::new(ROOT).join("tests/c/producer.c")),
        compile_c(&Path::new(ROOT).join("tests/c/consumer.c")),
        compile_c(&Path::new(ROOT).join("tests/c/reentrancy.c")),
        compile_c(&Path::new(ROOT).join("tests/c/wakeup.c")),
        compile_c(&Path::new(ROOT).join("tests/c/fork.c")),
        compile_cpp(&Path::new(ROOT).join("tests/cpp/raii.cpp")),
        compile_c(&Path::new(ROOT).join("examples-c/quickstart.c")),
    ];
    let failures: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = bins
            .iter()
            .map(|b| scope.spawn(move || memcheck(b)))
            .collect();
        runs.into_iter()
            .filter_map(|r| r.join().unwrap().err())
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
