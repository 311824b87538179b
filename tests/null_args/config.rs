//! NULL cases of the configuration, error, log, statistics and version
//! functions.

use super::*;

type StrSetter =
    unsafe extern "C" fn(*mut KafkaConfig, *const c_char, *mut KafkaError) -> KafkaErrorCode;

fn string_setter(f: StrSetter, value: &str) {
    let cfg = kafka_config_new();
    let v = c(value);
    let mut e = err();
    unsafe {
        invalid(f(null_mut(), v.as_ptr(), &mut e), &e, "cfg");
        invalid(f(cfg, null(), &mut e), &e, "value");
        // err NULL: still a clean failure.
        assert_eq!(f(cfg, null(), null_mut()), KAFKA_ERR_INVALID_ARGUMENT);
        kafka_config_free(cfg);
    }
}

/// The case of a `kafka_config_set_*` string setter.
macro_rules! setter {
    ($v:ident, $name:ident, $value:expr) => {
        case!($v, $name, || string_setter($name, $value))
    };
}

pub(crate) fn config_cases(v: &mut Vec<Case>) {
    case!(v, kafka_config_new, || unsafe {
        kafka_config_free(kafka_config_new())
    });
    case!(v, kafka_config_clone, || assert!(unsafe {
        kafka_config_clone(null())
    }
    .is_null()));
    case!(v, kafka_config_free, || unsafe {
        kafka_config_free(null_mut())
    });
    setter!(v, kafka_config_set_kafka_url, "kafka://h:1");
    setter!(v, kafka_config_set_security_protocol, "SSL");
    setter!(v, kafka_config_set_sasl_mechanism, "PLAIN");
    setter!(v, kafka_config_set_sasl_plain_username, "u");
    setter!(v, kafka_config_set_sasl_plain_password, "p");
    setter!(v, kafka_config_set_client_id, "c");
    setter!(v, kafka_config_set_group_id, "g");
    setter!(v, kafka_config_set_auto_offset_reset, "earliest");
    case!(v, kafka_config_set_bootstrap_servers, || unsafe {
        let cfg = kafka_config_new();
        let h = c("h:1");
        let list = [h.as_ptr()];
        let mut e = err();
        invalid(
            kafka_config_set_bootstrap_servers(null_mut(), list.as_ptr(), 1, &mut e),
            &e,
            "cfg",
        );
        invalid(
            kafka_config_set_bootstrap_servers(cfg, null(), 1, &mut e),
            &e,
            "servers",
        );
        let holes = [null()];
        invalid(
            kafka_config_set_bootstrap_servers(cfg, holes.as_ptr(), 1, &mut e),
            &e,
            "servers[0]",
        );
        kafka_config_free(cfg);
    });
    case!(v, kafka_config_set_enable_auto_commit, || unsafe {
        let mut e = err();
        invalid(
            kafka_config_set_enable_auto_commit(null_mut(), true, &mut e),
            &e,
            "cfg",
        );
    });
    case!(v, kafka_config_set, || unsafe {
        let cfg = kafka_config_new();
        let (k, val) = (c("client_id"), c("x"));
        let mut e = err();
        invalid(
            kafka_config_set(null_mut(), k.as_ptr(), val.as_ptr(), &mut e),
            &e,
            "cfg",
        );
        invalid(
            kafka_config_set(cfg, null(), val.as_ptr(), &mut e),
            &e,
            "key",
        );
        invalid(
            kafka_config_set(cfg, k.as_ptr(), null(), &mut e),
            &e,
            "value",
        );
        kafka_config_free(cfg);
    });
    case!(v, kafka_config_get, || unsafe {
        let cfg = config(&[("client_id", "x")]);
        let k = c("client_id");
        let mut buf = [0 as c_char; 8];
        let mut len = 0usize;
        let mut e = err();
        invalid(
            kafka_config_get(null(), k.as_ptr(), buf.as_mut_ptr(), 8, &mut len, &mut e),
            &e,
            "cfg",
        );
        invalid(
            kafka_config_get(cfg, null(), buf.as_mut_ptr(), 8, &mut len, &mut e),
            &e,
            "key",
        );
        // NULL len is allowed; NULL buf with length 0 is a size query.
        assert_eq!(
            kafka_config_get(cfg, k.as_ptr(), buf.as_mut_ptr(), 8, null_mut(), &mut e),
            KAFKA_OK
        );
        assert_eq!(
            kafka_config_get(cfg, k.as_ptr(), null_mut(), 0, &mut len, &mut e),
            KAFKA_ERR_BUFFER_TOO_SMALL
        );
        assert_eq!(
            kafka_config_get(cfg, k.as_ptr(), null_mut(), 8, &mut len, &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        kafka_config_free(cfg);
    });
}

pub(crate) fn error_cases(v: &mut Vec<Case>) {
    case!(v, kafka_error_code_name, || assert!(
        !kafka_error_code_name(KafkaErrorCodeArg(12345)).is_null()
    ));
}

pub(crate) fn log_cases(v: &mut Vec<Case>) {
    case!(v, kafka_set_log_callback, || {
        // NULL callback and NULL opaque: back to stderr, a no-op here.
        kafka_set_log_callback(None, null_mut(), KafkaLogLevelArg(4));
        capture_logs();
    });
}

pub(crate) fn statistics_cases(v: &mut Vec<Case>) {
    case!(v, kafka_set_statistics_callback, || unsafe {
        let mut e = err();
        let rc = kafka_set_statistics_callback(null_mut(), 1000, None, null_mut(), &mut e);
        invalid(rc, &e, "cfg");
    });
    case!(v, kafka_statistics_summary, || unsafe {
        let (mut out, mut e) = (null_mut(), err());
        let rc = kafka_statistics_summary(null(), 3, &mut out, &mut e);
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT, "{}", e.message_str());
        let j = c("{}");
        invalid(
            kafka_statistics_summary(j.as_ptr(), 2, null_mut(), &mut e),
            &e,
            "out",
        );
    });
    case!(v, kafka_statistics_summary_get, || assert!(unsafe {
        kafka_statistics_summary_get(null())
    }
    .is_null()));
    case!(v, kafka_statistics_summary_free, || unsafe {
        kafka_statistics_summary_free(null_mut())
    });
}

pub(crate) fn version_cases(v: &mut Vec<Case>) {
    case!(v, kafka_instance_version, || assert!(
        !kafka_instance_version().is_null()
    ));
    case!(v, kafka_instance_librdkafka_version, || assert!(
        !kafka_instance_librdkafka_version().is_null()
    ));
}
