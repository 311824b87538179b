//! `KafkaTopicConfig`: kafka_instance_describe_topic_config and
//! kafka_instance_alter_topic_config. The embedded broker answers neither
//! DescribeConfigs nor AlterConfigs (said where a person sees it); with
//! KAFKA_BOOTSTRAP_SERVERS set they run against that broker.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::*;

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
        assert_eq!(
            value_of(&now, "retention.ms"),
            Some((Some("123456789".into()), true)),
            "{}",
            broker.name
        );

        let (rc, msg) = alter(inst, &topic, &[("max.message.bytes", Some("200000"))]);
        assert_eq!(rc, KAFKA_OK, "{msg}");
        let now = settings(inst, &topic).unwrap();
        assert_eq!(
            value_of(&now, "max.message.bytes"),
            Some((Some("200000".into()), true))
        );
        assert_eq!(
            value_of(&now, "retention.ms"),
            Some((Some("123456789".into()), true)),
            "kept"
        );

        let (rc, msg) = alter(inst, &topic, &[("retention.ms", None)]);
        assert_eq!(rc, KAFKA_OK, "{msg}");
        let now = settings(inst, &topic).unwrap();
        assert_ne!(
            value_of(&now, "retention.ms").map(|v| v.1),
            Some(true),
            "reset"
        );
        assert_eq!(
            value_of(&now, "max.message.bytes"),
            Some((Some("200000".into()), true))
        );

        let (rc, msg) = alter(inst, &topic, &[("no.such.setting", Some("1"))]);
        if rc == KAFKA_OK {
            broker_cannot(
                "topic_config::unknown_setting",
                "this broker accepts a setting it does not know",
            );
        } else {
            assert_eq!(rc, KAFKA_ERR_BROKER, "{msg}");
            let now = settings(inst, &topic).unwrap();
            assert_eq!(
                value_of(&now, "max.message.bytes"),
                Some((Some("200000".into()), true))
            );
        }
        unsafe { kafka_instance_free(inst) };
    }
}
