//! Builds the C programs under tests/c/ (`cc -Wall -Wextra -Werror -std=c11
//! -pedantic`) and the C++ ones under tests/cpp/ (`c++ ... -std=c++17`)
//! against the headers and the built shared library, and runs them against
//! the embedded broker.

#![allow(unsafe_code)] // the shared helpers call the C ABI, as a C program would

mod common;
use common::cbuild::{assert_ok, compile_c, compile_cpp, run, ROOT};

use std::path::Path;

#[test]
fn foundation_program_passes() {
    let bin = compile_c(&Path::new(ROOT).join("tests/c/foundation.c"));
    // The default sink's level, whatever this process was started with.
    let out = run(&bin, &[("KAFKA_INSTANCE_LOG", "warning")]);
    assert_ok(&out, "foundation.c");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("all checks passed"), "{stdout}");

    // Without a callback, failures go to stderr as one JSON line each.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("default.sink.probe"))
        .unwrap_or_else(|| panic!("no stderr record:\n{stderr}"));
    let record: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(record["log_type"], "error");
    assert_eq!(record["controller"], "kafka_instance.config.set");
    assert_eq!(record["subject"], "Kafka Config");
    assert_eq!(record["payload"]["code"], "KAFKA_ERR_CONFIG");

    // KAFKA_INSTANCE_LOG=off silences the default sink.
    let out = run(&bin, &[("KAFKA_INSTANCE_LOG", "off")]);
    assert_ok(&out, "foundation.c with logging off");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("default.sink.probe"));
}

/// Compiles and runs tests/c/NAME.c; it prints "NAME: all checks passed".
fn program_passes(name: &str) {
    let bin = compile_c(&Path::new(ROOT).join(format!("tests/c/{name}.c")));
    let out = run(&bin, &[("KAFKA_INSTANCE_LOG", "off")]);
    assert_ok(&out, name);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("{name}: all checks passed")));
}

#[test]
fn producer_program_passes() {
    program_passes("producer");
}

#[test]
fn consumer_program_passes() {
    program_passes("consumer");
}

#[test]
fn cpp_raii_program_passes() {
    let bin = compile_cpp(&Path::new(ROOT).join("tests/cpp/raii.cpp"));
    let out = run(&bin, &[("KAFKA_INSTANCE_LOG", "off")]);
    assert_ok(&out, "raii.cpp");
    assert!(String::from_utf8_lossy(&out.stdout).contains("raii: all checks passed"));
}
