//! Structured log records: a level, a message, the
//! controller (where) and the subject (which component), and an optional
//! JSON payload.
//!
//! By default records at warning and above go to stderr as one JSON line
//! each; `KAFKA_INSTANCE_LOG=off|error|warning|info|debug` changes that
//! level. A sink installed with [`set_sink`] replaces stderr.
//!
//! Guarantees:
//! - Every message and payload passes through [`crate::secrets::redact`].
//! - A record a client repeats in a loop (librdkafka's lines, a transient
//!   error at every poll) is emitted once per 10 s per client, then with
//!   the count of the repeats held back ([`log_repeating`]).
//! - Once [`set_sink`] returns, the previous sink is never called again:
//!   sinks run under a read lock that `set_sink` waits for.
//! - A sink that logs (directly or by calling into the library) does not
//!   deadlock: records logged from inside a sink go to stderr.

use std::cell::Cell;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::error::Error;
use crate::secrets;

/// Syslog-style severities, the values of the C enum `KafkaLogLevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 3,
    Warning = 4,
    Info = 6,
    Debug = 7,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }

    /// librdkafka's syslog levels (0 emergency .. 7 debug) in our four.
    pub fn from_syslog(level: i32) -> Level {
        match level {
            i32::MIN..=3 => Level::Error,
            4 => Level::Warning,
            5 | 6 => Level::Info,
            _ => Level::Debug,
        }
    }
}

/// One record, borrowed for the duration of a sink call.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub level: Level,
    pub message: &'a str,
    pub controller: &'a str,
    pub subject: &'a str,
    /// A JSON object with details, already redacted.
    pub payload_json: Option<&'a str>,
}

pub type Sink = Arc<dyn Fn(&Record<'_>) + Send + Sync>;

/// The threshold: records with `level <= MAX_LEVEL` are emitted; 0 is off.
static MAX_LEVEL: AtomicU8 = AtomicU8::new(UNSET);
const UNSET: u8 = u8::MAX;
static SINK: RwLock<Option<Sink>> = RwLock::new(None);

thread_local! {
    static IN_SINK: Cell<bool> = const { Cell::new(false) };
}

/// The level from `KAFKA_INSTANCE_LOG`, warning when unset or unknown.
fn default_threshold() -> u8 {
    static FROM_ENV: OnceLock<u8> = OnceLock::new();
    *FROM_ENV.get_or_init(|| match std::env::var("KAFKA_INSTANCE_LOG") {
        Ok(v) => match v.trim().to_ascii_lowercase().as_str() {
            "off" | "none" => 0,
            "error" => Level::Error as u8,
            "warning" | "warn" => Level::Warning as u8,
            "info" => Level::Info as u8,
            "debug" => Level::Debug as u8,
            _ => Level::Warning as u8,
        },
        Err(_) => Level::Warning as u8,
    })
}

fn threshold() -> u8 {
    match MAX_LEVEL.load(Ordering::Relaxed) {
        UNSET => default_threshold(),
        t => t,
    }
}

/// Whether a record at `level` would be emitted (cheap; check before
/// building an expensive message).
pub fn enabled(level: Level) -> bool {
    (level as u8) <= threshold()
}

/// Installs `sink` (or restores stderr with `None`) and the threshold:
/// records with a syslog level `<= max_level` are emitted, so 3 is errors
/// only, 7 everything, and anything below 3 turns logging off. `None` for
/// `max_level` restores the default (`KAFKA_INSTANCE_LOG`, else warning).
///
/// Called from inside a sink, this would wait for itself; it does nothing
/// and says so on stderr instead.
pub fn set_sink(sink: Option<Sink>, max_level: Option<i32>) {
    if IN_SINK.with(Cell::get) {
        write_stderr(&Record {
            level: Level::Error,
            message: "the log callback cannot be changed from inside the log callback; \
                      the call was ignored",
            controller: "kafka_instance.logging.set_callback",
            subject: "Kafka Logging",
            payload_json: None,
        });
        return;
    }
    let mut slot = SINK.write().unwrap_or_else(|e| e.into_inner());
    *slot = sink;
    let t = match max_level {
        None => UNSET,
        Some(l) if l < Level::Error as i32 => 0,
        Some(l) => l.min(Level::Debug as i32) as u8,
    };
    MAX_LEVEL.store(t, Ordering::Relaxed);
}

/// How long a record that a client repeats is held back: the first one
/// goes out, the repeats are counted, and the next one after the window
/// goes out saying how many there were.
const REPEAT_WINDOW: Duration = Duration::from_secs(10);

/// Records seen within the current window, by a hash of their source (the
/// client), level, controller and message (librdkafka's without their
/// figures): when the window began, and how many repeats were held back.
static REPEATS: Mutex<Option<HashMap<u64, (Instant, u64)>>> = Mutex::new(None);

/// A value unique to one client for the life of the process, for
/// [`log_repeating`]: an address would be reused by the next client, whose
/// first records would then pass for repeats.
pub fn new_source() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Whether a record of `source` goes out, and how many of its repeats were
/// held back before it (`Some(0)`: none). Debug records all go out: who
/// asks for them wants them all.
fn admit(source: usize, level: Level, controller: &str, message: &str) -> Option<u64> {
    if level == Level::Debug {
        return Some(0);
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (source, level as u8, controller).hash(&mut hasher);
    if controller.starts_with("librdkafka") {
        // librdkafka's lines of one repeated event differ in their figures
        // ("after 0ms", "1/1 brokers", "3 identical error(s) suppressed"):
        // one key for them all.
        let figures_out = message
            .split(", ")
            .filter(|part| !part.contains("identical error(s) suppressed"))
            .flat_map(|part| part.chars().filter(|c| !c.is_ascii_digit()));
        for c in figures_out {
            c.hash(&mut hasher);
        }
    } else {
        message.hash(&mut hasher);
    }
    let key = hasher.finish();
    let now = Instant::now();
    let mut repeats = REPEATS.lock().unwrap_or_else(|e| e.into_inner());
    let seen = repeats.get_or_insert_with(HashMap::new);
    if seen.len() > 4096 {
        seen.retain(|_, (since, _)| now.duration_since(*since) < REPEAT_WINDOW);
    }
    match seen.get_mut(&key) {
        Some((since, held)) if now.duration_since(*since) < REPEAT_WINDOW => {
            *held += 1;
            None
        }
        Some((since, held)) => {
            *since = now;
            Some(std::mem::take(held))
        }
        None => {
            seen.insert(key, (now, 0));
            Some(0)
        }
    }
}

/// Emits a record that a client may repeat in a loop (librdkafka's lines,
/// a transient error seen at every poll while a broker is down): once per
/// 10 s per client (`source`: any value unique to it), then with the count
/// of the repeats held back. Debug records are not held back.
pub fn log_repeating(
    source: usize,
    level: Level,
    controller: &str,
    subject: &str,
    message: &str,
    payload: Option<Value>,
) {
    if !enabled(level) {
        return;
    }
    let Some(held) = admit(source, level, controller, message) else {
        return;
    };
    if held == 0 {
        return log(level, controller, subject, message, payload);
    }
    let message = format!(
        "{message} (and {held} more time(s) in the last {} s)",
        REPEAT_WINDOW.as_secs()
    );
    log(level, controller, subject, &message, payload)
}

/// Emits one record (when its level is enabled).
pub fn log(level: Level, controller: &str, subject: &str, message: &str, payload: Option<Value>) {
    if !enabled(level) {
        return;
    }
    let message = secrets::redact(message);
    let payload = payload.map(|p| secrets::redact(&p.to_string()).into_owned());
    let record = Record {
        level,
        message: &message,
        controller,
        subject,
        payload_json: payload.as_deref(),
    };
    if IN_SINK.with(Cell::get) {
        write_stderr(&record);
        return;
    }
    let slot = SINK.read().unwrap_or_else(|e| e.into_inner());
    match slot.as_ref() {
        Some(sink) => {
            IN_SINK.with(|f| f.set(true));
            // A panicking sink must not poison logging for everyone else.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink(&record)));
            IN_SINK.with(|f| f.set(false));
        }
        None => write_stderr(&record),
    }
}

/// Logs a failure that is about to be returned to the caller, with its
/// code and librdkafka details as the payload.
pub fn log_failure(level: Level, controller: &str, subject: &str, code_name: &str, err: &Error) {
    if !enabled(level) {
        return;
    }
    let payload = json!({
        "code": code_name,
        "rdkafka_code": err.rdkafka_code,
        "retriable": err.retriable,
        "fatal": err.fatal,
    });
    log(level, controller, subject, &err.message, Some(payload));
}

/// One JSON line on stderr, written with a single call so that concurrent
/// records never interleave.
fn write_stderr(record: &Record<'_>) {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let payload: Value = record
        .payload_json
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or(Value::Null);
    let mut line = json!({
        "time_ms": millis,
        "log_type": record.level.name(),
        "message": record.message,
        "controller": record.controller,
        "subject": record.subject,
        "payload": payload,
    })
    .to_string();
    line.push('\n');
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// A rust-rdkafka client context that routes librdkafka's own log lines
/// and global errors into our records, with subject "librdkafka".
#[derive(Debug, Clone, Copy, Default)]
pub struct LibrdkafkaLog;

impl rdkafka::client::ClientContext for LibrdkafkaLog {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, message: &str) {
        forward_librdkafka_log(self as *const Self as usize, level as i32, fac, message);
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        forward_librdkafka_error(self as *const Self as usize, &error, reason);
    }
}

/// One librdkafka log line (`fac` is its facility, e.g. `FAIL`, `CONFWARN`)
/// of the client `source` (see [`log_repeating`]).
pub fn forward_librdkafka_log(source: usize, syslog_level: i32, fac: &str, message: &str) {
    let level = Level::from_syslog(syslog_level);
    if enabled(level) {
        let controller = format!("librdkafka.{}", fac.to_ascii_lowercase());
        log_repeating(
            source,
            level,
            &controller,
            "librdkafka",
            message,
            Some(json!({ "facility": fac })),
        );
    }
}

/// A global error from librdkafka (broker down, authentication failed...)
/// of the client `source` (see [`log_repeating`]).
pub fn forward_librdkafka_error(source: usize, error: &rdkafka::error::KafkaError, reason: &str) {
    let err = Error::from_rdkafka(error, reason);
    // "All brokers down" and transport failures are transient and retried by
    // librdkafka; they are warnings until an operation actually fails.
    let level = if err.fatal || !err.retriable {
        Level::Error
    } else {
        Level::Warning
    };
    if enabled(level) {
        let payload = json!({
            "rdkafka_code": err.rdkafka_code,
            "retriable": err.retriable,
            "fatal": err.fatal,
        });
        log_repeating(
            source,
            level,
            "librdkafka.error",
            "librdkafka",
            &err.message,
            Some(payload),
        );
    }
}

/// librdkafka's log level for a new client: everything, filtered by us, so
/// that a callback installed later at debug level still sees its lines.
pub fn rdkafka_log_level() -> rdkafka::config::RDKafkaLogLevel {
    rdkafka::config::RDKafkaLogLevel::Debug
}
