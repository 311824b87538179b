//! The library's error type. Every fallible operation in the safe layer
//! returns [`Error`]; the C boundary turns it into a `KafkaError` struct.

use std::fmt;

use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};

/// What kind of failure happened. The C enum `KafkaErrorCode` mirrors these
/// one to one (see `ffi::error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// NULL pointer, empty topic, invalid UTF-8, unknown enum value.
    InvalidArgument,
    /// Missing servers, unknown setting, invalid setting value.
    Config,
    /// A value that should be JSON is not.
    Serialization,
    /// The operation did not finish within its timeout.
    Timeout,
    /// The local producer queue is full.
    QueueFull,
    /// librdkafka or the broker reported an error; see `rdkafka_code`.
    Broker,
    /// A user callback returned non-zero.
    Callback,
    /// A looked-up key or item does not exist.
    NotFound,
    /// The caller's buffer cannot hold the answer.
    BufferTooSmall,
    /// Not allowed now: inside a callback of the same client where it would
    /// deadlock or free what is running, a client created in another
    /// process (before a fork), a client that is closing.
    State,
    /// A blocked poll was woken by `wakeup`.
    Wakeup,
    /// A bug in this library (a caught panic).
    Internal,
}

/// A failure, with librdkafka's details when it came from there.
///
/// `message` must never hold a secret: messages are built from key names and
/// positions, never from secret values, and the logging layer redacts every
/// registered secret once more before anything leaves the library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    /// librdkafka's `rd_kafka_resp_err_t`, 0 when none.
    pub rdkafka_code: i32,
    pub retriable: bool,
    pub fatal: bool,
    /// A transaction call failed in a way that the transaction must be
    /// aborted (and the producer can go on after that).
    pub txn_requires_abort: bool,
    pub message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            rdkafka_code: 0,
            retriable: false,
            fatal: false,
            txn_requires_abort: false,
            message: message.into(),
        }
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    pub fn state(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::State, message)
    }

    /// An error reported by librdkafka with a response/local error code.
    /// `context` says what we were doing ("creating topic \"orders\"").
    pub fn from_rdkafka_code(code: RDKafkaErrorCode, context: &str) -> Self {
        let kind = match code {
            RDKafkaErrorCode::OperationTimedOut
            | RDKafkaErrorCode::MessageTimedOut
            | RDKafkaErrorCode::RequestTimedOut => ErrorKind::Timeout,
            RDKafkaErrorCode::QueueFull => ErrorKind::QueueFull,
            _ => ErrorKind::Broker,
        };
        Error {
            kind,
            rdkafka_code: code as i32,
            retriable: is_retriable(code),
            fatal: code == RDKafkaErrorCode::Fatal,
            txn_requires_abort: false,
            message: format!("{context}: {code}"),
        }
    }

    /// Converts an error from rust-rdkafka. Configuration errors become
    /// [`ErrorKind::Config`]; everything with a librdkafka code keeps it.
    pub fn from_rdkafka(err: &RdKafkaError, context: &str) -> Self {
        if let RdKafkaError::ClientConfig(_, description, key, _value) = err {
            // The description may quote the value; it is only ever built for
            // non-secret keys by the config layer, which checks secrets itself.
            return Error::config(format!("{context}: {key}: {}", description.trim_end()));
        }
        if let RdKafkaError::ClientCreation(reason) = err {
            return Error::config(format!("{context}: {reason}"));
        }
        let code = match err {
            RdKafkaError::AdminOp(code) => Some(*code),
            other => other.rdkafka_error_code(),
        };
        match code {
            Some(code) => {
                let mut e = Error::from_rdkafka_code(code, context);
                if let RdKafkaError::MessageConsumptionFatal(_) = err {
                    e.fatal = true;
                }
                if let RdKafkaError::Transaction(rich) = err {
                    e.fatal = rich.is_fatal();
                    e.retriable = rich.is_retriable();
                    e.txn_requires_abort = rich.txn_requires_abort();
                }
                e
            }
            None => Error::new(ErrorKind::Broker, format!("{context}: {err}")),
        }
    }

    /// Prefixes the message with what the caller was doing.
    pub fn context(mut self, context: &str) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Whether retrying the same request may succeed: the Kafka protocol's
/// retriable errors plus librdkafka's transient local ones.
fn is_retriable(code: RDKafkaErrorCode) -> bool {
    use RDKafkaErrorCode as C;
    matches!(
        code,
        C::BrokerTransportFailure
            | C::AllBrokersDown
            | C::OperationTimedOut
            | C::MessageTimedOut
            | C::QueueFull
            | C::Retry
            | C::UnknownTopicOrPartition
            | C::LeaderNotAvailable
            | C::NotLeaderForPartition
            | C::RequestTimedOut
            | C::NetworkException
            | C::CoordinatorLoadInProgress
            | C::CoordinatorNotAvailable
            | C::NotCoordinator
            | C::NotEnoughReplicas
            | C::NotEnoughReplicasAfterAppend
            | C::KafkaStorageError
            | C::FetchSessionIdNotFound
            | C::InvalidFetchSessionEpoch
            | C::ListenerNotFound
            | C::FencedLeaderEpoch
            | C::UnknownLeaderEpoch
            | C::OffsetNotAvailable
            | C::PreferredLeaderNotAvailable
            | C::EligibleLeadersNotAvailable
            | C::ElectionNotNeeded
            | C::ConcurrentTransactions
            | C::ThrottlingQuotaExceeded
            | C::UnstableOffsetCommit
    )
}

/// Whether `code` says the connection itself was refused for security
/// reasons: SASL authentication or the TLS handshake. librdkafka retries
/// these forever, so without help an operation only ever sees a timeout.
pub fn is_security_code(code: RDKafkaErrorCode) -> bool {
    use RDKafkaErrorCode as C;
    matches!(
        code,
        C::Authentication
            | C::SSL
            | C::SaslAuthenticationFailed
            | C::UnsupportedSASLMechanism
            | C::IllegalSASLState
    )
}

/// The last authentication or TLS failure a client's connections met, kept
/// so that a timeout can say why nothing got through. Cleared by the next
/// sign of a working connection (a delivery, a fetched message).
#[derive(Debug, Default)]
pub struct SecurityFailure {
    failure: std::sync::Mutex<Option<Error>>,
    /// Whether `failure` is set: lets `clear`, called once per delivered
    /// or fetched message, skip the lock in the common case.
    set: std::sync::atomic::AtomicBool,
    /// How many failures were noted: a reader remembers the count it last
    /// reported, to report each new one once.
    notes: std::sync::atomic::AtomicU64,
}

impl SecurityFailure {
    /// How many failures were noted so far.
    pub fn notes(&self) -> u64 {
        self.notes.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Records `err` when it is a security failure: a refused SASL login or
    /// TLS handshake, or a connection dropped during the TLS handshake
    /// (librdkafka reports a TLS client talking to a plaintext listener as
    /// a transport failure, "SSL handshake failed").
    /// Returns whether it was one.
    pub fn note(&self, err: &RdKafkaError, reason: &str) -> bool {
        let tls_dropped = |c: &RDKafkaErrorCode| {
            *c == RDKafkaErrorCode::BrokerTransportFailure
                && reason.contains("SSL handshake failed")
        };
        if let Some(code) = err
            .rdkafka_error_code()
            .filter(|c| is_security_code(*c) || tls_dropped(c))
        {
            let mut e = Error::from_rdkafka_code(code, reason);
            e.retriable = false;
            *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
            self.set.store(true, std::sync::atomic::Ordering::Release);
            self.notes.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
            return true;
        }
        false
    }

    pub fn clear(&self) {
        // A load first: the hot path (every message) writes nothing.
        if self.set.load(std::sync::atomic::Ordering::Acquire)
            && self.set.swap(false, std::sync::atomic::Ordering::AcqRel)
        {
            *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
    }

    pub fn get(&self) -> Option<Error> {
        if !self.set.load(std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        self.failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// `timeout` as is, or, when a security failure is on record, that
    /// failure ([`ErrorKind::Broker`], not retriable) with `timeout`'s message
    /// in front: what the caller waited for, then why it never came.
    pub fn explain(&self, timeout: Error) -> Error {
        match self.get() {
            Some(failure) => Error {
                message: format!("{}: {}", timeout.message, failure.message),
                ..failure
            },
            None => timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_and_full_queues_get_their_own_kind() {
        let e = Error::from_rdkafka_code(RDKafkaErrorCode::MessageTimedOut, "sending");
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert!(e.retriable);
        assert_eq!(e.rdkafka_code, -192);
        let e = Error::from_rdkafka_code(RDKafkaErrorCode::QueueFull, "sending");
        assert_eq!(e.kind, ErrorKind::QueueFull);
        let e = Error::from_rdkafka_code(RDKafkaErrorCode::TopicAuthorizationFailed, "sending");
        assert_eq!(e.kind, ErrorKind::Broker);
        assert!(!e.retriable);
        assert!(!e.fatal);
        let e = Error::from_rdkafka_code(RDKafkaErrorCode::Fatal, "sending");
        assert!(e.fatal);
    }
}
