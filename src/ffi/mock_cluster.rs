//! `KafkaMockCluster`: the embedded broker.

use std::ffi::{c_char, CString};

use crate::ffi::error::{KafkaError, KafkaErrorCode};
use crate::ffi::{arg, arg_str, call, call_infallible, free_handle, into_handle, site};
use crate::mock::MockCluster;

/// librdkafka's mock cluster: real Kafka-protocol brokers on loopback,
/// inside this process. Any Kafka client can connect to its bootstrap
/// string. For development, examples and tests; it keeps data in memory.
pub struct KafkaMockCluster {
    inner: MockCluster,
    bootstrap_servers: CString,
}

const SUBJECT: &str = "Kafka Mock Cluster";

/// Starts `broker_count` brokers (1 to 64; ids 1..broker_count) on
/// loopback. NULL on failure.
#[no_mangle]
pub unsafe extern "C" fn kafka_mock_cluster_new(
    broker_count: i32,
    err: *mut KafkaError,
) -> *mut KafkaMockCluster {
    call(
        site("kafka_instance.mock_cluster.new", SUBJECT),
        err,
        || {
            let inner = MockCluster::new(broker_count)?;
            // Host:port lists never contain NUL.
            let bootstrap_servers = CString::new(inner.bootstrap_servers()).unwrap_or_default();
            Ok(into_handle(KafkaMockCluster {
                inner,
                bootstrap_servers,
            }))
        },
    )
}

/// The cluster's `host:port,...` bootstrap string, owned by `mc` and valid
/// until `kafka_mock_cluster_free`. NULL when `mc` is NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_mock_cluster_bootstrap_servers(
    mc: *const KafkaMockCluster,
) -> *const c_char {
    call_infallible(
        site("kafka_instance.mock_cluster.bootstrap_servers", SUBJECT),
        || {
            // SAFETY: module contract.
            match unsafe { mc.as_ref() } {
                Some(mc) => mc.bootstrap_servers.as_ptr(),
                None => std::ptr::null(),
            }
        },
    )
}

/// Creates `topic` with `partitions` partitions and `replication_factor`
/// replicas (at most the broker count).
#[no_mangle]
pub unsafe extern "C" fn kafka_mock_cluster_create_topic(
    mc: *mut KafkaMockCluster,
    topic: *const c_char,
    partitions: i32,
    replication_factor: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(
        site("kafka_instance.mock_cluster.create_topic", SUBJECT),
        err,
        || {
            // SAFETY: module contract.
            let mc = unsafe { arg(mc, "mc") }?;
            // SAFETY: module contract.
            let topic = unsafe { arg_str(topic, "topic") }?;
            mc.inner
                .create_topic(topic, partitions, replication_factor)?;
            Ok(KafkaErrorCode::KAFKA_OK)
        },
    )
}

/// Stops broker `broker_id`: its connections drop and it accepts none until
/// `kafka_mock_cluster_broker_up`. Clients see a real broker outage.
#[no_mangle]
pub unsafe extern "C" fn kafka_mock_cluster_broker_down(
    mc: *mut KafkaMockCluster,
    broker_id: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(
        site("kafka_instance.mock_cluster.broker_down", SUBJECT),
        err,
        || {
            // SAFETY: module contract.
            let mc = unsafe { arg(mc, "mc") }?;
            mc.inner.broker_down(broker_id)?;
            Ok(KafkaErrorCode::KAFKA_OK)
        },
    )
}

/// Restarts broker `broker_id` after `kafka_mock_cluster_broker_down`.
#[no_mangle]
pub unsafe extern "C" fn kafka_mock_cluster_broker_up(
    mc: *mut KafkaMockCluster,
    broker_id: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(
        site("kafka_instance.mock_cluster.broker_up", SUBJECT),
        err,
        || {
            // SAFETY: module contract.
            let mc = unsafe { arg(mc, "mc") }?;
            mc.inner.broker_up(broker_id)?;
            Ok(KafkaErrorCode::KAFKA_OK)
        },
    )
}

/// Stops the cluster and releases it. NULL is a no-op. Clients still
/// connected see the brokers go away.
#[no_mangle]
pub unsafe extern "C" fn kafka_mock_cluster_free(mc: *mut KafkaMockCluster) {
    call_infallible(site("kafka_instance.mock_cluster.free", SUBJECT), || {
        // SAFETY: mc is NULL or came from kafka_mock_cluster_new (module contract).
        unsafe { free_handle(mc) }
    })
}
