//! Builds the C programs under tests/c/ (`cc -Wall -Wextra -Werror -std=c11
//! -pedantic`) and the C++ ones under tests/cpp/ (`c++ ... -std=c++17`)
//! against the headers and the built shared library, and runs them against
//! the embedded broker.

#![allow(unsafe_code)] // the shared helpers call the C ABI, as a C program would

mod common;
use common::cbuild::{assert_ok, compile_c, compile_cpp, run, ROOT};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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
    program_case_passes(name, None);
}

/// Compiles tests/c/NAME.c once for all the tests of this binary (they run
/// in parallel, and share the output path).
fn compiled(name: &str) -> PathBuf {
    static BUILT: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    built
        .entry(name.to_owned())
        .or_insert_with(|| compile_c(&Path::new(ROOT).join(format!("tests/c/{name}.c"))))
        .clone()
}

/// Runs one case of tests/c/NAME.c (its first argument), or all of them.
fn program_case_passes(name: &str, case: Option<&str>) {
    let bin = compiled(name);
    let mut cmd = std::process::Command::new(&bin);
    cmd.env("KAFKA_INSTANCE_LOG", "off").args(case);
    let out = cmd.output().unwrap();
    assert_ok(&out, &format!("{name} {}", case.unwrap_or("")));
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

/// The C++ layer's operations (tests/cpp/operations.cpp): statistics and
/// OAUTHBEARER std::function callbacks outliving their Config, cluster
/// description, group lag, a throwing token callback as an
/// authentication failure.
#[test]
fn cpp_operations_program_passes() {
    let bin = compile_cpp(&Path::new(ROOT).join("tests/cpp/operations.cpp"));
    let out = run(&bin, &[("KAFKA_INSTANCE_LOG", "off")]);
    assert_ok(&out, "operations.cpp");
    assert!(String::from_utf8_lossy(&out.stdout).contains("operations: all checks passed"));
}

// Callbacks calling back into the library (tests/c/reentrancy.c), one
// test per case; tests/memory.rs runs them all under valgrind.

/// A delivery callback calls flush, send_sync, send_json_sync and close on
/// its own producer: each refused with KAFKA_ERR_STATE at once (they used
/// to deadlock, or return KAFKA_ERR_INTERNAL); a plain send works.
#[test]
fn a_delivery_callback_waiting_on_its_own_producer_is_refused_at_once() {
    program_case_passes("reentrancy", Some("producer_waits_inside_its_own_callback"));
}

/// A delivery callback of producer A closes producer B, which has ten
/// messages queued: each of B's ten callbacks runs once before the close
/// returns (it used to panic, "already borrowed", and run none).
#[test]
fn a_delivery_callback_closing_another_producer_gets_all_its_callbacks() {
    program_case_passes(
        "reentrancy",
        Some("producer_closes_another_inside_a_callback"),
    );
}

/// Closing the producer of kafka_instance_with_producer inside its scope
/// is refused (it was a double free); the scope closes it.
#[test]
fn closing_a_scoped_producer_inside_its_scope_is_refused() {
    program_case_passes("reentrancy", Some("producer_scope_refuses_close"));
}

/// A handler registers handlers (while allocating), commits, stores, and
/// tries to close and to poll its consumer: registering takes effect from
/// the next message (it was a use after free), commits work, close and
/// polls are refused with KAFKA_ERR_STATE (close returned OK, then
/// SIGSEGV).
#[test]
fn handlers_calling_back_into_their_consumer_are_safe() {
    program_case_passes("reentrancy", Some("consumer_handlers_call_back_in"));
}

/// Closing the consumer of kafka_instance_with_consumer inside its scope
/// is refused; the scope closes it.
#[test]
fn closing_a_scoped_consumer_inside_its_scope_is_refused() {
    program_case_passes("reentrancy", Some("consumer_scope_refuses_close"));
}

/// A log callback, run inside a poll and inside close, closes and polls
/// the consumer: refused (close used to free the running consumer).
#[test]
fn a_log_callback_closing_or_polling_its_consumer_is_refused() {
    program_case_passes("reentrancy", Some("consumer_log_callback_calls_back_in"));
}

/// A log callback, run on the producer's thread, flushes, sends and
/// waits, and closes its producer: refused at once, no deadlock.
#[test]
fn a_log_callback_waiting_on_its_producer_is_refused() {
    program_case_passes("reentrancy", Some("producer_log_callback_calls_back_in"));
}

/// A statistics callback, on the admin client's thread, makes admin calls
/// on its own instance (they work) and then frees that instance (no
/// self-join, no report after).
#[test]
fn a_statistics_callback_using_and_freeing_its_instance_works() {
    program_case_passes("reentrancy", Some("statistics_callback_calls_back_in"));
}

/// kafka_consumer_wakeup from a thread, from a signal handler and before a
/// poll (tests/c/wakeup.c).
#[test]
fn wakeup_ends_a_blocked_poll_from_a_thread_or_a_signal_handler() {
    program_passes("wakeup");
}

/// Clients used in a forked child (tests/c/fork.c).
#[test]
fn clients_refuse_use_after_fork_and_the_parent_is_untouched() {
    program_passes("fork");
}
