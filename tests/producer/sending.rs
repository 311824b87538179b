//! What is sent arrives as sent: JSON byte for byte on the Java
//! client's partitions, synchronous reports, binary keys, tombstones,
//! headers, partitions and timestamps.

use super::*;

#[test]
fn json_round_trips_byte_for_byte_and_keys_stay_on_java_partitions() {
    for broker in brokers() {
        let topic = unique_topic("json");
        create_topic(&broker, &topic, 4);
        let inst = instance(&broker, &[]);
        let p = producer(inst, &[]);
        let mut sent = Vec::new();
        for i in 0..60 {
            let key = format!("customer-{}", i % 7);
            // Spacing, escapes and non-ASCII survive: the text is sent as given.
            let json = format!(
                "{{ \"order_id\": {i}, \"note\": \"caf\\u00e9 ☕\",\n \"amount\": {}.5 }}",
                i * 3
            );
            let (rc, msg) = send_json(p, &topic, Some(&key), &json);
            assert_eq!(rc, KAFKA_OK, "{msg}");
            sent.push((key, json));
        }
        let mut left = usize::MAX;
        let mut e = err();
        assert_eq!(
            unsafe { kafka_producer_flush(p, 10000, &mut left, &mut e) },
            KAFKA_OK,
            "{}",
            e.message_str()
        );
        assert_eq!(left, 0);
        let got = read_back(&broker.bootstrap, &topic, sent.len(), READ);
        assert_eq!(got.len(), sent.len(), "{}: every message once", broker.name);
        let mut by_value: BTreeMap<Vec<u8>, &rdkafka::message::OwnedMessage> = BTreeMap::new();
        for m in &got {
            by_value.insert(m.payload().unwrap().to_vec(), m);
        }
        let mut partitions_of_key: BTreeMap<&str, BTreeSet<i32>> = BTreeMap::new();
        for (key, json) in &sent {
            let m = by_value
                .get(json.as_bytes())
                .expect("sent value read back byte for byte");
            assert_eq!(m.key(), Some(key.as_bytes()));
            assert_eq!(
                m.partition(),
                java_partition(key.as_bytes(), 4),
                "{key}: the Java client's partition"
            );
            partitions_of_key
                .entry(key)
                .or_default()
                .insert(m.partition());
        }
        assert!(partitions_of_key.values().all(|p| p.len() == 1));
        // Offsets increase per partition in send order.
        let mut last: BTreeMap<i32, i64> = BTreeMap::new();
        for (_, json) in &sent {
            let m = by_value[json.as_bytes()];
            if let Some(prev) = last.insert(m.partition(), m.offset()) {
                assert!(m.offset() > prev);
            }
        }
        close(p);
        unsafe { kafka_instance_free(inst) };
    }
}

#[test]
fn sync_sends_report_partition_offset_and_timestamp() {
    for broker in brokers() {
        let topic = unique_topic("sync");
        create_topic(&broker, &topic, 3);
        let inst = instance(&broker, &[]);
        let p = producer(inst, &[]);
        let topic_c = c(&topic);
        let mut offsets: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
        for i in 0..9 {
            let mut report: KafkaDeliveryReport = unsafe { std::mem::zeroed() };
            let mut e = err();
            let before = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as i64;
            let json = c(&format!("{{\"n\":{i}}}"));
            let key = c(&format!("k{i}"));
            let rc = unsafe {
                kafka_producer_send_json_sync(
                    p,
                    topic_c.as_ptr(),
                    key.as_ptr(),
                    json.as_ptr(),
                    10000,
                    &mut report,
                    &mut e,
                )
            };
            assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
            assert_eq!(report.code, KAFKA_OK);
            assert_eq!(report.topic, topic_c.as_ptr(), "the caller's topic pointer");
            assert_eq!(
                report.partition,
                java_partition(format!("k{i}").as_bytes(), 3)
            );
            if broker.name == "embedded" {
                // librdkafka's mock answers every Produce with a fixed
                // LogAppendTime of 1234 (rdkafka_mock_handlers.c), which
                // librdkafka then reports as the message's timestamp.
                assert_eq!(report.timestamp_ms, 1234);
            } else {
                assert!(
                    report.timestamp_ms >= before - 1000,
                    "{} vs {before}",
                    report.timestamp_ms
                );
            }
            offsets
                .entry(report.partition)
                .or_default()
                .push(report.offset);
        }
        for list in offsets.values() {
            assert_eq!(
                *list,
                (0..list.len() as i64).collect::<Vec<_>>(),
                "fresh topic: offsets 0, 1, 2..."
            );
        }
        // send_sync with a record; report may be NULL.
        let mut r = record(&topic_c);
        r.has_partition = true;
        r.partition = 2;
        let mut e = err();
        assert_eq!(
            unsafe { kafka_producer_send_sync(p, &r, 10000, null_mut(), &mut e) },
            KAFKA_OK,
            "{}",
            e.message_str()
        );
        close(p);
        unsafe { kafka_instance_free(inst) };
    }
}

#[test]
fn binary_keys_tombstones_headers_partitions_and_timestamps() {
    for broker in brokers() {
        let topic = unique_topic("raw");
        create_topic(&broker, &topic, 3);
        let inst = instance(&broker, &[]);
        let p = producer(inst, &[]);
        let outcomes = Outcomes::default();
        let topic_c = c(&topic);
        let key = [0u8, 1, 2, 255, 0];
        let value = [9u8, 0, 8, 0, 7];
        let (n1, n2) = (c("trace-id"), c("empty"));
        let headers = [
            KafkaHeader {
                name: n1.as_ptr(),
                value: b"abc\0def".as_ptr().cast(),
                value_len: 7,
            },
            KafkaHeader {
                name: n2.as_ptr(),
                value: null(),
                value_len: 0,
            },
        ];
        let mut r = record(&topic_c);
        r.key = key.as_ptr().cast();
        r.key_len = key.len();
        r.value = value.as_ptr().cast();
        r.value_len = value.len();
        r.headers = headers.as_ptr();
        r.header_count = 2;
        r.has_partition = true;
        r.partition = 1;
        r.timestamp_ms = 1_600_000_000_123;
        assert_eq!(send_record(p, &r, &outcomes).0, KAFKA_OK);
        // A tombstone: key, no value.
        let mut t = record(&topic_c);
        t.key = b"gone".as_ptr().cast();
        t.key_len = 4;
        t.has_partition = true;
        t.partition = 2;
        assert_eq!(send_record(p, &t, &outcomes).0, KAFKA_OK);
        // Zero-initialized record plus topic: all defaults.
        let z = record(&topic_c);
        assert_eq!(send_record(p, &z, &outcomes).0, KAFKA_OK);
        let mut e = err();
        assert_eq!(
            unsafe { kafka_producer_flush(p, 10000, null_mut(), &mut e) },
            KAFKA_OK
        );
        assert_eq!(outcomes.reports.lock().unwrap().len(), 3);
        let got = read_back(&broker.bootstrap, &topic, 3, READ);
        assert_eq!(got.len(), 3);
        let full = got.iter().find(|m| m.key() == Some(&key[..])).unwrap();
        assert_eq!(full.payload(), Some(&value[..]));
        assert_eq!(full.partition(), 1);
        assert_eq!(full.timestamp().to_millis(), Some(1_600_000_000_123));
        let hs = full.headers().unwrap();
        assert_eq!(hs.count(), 2);
        assert_eq!(hs.get(0).key, "trace-id");
        assert_eq!(hs.get(0).value, Some(&b"abc\0def"[..]));
        assert_eq!(hs.get(1).key, "empty");
        assert_eq!(hs.get(1).value, None);
        let tomb = got.iter().find(|m| m.key() == Some(&b"gone"[..])).unwrap();
        assert_eq!(tomb.payload(), None);
        assert_eq!(tomb.partition(), 2);
        let plain = got.iter().find(|m| m.key().is_none()).unwrap();
        assert_eq!(plain.payload(), None);
        close(p);
        unsafe { kafka_instance_free(inst) };
    }
}
