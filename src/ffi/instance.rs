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

/// Creates an instance from a copy of `cfg` (later changes to `cfg` do not
/// affect it). Fails with `KAFKA_ERR_CONFIG` when `cfg` names no brokers
/// (neither a kafka_url nor bootstrap servers) or
/// when librdkafka refuses the combined settings. Returns NULL on failure.
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_new(
    cfg: *const KafkaConfig,
    err: *mut KafkaError,
) -> *mut KafkaInstance {
    call(here!(SUBJECT), err, || {
        // SAFETY: module contract.
        let cfg = unsafe { handle(cfg, "cfg") }?;
        let inner = Instance::new(&cfg.inner)?;
        Ok(into_handle(KafkaInstance { inner }))
    })
}

/// Releases `inst`. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_free(inst: *mut KafkaInstance) {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: inst is NULL or came from kafka_instance_new (module contract).
        unsafe { free_handle(inst) }
    })
}

/// Creates `topic` on the cluster and waits up to `timeout_ms` (-1:
/// forever) for the result. A topic that exists already fails with
/// `KAFKA_ERR_BROKER` and `rdkafka_code` 36 (TOPIC_ALREADY_EXISTS), which
/// callers may treat as success.
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
        // SAFETY: module contract.
        let inst = unsafe { handle(inst, "inst") }?;
        // SAFETY: module contract.
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

/// Deletes `topic` and waits up to `timeout_ms` (-1: forever).
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_delete_topic(
    inst: *const KafkaInstance,
    topic: *const std::ffi::c_char,
    timeout_ms: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: module contract.
        let inst = unsafe { handle(inst, "inst") }?;
        // SAFETY: module contract.
        let topic = unsafe { arg_str(topic, "topic") }?;
        inst.inner.delete_topic(topic, arg_timeout(timeout_ms)?)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// The cluster's topic names, sorted, each followed by `'\n'`, copied
/// into `buf` NUL-terminated (internal topics, whose names start with
/// `__`, are left out). Waits up to `timeout_ms` for the broker.
///
/// `*len` (may be NULL) receives the text's length without the NUL even
/// when `buf` is too small; then the result is `KAFKA_ERR_BUFFER_TOO_SMALL`
/// and `buf` holds nothing: call again with a larger buffer (topics may
/// have been added meanwhile, so allow some room). `buf` NULL with
/// `buf_len` 0 asks for the length.
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
        // SAFETY: module contract.
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

/// Grows `topic` to `total` partitions (more than it has: partitions are
/// never removed), within `timeout_ms` (-1: no limit). Keys sent before
/// may map to other partitions afterwards.
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_create_partitions(
    inst: *const KafkaInstance,
    topic: *const std::ffi::c_char,
    total: i32,
    timeout_ms: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY (both): module contract.
        let inst = unsafe { handle(inst, "inst") }?;
        let topic = unsafe { arg_str(topic, "topic") }?;
        let admin = inst.inner.admin()?;
        admin.create_partitions(topic, total, arg_timeout(timeout_ms)?)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Deletes the records of `topic`'s `partition` before `before_offset`
/// (-1: all of them), within `timeout_ms` (-1: no limit). `*low_watermark`
/// (may be NULL) receives the partition's oldest offset afterwards.
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
        // SAFETY (both): module contract.
        let inst = unsafe { handle(inst, "inst") }?;
        let topic = unsafe { arg_str(topic, "topic") }?;
        let admin = inst.inner.admin()?;
        let low =
            admin.delete_records(topic, partition, before_offset, arg_timeout(timeout_ms)?)?;
        // SAFETY: NULL or a caller-owned i64 (module contract).
        if let Some(out) = unsafe { low_watermark.as_mut() } {
            *out = low;
        }
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}
