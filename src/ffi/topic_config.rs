//! `KafkaTopicConfig`: a topic's settings as the broker reports them,
//! returned by `kafka_instance_describe_topic_config`; with
//! `kafka_instance_alter_topic_config`, which changes them.

use std::ffi::{c_char, CString};

use crate::admin::TopicSetting;
use crate::ffi::error::{KafkaError, KafkaErrorCode};
use crate::ffi::instance::KafkaInstance;
use crate::ffi::{
    arg_slice, arg_str, arg_timeout, call, call_infallible, free_handle, handle, here, into_handle,
    opt_handle, out_slot, Handle,
};

/// One setting of a `KafkaTopicConfig`; its strings live as long as it.
#[repr(C)]
pub struct KafkaConfigEntry {
    pub name: *const c_char,
    /// NULL for a sensitive setting (never shown) or one without a value.
    pub value: *const c_char,
    /// Set on the topic itself, rather than inherited from the broker's
    /// settings or defaults.
    pub set_on_topic: bool,
    pub is_default: bool,
    pub is_read_only: bool,
    pub is_sensitive: bool,
}

/// A topic's settings, sorted by name. Free it with
/// `kafka_topic_config_free`.
pub struct KafkaTopicConfig {
    entries: Vec<KafkaConfigEntry>,
    /// What the entries point into (heap storage that never moves).
    _strings: Vec<CString>,
}

impl Handle for KafkaTopicConfig {}

const SUBJECT: &str = "Kafka Topic Config";

impl KafkaTopicConfig {
    fn of(settings: Vec<TopicSetting>) -> *mut KafkaTopicConfig {
        let mut strings = Vec::new();
        let mut keep = |text: &str| {
            let c = CString::new(text.replace('\0', "")).unwrap_or_default();
            let p = c.as_ptr();
            strings.push(c);
            p
        };
        let entries = settings
            .iter()
            .map(|s| KafkaConfigEntry {
                name: keep(&s.name),
                value: s.value.as_deref().map_or(std::ptr::null(), &mut keep),
                set_on_topic: s.set_on_topic,
                is_default: s.is_default,
                is_read_only: s.is_read_only,
                is_sensitive: s.is_sensitive,
            })
            .collect();
        into_handle(KafkaTopicConfig {
            entries,
            _strings: strings,
        })
    }
}

/// Gives every setting of `topic` as the broker reports it (its own and the
/// ones it inherits).
///
/// @param inst       The instance.
/// @param topic      The topic, NUL-terminated.
/// @param timeout_ms How long to wait for the broker (-1: no limit).
/// @param out        Receives the settings; free them with
///                   `kafka_topic_config_free`. NULL until the call succeeds.
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`inst`, `topic` or `out` NULL, invalid UTF-8, a bad timeout),
///         `KAFKA_ERR_TIMEOUT`, `KAFKA_ERR_BROKER`.
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_describe_topic_config(
    inst: *const KafkaInstance,
    topic: *const c_char,
    timeout_ms: i32,
    out: *mut *mut KafkaTopicConfig,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY (all three): `out` is NULL or writable, `inst` NULL or a live instance, `topic`
        // NULL or NUL-terminated (the header's contract); each helper refuses NULL.
        let slot = unsafe { out_slot(out, "out") }?;
        let inst = unsafe { handle(inst, "inst") }?;
        let topic = unsafe { arg_str(topic, "topic") }?;
        let admin = inst.inner.admin()?;
        *slot = KafkaTopicConfig::of(admin.topic_config(topic, arg_timeout(timeout_ms)?)?);
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Sets `keys[i]` to `values[i]` on `topic`, for `count` settings, keeping
/// the topic's other settings.
///
/// Only the settings named are sent (IncrementalAlterConfigs, Kafka 2.3
/// and later). A broker older than that replaces a topic's whole set at
/// once: the settings set on the topic are read and sent again with these
/// changes (a change someone else makes in between is lost).
///
/// @param inst       The instance.
/// @param topic      The topic, NUL-terminated.
/// @param keys       `count` setting names, NUL-terminated.
/// @param values     `count` values, NUL-terminated; `values[i]` NULL: back
///                   to the inherited value.
/// @param count      How many settings.
/// @param timeout_ms How long to wait for the broker (-1: no limit).
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_BROKER` (a setting
///         the broker does not know, or a value it refuses, fails the whole
///         call, with the broker's words in the message, and changes
///         nothing; with a broker older than 2.3, a topic with a sensitive
///         setting of its own, whose value no broker shows, is refused with
///         librdkafka code -165 rather than losing it),
///         `KAFKA_ERR_INVALID_ARGUMENT` (`inst`, `topic` or a key NULL, an
///         array NULL with `count` not 0, invalid UTF-8, a bad timeout),
///         `KAFKA_ERR_TIMEOUT`.
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_alter_topic_config(
    inst: *const KafkaInstance,
    topic: *const c_char,
    keys: *const *const c_char,
    values: *const *const c_char,
    count: usize,
    timeout_ms: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY (all below): `inst` is NULL or a live instance, `topic` NULL or a C string,
        // `keys` and `values` NULL or `count` pointers to C strings or NULL (the header).
        let inst = unsafe { handle(inst, "inst") }?;
        let topic = unsafe { arg_str(topic, "topic") }?;
        let keys = unsafe { arg_slice(keys, count, "keys") }?;
        let values = unsafe { arg_slice(values, count, "values") }?;
        let mut changes = Vec::with_capacity(count);
        for (k, v) in keys.iter().zip(values) {
            let key = unsafe { arg_str(*k, "keys[i]") }?;
            let value = match v.is_null() {
                true => None,
                false => Some(unsafe { arg_str(*v, "values[i]") }?),
            };
            changes.push((key, value));
        }
        let admin = inst.inner.admin()?;
        admin.alter_topic_config(topic, &changes, arg_timeout(timeout_ms)?)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Counts the settings `config` holds.
///
/// @param config The settings, or NULL.
/// @return The count; 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_topic_config_count(config: *const KafkaTopicConfig) -> usize {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: `config` is NULL or a live `KafkaTopicConfig`, not yet freed (the header's
        // contract); `opt_handle` maps NULL to `None`.
        unsafe { opt_handle(config) }.map_or(0, |c| c.entries.len())
    })
}

/// Gives setting `index`.
///
/// @param config The settings, or NULL.
/// @param index  The setting's position, from 0.
/// @return The setting, owned by `config`; NULL when out of range or
///         `config` is NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_topic_config_get(
    config: *const KafkaTopicConfig,
    index: usize,
) -> *const KafkaConfigEntry {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: `config` is NULL or a live `KafkaTopicConfig`; the entry returned lives in it,
        // as the header says, until `kafka_topic_config_free`.
        unsafe { opt_handle(config) }
            .and_then(|c| c.entries.get(index))
            .map_or(std::ptr::null(), |e| e as *const KafkaConfigEntry)
    })
}

/// Gives the value of the setting `name`.
///
/// @param config The settings, or NULL.
/// @param name   The setting's name (e.g. `"retention.ms"`), NUL-terminated.
/// @return The value, owned by `config`; NULL when `config` has no such
///         setting, the setting has no value or is sensitive, or an argument
///         is NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_topic_config_value(
    config: *const KafkaTopicConfig,
    name: *const c_char,
) -> *const c_char {
    call_infallible(here!(SUBJECT), || {
        // SAFETY (both): `config` is NULL or a live `KafkaTopicConfig`, `name` NULL or a C string
        // kept for the call (the header's contract); NULL gives NULL.
        let Some(config) = (unsafe { opt_handle(config) }) else {
            return std::ptr::null();
        };
        let Ok(name) = (unsafe { arg_str(name, "name") }) else {
            return std::ptr::null();
        };
        config
            .entries
            .iter()
            // SAFETY: names are NUL-terminated strings of `config`.
            .find(|e| unsafe { std::ffi::CStr::from_ptr(e.name) }.to_bytes() == name.as_bytes())
            .map_or(std::ptr::null(), |e| e.value)
    })
}

/// Releases `config`.
///
/// @param config The settings to release; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn kafka_topic_config_free(config: *mut KafkaTopicConfig) {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: NULL or from kafka_instance_describe_topic_config.
        unsafe { free_handle(config) }
    })
}
