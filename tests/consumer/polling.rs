//! Polling: what was sent comes back identical and in order, where a new
//! group starts, and the input a consumer refuses.

use super::*;

use super::handlers::first_handler;

#[test]
fn produce_n_consume_n_everything_identical_and_in_order() {
    for broker in brokers() {
        let topic = unique_topic("roundtrip");
        create_topic(&broker, &topic, 3);
        let inst = instance(
            &broker,
            &[
                ("group_id", &unique_topic("g")),
                ("auto_offset_reset", "earliest"),
            ],
        );
        let mut e = err();
        let p = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
        let t = c(&topic);
        let mut sent = Vec::new();
        for i in 0..45i64 {
            let key = format!("key-{}", i % 5).into_bytes();
            let value = format!("{{\"i\":{i},\"bin\":\"\\u0000\"}}").into_bytes();
            let (hn, hv) = (c("seq"), i.to_string());
            let headers = [KafkaHeader {
                name: hn.as_ptr(),
                value: hv.as_ptr().cast(),
                value_len: hv.len(),
            }];
            let r = KafkaRecord {
                topic: t.as_ptr(),
                key: key.as_ptr().cast(),
                key_len: key.len(),
                value: value.as_ptr().cast(),
                value_len: value.len(),
                headers: headers.as_ptr(),
                header_count: 1,
                has_partition: false,
                partition: 0,
                timestamp_ms: 1_700_000_000_000 + i,
            };
            let mut report: KafkaDeliveryReport = unsafe { std::mem::zeroed() };
            assert_eq!(
                unsafe { kafka_producer_send_sync(p, &r, 10000, &mut report, &mut e) },
                KAFKA_OK,
                "{}",
                e.message_str()
            );
            sent.push(Seen {
                topic: topic.clone(),
                partition: report.partition,
                offset: report.offset,
                timestamp: 1_700_000_000_000 + i,
                key: Some(key),
                value: Some(value),
                headers: vec![("seq".into(), Some(hv.into_bytes()))],
            });
        }
        unsafe { kafka_producer_close(p, 10000, &mut e) };

        let cons = consumer(inst, &[&topic], &[]);
        // Half through poll, half through poll_batch.
        let mut got = poll_n(cons, 20, WAIT);
        let deadline = Instant::now() + WAIT;
        while got.len() < sent.len() && Instant::now() < deadline {
            let mut out = [null_mut(); 8];
            let mut count = 99;
            assert_eq!(
                unsafe {
                    kafka_consumer_poll_batch(
                        cons,
                        out.as_mut_ptr(),
                        out.len(),
                        500,
                        &mut count,
                        &mut e,
                    )
                },
                KAFKA_OK
            );
            assert!(count <= 8);
            for m in &out[..count] {
                got.push(seen(*m));
                unsafe { kafka_message_free(*m) };
            }
        }
        assert_eq!(got.len(), sent.len(), "{}", broker.name);
        let sorted = |v: &[Seen]| {
            let mut v = v.to_vec();
            v.sort_by_key(|s| (s.partition, s.offset));
            v
        };
        assert_eq!(
            sorted(&got),
            sorted(&sent),
            "{}: contents, keys, headers, timestamps, partitions, offsets",
            broker.name
        );
        // Per-partition order as consumed.
        let mut last: BTreeMap<i32, i64> = BTreeMap::new();
        for s in &got {
            if let Some(prev) = last.insert(s.partition, s.offset) {
                assert_eq!(s.offset, prev + 1);
            }
        }
        close_consumer(cons);
        unsafe { kafka_instance_free(inst) };
    }
}

#[test]
fn offset_reset_earliest_latest_and_none_on_a_new_group() {
    capture_logs();
    for broker in brokers() {
        let topic = unique_topic("reset");
        create_topic(&broker, &topic, 1);
        let inst = instance(&broker, &[]);
        produce(inst, &topic, 0, 3, 1);

        let earliest = consumer(
            inst,
            &[&topic],
            &[
                ("group_id", &unique_topic("g")),
                ("auto_offset_reset", "earliest"),
            ],
        );
        assert_eq!(
            poll_n(earliest, 3, WAIT)
                .iter()
                .map(n_of)
                .collect::<Vec<_>>(),
            [0, 1, 2]
        );
        close_consumer(earliest);

        // latest is the default: what was there before is skipped.
        let latest = consumer(inst, &[&topic], &[("group_id", &unique_topic("g"))]);
        // (Polling long enough for the group to assign the partition: a
        // message produced before that would be skipped too.)
        assert!(
            poll_n(latest, 1, Duration::from_secs(8)).is_empty(),
            "latest skips existing messages"
        );
        produce(inst, &topic, 3, 1, 1);
        assert_eq!(
            poll_n(latest, 1, WAIT).iter().map(n_of).collect::<Vec<_>>(),
            [3]
        );
        close_consumer(latest);

        // none: no committed offset is an error the caller sees.
        let none = consumer(
            inst,
            &[&topic],
            &[
                ("group_id", &unique_topic("g")),
                ("auto_offset_reset", "none"),
            ],
        );
        let deadline = Instant::now() + WAIT;
        let mut e = err();
        let code = loop {
            let mut m = null_mut();
            let rc = unsafe { kafka_consumer_poll(none, 200, &mut m, &mut e) };
            assert!(m.is_null());
            if rc != KAFKA_OK || Instant::now() > deadline {
                break rc;
            }
        };
        assert_eq!(code, KAFKA_ERR_BROKER, "{}", broker.name);
        assert_eq!(
            e.rdkafka_code,
            -140,
            "_AUTO_OFFSET_RESET: {}",
            e.message_str()
        );
        assert!(!e.fatal);
        close_consumer(none);
        unsafe { kafka_instance_free(inst) };
    }
}

#[test]
fn bad_input_is_refused() {
    let broker = embedded();
    let inst = instance(&broker, &[]);
    let topic = c("t");
    let topics = [topic.as_ptr()];
    let mut e = err();
    unsafe {
        // No group id anywhere.
        assert!(kafka_instance_get_consumer(inst, topics.as_ptr(), 1, null(), &mut e).is_null());
        assert_eq!(e.code, KAFKA_ERR_CONFIG);
        assert!(e.message_str().contains("group id"));
        let g = config(&[("group_id", "g")]);
        assert!(kafka_instance_get_consumer(inst, topics.as_ptr(), 0, g, &mut e).is_null());
        assert_eq!(e.code, KAFKA_ERR_INVALID_ARGUMENT);
        for bad in ["", "a b", "x/y"] {
            let b = c(bad);
            let list = [b.as_ptr()];
            assert!(kafka_instance_get_consumer(inst, list.as_ptr(), 1, g, &mut e).is_null());
            assert_eq!(e.code, KAFKA_ERR_INVALID_ARGUMENT, "{bad:?}");
        }
        let holes = [topic.as_ptr(), null()];
        assert!(kafka_instance_get_consumer(inst, holes.as_ptr(), 2, g, &mut e).is_null());
        assert!(e.message_str().contains("topics[1]"));
        let producer_only = config(&[("group_id", "g"), ("linger_ms", "5")]);
        assert!(
            kafka_instance_get_consumer(inst, topics.as_ptr(), 1, producer_only, &mut e).is_null()
        );
        assert_eq!(e.code, KAFKA_ERR_CONFIG);
        assert!(e.message_str().contains("linger_ms"));
        let cons = kafka_instance_get_consumer(inst, topics.as_ptr(), 1, g, &mut e);
        assert!(!cons.is_null(), "{}", e.message_str());
        let mut m = null_mut();
        assert_eq!(
            kafka_consumer_poll(cons, -2, &mut m, &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            kafka_consumer_poll(cons, 10, null_mut(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        let mut count = 7;
        assert_eq!(
            kafka_consumer_poll_batch(cons, null_mut(), 4, 10, &mut count, &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(count, 0);
        assert_eq!(
            kafka_consumer_poll_batch(cons, null_mut(), 0, 10, &mut count, &mut e),
            KAFKA_OK
        );
        assert_eq!(count, 0);
        assert_eq!(
            kafka_consumer_commit_message(cons, null(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            kafka_consumer_register_handler(cons, topic.as_ptr(), None, null_mut(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        let bad = c("");
        assert_eq!(
            kafka_consumer_register_handler(
                cons,
                bad.as_ptr(),
                Some(first_handler),
                null_mut(),
                &mut e
            ),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        let mut d = 5;
        assert_eq!(
            kafka_consumer_consume(cons, -9, &mut d, &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(d, 0);
        // Nothing there: NULL and OK, within the timeout.
        let start = Instant::now();
        assert_eq!(kafka_consumer_poll(cons, 300, &mut m, &mut e), KAFKA_OK);
        assert!(m.is_null());
        assert!(
            start.elapsed() >= Duration::from_millis(290)
                && start.elapsed() < Duration::from_secs(10)
        );
        assert_eq!(kafka_consumer_close(cons, &mut e), KAFKA_OK);
        assert_eq!(kafka_consumer_close(null_mut(), &mut e), KAFKA_OK);
        kafka_config_free(g);
        kafka_config_free(producer_only);
        kafka_instance_free(inst);
    }
}
