//! Ownership of the librdkafka objects this module makes: each is held by
//! an [`Owned`], which releases it with its own destroy function, once,
//! when dropped, on every path (an early return, a refusal, a panic).

use std::ptr::NonNull;

use rdkafka::bindings as rd;

/// A librdkafka object type and the function that releases it.
pub(super) trait Destroy {
    /// Releases `p`.
    ///
    /// # Safety
    /// `p` is a live object of this type that nothing else will release or
    /// use afterwards.
    unsafe fn destroy(p: *mut Self);
}

/// One librdkafka object, released on drop.
pub(super) struct Owned<T: Destroy>(NonNull<T>);

impl<T: Destroy> Owned<T> {
    /// Takes ownership of `p`; `None` when librdkafka returned NULL (it
    /// refused to make the object, or there was none).
    ///
    /// # Safety
    /// `p` is NULL or a live object of type `T` that the caller owns and
    /// hands over: nothing else releases it.
    pub(super) unsafe fn new(p: *mut T) -> Option<Self> {
        NonNull::new(p).map(Owned)
    }

    /// The object, for a call; valid while `self` lives.
    pub(super) fn ptr(&self) -> *mut T {
        self.0.as_ptr()
    }
}

impl<T: Destroy> Drop for Owned<T> {
    fn drop(&mut self) {
        // SAFETY: `new`'s contract: the object is ours, and this is the one
        // release.
        unsafe { T::destroy(self.0.as_ptr()) }
    }
}

/// `Destroy` for each type, by the name of its librdkafka destroy function.
macro_rules! destroyed_by {
    ($($t:ident => $f:ident,)*) => {$(
        impl Destroy for rd::$t {
            unsafe fn destroy(p: *mut Self) {
                // SAFETY: the trait's contract: a live object, released once.
                unsafe { rd::$f(p) }
            }
        }
    )*};
}

destroyed_by! {
    rd_kafka_event_t => rd_kafka_event_destroy,
    rd_kafka_AdminOptions_t => rd_kafka_AdminOptions_destroy,
    rd_kafka_topic_partition_list_t => rd_kafka_topic_partition_list_destroy,
    rd_kafka_ListConsumerGroupOffsets_t => rd_kafka_ListConsumerGroupOffsets_destroy,
    rd_kafka_DeleteGroup_t => rd_kafka_DeleteGroup_destroy,
    rd_kafka_NewTopic_t => rd_kafka_NewTopic_destroy,
    rd_kafka_DeleteTopic_t => rd_kafka_DeleteTopic_destroy,
    rd_kafka_NewPartitions_t => rd_kafka_NewPartitions_destroy,
    rd_kafka_ConfigResource_t => rd_kafka_ConfigResource_destroy,
    rd_kafka_error_t => rd_kafka_error_destroy,
}

impl Destroy for rd::rd_kafka_metadata_t {
    unsafe fn destroy(p: *mut Self) {
        // SAFETY: the trait's contract; librdkafka's metadata answers are
        // released by this function alone.
        unsafe { rd::rd_kafka_metadata_destroy(p) }
    }
}
