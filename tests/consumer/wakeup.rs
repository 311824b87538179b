//! Waking a blocked poll, and the event fd an event loop waits on.

use super::*;

#[test]
fn kafka_consumer_wakeup_ends_a_blocked_poll_and_the_next_one_only() {
    let broker = &embedded();
    let topic = unique_topic("wakeup");
    create_topic(broker, &topic, 1);
    let inst = instance(broker, &[("group_id", &unique_topic("g"))]);
    let cons = consumer(inst, &[&topic], &[]);
    let addr = cons as usize;
    // From another thread, while a poll without a time limit waits.
    let waker = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        unsafe { kafka_consumer_wakeup(addr as *mut KafkaConsumer, null_mut()) };
    });
    let (mut m, mut e) = (null_mut(), err());
    let rc = unsafe { kafka_consumer_poll(cons, -1, &mut m, &mut e) };
    waker.join().unwrap();
    assert_eq!(rc, KAFKA_ERR_WAKEUP, "{}", e.message_str());
    assert!(m.is_null());
    // Before a poll: that poll returns at once, woken; the one after waits
    // as usual.
    assert_eq!(unsafe { kafka_consumer_wakeup(cons, &mut e) }, KAFKA_OK);
    let rc = unsafe { kafka_consumer_poll(cons, -1, &mut m, &mut e) };
    assert_eq!(rc, KAFKA_ERR_WAKEUP);
    let rc = unsafe { kafka_consumer_poll(cons, 100, &mut m, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    assert_eq!(
        unsafe { kafka_consumer_wakeup(null_mut(), null_mut()) },
        KAFKA_ERR_INVALID_ARGUMENT
    );
    close_consumer(cons);
    unsafe { kafka_instance_free(inst) };
}

/// Whether `fd` is readable within `wait`.
fn readable(fd: i32, wait: Duration) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    unsafe { libc::poll(&mut p, 1, wait.as_millis() as i32) > 0 }
}

/// Polls with timeout 0 until nothing comes; returns the messages' offsets.
fn drain_now(cons: *mut KafkaConsumer) -> Vec<i64> {
    let mut got = Vec::new();
    loop {
        let (mut m, mut e) = (null_mut(), err());
        let rc = unsafe { kafka_consumer_poll(cons, 0, &mut m, &mut e) };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        if m.is_null() {
            return got;
        }
        got.push(unsafe { kafka_message_offset(m) });
        unsafe { kafka_message_free(m) };
    }
}

/// The event fd, as an event loop uses it: readable when a message
/// arrives (never missed, also when it arrives right after a poll found
/// nothing), not readable once polls with timeout 0 drained everything,
/// readable on a wake-up until the poll that returns it.
#[test]
fn kafka_consumer_event_fd_is_readable_exactly_when_a_poll_has_something() {
    capture_logs();
    let broker = &embedded();
    let topic = unique_topic("event-fd");
    create_topic(broker, &topic, 1);
    let inst = instance(broker, &[("group_id", &unique_topic("g"))]);
    let cons = consumer(
        inst,
        &[&topic],
        &[
            ("auto_offset_reset", "earliest"),
            ("enable_auto_commit", "false"),
        ],
    );
    let mut e = err();
    let fd = unsafe { kafka_consumer_event_fd(cons, &mut e) };
    assert!(fd >= 0, "{}", e.message_str());
    assert_eq!(
        unsafe { kafka_consumer_event_fd(cons, &mut e) },
        fd,
        "the same one"
    );

    let producer = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
    let t = c(&topic);
    let mut offsets = Vec::new();
    for n in 0..20 {
        // Quiet first: the join's events served, nothing left.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while readable(fd, Duration::ZERO) {
            offsets.extend(drain_now(cons));
            assert!(std::time::Instant::now() < deadline, "never quiet");
        }
        let rc = unsafe {
            kafka_producer_send_json(
                producer,
                t.as_ptr(),
                null(),
                c(&format!("{{\"n\":{n}}}")).as_ptr(),
                &mut e,
            )
        };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        // The loop: wait on the fd, then poll without waiting.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while offsets.len() <= n {
            assert!(
                readable(fd, Duration::from_secs(20)),
                "message {n} arrived but the fd never became readable"
            );
            offsets.extend(drain_now(cons));
            assert!(
                std::time::Instant::now() < deadline,
                "message {n} never came"
            );
        }
    }
    assert_eq!(offsets, (0..20).collect::<Vec<i64>>());
    assert!(
        !readable(fd, Duration::from_millis(200)),
        "drained: not readable"
    );

    assert_eq!(unsafe { kafka_consumer_wakeup(cons, &mut e) }, KAFKA_OK);
    assert!(readable(fd, Duration::ZERO), "a wake-up makes it readable");
    let mut m = null_mut();
    let rc = unsafe { kafka_consumer_poll(cons, 0, &mut m, &mut e) };
    assert_eq!(rc, KAFKA_ERR_WAKEUP);
    assert!(!readable(fd, Duration::ZERO), "the wake-up was returned");

    assert_eq!(
        unsafe { kafka_consumer_close(cons, &mut e) },
        KAFKA_OK,
        "{}",
        e.message_str()
    );
    unsafe {
        kafka_producer_close(producer, 10000, &mut e);
        kafka_instance_free(inst);
    }
}

/// A poll that would return an error at once (here: a new group with
/// `auto_offset_reset=none`, which has nowhere to start) leaves the event
/// fd readable until that error is returned.
#[test]
fn kafka_consumer_event_fd_is_readable_for_an_error_a_poll_would_return() {
    capture_logs();
    let broker = &embedded();
    let topic = unique_topic("event-fd-error");
    create_topic(broker, &topic, 1);
    let inst = instance(broker, &[("group_id", &unique_topic("g"))]);
    produce_unbatched(inst, &topic, 0, 1);
    let cons = consumer(inst, &[&topic], &[("auto_offset_reset", "none")]);
    let mut e = err();
    let fd = unsafe { kafka_consumer_event_fd(cons, &mut e) };
    assert!(fd >= 0, "{}", e.message_str());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut returned = None;
    while returned.is_none() && std::time::Instant::now() < deadline {
        if !readable(fd, Duration::from_secs(1)) {
            continue;
        }
        let mut m = null_mut();
        let rc = unsafe { kafka_consumer_poll(cons, 0, &mut m, &mut e) };
        if rc != KAFKA_OK {
            returned = Some(rc);
        }
        unsafe { kafka_message_free(m) };
    }
    assert!(returned.is_some(), "the error never came through the fd");
    close_consumer(cons);
    unsafe { kafka_instance_free(inst) };
}
