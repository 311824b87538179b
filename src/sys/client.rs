//! Calls on a client that rust-rdkafka does not offer (or offers with a
//! leak): OAUTHBEARER tokens, the cluster id, the topics the cluster lacks.

use std::ffi::{CStr, CString};
use std::time::Duration;

use rdkafka::bindings as rd;
use rdkafka::error::RDKafkaErrorCode;

use super::elements;
use super::owned::Owned;

/// Hands `client` an OAUTHBEARER token (librdkafka checks it: a lifetime in
/// the past, an empty token or a principal with spaces are refused, with
/// its reason).
pub(crate) fn set_oauth_token<C: rdkafka::client::ClientContext>(
    client: &rdkafka::client::Client<C>,
    token: &str,
    lifetime_ms: i64,
    principal: &str,
) -> Result<(), String> {
    let token = CString::new(token).map_err(|_| "the token holds a NUL byte".to_owned())?;
    let principal =
        CString::new(principal).map_err(|_| "the principal holds a NUL byte".to_owned())?;
    let mut errstr = [0 as std::ffi::c_char; 512];
    // SAFETY: the client is live for the call; the strings and the error
    // buffer outlive it and librdkafka copies what it keeps.
    let err = unsafe {
        rd::rd_kafka_oauthbearer_set_token(
            client.native_ptr(),
            token.as_ptr(),
            lifetime_ms,
            principal.as_ptr(),
            std::ptr::null_mut(),
            0,
            errstr.as_mut_ptr(),
            errstr.len(),
        )
    };
    if err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
        return Ok(());
    }
    // SAFETY: librdkafka NUL-terminates what it writes into errstr.
    let why = unsafe { CStr::from_ptr(errstr.as_ptr()) }.to_string_lossy();
    Err(match why.is_empty() {
        true => format!("{:?}", RDKafkaErrorCode::from(err)),
        false => why.into_owned(),
    })
}

/// Tells `client` no token could be had: librdkafka reports it as an
/// authentication error of the client and keeps its connections waiting.
pub(crate) fn set_oauth_failure<C: rdkafka::client::ClientContext>(
    client: &rdkafka::client::Client<C>,
    why: &str,
) {
    let why = CString::new(why.replace('\0', " ")).unwrap_or_default();
    // SAFETY: the client is live for the call; librdkafka copies the text.
    unsafe { rd::rd_kafka_oauthbearer_set_token_failure(client.native_ptr(), why.as_ptr()) };
}

/// The cluster's id, waiting up to `wait` for it to be known (rust-rdkafka's
/// `fetch_cluster_id` leaks the copy librdkafka makes of it: one string
/// per call, found by valgrind in tests/memory.rs).
pub(crate) fn cluster_id<C: rdkafka::client::ClientContext>(
    client: &rdkafka::client::Client<C>,
    wait: Duration,
) -> Option<String> {
    let ms = wait.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: a live client; the returned string is librdkafka's
    // allocation, copied and then released with rd_kafka_mem_free.
    unsafe {
        let id = rd::rd_kafka_clusterid(client.native_ptr(), ms);
        if id.is_null() {
            return None;
        }
        let copy = CStr::from_ptr(id).to_string_lossy().into_owned();
        rd::rd_kafka_mem_free(client.native_ptr(), id.cast());
        Some(copy)
    }
}

/// librdkafka's metadata for the topics this client already knows (not
/// all of the cluster's), asked for up to `wait`; `None` without an answer.
fn known_topics_metadata<C: rdkafka::client::ClientContext>(
    client: &rdkafka::client::Client<C>,
    wait: Duration,
) -> Option<Owned<rd::rd_kafka_metadata_t>> {
    let ms = wait.as_millis().clamp(1, i32::MAX as u128) as i32;
    let mut md: *const rd::rd_kafka_metadata_t = std::ptr::null();
    // SAFETY: a live client; with all_topics 0 and no topic handle
    // librdkafka asks for the topics it holds locally, and writes its
    // answer into `md` on success.
    let err =
        unsafe { rd::rd_kafka_metadata(client.native_ptr(), 0, std::ptr::null_mut(), &mut md, ms) };
    if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
        return None;
    }
    // SAFETY: a successful answer is the caller's to release, and only
    // this owner holds it.
    unsafe { Owned::new(md.cast_mut()) }
}

/// The topics this client has used that the cluster says do not exist
/// (UNKNOWN_TOPIC_OR_PART in its metadata), asked for up to `wait`; none
/// when it did not answer in time.
pub(crate) fn missing_topics<C: rdkafka::client::ClientContext>(
    client: &rdkafka::client::Client<C>,
    wait: Duration,
) -> Vec<String> {
    let Some(md) = known_topics_metadata(client, wait) else {
        return Vec::new();
    };
    // SAFETY: the answer is live while `md` is; its topics array has
    // topic_cnt elements, and each name is NUL-terminated, copied here.
    unsafe {
        let md = &*md.ptr();
        let unknown = rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        elements(md.topics, md.topic_cnt)
            .iter()
            .filter(|t| t.err == unknown && !t.topic.is_null())
            .map(|t| CStr::from_ptr(t.topic).to_string_lossy().into_owned())
            .collect()
    }
}

/// The broker id the cluster's metadata names its controller, asked for
/// up to `wait`; `None` while unknown.
pub(crate) fn controller_id<C: rdkafka::client::ClientContext>(
    client: &rdkafka::client::Client<C>,
    wait: Duration,
) -> Option<i32> {
    let ms = wait.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: a live client; the call only reads librdkafka's metadata
    // cache (waiting for it up to `ms`).
    let id = unsafe { rd::rd_kafka_controllerid(client.native_ptr(), ms) };
    (id >= 0).then_some(id)
}

/// The ids of the cluster's brokers, from a metadata request for the
/// topics the client already knows, asked for up to `wait`; `None`
/// without an answer.
pub(crate) fn broker_ids<C: rdkafka::client::ClientContext>(
    client: &rdkafka::client::Client<C>,
    wait: Duration,
) -> Option<Vec<i32>> {
    let md = known_topics_metadata(client, wait)?;
    // SAFETY: the answer is live while `md` is; its brokers array has
    // broker_cnt elements.
    let ids = unsafe {
        let md = &*md.ptr();
        elements(md.brokers, md.broker_cnt)
            .iter()
            .map(|b| b.id)
            .collect()
    };
    Some(ids)
}
