//! `KafkaMessage`: a consumed message, owned by the caller until
//! `kafka_message_free`. (The handle is the safe layer's
//! `consumer::Message`, named `KafkaMessage` in the header.)

use std::ffi::{c_char, c_void};

use crate::consumer::Message;
use crate::ffi::{call_infallible, free_handle, site};

const SUBJECT: &str = "Kafka Consumer";

/// Reads a field of `m`, or gives `none` when `m` is NULL.
fn with<R: crate::ffi::Failure>(
    controller: &'static str,
    m: *const Message,
    none: R,
    f: impl FnOnce(&Message) -> R,
) -> R {
    call_infallible(site(controller, SUBJECT), || {
        // SAFETY: m is NULL or a live message (module contract).
        match unsafe { m.as_ref() } {
            Some(m) => f(m),
            None => none,
        }
    })
}

/// The message's topic: valid until `kafka_message_free`. NULL for NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_message_topic(m: *const Message) -> *const c_char {
    with("kafka_instance.message.topic", m, std::ptr::null(), |m| {
        m.topic_cstr().as_ptr()
    })
}

/// The message's partition; -1 for NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_message_partition(m: *const Message) -> i32 {
    with("kafka_instance.message.partition", m, -1, |m| m.partition())
}

/// The message's offset; -1 for NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_message_offset(m: *const Message) -> i64 {
    with("kafka_instance.message.offset", m, -1, |m| m.offset())
}

/// The message's timestamp in milliseconds since the epoch; -1 if it has
/// none (or for NULL).
#[no_mangle]
pub unsafe extern "C" fn kafka_message_timestamp(m: *const Message) -> i64 {
    with("kafka_instance.message.timestamp", m, -1, |m| {
        m.timestamp_ms()
    })
}

/// Writes `bytes`' length to `len` (when not NULL) and returns its
/// address, or NULL (length 0) when absent.
fn bytes_out(bytes: Option<&[u8]>, len: *mut usize) -> *const c_void {
    // SAFETY: len is NULL or writable (module contract).
    if let Some(out) = unsafe { len.as_mut() } {
        *out = bytes.map_or(0, <[u8]>::len);
    }
    bytes.map_or(std::ptr::null(), |b| b.as_ptr().cast())
}

/// The key: NULL if the message has none (`*len` = 0). Valid until
/// `kafka_message_free`. `len` may be NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_message_key(m: *const Message, len: *mut usize) -> *const c_void {
    with("kafka_instance.message.key", m, bytes_out(None, len), |m| {
        bytes_out(m.key(), len)
    })
}

/// The value: NULL if the message has none (a tombstone; `*len` = 0).
/// Valid until `kafka_message_free`. `len` may be NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_message_value(m: *const Message, len: *mut usize) -> *const c_void {
    with(
        "kafka_instance.message.value",
        m,
        bytes_out(None, len),
        |m| bytes_out(m.value(), len),
    )
}

/// How many headers the message has; 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_message_header_count(m: *const Message) -> usize {
    with("kafka_instance.message.header_count", m, 0, |m| {
        m.header_count()
    })
}

/// Header `index` (in the order they were sent): `*name` (NUL-terminated),
/// `*value` (NULL for a header without a value) and `*value_len`; each
/// output may be NULL. The pointers are valid until `kafka_message_free`.
/// false when `index` is out of range or `m` is NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_message_header(
    m: *const Message,
    index: usize,
    name: *mut *const c_char,
    value: *mut *const c_void,
    value_len: *mut usize,
) -> bool {
    with("kafka_instance.message.header", m, false, |m| {
        match m.header(index) {
            None => false,
            Some((n, v)) => {
                // SAFETY: each output is NULL or writable (module contract).
                unsafe {
                    if let Some(out) = name.as_mut() {
                        *out = n.as_ptr();
                    }
                    if let Some(out) = value.as_mut() {
                        *out = v.map_or(std::ptr::null(), |v| v.as_ptr().cast());
                    }
                }
                bytes_out(v, value_len);
                true
            }
        }
    })
}

/// Releases a message. NULL is a no-op. Messages outlive their consumer:
/// free them before or after closing it.
#[no_mangle]
pub unsafe extern "C" fn kafka_message_free(m: *mut Message) {
    call_infallible(site("kafka_instance.message.free", SUBJECT), || {
        // SAFETY: m is NULL or came from a poll of this library.
        unsafe { free_handle(m) }
    })
}
