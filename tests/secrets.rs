//! A recognisable password goes through every path that can see one; it
//! must never come out in a log record, an error message or a debug dump.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::*;

use std::ptr::{null, null_mut};

use kafka_instance::config::Config;

const PASSWORD: &str = "Zebra-Quartz-7781";
const ENCODED: &str = "Zebra%2DQuartz%2D7781";

fn assert_clean(text: &str, what: &str) {
    for secret in [PASSWORD, ENCODED, "Quartz"] {
        assert!(!text.contains(secret), "{what} leaks the password: {text}");
    }
}

#[test]
fn no_path_leaks_the_password() {
    capture_logs();
    let errors = std::cell::RefCell::new(Vec::new());
    let record = |e: &KafkaError| errors.borrow_mut().push(e.message_str());
    unsafe {
        let cfg = kafka_config_new();
        let mut e = err();
        kafka_config_set_sasl_plain_password(cfg, c(PASSWORD).as_ptr(), &mut e);
        record(&e);
        for key in [
            "sasl.password",
            "sasl_plain_password",
            "ssl_password",
            "ssl.key.password",
        ] {
            kafka_config_set(cfg, c(key).as_ptr(), c(PASSWORD).as_ptr(), &mut e);
            record(&e);
        }
        // Valid and malformed URLs carrying it, plain and percent-encoded.
        for url in [
            format!("kafka://app:{PASSWORD}@h:9092"),
            format!("kafka+sasl_ssl://app:{ENCODED}@h:9093"),
            format!("kafka://app:{PASSWORD}@h:0"),
            format!("kafka://app:{PASSWORD}@h:1/path"),
            format!("kafka://app:{PASSWORD}%G1@h:1"),
            format!("kafka://app:{PASSWORD}@"),
            format!("kafka://app:{PASSWORD}@bad host:1"),
            format!("kafka://:{PASSWORD}@h:1"),
            format!("ftp://app:{PASSWORD}@h:1"),
            format!("app:{PASSWORD}@h:1?x"),
        ] {
            let other = kafka_config_new();
            kafka_config_set_kafka_url(other, c(&url).as_ptr(), &mut e);
            record(&e);
            kafka_config_set_kafka_url(cfg, c(&url).as_ptr(), &mut e);
            record(&e);
            let inst = kafka_instance_new(other, &mut e);
            record(&e);
            kafka_instance_free(inst);
            kafka_config_free(other);
        }
        // A password where a non-secret belongs is still never echoed once
        // the library has seen it as a password.
        kafka_config_set(
            cfg,
            c("sasl_mechanism").as_ptr(),
            c(PASSWORD).as_ptr(),
            &mut e,
        );
        record(&e);
        kafka_config_set(cfg, c("linger_ms").as_ptr(), c(PASSWORD).as_ptr(), &mut e);
        record(&e);
        // Reading the settings back: masked.
        for key in [
            "kafka_url",
            "sasl_plain_password",
            "sasl.password",
            "ssl_password",
        ] {
            let mut buf = [0 as std::ffi::c_char; 256];
            kafka_config_get(
                cfg,
                c(key).as_ptr(),
                buf.as_mut_ptr(),
                buf.len(),
                null_mut(),
                &mut e,
            );
            record(&e);
            errors.borrow_mut().push(s(buf.as_ptr()));
        }
        // Instances and admin calls with the password configured, against
        // a broker that is not there.
        kafka_config_set_kafka_url(
            cfg,
            c(&format!("kafka://app:{PASSWORD}@127.0.0.1:1")).as_ptr(),
            &mut e,
        );
        let inst = kafka_instance_new(cfg, &mut e);
        record(&e);
        kafka_instance_create_topic(inst, c("t").as_ptr(), 1, 1, 500, &mut e);
        record(&e);
        // A producer with every librdkafka debug context on, whose
        // connection and sends fail.
        let debug = config(&[("debug", "all")]);
        let p = kafka_instance_get_producer(inst, debug, &mut e);
        record(&e);
        assert!(!p.is_null(), "{}", e.message_str());
        kafka_producer_send_json_sync(
            p,
            c("t").as_ptr(),
            null(),
            c("{}").as_ptr(),
            1500,
            null_mut(),
            &mut e,
        );
        record(&e);
        kafka_producer_close(p, 100, &mut e);
        record(&e);
        kafka_config_free(debug);
        // A producer whose overrides carry the password in a bad place.
        let o = config(&[("sasl_plain_password", PASSWORD)]);
        kafka_config_set(o, c("group_id").as_ptr(), c(PASSWORD).as_ptr(), &mut e);
        let p = kafka_instance_get_producer(inst, o, &mut e);
        record(&e);
        assert!(p.is_null());
        kafka_config_free(o);
        kafka_instance_free(inst);
        kafka_config_free(cfg);
    }
    // The safe layer's Debug output.
    let mut cfg = Config::new();
    cfg.set("sasl_plain_password", PASSWORD).unwrap();
    cfg.set("kafka_url", &format!("kafka://u:{ENCODED}@h:1"))
        .unwrap();
    let mut errors = errors.into_inner();
    errors.push(format!("{cfg:?}"));

    assert!(errors.iter().any(|m| !m.is_empty()), "some paths failed");
    for m in &errors {
        assert_clean(m, "an error message");
    }
    let logs = logged();
    assert!(logs.len() > 5, "failures were logged");
    for r in logs {
        assert_clean(&r.text(), "a log record");
    }
}
