//! Every public function, called with NULL in each pointer argument: an
//! error code (KAFKA_ERR_INVALID_ARGUMENT) or a no-op, never a crash.
//!
//! The list of functions is checked against include/kafka_instance.h, so a
//! new function cannot be added without its NULL case here.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

#[path = "../common/mod.rs"]
mod common;
use common::*;

use std::collections::BTreeSet;
use std::ffi::c_char;
use std::ptr::{null, null_mut};

fn invalid(rc: KafkaErrorCode, e: &KafkaError, what: &str) {
    assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT, "{what}");
    assert_eq!(e.code, KAFKA_ERR_INVALID_ARGUMENT, "{what}");
    assert!(
        e.message_str().ends_with("is NULL"),
        "{what}: {}",
        e.message_str()
    );
}

/// Runs `f` with an instance whose broker is unreachable.
fn with_instance(f: impl FnOnce(*mut KafkaInstance)) {
    let cfg = config(&[("bootstrap_servers", "127.0.0.1:1"), ("group_id", "g")]);
    let mut e = err();
    unsafe {
        let inst = kafka_instance_new(cfg, &mut e);
        assert!(!inst.is_null(), "{}", e.message_str());
        f(inst);
        kafka_instance_free(inst);
        kafka_config_free(cfg);
    }
}

/// A function's name and its NULL case.
type Case = (&'static str, Box<dyn Fn()>);

/// Adds the case for function `$name` to `$v`.
macro_rules! case {
    ($v:ident, $name:ident, $body:expr) => {
        $v.push((stringify!($name), Box::new($body)))
    };
}

// The cases, by handle. Declared after `case!`, which they use (a
// `macro_rules!` macro is visible only in what follows it).
mod admin;
mod config;
mod consumer;
mod instance;
mod message;
mod producer;

/// One case per function in the header, grouped by handle (the C
/// functions of `kafka_<handle>_*`, as in src/ffi/<handle>.rs).
fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    config::config_cases(&mut v);
    config::error_cases(&mut v);
    instance::instance_cases(&mut v);
    admin::cluster_cases(&mut v);
    admin::group_list_cases(&mut v);
    config::statistics_cases(&mut v);
    admin::topic_config_cases(&mut v);
    v.push((
        "kafka_config_set_oauthbearer_token_callback",
        Box::new(|| unsafe {
            let mut e = err();
            let rc =
                kafka_config_set_oauthbearer_token_callback(null_mut(), None, null_mut(), &mut e);
            invalid(rc, &e, "cfg");
        }),
    ));
    config::log_cases(&mut v);
    instance::mock_cluster_cases(&mut v);
    producer::producer_cases(&mut v);
    consumer::consumer_cases(&mut v);
    message::partition_list_cases(&mut v);
    message::message_cases(&mut v);
    config::version_cases(&mut v);
    v
}

/// Function names declared in the header.
fn header_functions() -> BTreeSet<String> {
    let header = std::fs::read_to_string(env!("KAFKA_INSTANCE_GENERATED_HEADER")).unwrap();
    header
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with("typedef") && l.ends_with(");"))
        .filter_map(|l| {
            let before_paren = &l[..l.find('(')?];
            let name = before_paren.rsplit([' ', '*']).next()?;
            name.starts_with("kafka_").then(|| name.to_owned())
        })
        .collect()
}

#[test]
fn every_header_function_has_a_null_case() {
    let declared = header_functions();
    assert!(declared.len() >= 59, "{declared:?}");
    let covered: BTreeSet<String> = cases().iter().map(|(n, _)| n.to_string()).collect();
    let missing: Vec<_> = declared.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "functions without a NULL case: {missing:?}"
    );
    let stale: Vec<_> = covered.difference(&declared).collect();
    assert!(
        stale.is_empty(),
        "cases for functions not in the header: {stale:?}"
    );
}

#[test]
fn null_arguments_never_crash() {
    capture_logs();
    for (name, case) in cases() {
        eprintln!("{name}");
        case();
    }
}
