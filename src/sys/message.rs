//! Consumed messages kept without a copy, in librdkafka's fetch buffer.

use std::ffi::CStr;
use std::mem::ManuallyDrop;
use std::sync::{Arc, OnceLock};

use rdkafka::bindings as rd;
use rdkafka::consumer::{BaseConsumer, ConsumerContext};
use rdkafka::message::BorrowedMessage;

use super::{fork_generation, release_on_a_thread};

/// A consumed message kept as librdkafka delivered it, without a copy:
/// its key, value and headers stay in librdkafka's fetch buffer, and the
/// client it came from stays alive (though closed) as long as it does.
pub(crate) struct HeldMessage<C: ConsumerContext + 'static> {
    message: ManuallyDrop<BorrowedMessage<'static>>,
    client: ManuallyDrop<Arc<BaseConsumer<C>>>,
    /// librdkafka parses headers on first use, without a lock: once here,
    /// so that threads reading one message do not race (0: none).
    headers: OnceLock<usize>,
    /// [`fork_generation`] when held: in a forked child nothing of
    /// librdkafka's is touched, the message is left as it is.
    generation: u64,
}

impl<C: ConsumerContext + 'static> HeldMessage<C> {
    /// Keeps `message`, polled from `client`.
    pub(crate) fn hold(client: &Arc<BaseConsumer<C>>, message: BorrowedMessage<'_>) -> Self {
        // SAFETY: the lifetime only says that the client outlives the
        // message; the Arc kept beside it does, and `drop` releases the
        // message first. BorrowedMessage is Send and Sync.
        let message = unsafe {
            std::mem::transmute::<BorrowedMessage<'_>, BorrowedMessage<'static>>(message)
        };
        HeldMessage {
            message: ManuallyDrop::new(message),
            client: ManuallyDrop::new(Arc::clone(client)),
            headers: OnceLock::new(),
            generation: fork_generation(),
        }
    }

    pub(crate) fn message(&self) -> &BorrowedMessage<'_> {
        &self.message
    }

    /// How many headers the message has.
    pub(crate) fn header_count(&self) -> usize {
        self.headers().map_or(0, |h| {
            // SAFETY: a live header list owned by the message.
            unsafe { rd::rd_kafka_header_cnt(h) }
        })
    }

    /// Header `index`: its name's bytes with the NUL after them, as
    /// librdkafka keeps it, and its value (`None`: no value).
    pub(crate) fn header(&self, index: usize) -> Option<(&[u8], Option<&[u8]>)> {
        let headers = self.headers()?;
        let (mut name, mut value, mut size) = (std::ptr::null(), std::ptr::null(), 0usize);
        // SAFETY: a live header list; the pointers it fills point into it,
        // which lives as long as the message (and so as `&self`).
        unsafe {
            let err = rd::rd_kafka_header_get_all(headers, index, &mut name, &mut value, &mut size);
            if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR || name.is_null() {
                return None;
            }
            let value =
                (!value.is_null()).then(|| std::slice::from_raw_parts(value.cast::<u8>(), size));
            Some((CStr::from_ptr(name).to_bytes_with_nul(), value))
        }
    }

    fn headers(&self) -> Option<*mut rd::rd_kafka_headers_t> {
        let parsed = *self.headers.get_or_init(|| {
            let mut headers = std::ptr::null_mut();
            // SAFETY: a live message; parsed once (OnceLock), and librdkafka
            // keeps the result with the message.
            let err = unsafe { rd::rd_kafka_message_headers(self.message.ptr(), &mut headers) };
            match err {
                rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR => headers as usize,
                _ => 0,
            }
        });
        (parsed != 0).then_some(parsed as *mut rd::rd_kafka_headers_t)
    }
}

impl<C: ConsumerContext + 'static> Drop for HeldMessage<C> {
    fn drop(&mut self) {
        if fork_generation() != self.generation {
            // A forked child: librdkafka's threads and locks are the
            // parent's. Leave everything as it is.
            return;
        }
        // SAFETY: each field is dropped once, the message before the
        // client it borrows from.
        let client = unsafe {
            ManuallyDrop::drop(&mut self.message);
            ManuallyDrop::take(&mut self.client)
        };
        // The last reference releases the client, which may wait for
        // librdkafka (a close that timed out): not on the freeing thread.
        if let Some(client) = Arc::into_inner(client) {
            // Without a thread it is dropped here, which waits: still
            // better than leaking it.
            let _ = release_on_a_thread(client);
        }
    }
}
