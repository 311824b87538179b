//! kafka_instance: a Kafka client library with a C ABI, on librdkafka.
//!
//! The crate has three layers (ARCHITECTURE.md). The safe modules
//! (`config`, `instance`, `producer`, `consumer`, `logging`, `mock`, ...)
//! do the work and know nothing of C. The [`ffi`] module above them is the
//! C ABI: it checks and converts arguments, calls the safe layer, and turns
//! its `Result`s into `KafkaError`s. The `sys` module below them makes the
//! librdkafka calls rust-rdkafka lacks, each object it makes owned by a
//! type that frees it. Code the compiler cannot check lives at these two
//! ends alone: Cargo.toml's `[lints]` deny it crate-wide, and
//! `src/ffi/mod.rs` and `src/sys/mod.rs` alone lift that. The C header `include/kafka_instance.h` is generated from
//! `ffi` by `build.rs`.

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
