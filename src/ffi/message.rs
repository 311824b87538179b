//! `KafkaMessage`: a consumed message, owned by the caller until
//! `kafka_message_free`.

use std::ffi::{c_char, c_void};

use crate::consumer::Message;
use crate::ffi::error::{KafkaError, KafkaErrorCode};
use crate::ffi::{arg_slice, call, call_infallible, free_handle, here, out_slice, Handle, Site};

/// A consumed message: topic, partition, offset, timestamp, key, value and
/// headers. From `kafka_consumer_poll` / `_poll_batch`, owned by the caller
/// until `kafka_message_free`; in a handler, borrowed for the call. Its
/// text fields are NUL-terminated: the accessors return pointers into it,
/// without copies.
//
// The safe `Message` keeps its topic and header names as C strings for
// this (one topic string per partition, shared by its messages), so no
// accessor allocates.
// Transparent over `Message` (see `lend`), yet opaque in the header:
// cbindgen reads only a plain `#[repr(..)]`, so the header declares an
// incomplete `struct KafkaMessage` as for every other handle.
#[cfg_attr(not(cbindgen), repr(transparent))]
pub struct KafkaMessage(pub(crate) Message);

impl Handle for KafkaMessage {}

impl KafkaMessage {
    /// A borrowed message as a handler sees it. `KafkaMessage` is
    /// `#[repr(transparent)]` over `Message`, so the address is the same.
    pub(crate) fn lend(m: &Message) -> *const KafkaMessage {
        (m as *const Message).cast()
    }
}

const SUBJECT: &str = "Kafka Consumer";

/// Reads a field of `m`, or gives `none` when `m` is NULL.
fn with<R: crate::ffi::Failure>(
    site: Site,
    m: *const KafkaMessage,
    none: R,
    f: impl FnOnce(&Message) -> R,
) -> R {
    call_infallible(site, || {
        // SAFETY: `m` is NULL or a live message: polled and not yet freed, or lent to a handler
        // for its call (the header's contract); `opt_handle` maps NULL to `None`.
        match unsafe { crate::ffi::opt_handle(m) } {
            Some(m) => f(&m.0),
            None => none,
        }
    })
}

/// Gives the message's topic.
///
/// @param m The message, or NULL.
/// @return The topic, NUL-terminated, valid until `kafka_message_free`;
///         NULL for NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_message_topic(m: *const KafkaMessage) -> *const c_char {
    with(here!(SUBJECT), m, std::ptr::null(), |m| {
        m.topic_with_nul().with_nul().as_ptr().cast()
    })
}

/// Gives the message's partition.
///
/// @param m The message, or NULL.
/// @return The partition; -1 for NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_message_partition(m: *const KafkaMessage) -> i32 {
    with(here!(SUBJECT), m, -1, |m| m.partition())
}

/// Gives the message's offset.
///
/// @param m The message, or NULL.
/// @return The offset; -1 for NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_message_offset(m: *const KafkaMessage) -> i64 {
    with(here!(SUBJECT), m, -1, |m| m.offset())
}

/// Gives the message's timestamp in milliseconds since the epoch.
///
/// @param m The message, or NULL.
/// @return The timestamp; -1 if it has none (or for NULL).
#[no_mangle]
pub unsafe extern "C" fn kafka_message_timestamp(m: *const KafkaMessage) -> i64 {
    with(here!(SUBJECT), m, -1, |m| m.timestamp_ms())
}

/// Writes `bytes`' length to `len` (when not NULL) and returns its
/// address, or NULL (length 0) when absent.
fn bytes_out(bytes: Option<&[u8]>, len: *mut usize) -> *const c_void {
    // SAFETY: `len` is the accessor's `len` argument: NULL or writable for one `size_t` (the
    // header's contract); NULL is skipped.
    if let Some(out) = unsafe { len.as_mut() } {
        *out = bytes.map_or(0, <[u8]>::len);
    }
    bytes.map_or(std::ptr::null(), |b| b.as_ptr().cast())
}

/// Gives the message's key.
///
/// @param m   The message, or NULL.
/// @param len NULL, or receives the key's length (0 when there is none).
/// @return The key, valid until `kafka_message_free`; NULL if the message
///         has none (or for NULL).
#[no_mangle]
pub unsafe extern "C" fn kafka_message_key(
    m: *const KafkaMessage,
    len: *mut usize,
) -> *const c_void {
    with(here!(SUBJECT), m, bytes_out(None, len), |m| {
        bytes_out(m.key(), len)
    })
}

/// Gives the message's value.
///
/// @param m   The message, or NULL.
/// @param len NULL, or receives the value's length (0 when there is none).
/// @return The value, valid until `kafka_message_free`; NULL if the message
///         has none (a tombstone), or for NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_message_value(
    m: *const KafkaMessage,
    len: *mut usize,
) -> *const c_void {
    with(here!(SUBJECT), m, bytes_out(None, len), |m| {
        bytes_out(m.value(), len)
    })
}

/// Gives how many headers the message has.
///
/// @param m The message, or NULL.
/// @return The header count; 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_message_header_count(m: *const KafkaMessage) -> usize {
    with(here!(SUBJECT), m, 0, |m| m.header_count())
}

/// Reads header `index` (in the order they were sent).
///
/// The pointers are valid until `kafka_message_free`.
///
/// @param m         The message, or NULL.
/// @param index     The header's position, from 0.
/// @param name      NULL, or receives the header's name (NUL-terminated).
/// @param value     NULL, or receives its value (NULL for a header without
///                  a value).
/// @param value_len NULL, or receives the value's length.
/// @return true when the header was read; false when `index` is out of range
///         or `m` is NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_message_header(
    m: *const KafkaMessage,
    index: usize,
    name: *mut *const c_char,
    value: *mut *const c_void,
    value_len: *mut usize,
) -> bool {
    with(here!(SUBJECT), m, false, |m| {
        match m.header(index) {
            None => false,
            Some((n, v)) => {
                // SAFETY: `name` and `value` are NULL or writable for one pointer each (the
                // header's contract); NULL ones are skipped.
                unsafe {
                    if let Some(out) = name.as_mut() {
                        *out = n.with_nul().as_ptr().cast();
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

/// Reads the last header named `name` (a message may carry several).
///
/// The pointers are valid until `kafka_message_free`.
///
/// @param m         The message, or NULL.
/// @param name      The header's name, NUL-terminated.
/// @param value     NULL, or receives its value (NULL for a header without
///                  a value).
/// @param value_len NULL, or receives the value's length.
/// @return true when the header was found; false when there is none, or for
///         NULL `m` or `name`.
#[no_mangle]
pub unsafe extern "C" fn kafka_message_header_last(
    m: *const KafkaMessage,
    name: *const c_char,
    value: *mut *const c_void,
    value_len: *mut usize,
) -> bool {
    with(here!(SUBJECT), m, false, |m| {
        // SAFETY: `name` is NULL or a NUL-terminated string kept for the call (the header's
        // contract); NULL and invalid UTF-8 give false.
        let Some(name) = (unsafe { crate::ffi::arg_str(name, "name") }).ok() else {
            return false;
        };
        match m.header_last(name) {
            None => false,
            Some((_, v)) => {
                // SAFETY: `value` is NULL or writable for one pointer (the header's contract);
                // NULL is skipped.
                if let Some(out) = unsafe { value.as_mut() } {
                    *out = v.map_or(std::ptr::null(), |v| v.as_ptr().cast());
                }
                bytes_out(v, value_len);
                true
            }
        }
    })
}

/// Releases a message.
///
/// Messages outlive their consumer: free them before or after closing it.
/// With `zero_copy_messages`, the last message freed after its consumer
/// closed releases the client.
///
/// @param m The message to release; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn kafka_message_free(m: *mut KafkaMessage) {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: m is NULL or came from a poll of this library.
        unsafe { free_handle(m) }
    })
}

/// Every field of a message but its headers, read at once (see
/// `kafka_message_views`). The pointers are valid until the message is
/// freed; `key` and `value` are NULL when absent.
#[repr(C)]
pub struct KafkaMessageView {
    pub topic: *const c_char,
    pub partition: i32,
    pub offset: i64,
    /// Milliseconds since the epoch, -1 when unknown.
    pub timestamp_ms: i64,
    pub key: *const c_void,
    pub key_len: usize,
    pub value: *const c_void,
    pub value_len: usize,
    pub header_count: usize,
}

impl crate::ffi::Lent for KafkaMessageView {}
impl crate::ffi::Lent for *const KafkaMessage {}

/// Fills `views[i]` from `messages[i]` for `count` messages, in one call.
///
/// For bindings to whom a call per field of every message is expensive.
/// Nothing is copied: the views point into the messages.
///
/// @param messages `count` messages (a batch from
///                 `kafka_consumer_poll_batch`).
/// @param count    How many messages and views.
/// @param views    Room for `count` views.
/// @param err      NULL, or where a failure is described (`KAFKA_OK` on
///                 success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (a NULL array with `count` more than 0, or a NULL message; no view
///         is written then).
#[no_mangle]
pub unsafe extern "C" fn kafka_message_views(
    messages: *const *const KafkaMessage,
    count: usize,
    views: *mut KafkaMessageView,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY (both): `messages` is NULL or `count` readable pointers, `views` NULL or `count`
        // writable views (the header's contract); NULL with a count is refused.
        let messages = unsafe { arg_slice(messages, count, "messages") }?;
        let views = unsafe { out_slice(views, count, "views") }?;
        let Some(views) = views else {
            return match count {
                0 => Ok(KafkaErrorCode::KAFKA_OK),
                _ => Err(crate::error::Error::invalid_argument("views is NULL")),
            };
        };
        let mut read = Vec::with_capacity(count);
        for (i, &m) in messages.iter().enumerate() {
            // SAFETY: each element of `messages` is NULL or a live message, not freed during the
            // call (the header's contract); NULL is refused below.
            match unsafe { crate::ffi::opt_handle(m) } {
                Some(m) => read.push(&m.0),
                None => {
                    return Err(crate::error::Error::invalid_argument(format!(
                        "messages[{i}] is NULL"
                    )))
                }
            }
        }
        for (view, m) in views.iter_mut().zip(read) {
            let (key, key_len) = m
                .key()
                .map_or((std::ptr::null(), 0), |k| (k.as_ptr().cast(), k.len()));
            let (value, value_len) = m
                .value()
                .map_or((std::ptr::null(), 0), |v| (v.as_ptr().cast(), v.len()));
            *view = KafkaMessageView {
                topic: m.topic_with_nul().with_nul().as_ptr().cast(),
                partition: m.partition(),
                offset: m.offset(),
                timestamp_ms: m.timestamp_ms(),
                key,
                key_len,
                value,
                value_len,
                header_count: m.header_count(),
            };
        }
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}
