//! Helpers for tests that call the C ABI as a C program would.
#![allow(dead_code, unused_imports)]

pub mod cbuild;

use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::{Mutex, MutexGuard};

pub use kafka_instance::ffi::config::*;
pub use kafka_instance::ffi::error::*;
pub use kafka_instance::ffi::instance::*;
pub use kafka_instance::ffi::log::*;
pub use kafka_instance::ffi::mock_cluster::*;
pub use kafka_instance::ffi::version::*;
pub use KafkaErrorCode::*;

pub fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

pub fn err() -> KafkaError {
    KafkaError::default()
}

/// A string returned by the library.
pub fn s(p: *const c_char) -> String {
    assert!(!p.is_null());
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned()
}

/// A log record, copied out of the callback.
#[derive(Debug, Clone)]
pub struct Logged {
    pub level: i32,
    pub log_type: String,
    pub message: String,
    pub controller: String,
    pub subject: String,
    pub payload_json: Option<String>,
}

impl Logged {
    pub fn text(&self) -> String {
        format!(
            "{} {} {} {} {} {}",
            self.log_type,
            self.message,
            self.controller,
            self.subject,
            self.payload_json.as_deref().unwrap_or(""),
            self.level
        )
    }
}

static RECORDS: Mutex<Vec<Logged>> = Mutex::new(Vec::new());

unsafe extern "C" fn capture(record: *const KafkaLogRecord, _opaque: *mut c_void) {
    let r = unsafe { &*record };
    let text = |p: *const c_char| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned();
    let logged = Logged {
        level: r.level as i32,
        log_type: text(r.log_type),
        message: text(r.message),
        controller: text(r.controller),
        subject: text(r.subject),
        payload_json: (!r.payload_json.is_null()).then(|| text(r.payload_json)),
    };
    RECORDS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(logged);
}

/// Sends every record (debug and up) to an in-memory list for this test
/// binary. Tests in one binary share it: look for your own records.
pub fn capture_logs() {
    capture_logs_at(KafkaLogLevel::KAFKA_LOG_DEBUG as i32);
}

/// Installs the capturing callback with a given `max_level`.
pub fn capture_logs_at(max_level: i32) {
    kafka_set_log_callback(
        Some(capture),
        std::ptr::null_mut(),
        KafkaLogLevelArg(max_level),
    );
}

/// The capturing callback, for tests that install it themselves.
pub const CAPTURE: KafkaLogCallback = Some(capture);

pub fn clear_logged() {
    RECORDS.lock().unwrap_or_else(|e| e.into_inner()).clear();
}

pub fn logged() -> Vec<Logged> {
    RECORDS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Serializes tests that change global state (the log callback).
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A config with the given `(key, value)` settings, through the C ABI.
pub fn config(settings: &[(&str, &str)]) -> *mut KafkaConfig {
    let cfg = kafka_config_new();
    for (k, v) in settings {
        let mut e = err();
        let rc = unsafe { kafka_config_set(cfg, c(k).as_ptr(), c(v).as_ptr(), &mut e) };
        assert_eq!(rc, KAFKA_OK, "{k}={v}: {}", e.message_str());
    }
    cfg
}

/// A broker to run broker-facing tests against: the embedded mock cluster,
/// and also `KAFKA_BOOTSTRAP_SERVERS` when that is set.
pub struct Broker {
    pub name: &'static str,
    pub bootstrap: String,
    pub mock: *mut KafkaMockCluster,
}

impl Drop for Broker {
    fn drop(&mut self) {
        unsafe { kafka_mock_cluster_free(self.mock) };
    }
}

pub fn brokers() -> Vec<Broker> {
    let mut out = Vec::new();
    let mut e = err();
    let mock = unsafe { kafka_mock_cluster_new(1, &mut e) };
    assert!(!mock.is_null(), "{}", e.message_str());
    out.push(Broker {
        name: "embedded",
        bootstrap: s(unsafe { kafka_mock_cluster_bootstrap_servers(mock) }),
        mock,
    });
    if let Ok(servers) = std::env::var("KAFKA_BOOTSTRAP_SERVERS") {
        if !servers.trim().is_empty() {
            out.push(Broker {
                name: "external",
                bootstrap: servers,
                mock: std::ptr::null_mut(),
            });
        }
    }
    out
}

/// A topic name no other test uses.
pub fn unique_topic(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
