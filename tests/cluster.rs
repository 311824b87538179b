//! `KafkaCluster`: kafka_instance_describe_cluster / _describe_topic, on a
//! three-broker embedded cluster (leaders, replicas, in-sync replicas,
//! a leader moved) and, when KAFKA_BOOTSTRAP_SERVERS is set, that broker.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::producer::READ;
use common::*;

use std::ptr::{null, null_mut};

#[derive(Debug, PartialEq)]
struct Part {
    topic: String,
    partition: i32,
    leader: i32,
    replicas: Vec<i32>,
    in_sync: Vec<i32>,
    error: KafkaErrorCode,
}

/// Brokers (id, host, port) and partitions of a described cluster, read
/// through the accessors as a C program would, then freed.
/// A cluster read back: its id, brokers (id, host, port) and partitions.
type Described = (Option<String>, Vec<(i32, String, i32)>, Vec<Part>);

fn read(cluster: *mut KafkaCluster) -> Described {
    unsafe {
        let id = kafka_cluster_id(cluster);
        let id = (!id.is_null()).then(|| s(id));
        let brokers = (0..kafka_cluster_broker_count(cluster))
            .map(|i| {
                let b = &*kafka_cluster_broker(cluster, i);
                (b.id, s(b.host), b.port)
            })
            .collect();
        let n = kafka_cluster_partition_count(cluster);
        assert!(kafka_cluster_broker(cluster, 1000).is_null());
        assert!(kafka_cluster_partition(cluster, n).is_null());
        let parts = (0..n)
            .map(|i| {
                let p = &*kafka_cluster_partition(cluster, i);
                let ids = |ptr: *const i32, n: usize| match n {
                    0 => Vec::new(),
                    _ => std::slice::from_raw_parts(ptr, n).to_vec(),
                };
                Part {
                    topic: s(p.topic),
                    partition: p.partition,
                    leader: p.leader,
                    replicas: ids(p.replicas, p.replica_count),
                    in_sync: ids(p.in_sync, p.in_sync_count),
                    error: p.error,
                }
            })
            .collect();
        kafka_cluster_free(cluster);
        (id, brokers, parts)
    }
}

fn describe(
    inst: *mut KafkaInstance,
    topic: Option<&str>,
) -> Result<*mut KafkaCluster, Box<KafkaError>> {
    let mut out = null_mut();
    let mut e = err();
    let t = topic.map(c);
    let rc = unsafe {
        match &t {
            Some(t) => kafka_instance_describe_topic(inst, t.as_ptr(), 10000, &mut out, &mut e),
            None => kafka_instance_describe_cluster(inst, 10000, &mut out, &mut e),
        }
    };
    match rc {
        KAFKA_OK => Ok(out),
        _ => {
            assert!(out.is_null());
            Err(Box::new(e))
        }
    }
}

/// Three brokers, a topic of 4 partitions with 3 replicas: every
/// partition is listed once, with a leader that is one of its replicas,
/// all replicas in sync, and each broker with its address. Moving a
/// partition's leader shows in the next description.
#[test]
fn kafka_instance_describe_cluster_lists_brokers_leaders_and_replicas() {
    capture_logs();
    let mut e = err();
    let mock = unsafe { kafka_mock_cluster_new(3, &mut e) };
    assert!(!mock.is_null(), "{}", e.message_str());
    let broker = Broker {
        name: "embedded, 3 brokers",
        bootstrap: s(unsafe { kafka_mock_cluster_bootstrap_servers(mock) }),
        mock,
    };
    let topic = unique_topic("described");
    let inst = instance(&broker, &[]);
    let t = c(&topic);
    let rc = unsafe { kafka_mock_cluster_create_topic(mock, t.as_ptr(), 4, 3, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());

    let (id, brokers, parts) =
        read(describe(inst, None).unwrap_or_else(|e| panic!("{}", e.message_str())));
    assert!(
        id.is_some_and(|id| !id.is_empty()),
        "the mock has a cluster id"
    );
    assert_eq!(brokers.iter().map(|b| b.0).collect::<Vec<_>>(), [1, 2, 3]);
    for (_, host, port) in &brokers {
        assert!(!host.is_empty() && *port > 0, "{host}:{port}");
        assert!(
            broker.bootstrap.contains(&format!("{host}:{port}")),
            "{}",
            broker.bootstrap
        );
    }
    let mine: Vec<&Part> = parts.iter().filter(|p| p.topic == topic).collect();
    assert_eq!(
        mine.iter().map(|p| p.partition).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    for p in &mine {
        assert_eq!(p.error, KAFKA_OK);
        let mut replicas = p.replicas.clone();
        replicas.sort();
        assert_eq!(replicas, [1, 2, 3], "{p:?}");
        assert!(p.replicas.contains(&p.leader), "{p:?}");
        assert_eq!(p.in_sync.len(), 3, "{p:?}");
    }

    // One topic alone; a leader moved is seen.
    let leader = mine[2].leader;
    let moved_to = leader % 3 + 1;
    let rc =
        unsafe { kafka_mock_cluster_partition_set_leader(mock, t.as_ptr(), 2, moved_to, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    let deadline = std::time::Instant::now() + READ;
    loop {
        let (_, _, parts) =
            read(describe(inst, Some(&topic)).unwrap_or_else(|e| panic!("{}", e.message_str())));
        assert!(
            parts.iter().all(|p| p.topic == topic),
            "only the topic asked for"
        );
        assert_eq!(parts.len(), 4);
        if parts[2].leader == moved_to {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "leader still {}",
            parts[2].leader
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    unsafe { kafka_instance_free(inst) };
}

/// A topic the cluster lacks is an error naming it, and describing it
/// does not create it; bad arguments are refused; the external broker
/// describes a topic made for the test.
#[test]
fn kafka_instance_describe_topic_of_a_missing_topic_fails_and_creates_nothing() {
    capture_logs();
    for broker in brokers() {
        let inst = instance(&broker, &[]);
        let missing = unique_topic("missing");
        let e = describe(inst, Some(&missing)).expect_err("a missing topic");
        assert_eq!(
            e.code,
            KAFKA_ERR_BROKER,
            "{}: {}",
            broker.name,
            e.message_str()
        );
        assert_eq!(e.rdkafka_code, 3, "{}: {}", broker.name, e.message_str());
        assert!(e.message_str().contains(&missing), "{}", e.message_str());
        let (_, _, parts) =
            read(describe(inst, None).unwrap_or_else(|e| panic!("{}", e.message_str())));
        assert!(
            parts.iter().all(|p| p.topic != missing),
            "{}: created",
            broker.name
        );

        let topic = unique_topic("described");
        create_topic(&broker, &topic, 3);
        let (_, brokers, parts) =
            read(describe(inst, Some(&topic)).unwrap_or_else(|e| panic!("{}", e.message_str())));
        assert!(!brokers.is_empty());
        assert_eq!(
            parts.iter().map(|p| p.partition).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        for p in &parts {
            assert!(
                brokers.iter().any(|b| b.0 == p.leader),
                "{}: {p:?}",
                broker.name
            );
        }

        let mut out = null_mut();
        let mut e = err();
        for bad in ["", "bad topic"] {
            let t = c(bad);
            let rc =
                unsafe { kafka_instance_describe_topic(inst, t.as_ptr(), 1000, &mut out, &mut e) };
            assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT, "{bad:?}");
        }
        let rc = unsafe { kafka_instance_describe_topic(inst, null(), 1000, &mut out, &mut e) };
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
        unsafe { kafka_instance_free(inst) };
    }
}
