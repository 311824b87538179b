//! kafka_instance: a Kafka client library with a C ABI, on librdkafka.
//!
//! The crate has two layers. The safe modules (`config`, `instance`,
//! `logging`, `mock`, ...) do the work and know nothing of C. The [`ffi`]
//! module is the C ABI: it checks and converts arguments, calls the safe
//! layer, and turns its `Result`s into `KafkaError`s. Only `ffi` may
//! dereference C pointers: Cargo.toml's `[lints]` denies that crate-wide
//! and `src/ffi/mod.rs` alone lifts it. The C header
//! `include/kafka_instance.h` is generated from `ffi` by `build.rs`.

pub mod admin;
pub mod config;
pub mod consumer;
pub mod error;
pub(crate) mod events;
pub mod fork;
pub mod instance;
pub mod json;
pub mod logging;
pub mod mock;
pub mod oauth;
pub mod producer;
pub mod secrets;
pub mod settings;
pub mod statistics;
pub mod text;
pub mod timeout;
pub mod topic;
pub mod url;

pub mod ffi;
mod sys;
