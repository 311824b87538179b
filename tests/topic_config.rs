//! `KafkaTopicConfig`: kafka_instance_describe_topic_config and
//! kafka_instance_alter_topic_config. The embedded broker answers neither
//! DescribeConfigs nor AlterConfigs (said where a person sees it); with
//! KAFKA_BOOTSTRAP_SERVERS set they run against that broker, and a
//! Kafka-protocol stand-in broker (tests/common/stand_in.rs) runs them on
//! every machine.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::*;

use common::stand_in::{Request, StandIn, Topic, SENSITIVE};
use std::ptr::{null, null_mut};

/// A topic's settings: (name, value, set_on_topic).
type Settings = Vec<(String, Option<String>, bool)>;

fn settings(inst: *mut KafkaInstance, topic: &str) -> Result<Settings, String> {
    settings_within(inst, topic, 10000)
}

/// Every setting, read as C would.
fn settings_within(
    inst: *mut KafkaInstance,
    topic: &str,
    timeout_ms: i32,
) -> Result<Settings, String> {
    let (mut out, mut e, t) = (null_mut(), err(), c(topic));
    let rc = unsafe {
        kafka_instance_describe_topic_config(inst, t.as_ptr(), timeout_ms, &mut out, &mut e)
    };
    if rc != KAFKA_OK {
        assert!(out.is_null());
        return Err(format!("{}: {}", e.rdkafka_code, e.message_str()));
    }
    let mut all = Vec::new();
    unsafe {
        for i in 0..kafka_topic_config_count(out) {
            let entry = &*kafka_topic_config_get(out, i);
            let value = (!entry.value.is_null()).then(|| s(entry.value));
            let name = s(entry.name);
            let by_name = kafka_topic_config_value(out, c(&name).as_ptr());
            assert_eq!(by_name, entry.value, "{name}: looked up by name");
            all.push((name, value, entry.set_on_topic));
        }
        assert!(kafka_topic_config_get(out, all.len()).is_null());
        assert!(kafka_topic_config_value(out, c("no.such.setting").as_ptr()).is_null());
        kafka_topic_config_free(out);
    }
    Ok(all)
}

fn alter(
    inst: *mut KafkaInstance,
    topic: &str,
    changes: &[(&str, Option<&str>)],
) -> (KafkaErrorCode, String) {
    let t = c(topic);
    let keys: Vec<_> = changes.iter().map(|(k, _)| c(k)).collect();
    let values: Vec<_> = changes.iter().map(|(_, v)| v.map(c)).collect();
    let kp: Vec<_> = keys.iter().map(|k| k.as_ptr()).collect();
    let vp: Vec<_> = values
        .iter()
        .map(|v| v.as_ref().map_or(null(), |v| v.as_ptr()))
        .collect();
    let mut e = err();
    let rc = unsafe {
        kafka_instance_alter_topic_config(
            inst,
            t.as_ptr(),
            kp.as_ptr(),
            vp.as_ptr(),
            kp.len(),
            10000,
            &mut e,
        )
    };
    (rc, e.message_str().to_owned())
}

fn value_of(all: &[(String, Option<String>, bool)], name: &str) -> Option<(Option<String>, bool)> {
    all.iter().find(|s| s.0 == name).map(|s| (s.1.clone(), s.2))
}

/// A setting changed shows as set on the topic; changing a second one
/// keeps the first; resetting one (NULL) leaves the other; a setting the
/// broker does not know fails and changes nothing.
#[test]
fn kafka_instance_alter_topic_config_changes_one_setting_and_keeps_the_others() {
    capture_logs();
    for broker in brokers() {
        let inst = instance(&broker, &[]);
        let topic = unique_topic("configured");
        create_topic(&broker, &topic, 1);
        if !broker.mock.is_null() {
            broker_cannot(
                "topic_config::describe_alter",
                "librdkafka's mock cluster answers no DescribeConfigs or AlterConfigs",
            );
            let e =
                settings_within(inst, &topic, 1000).expect_err("the mock has no DescribeConfigs");
            assert!(!e.is_empty());
            let (rc, _) = alter(inst, &topic, &[]);
            assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT, "no changes");
            let (rc, _) = alter(inst, "bad topic", &[("retention.ms", Some("1"))]);
            assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
            unsafe { kafka_instance_free(inst) };
            continue;
        }
        let before = settings(inst, &topic).unwrap_or_else(|e| panic!("{}: {e}", broker.name));
        let (rc, msg) = alter(inst, &topic, &[("retention.ms", Some("123456789"))]);
        let now = settings(inst, &topic).unwrap();
        if before.is_empty() && value_of(&now, "retention.ms").is_none() {
            // tansu 0.6 answers DescribeConfigs with no settings.
            broker_cannot(
                "topic_config::describe_alter",
                &format!(
                    "this broker describes no topic settings (AlterConfigs said: {rc:?} {msg})"
                ),
            );
            unsafe { kafka_instance_free(inst) };
            continue;
        }
        assert_eq!(rc, KAFKA_OK, "{}: {msg}", broker.name);
        // tansu 0.6 reports a topic's own settings as DEFAULT_CONFIG: the
        // values are checked there, "set on the topic" is not.
        let marks_own = value_of(&now, "retention.ms").is_some_and(|v| v.1);
        if !marks_own {
            broker_cannot(
                "topic_config::set_on_topic",
                "this broker does not mark a topic's own settings as set on the topic",
            );
        }
        let own = |v: &str| Some((Some(v.to_owned()), marks_own));
        assert_eq!(
            value_of(&now, "retention.ms"),
            own("123456789"),
            "{}",
            broker.name
        );

        let (rc, msg) = alter(inst, &topic, &[("max.message.bytes", Some("200000"))]);
        assert_eq!(rc, KAFKA_OK, "{msg}");
        let now = settings(inst, &topic).unwrap();
        assert_eq!(value_of(&now, "max.message.bytes"), own("200000"));
        assert_eq!(value_of(&now, "retention.ms"), own("123456789"), "kept");

        let (rc, msg) = alter(inst, &topic, &[("retention.ms", None)]);
        assert_eq!(rc, KAFKA_OK, "{msg}");
        let now = settings(inst, &topic).unwrap();
        let reset = value_of(&now, "retention.ms");
        assert!(
            reset
                .as_ref()
                .is_none_or(|v| !v.1 && v.0.as_deref() != Some("123456789")),
            "reset: {reset:?}"
        );
        assert_eq!(value_of(&now, "max.message.bytes"), own("200000"));

        let (rc, msg) = alter(inst, &topic, &[("no.such.setting", Some("1"))]);
        if rc == KAFKA_OK {
            broker_cannot(
                "topic_config::unknown_setting",
                "this broker accepts a setting it does not know",
            );
        } else {
            assert_eq!(rc, KAFKA_ERR_BROKER, "{msg}");
            let now = settings(inst, &topic).unwrap();
            assert_eq!(value_of(&now, "max.message.bytes"), own("200000"));
        }
        unsafe { kafka_instance_free(inst) };
    }
}

/// A stand-in broker (new: with IncrementalAlterConfigs; old: without)
/// holding topic "configured", whose own setting is cleanup.policy=compact
/// (plus `extra`), and an instance on it.
fn configured_on_a_stand_in(old: bool, extra: &[(&str, &str)]) -> (StandIn, *mut KafkaInstance) {
    println!(
        "against a Kafka-protocol stand-in broker (tests/common/stand_in.rs), not Apache Kafka"
    );
    let mut topic = Topic::default();
    topic.partitions.resize(1, Default::default());
    for (k, v) in [("cleanup.policy", "compact")].iter().chain(extra) {
        topic.settings.insert((*k).into(), (*v).into());
    }
    let topics = [("configured", topic)];
    let broker = match old {
        true => StandIn::start_old(&topics),
        false => StandIn::start(&topics),
    };
    let inst = instance_from(&[("bootstrap_servers", &broker.bootstrap)]);
    (broker, inst)
}

/// The same changes on either kind of broker, with what each must show:
/// describing lists every setting with where it comes from; a change shows
/// as set on the topic and keeps the topic's other setting; a reset goes
/// back to the inherited value; a setting the broker does not know is
/// refused with the broker's words; a topic that does not exist is
/// UNKNOWN_TOPIC_OR_PARTITION.
fn change_describe_and_refuse(broker: &StandIn, inst: *mut KafkaInstance) {
    let all = settings(inst, "configured").unwrap();
    assert_eq!(
        value_of(&all, "cleanup.policy"),
        Some((Some("compact".into()), true))
    );
    assert_eq!(
        value_of(&all, "retention.ms"),
        Some((Some("604800000".into()), false)),
        "inherited"
    );

    let (rc, msg) = alter(inst, "configured", &[("retention.ms", Some("123456789"))]);
    assert_eq!(rc, KAFKA_OK, "{msg}");
    let now = settings(inst, "configured").unwrap();
    assert_eq!(
        value_of(&now, "retention.ms"),
        Some((Some("123456789".into()), true))
    );
    assert_eq!(
        value_of(&now, "cleanup.policy"),
        Some((Some("compact".into()), true)),
        "kept"
    );

    let (rc, msg) = alter(inst, "configured", &[("cleanup.policy", None)]);
    assert_eq!(rc, KAFKA_OK, "{msg}");
    let now = settings(inst, "configured").unwrap();
    assert_eq!(
        value_of(&now, "cleanup.policy"),
        Some((Some("delete".into()), false)),
        "back to the inherited value"
    );

    let before = broker.topic("configured").unwrap().settings;
    let (rc, msg) = alter(inst, "configured", &[("no.such.setting", Some("1"))]);
    assert_eq!(rc, KAFKA_ERR_BROKER, "{msg}");
    assert!(
        msg.contains("Unknown topic config name: no.such.setting"),
        "the broker's words: {msg}"
    );
    let after = broker.topic("configured").unwrap().settings;
    assert_eq!(before, after, "a refused change changes nothing");

    let described = settings(inst, "missing").map(|s| format!("{s:?}"));
    let err = described.expect_err("no such topic");
    assert!(err.starts_with("3:"), "UNKNOWN_TOPIC_OR_PARTITION: {err}");
    let (rc, msg) = alter(inst, "missing", &[("retention.ms", Some("1"))]);
    assert_eq!(rc, KAFKA_ERR_BROKER, "{msg}");
    broker.assert_understood_everything();
}

/// On a broker with IncrementalAlterConfigs (Kafka 2.3 and later) each
/// change names only its setting (set, or deleted for a reset): nothing
/// read first, nothing else sent, so a setting whose value the broker
/// never shows (sensitive) is kept.
#[test]
fn kafka_instance_alter_topic_config_changes_only_the_settings_named() {
    capture_logs();
    let (broker, inst) = configured_on_a_stand_in(false, &[(SENSITIVE, "s3cret")]);
    change_describe_and_refuse(&broker, inst);
    let secret = broker.topic("configured").unwrap().settings;
    assert_eq!(
        secret.get(SENSITIVE).map(String::as_str),
        Some("s3cret"),
        "{secret:?}"
    );

    let sent: Vec<_> = broker
        .requests()
        .into_iter()
        .filter(|r| !matches!(r, Request::DescribeConfigs { .. }))
        .collect();
    let change = |name: &str, k: &str, op: i8, v: Option<&str>| Request::IncrementalAlterConfigs {
        name: name.into(),
        changes: vec![(k.into(), op, v.map(Into::into))],
    };
    assert_eq!(
        sent,
        [
            change("configured", "retention.ms", 0, Some("123456789")),
            change("configured", "cleanup.policy", 1, None),
            change("configured", "no.such.setting", 0, Some("1")),
            change("missing", "retention.ms", 0, Some("1")),
        ]
    );
    unsafe { kafka_instance_free(inst) };
}

/// On a broker without IncrementalAlterConfigs, AlterConfigs replaces the
/// topic's whole set: a change is sent as the topic's own settings plus
/// the change, a reset leaves the setting out. A topic with a sensitive
/// setting of its own is refused (resending would lose it) and nothing is
/// sent.
#[test]
fn kafka_instance_alter_topic_config_on_an_older_broker_resends_the_topics_own_settings() {
    capture_logs();
    let (broker, inst) = configured_on_a_stand_in(true, &[]);
    change_describe_and_refuse(&broker, inst);
    let sent: Vec<_> = broker
        .requests()
        .into_iter()
        .filter_map(|r| match r {
            Request::AlterConfigs {
                resource_type,
                name,
                settings,
                validate_only,
            } => {
                assert_eq!(
                    (resource_type, name.as_str(), validate_only),
                    (2, "configured", false)
                );
                Some(settings)
            }
            Request::IncrementalAlterConfigs { .. } => panic!("not advertised, yet sent"),
            _ => None,
        })
        .collect();
    let set = |pairs: &[(&str, &str)]| -> Vec<(String, Option<String>)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Some((*v).to_owned())))
            .collect()
    };
    assert_eq!(
        sent,
        [
            set(&[("cleanup.policy", "compact"), ("retention.ms", "123456789")]),
            set(&[("retention.ms", "123456789")]),
            set(&[("retention.ms", "123456789"), ("no.such.setting", "1")]),
        ]
    );
    unsafe { kafka_instance_free(inst) };

    let (broker, inst) = configured_on_a_stand_in(true, &[(SENSITIVE, "s3cret")]);
    let (rc, msg) = alter(inst, "configured", &[("retention.ms", Some("1"))]);
    assert_eq!(rc, KAFKA_ERR_BROKER, "{msg}");
    assert!(
        msg.contains(SENSITIVE),
        "names the setting it would lose: {msg}"
    );
    assert!(!msg.contains("s3cret"), "{msg}");
    let altered = broker
        .requests()
        .into_iter()
        .any(|r| matches!(r, Request::AlterConfigs { .. }));
    assert!(!altered, "nothing sent");
    assert_eq!(broker.topic("configured").unwrap().settings.len(), 2);
    unsafe { kafka_instance_free(inst) };
}
