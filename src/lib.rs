//! kafka_instance: a Kafka client library with a C ABI, on librdkafka.
//!
//! The crate has two layers. The safe modules (`config`, `instance`,
//! `logging`, `mock`, ...) do the work and know nothing of C. The [`ffi`]
//! module is the C ABI: it checks and converts arguments, calls the safe
//! layer, and turns its `Result`s into `KafkaError`s. Every `unsafe` in the
//! crate is under `ffi`. The C header `include/kafka_instance.h` is
//! generated from `ffi` by `build.rs`.

#![deny(unsafe_code)]

pub mod admin;
pub mod config;
pub mod consumer;
pub mod error;
pub mod instance;
pub mod json;
pub mod logging;
pub mod mock;
pub mod producer;
pub mod secrets;
pub mod timeout;
pub mod topic;
pub mod url;

#[allow(unsafe_code)]
pub mod ffi;
