//! KafkaConfig through the C ABI: setters, aliases, get, URL forms, checks.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::*;

use std::ffi::c_char;

use kafka_instance::config::Config;
use kafka_instance::instance::Instance;
use kafka_instance::settings::aliases;

fn set(cfg: *mut KafkaConfig, key: &str, value: &str) -> (KafkaErrorCode, String) {
    let mut e = err();
    let rc = unsafe { kafka_config_set(cfg, c(key).as_ptr(), c(value).as_ptr(), &mut e) };
    assert_eq!(e.code, rc);
    (rc, e.message_str())
}

/// A value librdkafka accepts for each canonical setting. A new alias whose
/// canonical name is missing here fails the test: add a sample value.
fn sample(canonical: &str) -> &'static str {
    match canonical {
        "kafka.url" => "kafka://u:p@h1:9092,h2:9093",
        "bootstrap.servers" => "h1:9092,h2:9092",
        "security.protocol" => "SASL_SSL",
        "sasl.mechanism" => "SCRAM-SHA-256",
        "sasl.username" => "alice",
        "sasl.password" => "secret-value",
        "client.id" => "svc-1",
        "group.id" => "grp-1",
        "auto.offset.reset" => "earliest",
        "enable.auto.commit" => "false",
        "acks" => "all",
        "retries" => "5",
        "compression.type" => "zstd",
        "linger.ms" => "10",
        "batch.size" => "32768",
        "max.in.flight.requests.per.connection" => "1",
        "request.timeout.ms" => "20000",
        "delivery.timeout.ms" => "60000",
        "enable.idempotence" => "true",
        "transactional.id" => "tx-1",
        "message.max.bytes" => "2000000",
        "retry.backoff.ms" => "250",
        "max.poll.records" => "50",
        "default.api.timeout.ms" => "5000",
        "max.poll.interval.ms" => "120000",
        "session.timeout.ms" => "30000",
        "heartbeat.interval.ms" => "2000",
        "fetch.min.bytes" => "10",
        "fetch.wait.max.ms" => "200",
        "fetch.max.bytes" => "10000000",
        "max.partition.fetch.bytes" => "2000000",
        "auto.commit.interval.ms" => "1000",
        "isolation.level" => "read_uncommitted",
        "group.instance.id" => "member-1",
        "check.crcs" => "true",
        "zero.copy.messages" => "true",
        "allow.auto.create.topics" => "true",
        "client.rack" => "rack-a",
        "metadata.max.age.ms" => "60000",
        "reconnect.backoff.ms" => "50",
        "reconnect.backoff.max.ms" => "5000",
        "connections.max.idle.ms" => "100000",
        "socket.receive.buffer.bytes" => "65536",
        "socket.send.buffer.bytes" => "65536",
        "ssl.ca.location" => "/etc/ssl/certs/ca-certificates.crt",
        "ssl.certificate.location" => "/tmp/client.pem",
        "ssl.key.location" => "/tmp/client.key",
        "ssl.key.password" => "key-secret",
        "ssl.crl.location" => "/tmp/crl.pem",
        "ssl.cipher.suites" => "HIGH",
        "ssl.endpoint.identification.algorithm" => "https",
        "sasl.kerberos.service.name" => "kafka",
        other => panic!("no sample value for {other}: add one"),
    }
}

#[test]
fn every_alias_sets_and_gets_under_its_name_and_canonical_name() {
    for (alias, canonical, _) in aliases() {
        let cfg = kafka_config_new();
        let value = if alias == "ssl_check_hostname" {
            "true"
        } else {
            sample(canonical)
        };
        let (rc, msg) = set(cfg, alias, value);
        assert_eq!(rc, KAFKA_OK, "{alias}={value}: {msg}");
        let got = config_get(cfg, alias);
        let value = match canonical {
            // Secrets are write-only: they read back masked.
            "sasl.password" | "ssl.key.password" => "***",
            "kafka.url" => "kafka://u:***@h1:9092,h2:9093",
            _ => value,
        };
        assert!(got.eq_ignore_ascii_case(value), "{alias}: {got} != {value}");
        let canonical_value = config_get(cfg, canonical);
        if alias == "ssl_check_hostname" {
            assert_eq!(canonical_value, "https");
        } else {
            assert!(
                canonical_value.eq_ignore_ascii_case(value),
                "{alias} as {canonical}: {canonical_value}"
            );
        }
        unsafe { kafka_config_free(cfg) };
    }
}

/// The settings table of docs/configuration.md names every alias and
/// canonical name of src/settings.rs.
#[test]
fn the_readme_publishes_every_alias() {
    let page = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/configuration.md"
    ))
    .unwrap();
    for (alias, canonical, _) in aliases() {
        assert!(
            page.contains(&format!("`{alias}`")),
            "docs/configuration.md lacks alias {alias}"
        );
        assert!(
            page.contains(&format!("`{canonical}`")),
            "docs/configuration.md lacks {canonical}"
        );
    }
}

#[test]
fn unknown_keys_fail_naming_the_key() {
    let cfg = kafka_config_new();
    for key in ["no.such.setting", "lingerms", "api_version"] {
        let (rc, msg) = set(cfg, key, "1");
        assert_eq!(rc, KAFKA_ERR_CONFIG);
        assert!(msg.contains(key), "{msg}");
    }
    let (rc, _) = set(cfg, "", "1");
    assert_eq!(rc, KAFKA_ERR_CONFIG);
    unsafe { kafka_config_free(cfg) };
}

#[test]
fn values_librdkafka_refuses_fail_at_set_time_naming_the_key() {
    let cfg = kafka_config_new();
    for (key, value) in [
        ("linger_ms", "-5"),
        ("batch_size", "lots"),
        ("compression_type", "brotli"),
        ("acks", "most"),
        ("session.timeout.ms", "0"),
        ("enable_idempotence", "maybe"),
        ("ssl_check_hostname", "perhaps"),
        ("max_poll_records", "0"),
        ("max_poll_records", "-3"),
        ("bootstrap_servers", "h:notaport"),
        ("bootstrap_servers", ""),
    ] {
        let (rc, msg) = set(cfg, key, value);
        assert_eq!(rc, KAFKA_ERR_CONFIG, "{key}={value}");
        assert!(msg.contains(key), "{key}={value}: {msg}");
    }
    // Nothing refused was stored.
    let mut e = err();
    let rc = unsafe {
        kafka_config_get(
            cfg,
            c("linger_ms").as_ptr(),
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
            &mut e,
        )
    };
    assert_eq!(rc, KAFKA_ERR_NOT_FOUND);
    unsafe { kafka_config_free(cfg) };
}

#[test]
fn enumerated_values_are_checked_case_insensitively_and_normalized() {
    let cfg = kafka_config_new();
    let cases: [(
        unsafe extern "C" fn(*mut KafkaConfig, *const c_char, *mut KafkaError) -> KafkaErrorCode,
        &str,
        &str,
        &str,
    ); 9] = [
        (
            kafka_config_set_security_protocol,
            "security_protocol",
            "sasl_ssl",
            "SASL_SSL",
        ),
        (
            kafka_config_set_security_protocol,
            "security_protocol",
            "Plaintext",
            "PLAINTEXT",
        ),
        (
            kafka_config_set_security_protocol,
            "security_protocol",
            "ssl",
            "SSL",
        ),
        (
            kafka_config_set_security_protocol,
            "security_protocol",
            "SASL_PLAINTEXT",
            "SASL_PLAINTEXT",
        ),
        (
            kafka_config_set_sasl_mechanism,
            "sasl_mechanism",
            "scram-sha-512",
            "SCRAM-SHA-512",
        ),
        (
            kafka_config_set_sasl_mechanism,
            "sasl_mechanism",
            "plain",
            "PLAIN",
        ),
        (
            kafka_config_set_sasl_mechanism,
            "sasl_mechanism",
            "OAuthBearer",
            "OAUTHBEARER",
        ),
        (
            kafka_config_set_auto_offset_reset,
            "auto_offset_reset",
            "EARLIEST",
            "earliest",
        ),
        (
            kafka_config_set_auto_offset_reset,
            "auto_offset_reset",
            "None",
            "none",
        ),
    ];
    for (setter, key, value, stored) in cases {
        let mut e = err();
        assert_eq!(
            unsafe { setter(cfg, c(value).as_ptr(), &mut e) },
            KAFKA_OK,
            "{value}: {}",
            e.message_str()
        );
        assert_eq!(config_get(cfg, key), stored);
    }
    for (setter, value) in [
        (
            kafka_config_set_security_protocol as unsafe extern "C" fn(_, _, _) -> _,
            "TLS",
        ),
        (kafka_config_set_sasl_mechanism, "SCRAM-SHA-1"),
        (kafka_config_set_auto_offset_reset, "smallest"),
        (kafka_config_set_auto_offset_reset, ""),
    ] {
        let mut e = err();
        assert_eq!(
            unsafe { setter(cfg, c(value).as_ptr(), &mut e) },
            KAFKA_ERR_CONFIG,
            "{value}"
        );
        assert!(
            e.message_str().contains("expected one of"),
            "{}",
            e.message_str()
        );
    }
    unsafe { kafka_config_free(cfg) };
}

#[test]
fn gssapi_needs_the_gssapi_feature() {
    let cfg = kafka_config_new();
    let mut e = err();
    let rc = unsafe { kafka_config_set_sasl_mechanism(cfg, c("GSSAPI").as_ptr(), &mut e) };
    if cfg!(feature = "gssapi") {
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    } else {
        assert_eq!(rc, KAFKA_ERR_CONFIG);
        assert!(e.message_str().contains("gssapi"), "{}", e.message_str());
    }
    unsafe { kafka_config_free(cfg) };
}

#[test]
fn the_named_setters_store_under_their_names() {
    let cfg = kafka_config_new();
    let mut e = err();
    unsafe {
        let servers = [c("b1:9092"), c("b2:9092")];
        let ptrs: Vec<*const c_char> = servers.iter().map(|s| s.as_ptr()).collect();
        assert_eq!(
            kafka_config_set_bootstrap_servers(cfg, ptrs.as_ptr(), 2, &mut e),
            KAFKA_OK
        );
        assert_eq!(
            kafka_config_set_kafka_url(cfg, c("kafka://h:1").as_ptr(), &mut e),
            KAFKA_OK
        );
        assert_eq!(
            kafka_config_set_sasl_plain_username(cfg, c("app_user").as_ptr(), &mut e),
            KAFKA_OK
        );
        assert_eq!(
            kafka_config_set_sasl_plain_password(cfg, c("pw-123").as_ptr(), &mut e),
            KAFKA_OK
        );
        assert_eq!(
            kafka_config_set_client_id(cfg, c("payment-service").as_ptr(), &mut e),
            KAFKA_OK
        );
        assert_eq!(
            kafka_config_set_group_id(cfg, c("g1").as_ptr(), &mut e),
            KAFKA_OK
        );
        assert_eq!(
            kafka_config_set_enable_auto_commit(cfg, false, &mut e),
            KAFKA_OK
        );
    }
    // The URL wins over the servers set before it: that is what reads back.
    assert_eq!(config_get(cfg, "bootstrap_servers"), "h:1");
    assert_eq!(config_get(cfg, "bootstrap.servers"), "h:1");
    assert_eq!(config_get(cfg, "kafka_url"), "kafka://h:1");
    assert_eq!(config_get(cfg, "sasl_plain_username"), "app_user");
    assert_eq!(config_get(cfg, "sasl.username"), "app_user");
    assert_eq!(
        config_get(cfg, "sasl_plain_password"),
        "***",
        "secrets are write-only"
    );
    assert_eq!(config_get(cfg, "client_id"), "payment-service");
    assert_eq!(config_get(cfg, "client.id"), "payment-service");
    assert_eq!(config_get(cfg, "group_id"), "g1");
    assert_eq!(config_get(cfg, "enable_auto_commit"), "false");
    assert_eq!(config_get(cfg, "enable.auto.commit"), "false");
    unsafe { kafka_config_free(cfg) };
}

#[test]
fn bootstrap_server_lists_are_checked() {
    let cfg = kafka_config_new();
    let mut e = err();
    unsafe {
        assert_eq!(
            kafka_config_set_bootstrap_servers(cfg, std::ptr::null(), 0, &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert!(
            e.message_str().contains("servers is empty"),
            "{}",
            e.message_str()
        );
        let one = [c("h:1")];
        let ptrs = [one[0].as_ptr()];
        assert_eq!(
            kafka_config_set_bootstrap_servers(cfg, std::ptr::null(), 1, &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert!(e.message_str().contains("servers"));
        let with_null = [ptrs[0], std::ptr::null()];
        assert_eq!(
            kafka_config_set_bootstrap_servers(cfg, with_null.as_ptr(), 2, &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert!(
            e.message_str().contains("servers[1]"),
            "{}",
            e.message_str()
        );
        for bad in ["", "h:0", "h:65536", "h:-1", "a b:1", "[::1", "h1:1,,h2:2"] {
            let b = c(bad);
            let p = [b.as_ptr()];
            assert_eq!(
                kafka_config_set_bootstrap_servers(cfg, p.as_ptr(), 1, &mut e),
                KAFKA_ERR_CONFIG,
                "{bad:?}"
            );
        }
        for good in [
            "localhost",
            "[::1]:9092",
            "10.0.0.1:9092",
            "kafka-0.kafka.svc:9093",
        ] {
            let b = c(good);
            let p = [b.as_ptr()];
            assert_eq!(
                kafka_config_set_bootstrap_servers(cfg, p.as_ptr(), 1, &mut e),
                KAFKA_OK,
                "{good}: {}",
                e.message_str()
            );
        }
        kafka_config_free(cfg);
    }
}

#[test]
fn get_reports_lengths_and_small_buffers() {
    let cfg = config(&[("client_id", "twelve-chars")]);
    let mut e = err();
    let mut len = 0usize;
    unsafe {
        // Size query.
        let rc = kafka_config_get(
            cfg,
            c("client_id").as_ptr(),
            std::ptr::null_mut(),
            0,
            &mut len,
            &mut e,
        );
        assert_eq!(rc, KAFKA_ERR_BUFFER_TOO_SMALL);
        assert_eq!(len, 12);
        // Exactly the length without room for the NUL is too small.
        let mut buf = [b'x' as c_char; 12];
        let rc = kafka_config_get(
            cfg,
            c("client_id").as_ptr(),
            buf.as_mut_ptr(),
            12,
            &mut len,
            &mut e,
        );
        assert_eq!(rc, KAFKA_ERR_BUFFER_TOO_SMALL);
        assert_eq!(buf[0], b'x' as c_char, "nothing written on failure");
        let mut buf = [0 as c_char; 13];
        let rc = kafka_config_get(
            cfg,
            c("client_id").as_ptr(),
            buf.as_mut_ptr(),
            13,
            std::ptr::null_mut(),
            &mut e,
        );
        assert_eq!(rc, KAFKA_OK);
        assert_eq!(s(buf.as_ptr()), "twelve-chars");
        // Unset.
        let rc = kafka_config_get(
            cfg,
            c("group_id").as_ptr(),
            buf.as_mut_ptr(),
            13,
            &mut len,
            &mut e,
        );
        assert_eq!(rc, KAFKA_ERR_NOT_FOUND);
        // buf NULL with a length is a caller bug.
        let rc = kafka_config_get(
            cfg,
            c("client_id").as_ptr(),
            std::ptr::null_mut(),
            5,
            &mut len,
            &mut e,
        );
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
        kafka_config_free(cfg);
    }
}

#[test]
fn clone_is_deep_and_null_tolerant() {
    let cfg = config(&[("client_id", "a")]);
    let copy = unsafe { kafka_config_clone(cfg) };
    assert!(!copy.is_null());
    let (rc, _) = set(cfg, "client_id", "b");
    assert_eq!(rc, KAFKA_OK);
    assert_eq!(config_get(copy, "client_id"), "a");
    assert_eq!(config_get(cfg, "client_id"), "b");
    assert!(unsafe { kafka_config_clone(std::ptr::null()) }.is_null());
    unsafe {
        kafka_config_free(cfg);
        kafka_config_free(copy);
        kafka_config_free(std::ptr::null_mut());
    }
}

#[test]
fn invalid_utf8_is_refused_naming_the_argument() {
    let cfg = kafka_config_new();
    let bad = std::ffi::CString::new(vec![b'a', 0xff, b'b']).unwrap();
    let mut e = err();
    unsafe {
        assert_eq!(
            kafka_config_set(cfg, bad.as_ptr(), c("1").as_ptr(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert!(
            e.message_str().contains("key is not valid UTF-8"),
            "{}",
            e.message_str()
        );
        assert_eq!(
            kafka_config_set(cfg, c("client_id").as_ptr(), bad.as_ptr(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert!(e.message_str().contains("value is not valid UTF-8"));
        assert_eq!(
            kafka_config_set_kafka_url(cfg, bad.as_ptr(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert!(e.message_str().contains("url"));
        kafka_config_free(cfg);
    }
}

#[test]
fn err_may_be_null_and_is_reset_on_success() {
    let cfg = kafka_config_new();
    unsafe {
        assert_eq!(
            kafka_config_set(
                cfg,
                c("nope").as_ptr(),
                c("1").as_ptr(),
                std::ptr::null_mut()
            ),
            KAFKA_ERR_CONFIG
        );
        let mut e = err();
        kafka_config_set(cfg, c("nope").as_ptr(), c("1").as_ptr(), &mut e);
        assert_eq!(e.code, KAFKA_ERR_CONFIG);
        assert!(!e.message_str().is_empty());
        assert_eq!(
            kafka_config_set(cfg, c("linger_ms").as_ptr(), c("1").as_ptr(), &mut e),
            KAFKA_OK
        );
        assert_eq!(e.code, KAFKA_OK);
        assert_eq!(e.message_str(), "");
        kafka_config_free(cfg);
    }
}

/// What `kafka_config_get` answers is what a client will use: a kafka_url
/// wins over the settings it implies, so they read as the URL gives them
/// (the password still masked).
#[test]
fn settings_a_url_implies_read_as_the_url_gives_them() {
    let cfg = config(&[
        ("bootstrap_servers", "old:9092"),
        ("sasl_plain_username", "old"),
    ]);
    let mut e = err();
    let url = c("kafka://app%40corp:pw@h1:9092,h2:9093");
    let rc = unsafe { kafka_config_set_kafka_url(cfg, url.as_ptr(), &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    assert_eq!(config_get(cfg, "bootstrap.servers"), "h1:9092,h2:9093");
    assert_eq!(config_get(cfg, "bootstrap_servers"), "h1:9092,h2:9093");
    assert_eq!(config_get(cfg, "sasl_plain_username"), "app@corp");
    assert_eq!(config_get(cfg, "sasl.password"), "***");
    assert_eq!(config_get(cfg, "security_protocol"), "SASL_PLAINTEXT");
    assert_eq!(
        config_get(cfg, "kafka_url"),
        "kafka://app%40corp:***@h1:9092,h2:9093"
    );
    unsafe { kafka_config_free(cfg) };
}

// kafka_config_set_kafka_url: what a URL resolves to.

/// The settings an instance resolves `settings` to (safe API: the C API has
/// no reason to expose resolved settings).
fn resolved(settings: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut cfg = Config::new();
    for (k, v) in settings {
        cfg.set(k, v).unwrap_or_else(|e| panic!("{k}: {e}"));
    }
    let mut out = Instance::new(&cfg).unwrap().resolved().rdkafka.clone();
    out.sort();
    out
}

fn value<'a>(r: &'a [(String, String)], key: &str) -> Option<&'a str> {
    r.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

#[test]
fn url_hosts_become_the_bootstrap_servers_and_the_url_wins() {
    let r = resolved(&[
        ("bootstrap_servers", "other:1"),
        ("kafka_url", "kafka://b1:9092,b2:9093"),
    ]);
    assert_eq!(value(&r, "bootstrap.servers"), Some("b1:9092,b2:9093"));
    assert_eq!(
        value(&r, "security.protocol"),
        None,
        "kafka:// without credentials states no protocol"
    );
    // Order of setting does not matter.
    let r = resolved(&[("kafka_url", "b1:9092"), ("bootstrap_servers", "other:1")]);
    assert_eq!(value(&r, "bootstrap.servers"), Some("b1:9092"));
}

#[test]
fn url_credentials_are_decoded_and_imply_sasl_plain() {
    let r = resolved(&[
        ("sasl_plain_username", "ignored"),
        ("sasl_plain_password", "ignored-pw"),
        ("kafka_url", "kafka://app%20user:p%40ss%3Aw%2Fd@b1:9092"),
    ]);
    assert_eq!(value(&r, "sasl.username"), Some("app user"));
    assert_eq!(value(&r, "sasl.password"), Some("p@ss:w/d"));
    assert_eq!(value(&r, "security.protocol"), Some("sasl_plaintext"));
    assert_eq!(value(&r, "sasl.mechanism"), Some("PLAIN"));
}

#[test]
fn secure_schemes_select_the_protocol() {
    for (url, protocol) in [
        ("kafka+ssl://b:9093", "ssl"),
        ("kafkas://b:9093", "ssl"),
        ("kafka+ssl://u:p@b:9093", "sasl_ssl"),
        ("kafka+sasl_ssl://u:p@b:9093", "sasl_ssl"),
        ("kafka+sasl_plaintext://u:p@b:9092", "sasl_plaintext"),
        ("kafka://u:p@b:9092", "sasl_plaintext"),
        ("kafka+plaintext://b:9092", "plaintext"),
    ] {
        let r = resolved(&[("security_protocol", "PLAINTEXT"), ("kafka_url", url)]);
        assert_eq!(value(&r, "security.protocol"), Some(protocol), "{url}");
    }
}

#[test]
fn an_explicit_mechanism_is_kept_with_url_credentials() {
    let r = resolved(&[
        ("sasl_mechanism", "SCRAM-SHA-512"),
        ("kafka_url", "kafka+ssl://u:p@b:9093"),
    ]);
    assert_eq!(value(&r, "sasl.mechanism"), Some("SCRAM-SHA-512"));
    assert_eq!(value(&r, "security.protocol"), Some("sasl_ssl"));
}

#[test]
fn without_a_url_the_named_settings_are_used() {
    let r = resolved(&[
        ("bootstrap_servers", "prod-broker1:9093,prod-broker2:9093"),
        ("security_protocol", "SASL_SSL"),
        ("sasl_mechanism", "SCRAM-SHA-256"),
        ("sasl_plain_username", "app_user"),
        ("sasl_plain_password", "secure_password"),
        ("client_id", "payment-service"),
    ]);
    assert_eq!(
        value(&r, "bootstrap.servers"),
        Some("prod-broker1:9093,prod-broker2:9093")
    );
    assert_eq!(value(&r, "security.protocol"), Some("sasl_ssl"));
    assert_eq!(value(&r, "sasl.mechanism"), Some("SCRAM-SHA-256"));
    assert_eq!(value(&r, "sasl.username"), Some("app_user"));
    assert_eq!(value(&r, "client.id"), Some("payment-service"));
    // Our own settings never reach librdkafka; auto_offset_reset=none is
    // librdkafka's "error".
    let r = resolved(&[
        ("bootstrap_servers", "h:1"),
        ("max_poll_records", "10"),
        ("auto_offset_reset", "none"),
    ]);
    assert_eq!(value(&r, "max.poll.records"), None);
    assert_eq!(value(&r, "auto.offset.reset"), Some("error"));
}

#[test]
fn malformed_urls_fail_at_set_time() {
    let cfg = kafka_config_new();
    for bad in [
        "",
        "   ",
        "http://h:1",
        "kafka://",
        "kafka://h:1/topic",
        "kafka://h:1?acks=all",
        "kafka://h:abc",
        "kafka://u:p%4@h:1",
        "kafka://:p@h:1",
        "kafka://h1:1,,h2:1",
        "not a url at all",
    ] {
        let mut e = err();
        let rc = unsafe { kafka_config_set_kafka_url(cfg, c(bad).as_ptr(), &mut e) };
        assert_eq!(rc, KAFKA_ERR_CONFIG, "{bad:?}");
        assert!(!e.message_str().is_empty());
    }
    unsafe { kafka_config_free(cfg) };
}
