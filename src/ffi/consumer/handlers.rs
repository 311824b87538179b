//! Topic handlers and the scoped consumer: `kafka_consumer_register_handler`,
//! `kafka_consumer_consume` and `kafka_instance_with_consumer`.

use super::*;

/// A topic handler: called with each consumed message of its topic, in
/// registration order, on the thread that called `kafka_consumer_consume`.
///
/// A handler may call any function on its consumer: commit
/// (`kafka_consumer_commit` commits every message done so far, this batch's
/// included), `kafka_consumer_commit_message`,
/// `kafka_consumer_store_message`, `kafka_consumer_register_handler` (the
/// new handler runs from the next message on) and `kafka_consumer_wakeup`.
/// Two calls are refused with `KAFKA_ERR_STATE` and do nothing: closing the
/// consumer (close it after `kafka_consumer_consume` returns) and polling it
/// (`kafka_consumer_poll`, `_poll_batch`, `_consume`), which would commit
/// past messages of the batch that are not handled yet.
///
/// @param m      The message, valid only during the call.
/// @param opaque The `opaque` given to `kafka_consumer_register_handler`.
/// @return 0 for success; non-zero is logged (with topic, partition and
///         offset) and processing goes on: the message counts as done either
///         way.
pub type KafkaHandler =
    Option<unsafe extern "C" fn(m: *const KafkaMessage, opaque: *mut c_void) -> c_int>;

/// The body of `kafka_instance_with_consumer`.
///
/// Closing `c` here is refused (`KAFKA_ERR_STATE`): the scope closes it.
///
/// @param c      The scope's consumer.
/// @param opaque The `opaque` given to `kafka_instance_with_consumer`.
/// @return 0 for success; non-zero makes `kafka_instance_with_consumer`
///         return `KAFKA_ERR_CALLBACK`.
pub type KafkaConsumerScope =
    Option<unsafe extern "C" fn(c: *mut KafkaConsumer, opaque: *mut c_void) -> c_int>;

/// A scoped consumer: creates a consumer (as `kafka_instance_get_consumer`),
/// calls `scope(c, opaque)`, then closes it whatever `scope` returned.
///
/// @param inst        The instance.
/// @param topics      `topic_count` topic names, as for
///                    `kafka_instance_get_consumer`.
/// @param topic_count How many names `topics` holds (1 or more).
/// @param overrides   NULL, or settings over the instance's, as for
///                    `kafka_instance_get_consumer`.
/// @param scope       The function to run with the consumer (see
///                    `KafkaConsumerScope`).
/// @param opaque      Passed to `scope` as is.
/// @param err         NULL, or where a failure is described (`KAFKA_OK` on
///                    success).
/// @return `KAFKA_ERR_CALLBACK` when `scope` returned non-zero (after the
///         close); otherwise the close's result: `KAFKA_OK`, or the code of
///         a failed close (its final commit). A consumer that cannot be
///         created fails as `kafka_instance_get_consumer` does, and a NULL
///         `scope` is `KAFKA_ERR_INVALID_ARGUMENT`; `scope` is not called
///         then.
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_with_consumer(
    inst: *const KafkaInstance,
    topics: *const *const c_char,
    topic_count: usize,
    overrides: *const KafkaConfig,
    scope: KafkaConsumerScope,
    opaque: *mut c_void,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `inst` is NULL or a live instance (the header's contract), borrowed only until
        // the scoped consumer is made; `handle` refuses NULL.
        let inst = unsafe { handle(inst, "inst") }?;
        let body = scope.ok_or_else(|| Error::invalid_argument("scope is NULL"))?;
        // SAFETY: `topics` is NULL or `topic_count` pointers to C strings, read before the scope
        // starts (the header's contract); `arg_strs` refuses NULL, 0 and NULL entries.
        let topics = unsafe { arg_strs(topics, topic_count, "topics", "topic_count") }?;
        // SAFETY: `overrides` is NULL (none) or a live config no thread changes during the call
        // (the header's contract); read only while the scoped consumer is made.
        let overrides = unsafe { opt_handle(overrides) }.map(|o| &o.inner);
        let scoped = KafkaConsumer::new(Consumer::new(&inst.inner, &topics, overrides)?, true);
        run_scope(
            scoped,
            "consumer",
            // SAFETY: the caller's function, given a live consumer.
            |c| unsafe { body(c, opaque) },
            // SAFETY: the handle came from KafkaConsumer::new above, is
            // still open (closing it inside the scope is refused) and
            // the scope has returned.
            |c| unsafe {
                (*c).closing.store(true, Ordering::Release);
                KafkaConsumer::close_and_free(c)
            },
        )
    })
}

/// Adds `handler` for `topic`.
///
/// Several handlers per topic run in registration order. Called inside a
/// handler, the new handler runs from the next message on.
///
/// @param c       The consumer.
/// @param topic   The topic, NUL-terminated. It need not be subscribed (its
///                handlers then never run).
/// @param handler The handler (see `KafkaHandler`).
/// @param opaque  Passed to `handler`, on the thread that calls
///                `kafka_consumer_consume`.
/// @param err     NULL, or where a failure is described (`KAFKA_OK` on
///                success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`c`, `topic` or `handler` NULL, invalid UTF-8).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_register_handler(
    c: *mut KafkaConsumer,
    topic: *const c_char,
    handler: KafkaHandler,
    opaque: *mut c_void,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `topic` is NULL or a NUL-terminated string the caller keeps for the call;
        // `arg_str` refuses NULL and invalid UTF-8, and the handler copies it.
        let topic = unsafe { arg_str(topic, "topic") }?;
        let f = handler.ok_or_else(|| Error::invalid_argument("handler is NULL"))?;
        // Handlers run on the thread that calls consume, as documented.
        let opaque = opaque as usize;
        let handler = Arc::new(move |m: &Message| {
            // SAFETY: the caller's handler, given a message alive for the call.
            match unsafe { f(KafkaMessage::lend(m), opaque as *mut c_void) } {
                0 => Ok(()),
                rc => Err(format!("the handler returned {rc}")),
            }
        });
        // SAFETY: `c` is NULL or a live consumer, which this function may use from any thread (the
        // header's contract); `act` refuses NULL and a closing consumer.
        unsafe { act(c, |c| c.register_handler(topic, handler)) }
    })
}

/// Polls one batch and dispatches each message to its topic's handlers.
///
/// The batch holds up to `max_poll_records` (default 500). A non-zero
/// return of a handler is logged and processing goes on; a message of a
/// topic without handlers is logged at debug and still counts as consumed.
/// A message is done, and its offset stored, once its handlers returned.
/// With auto-commit disabled, commits after the batch. Wake-ups and offsets
/// as for `kafka_consumer_poll`.
///
/// @param c          The consumer.
/// @param timeout_ms The poll's timeout (-1: forever).
/// @param dispatched NULL, or receives how many messages were polled.
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code, as for `kafka_consumer_poll`.
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_consume(
    c: *mut KafkaConsumer,
    timeout_ms: i32,
    dispatched: *mut usize,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `dispatched` is NULL or writable for one `size_t` (the header's contract);
        // written only after the consume, whatever its result.
        let dispatched = unsafe { dispatched.as_mut() };
        let mut n = 0;
        // SAFETY: `c` is NULL or a live consumer polled by this thread alone (the header's
        // contract); `with` refuses NULL and a closing consumer.
        let result = unsafe { with(c, |c| c.consume(arg_timeout(timeout_ms)?, &mut n)) };
        if let Some(d) = dispatched {
            *d = n;
        }
        result.map(|_| KafkaErrorCode::KAFKA_OK)
    })
}
