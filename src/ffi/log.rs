//! Logging: `KafkaLogLevel`, `KafkaLogRecord`, `kafka_set_log_callback`.

use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::Arc;

use crate::ffi::{call_infallible, Site};
use crate::logging::{self, Level, Record};

/// Severity of a log record (syslog numbering).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KafkaLogLevel {
    KAFKA_LOG_ERROR = 3,
    KAFKA_LOG_WARNING = 4,
    KAFKA_LOG_INFO = 6,
    KAFKA_LOG_DEBUG = 7,
}

/// A `KafkaLogLevel` as received from C, where any integer may arrive.
/// The header declares these parameters as `KafkaLogLevel`.
#[repr(transparent)]
#[derive(Debug, Clone, Copy)]
pub struct KafkaLogLevelArg(pub c_int);

/// One structured log record. Every pointer is valid
/// only during the callback; copy what you keep. Strings are UTF-8 and
/// never contain a password or other secret.
#[repr(C)]
pub struct KafkaLogRecord {
    pub level: KafkaLogLevel,
    /// `"error"`, `"warning"`, `"info"` or `"debug"`.
    pub log_type: *const c_char,
    pub message: *const c_char,
    /// Where it happened, e.g. `"kafka_instance.config.set"`; librdkafka's
    /// own lines have `"librdkafka.<facility>"`.
    pub controller: *const c_char,
    /// Which component, e.g. `"Kafka Producer"`; `"librdkafka"` for
    /// librdkafka's own lines.
    pub subject: *const c_char,
    /// A JSON object with details (error code, librdkafka code, ...), or
    /// NULL.
    pub payload_json: *const c_char,
}

/// Receives log records.
///
/// It may be called from any thread, including librdkafka's, concurrently;
/// it must not block for long. Calling into kafka_instance from it is
/// allowed, except `kafka_set_log_callback` (ignored there); records such
/// calls produce go to stderr.
///
/// @param record The record, valid only during the call (see
///               `KafkaLogRecord`).
/// @param opaque The `opaque` given to `kafka_set_log_callback`.
pub type KafkaLogCallback =
    Option<unsafe extern "C" fn(record: *const KafkaLogRecord, opaque: *mut c_void)>;

fn c_level(level: Level) -> KafkaLogLevel {
    match level {
        Level::Error => KafkaLogLevel::KAFKA_LOG_ERROR,
        Level::Warning => KafkaLogLevel::KAFKA_LOG_WARNING,
        Level::Info => KafkaLogLevel::KAFKA_LOG_INFO,
        Level::Debug => KafkaLogLevel::KAFKA_LOG_DEBUG,
    }
}

/// A C string for a record field; NUL bytes cannot come through C.
fn c_text(text: &str) -> CString {
    CString::new(text.replace('\0', " ")).unwrap_or_default()
}

/// Sends log records to `cb` instead of stderr, or back to stderr when `cb`
/// is NULL.
///
/// (The initial stderr level is warning, or
/// `KAFKA_INSTANCE_LOG=off|error|warning|info|debug`.)
///
/// Every failure a function reports through `KafkaError` is logged at
/// error level, and librdkafka's own lines arrive here too, with subject
/// `"librdkafka"`.
///
/// When this returns, the previous callback has returned from every call
/// and will not be called again, so its `opaque` may be freed.
///
/// @param cb        The callback, or NULL for stderr.
/// @param opaque    Passed to `cb` as is, from any thread.
/// @param max_level Records whose level is at most `max_level` are
///                  delivered: pass `KAFKA_LOG_ERROR` for errors only,
///                  `KAFKA_LOG_DEBUG` for everything; a value below 3 turns
///                  logging off.
#[no_mangle]
pub extern "C" fn kafka_set_log_callback(
    cb: KafkaLogCallback,
    opaque: *mut c_void,
    max_level: KafkaLogLevelArg,
) {
    call_infallible(
        Site::given("kafka_instance.logging.set_callback", "Kafka Logging"),
        || {
            // The caller promises opaque may be used from any thread.
            let sink = cb.map(|f| log_to(f, opaque as usize));
            logging::set_sink(sink, Some(max_level.0));
        },
    )
}

/// A log sink for the safe layer that calls the caller's `f` with a
/// `KafkaLogRecord` whose strings live until `f` returns.
fn log_to(
    f: unsafe extern "C" fn(*const KafkaLogRecord, *mut c_void),
    opaque: usize,
) -> logging::Sink {
    Arc::new(move |r: &Record<'_>| {
        let log_type = c_text(r.level.name());
        let message = c_text(r.message);
        let controller = c_text(r.controller);
        let subject = c_text(r.subject);
        let payload = r.payload_json.map(c_text);
        let record = KafkaLogRecord {
            level: c_level(r.level),
            log_type: log_type.as_ptr(),
            message: message.as_ptr(),
            controller: controller.as_ptr(),
            subject: subject.as_ptr(),
            payload_json: payload.as_ref().map_or(std::ptr::null(), |p| p.as_ptr()),
        };
        // SAFETY: f is the caller's callback; record and its strings live
        // until it returns.
        unsafe { f(&record, opaque as *mut c_void) };
    })
}
