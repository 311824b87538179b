//! `KafkaErrorCode`, `KafkaError` and `kafka_error_code_name`.

use std::ffi::{c_char, c_int, CStr};

use crate::error::{Error, ErrorKind};
use crate::ffi::{call_infallible, here};

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

/// The one table of codes: each with the safe layer's [`ErrorKind`] it
/// stands for. It gives the names, the list and the conversion below, and
/// the compiler checks it against both enums: a code or a kind missing
/// here does not compile (the matches are exhaustive).
macro_rules! codes {
    ($($code:ident $(= $kind:ident)?),* $(,)?) => {
        impl KafkaErrorCode {
            /// Every code, in the header's order.
            const ALL: &'static [KafkaErrorCode] = &[$(KafkaErrorCode::$code),*];

            /// The C name, e.g. `"KAFKA_ERR_TIMEOUT"`.
            pub fn c_name(self) -> &'static CStr {
                match self {
                    $(KafkaErrorCode::$code => {
                        match CStr::from_bytes_with_nul(concat!(stringify!($code), "\0").as_bytes()) {
                            Ok(name) => name,
                            Err(_) => c"KAFKA_ERR_UNKNOWN",
                        }
                    })*
                }
            }
        }

        impl From<ErrorKind> for KafkaErrorCode {
            fn from(kind: ErrorKind) -> Self {
                match kind {
                    $($(ErrorKind::$kind => KafkaErrorCode::$code,)?)*
                }
            }
        }
    };
}

codes! {
    KAFKA_OK,
    KAFKA_ERR_INVALID_ARGUMENT = InvalidArgument,
    KAFKA_ERR_CONFIG = Config,
    KAFKA_ERR_SERIALIZATION = Serialization,
    KAFKA_ERR_TIMEOUT = Timeout,
    KAFKA_ERR_QUEUE_FULL = QueueFull,
    KAFKA_ERR_BROKER = Broker,
    KAFKA_ERR_CALLBACK = Callback,
    KAFKA_ERR_NOT_FOUND = NotFound,
    KAFKA_ERR_BUFFER_TOO_SMALL = BufferTooSmall,
    KAFKA_ERR_STATE = State,
    KAFKA_ERR_WAKEUP = Wakeup,
    KAFKA_ERR_INTERNAL = Internal,
}

impl KafkaErrorCode {
    pub fn name(self) -> &'static str {
        // The names are ASCII.
        self.c_name().to_str().unwrap_or("KAFKA_ERR_UNKNOWN")
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
    /// A transaction call failed so that the transaction must be aborted
    /// (`kafka_producer_abort_transaction`); the producer goes on after.
    pub txn_requires_abort: bool,
    /// A human-readable message, NUL-terminated, UTF-8, truncated at a
    /// character boundary. Never contains a password or other secret.
    pub message: [c_char; KAFKA_ERROR_MESSAGE_SIZE],
}

impl crate::ffi::Lent for KafkaErrorCode {}

impl Default for KafkaError {
    /// `KAFKA_OK` with an empty message (for Rust callers; C callers may
    /// pass an uninitialized struct).
    fn default() -> Self {
        KafkaError {
            code: KafkaErrorCode::KAFKA_OK,
            rdkafka_code: 0,
            retriable: false,
            fatal: false,
            txn_requires_abort: false,
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
        self.txn_requires_abort = false;
        self.message[0] = 0;
    }

    /// Sets a code and a fixed message without allocating or locking
    /// (for `kafka_consumer_wakeup`, which a signal handler may call).
    pub(crate) fn set_static(&mut self, code: KafkaErrorCode, message: &'static str) {
        self.code = code;
        self.rdkafka_code = 0;
        self.retriable = false;
        self.fatal = false;
        self.txn_requires_abort = false;
        write_message(&mut self.message, message);
    }

    pub(crate) fn set(&mut self, code: KafkaErrorCode, e: &Error) {
        self.code = code;
        self.rdkafka_code = e.rdkafka_code;
        self.retriable = e.retriable;
        self.fatal = e.fatal;
        self.txn_requires_abort = e.txn_requires_abort;
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

/// Gives the C name of an error code, such as `"KAFKA_ERR_TIMEOUT"`.
///
/// @param code The code; any integer may be passed.
/// @return A static string, never NULL: `"KAFKA_ERR_UNKNOWN"` for a value
///         that is not a `KafkaErrorCode`.
#[no_mangle]
pub extern "C" fn kafka_error_code_name(code: KafkaErrorCodeArg) -> *const c_char {
    call_infallible(here!("Kafka Error"), || {
        KafkaErrorCode::ALL
            .iter()
            .find(|c| **c as c_int == code.0)
            .map_or(c"KAFKA_ERR_UNKNOWN", |c| c.c_name())
            .as_ptr()
    })
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
        for &c in KafkaErrorCode::ALL {
            let p = kafka_error_code_name(KafkaErrorCodeArg(c as c_int));
            let s = unsafe { std::ffi::CStr::from_ptr(p) }.to_str().unwrap();
            assert_eq!(s, c.name());
        }
    }
}
