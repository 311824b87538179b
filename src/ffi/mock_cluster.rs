//! `KafkaMockCluster`: the embedded broker.

use std::ffi::{c_char, CString};

use crate::ffi::error::{KafkaError, KafkaErrorCode};
use crate::ffi::{
    arg_slice, arg_str, call, call_infallible, free_handle, handle, here, into_handle, opt_handle,
    Handle, Lent,
};
use crate::mock::MockCluster;

/// librdkafka's mock cluster: real Kafka-protocol brokers on loopback,
/// inside this process. Any Kafka client can connect to its bootstrap
/// string. For development, examples and tests; it keeps data in memory.
pub struct KafkaMockCluster {
    inner: MockCluster,
    bootstrap_servers: CString,
}

impl Handle for KafkaMockCluster {}

/// Kafka error codes, lent as an array.
impl Lent for i32 {}

const SUBJECT: &str = "Kafka Mock Cluster";

/// Starts `broker_count` brokers on loopback.
///
/// @param broker_count How many brokers: 1 to 64; their ids are 1 to
///                     `broker_count`.
/// @param err          NULL, or where a failure is described (`KAFKA_OK` on
///                     success).
/// @return The cluster (stop it with `kafka_mock_cluster_free`), or NULL on
///         failure: `KAFKA_ERR_INVALID_ARGUMENT` (a broker count out of
///         range), or why the brokers could not start.
#[no_mangle]
pub unsafe extern "C" fn kafka_mock_cluster_new(
    broker_count: i32,
    err: *mut KafkaError,
) -> *mut KafkaMockCluster {
    call(here!(SUBJECT), err, || {
        let inner = MockCluster::new(broker_count)?;
        // Host:port lists never contain NUL.
        let bootstrap_servers = CString::new(inner.bootstrap_servers()).unwrap_or_default();
        Ok(into_handle(KafkaMockCluster {
            inner,
            bootstrap_servers,
        }))
    })
}

/// Gives the cluster's `host:port,...` bootstrap string.
///
/// @param mc The cluster, or NULL.
/// @return The string, owned by `mc` and valid until
///         `kafka_mock_cluster_free`; NULL when `mc` is NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_mock_cluster_bootstrap_servers(
    mc: *const KafkaMockCluster,
) -> *const c_char {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: `mc` is NULL or a live mock cluster from `kafka_mock_cluster_new` (the header's
        // contract); `opt_handle` maps NULL to `None`.
        match unsafe { opt_handle(mc) } {
            Some(mc) => mc.bootstrap_servers.as_ptr(),
            None => std::ptr::null(),
        }
    })
}

/// Creates `topic` with `partitions` partitions and `replication_factor`
/// replicas.
///
/// @param mc                 The cluster.
/// @param topic              The topic, NUL-terminated.
/// @param partitions         How many partitions, 1 or more.
/// @param replication_factor How many replicas, at most the broker count.
/// @param err                NULL, or where a failure is described
///                           (`KAFKA_OK` on success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`mc` or `topic` NULL, an invalid topic, a count out of range),
///         `KAFKA_ERR_BROKER`,
///         `KAFKA_ERR_STATE` (in a process forked from the one that started
///         the cluster).
#[no_mangle]
pub unsafe extern "C" fn kafka_mock_cluster_create_topic(
    mc: *mut KafkaMockCluster,
    topic: *const c_char,
    partitions: i32,
    replication_factor: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `mc` is NULL or a live mock cluster from `kafka_mock_cluster_new`, not freed
        // while creating a topic (the header's contract); `handle` refuses NULL.
        let mc = unsafe { handle(mc, "mc") }?;
        // SAFETY: `topic` is NULL or a NUL-terminated string kept for the call, read until the
        // topic is created; `arg_str` refuses NULL and invalid UTF-8.
        let topic = unsafe { arg_str(topic, "topic") }?;
        mc.inner
            .create_topic(topic, partitions, replication_factor)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Stops broker `broker_id`: its connections drop and it accepts none until
/// `kafka_mock_cluster_broker_up`.
///
/// Clients see a real broker outage.
///
/// @param mc        The cluster.
/// @param broker_id The broker, 1 to the broker count.
/// @param err       NULL, or where a failure is described (`KAFKA_OK` on
///                  success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`mc` NULL, no such broker), `KAFKA_ERR_BROKER`,
///         `KAFKA_ERR_STATE` (in a process forked from the one that started
///         the cluster).
#[no_mangle]
pub unsafe extern "C" fn kafka_mock_cluster_broker_down(
    mc: *mut KafkaMockCluster,
    broker_id: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `mc` is NULL or a live mock cluster from `kafka_mock_cluster_new`, not freed
        // while stopping a broker (the header's contract); `handle` refuses NULL.
        let mc = unsafe { handle(mc, "mc") }?;
        mc.inner.broker_down(broker_id)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Restarts broker `broker_id` after `kafka_mock_cluster_broker_down`.
///
/// @param mc        The cluster.
/// @param broker_id The broker, 1 to the broker count.
/// @param err       NULL, or where a failure is described (`KAFKA_OK` on
///                  success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`mc` NULL, no such broker), `KAFKA_ERR_BROKER`,
///         `KAFKA_ERR_STATE` (in a process forked from the one that started
///         the cluster).
#[no_mangle]
pub unsafe extern "C" fn kafka_mock_cluster_broker_up(
    mc: *mut KafkaMockCluster,
    broker_id: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `mc` is NULL or a live mock cluster from `kafka_mock_cluster_new`, not freed
        // while restarting a broker (the header's contract); `handle` refuses NULL.
        let mc = unsafe { handle(mc, "mc") }?;
        mc.inner.broker_up(broker_id)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Makes the next requests of Kafka API `api_key` fail, one request per
/// code, with the broker error codes `errors[0..count]`, in order.
///
/// @param mc      The cluster.
/// @param api_key The Kafka API: 0 Produce, 1 Fetch, 2 ListOffsets,
///                3 Metadata, 8 OffsetCommit, 9 OffsetFetch,
///                10 FindCoordinator, 11 JoinGroup, 12 Heartbeat,
///                13 LeaveGroup, 14 SyncGroup, 22 InitProducerId,
///                24 AddPartitionsToTxn, 25 AddOffsetsToTxn, 26 EndTxn,
///                28 TxnOffsetCommit.
/// @param errors  `count` codes, Kafka's (and librdkafka's
///                `rd_kafka_resp_err_t`): e.g. 6 NOT_LEADER_OR_FOLLOWER,
///                7 REQUEST_TIMED_OUT, 19 NOT_ENOUGH_REPLICAS (retriable),
///                29 TOPIC_AUTHORIZATION_FAILED (not); -195 (`_TRANSPORT`)
///                drops the connection instead.
/// @param count   How many codes `errors` holds.
/// @param err     NULL, or where a failure is described (`KAFKA_OK` on
///                success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`mc` NULL, `errors` NULL with `count` not 0, an API key not
///         listed, a value that is not a Kafka error code),
///         `KAFKA_ERR_STATE` (in a process forked from the one that started
///         the cluster).
#[no_mangle]
pub unsafe extern "C" fn kafka_mock_cluster_push_request_errors(
    mc: *mut KafkaMockCluster,
    api_key: i16,
    errors: *const i32,
    count: usize,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `mc` is NULL or a live mock cluster from `kafka_mock_cluster_new`, not freed
        // while pushing errors (the header's contract); `handle` refuses NULL.
        let mc = unsafe { handle(mc, "mc") }?;
        // SAFETY: `errors` is NULL or points to `count` readable `int32_t` codes (the header's
        // contract); `arg_slice` refuses NULL with a count, and oversize counts.
        let codes = unsafe { arg_slice(errors, count, "errors") }?;
        mc.inner.push_request_errors(api_key, codes)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Forgets the errors pushed for `api_key` that have not been used yet.
///
/// @param mc      The cluster.
/// @param api_key The Kafka API, as for
///                `kafka_mock_cluster_push_request_errors`.
/// @param err     NULL, or where a failure is described (`KAFKA_OK` on
///                success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`mc` NULL, an API key not listed),
///         `KAFKA_ERR_STATE` (in a process forked from the one that started
///         the cluster).
#[no_mangle]
pub unsafe extern "C" fn kafka_mock_cluster_clear_request_errors(
    mc: *mut KafkaMockCluster,
    api_key: i16,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `mc` is NULL or a live mock cluster from `kafka_mock_cluster_new`, not freed
        // while clearing errors (the header's contract); `handle` refuses NULL.
        let mc = unsafe { handle(mc, "mc") }?;
        mc.inner.clear_request_errors(api_key)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Delays every response of broker `broker_id` by `rtt_ms` milliseconds.
///
/// @param mc        The cluster.
/// @param broker_id The broker (-1: every broker).
/// @param rtt_ms    The delay in milliseconds (0 removes it).
/// @param err       NULL, or where a failure is described (`KAFKA_OK` on
///                  success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`mc` NULL, no such broker, a negative `rtt_ms`),
///         `KAFKA_ERR_BROKER`,
///         `KAFKA_ERR_STATE` (in a process forked from the one that started
///         the cluster).
#[no_mangle]
pub unsafe extern "C" fn kafka_mock_cluster_set_round_trip_time(
    mc: *mut KafkaMockCluster,
    broker_id: i32,
    rtt_ms: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `mc` is NULL or a live mock cluster from `kafka_mock_cluster_new`, not freed
        // while setting the round-trip time (the header's contract); `handle` refuses NULL.
        let mc = unsafe { handle(mc, "mc") }?;
        mc.inner.set_round_trip_time(broker_id, rtt_ms)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Moves the leadership of `topic`'s `partition` to broker `broker_id`.
///
/// Replicas keep their data, as in a real failover: with
/// `replication_factor` 3, moving the leader and then taking its old broker
/// down is how a test loses a partition leader. The topic is created if it
/// does not exist.
///
/// @param mc        The cluster.
/// @param topic     The topic, NUL-terminated.
/// @param partition The partition, 0 or more.
/// @param broker_id The new leader (-1: no leader, until one is set again).
/// @param err       NULL, or where a failure is described (`KAFKA_OK` on
///                  success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`mc` or `topic` NULL, an invalid topic, a negative partition, no
///         such broker), `KAFKA_ERR_BROKER`,
///         `KAFKA_ERR_STATE` (in a process forked from the one that started
///         the cluster).
#[no_mangle]
pub unsafe extern "C" fn kafka_mock_cluster_partition_set_leader(
    mc: *mut KafkaMockCluster,
    topic: *const c_char,
    partition: i32,
    broker_id: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `mc` is NULL or a live mock cluster from `kafka_mock_cluster_new`, not freed
        // while moving a leader (the header's contract); `handle` refuses NULL.
        let mc = unsafe { handle(mc, "mc") }?;
        // SAFETY: `topic` is NULL or a NUL-terminated string kept for the call, read until the
        // leader moves; `arg_str` refuses NULL and invalid UTF-8.
        let topic = unsafe { arg_str(topic, "topic") }?;
        mc.inner.partition_set_leader(topic, partition, broker_id)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Stops the cluster and releases it.
///
/// Clients still connected see the brokers go away. In a process forked
/// from the one that started it, it releases nothing (the brokers are the
/// parent's).
///
/// @param mc The cluster to release; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn kafka_mock_cluster_free(mc: *mut KafkaMockCluster) {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: `mc` is NULL or from `kafka_mock_cluster_new`, not freed before (the header's
        // contract for `kafka_mock_cluster_free`); only read here.
        if unsafe { mc.as_ref() }.is_some_and(|m| !m.inner.is_in_its_process()) {
            return;
        }
        // SAFETY: as above.
        unsafe { free_handle(mc) }
    })
}
