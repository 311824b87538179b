//! `KafkaCluster`: brokers and partitions as the cluster's metadata
//! describes them, returned by `kafka_instance_describe_cluster` and
//! `kafka_instance_describe_topic` (which live here, with the handle they
//! make).

use std::ffi::{c_char, CString};

use crate::admin::Cluster;
use crate::ffi::error::{KafkaError, KafkaErrorCode};
use crate::ffi::instance::KafkaInstance;
use crate::ffi::{
    arg_str, arg_timeout, call, call_infallible, free_handle, handle, here, into_handle,
    opt_handle, out_slot, Handle,
};

/// One broker of a `KafkaCluster`; its strings live as long as the
/// cluster.
#[repr(C)]
pub struct KafkaBroker {
    pub id: i32,
    pub host: *const c_char,
    pub port: i32,
}

/// One partition of a `KafkaCluster`; its pointers live as long as the
/// cluster.
#[repr(C)]
pub struct KafkaPartitionInfo {
    pub topic: *const c_char,
    pub partition: i32,
    /// The leader's broker id; -1 when the partition has none now.
    pub leader: i32,
    /// The brokers holding a replica (`replica_count` of them).
    pub replicas: *const i32,
    pub replica_count: usize,
    /// The replicas in sync with the leader (`in_sync_count`).
    pub in_sync: *const i32,
    pub in_sync_count: usize,
    /// `KAFKA_OK`, or what the metadata says is wrong with the partition
    /// (`KAFKA_ERR_BROKER` with librdkafka's code in `rdkafka_code`, e.g.
    /// 5, LEADER_NOT_AVAILABLE).
    pub error: KafkaErrorCode,
    pub rdkafka_code: i32,
}

/// The cluster's brokers and partitions when it was described. Free it
/// with `kafka_cluster_free`.
pub struct KafkaCluster {
    id: Option<CString>,
    brokers: Vec<KafkaBroker>,
    partitions: Vec<KafkaPartitionInfo>,
    /// What the entries point into: strings and broker-id arrays (their
    /// heap storage never moves).
    strings: Vec<CString>,
    ids: Vec<Vec<i32>>,
}

impl Handle for KafkaCluster {}

const SUBJECT: &str = "Kafka Cluster";

impl KafkaCluster {
    fn of(cluster: Cluster) -> *mut KafkaCluster {
        let mut c = KafkaCluster {
            // Texts from librdkafka: never a NUL.
            id: cluster.id.map(|id| CString::new(id).unwrap_or_default()),
            brokers: Vec::with_capacity(cluster.brokers.len()),
            partitions: Vec::with_capacity(cluster.partitions.len()),
            strings: Vec::new(),
            ids: Vec::new(),
        };
        for b in cluster.brokers {
            let host = c.keep(&b.host);
            c.brokers.push(KafkaBroker {
                id: b.id,
                host,
                port: b.port,
            });
        }
        for p in cluster.partitions {
            let topic = c.keep(&p.topic);
            let (error, rdkafka_code) = match p.error {
                None => (KafkaErrorCode::KAFKA_OK, 0),
                Some(code) => (KafkaErrorCode::KAFKA_ERR_BROKER, code as i32),
            };
            let (replicas, replica_count) = c.keep_ids(p.replicas);
            let (in_sync, in_sync_count) = c.keep_ids(p.in_sync);
            c.partitions.push(KafkaPartitionInfo {
                topic,
                partition: p.partition,
                leader: p.leader,
                replicas,
                replica_count,
                in_sync,
                in_sync_count,
                error,
                rdkafka_code,
            });
        }
        into_handle(c)
    }

    fn keep(&mut self, text: &str) -> *const c_char {
        let s = CString::new(text).unwrap_or_default();
        let p = s.as_ptr();
        self.strings.push(s);
        p
    }

    fn keep_ids(&mut self, ids: Vec<i32>) -> (*const i32, usize) {
        let p = (ids.as_ptr(), ids.len());
        self.ids.push(ids);
        p
    }
}

/// Describes the cluster: its brokers and the partitions of every topic
/// (internal ones, whose names start with `__`, left out).
///
/// Uses the instance's admin client (made on first use).
///
/// @param inst       The instance.
/// @param timeout_ms How long to wait for the brokers (-1: no limit).
/// @param out        Receives the description; free it with
///                   `kafka_cluster_free`. NULL until the call succeeds.
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`inst` or `out` NULL, a bad timeout), `KAFKA_ERR_TIMEOUT`,
///         `KAFKA_ERR_BROKER`.
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_describe_cluster(
    inst: *const KafkaInstance,
    timeout_ms: i32,
    out: *mut *mut KafkaCluster,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY (both): `out` is NULL or writable for one pointer, and `inst` NULL or a live
        // instance (the header's contract); `out_slot` and `handle` refuse NULL.
        let slot = unsafe { out_slot(out, "out") }?;
        let inst = unsafe { handle(inst, "inst") }?;
        let cluster = inst
            .inner
            .admin()?
            .describe(None, arg_timeout(timeout_ms)?)?;
        *slot = KafkaCluster::of(cluster);
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// `kafka_instance_describe_cluster` for one topic: the brokers and that
/// topic's partitions.
///
/// @param inst       The instance.
/// @param topic      The topic, NUL-terminated.
/// @param timeout_ms How long to wait for the brokers (-1: no limit).
/// @param out        Receives the description; free it with
///                   `kafka_cluster_free`. NULL until the call succeeds.
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_BROKER` (with
///         `rdkafka_code` 3, UNKNOWN_TOPIC_OR_PART, for a topic the cluster
///         does not have, unless the brokers create topics when asked about
///         them), `KAFKA_ERR_INVALID_ARGUMENT` (`inst`, `topic` or `out`
///         NULL, invalid UTF-8, a bad timeout), `KAFKA_ERR_TIMEOUT`.
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_describe_topic(
    inst: *const KafkaInstance,
    topic: *const c_char,
    timeout_ms: i32,
    out: *mut *mut KafkaCluster,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY (all three): `out` is NULL or writable, `inst` NULL or a live instance, `topic`
        // NULL or NUL-terminated (the header's contract); each helper refuses NULL.
        let slot = unsafe { out_slot(out, "out") }?;
        let inst = unsafe { handle(inst, "inst") }?;
        let topic = unsafe { arg_str(topic, "topic") }?;
        let admin = inst.inner.admin()?;
        let cluster = admin.describe(Some(topic), arg_timeout(timeout_ms)?)?;
        *slot = KafkaCluster::of(cluster);
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Gives the cluster's id.
///
/// @param cluster The description, or NULL.
/// @return The id, NUL-terminated, owned by `cluster`; NULL when the brokers
///         did not say (or `cluster` is NULL).
#[no_mangle]
pub unsafe extern "C" fn kafka_cluster_id(cluster: *const KafkaCluster) -> *const c_char {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: `cluster` is NULL or a live `KafkaCluster` from a describe call, not yet freed
        // (the header's contract); `opt_handle` maps NULL to `None`.
        unsafe { opt_handle(cluster) }
            .and_then(|c| c.id.as_ref())
            .map_or(std::ptr::null(), |id| id.as_ptr())
    })
}

/// Counts the brokers `cluster` holds.
///
/// @param cluster The description, or NULL.
/// @return The count; 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_cluster_broker_count(cluster: *const KafkaCluster) -> usize {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: `cluster` is NULL or a live cluster description (the header's contract); the
        // borrow ends with the count.
        unsafe { opt_handle(cluster) }.map_or(0, |c| c.brokers.len())
    })
}

/// Gives broker `index` (sorted by id).
///
/// @param cluster The description, or NULL.
/// @param index   The broker's position, from 0.
/// @return The broker, owned by `cluster`; NULL when out of range or
///         `cluster` is NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_cluster_broker(
    cluster: *const KafkaCluster,
    index: usize,
) -> *const KafkaBroker {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: `cluster` is NULL or a live cluster description; the broker returned lives in
        // it, as the header says, until `kafka_cluster_free`.
        unsafe { opt_handle(cluster) }
            .and_then(|c| c.brokers.get(index))
            .map_or(std::ptr::null(), |b| b as *const KafkaBroker)
    })
}

/// Counts the partitions `cluster` holds.
///
/// @param cluster The description, or NULL.
/// @return The count; 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_cluster_partition_count(cluster: *const KafkaCluster) -> usize {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: `cluster` is NULL or a live cluster description (the header's contract); the
        // borrow ends with the count.
        unsafe { opt_handle(cluster) }.map_or(0, |c| c.partitions.len())
    })
}

/// Gives partition `index` (sorted by topic, then partition).
///
/// @param cluster The description, or NULL.
/// @param index   The partition's position, from 0.
/// @return The partition, owned by `cluster`; NULL when out of range or
///         `cluster` is NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_cluster_partition(
    cluster: *const KafkaCluster,
    index: usize,
) -> *const KafkaPartitionInfo {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: `cluster` is NULL or a live cluster description; the partition returned lives in
        // it, as the header says, until `kafka_cluster_free`.
        unsafe { opt_handle(cluster) }
            .and_then(|c| c.partitions.get(index))
            .map_or(std::ptr::null(), |p| p as *const KafkaPartitionInfo)
    })
}

/// Releases `cluster`.
///
/// @param cluster The description to release; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn kafka_cluster_free(cluster: *mut KafkaCluster) {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: `cluster` is NULL or from a describe call, freed once and not used after (the
        // header's contract for `kafka_cluster_free`); NULL is a no-op.
        unsafe { free_handle(cluster) }
    })
}
