//! `KafkaInstance`: the connection manager producers and consumers are
//! made from. (`kafka_instance_get_producer` and `_get_consumer` live in
//! `producer.rs` and `consumer.rs`, with the handles they make.)

use crate::ffi::config::KafkaConfig;
use crate::ffi::error::{KafkaError, KafkaErrorCode};
use crate::ffi::{
    arg_str, arg_timeout, call, call_infallible, copy_out, free_handle, handle, here, into_handle,
    Handle,
};
use crate::instance::Instance;

/// A resolved configuration from which producers and consumers are made.
/// Safe to share between threads. Producers and consumers keep working
/// after their instance is freed.
///
/// Its admin calls (`kafka_instance_create_topic`, `_create_partitions`,
/// the topic settings, groups and records calls) fail at once with
/// `KAFKA_ERR_BROKER` and `rdkafka_code` -165 (unsupported) when the
/// cluster cannot answer the request: a broker without the API, or a
/// cluster whose named controller is none of its brokers (librdkafka's
/// embedded broker: create its topics with `kafka_mock_cluster_create_topic`).
/// They never wait out their timeout for an answer that cannot come.
pub struct KafkaInstance {
    pub(crate) inner: Instance,
}

impl Handle for KafkaInstance {}

const SUBJECT: &str = "Kafka Instance";

/// Creates an instance from a copy of `cfg`.
///
/// @param cfg The config; later changes to `cfg` do not affect the instance.
/// @param err NULL, or where a failure is described (`KAFKA_OK` on success).
/// @return The instance (release it with `kafka_instance_free`), or NULL on
///         failure: `KAFKA_ERR_INVALID_ARGUMENT` (`cfg` NULL),
///         `KAFKA_ERR_CONFIG` (`cfg` names no brokers, neither a kafka_url
///         nor bootstrap servers, or librdkafka refuses the combined
///         settings).
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_new(
    cfg: *const KafkaConfig,
    err: *mut KafkaError,
) -> *mut KafkaInstance {
    call(here!(SUBJECT), err, || {
        // SAFETY: `cfg` is NULL or a live config no thread changes during the call (the header's
        // contract); `handle` refuses NULL, and the instance copies it.
        let cfg = unsafe { handle(cfg, "cfg") }?;
        let inner = Instance::new(&cfg.inner)?;
        Ok(into_handle(KafkaInstance { inner }))
    })
}

/// Releases `inst`.
///
/// @param inst The instance to release; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_free(inst: *mut KafkaInstance) {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: `inst` is NULL or from `kafka_instance_new`, freed once and not used after (the
        // header's contract for `kafka_instance_free`); NULL is a no-op.
        unsafe { free_handle(inst) }
    })
}

/// Creates `topic` on the cluster and waits for the result.
///
/// @param inst               The instance.
/// @param topic              The topic's name, NUL-terminated.
/// @param partitions         How many partitions it gets.
/// @param replication_factor How many replicas each partition gets.
/// @param timeout_ms         How long to wait for the result (-1: forever).
/// @param err                NULL, or where a failure is described
///                           (`KAFKA_OK` on success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`inst` or `topic` NULL, invalid UTF-8, a bad timeout),
///         `KAFKA_ERR_BROKER` (with `rdkafka_code` 36, TOPIC_ALREADY_EXISTS,
///         for a topic that exists already, which callers may treat as
///         success), `KAFKA_ERR_TIMEOUT`.
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_create_topic(
    inst: *const KafkaInstance,
    topic: *const std::ffi::c_char,
    partitions: i32,
    replication_factor: i32,
    timeout_ms: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `inst` is NULL or a live instance, shareable between threads and not freed until
        // the topic is created (the header's contract); `handle` refuses NULL.
        let inst = unsafe { handle(inst, "inst") }?;
        // SAFETY: `topic` is NULL or a NUL-terminated string kept for the call, read until the
        // topic is created; `arg_str` refuses NULL and invalid UTF-8.
        let topic = unsafe { arg_str(topic, "topic") }?;
        inst.inner.create_topic(
            topic,
            partitions,
            replication_factor,
            arg_timeout(timeout_ms)?,
        )?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Deletes `topic` and waits for the result.
///
/// @param inst       The instance.
/// @param topic      The topic's name, NUL-terminated.
/// @param timeout_ms How long to wait (-1: forever).
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`inst` or `topic` NULL, invalid UTF-8, a bad timeout),
///         `KAFKA_ERR_BROKER`, `KAFKA_ERR_TIMEOUT`.
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_delete_topic(
    inst: *const KafkaInstance,
    topic: *const std::ffi::c_char,
    timeout_ms: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `inst` is NULL or a live instance, shareable between threads and not freed until
        // the topic is deleted (the header's contract); `handle` refuses NULL.
        let inst = unsafe { handle(inst, "inst") }?;
        // SAFETY: `topic` is NULL or a NUL-terminated string kept for the call, read until the
        // topic is deleted; `arg_str` refuses NULL and invalid UTF-8.
        let topic = unsafe { arg_str(topic, "topic") }?;
        inst.inner.delete_topic(topic, arg_timeout(timeout_ms)?)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Copies the cluster's topic names, sorted, each followed by `'\n'`, into
/// `buf`, NUL-terminated.
///
/// Internal topics, whose names start with `__`, are left out.
///
/// @param inst       The instance.
/// @param timeout_ms How long to wait for the broker.
/// @param buf        Where the text is written; NULL (with `buf_len` 0) asks
///                   for the length.
/// @param buf_len    The size of `buf` in bytes.
/// @param len        NULL, or receives the text's length without the NUL,
///                   even when `buf` is too small.
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_BUFFER_TOO_SMALL`
///         (`buf` holds nothing: call again with a larger buffer; topics may
///         have been added meanwhile, so allow some room),
///         `KAFKA_ERR_INVALID_ARGUMENT` (`inst` NULL, `buf` NULL with
///         `buf_len` not 0, a bad timeout), `KAFKA_ERR_BROKER`,
///         `KAFKA_ERR_TIMEOUT`.
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_list_topics(
    inst: *const KafkaInstance,
    timeout_ms: i32,
    buf: *mut std::ffi::c_char,
    buf_len: usize,
    len: *mut usize,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `inst` is NULL or a live instance, shareable between threads and not freed until
        // the topics are listed (the header's contract); `handle` refuses NULL.
        let inst = unsafe { handle(inst, "inst") }?;
        if buf.is_null() && buf_len > 0 {
            return Err(crate::error::Error::invalid_argument(
                "buf is NULL but buf_len is not 0",
            ));
        }
        let mut text = String::new();
        for name in inst.inner.list_topics(arg_timeout(timeout_ms)?)? {
            text.push_str(&name);
            text.push('\n');
        }
        // SAFETY: buf and len per the function's contract.
        unsafe { copy_out(&text, "the topic list", buf, buf_len, len) }?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Grows `topic` to `total` partitions.
///
/// Keys sent before may map to other partitions afterwards.
///
/// @param inst       The instance.
/// @param topic      The topic's name, NUL-terminated.
/// @param total      The partition count wanted: more than it has
///                   (partitions are never removed).
/// @param timeout_ms How long to wait (-1: no limit).
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`inst` or `topic` NULL, invalid UTF-8, a bad timeout),
///         `KAFKA_ERR_BROKER`, `KAFKA_ERR_TIMEOUT`.
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_create_partitions(
    inst: *const KafkaInstance,
    topic: *const std::ffi::c_char,
    total: i32,
    timeout_ms: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY (both): `inst` is NULL or a live instance, `topic` NULL or a C string kept for
        // the call (the header's contract); `handle` and `arg_str` refuse NULL.
        let inst = unsafe { handle(inst, "inst") }?;
        let topic = unsafe { arg_str(topic, "topic") }?;
        let admin = inst.inner.admin()?;
        admin.create_partitions(topic, total, arg_timeout(timeout_ms)?)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Deletes the records of `topic`'s `partition` before `before_offset`.
///
/// @param inst          The instance.
/// @param topic         The topic's name, NUL-terminated.
/// @param partition     The partition.
/// @param before_offset The first offset kept (-1: delete all of them).
/// @param timeout_ms    How long to wait (-1: no limit).
/// @param low_watermark NULL, or receives the partition's oldest offset
///                      afterwards.
/// @param err           NULL, or where a failure is described (`KAFKA_OK`
///                      on success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`inst` or `topic` NULL, invalid UTF-8, a bad timeout),
///         `KAFKA_ERR_BROKER`, `KAFKA_ERR_TIMEOUT`.
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_delete_records(
    inst: *const KafkaInstance,
    topic: *const std::ffi::c_char,
    partition: i32,
    before_offset: i64,
    timeout_ms: i32,
    low_watermark: *mut i64,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY (both): `inst` is NULL or a live instance, `topic` NULL or a C string kept for
        // the call (the header's contract); `handle` and `arg_str` refuse NULL.
        let inst = unsafe { handle(inst, "inst") }?;
        let topic = unsafe { arg_str(topic, "topic") }?;
        let admin = inst.inner.admin()?;
        let low =
            admin.delete_records(topic, partition, before_offset, arg_timeout(timeout_ms)?)?;
        // SAFETY: `low_watermark` is NULL or writable for one `int64_t` (the header's contract);
        // NULL is skipped.
        if let Some(out) = unsafe { low_watermark.as_mut() } {
            *out = low;
        }
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}
