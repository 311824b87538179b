//! NULL cases of the consumer functions, with the message views and the
//! tracked sends.

use super::*;

unsafe extern "C" fn noop_consumer_scope(
    _: *mut KafkaConsumer,
    _: *mut std::ffi::c_void,
) -> std::ffi::c_int {
    0
}

unsafe extern "C" fn noop_handler(
    _: *const KafkaMessage,
    _: *mut std::ffi::c_void,
) -> std::ffi::c_int {
    0
}

/// Runs `f` with a consumer whose broker is unreachable.
fn with_consumer(f: impl FnOnce(*mut KafkaConsumer)) {
    with_instance(|inst| unsafe {
        let t = c("t");
        let list = [t.as_ptr()];
        let mut e = err();
        let cons = kafka_instance_get_consumer(inst, list.as_ptr(), 1, null(), &mut e);
        assert!(!cons.is_null(), "{}", e.message_str());
        f(cons);
        kafka_consumer_close(cons, null_mut());
    })
}

pub(crate) fn consumer_cases(v: &mut Vec<Case>) {
    case!(v, kafka_instance_get_consumer, || with_instance(
        |inst| unsafe {
            let t = c("t");
            let list = [t.as_ptr()];
            let mut e = err();
            assert!(
                kafka_instance_get_consumer(null_mut(), list.as_ptr(), 1, null(), &mut e).is_null()
            );
            invalid(e.code, &e, "inst");
            assert!(kafka_instance_get_consumer(inst, null(), 1, null(), &mut e).is_null());
            invalid(e.code, &e, "topics");
            let holes = [null()];
            assert!(kafka_instance_get_consumer(inst, holes.as_ptr(), 1, null(), &mut e).is_null());
            invalid(e.code, &e, "topics[0]");
        }
    ));
    case!(v, kafka_consumer_poll, || with_consumer(|cons| unsafe {
        let mut m = null_mut();
        let mut e = err();
        invalid(kafka_consumer_poll(null_mut(), 0, &mut m, &mut e), &e, "c");
        invalid(kafka_consumer_poll(cons, 0, null_mut(), &mut e), &e, "out");
        assert_eq!(kafka_consumer_poll(cons, 0, &mut m, null_mut()), KAFKA_OK);
    }));
    case!(v, kafka_consumer_poll_batch, || with_consumer(
        |cons| unsafe {
            let mut out = [null_mut(); 2];
            let mut e = err();
            invalid(
                kafka_consumer_poll_batch(null_mut(), out.as_mut_ptr(), 2, 0, null_mut(), &mut e),
                &e,
                "c",
            );
            assert_eq!(
                kafka_consumer_poll_batch(cons, null_mut(), 2, 0, null_mut(), &mut e),
                KAFKA_ERR_INVALID_ARGUMENT
            );
            // count NULL is allowed.
            assert_eq!(
                kafka_consumer_poll_batch(cons, out.as_mut_ptr(), 2, 0, null_mut(), &mut e),
                KAFKA_OK
            );
        }
    ));
    case!(v, kafka_consumer_commit, || unsafe {
        let mut e = err();
        invalid(kafka_consumer_commit(null_mut(), &mut e), &e, "c");
    });
    case!(v, kafka_consumer_commit_message, || with_consumer(
        |cons| unsafe {
            let mut e = err();
            invalid(kafka_consumer_commit_message(cons, null(), &mut e), &e, "m");
            invalid(
                kafka_consumer_commit_message(null_mut(), null(), &mut e),
                &e,
                "c",
            );
        }
    ));
    case!(v, kafka_consumer_close, || unsafe {
        let mut e = err();
        assert_eq!(kafka_consumer_close(null_mut(), &mut e), KAFKA_OK);
    });
    case!(v, kafka_consumer_store_message, || with_consumer(
        |cons| unsafe {
            let mut e = err();
            invalid(kafka_consumer_store_message(cons, null(), &mut e), &e, "m");
            invalid(
                kafka_consumer_store_message(null_mut(), null(), &mut e),
                &e,
                "c",
            );
        }
    ));
    case!(v, kafka_consumer_wakeup, || unsafe {
        let mut e = err();
        invalid(kafka_consumer_wakeup(null_mut(), &mut e), &e, "c");
        assert_eq!(
            kafka_consumer_wakeup(null_mut(), null_mut()),
            KAFKA_ERR_INVALID_ARGUMENT
        );
    });
    case!(v, kafka_message_views, || unsafe {
        let mut e = err();
        let mut view: [KafkaMessageView; 1] = std::mem::zeroed();
        invalid(
            kafka_message_views(null(), 1, view.as_mut_ptr(), &mut e),
            &e,
            "messages",
        );
    });
    case!(v, kafka_producer_send_tracked, || unsafe {
        let mut e = err();
        let r: KafkaRecord = std::mem::zeroed();
        invalid(
            kafka_producer_send_tracked(null_mut(), &r, 1, &mut e),
            &e,
            "p",
        );
    });
    case!(v, kafka_producer_send_tracked_packed, || unsafe {
        let mut e = err();
        let t = c("t");
        let mut n = 9usize;
        let rc = kafka_producer_send_tracked_packed(
            null_mut(),
            t.as_ptr(),
            null(),
            0,
            null(),
            0,
            1,
            0,
            &mut n,
            &mut e,
        );
        invalid(rc, &e, "p");
        assert_eq!(n, 0);
    });
    case!(v, kafka_producer_reports, || unsafe {
        let mut e = err();
        let mut out: [KafkaTrackedReport; 1] = std::mem::zeroed();
        let mut n = 9usize;
        invalid(
            kafka_producer_reports(null_mut(), out.as_mut_ptr(), 1, 0, &mut n, &mut e),
            &e,
            "p",
        );
        assert_eq!(n, 0, "count is written on failure too");
    });
    case!(v, kafka_producer_reports_gathered, || unsafe {
        let mut e = err();
        let mut out: [KafkaTrackedReport; 1] = std::mem::zeroed();
        let mut n = 9usize;
        invalid(
            kafka_producer_reports_gathered(null_mut(), out.as_mut_ptr(), 1, 0, 5, &mut n, &mut e),
            &e,
            "p",
        );
        assert_eq!(n, 0, "count is written on failure too");
    });
    case!(v, kafka_producer_hand_over_tracked_packed, || unsafe {
        let mut e = err();
        let t = c("t");
        let rc = kafka_producer_hand_over_tracked_packed(
            null_mut(),
            t.as_ptr(),
            null(),
            0,
            null(),
            0,
            1,
            0,
            &mut e,
        );
        invalid(rc, &e, "p");
    });
    case!(v, kafka_producer_wait_handed_over, || unsafe {
        let mut e = err();
        invalid(
            kafka_producer_wait_handed_over(null_mut(), 0, &mut e),
            &e,
            "p",
        );
    });
    case!(v, kafka_consumer_event_fd, || unsafe {
        let mut e = err();
        assert_eq!(kafka_consumer_event_fd(null_mut(), &mut e), -1);
        assert_eq!(e.code, KAFKA_ERR_INVALID_ARGUMENT);
        assert!(
            e.message_str().ends_with("c is NULL"),
            "{}",
            e.message_str()
        );
        assert_eq!(kafka_consumer_event_fd(null_mut(), null_mut()), -1);
    });
    case!(v, kafka_consumer_subscribe, || with_consumer(
        |cons| unsafe {
            let t = c("t");
            let list = [t.as_ptr()];
            let mut e = err();
            invalid(
                kafka_consumer_subscribe(null_mut(), list.as_ptr(), 1, &mut e),
                &e,
                "c",
            );
            invalid(
                kafka_consumer_subscribe(cons, null(), 1, &mut e),
                &e,
                "topics",
            );
            let holes = [null()];
            invalid(
                kafka_consumer_subscribe(cons, holes.as_ptr(), 1, &mut e),
                &e,
                "topics[0]",
            );
        }
    ));
    case!(v, kafka_consumer_unsubscribe, || unsafe {
        let mut e = err();
        invalid(kafka_consumer_unsubscribe(null_mut(), &mut e), &e, "c");
    });
    case!(v, kafka_consumer_subscription, || with_consumer(
        |cons| unsafe {
            let (mut out, mut e) = (null_mut(), err());
            invalid(
                kafka_consumer_subscription(null_mut(), &mut out, &mut e),
                &e,
                "c",
            );
            invalid(
                kafka_consumer_subscription(cons, null_mut(), &mut e),
                &e,
                "out",
            );
        }
    ));
    case!(v, kafka_consumer_assign, || with_consumer(|cons| unsafe {
        let list = kafka_partition_list_new();
        let mut e = err();
        kafka_partition_list_add(list, c("t").as_ptr(), 0, 0, &mut e);
        invalid(kafka_consumer_assign(null_mut(), list, &mut e), &e, "c");
        invalid(kafka_consumer_assign(cons, null(), &mut e), &e, "list");
        kafka_partition_list_free(list);
    }));
    case!(v, kafka_consumer_unassign, || unsafe {
        let mut e = err();
        invalid(kafka_consumer_unassign(null_mut(), &mut e), &e, "c");
    });
    case!(v, kafka_consumer_assignment, || with_consumer(
        |cons| unsafe {
            let (mut out, mut e) = (null_mut(), err());
            invalid(
                kafka_consumer_assignment(null_mut(), &mut out, &mut e),
                &e,
                "c",
            );
            invalid(
                kafka_consumer_assignment(cons, null_mut(), &mut e),
                &e,
                "out",
            );
        }
    ));
    case!(v, kafka_consumer_seek, || with_consumer(|cons| unsafe {
        let t = c("t");
        let mut e = err();
        invalid(
            kafka_consumer_seek(null_mut(), t.as_ptr(), 0, 0, 0, &mut e),
            &e,
            "c",
        );
        invalid(
            kafka_consumer_seek(cons, null(), 0, 0, 0, &mut e),
            &e,
            "topic",
        );
    }));
    case!(v, kafka_consumer_seek_to_time, || unsafe {
        let mut e = err();
        invalid(
            kafka_consumer_seek_to_time(null_mut(), 0, 0, null_mut(), &mut e),
            &e,
            "c",
        );
    });
    case!(v, kafka_consumer_pause, || with_consumer(|cons| unsafe {
        let mut e = err();
        invalid(kafka_consumer_pause(cons, null(), &mut e), &e, "list");
        invalid(kafka_consumer_pause(null_mut(), null(), &mut e), &e, "list");
    }));
    case!(v, kafka_consumer_resume, || with_consumer(|cons| unsafe {
        let mut e = err();
        invalid(kafka_consumer_resume(cons, null(), &mut e), &e, "list");
    }));
    case!(v, kafka_consumer_position, || with_consumer(
        |cons| unsafe {
            let (mut out, mut e) = (null_mut(), err());
            invalid(
                kafka_consumer_position(null_mut(), &mut out, &mut e),
                &e,
                "c",
            );
            invalid(kafka_consumer_position(cons, null_mut(), &mut e), &e, "out");
        }
    ));
    case!(v, kafka_consumer_committed, || unsafe {
        let (mut out, mut e) = (null_mut(), err());
        invalid(
            kafka_consumer_committed(null_mut(), 0, &mut out, &mut e),
            &e,
            "c",
        );
    });
    case!(v, kafka_consumer_watermarks, || with_consumer(
        |cons| unsafe {
            let t = c("t");
            let mut e = err();
            let rc = kafka_consumer_watermarks(
                null_mut(),
                t.as_ptr(),
                0,
                0,
                null_mut(),
                null_mut(),
                &mut e,
            );
            invalid(rc, &e, "c");
            let rc = kafka_consumer_watermarks(cons, null(), 0, 0, null_mut(), null_mut(), &mut e);
            invalid(rc, &e, "topic");
        }
    ));
    case!(v, kafka_consumer_lag, || unsafe {
        let (mut out, mut e) = (null_mut(), err());
        invalid(kafka_consumer_lag(null_mut(), 0, &mut out, &mut e), &e, "c");
    });
    case!(v, kafka_consumer_commit_offsets, || with_consumer(
        |cons| unsafe {
            let mut e = err();
            invalid(
                kafka_consumer_commit_offsets(cons, null(), &mut e),
                &e,
                "list",
            );
        }
    ));
    case!(v, kafka_consumer_commit_async, || unsafe {
        let mut e = err();
        let rc = kafka_consumer_commit_async(null_mut(), null(), None, null_mut(), &mut e);
        invalid(rc, &e, "c");
        with_consumer(|cons| {
            let empty = kafka_partition_list_new();
            // NULL is allowed (what is done); an empty list is not.
            let rc = kafka_consumer_commit_async(cons, empty, None, null_mut(), &mut e);
            assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT, "{}", e.message_str());
            kafka_partition_list_free(empty);
        });
    });
    case!(v, kafka_consumer_set_rebalance_callback, || unsafe {
        let mut e = err();
        let rc = kafka_consumer_set_rebalance_callback(null_mut(), None, null_mut(), &mut e);
        invalid(rc, &e, "c");
    });
    case!(v, kafka_instance_with_consumer, || with_instance(
        |inst| unsafe {
            let t = c("t");
            let list = [t.as_ptr()];
            let mut e = err();
            invalid(
                kafka_instance_with_consumer(
                    null_mut(),
                    list.as_ptr(),
                    1,
                    null(),
                    Some(noop_consumer_scope),
                    null_mut(),
                    &mut e,
                ),
                &e,
                "inst",
            );
            invalid(
                kafka_instance_with_consumer(
                    inst,
                    null(),
                    1,
                    null(),
                    Some(noop_consumer_scope),
                    null_mut(),
                    &mut e,
                ),
                &e,
                "topics",
            );
            invalid(
                kafka_instance_with_consumer(
                    inst,
                    list.as_ptr(),
                    1,
                    null(),
                    None,
                    null_mut(),
                    &mut e,
                ),
                &e,
                "scope",
            );
            assert_eq!(
                kafka_instance_with_consumer(
                    inst,
                    list.as_ptr(),
                    1,
                    null(),
                    Some(noop_consumer_scope),
                    null_mut(),
                    &mut e
                ),
                KAFKA_OK
            );
        }
    ));
    case!(v, kafka_consumer_register_handler, || with_consumer(
        |cons| unsafe {
            let t = c("t");
            let mut e = err();
            invalid(
                kafka_consumer_register_handler(
                    null_mut(),
                    t.as_ptr(),
                    Some(noop_handler),
                    null_mut(),
                    &mut e,
                ),
                &e,
                "c",
            );
            invalid(
                kafka_consumer_register_handler(
                    cons,
                    null(),
                    Some(noop_handler),
                    null_mut(),
                    &mut e,
                ),
                &e,
                "topic",
            );
            invalid(
                kafka_consumer_register_handler(cons, t.as_ptr(), None, null_mut(), &mut e),
                &e,
                "fn",
            );
        }
    ));
    case!(v, kafka_consumer_consume, || with_consumer(|cons| unsafe {
        let mut e = err();
        invalid(
            kafka_consumer_consume(null_mut(), 0, null_mut(), &mut e),
            &e,
            "c",
        );
        assert_eq!(
            kafka_consumer_consume(cons, 0, null_mut(), &mut e),
            KAFKA_OK
        );
    }));
}
