//! The producer through the C ABI, against the embedded broker and, when
//! KAFKA_BOOTSTRAP_SERVERS is set, that broker too.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

#[path = "../common/mod.rs"]
mod common;
use common::producer::*;
use common::*;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{c_int, c_void};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicUsize, Ordering};

use rdkafka::message::{Headers, Message};

mod lifecycle;
mod sending;
mod tracked;
