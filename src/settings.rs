//! The settings table: every setting this library knows by name, one row
//! each (its canonical name, kafka-python's name, other names, and how its
//! value is read), the clients each applies to, and which are secrets.
//!
//! A setting can be named three ways: librdkafka's property name
//! (`linger.ms`), kafka-python's keyword (`linger_ms`), or the name of one
//! of the C API's setters (`sasl_plain_username`); each maps to one
//! canonical name (the Java client's property name, which librdkafka also
//! accepts), so a value set under one name is found under any of them. A
//! name not in the table is passed to librdkafka as it is. The README
//! publishes the table; a test checks it lists every name.

use Kind::*;

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
    /// A boolean this library uses itself (`zero.copy.messages`).
    OwnBool,
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
pub const ZERO_COPY_MESSAGES: &str = "zero.copy.messages";
pub const BOOTSTRAP_SERVERS: &str = "bootstrap.servers";
pub const SECURITY_PROTOCOL: &str = "security.protocol";
pub const SASL_MECHANISM: &str = "sasl.mechanism";
pub const SASL_USERNAME: &str = "sasl.username";
pub const SASL_PASSWORD: &str = "sasl.password";
pub const CLIENT_ID: &str = "client.id";
pub const GROUP_ID: &str = "group.id";
pub const AUTO_OFFSET_RESET: &str = "auto.offset.reset";
pub const ENABLE_AUTO_COMMIT: &str = "enable.auto.commit";

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    pub canonical: &'static str,
    /// kafka-python's keyword (also the C setter's name).
    pub python: &'static str,
    /// Other accepted names: librdkafka's aliases, older spellings.
    pub others: &'static [&'static str],
    pub kind: Kind,
    /// Whether the canonical name itself reads values this row's way.
    canonical_named: bool,
}

const fn row(
    canonical: &'static str,
    python: &'static str,
    others: &'static [&'static str],
    kind: Kind,
) -> Setting {
    Setting {
        canonical,
        python,
        others,
        kind,
        canonical_named: true,
    }
}

/// A row reached only by its kafka-python name: the canonical name keeps
/// librdkafka's own values.
const fn only_python(canonical: &'static str, python: &'static str, kind: Kind) -> Setting {
    Setting {
        canonical,
        python,
        others: &[],
        kind,
        canonical_named: false,
    }
}

#[rustfmt::skip]
pub const SETTINGS: &[Setting] = &[
    // The C API's named setters.
    row(KAFKA_URL, "kafka_url", &[], Url),
    row(BOOTSTRAP_SERVERS, "bootstrap_servers", &["metadata.broker.list"], Servers),
    row(SECURITY_PROTOCOL, "security_protocol", &[], Enum(SECURITY_PROTOCOLS)),
    row(SASL_MECHANISM, "sasl_mechanism", &["sasl.mechanisms"], Enum(SASL_MECHANISMS)),
    row(SASL_USERNAME, "sasl_plain_username", &[], Passthrough),
    row(SASL_PASSWORD, "sasl_plain_password", &[], Passthrough),
    row(CLIENT_ID, "client_id", &[], Passthrough),
    row(GROUP_ID, "group_id", &[], Passthrough),
    row(AUTO_OFFSET_RESET, "auto_offset_reset", &[], Enum(OFFSET_RESETS)),
    row(ENABLE_AUTO_COMMIT, "enable_auto_commit", &[], Bool),
    // Producer.
    row("acks", "acks", &["request.required.acks"], Passthrough),
    row("retries", "retries", &["message.send.max.retries"], Passthrough),
    row("compression.type", "compression_type", &["compression.codec"], Passthrough),
    row("linger.ms", "linger_ms", &["queue.buffering.max.ms"], Passthrough),
    row("batch.size", "batch_size", &[], Passthrough),
    row("max.in.flight.requests.per.connection", "max_in_flight_requests_per_connection", &["max.in.flight"], Passthrough),
    row("request.timeout.ms", "request_timeout_ms", &[], Passthrough),
    row("delivery.timeout.ms", "delivery_timeout_ms", &["message.timeout.ms"], Passthrough),
    row("enable.idempotence", "enable_idempotence", &[], Bool),
    row("transactional.id", "transactional_id", &[], Passthrough),
    row("message.max.bytes", "max_request_size", &[], Passthrough),
    row("retry.backoff.ms", "retry_backoff_ms", &[], Passthrough),
    // Consumer.
    row(MAX_POLL_RECORDS, "max_poll_records", &[], OwnPositiveInt),
    row(DEFAULT_API_TIMEOUT, "default_api_timeout_ms", &[], OwnPositiveInt),
    row(ZERO_COPY_MESSAGES, "zero_copy_messages", &[], OwnBool),
    row("max.poll.interval.ms", "max_poll_interval_ms", &[], Passthrough),
    row("session.timeout.ms", "session_timeout_ms", &[], Passthrough),
    row("heartbeat.interval.ms", "heartbeat_interval_ms", &[], Passthrough),
    row("fetch.min.bytes", "fetch_min_bytes", &[], Passthrough),
    row("fetch.wait.max.ms", "fetch_max_wait_ms", &["fetch.max.wait.ms"], Passthrough),
    row("fetch.max.bytes", "fetch_max_bytes", &[], Passthrough),
    row("max.partition.fetch.bytes", "max_partition_fetch_bytes", &[], Passthrough),
    row("auto.commit.interval.ms", "auto_commit_interval_ms", &[], Passthrough),
    row("isolation.level", "isolation_level", &[], Passthrough),
    row("group.instance.id", "group_instance_id", &[], Passthrough),
    row("check.crcs", "check_crcs", &[], Bool),
    // Connections.
    row("allow.auto.create.topics", "allow_auto_create_topics", &[], Bool),
    row("client.rack", "client_rack", &[], Passthrough),
    row("metadata.max.age.ms", "metadata_max_age_ms", &[], Passthrough),
    row("reconnect.backoff.ms", "reconnect_backoff_ms", &[], Passthrough),
    row("reconnect.backoff.max.ms", "reconnect_backoff_max_ms", &[], Passthrough),
    row("connections.max.idle.ms", "connections_max_idle_ms", &[], Passthrough),
    row("socket.receive.buffer.bytes", "receive_buffer_bytes", &[], Passthrough),
    row("socket.send.buffer.bytes", "send_buffer_bytes", &[], Passthrough),
    // TLS and SASL details.
    row("ssl.ca.location", "ssl_cafile", &[], Passthrough),
    row("ssl.certificate.location", "ssl_certfile", &[], Passthrough),
    row("ssl.key.location", "ssl_keyfile", &[], Passthrough),
    row("ssl.key.password", "ssl_password", &[], Passthrough),
    row("ssl.crl.location", "ssl_crlfile", &[], Passthrough),
    row("ssl.cipher.suites", "ssl_ciphers", &[], Passthrough),
    // A bool over librdkafka's https/none: the kafka-python name only.
    only_python("ssl.endpoint.identification.algorithm", "ssl_check_hostname", CheckHostname),
    row("sasl.kerberos.service.name", "sasl_kerberos_service_name", &[], Passthrough),
];

impl Setting {
    /// Every name of this row, kafka-python's first.
    fn names(&self) -> impl Iterator<Item = &'static str> {
        let canonical =
            (self.canonical_named && self.canonical != self.python).then_some(self.canonical);
        std::iter::once(self.python)
            .chain(canonical)
            .chain(self.others.iter().copied())
    }
}

/// Every accepted name: `(name, canonical name, kind)`.
pub fn aliases() -> impl Iterator<Item = (&'static str, &'static str, Kind)> {
    SETTINGS
        .iter()
        .flat_map(|s| s.names().map(move |name| (name, s.canonical, s.kind)))
}

/// The canonical name and kind of a name in the table.
pub fn lookup(name: &str) -> Option<(&'static str, Kind)> {
    aliases()
        .find(|(alias, _, _)| *alias == name)
        .map(|(_, canonical, kind)| (canonical, kind))
}

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
    ZERO_COPY_MESSAGES,
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
pub fn is_secret(canonical: &str) -> bool {
    canonical.contains("password")
        || canonical.contains("passphrase")
        || canonical.contains("secret")
        || canonical.ends_with("key.pem")
        || canonical == "sasl.oauthbearer.config"
        || canonical == KAFKA_URL
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::config::ClientConfig;

    #[test]
    fn every_alias_resolves_to_a_property_librdkafka_knows() {
        for (alias, canonical, kind) in crate::settings::aliases() {
            if matches!(kind, Kind::Passthrough) {
                let mut cc = ClientConfig::new();
                // An empty value is not valid for every property, but an
                // unknown property fails before its value is looked at.
                cc.set(canonical, "");
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
}
