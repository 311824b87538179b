//! librdkafka admin requests made directly, where rust-rdkafka either does
//! not wrap the request (ListConsumerGroupOffsets) or drops what the
//! broker said: its topic and config results keep the error code and lose
//! the broker's message ("Topic currently has 3 partitions, which is
//! higher than the requested 2", "Unknown topic config name: x"), which is
//! what a user needs to act on a refusal.
//!
//! Requests answered by a group's coordinator (ListConsumerGroupOffsets,
//! DeleteGroups) meet a librdkafka 2.12 defect: when such a request times
//! out inside librdkafka while the coordinator is unreachable, and the
//! coordinator comes back later, librdkafka aborts the process
//! (`rd_kafka_enq_once_del_source_return: eonce->refcnt > 0`; librdkafka
//! issues 4605 and 3663). So these never time out inside librdkafka (its
//! limit, an hour, is asked): the wait is bounded here, and a request
//! still out when it ends is reported as [`Outcome::TimedOut`], whose
//! client the caller then stops using (see `Admin::retire`); destroying
//! the client ends the request cleanly.

use std::ffi::{c_char, CStr};
use std::time::{Duration, Instant};

use rdkafka::bindings as rd;
use rdkafka::error::RDKafkaErrorCode;

use super::owned::Owned;
use super::Queue;

mod groups;
mod topics;

pub(crate) use groups::{delete_group, group_offsets};
pub(crate) use topics::{topic_request, topic_settings, TopicRequest};

/// What became of an admin request.
#[derive(Debug)]
pub(crate) enum Outcome<T> {
    Done(T),
    /// librdkafka's or the broker's code, and the broker's (or
    /// librdkafka's) own words.
    Failed(RDKafkaErrorCode, String),
    /// `interrupted` said stop before an answer came.
    Interrupted,
    /// A coordinator request was not answered within its wait; it is
    /// still out inside the client.
    TimedOut,
}

/// The longest librdkafka waits for an admin request (its upper bound).
const LIBRDKAFKA_LONGEST: Duration = Duration::from_secs(3600);

/// How long a coordinator request without a caller's limit is waited
/// for: a little less than librdkafka's own limit, so that it never
/// times out inside librdkafka.
const COORDINATOR_LONGEST: Duration = Duration::from_secs(3540);

/// Whether a request goes to a group's coordinator (see the module note).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Any,
    Coordinator,
}

fn text(p: *const c_char) -> String {
    match p.is_null() {
        true => String::new(),
        // SAFETY: callers pass NUL-terminated strings owned by a live
        // librdkafka object; the text is copied before it goes.
        false => unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned(),
    }
}

const NO_ERROR: rd::rd_kafka_resp_err_t = rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR;

/// The first element of the list `list` reads off `result` (librdkafka's
/// `*_result_topics` / `_groups` / `_resources` accessors): None when
/// `result` is NULL (the event was of another kind) or the list is empty.
///
/// # Safety
/// `result` is NULL or the live result of an event; the element lives as
/// long as the event.
unsafe fn first<R, T>(
    result: *const R,
    list: unsafe extern "C" fn(*const R, *mut usize) -> *mut *const T,
) -> Option<*const T> {
    if result.is_null() {
        return None;
    }
    let mut n = 0usize;
    let all = list(result, &mut n);
    (!all.is_null() && n > 0).then(|| *all)
}

/// The error a group result carries, if any: its code and message.
///
/// # Safety
/// `group` is a live group result.
unsafe fn group_error(
    group: *const rd::rd_kafka_group_result_t,
) -> Option<(RDKafkaErrorCode, String)> {
    let e = rd::rd_kafka_group_result_error(group);
    if e.is_null() || rd::rd_kafka_error_code(e) == NO_ERROR {
        return None;
    }
    let code = RDKafkaErrorCode::from(rd::rd_kafka_error_code(e));
    Some((code, text(rd::rd_kafka_error_string(e))))
}

/// Runs one admin request of kind `op` on a reply queue of its own:
/// `issue` sends it (given the options and the queue) or refuses to (an
/// argument librdkafka would not take: nothing sent, that refusal
/// returned), `read` turns the result event into the outcome. `wait`
/// bounds the request (and, for topic operations, the broker's own wait for completion); `interrupted`
/// is asked every 100 ms while waiting.
///
/// # Safety
/// `rk` is a live client for the whole call; `issue` must post exactly
/// one result to the queue unless it returns an error, and `read` must not
/// keep pointers into the event (it is destroyed after `read` returns).
unsafe fn request<T>(
    rk: *mut rd::rd_kafka_t,
    op: rd::rd_kafka_admin_op_t,
    target: Target,
    wait: Option<Duration>,
    interrupted: &dyn Fn() -> bool,
    issue: impl FnOnce(
        *mut rd::rd_kafka_AdminOptions_t,
        *mut rd::rd_kafka_queue_t,
    ) -> Result<(), String>,
    read: impl FnOnce(*mut rd::rd_kafka_event_t) -> Outcome<T>,
) -> Outcome<T> {
    let queue = rd::rd_kafka_queue_new(rk);
    if queue.is_null() {
        let why = "librdkafka could not create a queue".into();
        return Outcome::Failed(RDKafkaErrorCode::Fail, why);
    }
    let queue = Queue(queue);
    let Some(options) = Owned::new(rd::rd_kafka_AdminOptions_new(rk, op)) else {
        let why = "librdkafka could not make the request's options".into();
        return Outcome::Failed(RDKafkaErrorCode::Fail, why);
    };
    let (wait, deadline) = match target {
        Target::Any => (wait, None),
        Target::Coordinator => {
            let ours = wait.map_or(COORDINATOR_LONGEST, |w| w.min(COORDINATOR_LONGEST));
            (Some(LIBRDKAFKA_LONGEST), Some(Instant::now() + ours))
        }
    };
    if let Some(w) = wait {
        let ms = w.as_millis().clamp(1, i32::MAX as u128) as i32;
        let mut errstr = [0 as c_char; 256];
        let (buf, len) = (errstr.as_mut_ptr(), errstr.len());
        rd::rd_kafka_AdminOptions_set_request_timeout(options.ptr(), ms, buf, len);
        // Refused (and ignored) for the requests that have none.
        rd::rd_kafka_AdminOptions_set_operation_timeout(options.ptr(), ms, buf, len);
    }
    // librdkafka copies the options into the request.
    if let Err(why) = issue(options.ptr(), queue.0) {
        return Outcome::Failed(RDKafkaErrorCode::InvalidArgument, why);
    }
    drop(options);
    let event = loop {
        if let Some(event) = Owned::new(rd::rd_kafka_queue_poll(queue.0, 100)) {
            break event;
        }
        if interrupted() {
            return Outcome::Interrupted;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Outcome::TimedOut;
        }
    };
    let err = rd::rd_kafka_event_error(event.ptr());
    match err == NO_ERROR {
        true => read(event.ptr()),
        false => Outcome::Failed(
            RDKafkaErrorCode::from(err),
            text(rd::rd_kafka_event_error_string(event.ptr())),
        ),
    }
}
