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
    let _serial = serial();
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

/// What every secret below starts with: a quote of any part of one that
/// holds this much is a leak.
const MARK: &str = "Qv9Sekr";

/// A secret setting, its value, and the settings that make librdkafka
/// use it.
type Secret = (
    &'static str,
    String,
    &'static [(&'static str, &'static str)],
);

/// Each secret setting, with a value librdkafka refuses or chokes on,
/// through client creation and a send with every debug context on: its
/// own texts (refusals, debug lines, errors) pass the same redaction as
/// the library's.
#[test]
fn librdkafka_texts_never_carry_a_secret_setting() {
    let _serial = serial();
    capture_logs_at(KafkaLogLevel::KAFKA_LOG_DEBUG as i32);
    let broker = embedded();
    let secrets: [Secret; 9] = [
        (
            "sasl.password",
            format!("{MARK}-1-pw"),
            &[("sasl_mechanism", "PLAIN")],
        ),
        ("ssl.key.password", format!("{MARK}-2-kp"), &[]),
        ("ssl.keystore.password", format!("{MARK}-3-ks"), &[]),
        (
            "ssl.key.pem",
            format!("-----BEGIN PRIVATE KEY-----\n{MARK}4notakey\n-----END PRIVATE KEY-----\n"),
            &[],
        ),
        (
            "sasl.oauthbearer.config",
            format!("principal=alice lifeSeconds={MARK}5 scope={MARK}5b"),
            &[
                ("sasl_mechanism", "OAUTHBEARER"),
                ("enable.sasl.oauthbearer.unsecure.jwt", "true"),
            ],
        ),
        (
            "sasl.oauthbearer.client.secret",
            format!("{MARK}-6-cs"),
            &[("sasl_mechanism", "OAUTHBEARER")],
        ),
        (
            "sasl.oauthbearer.assertion.private.key.passphrase",
            format!("{MARK}-7-pp"),
            &[("sasl_mechanism", "OAUTHBEARER")],
        ),
        (
            "sasl.oauthbearer.assertion.private.key.pem",
            format!("-----BEGIN PRIVATE KEY-----\n{MARK}8x\n-----END PRIVATE KEY-----"),
            &[("sasl_mechanism", "OAUTHBEARER")],
        ),
        (
            "kafka_url",
            format!("kafka://app:{MARK}-9@127.0.0.1:1"),
            &[],
        ),
    ];
    let mut texts = Vec::new();
    for (key, value, extra) in &secrets {
        let mut settings = vec![
            ("bootstrap_servers", broker.bootstrap.as_str()),
            ("security_protocol", "SASL_SSL"),
            ("debug", "all"),
        ];
        if *key == "kafka_url" {
            settings.retain(|(k, _)| *k != "bootstrap_servers" && *k != "security_protocol");
        }
        settings.extend_from_slice(extra);
        let cfg = config(&settings);
        let mut e = err();
        unsafe { kafka_config_set(cfg, c(key).as_ptr(), c(value).as_ptr(), &mut e) };
        texts.push(format!("{key}: set: {}", e.message_str()));
        let inst = unsafe { kafka_instance_new(cfg, &mut e) };
        texts.push(format!("{key}: instance: {}", e.message_str()));
        unsafe { kafka_config_free(cfg) };
        if inst.is_null() {
            continue;
        }
        let p = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
        texts.push(format!("{key}: producer: {}", e.message_str()));
        if !p.is_null() {
            unsafe {
                kafka_producer_send_json_sync(
                    p,
                    c("t").as_ptr(),
                    null(),
                    c("{}").as_ptr(),
                    1000,
                    null_mut(),
                    &mut e,
                );
                texts.push(format!("{key}: send: {}", e.message_str()));
                kafka_producer_close(p, 100, &mut e);
                texts.push(format!("{key}: close: {}", e.message_str()));
            }
        }
        unsafe { kafka_instance_free(inst) };
    }
    let logs = logged();
    assert!(
        logs.iter().any(|r| r.subject == "librdkafka"),
        "librdkafka's own lines were seen"
    );
    for t in texts
        .iter()
        .chain(logs.iter().map(|r| r.text()).collect::<Vec<_>>().iter())
    {
        assert!(!t.contains(MARK), "a secret (or part of one) leaks: {t}");
    }
}

const TOKEN_MARK: &str = "SeCrEtToKeN";

unsafe extern "C" fn refused_token(
    _: *const std::ffi::c_char,
    token: *mut KafkaOAuthToken,
    opaque: *mut std::ffi::c_void,
) -> std::ffi::c_int {
    // A control character, or bytes that are not UTF-8: librdkafka refuses
    // both, quoting the token.
    static BELL: &[u8] = b"SeCrEtToKeN8\x07\0";
    static NOT_UTF8: &[u8] = b"SeCrEtToKeN9\xff\xfe\0";
    let bytes = if opaque.is_null() { BELL } else { NOT_UTF8 };
    unsafe {
        (*token).token = bytes.as_ptr().cast();
        (*token).principal = c"alice".as_ptr();
        (*token).lifetime_ms = i64::MAX / 2;
    }
    0
}

/// A token librdkafka refuses: the failure says why, and neither it nor
/// the log quotes the token.
#[test]
fn a_refused_token_never_reaches_an_error_message_or_the_log() {
    let _serial = serial();
    capture_logs_at(KafkaLogLevel::KAFKA_LOG_DEBUG as i32);
    let broker = embedded();
    let mut texts = Vec::new();
    for opaque in [0usize, 1] {
        let cfg = config(&[
            ("bootstrap_servers", &broker.bootstrap),
            ("security_protocol", "SASL_PLAINTEXT"),
            ("sasl_mechanism", "OAUTHBEARER"),
            ("debug", "security,broker"),
        ]);
        let mut e = err();
        let rc = unsafe {
            kafka_config_set_oauthbearer_token_callback(
                cfg,
                Some(refused_token),
                opaque as *mut std::ffi::c_void,
                &mut e,
            )
        };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        let inst = unsafe { kafka_instance_new(cfg, &mut e) };
        assert!(!inst.is_null(), "{}", e.message_str());
        unsafe { kafka_config_free(cfg) };
        let p = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
        assert!(!p.is_null(), "{}", e.message_str());
        let rc = unsafe {
            kafka_producer_send_json_sync(
                p,
                c("t").as_ptr(),
                null(),
                c("{}").as_ptr(),
                3000,
                null_mut(),
                &mut e,
            )
        };
        assert_ne!(rc, KAFKA_OK, "no broker takes this token");
        texts.push(e.message_str());
        unsafe { kafka_producer_close(p, 100, &mut e) };
        texts.push(e.message_str());
        unsafe { kafka_instance_free(inst) };
    }
    let logs = logged();
    let said_why = logs
        .iter()
        .any(|r| r.message.contains("no OAUTHBEARER token") && r.message.contains("printable"));
    assert!(said_why, "the log says why the token was refused");
    for t in texts
        .iter()
        .chain(logs.iter().map(|r| r.text()).collect::<Vec<_>>().iter())
    {
        assert!(!t.contains(TOKEN_MARK), "the token leaks: {t}");
    }
}
