//! `KafkaConfig`: the configuration builder.

use std::ffi::c_char;

use crate::config::Config;
use crate::error::{Error, ErrorKind};
use crate::ffi::error::{KafkaError, KafkaErrorCode};
use crate::ffi::{
    arg_str, arg_strs, call, call_infallible, copy_out, free_handle, handle, handle_mut, here,
    into_handle, Handle, Site,
};

/// A set of settings. Not thread-safe: use one from one thread at a time,
/// or clone it. Create with `kafka_config_new`, release with
/// `kafka_config_free`.
pub struct KafkaConfig {
    pub(crate) inner: Config,
}

impl Handle for KafkaConfig {}

const SUBJECT: &str = "Kafka Config";

/// A new, empty config. NULL only if memory ran out.
#[no_mangle]
pub extern "C" fn kafka_config_new() -> *mut KafkaConfig {
    call_infallible(here!(SUBJECT), || {
        into_handle(KafkaConfig {
            inner: Config::new(),
        })
    })
}

/// A deep copy of `cfg` (secrets included), or NULL when `cfg` is NULL.
/// Free it with `kafka_config_free`.
#[no_mangle]
pub unsafe extern "C" fn kafka_config_clone(cfg: *const KafkaConfig) -> *mut KafkaConfig {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: cfg is NULL or a live KafkaConfig (module contract).
        match unsafe { handle(cfg, "cfg") } {
            Ok(c) => into_handle(KafkaConfig {
                inner: c.inner.clone(),
            }),
            Err(_) => std::ptr::null_mut(),
        }
    })
}

/// Releases `cfg`. NULL is a no-op. Instances made from it are unaffected
/// (they hold their own copy).
#[no_mangle]
pub unsafe extern "C" fn kafka_config_free(cfg: *mut KafkaConfig) {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: cfg is NULL or came from this library (module contract).
        unsafe { free_handle(cfg) }
    })
}

/// Sets `key` to the string argument `value` (named `value_name` in
/// errors): the shared body of the named setters.
unsafe fn set_named(
    where_: Site,
    cfg: *mut KafkaConfig,
    key: &'static str,
    value: *const c_char,
    value_name: &str,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(where_, err, || {
        // SAFETY: module contract.
        let cfg = unsafe { handle_mut(cfg, "cfg") }?;
        // SAFETY: module contract.
        let value = unsafe { arg_str(value, value_name) }?;
        cfg.inner.set(key, value)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Sets the connection URL: `kafka://user:password@host1:9092,host2:9092`.
///
/// - Schemes: `kafka://` (plaintext, or SASL_PLAINTEXT with credentials),
///   `kafka+ssl://` (SSL, or SASL_SSL with credentials),
///   `kafka+sasl_ssl://`, `kafka+sasl_plaintext://`, `kafka+plaintext://`;
///   or no scheme: `host:port,host:port`.
/// - Credentials are percent-decoded and become the SASL user name and
///   password (SASL mechanism PLAIN unless one is set).
/// - The URL wins over `kafka_config_set_bootstrap_servers` and over the
///   username, password and security protocol for what it states.
///
/// A malformed URL fails with `KAFKA_ERR_CONFIG`; the message never quotes
/// the password.
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set_kafka_url(
    cfg: *mut KafkaConfig,
    url: *const c_char,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    let at = here!(SUBJECT);
    // SAFETY: module contract.
    unsafe { set_named(at, cfg, "kafka_url", url, "url", err) }
}

/// Sets the bootstrap servers from an array of `count` `"host:port"`
/// strings. An empty list, a NULL entry or invalid UTF-8 is
/// `KAFKA_ERR_INVALID_ARGUMENT` (as for every C array argument); a
/// malformed address is `KAFKA_ERR_CONFIG`.
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set_bootstrap_servers(
    cfg: *mut KafkaConfig,
    servers: *const *const c_char,
    count: usize,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: module contract.
        let cfg = unsafe { handle_mut(cfg, "cfg") }?;
        // SAFETY: module contract: servers points to count strings.
        let names = unsafe { arg_strs(servers, count, "servers", "count") }?;
        cfg.inner.set_bootstrap_servers(&names)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// `PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or `SASL_SSL` (any case).
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set_security_protocol(
    cfg: *mut KafkaConfig,
    protocol: *const c_char,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    let at = here!(SUBJECT);
    // SAFETY: module contract.
    unsafe { set_named(at, cfg, "security_protocol", protocol, "protocol", err) }
}

/// `PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512`, `GSSAPI` (only in builds with
/// the `gssapi` feature) or `OAUTHBEARER` (any case).
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set_sasl_mechanism(
    cfg: *mut KafkaConfig,
    mechanism: *const c_char,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    let at = here!(SUBJECT);
    // SAFETY: module contract.
    unsafe { set_named(at, cfg, "sasl_mechanism", mechanism, "mechanism", err) }
}

/// The SASL user name.
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set_sasl_plain_username(
    cfg: *mut KafkaConfig,
    username: *const c_char,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    let at = here!(SUBJECT);
    // SAFETY: module contract.
    unsafe { set_named(at, cfg, "sasl_plain_username", username, "username", err) }
}

/// The SASL password. It never appears in a log record, an error message
/// or a debug dump.
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set_sasl_plain_password(
    cfg: *mut KafkaConfig,
    password: *const c_char,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    let at = here!(SUBJECT);
    // SAFETY: module contract.
    unsafe { set_named(at, cfg, "sasl_plain_password", password, "password", err) }
}

/// The client id brokers see in their logs and metrics.
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set_client_id(
    cfg: *mut KafkaConfig,
    client_id: *const c_char,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    let at = here!(SUBJECT);
    // SAFETY: module contract.
    unsafe { set_named(at, cfg, "client_id", client_id, "client_id", err) }
}

/// The consumer group id (required for consumers).
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set_group_id(
    cfg: *mut KafkaConfig,
    group_id: *const c_char,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    let at = here!(SUBJECT);
    // SAFETY: module contract.
    unsafe { set_named(at, cfg, "group_id", group_id, "group_id", err) }
}

/// Where a consumer group with no committed offset starts: `earliest`,
/// `latest` (the default) or `none` (fail instead).
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set_auto_offset_reset(
    cfg: *mut KafkaConfig,
    reset: *const c_char,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    let at = here!(SUBJECT);
    // SAFETY: module contract.
    unsafe { set_named(at, cfg, "auto_offset_reset", reset, "reset", err) }
}

/// Whether consumers commit offsets automatically (default true).
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set_enable_auto_commit(
    cfg: *mut KafkaConfig,
    enable: bool,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: module contract.
        let cfg = unsafe { handle_mut(cfg, "cfg") }?;
        cfg.inner
            .set("enable_auto_commit", if enable { "true" } else { "false" })?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Sets any setting by any of its names: a librdkafka property
/// (`"linger.ms"`), a kafka-python keyword (`"linger_ms"`,
/// `"compression_type"`, `"max_poll_records"`, ...) or the name of a
/// setter above (`"sasl_plain_username"`). The README lists every alias.
///
/// Unknown keys and values that librdkafka or this library refuse fail
/// here, with `KAFKA_ERR_CONFIG` and a message naming the key.
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set(
    cfg: *mut KafkaConfig,
    key: *const c_char,
    value: *const c_char,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: module contract.
        let cfg = unsafe { handle_mut(cfg, "cfg") }?;
        // SAFETY: module contract.
        let key = unsafe { arg_str(key, "key") }?;
        // SAFETY: module contract.
        let value = unsafe { arg_str(value, "value") }?;
        cfg.inner.set(key, value)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Reads a setting: copies the value of `key` (looked up
/// under the name it was set with, its canonical name or any alias) into
/// `buf`, NUL-terminated.
///
/// `*len` (when `len` is not NULL) receives the value's length without the
/// NUL, even when `buf` is too small; then the result is
/// `KAFKA_ERR_BUFFER_TOO_SMALL` and `buf` holds nothing. Pass `buf` NULL and
/// `buf_len` 0 to ask for the length. A setting that is not set gives
/// `KAFKA_ERR_NOT_FOUND`. These two answers are logged at debug level, not
/// as errors: they are how the function is meant to be used.
///
/// The answer is what a client will use: once a kafka_url is set, it wins
/// over the settings it implies, so `bootstrap.servers` reads as the URL's
/// hosts, `sasl_plain_username` as its user, `security_protocol` as what
/// its scheme and credentials select.
///
/// Secrets are write-only: a password reads back as `***`, and a
/// kafka_url as the URL with its password shown as `***`.
#[no_mangle]
pub unsafe extern "C" fn kafka_config_get(
    cfg: *const KafkaConfig,
    key: *const c_char,
    buf: *mut c_char,
    buf_len: usize,
    len: *mut usize,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: module contract.
        let cfg = unsafe { handle(cfg, "cfg") }?;
        // SAFETY: module contract.
        let key = unsafe { arg_str(key, "key") }?;
        let value = cfg
            .inner
            .get(key)
            .ok_or_else(|| Error::new(ErrorKind::NotFound, format!("{key:?} is not set")))?;
        // SAFETY: buf and len per the function's contract.
        unsafe { copy_out(&value, &format!("the value of {key:?}"), buf, buf_len, len) }?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// What an OAUTHBEARER token callback fills in. The strings are the
/// callback's, read (and copied) once it returns: static text or buffers
/// it keeps until its next call will do.
#[repr(C)]
pub struct KafkaOAuthToken {
    /// The token (a JWT, for most brokers).
    pub token: *const std::ffi::c_char,
    /// The principal the token is for.
    pub principal: *const std::ffi::c_char,
    /// When the token expires, in milliseconds since the Unix epoch.
    pub lifetime_ms: i64,
    /// When the callback returns non-zero: why there is no token (NULL:
    /// no reason given).
    pub error: *const std::ffi::c_char,
}

/// Fills `token` (every field starts NULL or 0) and returns 0, or returns
/// non-zero with `token->error` saying why no token could be had.
/// `oauthbearer_config` is the `sasl_oauthbearer_config` setting (NULL when
/// unset). Called on a thread of the library, once when a client starts
/// and again before each token expires (after 80% of its lifetime), and
/// 10 s after a failure; no poll is needed for it. It must not close or
/// free the client it serves.
pub type KafkaOAuthTokenCallback = Option<
    unsafe extern "C" fn(
        oauthbearer_config: *const std::ffi::c_char,
        token: *mut KafkaOAuthToken,
        opaque: *mut std::ffi::c_void,
    ) -> std::ffi::c_int,
>;

/// Makes every client created from `cfg` (an instance's config or a
/// client's overrides) get its SASL/OAUTHBEARER tokens from `cb`, given
/// `opaque` (`cb` NULL: librdkafka's own ways again, e.g.
/// `enable_sasl_oauthbearer_unsecure_jwt`). Use it with
/// `security_protocol` SASL_SSL or SASL_PLAINTEXT and `sasl_mechanism`
/// OAUTHBEARER. A failure of the callback, or a token librdkafka refuses
/// (empty, expired), is logged at error level and reported to the client
/// as an authentication failure (`KAFKA_ERR_BROKER`, `rdkafka_code` -169
/// from its calls), then retried. A token must be printable ASCII (space,
/// tab, CR and LF allowed, as RFC 7628 says); another is refused with the
/// position of the first byte that is not, never its text. A callback
/// still running when a client's close runs out of time finishes on its
/// own thread: keep what `opaque` points to valid until it has returned.
/// Tokens are never logged, nor quoted in an error message: librdkafka's own texts
/// pass the same redaction as the library's.
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set_oauthbearer_token_callback(
    cfg: *mut KafkaConfig,
    cb: KafkaOAuthTokenCallback,
    opaque: *mut std::ffi::c_void,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: module contract.
        let cfg = unsafe { handle_mut(cfg, "cfg") }?;
        // The caller promises `opaque` may be used from library threads.
        let opaque = opaque as usize;
        let callback = cb.map(|f| {
            let ask = move |config: Option<&str>| {
                let config = config.map(|c| std::ffi::CString::new(c).unwrap_or_default());
                let mut token = KafkaOAuthToken {
                    token: std::ptr::null(),
                    principal: std::ptr::null(),
                    lifetime_ms: 0,
                    error: std::ptr::null(),
                };
                let config_ptr = config.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
                // SAFETY: the caller's callback, given a token of ours to
                // fill; what it points to is read before anything else runs.
                let rc = unsafe { f(config_ptr, &mut token, opaque as *mut std::ffi::c_void) };
                let text = |p: *const std::ffi::c_char| {
                    // SAFETY: NULL or a NUL-terminated string of the callback.
                    (!p.is_null()).then(|| {
                        unsafe { std::ffi::CStr::from_ptr(p) }
                            .to_string_lossy()
                            .into_owned()
                    })
                };
                if rc != 0 {
                    let why = text(token.error).unwrap_or_else(|| "no reason given".into());
                    return Err(format!("the token callback failed ({rc}): {why}"));
                }
                Ok(crate::oauth::OAuthToken {
                    token: text(token.token).ok_or("the token callback gave no token")?,
                    lifetime_ms: token.lifetime_ms,
                    principal: text(token.principal).unwrap_or_default(),
                })
            };
            std::sync::Arc::new(ask) as crate::oauth::OAuthCallback
        });
        cfg.inner.set_oauthbearer_token_callback(callback);
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}
