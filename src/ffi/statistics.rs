//! Statistics: `kafka_set_statistics_callback` (librdkafka's statistics
//! JSON and its figures, every interval, on a library thread) and
//! `KafkaStatisticsSummary`, the figures of a statistics text read without
//! a JSON parser.

use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

use crate::ffi::config::KafkaConfig;
use crate::ffi::error::{KafkaError, KafkaErrorCode};
use crate::ffi::{
    arg_bytes, call, call_infallible, free_handle, handle_mut, here, into_handle, opt_handle,
    out_slot, Handle,
};
use crate::statistics::{summarize, Summary};

/// One broker's figures in a `KafkaStatistics`.
#[repr(C)]
pub struct KafkaBrokerStatistics {
    /// `host:port/id`.
    pub name: *const c_char,
    pub node_id: i32,
    /// The connection's state: "UP", "DOWN", "CONNECT", "AUTH", ...
    pub state: *const c_char,
    /// Request round-trip times over the last interval, in microseconds
    /// (0: no request was answered in it).
    pub rtt_avg_us: i64,
    pub rtt_p99_us: i64,
}

/// One partition's figures in a `KafkaStatistics`.
#[repr(C)]
pub struct KafkaPartitionStatistics {
    pub topic: *const c_char,
    pub partition: i32,
    /// Consumer: messages between the group's committed offset and the
    /// partition's end; -1 while not known.
    pub consumer_lag: i64,
    /// The partition's high watermark as last fetched; -1 while not known.
    pub high_watermark: i64,
    /// Consumer: the group's committed offset (`KAFKA_OFFSET_NONE`: none).
    pub committed_offset: i64,
    /// Producer: messages waiting to be sent to this partition.
    pub queued_messages: i64,
}

/// The figures users ask for, from one statistics report. Counts are
/// since the client was created.
#[repr(C)]
pub struct KafkaStatistics {
    /// librdkafka's name of the client, e.g. `rdkafka#producer-1`.
    pub client_name: *const c_char,
    /// "producer" or "consumer".
    pub client_type: *const c_char,
    pub messages_sent: i64,
    pub bytes_sent: i64,
    pub messages_received: i64,
    pub bytes_received: i64,
    /// Producer: messages (and bytes) in its local queue, not yet
    /// acknowledged.
    pub queued_messages: i64,
    pub queued_bytes: i64,
    /// `broker_count` brokers, sorted by id.
    pub brokers: *const KafkaBrokerStatistics,
    pub broker_count: usize,
    /// `partition_count` partitions, sorted by topic, then partition.
    pub partitions: *const KafkaPartitionStatistics,
    pub partition_count: usize,
}

/// Receives librdkafka's statistics JSON and its figures, every
/// `interval_ms`.
///
/// Runs on a thread of the library that each client with a callback has
/// for it alone (`kafka-statistics`), so a slow callback never holds back
/// deliveries, polls, flush or close. A callback slower than `interval_ms`
/// gets the newest report when it returns: those that came meanwhile are
/// skipped (each report holds the counts of the ones before it).
///
/// @param json     The statistics JSON, NUL-terminated; it lives until the
///                 callback returns.
/// @param json_len The length of `json` in bytes.
/// @param summary  Its figures, NULL only if the JSON could not be read; it
///                 lives until the callback returns.
/// @param opaque   The `opaque` given to `kafka_set_statistics_callback`.
pub type KafkaStatisticsCallback = Option<
    unsafe extern "C" fn(
        json: *const c_char,
        json_len: usize,
        summary: *const KafkaStatistics,
        opaque: *mut c_void,
    ),
>;

/// The figures of a statistics text, from `kafka_statistics_summary`.
pub struct KafkaStatisticsSummary {
    view: KafkaStatistics,
    /// What `view` points into (heap storage that never moves), kept
    /// only to live as long as it.
    _storage: (
        Vec<CString>,
        Vec<KafkaBrokerStatistics>,
        Vec<KafkaPartitionStatistics>,
    ),
}

impl Handle for KafkaStatisticsSummary {}

const SUBJECT: &str = "Kafka Statistics";

impl KafkaStatisticsSummary {
    fn of(s: Summary) -> Self {
        let mut strings = Vec::new();
        let mut keep = |text: &str| {
            let c = CString::new(text.replace('\0', "")).unwrap_or_default();
            let p = c.as_ptr();
            strings.push(c);
            p
        };
        let brokers: Vec<KafkaBrokerStatistics> = s
            .brokers
            .iter()
            .map(|b| KafkaBrokerStatistics {
                name: keep(&b.name),
                node_id: b.node_id,
                state: keep(&b.state),
                rtt_avg_us: b.rtt_avg_us,
                rtt_p99_us: b.rtt_p99_us,
            })
            .collect();
        let partitions: Vec<KafkaPartitionStatistics> = s
            .partitions
            .iter()
            .map(|p| KafkaPartitionStatistics {
                topic: keep(&p.topic),
                partition: p.partition,
                consumer_lag: p.consumer_lag,
                high_watermark: p.high_watermark,
                committed_offset: p.committed_offset,
                queued_messages: p.queued_messages,
            })
            .collect();
        let view = KafkaStatistics {
            client_name: keep(&s.name),
            client_type: keep(&s.client_type),
            messages_sent: s.messages_sent,
            bytes_sent: s.bytes_sent,
            messages_received: s.messages_received,
            bytes_received: s.bytes_received,
            queued_messages: s.queued_messages,
            queued_bytes: s.queued_bytes,
            brokers: brokers.as_ptr(),
            broker_count: brokers.len(),
            partitions: partitions.as_ptr(),
            partition_count: partitions.len(),
        };
        KafkaStatisticsSummary {
            view,
            _storage: (strings, brokers, partitions),
        }
    }
}

/// Makes every client created from `cfg` report its statistics to `cb`
/// every `interval_ms`.
///
/// The callback runs on a library thread: no poll is needed for it (see
/// `KafkaStatisticsCallback`). It may call back into the library, except
/// to free or close the client it reports on from inside the callback
/// (refused there with `KAFKA_ERR_STATE`). Closing a client stops its
/// reports: none starts after the close returns. Later calls replace
/// earlier ones.
///
/// @param cfg         The config to change: an instance's config, or a
///                    client's overrides.
/// @param interval_ms librdkafka's `statistics.interval.ms`; 0 turns the
///                    reports off.
/// @param cb          The callback; NULL turns the reports off.
/// @param opaque      Passed to `cb` as is. A report already running when a
///                    close's time is up finishes on its own thread: keep
///                    what `opaque` points to valid until it has returned
///                    (or until the process ends).
/// @param err         NULL, or where a failure is described (`KAFKA_OK` on
///                    success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`cfg` NULL, `interval_ms` outside 0 to 86400000).
#[no_mangle]
pub unsafe extern "C" fn kafka_set_statistics_callback(
    cfg: *mut KafkaConfig,
    interval_ms: i32,
    cb: KafkaStatisticsCallback,
    opaque: *mut c_void,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `cfg` is NULL or a live config no other thread uses until the statistics
        // callback is set (the header: one thread at a time); `handle_mut` refuses NULL.
        let cfg = unsafe { handle_mut(cfg, "cfg") }?;
        // The caller promises `opaque` may be used from library threads.
        let opaque = opaque as usize;
        let callback = cb.map(|f| {
            let report = move |json: &str| {
                let summary = summarize(json).ok().map(KafkaStatisticsSummary::of);
                let view = summary
                    .as_ref()
                    .map_or(std::ptr::null(), |s| &s.view as *const _);
                let text = CString::new(json).unwrap_or_default();
                // SAFETY: the caller's callback; everything passed lives
                // until it returns.
                unsafe { f(text.as_ptr(), json.len(), view, opaque as *mut c_void) };
            };
            Arc::new(report) as crate::statistics::StatisticsCallback
        });
        cfg.inner.set_statistics_callback(interval_ms, callback)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Reads the figures of a statistics text, as a statistics callback
/// receives it (kept, for instance, to read later).
///
/// @param json The statistics text (`len` bytes).
/// @param len  The length of `json` in bytes.
/// @param out  Receives the figures; free them with
///             `kafka_statistics_summary_free`. NULL until the call succeeds.
/// @param err  NULL, or where a failure is described (`KAFKA_OK` on
///             success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_SERIALIZATION`
///         (`json` is not a JSON object), `KAFKA_ERR_INVALID_ARGUMENT`
///         (`out` NULL, `json` NULL with `len` not 0, `json` not UTF-8).
#[no_mangle]
pub unsafe extern "C" fn kafka_statistics_summary(
    json: *const c_char,
    len: usize,
    out: *mut *mut KafkaStatisticsSummary,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY (both): `out` is NULL or writable, `json` NULL or readable for `len` bytes (the
        // header's contract); NULL `out`, or NULL `json` with a length, is refused.
        let slot = unsafe { out_slot(out, "out") }?;
        let bytes = unsafe { arg_bytes(json.cast(), len, "json") }?.unwrap_or_default();
        let text = std::str::from_utf8(bytes)
            .map_err(|_| crate::error::Error::invalid_argument("json is not UTF-8"))?;
        let summary = KafkaStatisticsSummary::of(summarize(text)?);
        *slot = into_handle(summary);
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Gives the figures of `summary`.
///
/// @param summary The figures from `kafka_statistics_summary`, or NULL.
/// @return The figures, owned by `summary`; NULL for NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_statistics_summary_get(
    summary: *const KafkaStatisticsSummary,
) -> *const KafkaStatistics {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: `summary` is NULL or a live summary from `kafka_statistics_summary` (the
        // header's contract); `opt_handle` maps NULL to `None`.
        unsafe { opt_handle(summary) }.map_or(std::ptr::null(), |s| &s.view as *const _)
    })
}

/// Releases `summary`.
///
/// @param summary The figures to release; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn kafka_statistics_summary_free(summary: *mut KafkaStatisticsSummary) {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: `summary` is NULL or from `kafka_statistics_summary`, freed once and not used
        // after (the header's contract); NULL is a no-op.
        unsafe { free_handle(summary) }
    })
}
