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

/// Creates a new, empty config.
///
/// @return The new config (release it with `kafka_config_free`); NULL only
///         if memory ran out.
#[no_mangle]
pub extern "C" fn kafka_config_new() -> *mut KafkaConfig {
    call_infallible(here!(SUBJECT), || {
        into_handle(KafkaConfig {
            inner: Config::new(),
        })
    })
}

/// Makes a deep copy of `cfg`, secrets included.
///
/// @param cfg The config to copy, or NULL.
/// @return The copy (free it with `kafka_config_free`), or NULL when `cfg`
///         is NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_config_clone(cfg: *const KafkaConfig) -> *mut KafkaConfig {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: `cfg` is NULL or a live config not being changed by another thread (the header:
        // a `KafkaConfig` is used by one thread at a time); NULL gives NULL.
        match unsafe { handle(cfg, "cfg") } {
            Ok(c) => into_handle(KafkaConfig {
                inner: c.inner.clone(),
            }),
            Err(_) => std::ptr::null_mut(),
        }
    })
}

/// Releases `cfg`.
///
/// Instances made from it are unaffected (they hold their own copy).
///
/// @param cfg The config to release; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn kafka_config_free(cfg: *mut KafkaConfig) {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: `cfg` is NULL or from `kafka_config_new`/`_clone`, freed once and not used after
        // (the header's contract for `kafka_config_free`); NULL is a no-op.
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
        // SAFETY: `cfg` is NULL or a live config that no other thread uses during the call (the
        // header's contract); `handle_mut` refuses NULL.
        let cfg = unsafe { handle_mut(cfg, "cfg") }?;
        // SAFETY: `value` is the setter's string argument: NULL or NUL-terminated (the header's
        // contract); `arg_str` refuses NULL and invalid UTF-8.
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
/// @param cfg The config to change.
/// @param url The URL, NUL-terminated.
/// @param err NULL, or where a failure is described (`KAFKA_OK` on success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`cfg` or `url` NULL, invalid UTF-8), `KAFKA_ERR_CONFIG` (a
///         malformed URL; the message never quotes the password).
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set_kafka_url(
    cfg: *mut KafkaConfig,
    url: *const c_char,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    let at = here!(SUBJECT);
    // SAFETY: `cfg` and `url` are as `set_named` requires, by this function's contract in the
    // header (a live config or NULL; NULL or a C string).
    unsafe { set_named(at, cfg, "kafka_url", url, "url", err) }
}

/// Sets the bootstrap servers from an array of `count` `"host:port"`
/// strings.
///
/// @param cfg     The config to change.
/// @param servers `count` NUL-terminated `"host:port"` strings.
/// @param count   How many strings `servers` holds (1 or more).
/// @param err     NULL, or where a failure is described (`KAFKA_OK` on
///                success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`cfg` NULL, an empty list, a NULL entry or invalid UTF-8, as for
///         every C array argument), `KAFKA_ERR_CONFIG` (a malformed address).
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set_bootstrap_servers(
    cfg: *mut KafkaConfig,
    servers: *const *const c_char,
    count: usize,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `cfg` is NULL or a live config no other thread uses until the servers are set
        // (the header: one thread at a time); `handle_mut` refuses NULL.
        let cfg = unsafe { handle_mut(cfg, "cfg") }?;
        // SAFETY: `servers` is NULL or points to `count` pointers, each NULL or a C string (the
        // header's contract); `arg_strs` refuses NULL, 0 and NULL entries.
        let names = unsafe { arg_strs(servers, count, "servers", "count") }?;
        cfg.inner.set_bootstrap_servers(&names)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Sets the security protocol.
///
/// @param cfg      The config to change.
/// @param protocol `PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or `SASL_SSL` (any
///                 case), NUL-terminated.
/// @param err      NULL, or where a failure is described (`KAFKA_OK` on
///                 success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`cfg` or `protocol` NULL, invalid UTF-8), `KAFKA_ERR_CONFIG` (a
///         value that is none of these).
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set_security_protocol(
    cfg: *mut KafkaConfig,
    protocol: *const c_char,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    let at = here!(SUBJECT);
    // SAFETY: `cfg` and `protocol` are as `set_named` requires, by this function's contract in
    // the header (a live config or NULL; NULL or a C string).
    unsafe { set_named(at, cfg, "security_protocol", protocol, "protocol", err) }
}

/// Sets the SASL mechanism.
///
/// @param cfg       The config to change.
/// @param mechanism `PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512`, `GSSAPI` (only
///                  in builds with the `gssapi` feature) or `OAUTHBEARER` (any
///                  case), NUL-terminated.
/// @param err       NULL, or where a failure is described (`KAFKA_OK` on
///                  success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`cfg` or `mechanism` NULL, invalid UTF-8), `KAFKA_ERR_CONFIG` (a
///         value that is none of these).
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set_sasl_mechanism(
    cfg: *mut KafkaConfig,
    mechanism: *const c_char,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    let at = here!(SUBJECT);
    // SAFETY: `cfg` and `mechanism` are as `set_named` requires, by this function's contract in
    // the header (a live config or NULL; NULL or a C string).
    unsafe { set_named(at, cfg, "sasl_mechanism", mechanism, "mechanism", err) }
}

/// Sets the SASL user name.
///
/// @param cfg      The config to change.
/// @param username The SASL user name, NUL-terminated.
/// @param err      NULL, or where a failure is described (`KAFKA_OK` on
///                 success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`cfg` or `username` NULL, invalid UTF-8), `KAFKA_ERR_CONFIG` (a
///         value refused).
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set_sasl_plain_username(
    cfg: *mut KafkaConfig,
    username: *const c_char,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    let at = here!(SUBJECT);
    // SAFETY: `cfg` and `username` are as `set_named` requires, by this function's contract in
    // the header (a live config or NULL; NULL or a C string).
    unsafe { set_named(at, cfg, "sasl_plain_username", username, "username", err) }
}

/// Sets the SASL password.
///
/// It never appears in a log record, an error message or a debug dump.
///
/// @param cfg      The config to change.
/// @param password The SASL password, NUL-terminated.
/// @param err      NULL, or where a failure is described (`KAFKA_OK` on
///                 success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`cfg` or `password` NULL, invalid UTF-8), `KAFKA_ERR_CONFIG` (a
///         value refused).
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set_sasl_plain_password(
    cfg: *mut KafkaConfig,
    password: *const c_char,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    let at = here!(SUBJECT);
    // SAFETY: `cfg` and `password` are as `set_named` requires, by this function's contract in
    // the header (a live config or NULL; NULL or a C string).
    unsafe { set_named(at, cfg, "sasl_plain_password", password, "password", err) }
}

/// Sets the client id brokers see in their logs and metrics.
///
/// @param cfg       The config to change.
/// @param client_id The client id, NUL-terminated.
/// @param err       NULL, or where a failure is described (`KAFKA_OK` on
///                  success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`cfg` or `client_id` NULL, invalid UTF-8), `KAFKA_ERR_CONFIG` (a
///         value refused).
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set_client_id(
    cfg: *mut KafkaConfig,
    client_id: *const c_char,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    let at = here!(SUBJECT);
    // SAFETY: `cfg` and `client_id` are as `set_named` requires, by this function's contract in
    // the header (a live config or NULL; NULL or a C string).
    unsafe { set_named(at, cfg, "client_id", client_id, "client_id", err) }
}

/// Sets the consumer group id (required for consumers).
///
/// @param cfg      The config to change.
/// @param group_id The group id, NUL-terminated.
/// @param err      NULL, or where a failure is described (`KAFKA_OK` on
///                 success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`cfg` or `group_id` NULL, invalid UTF-8), `KAFKA_ERR_CONFIG` (a
///         value refused).
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set_group_id(
    cfg: *mut KafkaConfig,
    group_id: *const c_char,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    let at = here!(SUBJECT);
    // SAFETY: `cfg` and `group_id` are as `set_named` requires, by this function's contract in
    // the header (a live config or NULL; NULL or a C string).
    unsafe { set_named(at, cfg, "group_id", group_id, "group_id", err) }
}

/// Sets where a consumer group with no committed offset starts.
///
/// @param cfg   The config to change.
/// @param reset `earliest`, `latest` (the default) or `none` (fail instead),
///              NUL-terminated.
/// @param err   NULL, or where a failure is described (`KAFKA_OK` on
///              success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`cfg` or `reset` NULL, invalid UTF-8), `KAFKA_ERR_CONFIG` (a
///         value that is none of these).
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set_auto_offset_reset(
    cfg: *mut KafkaConfig,
    reset: *const c_char,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    let at = here!(SUBJECT);
    // SAFETY: `cfg` and `reset` are as `set_named` requires, by this function's contract in the
    // header (a live config or NULL; NULL or a C string).
    unsafe { set_named(at, cfg, "auto_offset_reset", reset, "reset", err) }
}

/// Sets whether consumers commit offsets automatically (default true).
///
/// @param cfg    The config to change.
/// @param enable true to commit automatically, false not to.
/// @param err    NULL, or where a failure is described (`KAFKA_OK` on
///               success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`cfg` NULL).
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set_enable_auto_commit(
    cfg: *mut KafkaConfig,
    enable: bool,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `cfg` is NULL or a live config no other thread uses until the flag is set (the
        // header: one thread at a time); `handle_mut` refuses NULL.
        let cfg = unsafe { handle_mut(cfg, "cfg") }?;
        cfg.inner
            .set("enable_auto_commit", if enable { "true" } else { "false" })?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Sets any setting by any of its names.
///
/// The README lists every alias.
///
/// @param cfg   The config to change.
/// @param key   The setting's name, NUL-terminated: a librdkafka property
///              (`"linger.ms"`), a kafka-python keyword (`"linger_ms"`,
///              `"compression_type"`, `"max_poll_records"`, ...) or the name
///              of a setter above (`"sasl_plain_username"`).
/// @param value The value, NUL-terminated.
/// @param err   NULL, or where a failure is described (`KAFKA_OK` on
///              success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`cfg`, `key` or `value` NULL, invalid UTF-8), `KAFKA_ERR_CONFIG`
///         (unknown keys and values that librdkafka or this library refuse
///         fail here, with a message naming the key).
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set(
    cfg: *mut KafkaConfig,
    key: *const c_char,
    value: *const c_char,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `cfg` is NULL or a live config no other thread uses until the setting is set
        // (the header: one thread at a time); `handle_mut` refuses NULL.
        let cfg = unsafe { handle_mut(cfg, "cfg") }?;
        // SAFETY: `key` is NULL or a NUL-terminated string the caller keeps for the call;
        // `arg_str` refuses NULL and invalid UTF-8.
        let key = unsafe { arg_str(key, "key") }?;
        // SAFETY: `value` is NULL or a NUL-terminated string the caller keeps for the call;
        // `arg_str` refuses NULL and invalid UTF-8.
        let value = unsafe { arg_str(value, "value") }?;
        cfg.inner.set(key, value)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Reads a setting: copies the value of `key` into `buf`, NUL-terminated.
///
/// The answer is what a client will use: once a kafka_url is set, it wins
/// over the settings it implies, so `bootstrap.servers` reads as the URL's
/// hosts, `sasl_plain_username` as its user, `security_protocol` as what
/// its scheme and credentials select.
///
/// Secrets are write-only: a password reads back as `***`, and a
/// kafka_url as the URL with its password shown as `***`.
///
/// @param cfg     The config to read.
/// @param key     The setting's name, NUL-terminated: looked up under the
///                name it was set with, its canonical name or any alias.
/// @param buf     Where the value is written, NUL-terminated; NULL (with
///                `buf_len` 0) to ask for the length only.
/// @param buf_len The size of `buf` in bytes.
/// @param len     NULL, or receives the value's length without the NUL, even
///                when `buf` is too small.
/// @param err     NULL, or where a failure is described (`KAFKA_OK` on
///                success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_BUFFER_TOO_SMALL`
///         (`buf` holds nothing; `*len` says what is needed),
///         `KAFKA_ERR_NOT_FOUND` (the setting is not set),
///         `KAFKA_ERR_INVALID_ARGUMENT` (`cfg` or `key` NULL, invalid UTF-8,
///         `buf` NULL with `buf_len` not 0). The first two answers are logged
///         at debug level, not as errors: they are how the function is meant
///         to be used.
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
        // SAFETY: `cfg` is NULL or a live config no thread changes during the call (the header's
        // contract); `handle` refuses NULL.
        let cfg = unsafe { handle(cfg, "cfg") }?;
        // SAFETY: `key` is NULL or a NUL-terminated string the caller keeps for the call;
        // `arg_str` refuses NULL and invalid UTF-8.
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

/// Supplies an OAUTHBEARER token: fills `token` and returns 0, or returns
/// non-zero with `token->error` saying why no token could be had.
///
/// Called on a thread of the library, once when a client starts and again
/// before each token expires (after 80% of its lifetime), and 10 s after a
/// failure; no poll is needed for it. It must not close or free the client
/// it serves.
///
/// @param oauthbearer_config The `sasl_oauthbearer_config` setting (NULL
///                           when unset).
/// @param token              What to fill: every field starts NULL or 0.
/// @param opaque             The `opaque` given to
///                           `kafka_config_set_oauthbearer_token_callback`.
/// @return 0 when `token` is filled; non-zero when there is no token (with
///         `token->error` saying why).
pub type KafkaOAuthTokenCallback = Option<
    unsafe extern "C" fn(
        oauthbearer_config: *const std::ffi::c_char,
        token: *mut KafkaOAuthToken,
        opaque: *mut std::ffi::c_void,
    ) -> std::ffi::c_int,
>;

/// Makes every client created from `cfg` get its SASL/OAUTHBEARER tokens
/// from `cb`.
///
/// Use it with `security_protocol` SASL_SSL or SASL_PLAINTEXT and
/// `sasl_mechanism` OAUTHBEARER. A failure of the callback, or a token
/// librdkafka refuses (empty, expired), is logged at error level and
/// reported to the client as an authentication failure (`KAFKA_ERR_BROKER`,
/// `rdkafka_code` -169 from its calls), then retried. A token must be
/// printable ASCII (space, tab, CR and LF allowed, as RFC 7628 says);
/// another is refused with the position of the first byte that is not,
/// never its text. Tokens are never logged, nor quoted in an error message:
/// librdkafka's own texts pass the same redaction as the library's.
///
/// @param cfg    The config to change: an instance's config or a client's
///               overrides.
/// @param cb     The token callback; NULL: librdkafka's own ways again, e.g.
///               `enable_sasl_oauthbearer_unsecure_jwt`.
/// @param opaque Passed to `cb` as is. A callback still running when a
///               client's close runs out of time finishes on its own
///               thread: keep what `opaque` points to valid until it has
///               returned.
/// @param err    NULL, or where a failure is described (`KAFKA_OK` on
///               success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`cfg` NULL).
#[no_mangle]
pub unsafe extern "C" fn kafka_config_set_oauthbearer_token_callback(
    cfg: *mut KafkaConfig,
    cb: KafkaOAuthTokenCallback,
    opaque: *mut std::ffi::c_void,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `cfg` is NULL or a live config no other thread uses until the token callback is
        // set (the header: one thread at a time); `handle_mut` refuses NULL.
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
