//! Property-based tests through the C ABI: tens of thousands of random and
//! mutated inputs. No panic escapes (it would surface as
//! KAFKA_ERR_INTERNAL), and round trips hold.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::*;

use proptest::prelude::*;

use kafka_instance::settings::{aliases, is_secret};

const CASES: u32 = 10_000;
/// Cases that register a new secret each: every later message is checked
/// against all of them, so these stay fewer.
const SECRET_CASES: u32 = 2_000;

fn set_url(cfg: *mut KafkaConfig, url: &str) -> (KafkaErrorCode, String) {
    let url = std::ffi::CString::new(url).unwrap();
    let mut e = err();
    let rc = unsafe { kafka_config_set_kafka_url(cfg, url.as_ptr(), &mut e) };
    (rc, e.message_str())
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: SECRET_CASES, ..ProptestConfig::default() })]

    /// Any text as a URL: accepted or refused with KAFKA_ERR_CONFIG, and a
    /// refusal never quotes what stood between ':' and '@'.
    #[test]
    fn any_url_is_accepted_or_refused_cleanly(
        scheme in prop::sample::select(vec!["", "kafka://", "kafka+ssl://", "kafka+sasl_ssl://", "http://", "kafka:/"]),
        user in "[a-z]{0,5}",
        secret in "[A-Za-z0-9%@:/?#]{3,12}",
        hosts in "[a-z0-9.:,\\[\\] -]{0,30}",
    ) {
        let url = format!("{scheme}{user}:SECRET{secret}SECRET@{hosts}");
        let cfg = kafka_config_new();
        let (rc, msg) = set_url(cfg, &url);
        prop_assert!(rc == KAFKA_OK || rc == KAFKA_ERR_CONFIG, "{rc:?} for {url}");
        prop_assert!(!msg.contains("SECRET"), "{msg}");
        unsafe { kafka_config_free(cfg) };
    }

    /// Random text as a URL never panics. (Without '@', so it registers no
    /// credentials: those are masked everywhere and would blur the
    /// messages other cases check.)
    #[test]
    fn random_text_as_url_never_panics(text in "[^@\\x00]{0,64}") {
        let cfg = kafka_config_new();
        let (rc, _) = set_url(cfg, &text);
        prop_assert!(rc == KAFKA_OK || rc == KAFKA_ERR_CONFIG);
        unsafe { kafka_config_free(cfg) };
    }

    /// Well-formed URLs round-trip: hosts become the servers and the
    /// percent-decoded credentials come out as given.
    #[test]
    fn valid_urls_round_trip(
        user in "\\PC{1,12}",
        // Secrets are masked everywhere, so keep them distinct from the
        // setting names other cases check messages for.
        password in "PW-\\PC{1,16}",
        hosts in prop::collection::vec(("[a-z][a-z0-9-]{0,10}", 1u16..), 1..4),
    ) {
        let list: Vec<String> = hosts.iter().map(|(h, p)| format!("{h}:{p}")).collect();
        let url = format!("kafka+sasl_ssl://{}:{}@{}", percent_encode(&user), percent_encode(&password), list.join(","));
        let mut cfg = kafka_instance::config::Config::new();
        cfg.set("kafka_url", &url).unwrap();
        let resolved = kafka_instance::instance::Instance::new(&cfg).unwrap().resolved().clone();
        let joined = list.join(",");
        prop_assert_eq!(resolved.get("bootstrap.servers"), Some(joined.as_str()));
        prop_assert_eq!(resolved.get("sasl.username"), Some(user.as_str()));
        prop_assert_eq!(resolved.get("sasl.password"), Some(password.as_str()));
        prop_assert_eq!(resolved.get("security.protocol"), Some("sasl_ssl"));
    }

}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    /// Any key and value: OK or KAFKA_ERR_CONFIG; what was accepted reads
    /// back (secrets masked).
    #[test]
    fn any_setting_is_accepted_or_refused_cleanly(
        // Secret settings (write-only, masked) are covered by tests/secrets.rs:
        // a random value given to one is masked in every later message of
        // this process (an unknown key that happened to contain it read
        // "unknown setting ***").
        key in prop_oneof![
            prop::sample::select(
                aliases().filter(|a| !is_secret(a.1) && !a.0.contains("url")).map(|a| a.0).collect::<Vec<_>>()
            ).prop_map(str::to_owned),
            "[a-z._]{1,20}",
        ],
        value in prop_oneof!["-?[0-9]{1,7}", "true|false|all|earliest|none|PLAIN|SASL_SSL|gzip", "\\PC{0,20}"],
    ) {
        let cfg = kafka_config_new();
        let (k, v) = (std::ffi::CString::new(key.clone()).unwrap(), std::ffi::CString::new(value.clone()).unwrap());
        let mut e = err();
        let rc = unsafe { kafka_config_set(cfg, k.as_ptr(), v.as_ptr(), &mut e) };
        prop_assert!(rc == KAFKA_OK || rc == KAFKA_ERR_CONFIG, "{rc:?}: {key}={value}: {}", e.message_str());
        if rc == KAFKA_OK {
            let mut len = 0usize;
            let rc = unsafe { kafka_config_get(cfg, k.as_ptr(), std::ptr::null_mut(), 0, &mut len, &mut e) };
            prop_assert_eq!(rc, KAFKA_ERR_BUFFER_TOO_SMALL, "{}={} reads back", key, value);
        } else {
            // The key is named, unless a secret another case of this
            // process registered (a URL's password) overlaps it: then it is
            // masked, as every text that leaves the library is.
            let quoted = format!("\"{}\"", key.trim());
            let masked = kafka_instance::secrets::redact(&quoted) != quoted;
            prop_assert!(e.message_str().contains(key.trim()) || key.trim().is_empty() || masked, "{}", e.message_str());
        }
        unsafe { kafka_config_free(cfg) };
    }
}

/// A JSON value of bounded depth.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        (-1e12f64..1e12).prop_map(|f| serde_json::json!(f)),
        "\\PC{0,10}".prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map("\\PC{0,6}", inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    /// Serialized JSON is accepted; a mutated text is accepted exactly when
    /// a full JSON parser accepts it.
    #[test]
    fn json_checks_agree_with_a_full_parse(
        value in json_value(),
        cut in any::<prop::sample::Index>(),
        insert in prop::sample::select(vec!["", "{", "}", ",", "\"", "x", " ", "]", ":", "\\\\"]),
        pretty in any::<bool>(),
    ) {
        let text = if pretty { serde_json::to_string_pretty(&value).unwrap() } else { value.to_string() };
        prop_assert!(kafka_instance::json::validate(&text).is_ok(), "{text}");
        let mut at = cut.index(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let mutated = format!("{}{insert}{}", &text[..at], &text[at..]);
        let ours = kafka_instance::json::validate(&mutated).is_ok();
        let full = serde_json::from_str::<serde_json::Value>(&mutated).is_ok();
        prop_assert_eq!(ours, full, "{}", mutated);
    }
}
