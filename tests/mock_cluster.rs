//! The embedded broker through the C ABI, used by a real Kafka client.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::*;

use std::ptr::{null, null_mut};
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

fn cluster(brokers: i32) -> *mut KafkaMockCluster {
    let mut e = err();
    let mc = unsafe { kafka_mock_cluster_new(brokers, &mut e) };
    assert!(!mc.is_null(), "{}", e.message_str());
    mc
}

fn producer(bootstrap: &str) -> BaseProducer {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("message.timeout.ms", "5000")
        .create()
        .unwrap()
}

#[test]
fn broker_counts_are_checked() {
    for bad in [0, -1, 65] {
        let mut e = err();
        assert!(unsafe { kafka_mock_cluster_new(bad, &mut e) }.is_null());
        assert_eq!(e.code, KAFKA_ERR_INVALID_ARGUMENT);
    }
}

#[test]
fn bootstrap_lists_every_broker_on_loopback() {
    let mc = cluster(3);
    let servers = s(unsafe { kafka_mock_cluster_bootstrap_servers(mc) });
    let hosts: Vec<&str> = servers.split(',').collect();
    assert_eq!(hosts.len(), 3, "{servers}");
    assert!(
        hosts.iter().all(|h| h.starts_with("127.0.0.1:")),
        "{servers}"
    );
    assert!(unsafe { kafka_mock_cluster_bootstrap_servers(std::ptr::null()) }.is_null());
    unsafe { kafka_mock_cluster_free(mc) };
}

#[test]
fn a_real_client_sees_created_topics_and_produces_to_them() {
    let mc = cluster(3);
    let mut e = err();
    let rc = unsafe { kafka_mock_cluster_create_topic(mc, c("orders").as_ptr(), 6, 3, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    let p = producer(&s(unsafe { kafka_mock_cluster_bootstrap_servers(mc) }));
    let md = p
        .client()
        .fetch_metadata(Some("orders"), Duration::from_secs(10))
        .unwrap();
    assert_eq!(md.brokers().len(), 3);
    assert_eq!(md.topics()[0].partitions().len(), 6);
    assert_eq!(md.topics()[0].partitions()[0].replicas().len(), 3);
    p.send(BaseRecord::to("orders").key("k").payload("{\"id\":1}"))
        .unwrap();
    assert!(p.flush(Duration::from_secs(10)).is_ok());
    unsafe { kafka_mock_cluster_free(mc) };
}

#[test]
fn topic_arguments_are_checked() {
    let mc = cluster(2);
    let mut e = err();
    unsafe {
        for (topic, partitions, rf) in [
            ("", 1, 1),
            ("a b", 1, 1),
            ("..", 1, 1),
            ("t", 0, 1),
            ("t", 1, 0),
            ("t", 1, 3),
        ] {
            let rc = kafka_mock_cluster_create_topic(mc, c(topic).as_ptr(), partitions, rf, &mut e);
            assert_eq!(
                rc, KAFKA_ERR_INVALID_ARGUMENT,
                "{topic:?} {partitions} {rf}"
            );
        }
        kafka_mock_cluster_free(mc);
    }
}

#[test]
fn a_stopped_broker_stops_answering_until_restarted() {
    let mc = cluster(1);
    let mut e = err();
    unsafe {
        assert_eq!(
            kafka_mock_cluster_create_topic(mc, c("t").as_ptr(), 1, 1, &mut e),
            KAFKA_OK
        );
        let p = producer(&s(kafka_mock_cluster_bootstrap_servers(mc)));
        assert!(p
            .client()
            .fetch_metadata(Some("t"), Duration::from_secs(10))
            .is_ok());
        assert_eq!(
            kafka_mock_cluster_broker_down(mc, 1, &mut e),
            KAFKA_OK,
            "{}",
            e.message_str()
        );
        p.send(BaseRecord::<(), str>::to("t").payload("while down"))
            .unwrap();
        // Nothing can be acknowledged while the only broker is down.
        assert!(p.flush(Duration::from_millis(1500)).is_err());
        assert_eq!(p.in_flight_count(), 1);
        assert_eq!(kafka_mock_cluster_broker_up(mc, 1, &mut e), KAFKA_OK);
        assert!(
            p.flush(Duration::from_secs(10)).is_ok(),
            "delivered after the broker came back"
        );
        for bad in [0, 2, -1] {
            assert_eq!(
                kafka_mock_cluster_broker_down(mc, bad, &mut e),
                KAFKA_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                kafka_mock_cluster_broker_up(mc, bad, &mut e),
                KAFKA_ERR_INVALID_ARGUMENT
            );
        }
        drop(p);
        kafka_mock_cluster_free(mc);
        kafka_mock_cluster_free(std::ptr::null_mut());
    }
}

#[test]
fn an_instance_accepts_the_mock_bootstrap_string() {
    let mc = cluster(1);
    let bootstrap = s(unsafe { kafka_mock_cluster_bootstrap_servers(mc) });
    let cfg = config(&[("kafka_url", &format!("kafka://{bootstrap}"))]);
    let mut e = err();
    let inst = unsafe { kafka_instance_new(cfg, &mut e) };
    assert!(!inst.is_null(), "{}", e.message_str());
    unsafe {
        kafka_instance_free(inst);
        kafka_config_free(cfg);
        kafka_mock_cluster_free(mc);
    }
}

/// The Produce request's API key.
const PRODUCE: i16 = 0;

/// One acknowledged send through the C API to `bootstrap`; its result.
fn send_once(bootstrap: &str, topic: &str) -> (KafkaErrorCode, i32) {
    let inst = instance_from(&[("bootstrap_servers", bootstrap)]);
    let mut e = err();
    // No retries: an injected error is the send's answer.
    let o = config(&[("retries", "0"), ("enable_idempotence", "false")]);
    let p = unsafe { kafka_instance_get_producer(inst, o, &mut e) };
    assert!(!p.is_null(), "{}", e.message_str());
    let (t, v) = (c(topic), c("{}"));
    let rc = unsafe {
        kafka_producer_send_json_sync(
            p,
            t.as_ptr(),
            null(),
            v.as_ptr(),
            10_000,
            null_mut(),
            &mut e,
        )
    };
    let code = e.rdkafka_code;
    unsafe {
        kafka_producer_close(p, 10_000, null_mut());
        kafka_config_free(o);
        kafka_instance_free(inst);
    }
    (rc, code)
}

#[test]
fn kafka_mock_cluster_push_request_errors_answers_the_next_requests_and_clear_forgets_them() {
    let mc = cluster(1);
    let bootstrap = s(unsafe { kafka_mock_cluster_bootstrap_servers(mc) });
    let t = c("injected");
    let mut e = err();
    assert_eq!(
        unsafe { kafka_mock_cluster_create_topic(mc, t.as_ptr(), 1, 1, &mut e) },
        KAFKA_OK
    );
    const TOPIC_AUTHORIZATION_FAILED: i32 = 29;
    let denied = [TOPIC_AUTHORIZATION_FAILED];
    let push = |e: &mut KafkaError| unsafe {
        kafka_mock_cluster_push_request_errors(mc, PRODUCE, denied.as_ptr(), 1, e)
    };
    assert_eq!(push(&mut e), KAFKA_OK, "{}", e.message_str());
    assert_eq!(
        send_once(&bootstrap, "injected"),
        (KAFKA_ERR_BROKER, TOPIC_AUTHORIZATION_FAILED),
        "the pushed error answers the next Produce"
    );
    assert_eq!(send_once(&bootstrap, "injected").0, KAFKA_OK, "used once");
    assert_eq!(push(&mut e), KAFKA_OK);
    assert_eq!(
        unsafe { kafka_mock_cluster_clear_request_errors(mc, PRODUCE, &mut e) },
        KAFKA_OK
    );
    assert_eq!(send_once(&bootstrap, "injected").0, KAFKA_OK, "cleared");
    // A count without an array is refused; no errors at all is nothing.
    unsafe {
        let rc = kafka_mock_cluster_push_request_errors(mc, PRODUCE, null(), 1, &mut e);
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
        assert!(e.message_str().contains("errors"), "{}", e.message_str());
        let rc = kafka_mock_cluster_push_request_errors(mc, PRODUCE, null(), 0, &mut e);
        assert_eq!(rc, KAFKA_OK);
        kafka_mock_cluster_free(mc);
    }
}

#[test]
fn kafka_mock_cluster_set_round_trip_time_delays_every_answer() {
    let mc = cluster(1);
    let bootstrap = s(unsafe { kafka_mock_cluster_bootstrap_servers(mc) });
    let t = c("slow");
    let mut e = err();
    unsafe {
        assert_eq!(
            kafka_mock_cluster_create_topic(mc, t.as_ptr(), 1, 1, &mut e),
            KAFKA_OK
        );
        assert_eq!(
            kafka_mock_cluster_set_round_trip_time(mc, -1, 400, &mut e),
            KAFKA_OK
        );
    }
    // A lower bound only: a slow machine takes longer, never shorter.
    let started = std::time::Instant::now();
    assert_eq!(send_once(&bootstrap, "slow").0, KAFKA_OK);
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "an acknowledged send took {:?} with a 400 ms round trip",
        started.elapsed()
    );
    unsafe {
        let rc = kafka_mock_cluster_set_round_trip_time(mc, 7, 10, &mut e);
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT, "no broker 7");
        let rc = kafka_mock_cluster_set_round_trip_time(mc, 1, -5, &mut e);
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT, "a negative time");
        kafka_mock_cluster_free(mc);
    }
}

#[test]
fn kafka_mock_cluster_partition_set_leader_moves_the_leader_clients_see() {
    let mc = cluster(3);
    let bootstrap = s(unsafe { kafka_mock_cluster_bootstrap_servers(mc) });
    let t = c("led");
    let mut e = err();
    unsafe {
        assert_eq!(
            kafka_mock_cluster_create_topic(mc, t.as_ptr(), 2, 3, &mut e),
            KAFKA_OK
        );
        let rc = kafka_mock_cluster_partition_set_leader(mc, t.as_ptr(), 1, 3, &mut e);
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    }
    let client = producer(&bootstrap);
    let leader = || {
        let md = client
            .client()
            .fetch_metadata(Some("led"), Duration::from_secs(10))
            .unwrap();
        md.topics()[0]
            .partitions()
            .iter()
            .find(|p| p.id() == 1)
            .unwrap()
            .leader()
    };
    assert_eq!(leader(), 3);
    unsafe {
        assert_eq!(
            kafka_mock_cluster_partition_set_leader(mc, t.as_ptr(), 1, 2, &mut e),
            KAFKA_OK
        );
    }
    assert_eq!(leader(), 2);
    unsafe {
        let rc = kafka_mock_cluster_partition_set_leader(mc, t.as_ptr(), 1, 9, &mut e);
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT, "no broker 9");
        let rc = kafka_mock_cluster_partition_set_leader(mc, t.as_ptr(), 5, 1, &mut e);
        assert_ne!(rc, KAFKA_OK, "no partition 5");
        let rc = kafka_mock_cluster_partition_set_leader(mc, null(), 0, 1, &mut e);
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
    }
    drop(client);
    unsafe { kafka_mock_cluster_free(mc) };
}
