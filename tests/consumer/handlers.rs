//! Handlers registered per topic and run by `kafka_consumer_consume`.

use super::*;

/// What handlers saw, in order.
static CALLS: Mutex<Vec<(String, usize)>> = Mutex::new(Vec::new());

pub(crate) unsafe extern "C" fn first_handler(m: *const KafkaMessage, _: *mut c_void) -> c_int {
    CALLS.lock().unwrap().push(("first".into(), n_of(&seen(m))));
    0
}

unsafe extern "C" fn second_handler(m: *const KafkaMessage, opaque: *mut c_void) -> c_int {
    assert_eq!(opaque as usize, 42);
    let n = n_of(&seen(m));
    CALLS.lock().unwrap().push(("second".into(), n));
    // Fails on odd numbers: logged, processing goes on.
    (n % 2) as c_int
}

unsafe extern "C" fn other_topic_handler(m: *const KafkaMessage, _: *mut c_void) -> c_int {
    CALLS.lock().unwrap().push(("other".into(), n_of(&seen(m))));
    0
}

#[test]
fn handlers_run_in_order_failures_are_logged_and_consume_commits() {
    capture_logs();
    let broker = embedded();
    let (orders, payments, unhandled) = (
        unique_topic("orders"),
        unique_topic("payments"),
        unique_topic("audit"),
    );
    for t in [&orders, &payments, &unhandled] {
        create_topic(&broker, t, 1);
    }
    let group = unique_topic("g");
    let inst = instance(
        &broker,
        &[
            ("group_id", &group),
            ("auto_offset_reset", "earliest"),
            ("enable_auto_commit", "false"),
        ],
    );
    produce(inst, &orders, 0, 4, 1);
    produce(inst, &payments, 100, 2, 1);
    produce(inst, &unhandled, 200, 3, 1);
    let cons = consumer(
        inst,
        &[&orders, &payments, &unhandled],
        &[("max_poll_records", "4")],
    );
    let mut e = err();
    unsafe {
        let (o, p) = (c(&orders), c(&payments));
        assert_eq!(
            kafka_consumer_register_handler(
                cons,
                o.as_ptr(),
                Some(first_handler),
                null_mut(),
                &mut e
            ),
            KAFKA_OK
        );
        assert_eq!(
            kafka_consumer_register_handler(
                cons,
                o.as_ptr(),
                Some(second_handler),
                42 as *mut c_void,
                &mut e
            ),
            KAFKA_OK
        );
        assert_eq!(
            kafka_consumer_register_handler(
                cons,
                p.as_ptr(),
                Some(other_topic_handler),
                null_mut(),
                &mut e
            ),
            KAFKA_OK
        );
    }
    let mut total = 0;
    let deadline = Instant::now() + WAIT;
    while total < 9 && Instant::now() < deadline {
        let mut dispatched = 99;
        assert_eq!(
            unsafe { kafka_consumer_consume(cons, 500, &mut dispatched, &mut e) },
            KAFKA_OK,
            "{}",
            e.message_str()
        );
        assert!(dispatched <= 4, "max_poll_records caps a batch");
        total += dispatched;
    }
    assert_eq!(total, 9, "messages without a handler count as consumed");
    let calls = CALLS.lock().unwrap().clone();
    let on_orders: Vec<_> = calls
        .iter()
        .filter(|(h, _)| h != "other")
        .cloned()
        .collect();
    let expected: Vec<(String, usize)> = (0..4)
        .flat_map(|n| [("first".to_string(), n), ("second".to_string(), n)])
        .collect();
    assert_eq!(on_orders, expected, "registration order, per message");
    assert_eq!(calls.iter().filter(|(h, _)| h == "other").count(), 2);
    let failures: Vec<_> = logged()
        .into_iter()
        .filter(|r| {
            r.controller == "kafka_instance.consumer.consume"
                && r.message.contains(&format!("handler for {orders:?}"))
        })
        .collect();
    assert_eq!(
        failures.len(),
        2,
        "handler failures on 1 and 3 logged: {failures:?}"
    );
    let payload: serde_json::Value =
        serde_json::from_str(failures[0].payload_json.as_deref().unwrap()).unwrap();
    assert_eq!(payload["topic"], orders.as_str());
    assert_eq!(payload["partition"], 0);
    assert_eq!(payload["offset"], 1);
    close_consumer(cons);

    // consume() committed: the group has nothing left to read.
    let again = consumer(inst, &[&orders, &payments, &unhandled], &[]);
    assert!(
        poll_n(again, 1, Duration::from_secs(5)).is_empty(),
        "consume committed every batch"
    );
    close_consumer(again);
    unsafe { kafka_instance_free(inst) };
}
