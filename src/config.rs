//! `KafkaConfig`: a builder of settings, checked at set time.
//!
//! Any name of a setting is accepted: the table of names is
//! [`crate::settings`].
//!
//! Values are checked when they are set: our own enumerations here, every
//! other value by librdkafka itself, so a config that was accepted never
//! fails later for a value librdkafka would have refused.

use crate::oauth::OAuthCallback;
use crate::statistics::StatisticsCallback;
use std::fmt;

use rdkafka::config::ClientConfig;

use crate::error::{Error, Result};
use crate::secrets;
use crate::settings::{is_secret, lookup, scope};
pub use crate::settings::{Kind, Scope, SECRET_MASK};
use crate::settings::{
    AUTO_OFFSET_RESET, BOOTSTRAP_SERVERS, DEFAULT_API_TIMEOUT, KAFKA_URL, MAX_POLL_RECORDS,
    SASL_MECHANISM, SASL_PASSWORD, SASL_USERNAME, SECURITY_PROTOCOL, ZERO_COPY_MESSAGES,
};
use crate::url::KafkaUrl;

/// One stored setting.
#[derive(Clone)]
struct Entry {
    canonical: String,
    /// The name the caller used.
    set_as: String,
    /// The kind of the name the caller used; decides the vocabulary of
    /// `value` (e.g. `true` for `ssl_check_hostname`).
    kind: Kind,
    /// The value as set, normalized (enum spelling, `true`/`false`).
    value: String,
    /// What librdkafka is given; `None` for settings this library handles
    /// itself.
    rdkafka_value: Option<String>,
}

/// A set of settings. Not thread-safe; clone it to share.
#[derive(Clone, Default)]
pub struct Config {
    entries: Vec<Entry>,
    url: Option<KafkaUrl>,
    /// Called with each statistics report of a client made from this
    /// config (see [`Config::set_statistics_callback`]).
    statistics: Option<StatisticsCallback>,
    /// The application's OAUTHBEARER token source.
    oauth: Option<OAuthCallback>,
}

/// A config resolved for creating a client: the properties handed to
/// librdkafka plus the settings this library applies itself.
#[derive(Clone)]
pub struct Resolved {
    pub rdkafka: Vec<(String, String)>,
    pub max_poll_records: Option<usize>,
    /// The bound of consumer calls that take no timeout (commits, close).
    pub default_api_timeout: Option<std::time::Duration>,
    /// Consumed messages keep librdkafka's buffer instead of a copy.
    pub zero_copy_messages: bool,
    /// Called with each statistics report (`statistics.interval.ms`).
    pub statistics: Option<StatisticsCallback>,
    /// Asked for OAUTHBEARER tokens by a refresher thread per client.
    pub oauth: Option<OAuthCallback>,
}

impl Resolved {
    pub fn get(&self, canonical: &str) -> Option<&str> {
        self.rdkafka
            .iter()
            .find(|(k, _)| k == canonical)
            .map(|(_, v)| v.as_str())
    }

    /// A rust-rdkafka `ClientConfig` with every property.
    pub fn client_config(&self) -> ClientConfig {
        let mut cc = ClientConfig::new();
        for (k, v) in &self.rdkafka {
            cc.set(k, v);
        }
        cc
    }
}

impl Config {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets any setting by any of its names. Unknown names and values that
    /// librdkafka (or our own checks) refuse fail with [`ErrorKind::Config`]
    /// naming the key.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let key = key.trim();
        if key.is_empty() {
            return Err(Error::config("setting name is empty"));
        }
        let (canonical, kind) = lookup(key).unwrap_or((key, Kind::Passthrough));
        let secret = is_secret(canonical);
        // A URL's password is registered when the URL is parsed: the rest
        // of it (its hosts) must stay readable in logs.
        if secret && !value.is_empty() && kind != Kind::Url {
            secrets::register(value);
        }
        let (stored, rdkafka_value) = normalize(key, canonical, kind, value)?;
        match &rdkafka_value {
            Some(v) => check_with_librdkafka(key, canonical, v, secret)?,
            None if kind == Kind::Url => self.url = Some(parse_url(key, value)?),
            None => {}
        }
        let entry = Entry {
            canonical: canonical.to_owned(),
            set_as: key.to_owned(),
            kind,
            value: stored,
            rdkafka_value,
        };
        match self.entries.iter_mut().find(|e| e.canonical == canonical) {
            Some(existing) => *existing = entry,
            None => self.entries.push(entry),
        }
        Ok(())
    }

    /// Sets the bootstrap servers from a list of `host:port`.
    pub fn set_bootstrap_servers(&mut self, servers: &[&str]) -> Result<()> {
        if servers.is_empty() {
            return Err(Error::config("bootstrap servers: the list is empty"));
        }
        self.set("bootstrap_servers", &servers.join(","))
    }

    /// The value of a setting, under the name it was set with, its
    /// canonical name, or any other alias. Secrets read back as `***`, and
    /// a URL with its password as `***`.
    pub fn get(&self, key: &str) -> Option<String> {
        let key = key.trim();
        let (canonical, asked_kind) = match lookup(key) {
            Some(found) => found,
            None => (key, Kind::Passthrough),
        };
        if let Some(from_url) = self.url_value(canonical) {
            return Some(from_url);
        }
        let entry = self
            .entries
            .iter()
            .find(|e| e.canonical == canonical || e.set_as == key)?;
        // Secrets are write-only: reading one says it is set, not what it is.
        if entry.canonical == KAFKA_URL {
            return Some(crate::url::redact(&entry.value));
        }
        if is_secret(&entry.canonical) {
            return Some(SECRET_MASK.to_owned());
        }
        if entry.kind == asked_kind || entry.rdkafka_value.is_none() {
            return Some(entry.value.clone());
        }
        let raw = entry.rdkafka_value.clone()?;
        Some(match asked_kind {
            Kind::CheckHostname => (raw == "https").to_string(),
            _ => raw,
        })
    }

    /// Overlays `overrides` on this config (a client's keyword overrides).
    pub fn merged(&self, overrides: &Config) -> Config {
        let mut out = self.clone();
        for e in &overrides.entries {
            match out.entries.iter_mut().find(|x| x.canonical == e.canonical) {
                Some(existing) => *existing = e.clone(),
                None => out.entries.push(e.clone()),
            }
        }
        if overrides.url.is_some() {
            out.url = overrides.url.clone();
        }
        if overrides.statistics.is_some() {
            out.statistics = overrides.statistics.clone();
        }
        if overrides.oauth.is_some() {
            out.oauth = overrides.oauth.clone();
        }
        out
    }

    /// Clients made from this config ask `callback` for their OAUTHBEARER
    /// tokens (None: librdkafka's own ways again).
    pub fn set_oauthbearer_token_callback(&mut self, callback: Option<OAuthCallback>) {
        self.oauth = callback;
    }

    /// Reports every `interval_ms` (1 or more; 0 stops them) librdkafka's
    /// statistics of each client made from this config to `callback`, on
    /// a thread of the library.
    pub fn set_statistics_callback(
        &mut self,
        interval_ms: i32,
        callback: Option<StatisticsCallback>,
    ) -> Result<()> {
        if !(0..=86_400_000).contains(&interval_ms) {
            return Err(Error::invalid_argument(format!(
                "interval_ms must be 0 (off) to 86400000, not {interval_ms}"
            )));
        }
        let off = interval_ms == 0 || callback.is_none();
        let interval = if off { 0 } else { interval_ms };
        self.set("statistics.interval.ms", &interval.to_string())?;
        self.statistics = if off { None } else { callback };
        Ok(())
    }

    /// Canonical names of the settings that are set.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.canonical.as_str())
    }

    /// The settings for one client: this (an instance's base) config's
    /// settings that apply to `client`, with `overrides` on top. A base
    /// serves producers and consumers alike, so its foreign settings are
    /// left out; foreign settings in `overrides` are an error, since the
    /// caller asked for them on this very client.
    pub fn for_client(&self, client: Scope, overrides: Option<&Config>) -> Result<Config> {
        let applies = |canonical: &str| {
            let s = scope(canonical);
            s == Scope::Both || s == client
        };
        if let Some(o) = overrides {
            let foreign: Vec<&str> = o
                .entries
                .iter()
                .filter(|e| !applies(&e.canonical))
                .map(|e| e.set_as.as_str())
                .collect();
            if !foreign.is_empty() {
                let (other, this) = match client {
                    Scope::Producer => ("consumer", "producer"),
                    _ => ("producer", "consumer"),
                };
                return Err(Error::config(format!(
                    "{other}-only setting(s) in {this} overrides: {}",
                    foreign.join(", ")
                )));
            }
        }
        let mut base = self.clone();
        base.entries.retain(|e| applies(&e.canonical));
        Ok(match overrides {
            Some(o) => base.merged(o),
            None => base,
        })
    }

    /// The value a `kafka_url` gives `canonical`, when it gives one: the
    /// URL wins over the settings it implies (see [`Config::resolve`]), so
    /// reading them answers what a client will use. The password reads as
    /// the mask, like every secret.
    fn url_value(&self, canonical: &str) -> Option<String> {
        let url = self.url.as_ref()?;
        match canonical {
            BOOTSTRAP_SERVERS => Some(url.servers.join(",")),
            SASL_USERNAME => url.username.clone(),
            SASL_PASSWORD => url.password.as_ref().map(|_| SECRET_MASK.to_owned()),
            SECURITY_PROTOCOL => url.security_protocol().map(str::to_owned),
            _ => None,
        }
    }

    /// Whether a setting is set (under any of its names).
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    fn value(&self, canonical: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.canonical == canonical)
            .map(|e| e.value.as_str())
    }

    /// Applies the configuration rules and returns what a client is created
    /// from.
    ///
    /// - Servers: the URL's hosts when a `kafka_url` is set (the URL wins),
    ///   else the bootstrap servers; neither is [`ErrorKind::Config`].
    /// - Credentials in the URL replace `sasl_plain_username/password`.
    /// - A secure URL scheme, or credentials in the URL, decide the
    ///   security protocol; otherwise `security_protocol` as set.
    /// - A SASL protocol with no mechanism set means PLAIN (librdkafka's
    ///   own default, GSSAPI, is rarely what a URL with a password means).
    pub fn resolve(&self) -> Result<Resolved> {
        let mut rdkafka: Vec<(String, String)> = self
            .entries
            .iter()
            .filter_map(|e| Some((e.canonical.clone(), e.rdkafka_value.clone()?)))
            .collect();
        let mut put = |key: &str, value: String| {
            match rdkafka.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = value,
                None => rdkafka.push((key.to_owned(), value)),
            };
        };
        if let Some(url) = &self.url {
            put(BOOTSTRAP_SERVERS, url.servers.join(","));
            if let Some(user) = &url.username {
                put(SASL_USERNAME, user.clone());
            }
            if let Some(password) = &url.password {
                put(SASL_PASSWORD, password.clone());
            }
            if let Some(protocol) = url.security_protocol() {
                put(SECURITY_PROTOCOL, protocol.to_ascii_lowercase());
            }
        } else if self.value(BOOTSTRAP_SERVERS).is_none() {
            return Err(Error::config(
                "no brokers configured: set a kafka_url or bootstrap servers",
            ));
        }
        let protocol = rdkafka
            .iter()
            .find(|(k, _)| k == SECURITY_PROTOCOL)
            .map(|(_, v)| v.clone());
        let has_mechanism = rdkafka.iter().any(|(k, _)| k == SASL_MECHANISM);
        if protocol.is_some_and(|p| p.starts_with("sasl")) && !has_mechanism {
            rdkafka.push((SASL_MECHANISM.to_owned(), "PLAIN".to_owned()));
        }
        let default_api_timeout = self
            .value(DEFAULT_API_TIMEOUT)
            .and_then(|v| v.parse::<u64>().ok())
            .map(std::time::Duration::from_millis);
        let max_poll_records = self
            .value(MAX_POLL_RECORDS)
            .and_then(|v| v.parse::<usize>().ok());
        let zero_copy_messages = self.value(ZERO_COPY_MESSAGES) == Some("true");
        Ok(Resolved {
            rdkafka,
            max_poll_records,
            default_api_timeout,
            zero_copy_messages,
            statistics: self.statistics.clone(),
            oauth: self.oauth.clone(),
        })
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for e in &self.entries {
            if is_secret(&e.canonical) {
                map.entry(&e.set_as, &"***");
            } else {
                map.entry(&e.set_as, &e.value);
            }
        }
        map.finish()
    }
}

/// A value set under `key` as the library keeps it, and as librdkafka is
/// given it (`None` for settings this library handles itself).
fn normalize(
    key: &str,
    canonical: &str,
    kind: Kind,
    value: &str,
) -> Result<(String, Option<String>)> {
    let invalid = |expected: &str| {
        Error::config(format!(
            "invalid value {value:?} for {key}: expected {expected}"
        ))
    };
    Ok(match kind {
        Kind::Passthrough => (value.to_owned(), Some(value.to_owned())),
        Kind::Bool => {
            let b = parse_bool(value).ok_or_else(|| invalid("true or false"))?;
            (b.to_string(), Some(b.to_string()))
        }
        Kind::OwnBool => {
            let b = parse_bool(value).ok_or_else(|| invalid("true or false"))?;
            (b.to_string(), None)
        }
        Kind::CheckHostname => {
            let b = parse_bool(value).ok_or_else(|| invalid("true or false"))?;
            let algorithm = if b { "https" } else { "none" };
            (b.to_string(), Some(algorithm.to_owned()))
        }
        Kind::Enum(allowed) => {
            let v = allowed
                .iter()
                .find(|a| a.eq_ignore_ascii_case(value.trim()))
                .ok_or_else(|| invalid(&format!("one of {}", allowed.join(", "))))?;
            (v.to_string(), Some(enum_for_rdkafka(canonical, v)?))
        }
        Kind::Servers => {
            let servers = crate::url::parse_servers(value)
                .map_err(|e| e.context(&format!("invalid value for {key}")))?;
            let joined = servers.join(",");
            (joined.clone(), Some(joined))
        }
        Kind::Url => (value.to_owned(), None),
        Kind::OwnPositiveInt => {
            let n: usize = value
                .trim()
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| invalid("a positive integer"))?;
            (n.to_string(), None)
        }
    })
}

/// A `kafka_url` value; refused, it is masked whole in every later log
/// line (wherever its password may be).
fn parse_url(key: &str, value: &str) -> Result<KafkaUrl> {
    KafkaUrl::parse(value).map_err(|e| {
        secrets::register(value);
        e.context(&format!("invalid {key}"))
    })
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// librdkafka's spelling of our enumerated values.
fn enum_for_rdkafka(canonical: &str, value: &str) -> Result<String> {
    Ok(match canonical {
        SECURITY_PROTOCOL => value.to_ascii_lowercase(),
        // librdkafka calls "fail when there is no committed offset" `error`.
        AUTO_OFFSET_RESET if value == "none" => "error".to_owned(),
        SASL_MECHANISM if value == "GSSAPI" && !builtin_feature("sasl_gssapi") => {
            return Err(Error::config(
                "sasl.mechanism GSSAPI is not available in this build: \
                 rebuild kafka_instance with the `gssapi` cargo feature",
            ))
        }
        _ => value.to_owned(),
    })
}

/// Whether librdkafka was built with a feature (`builtin.features`).
fn builtin_feature(name: &str) -> bool {
    ClientConfig::new()
        .create_native_config()
        .and_then(|c| c.get("builtin.features"))
        .map(|features| features.split(',').any(|f| f == name))
        .unwrap_or(false)
}

/// Asks librdkafka whether it accepts `canonical = value`.
fn check_with_librdkafka(key: &str, canonical: &str, value: &str, secret: bool) -> Result<()> {
    let mut cc = ClientConfig::new();
    cc.set(canonical, value);
    match cc.create_native_config() {
        Ok(_) => Ok(()),
        Err(rdkafka::error::KafkaError::ClientConfig(res, description, _, _)) => {
            use rdkafka::types::RDKafkaConfRes;
            let message = match res {
                RDKafkaConfRes::RD_KAFKA_CONF_UNKNOWN => format!(
                    "unknown setting {key:?}: not a librdkafka property, kafka-python \
                     setting or kafka_instance setting (see the README's alias table)"
                ),
                _ if secret => format!("invalid value for {key} (value not shown)"),
                _ => format!("invalid value for {key}: {}", description.trim_end()),
            };
            Err(Error::config(message))
        }
        Err(other) => Err(Error::from_rdkafka(&other, &format!("checking {key}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_share_one_value() {
        let mut c = Config::new();
        c.set("linger_ms", "7").unwrap();
        assert_eq!(c.get("linger.ms").as_deref(), Some("7"));
        assert_eq!(c.get("queue.buffering.max.ms").as_deref(), Some("7"));
        c.set("queue.buffering.max.ms", "9").unwrap();
        assert_eq!(c.get("linger_ms").as_deref(), Some("9"));
        assert_eq!(c.keys().filter(|k| *k == "linger.ms").count(), 1);
    }

    #[test]
    fn check_hostname_speaks_both_vocabularies() {
        let mut c = Config::new();
        c.set("ssl_check_hostname", "False").unwrap();
        assert_eq!(c.get("ssl_check_hostname").as_deref(), Some("false"));
        assert_eq!(
            c.get("ssl.endpoint.identification.algorithm").as_deref(),
            Some("none")
        );
    }

    #[test]
    fn debug_hides_secrets() {
        let mut c = Config::new();
        c.set("sasl_plain_password", "hunter2-debug").unwrap();
        c.set("kafka_url", "kafka://u:pw-in-url@h:9092").unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2-debug"), "{shown}");
        assert!(!shown.contains("pw-in-url"), "{shown}");
    }
}
