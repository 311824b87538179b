//! `KafkaConfig`: a builder of settings, checked at set time.
//!
//! A setting can be named three ways: librdkafka's property name
//! (`linger.ms`), kafka-python's keyword (`linger_ms`), or the name of one
//! of the C API's setters (`sasl_plain_username`). [`ALIASES`] maps each to one canonical
//! name, so a value set under one name is found under any of them.
//!
//! Values are checked when they are set: our own enumerations here, every
//! other value by librdkafka itself, so a config that was accepted never
//! fails later for a value librdkafka would have refused.

use std::fmt;

use rdkafka::config::ClientConfig;

use crate::error::{Error, Result};
use crate::secrets;
use crate::url::KafkaUrl;

/// How a value is turned into what librdkafka wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Passed to librdkafka unchanged; librdkafka validates it.
    Passthrough,
    /// true/false (also 1/0, yes/no, on/off, Python's True/False).
    Bool,
    /// One of a fixed list, matched case-insensitively and stored in the
    /// list's spelling.
    Enum(&'static [&'static str]),
    /// kafka-python's `ssl_check_hostname` (a bool) over librdkafka's
    /// `ssl.endpoint.identification.algorithm` (`https` / `none`).
    CheckHostname,
    /// A comma-separated list of `host:port`.
    Servers,
    /// `kafka_url`: parsed by [`crate::url`], never given to librdkafka.
    Url,
    /// A positive integer this library uses itself (`max.poll.records`).
    OwnPositiveInt,
}

pub const SECURITY_PROTOCOLS: &[&str] = &["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"];
pub const SASL_MECHANISMS: &[&str] = &[
    "PLAIN",
    "SCRAM-SHA-256",
    "SCRAM-SHA-512",
    "GSSAPI",
    "OAUTHBEARER",
];
pub const OFFSET_RESETS: &[&str] = &["earliest", "latest", "none"];

/// What a secret reads back as.
pub const SECRET_MASK: &str = "***";

/// Canonical names of the settings this library handles itself.
pub const KAFKA_URL: &str = "kafka.url";
pub const MAX_POLL_RECORDS: &str = "max.poll.records";
pub const DEFAULT_API_TIMEOUT: &str = "default.api.timeout.ms";
pub const BOOTSTRAP_SERVERS: &str = "bootstrap.servers";
pub const SECURITY_PROTOCOL: &str = "security.protocol";
pub const SASL_MECHANISM: &str = "sasl.mechanism";
pub const SASL_USERNAME: &str = "sasl.username";
pub const SASL_PASSWORD: &str = "sasl.password";
pub const CLIENT_ID: &str = "client.id";
pub const GROUP_ID: &str = "group.id";
pub const AUTO_OFFSET_RESET: &str = "auto.offset.reset";
pub const ENABLE_AUTO_COMMIT: &str = "enable.auto.commit";

/// One accepted name of a setting: `(name, canonical name, kind)`.
///
/// The canonical name is the Java client's property name, which librdkafka
/// also accepts. The README publishes this table.
pub const ALIASES: &[(&str, &str, Kind)] = &[
    // The C API's named setters (kafka-python names).
    ("kafka_url", KAFKA_URL, Kind::Url),
    ("kafka.url", KAFKA_URL, Kind::Url),
    ("bootstrap_servers", BOOTSTRAP_SERVERS, Kind::Servers),
    ("bootstrap.servers", BOOTSTRAP_SERVERS, Kind::Servers),
    ("metadata.broker.list", BOOTSTRAP_SERVERS, Kind::Servers),
    (
        "security_protocol",
        SECURITY_PROTOCOL,
        Kind::Enum(SECURITY_PROTOCOLS),
    ),
    (
        "security.protocol",
        SECURITY_PROTOCOL,
        Kind::Enum(SECURITY_PROTOCOLS),
    ),
    (
        "sasl_mechanism",
        SASL_MECHANISM,
        Kind::Enum(SASL_MECHANISMS),
    ),
    (
        "sasl.mechanism",
        SASL_MECHANISM,
        Kind::Enum(SASL_MECHANISMS),
    ),
    (
        "sasl.mechanisms",
        SASL_MECHANISM,
        Kind::Enum(SASL_MECHANISMS),
    ),
    ("sasl_plain_username", SASL_USERNAME, Kind::Passthrough),
    ("sasl.username", SASL_USERNAME, Kind::Passthrough),
    ("sasl_plain_password", SASL_PASSWORD, Kind::Passthrough),
    ("sasl.password", SASL_PASSWORD, Kind::Passthrough),
    ("client_id", CLIENT_ID, Kind::Passthrough),
    ("client.id", CLIENT_ID, Kind::Passthrough),
    ("group_id", GROUP_ID, Kind::Passthrough),
    ("group.id", GROUP_ID, Kind::Passthrough),
    (
        "auto_offset_reset",
        AUTO_OFFSET_RESET,
        Kind::Enum(OFFSET_RESETS),
    ),
    (
        "auto.offset.reset",
        AUTO_OFFSET_RESET,
        Kind::Enum(OFFSET_RESETS),
    ),
    ("enable_auto_commit", ENABLE_AUTO_COMMIT, Kind::Bool),
    ("enable.auto.commit", ENABLE_AUTO_COMMIT, Kind::Bool),
    // Producer (kafka-python keyword, librdkafka's own aliases).
    ("acks", "acks", Kind::Passthrough),
    ("request.required.acks", "acks", Kind::Passthrough),
    ("retries", "retries", Kind::Passthrough),
    ("message.send.max.retries", "retries", Kind::Passthrough),
    ("compression_type", "compression.type", Kind::Passthrough),
    ("compression.type", "compression.type", Kind::Passthrough),
    ("compression.codec", "compression.type", Kind::Passthrough),
    ("linger_ms", "linger.ms", Kind::Passthrough),
    ("linger.ms", "linger.ms", Kind::Passthrough),
    ("queue.buffering.max.ms", "linger.ms", Kind::Passthrough),
    ("batch_size", "batch.size", Kind::Passthrough),
    ("batch.size", "batch.size", Kind::Passthrough),
    (
        "max_in_flight_requests_per_connection",
        "max.in.flight.requests.per.connection",
        Kind::Passthrough,
    ),
    (
        "max.in.flight.requests.per.connection",
        "max.in.flight.requests.per.connection",
        Kind::Passthrough,
    ),
    (
        "max.in.flight",
        "max.in.flight.requests.per.connection",
        Kind::Passthrough,
    ),
    (
        "request_timeout_ms",
        "request.timeout.ms",
        Kind::Passthrough,
    ),
    (
        "request.timeout.ms",
        "request.timeout.ms",
        Kind::Passthrough,
    ),
    (
        "delivery_timeout_ms",
        "delivery.timeout.ms",
        Kind::Passthrough,
    ),
    (
        "delivery.timeout.ms",
        "delivery.timeout.ms",
        Kind::Passthrough,
    ),
    (
        "message.timeout.ms",
        "delivery.timeout.ms",
        Kind::Passthrough,
    ),
    ("enable_idempotence", "enable.idempotence", Kind::Bool),
    ("enable.idempotence", "enable.idempotence", Kind::Bool),
    ("transactional_id", "transactional.id", Kind::Passthrough),
    ("transactional.id", "transactional.id", Kind::Passthrough),
    ("max_request_size", "message.max.bytes", Kind::Passthrough),
    ("message.max.bytes", "message.max.bytes", Kind::Passthrough),
    ("retry_backoff_ms", "retry.backoff.ms", Kind::Passthrough),
    ("retry.backoff.ms", "retry.backoff.ms", Kind::Passthrough),
    // Consumer.
    ("max_poll_records", MAX_POLL_RECORDS, Kind::OwnPositiveInt),
    ("max.poll.records", MAX_POLL_RECORDS, Kind::OwnPositiveInt),
    (
        "default_api_timeout_ms",
        DEFAULT_API_TIMEOUT,
        Kind::OwnPositiveInt,
    ),
    (
        "default.api.timeout.ms",
        DEFAULT_API_TIMEOUT,
        Kind::OwnPositiveInt,
    ),
    (
        "max_poll_interval_ms",
        "max.poll.interval.ms",
        Kind::Passthrough,
    ),
    (
        "max.poll.interval.ms",
        "max.poll.interval.ms",
        Kind::Passthrough,
    ),
    (
        "session_timeout_ms",
        "session.timeout.ms",
        Kind::Passthrough,
    ),
    (
        "session.timeout.ms",
        "session.timeout.ms",
        Kind::Passthrough,
    ),
    (
        "heartbeat_interval_ms",
        "heartbeat.interval.ms",
        Kind::Passthrough,
    ),
    (
        "heartbeat.interval.ms",
        "heartbeat.interval.ms",
        Kind::Passthrough,
    ),
    ("fetch_min_bytes", "fetch.min.bytes", Kind::Passthrough),
    ("fetch.min.bytes", "fetch.min.bytes", Kind::Passthrough),
    ("fetch_max_wait_ms", "fetch.wait.max.ms", Kind::Passthrough),
    ("fetch.wait.max.ms", "fetch.wait.max.ms", Kind::Passthrough),
    ("fetch.max.wait.ms", "fetch.wait.max.ms", Kind::Passthrough),
    ("fetch_max_bytes", "fetch.max.bytes", Kind::Passthrough),
    ("fetch.max.bytes", "fetch.max.bytes", Kind::Passthrough),
    (
        "max_partition_fetch_bytes",
        "max.partition.fetch.bytes",
        Kind::Passthrough,
    ),
    (
        "max.partition.fetch.bytes",
        "max.partition.fetch.bytes",
        Kind::Passthrough,
    ),
    (
        "auto_commit_interval_ms",
        "auto.commit.interval.ms",
        Kind::Passthrough,
    ),
    (
        "auto.commit.interval.ms",
        "auto.commit.interval.ms",
        Kind::Passthrough,
    ),
    ("isolation_level", "isolation.level", Kind::Passthrough),
    ("isolation.level", "isolation.level", Kind::Passthrough),
    ("group_instance_id", "group.instance.id", Kind::Passthrough),
    ("group.instance.id", "group.instance.id", Kind::Passthrough),
    ("check_crcs", "check.crcs", Kind::Bool),
    ("check.crcs", "check.crcs", Kind::Bool),
    (
        "allow_auto_create_topics",
        "allow.auto.create.topics",
        Kind::Bool,
    ),
    (
        "allow.auto.create.topics",
        "allow.auto.create.topics",
        Kind::Bool,
    ),
    // Connections.
    ("client_rack", "client.rack", Kind::Passthrough),
    ("client.rack", "client.rack", Kind::Passthrough),
    (
        "metadata_max_age_ms",
        "metadata.max.age.ms",
        Kind::Passthrough,
    ),
    (
        "metadata.max.age.ms",
        "metadata.max.age.ms",
        Kind::Passthrough,
    ),
    (
        "reconnect_backoff_ms",
        "reconnect.backoff.ms",
        Kind::Passthrough,
    ),
    (
        "reconnect.backoff.ms",
        "reconnect.backoff.ms",
        Kind::Passthrough,
    ),
    (
        "reconnect_backoff_max_ms",
        "reconnect.backoff.max.ms",
        Kind::Passthrough,
    ),
    (
        "reconnect.backoff.max.ms",
        "reconnect.backoff.max.ms",
        Kind::Passthrough,
    ),
    (
        "connections_max_idle_ms",
        "connections.max.idle.ms",
        Kind::Passthrough,
    ),
    (
        "connections.max.idle.ms",
        "connections.max.idle.ms",
        Kind::Passthrough,
    ),
    (
        "receive_buffer_bytes",
        "socket.receive.buffer.bytes",
        Kind::Passthrough,
    ),
    (
        "socket.receive.buffer.bytes",
        "socket.receive.buffer.bytes",
        Kind::Passthrough,
    ),
    (
        "send_buffer_bytes",
        "socket.send.buffer.bytes",
        Kind::Passthrough,
    ),
    (
        "socket.send.buffer.bytes",
        "socket.send.buffer.bytes",
        Kind::Passthrough,
    ),
    // TLS and SASL details.
    ("ssl_cafile", "ssl.ca.location", Kind::Passthrough),
    ("ssl.ca.location", "ssl.ca.location", Kind::Passthrough),
    (
        "ssl_certfile",
        "ssl.certificate.location",
        Kind::Passthrough,
    ),
    (
        "ssl.certificate.location",
        "ssl.certificate.location",
        Kind::Passthrough,
    ),
    ("ssl_keyfile", "ssl.key.location", Kind::Passthrough),
    ("ssl.key.location", "ssl.key.location", Kind::Passthrough),
    ("ssl_password", "ssl.key.password", Kind::Passthrough),
    ("ssl.key.password", "ssl.key.password", Kind::Passthrough),
    ("ssl_crlfile", "ssl.crl.location", Kind::Passthrough),
    ("ssl.crl.location", "ssl.crl.location", Kind::Passthrough),
    ("ssl_ciphers", "ssl.cipher.suites", Kind::Passthrough),
    ("ssl.cipher.suites", "ssl.cipher.suites", Kind::Passthrough),
    (
        "ssl_check_hostname",
        "ssl.endpoint.identification.algorithm",
        Kind::CheckHostname,
    ),
    (
        "ssl.endpoint.identification.algorithm",
        "ssl.endpoint.identification.algorithm",
        Kind::Passthrough,
    ),
    (
        "sasl_kerberos_service_name",
        "sasl.kerberos.service.name",
        Kind::Passthrough,
    ),
    (
        "sasl.kerberos.service.name",
        "sasl.kerberos.service.name",
        Kind::Passthrough,
    ),
];

/// Which clients a setting applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Both,
    Producer,
    Consumer,
}

/// librdkafka's consumer-only properties (CONFIGURATION.md, `C`), plus
/// this library's own `max.poll.records`. A unit test checks this list
/// against the CONFIGURATION.md of the librdkafka that is built in.
const CONSUMER_ONLY: &[&str] = &[
    "group.id",
    "group.instance.id",
    "partition.assignment.strategy",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "group.protocol.type",
    "group.protocol",
    "group.remote.assignor",
    "coordinator.query.interval.ms",
    "max.poll.interval.ms",
    "enable.auto.commit",
    "auto.commit.interval.ms",
    "enable.auto.offset.store",
    "queued.min.messages",
    "queued.max.messages.kbytes",
    "fetch.wait.max.ms",
    "fetch.queue.backoff.ms",
    "fetch.message.max.bytes",
    "max.partition.fetch.bytes",
    "fetch.max.bytes",
    "fetch.min.bytes",
    "fetch.error.backoff.ms",
    "offset.store.method",
    "isolation.level",
    "consume_cb",
    "rebalance_cb",
    "offset_commit_cb",
    "enable.partition.eof",
    "check.crcs",
    "auto.commit.enable",
    "auto.offset.reset",
    "offset.store.path",
    "offset.store.sync.interval.ms",
    "consume.callback.max.messages",
    MAX_POLL_RECORDS,
    DEFAULT_API_TIMEOUT,
];

/// librdkafka's producer-only properties (CONFIGURATION.md, `P`).
const PRODUCER_ONLY: &[&str] = &[
    "transactional.id",
    "transaction.timeout.ms",
    "enable.idempotence",
    "enable.gapless.guarantee",
    "queue.buffering.max.messages",
    "queue.buffering.max.kbytes",
    "queue.buffering.max.ms",
    "linger.ms",
    "message.send.max.retries",
    "retries",
    "queue.buffering.backpressure.threshold",
    "compression.codec",
    "compression.type",
    "batch.num.messages",
    "batch.size",
    "delivery.report.only.error",
    "dr_cb",
    "dr_msg_cb",
    "sticky.partitioning.linger.ms",
    "request.required.acks",
    "acks",
    "request.timeout.ms",
    "message.timeout.ms",
    "delivery.timeout.ms",
    "queuing.strategy",
    "produce.offset.report",
    "partitioner",
    "partitioner_cb",
    "msg_order_cmp",
    "compression.level",
];

/// The clients a canonical setting applies to.
pub fn scope(canonical: &str) -> Scope {
    if CONSUMER_ONLY.contains(&canonical) {
        Scope::Consumer
    } else if PRODUCER_ONLY.contains(&canonical) {
        Scope::Producer
    } else {
        Scope::Both
    }
}

/// Settings whose values are secrets: never logged, never in an error
/// message, redacted in `Debug`.
fn is_secret(canonical: &str) -> bool {
    canonical.contains("password")
        || canonical.contains("secret")
        || canonical == "ssl.key.pem"
        || canonical == "sasl.oauthbearer.config"
        || canonical == KAFKA_URL
}

fn lookup(name: &str) -> Option<(&'static str, Kind)> {
    ALIASES
        .iter()
        .find(|(alias, _, _)| *alias == name)
        .map(|&(_, canonical, kind)| (canonical, kind))
}

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
}

/// A config resolved for creating a client: the properties handed to
/// librdkafka plus the settings this library applies itself.
#[derive(Clone)]
pub struct Resolved {
    pub rdkafka: Vec<(String, String)>,
    pub max_poll_records: Option<usize>,
    /// The bound of consumer calls that take no timeout (commits, close).
    pub default_api_timeout: Option<std::time::Duration>,
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
    /// librdkafka (or our own checks) refuse fail with `KAFKA_ERR_CONFIG`
    /// naming the key.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let key = key.trim();
        if key.is_empty() {
            return Err(Error::config("setting name is empty"));
        }
        let (canonical, kind) = match lookup(key) {
            Some(found) => found,
            None => (key, Kind::Passthrough),
        };
        let secret = is_secret(canonical);
        // A URL's password is registered when the URL is parsed: the rest
        // of it (its hosts) must stay readable in logs.
        if secret && !value.is_empty() && kind != Kind::Url {
            secrets::register(value);
        }
        let (stored, rdkafka_value) = match kind {
            Kind::Passthrough => (value.to_owned(), Some(value.to_owned())),
            Kind::Bool => {
                let b = parse_bool(value).ok_or_else(|| {
                    Error::config(format!(
                        "invalid value {value:?} for {key}: expected true or false"
                    ))
                })?;
                (b.to_string(), Some(b.to_string()))
            }
            Kind::CheckHostname => {
                let b = parse_bool(value).ok_or_else(|| {
                    Error::config(format!(
                        "invalid value {value:?} for {key}: expected true or false"
                    ))
                })?;
                let algo = if b { "https" } else { "none" };
                (b.to_string(), Some(algo.to_owned()))
            }
            Kind::Enum(allowed) => {
                let v = allowed
                    .iter()
                    .find(|a| a.eq_ignore_ascii_case(value.trim()))
                    .ok_or_else(|| {
                        Error::config(format!(
                            "invalid value {value:?} for {key}: expected one of {}",
                            allowed.join(", ")
                        ))
                    })?;
                (v.to_string(), Some(enum_for_rdkafka(canonical, v)?))
            }
            Kind::Servers => {
                let servers = crate::url::parse_servers(value)
                    .map_err(|e| e.context(&format!("invalid value for {key}")))?;
                let joined = servers.join(",");
                (joined.clone(), Some(joined))
            }
            Kind::Url => {
                let url = KafkaUrl::parse(value).map_err(|e| {
                    // Refused, so never used: masked whole, wherever its
                    // password may be.
                    secrets::register(value);
                    e.context(&format!("invalid {key}"))
                })?;
                self.url = Some(url);
                (value.to_owned(), None)
            }
            Kind::OwnPositiveInt => {
                let n: usize = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        Error::config(format!(
                            "invalid value {value:?} for {key}: expected a positive integer"
                        ))
                    })?;
                (n.to_string(), None)
            }
        };
        if let Some(v) = &rdkafka_value {
            check_with_librdkafka(key, canonical, v, secret)?;
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
        out
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
    ///   else the bootstrap servers; neither is `KAFKA_ERR_CONFIG`.
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
        Ok(Resolved {
            rdkafka,
            max_poll_records,
            default_api_timeout,
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
    fn every_alias_resolves_to_a_property_librdkafka_knows() {
        for (alias, canonical, kind) in ALIASES {
            if matches!(kind, Kind::Passthrough) {
                let mut cc = ClientConfig::new();
                // An empty value is not valid for every property, but an
                // unknown property fails before its value is looked at.
                cc.set(*canonical, "");
                if let Err(rdkafka::error::KafkaError::ClientConfig(res, ..)) =
                    cc.create_native_config()
                {
                    assert_ne!(
                        res,
                        rdkafka::types::RDKafkaConfRes::RD_KAFKA_CONF_UNKNOWN,
                        "{alias} -> {canonical}"
                    );
                }
            }
        }
    }

    /// The scope lists match the CONFIGURATION.md of the built librdkafka.
    #[test]
    fn scope_lists_match_librdkafka() {
        let build = std::env::current_exe().unwrap();
        let build = build.parent().unwrap().parent().unwrap().join("build");
        let doc = std::fs::read_dir(&build)
            .unwrap()
            .filter_map(|e| {
                let p = e.ok()?.path().join("out").join("CONFIGURATION.md");
                p.exists().then_some(p)
            })
            .next()
            .expect("librdkafka's CONFIGURATION.md in the rdkafka-sys build output");
        let doc = std::fs::read_to_string(doc).unwrap();
        for line in doc.lines() {
            let cols: Vec<&str> = line.split('|').map(str::trim).collect();
            if cols.len() < 3 {
                continue;
            }
            let expected = match cols[1] {
                "C" => Scope::Consumer,
                "P" => Scope::Producer,
                _ => continue,
            };
            assert_eq!(scope(cols[0]), expected, "{}", cols[0]);
        }
        assert_eq!(scope("linger.ms"), Scope::Producer);
        assert_eq!(scope("max.poll.records"), Scope::Consumer);
        assert_eq!(scope("client.id"), Scope::Both);
    }

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
