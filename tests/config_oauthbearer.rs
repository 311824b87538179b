//! SASL/OAUTHBEARER: kafka_config_set_oauthbearer_token_callback. The
//! library asks the callback for a token when a client starts and before
//! each expires, on its own thread (no poll), and reports a failed
//! callback as an authentication error of the client. No broker here
//! accepts OAUTHBEARER (the embedded broker has no SASL, tansu 0.6 offers
//! SCRAM only), so a successful login is not shown (said where a person
//! sees it); the token's way into librdkafka is (it refuses an expired
//! one).

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::producer::*;
use common::*;

use std::ffi::{c_char, c_int, c_void, CString};
use std::ptr::{null, null_mut};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Per test (its opaque): when each call came, and on which thread.
static CALLS: Mutex<Vec<(usize, Instant, String)>> = Mutex::new(Vec::new());
const LIFETIME_MS: i64 = 2000;
const SECRET: &str = "eyJhbGciOiJub25lIn0.secret-token-value.";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

unsafe extern "C" fn short_lived(
    config: *const c_char,
    token: *mut KafkaOAuthToken,
    opaque: *mut c_void,
) -> c_int {
    let name = std::thread::current().name().unwrap_or("").to_owned();
    CALLS
        .lock()
        .unwrap()
        .push((opaque as usize, Instant::now(), name));
    // The config string comes through.
    assert!(!config.is_null());
    static TOKEN: std::sync::OnceLock<CString> = std::sync::OnceLock::new();
    let t = TOKEN.get_or_init(|| CString::new(SECRET).unwrap());
    unsafe {
        (*token).token = t.as_ptr();
        (*token).principal = c"alice".as_ptr();
        (*token).lifetime_ms = now_ms() + LIFETIME_MS;
    }
    0
}

unsafe extern "C" fn failing(
    _config: *const c_char,
    token: *mut KafkaOAuthToken,
    opaque: *mut c_void,
) -> c_int {
    CALLS
        .lock()
        .unwrap()
        .push((opaque as usize, Instant::now(), String::new()));
    unsafe { (*token).error = c"the vault is sealed".as_ptr() };
    7
}

unsafe extern "C" fn expired(
    _config: *const c_char,
    token: *mut KafkaOAuthToken,
    opaque: *mut c_void,
) -> c_int {
    CALLS
        .lock()
        .unwrap()
        .push((opaque as usize, Instant::now(), String::new()));
    unsafe {
        (*token).token = c"t".as_ptr();
        (*token).principal = c"alice".as_ptr();
        (*token).lifetime_ms = now_ms() - 60_000;
    }
    0
}

fn calls(opaque: usize) -> Vec<(Instant, String)> {
    CALLS
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.0 == opaque)
        .map(|c| (c.1, c.2.clone()))
        .collect()
}

type TokenCallback =
    unsafe extern "C" fn(*const c_char, *mut KafkaOAuthToken, *mut c_void) -> c_int;

fn oauth_instance(broker: &Broker, cb: TokenCallback, opaque: usize) -> *mut KafkaInstance {
    let cfg = config(&[
        ("bootstrap_servers", &broker.bootstrap),
        ("security_protocol", "SASL_PLAINTEXT"),
        ("sasl_mechanism", "OAUTHBEARER"),
        ("sasl.oauthbearer.config", "scope=test"),
        ("group_id", &unique_topic("g")),
    ]);
    let mut e = err();
    let rc = unsafe {
        kafka_config_set_oauthbearer_token_callback(cfg, Some(cb), opaque as *mut c_void, &mut e)
    };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    let inst = unsafe { kafka_instance_new(cfg, &mut e) };
    assert!(!inst.is_null(), "{}", e.message_str());
    unsafe { kafka_config_free(cfg) };
    inst
}

/// Tokens of 2 s: a producer and a consumer nobody polls each ask at once
/// and again before expiry (after 80%: about 1.6 s), on the library's
/// thread; the token never appears in a log record; closing stops it.
#[test]
fn kafka_config_set_oauthbearer_token_callback_refreshes_without_a_poll() {
    capture_logs();
    let broker = &embedded();
    not_run_note();
    let inst = oauth_instance(broker, short_lived, 1);
    let p = producer(inst, &[]);
    let t = c("t");
    let cons =
        unsafe { kafka_instance_get_consumer(inst, [t.as_ptr()].as_ptr(), 1, null(), &mut err()) };
    assert!(!cons.is_null());
    std::thread::sleep(Duration::from_millis(3700));
    let got = calls(1);
    // Two clients, each at start, ~1.6 s and ~3.2 s: at least a refresh
    // each, with room for a slow machine.
    assert!(got.len() >= 4, "{} calls in 3.7 s: {got:?}", got.len());
    assert!(got.iter().all(|c| c.1 == "kafka-oauth"), "{got:?}");
    unsafe { kafka_producer_close(p, 1000, &mut err()) };
    unsafe { kafka_consumer_close(cons, &mut err()) };
    unsafe { kafka_instance_free(inst) };
    let after = calls(1).len();
    std::thread::sleep(Duration::from_millis(2000));
    assert_eq!(calls(1).len(), after, "asked after its clients were closed");
    for r in logged() {
        assert!(!r.text().contains("secret-token-value"), "token in {r:?}");
    }
}

/// A callback that fails, or a token librdkafka refuses (expired): the
/// client's calls report an authentication failure with the reason, an
/// error record says so, and it is asked again later.
#[test]
fn a_failing_token_callback_is_an_authentication_error_of_the_client() {
    capture_logs();
    let broker = &embedded();
    for (cb, opaque, says) in [
        (failing as TokenCallback, 2, "the vault is sealed"),
        (expired as TokenCallback, 3, "expired"),
    ] {
        clear_logged();
        let inst = oauth_instance(broker, cb, opaque);
        let p = producer(inst, &[]);
        let (t, v) = (c("t"), c("{}"));
        let mut e = err();
        let start = Instant::now();
        let rc = unsafe {
            kafka_producer_send_json_sync(
                p,
                t.as_ptr(),
                null(),
                v.as_ptr(),
                5000,
                null_mut(),
                &mut e,
            )
        };
        assert_eq!(rc, KAFKA_ERR_BROKER, "{says}: {}", e.message_str());
        assert_eq!(e.rdkafka_code, -169, "{says}: {}", e.message_str());
        assert!(e.message_str().contains(says), "{}", e.message_str());
        assert!(start.elapsed() < Duration::from_millis(5000) + Duration::from_secs(2));
        let records = logged();
        assert!(
            records
                .iter()
                .any(|r| r.log_type == "error" && r.message.contains(says)),
            "{says}: {records:#?}"
        );
        assert!(!calls(opaque).is_empty());
        unsafe {
            kafka_producer_close(p, 1000, &mut err());
            kafka_instance_free(inst);
        }
    }
}

/// librdkafka's unsecured-JWT path (no callback): the client is made and
/// fails cleanly within its timeout here, where no broker takes it.
#[test]
fn the_unsecured_jwt_path_makes_a_client_that_fails_cleanly_here() {
    capture_logs();
    let broker = &embedded();
    not_run_note();
    let inst = instance_from(&[
        ("bootstrap_servers", &broker.bootstrap),
        ("security_protocol", "SASL_PLAINTEXT"),
        ("sasl_mechanism", "OAUTHBEARER"),
        ("enable.sasl.oauthbearer.unsecure.jwt", "true"),
        ("sasl.oauthbearer.config", "principal=alice"),
    ]);
    let p = producer(inst, &[]);
    let (t, v) = (c("t"), c("{}"));
    let mut e = err();
    let start = Instant::now();
    let rc = unsafe {
        kafka_producer_send_json_sync(p, t.as_ptr(), null(), v.as_ptr(), 3000, null_mut(), &mut e)
    };
    assert_ne!(rc, KAFKA_OK);
    assert!(
        start.elapsed() < Duration::from_secs(6),
        "{:?}",
        start.elapsed()
    );
    unsafe {
        kafka_producer_close(p, 1000, &mut err());
        kafka_instance_free(inst);
    }
    // Bad arguments.
    let rc = unsafe {
        kafka_config_set_oauthbearer_token_callback(null_mut(), None, null_mut(), &mut e)
    };
    assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
}

/// Says that no login with a token is shown here, and why.
fn not_run_note() {
    broker_cannot(
        "config_oauthbearer::login",
        "no broker here accepts SASL/OAUTHBEARER (the embedded broker has no SASL; tansu 0.6 offers SCRAM only)",
    );
}
