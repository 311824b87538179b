//! The C ABI: the top of the crate's three layers (ARCHITECTURE.md). Its
//! `unsafe` is the C caller's pointers; the other `unsafe`, librdkafka's
//! own calls, is at the bottom, in `sys`.
//!
//! Each `extern "C"` function has the same shape: [`call`] (or
//! [`call_infallible`]) catches panics, [`handle`]/[`arg`]/[`arg_str`]
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
// One of the two places (with `sys`) the crate-wide `unsafe_code = "deny"`
// (Cargo.toml) is lifted.
#![allow(unsafe_code)]

pub mod cluster;
pub mod config;
pub mod consumer;
pub mod error;
pub mod group_list;
// Read by build.rs and the tests too; the crate uses the handles alone.
#[allow(dead_code)]
pub(crate) mod handles;
pub mod instance;
pub mod log;
pub mod message;
pub mod mock_cluster;
pub mod partition_list;
pub mod producer;
pub mod statistics;
pub mod topic_config;
pub mod version;

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, ErrorKind, Result};
use crate::logging::Level;
use error::{KafkaError, KafkaErrorCode};

/// Where a call happened, for log records: the controller and subject.
/// Made by [`here!`] in each C function, which names it after the function.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Site {
    /// The C function's Rust path (`kafka_instance::ffi::config::
    /// kafka_config_set::f`), or a controller given whole.
    name: SiteName,
    pub subject: &'static str,
}

#[derive(Debug, Clone, Copy)]
enum SiteName {
    Function(&'static str),
    Given(&'static str),
}

/// The site of the enclosing C function, with `subject`: its controller
/// is `kafka_instance.<handle>.<rest>` from the function's name
/// (`kafka_config_set_kafka_url`: `kafka_instance.config.set_kafka_url`),
/// so the two cannot drift apart.
macro_rules! here {
    ($subject:expr) => {{
        fn f() {}
        $crate::ffi::Site::function(::std::any::type_name_of_val(&f), $subject)
    }};
}
pub(crate) use here;

impl Site {
    pub(crate) const fn function(path: &'static str, subject: &'static str) -> Site {
        Site {
            name: SiteName::Function(path),
            subject,
        }
    }

    /// A site whose controller does not follow from its function's name.
    pub(crate) const fn given(controller: &'static str, subject: &'static str) -> Site {
        Site {
            name: SiteName::Given(controller),
            subject,
        }
    }

    /// The controller of log records from this site (built only when a
    /// record is written).
    pub(crate) fn controller(&self) -> String {
        let path = match self.name {
            SiteName::Given(controller) => return controller.to_owned(),
            SiteName::Function(path) => path,
        };
        // The function is the last segment that is neither the marker `f`
        // nor a closure's.
        let function = path
            .rsplit("::")
            .find(|s| *s != "f" && !s.starts_with('{'))
            .unwrap_or(path);
        let rest = function.strip_prefix("kafka_").unwrap_or(function);
        // The handle whose name starts the call's (the longest): a call
        // of another handle's family (`kafka_instance_describe_cluster`)
        // is logged under the handle it is a call of.
        handles::HANDLES
            .iter()
            .filter(|h| rest.len() > h.name.len() && rest.starts_with(h.name))
            .filter(|h| rest.as_bytes()[h.name.len()] == b'_')
            .max_by_key(|h| h.name.len())
            .map(|h| format!("kafka_instance.{}.{}", h.name, &rest[h.name.len() + 1..]))
            .unwrap_or_else(|| format!("kafka_instance.{rest}"))
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
            if crate::logging::enabled(level) {
                let controller = site.controller();
                crate::logging::log_failure(level, &controller, site.subject, code.name(), &e);
            }
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
        crate::logging::log_failure(Level::Error, &site.controller(), site.subject, name, &e);
        R::failure(KafkaErrorCode::KAFKA_ERR_INTERNAL)
    })
}

/// A handle type: an opaque pointer the library makes and C gives back to
/// exactly one `_free` or `_close`. C owns a `Box<Self>`. Each handle type
/// (`KafkaConfig`, `KafkaInstance`, `KafkaProducer`, `KafkaConsumer`,
/// `KafkaMessage`, `KafkaMockCluster`) declares it once, beside its
/// definition, and [`into_handle`], [`handle`], [`handle_mut`] and
/// [`free_handle`] accept nothing else: freeing or borrowing a value that
/// is not a handle does not compile, and a handle pointer has one type.
pub(crate) trait Handle: Sized {}

/// A `#[repr(C)]` value that C lends for the length of one call (a record,
/// a header, an element of an array): read with [`arg`] and [`arg_slice`],
/// never freed here.
pub(crate) trait Lent {}

impl Lent for *const c_char {}
impl Lent for *mut std::ffi::c_void {}
impl Lent for i64 {}

/// A handle borrowed for one call; NULL is `KAFKA_ERR_INVALID_ARGUMENT`
/// naming the argument.
///
/// # Safety
/// `ptr` is NULL or a live handle of type `T` for the returned lifetime.
pub(crate) unsafe fn handle<'a, T: Handle>(ptr: *const T, name: &str) -> Result<&'a T> {
    // SAFETY: guaranteed by the caller.
    unsafe { ptr.as_ref() }.ok_or_else(|| null_argument(name))
}

/// A handle argument where NULL means "none" (`overrides`).
///
/// # Safety
/// `ptr` is NULL or a live handle of type `T` for the returned lifetime.
pub(crate) unsafe fn opt_handle<'a, T: Handle>(ptr: *const T) -> Option<&'a T> {
    // SAFETY: guaranteed by the caller.
    unsafe { ptr.as_ref() }
}

/// A handle borrowed mutably for one call (`KafkaConfig`, which is not
/// shared between threads); NULL is an error.
///
/// # Safety
/// `ptr` is NULL or a live handle of type `T`, unaliased for the returned
/// lifetime.
pub(crate) unsafe fn handle_mut<'a, T: Handle>(ptr: *mut T, name: &str) -> Result<&'a mut T> {
    // SAFETY: guaranteed by the caller.
    unsafe { ptr.as_mut() }.ok_or_else(|| null_argument(name))
}

/// A value C lends for the call; NULL is an error.
///
/// # Safety
/// `ptr` is NULL or valid for reads for the returned lifetime.
pub(crate) unsafe fn arg<'a, T: Lent>(ptr: *const T, name: &str) -> Result<&'a T> {
    // SAFETY: guaranteed by the caller.
    unsafe { ptr.as_ref() }.ok_or_else(|| null_argument(name))
}

/// `count` values C lends for the call. NULL with `count` 0 is empty;
/// NULL with a count is `KAFKA_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `ptr` is NULL or points to `count` readable values for the returned
/// lifetime.
pub(crate) unsafe fn arg_slice<'a, T: Lent>(
    ptr: *const T,
    count: usize,
    name: &str,
) -> Result<&'a [T]> {
    if count == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(null_argument(name));
    }
    if count > isize::MAX as usize / std::mem::size_of::<T>().max(1) {
        return Err(Error::invalid_argument(format!(
            "{name}: {count} elements is not a valid size"
        )));
    }
    // SAFETY: guaranteed by the caller; the size is checked above.
    Ok(unsafe { std::slice::from_raw_parts(ptr, count) })
}

/// [`arg_slice`] where NULL means "none given".
///
/// # Safety
/// As [`arg_slice`].
pub(crate) unsafe fn opt_slice<'a, T: Lent>(
    ptr: *const T,
    count: usize,
    name: &str,
) -> Result<Option<&'a [T]>> {
    match ptr.is_null() {
        true => Ok(None),
        // SAFETY: the caller's contract.
        false => unsafe { arg_slice(ptr, count, name) }.map(Some),
    }
}

/// A C array of `count` elements to write, or `None` for NULL.
///
/// # Safety
/// `ptr` is NULL or points to `count` writable elements that nothing else
/// reads or writes during the call.
pub(crate) unsafe fn out_slice<'a, T: Lent>(
    ptr: *mut T,
    count: usize,
    name: &str,
) -> Result<Option<&'a mut [T]>> {
    if ptr.is_null() || count == 0 {
        return Ok(None);
    }
    if count > isize::MAX as usize / std::mem::size_of::<T>().max(1) {
        return Err(Error::invalid_argument(format!(
            "{name}: {count} elements is not a valid size"
        )));
    }
    // SAFETY: guaranteed by the caller; the size is checked above.
    Ok(Some(unsafe { std::slice::from_raw_parts_mut(ptr, count) }))
}

/// A non-empty C array of `count` NUL-terminated strings: NULL, an empty
/// list, a NULL element or invalid UTF-8 is `KAFKA_ERR_INVALID_ARGUMENT`
/// naming the argument (`name[i]` for an element).
///
/// # Safety
/// `ptr` is NULL or points to `count` pointers, each NULL or a
/// NUL-terminated string, valid for the returned lifetime.
pub(crate) unsafe fn arg_strs<'a>(
    ptr: *const *const c_char,
    count: usize,
    name: &str,
    count_name: &str,
) -> Result<Vec<&'a str>> {
    if count == 0 {
        return Err(Error::invalid_argument(format!(
            "{name} is empty ({count_name} is 0)"
        )));
    }
    // SAFETY: guaranteed by the caller.
    let list = unsafe { arg_slice(ptr, count, name) }?;
    list.iter()
        .enumerate()
        // SAFETY: guaranteed by the caller.
        .map(|(i, p)| unsafe { arg_str(*p, &format!("{name}[{i}]")) })
        .collect()
}

/// An out-parameter slot for a handle (`KafkaMessage **out`): NULL is an
/// error; the slot is set to NULL until the call fills it.
///
/// # Safety
/// `out` is NULL or writable for the returned lifetime.
pub(crate) unsafe fn out_slot<'a, T: Handle>(
    out: *mut *mut T,
    name: &str,
) -> Result<&'a mut *mut T> {
    // SAFETY: guaranteed by the caller.
    let slot = unsafe { out.as_mut() }.ok_or_else(|| null_argument(name))?;
    *slot = std::ptr::null_mut();
    Ok(slot)
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

/// A C `timeout_ms`: -1 waits with no limit (`None`), 0 and up are
/// milliseconds, anything else is `KAFKA_ERR_INVALID_ARGUMENT`. One rule
/// for every call.
pub(crate) fn arg_timeout(timeout_ms: i32) -> Result<Option<std::time::Duration>> {
    match timeout_ms {
        -1 => Ok(None),
        t if t >= 0 => Ok(Some(std::time::Duration::from_millis(t as u64))),
        t => Err(Error::invalid_argument(format!(
            "timeout_ms must be -1 (forever) or at least 0, not {t}"
        ))),
    }
}

fn null_argument(name: &str) -> Error {
    Error::invalid_argument(format!("{name} is NULL"))
}

/// The shape of `kafka_instance_with_producer` and `_with_consumer`: runs
/// the caller's scope function `body` on a new handle, then `close`s the
/// handle whatever `body` returned. Non-zero from `body` is
/// `KAFKA_ERR_CALLBACK` (after the close); otherwise the close's result.
pub(crate) fn run_scope<T: Handle>(
    handle: *mut T,
    what: &str,
    body: impl FnOnce(*mut T) -> std::ffi::c_int,
    close: impl FnOnce(*mut T) -> Result<()>,
) -> Result<KafkaErrorCode> {
    let rc = body(handle);
    let closed = close(handle);
    if rc != 0 {
        return Err(Error::new(
            ErrorKind::Callback,
            format!("the {what} scope function returned {rc}"),
        ));
    }
    closed.map(|()| KafkaErrorCode::KAFKA_OK)
}

/// Moves a handle to the heap and hands its ownership to C.
pub(crate) fn into_handle<T: Handle>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Takes back ownership of a handle and drops it; NULL is a no-op. The
/// only place a handle's `Box` is rebuilt.
///
/// # Safety
/// `ptr` is NULL or came from [`into_handle`], was not freed before, and
/// is not used after.
pub(crate) unsafe fn free_handle<T: Handle>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: guaranteed by the caller.
        drop(unsafe { Box::from_raw(ptr) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controllers_follow_the_c_functions_name() {
        fn kafka_mock_cluster_broker_down() -> Site {
            here!("s")
        }
        fn kafka_instance_get_consumer() -> Site {
            let inside = || here!("s");
            inside()
        }
        assert_eq!(
            kafka_mock_cluster_broker_down().controller(),
            "kafka_instance.mock_cluster.broker_down"
        );
        assert_eq!(
            kafka_instance_get_consumer().controller(),
            "kafka_instance.instance.get_consumer",
            "also from a closure"
        );
        assert_eq!(Site::given("a.b", "s").controller(), "a.b");
    }
}
