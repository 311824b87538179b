//! A producer's topic handles and what each message carries to its
//! delivery report.

use std::ffi::CString;
use std::sync::Arc;

use rdkafka::bindings as rd;
use rdkafka::error::RDKafkaErrorCode;

/// What a message carries to its delivery report (librdkafka's opaque):
/// a tag, held in the pointer itself (an odd value), so that a tracked
/// send allocates nothing, or a shared value.
pub(crate) enum Note<T> {
    Tag(u64),
    Shared(Arc<T>),
}

impl<T> Note<T> {
    /// `tag` held inline when it fits in a pointer beside the marker bit,
    /// else `shared()`.
    pub(crate) fn tag(tag: u64, shared: impl FnOnce() -> Arc<T>) -> Self {
        match usize::try_from(tag) {
            Ok(t) if t <= usize::MAX >> 1 => Note::Tag(tag),
            _ => Note::Shared(shared()),
        }
    }
}

impl<T> Clone for Note<T> {
    fn clone(&self) -> Self {
        match self {
            Note::Tag(t) => Note::Tag(*t),
            Note::Shared(a) => Note::Shared(Arc::clone(a)),
        }
    }
}

impl<T: Send + Sync> rdkafka::util::IntoOpaque for Note<T> {
    fn into_ptr(self) -> *mut std::ffi::c_void {
        match self {
            // `Note::tag` made sure the shift loses nothing.
            Note::Tag(t) => ((t as usize) << 1 | 1) as *mut std::ffi::c_void,
            // An Arc's data is aligned to at least a usize: an even address.
            Note::Shared(a) => Arc::into_raw(a).cast_mut().cast(),
        }
    }

    unsafe fn from_ptr(p: *mut std::ffi::c_void) -> Self {
        let v = p as usize;
        if v & 1 == 1 {
            Note::Tag((v >> 1) as u64)
        } else {
            // SAFETY: an even value came from `into_ptr` of a Shared, once
            // (librdkafka hands each message's opaque back once).
            Note::Shared(unsafe { Arc::from_raw(p.cast_const().cast()) })
        }
    }
}

/// A topic's handle in a producer, for a run of sends to it without a
/// lookup of its name (and a copy of the name) per message.
pub(crate) struct TopicHandle(std::ptr::NonNull<rd::rd_kafka_topic_t>);

impl TopicHandle {
    /// `None` when librdkafka refuses the name (the caller then sends
    /// through the path that reports why).
    pub(crate) fn new<C: rdkafka::client::ClientContext>(
        client: &rdkafka::client::Client<C>,
        name: &str,
    ) -> Option<Self> {
        let name = CString::new(name).ok()?;
        // SAFETY: a live client and a NUL-terminated name, which librdkafka
        // copies; a null configuration means the client's defaults.
        let rkt = unsafe {
            rd::rd_kafka_topic_new(client.native_ptr(), name.as_ptr(), std::ptr::null_mut())
        };
        std::ptr::NonNull::new(rkt).map(TopicHandle)
    }

    /// Queues a copy of `key` and `value` for `partition` (-1: the
    /// partitioner chooses), carrying `note` to its delivery report. On
    /// failure the note is dropped here and librdkafka's error returned.
    pub(crate) fn produce<T: Send + Sync>(
        &self,
        partition: i32,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        note: Note<T>,
    ) -> Result<(), RDKafkaErrorCode> {
        use rdkafka::util::IntoOpaque;
        let (kp, kl) = key.map_or((std::ptr::null(), 0), |k| (k.as_ptr(), k.len()));
        let (vp, vl) = value.map_or((std::ptr::null(), 0), |v| (v.as_ptr(), v.len()));
        let opaque = note.into_ptr();
        // SAFETY: the handle keeps the topic (and its client) alive; with
        // F_COPY librdkafka copies key and value before returning, and
        // does not write through the value pointer.
        let rc = unsafe {
            rd::rd_kafka_produce(
                self.0.as_ptr(),
                partition,
                rd::RD_KAFKA_MSG_F_COPY,
                vp.cast_mut().cast(),
                vl,
                kp.cast(),
                kl,
                opaque,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        // SAFETY: not queued, so librdkafka keeps no copy of the opaque;
        // it is reclaimed once, here.
        drop(unsafe { Note::<T>::from_ptr(opaque) });
        // SAFETY: reads the calling thread's last librdkafka error.
        Err(RDKafkaErrorCode::from(unsafe { rd::rd_kafka_last_error() }))
    }
}

impl Drop for TopicHandle {
    fn drop(&mut self) {
        // SAFETY: the handle came from rd_kafka_topic_new and is released
        // once; the client outlives it (it is dropped within the call that
        // made it).
        unsafe { rd::rd_kafka_topic_destroy(self.0.as_ptr()) };
    }
}
