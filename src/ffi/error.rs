//! `KafkaErrorCode`, `KafkaError` and `kafka_error_code_name`.

use std::ffi::{c_char, c_int, CStr};

use crate::error::{Error, ErrorKind};
use crate::ffi::{call_infallible, site};

/// What went wrong. `KAFKA_OK` (0) is success.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KafkaErrorCode {
    /// Success.
    KAFKA_OK = 0,
    /// A NULL pointer, an empty or invalid topic, invalid UTF-8, a bad enum
    /// value or an out-of-range number.
    KAFKA_ERR_INVALID_ARGUMENT = 1,
    /// No brokers configured, an unknown setting, or a value that
    /// librdkafka or this library refuses.
    KAFKA_ERR_CONFIG = 2,
    /// A value that must be JSON is not.
    KAFKA_ERR_SERIALIZATION = 3,
    /// The operation did not complete within its timeout.
    KAFKA_ERR_TIMEOUT = 4,
    /// The local producer queue is full; retry after a flush or a delay.
    KAFKA_ERR_QUEUE_FULL = 5,
    /// librdkafka or the broker failed the operation: see `rdkafka_code`.
    KAFKA_ERR_BROKER = 6,
    /// A user callback returned non-zero.
    KAFKA_ERR_CALLBACK = 7,
    /// `kafka_config_get` on a setting that is not set.
    KAFKA_ERR_NOT_FOUND = 8,
    /// The caller's buffer is too small; the needed length was reported.
    KAFKA_ERR_BUFFER_TOO_SMALL = 9,
    /// Not allowed now: a call inside a callback of the same handle that
    /// would deadlock or free what is running (closing a consumer inside
    /// its handler, flushing a producer inside its delivery callback), a
    /// handle created in another process (after `fork()`), or a producer
    /// that is closing. Nothing was done; the handle is still usable where
    /// it was before.
    KAFKA_ERR_STATE = 10,
    /// A blocked `kafka_consumer_poll`, `kafka_consumer_poll_batch` or
    /// `kafka_consumer_consume` was woken by `kafka_consumer_wakeup`.
    KAFKA_ERR_WAKEUP = 11,
    /// A bug in kafka_instance (an internal panic was caught).
    KAFKA_ERR_INTERNAL = 99,
}

impl KafkaErrorCode {
    /// The C name, e.g. `"KAFKA_ERR_TIMEOUT"`.
    pub fn c_name(self) -> &'static CStr {
        match self {
            KafkaErrorCode::KAFKA_OK => c"KAFKA_OK",
            KafkaErrorCode::KAFKA_ERR_INVALID_ARGUMENT => c"KAFKA_ERR_INVALID_ARGUMENT",
            KafkaErrorCode::KAFKA_ERR_CONFIG => c"KAFKA_ERR_CONFIG",
            KafkaErrorCode::KAFKA_ERR_SERIALIZATION => c"KAFKA_ERR_SERIALIZATION",
            KafkaErrorCode::KAFKA_ERR_TIMEOUT => c"KAFKA_ERR_TIMEOUT",
            KafkaErrorCode::KAFKA_ERR_QUEUE_FULL => c"KAFKA_ERR_QUEUE_FULL",
            KafkaErrorCode::KAFKA_ERR_BROKER => c"KAFKA_ERR_BROKER",
            KafkaErrorCode::KAFKA_ERR_CALLBACK => c"KAFKA_ERR_CALLBACK",
            KafkaErrorCode::KAFKA_ERR_NOT_FOUND => c"KAFKA_ERR_NOT_FOUND",
            KafkaErrorCode::KAFKA_ERR_BUFFER_TOO_SMALL => c"KAFKA_ERR_BUFFER_TOO_SMALL",
            KafkaErrorCode::KAFKA_ERR_STATE => c"KAFKA_ERR_STATE",
            KafkaErrorCode::KAFKA_ERR_WAKEUP => c"KAFKA_ERR_WAKEUP",
            KafkaErrorCode::KAFKA_ERR_INTERNAL => c"KAFKA_ERR_INTERNAL",
        }
    }

    pub fn name(self) -> &'static str {
        // The literals above are ASCII.
        self.c_name().to_str().unwrap_or("KAFKA_ERR_UNKNOWN")
    }

    const ALL: [KafkaErrorCode; 13] = [
        KafkaErrorCode::KAFKA_OK,
        KafkaErrorCode::KAFKA_ERR_INVALID_ARGUMENT,
        KafkaErrorCode::KAFKA_ERR_CONFIG,
        KafkaErrorCode::KAFKA_ERR_SERIALIZATION,
        KafkaErrorCode::KAFKA_ERR_TIMEOUT,
        KafkaErrorCode::KAFKA_ERR_QUEUE_FULL,
        KafkaErrorCode::KAFKA_ERR_BROKER,
        KafkaErrorCode::KAFKA_ERR_CALLBACK,
        KafkaErrorCode::KAFKA_ERR_NOT_FOUND,
        KafkaErrorCode::KAFKA_ERR_BUFFER_TOO_SMALL,
        KafkaErrorCode::KAFKA_ERR_STATE,
        KafkaErrorCode::KAFKA_ERR_WAKEUP,
        KafkaErrorCode::KAFKA_ERR_INTERNAL,
    ];
}

impl From<ErrorKind> for KafkaErrorCode {
    fn from(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::InvalidArgument => KafkaErrorCode::KAFKA_ERR_INVALID_ARGUMENT,
            ErrorKind::Config => KafkaErrorCode::KAFKA_ERR_CONFIG,
            ErrorKind::Serialization => KafkaErrorCode::KAFKA_ERR_SERIALIZATION,
            ErrorKind::Timeout => KafkaErrorCode::KAFKA_ERR_TIMEOUT,
            ErrorKind::QueueFull => KafkaErrorCode::KAFKA_ERR_QUEUE_FULL,
            ErrorKind::Broker => KafkaErrorCode::KAFKA_ERR_BROKER,
            ErrorKind::Callback => KafkaErrorCode::KAFKA_ERR_CALLBACK,
            ErrorKind::NotFound => KafkaErrorCode::KAFKA_ERR_NOT_FOUND,
            ErrorKind::BufferTooSmall => KafkaErrorCode::KAFKA_ERR_BUFFER_TOO_SMALL,
            ErrorKind::State => KafkaErrorCode::KAFKA_ERR_STATE,
            ErrorKind::Wakeup => KafkaErrorCode::KAFKA_ERR_WAKEUP,
            ErrorKind::Internal => KafkaErrorCode::KAFKA_ERR_INTERNAL,
        }
    }
}

/// A `KafkaErrorCode` as received from C, where any integer may arrive.
/// The header declares these parameters as `KafkaErrorCode`.
#[repr(transparent)]
#[derive(Debug, Clone, Copy)]
pub struct KafkaErrorCodeArg(pub c_int);

/// Room for an error message, including its terminating NUL.
pub const KAFKA_ERROR_MESSAGE_SIZE: usize = 512;

/// The details of a failure. Every fallible function takes a
/// `KafkaError *err` as its last parameter; it may be NULL. On success
/// `code` is `KAFKA_OK` and `message` is empty.
#[repr(C)]
pub struct KafkaError {
    /// What kind of failure.
    pub code: KafkaErrorCode,
    /// librdkafka's `rd_kafka_resp_err_t` when the failure came from
    /// librdkafka or the broker, otherwise 0.
    pub rdkafka_code: i32,
    /// Retrying the same operation may succeed.
    pub retriable: bool,
    /// The client is unusable and must be closed and recreated.
    pub fatal: bool,
    /// A human-readable message, NUL-terminated, UTF-8, truncated at a
    /// character boundary. Never contains a password or other secret.
    pub message: [c_char; KAFKA_ERROR_MESSAGE_SIZE],
}

impl Default for KafkaError {
    /// `KAFKA_OK` with an empty message (for Rust callers; C callers may
    /// pass an uninitialized struct).
    fn default() -> Self {
        KafkaError {
            code: KafkaErrorCode::KAFKA_OK,
            rdkafka_code: 0,
            retriable: false,
            fatal: false,
            message: [0; KAFKA_ERROR_MESSAGE_SIZE],
        }
    }
}

impl KafkaError {
    /// The message as a Rust string.
    pub fn message_str(&self) -> String {
        let bytes: Vec<u8> = self
            .message
            .iter()
            .take_while(|c| **c != 0)
            .map(|c| *c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    pub(crate) fn set_ok(&mut self) {
        self.code = KafkaErrorCode::KAFKA_OK;
        self.rdkafka_code = 0;
        self.retriable = false;
        self.fatal = false;
        self.message[0] = 0;
    }

    /// Sets a code and a fixed message without allocating or locking
    /// (for `kafka_consumer_wakeup`, which a signal handler may call).
    pub(crate) fn set_static(&mut self, code: KafkaErrorCode, message: &'static str) {
        self.code = code;
        self.rdkafka_code = 0;
        self.retriable = false;
        self.fatal = false;
        write_message(&mut self.message, message);
    }

    pub(crate) fn set(&mut self, code: KafkaErrorCode, e: &Error) {
        self.code = code;
        self.rdkafka_code = e.rdkafka_code;
        self.retriable = e.retriable;
        self.fatal = e.fatal;
        write_message(&mut self.message, &crate::secrets::redact(&e.message));
    }
}

/// Copies `text` into `buf`: cut at the first NUL, truncated to fit at a
/// UTF-8 character boundary, always NUL-terminated.
pub(crate) fn write_message(buf: &mut [c_char], text: &str) {
    if buf.is_empty() {
        return;
    }
    let text = text.split('\0').next().unwrap_or("");
    let mut end = text.len().min(buf.len() - 1);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    for (dst, src) in buf.iter_mut().zip(&text.as_bytes()[..end]) {
        *dst = *src as c_char;
    }
    buf[end] = 0;
}

/// The C name of an error code, e.g. `"KAFKA_ERR_TIMEOUT"`: a static
/// string, never NULL. A value that is not a `KafkaErrorCode` gives
/// `"KAFKA_ERR_UNKNOWN"`.
#[no_mangle]
pub extern "C" fn kafka_error_code_name(code: KafkaErrorCodeArg) -> *const c_char {
    call_infallible(
        site("kafka_instance.error.code_name", "Kafka Error"),
        || {
            KafkaErrorCode::ALL
                .iter()
                .find(|c| **c as c_int == code.0)
                .map_or(c"KAFKA_ERR_UNKNOWN", |c| c.c_name())
                .as_ptr()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_truncated_at_char_boundaries() {
        let mut buf = [1 as c_char; 6];
        write_message(&mut buf, "aé€x");
        // "aé" is 3 bytes, "€" would need 3 more: only 5 fit before the NUL.
        let bytes: Vec<u8> = buf.iter().map(|c| *c as u8).collect();
        assert_eq!(&bytes[..4], b"a\xc3\xa9\0");
        let mut buf = [1 as c_char; 8];
        write_message(&mut buf, "ab\0cd");
        assert_eq!(buf[2], 0);
    }

    #[test]
    fn names_match_the_rust_side() {
        for c in KafkaErrorCode::ALL {
            let p = kafka_error_code_name(KafkaErrorCodeArg(c as c_int));
            let s = unsafe { std::ffi::CStr::from_ptr(p) }.to_str().unwrap();
            assert_eq!(s, c.name());
        }
    }
}
