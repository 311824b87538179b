//! The C ABI. Every `unsafe` in the crate lives under this module.
//!
//! Each `extern "C"` function has the same shape: [`call`] (or
//! [`call_infallible`]) catches panics, [`arg`]/[`arg_mut`]/[`arg_str`]
//! check pointers and strings, the safe layer does the work, and the
//! `Result` becomes a return value plus a filled `KafkaError`, with the
//! failure logged. No logic lives here beyond that conversion.
//!
//! # Safety (for every function in this module's children)
//!
//! Every pointer argument must be NULL or valid for the access the function
//! documents: a handle pointer must come from this library's matching
//! `_new`/`get_` function and not have been freed; a `const char *` must be
//! NUL-terminated; a `(pointer, length)` pair must describe readable memory.
//! NULL is always detected and reported; other invalid pointers cannot be.

// The contract above is the one safety section for the whole C API; the
// header carries each function's own documentation.
#![allow(clippy::missing_safety_doc)]
// The one place the crate-wide `unsafe_code = "deny"` (Cargo.toml) is lifted.
#![allow(unsafe_code)]

pub mod config;
pub mod consumer;
pub mod error;
pub mod instance;
pub mod log;
pub mod message;
pub mod mock_cluster;
pub(crate) mod native;
pub mod producer;
pub mod version;

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, ErrorKind, Result};
use crate::logging::Level;
use error::{KafkaError, KafkaErrorCode};

/// Where a call happened, for log records: the controller and subject.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Site {
    pub controller: &'static str,
    pub subject: &'static str,
}

pub(crate) const fn site(controller: &'static str, subject: &'static str) -> Site {
    Site {
        controller,
        subject,
    }
}

/// What a C function returns when it failed or panicked, decided by its
/// return type.
pub(crate) trait Failure {
    fn failure(code: KafkaErrorCode) -> Self;
}

impl Failure for KafkaErrorCode {
    fn failure(code: KafkaErrorCode) -> Self {
        code
    }
}
impl<T> Failure for *mut T {
    fn failure(_: KafkaErrorCode) -> Self {
        std::ptr::null_mut()
    }
}
impl<T> Failure for *const T {
    fn failure(_: KafkaErrorCode) -> Self {
        std::ptr::null()
    }
}
impl Failure for () {
    fn failure(_: KafkaErrorCode) -> Self {}
}
impl Failure for bool {
    fn failure(_: KafkaErrorCode) -> Self {
        false
    }
}
impl Failure for usize {
    fn failure(_: KafkaErrorCode) -> Self {
        0
    }
}
/// Partitions and offsets: -1 is "none", never a valid answer.
impl Failure for i32 {
    fn failure(_: KafkaErrorCode) -> Self {
        -1
    }
}
impl Failure for i64 {
    fn failure(_: KafkaErrorCode) -> Self {
        -1
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    format!("internal error (a bug in kafka_instance, please report it): {what}")
}

/// The boundary for every fallible C function: runs `body`, catching any
/// panic as `KAFKA_ERR_INTERNAL`; fills `*err` (when not NULL) with success
/// or the failure; logs every failure at error level with `site`; returns
/// the value, or the return type's failure value.
pub(crate) fn call<R: Failure>(
    site: Site,
    err: *mut KafkaError,
    body: impl FnOnce() -> Result<R>,
) -> R {
    let outcome = catch_unwind(AssertUnwindSafe(body))
        .unwrap_or_else(|payload| Err(Error::new(ErrorKind::Internal, panic_message(payload))));
    match outcome {
        Ok(value) => {
            // SAFETY: err is NULL or points to a caller-owned KafkaError.
            if let Some(out) = unsafe { err.as_mut() } {
                out.set_ok();
            }
            value
        }
        Err(e) => {
            let code = KafkaErrorCode::from(e.kind);
            // "Not set", "buffer too small", "woken" and "queue full" are
            // answers the caller asked for or handles (size queries,
            // get-with-default, a wake-up, a retry later), not faults.
            let level = match e.kind {
                ErrorKind::NotFound
                | ErrorKind::BufferTooSmall
                | ErrorKind::Wakeup
                | ErrorKind::QueueFull => Level::Debug,
                _ => Level::Error,
            };
            crate::logging::log_failure(level, site.controller, site.subject, code.name(), &e);
            // SAFETY: as above.
            if let Some(out) = unsafe { err.as_mut() } {
                out.set(code, &e);
            }
            R::failure(code)
        }
    }
}

/// The boundary for C functions without a `KafkaError` (accessors, frees):
/// a panic is logged and becomes the return type's failure value.
pub(crate) fn call_infallible<R: Failure>(site: Site, body: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        let e = Error::new(ErrorKind::Internal, panic_message(payload));
        let name = KafkaErrorCode::KAFKA_ERR_INTERNAL.name();
        crate::logging::log_failure(Level::Error, site.controller, site.subject, name, &e);
        R::failure(KafkaErrorCode::KAFKA_ERR_INTERNAL)
    })
}

/// A shared reference from a pointer argument; NULL is
/// `KAFKA_ERR_INVALID_ARGUMENT` naming the argument.
///
/// # Safety
/// `ptr` is NULL or valid for reads for the returned lifetime.
pub(crate) unsafe fn arg<'a, T>(ptr: *const T, name: &str) -> Result<&'a T> {
    // SAFETY: guaranteed by the caller.
    unsafe { ptr.as_ref() }.ok_or_else(|| null_argument(name))
}

/// A mutable reference from a pointer argument; NULL is an error.
///
/// # Safety
/// `ptr` is NULL or valid and unaliased for the returned lifetime.
pub(crate) unsafe fn arg_mut<'a, T>(ptr: *mut T, name: &str) -> Result<&'a mut T> {
    // SAFETY: guaranteed by the caller.
    unsafe { ptr.as_mut() }.ok_or_else(|| null_argument(name))
}

/// A `&str` from a NUL-terminated argument. NULL or invalid UTF-8 is
/// `KAFKA_ERR_INVALID_ARGUMENT` naming the argument (never its content,
/// which may be a password).
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string valid for the returned lifetime.
pub(crate) unsafe fn arg_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(null_argument(name));
    }
    // SAFETY: guaranteed by the caller.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    std::str::from_utf8(bytes).map_err(|e| {
        Error::invalid_argument(format!(
            "{name} is not valid UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        ))
    })
}

/// Bytes from a `(pointer, length)` argument pair: NULL with length 0 is
/// "none"; NULL with a length is `KAFKA_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `ptr` is NULL or readable for `len` bytes for the returned lifetime.
pub(crate) unsafe fn arg_bytes<'a>(
    ptr: *const std::ffi::c_void,
    len: usize,
    name: &str,
) -> Result<Option<&'a [u8]>> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(None)
        } else {
            Err(Error::invalid_argument(format!(
                "{name} is NULL but its length is {len}"
            )))
        };
    }
    if len > isize::MAX as usize {
        return Err(Error::invalid_argument(format!(
            "{name}: length {len} is not a valid size"
        )));
    }
    // SAFETY: guaranteed by the caller; len checked against isize::MAX.
    Ok(Some(unsafe {
        std::slice::from_raw_parts(ptr.cast::<u8>(), len)
    }))
}

/// Like [`arg_str`], but NULL means "not given".
///
/// # Safety
/// As [`arg_str`].
pub(crate) unsafe fn arg_opt_str<'a>(ptr: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if ptr.is_null() {
        Ok(None)
    } else {
        // SAFETY: guaranteed by the caller.
        unsafe { arg_str(ptr, name) }.map(Some)
    }
}

/// Copies `value` into a caller's buffer, NUL-terminated: the contract
/// shared by functions that return text to C. `*len` (when not NULL) gets
/// the length without the NUL even when `buf` is too small; then the
/// result is `KAFKA_ERR_BUFFER_TOO_SMALL` and nothing is written. `buf`
/// NULL with `buf_len` 0 asks for the length.
///
/// # Safety
/// `buf` is NULL or writable for `buf_len` bytes; `len` is NULL or
/// writable.
pub(crate) unsafe fn copy_out(
    value: &str,
    what: &str,
    buf: *mut c_char,
    buf_len: usize,
    len: *mut usize,
) -> Result<()> {
    if buf.is_null() && buf_len > 0 {
        return Err(Error::invalid_argument("buf is NULL but buf_len is not 0"));
    }
    // SAFETY: guaranteed by the caller.
    if let Some(out) = unsafe { len.as_mut() } {
        *out = value.len();
    }
    if value.len() >= buf_len {
        return Err(Error::new(
            ErrorKind::BufferTooSmall,
            format!(
                "{what} needs {} bytes with its NUL; buf_len is {buf_len}",
                value.len() + 1
            ),
        ));
    }
    // SAFETY: buf is writable for buf_len > value.len() bytes (checked).
    unsafe {
        std::ptr::copy_nonoverlapping(value.as_ptr(), buf.cast::<u8>(), value.len());
        *buf.add(value.len()) = 0;
    }
    Ok(())
}

fn null_argument(name: &str) -> Error {
    Error::invalid_argument(format!("{name} is NULL"))
}

/// Moves a value to the heap and hands its ownership to C.
pub(crate) fn into_handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Takes back ownership of a handle and drops it; NULL is a no-op.
///
/// # Safety
/// `ptr` is NULL or came from [`into_handle`] and was not freed before.
pub(crate) unsafe fn free_handle<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: guaranteed by the caller.
        drop(unsafe { Box::from_raw(ptr) });
    }
}
