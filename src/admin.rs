//! Cluster administration: topics, metadata, groups. One admin client per
//! instance, made on first use and kept (API.md "Admin"; a librdkafka
//! client is threads and connections, not something to make per call).
//!
//! rust-rdkafka's admin client serves only its own result queue, so
//! librdkafka's log lines and errors (a refused login, a failed TLS
//! handshake) would pile up unseen on the main queue. A thread of ours
//! serves that queue: log lines become records, and a security refusal
//! ends the admin calls waiting on it with that refusal instead of a
//! timeout, as it does for producers and consumers.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};
use rdkafka::util::Timeout;
use rdkafka::TopicPartitionList;

use crate::config::Resolved;
use crate::error::{Error, ErrorKind, Result, SecurityFailure};
use crate::events::{EventSink, EventThread};
use crate::sys::admin::{self as native_admin, Outcome, TopicRequest};
use crate::sys::{self, Queue};
use crate::logging::{self, LibrdkafkaLog};
use crate::oauth::{self, TokenRefresher};
use crate::statistics::{self, Reporter};
use crate::topic;

/// How often an admin call waiting on librdkafka checks for a security
/// refusal.
const CHECK_SLICE: Duration = Duration::from_millis(100);

/// The admin client of one instance.
pub struct Admin {
    /// Declared before `client`: stopped (and its queue released) first.
    _oauth: Option<TokenRefresher>,
    _events: EventThread,
    client: Arc<AdminClient<LibrdkafkaLog>>,
    security: Arc<SecurityFailure>,
    /// [`sys::fork_generation`] when made: a child of a fork makes its
    /// own (the threads of this one do not exist there).
    generation: u64,
    /// Set when librdkafka 2.12 would abort in destroying this client: a
    /// DeleteGroups refused as unsupported leaves a reference count one
    /// short (reproduced with rust-rdkafka alone, against the mock
    /// cluster). Such a client is never destroyed, and the instance makes
    /// a new one.
    never_destroy: AtomicBool,
    /// Set when a request to a group coordinator is still out after its
    /// caller stopped waiting: the instance stops using this client, which
    /// is destroyed once the calls in progress let go of it (see
    /// `sys::admin`: librdkafka must not time such a request out).
    retired: AtomicBool,
    /// The instance's slot holding this client, to leave it when retired.
    slot: OnceLock<Weak<Mutex<Option<Arc<Admin>>>>>,
}

/// Where the admin client's log lines, errors and statistics go.
struct AdminSink {
    source: usize,
    security: Arc<SecurityFailure>,
    statistics: Option<Reporter>,
}

impl EventSink for AdminSink {
    fn log(&self, syslog_level: i32, facility: &str, message: &str) {
        logging::forward_librdkafka_log(self.source, syslog_level, facility, message);
    }

    fn error(&self, code: RDKafkaErrorCode, reason: &str) {
        let e = RdKafkaError::Global(code);
        self.security.note(&e, reason);
        logging::forward_librdkafka_error(self.source, &e, reason);
    }

    fn statistics(&self, json: &str) {
        if let Some(reporter) = &self.statistics {
            reporter.offer(json);
        }
    }
}

impl Admin {
    fn new(config: &Resolved) -> Result<Self> {
        let mut cc = config.client_config();
        cc.set_log_level(logging::rdkafka_log_level());
        // Describing a topic must not create it (a producer-type client
        // asks brokers to, by default).
        cc.set("allow.auto.create.topics", "false");
        let client: AdminClient<LibrdkafkaLog> = cc
            .create_with_context(LibrdkafkaLog)
            .map_err(|e| Error::from_rdkafka(&e, "creating the admin client"))?;
        let client = Arc::new(client);
        let main = Queue::main_of(client.inner())
            .map_err(|e| Error::new(ErrorKind::Internal, format!("admin client: {e}")))?;
        let security = Arc::new(SecurityFailure::default());
        let sink = Arc::new(AdminSink {
            source: Arc::as_ptr(&client) as usize,
            security: Arc::clone(&security),
            statistics: statistics::reporter_for(&config.statistics, 0)?,
        });
        let events = EventThread::start("kafka-admin", main, sink, Arc::clone(&client), |_| {})
            .map_err(|e| {
                Error::new(
                    ErrorKind::Internal,
                    format!("admin client: no thread for its events: {e}"),
                )
            })?;
        let oauth = oauth::refresher_for(
            config.oauth.as_ref(),
            config.get("sasl.oauthbearer.config"),
            Arc::clone(&client),
            |c: &Arc<AdminClient<LibrdkafkaLog>>| c.inner(),
            Arc::as_ptr(&client) as usize,
        )?;
        Ok(Admin {
            _oauth: oauth,
            _events: events,
            client,
            security,
            generation: sys::fork_generation(),
            never_destroy: AtomicBool::new(false),
            retired: AtomicBool::new(false),
            slot: OnceLock::new(),
        })
    }

    /// Runs an admin future to completion, ended early by a security
    /// refusal of this client.
    fn wait<F: Future>(&self, future: F, context: &str) -> Result<F::Output> {
        struct Unpark(Thread);
        impl Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(Unpark(thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return Ok(out);
            }
            if let Some(e) = self.security.get() {
                return Err(e.context(context));
            }
            thread::park_timeout(CHECK_SLICE);
        }
    }

    /// A timeout becomes the security refusal that explains it.
    fn explain(&self, e: Error) -> Error {
        match (e.kind, self.security.get()) {
            (ErrorKind::Timeout, Some(refusal)) => refusal,
            _ => e,
        }
    }

    /// What a native admin request came to, as a Result: a refusal keeps
    /// the broker's own words; an interrupted wait is the security
    /// refusal that interrupted it.
    fn outcome<T>(&self, outcome: Outcome<T>, context: &str) -> Result<T> {
        match outcome {
            Outcome::Done(t) => Ok(t),
            Outcome::Failed(code, why) => {
                let mut e = self.explain(Error::from_rdkafka_code(code, context));
                if !why.is_empty() && !e.message.contains(&why) {
                    e.message = format!("{}: {why}", e.message);
                }
                Err(e)
            }
            Outcome::Interrupted => Err(self.explain(Error::new(ErrorKind::Timeout, context))),
            Outcome::TimedOut => Err(Error::new(
                ErrorKind::Timeout,
                format!("{context}: the group's coordinator did not answer in time"),
            )),
        }
    }

    /// As [`Admin::outcome`], for a request to a group's coordinator: one
    /// still out when the wait ended retires this client.
    fn coordinator_outcome<T>(&self, outcome: Outcome<T>, context: &str) -> Result<T> {
        if matches!(outcome, Outcome::TimedOut | Outcome::Interrupted) {
            self.retire();
        }
        self.outcome(outcome, context)
    }

    /// Leaves the instance's slot: the next admin call makes a new
    /// client, and this one is destroyed on a thread of its own once the
    /// calls still using it return.
    fn retire(&self) {
        if self.retired.swap(true, Ordering::AcqRel) {
            return;
        }
        let Some(slot) = self.slot.get().and_then(Weak::upgrade) else {
            return;
        };
        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        if slot
            .as_ref()
            .is_some_and(|a| std::ptr::eq(Arc::as_ptr(a), self))
        {
            if let Some(me) = slot.take() {
                drop(slot);
                if let Err(e) = sys::release_last_on_a_thread(me) {
                    let why =
                        format!("a retired admin client is kept: no thread to release it: {e}");
                    logging::log(
                        logging::Level::Warning,
                        "kafka_instance.admin",
                        "admin client",
                        &why,
                        None,
                    );
                }
            }
        }
    }

    /// Sends one topic request and waits for the broker's answer.
    fn topic_request(
        &self,
        what: TopicRequest<'_>,
        wait: Option<Duration>,
        context: &str,
    ) -> Result<()> {
        let wait = self.check_controller(wait, context)?;
        let stop = || self.security.get().is_some();
        let outcome = native_admin::topic_request(self.client.inner(), what, wait, &stop);
        self.outcome(outcome, context)
    }

    /// Refuses at once a request for the cluster's controller (topics
    /// created, deleted or grown, settings read or changed) when the
    /// controller the cluster names is none of its brokers: librdkafka
    /// would wait for it until the timeout. librdkafka's embedded broker
    /// names broker 0, which does not exist, and answers none of these
    /// requests; a broker that lacks one of them is refused by librdkafka
    /// itself, at once.
    /// Returns what is left of `wait` for the request itself.
    fn check_controller(&self, wait: Option<Duration>, context: &str) -> Result<Option<Duration>> {
        let deadline = wait.map(|w| Instant::now() + w);
        let left = || deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let slice = || left().map_or(CONTROLLER_WAIT, |l| l.min(CONTROLLER_WAIT));
        let client = self.client.inner();
        if sys::controller_id(client, slice()).is_none() {
            return Ok(left());
        }
        // A fresh answer, and the controller it names (the one cached
        // before may have moved): without an answer, the request goes as
        // it is (and waits).
        let Some(brokers) = sys::broker_ids(client, slice()) else {
            return Ok(left());
        };
        let id = sys::controller_id(client, Duration::ZERO);
        match id {
            Some(id) if !brokers.contains(&id) => {}
            _ => return Ok(left()),
        }
        let id = id.unwrap_or_default();
        let mut e = Error::from_rdkafka_code(RDKafkaErrorCode::UnsupportedFeature, context);
        e.message = format!(
            "{}: {}",
            e.message,
            format_args!(
                "the cluster names broker {id} its controller, and has no such broker, so it \
                 answers no request for the controller (creating, deleting or growing topics, \
                 reading or changing their settings); librdkafka's embedded broker is such a \
                 cluster: create its topics with kafka_mock_cluster_create_topic"
            )
        );
        Err(e)
    }

    /// The cluster's metadata (all topics, or `topic`), asked in slices
    /// that grow (250 ms, 500 ms, ...) up to `wait`, so that a refused
    /// login ends the wait early.
    fn metadata(
        &self,
        topic: Option<&str>,
        wait: Option<Duration>,
        context: &str,
    ) -> Result<rdkafka::metadata::Metadata> {
        let deadline = wait.map(|w| Instant::now() + w);
        let mut slice = Duration::from_millis(250);
        loop {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let this = left.map_or(slice, |l| l.min(slice));
            match self.client.inner().fetch_metadata(topic, this) {
                Ok(m) => {
                    self.security.clear();
                    return Ok(m);
                }
                Err(e) => {
                    let e = Error::from_rdkafka(&e, context);
                    if let Some(refusal) = self.security.get() {
                        return Err(refusal.context(context));
                    }
                    let more = left.is_none_or(|l| l > this);
                    if e.kind != ErrorKind::Timeout || !more {
                        return Err(e);
                    }
                }
            }
            slice = (slice * 2).min(Duration::from_secs(4));
        }
    }
}

impl Drop for Admin {
    fn drop(&mut self) {
        let forked = self.generation != sys::fork_generation();
        if forked || self.never_destroy.load(Ordering::Acquire) {
            // In a forked child its threads do not exist; see
            // `never_destroy` for the other case. Never destroyed.
            std::mem::forget(Arc::clone(&self.client));
        }
        // Then `events` stops (joined unless this is its own thread, which
        // then releases its reference when the running callback returns).
    }
}

/// How long a controller request waits for the cluster to name its
/// controller before it goes to librdkafka as it is.
const CONTROLLER_WAIT: Duration = Duration::from_secs(2);

/// The admin client of an instance: made on first use, shared by its
/// clones, remade in a forked child.
#[derive(Clone, Default)]
pub struct Shared(Arc<Mutex<Option<Arc<Admin>>>>);

impl Shared {
    pub fn get(&self, config: &Resolved) -> Result<Arc<Admin>> {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(admin) = slot.as_ref() {
            let usable = !admin.never_destroy.load(Ordering::Acquire)
                && !admin.retired.load(Ordering::Acquire);
            if admin.generation == sys::fork_generation() && usable {
                return Ok(Arc::clone(admin));
            }
        }
        let admin = Arc::new(Admin::new(config)?);
        let _ = admin.slot.set(Arc::downgrade(&self.0));
        // An inherited one is dropped here: its Drop releases nothing.
        *slot = Some(Arc::clone(&admin));
        Ok(admin)
    }
}

fn options(wait: Option<Duration>) -> AdminOptions {
    let t = wait.map_or(Timeout::Never, Timeout::After);
    AdminOptions::new()
        .request_timeout(Some(t))
        .operation_timeout(Some(t))
}

impl Admin {
    pub fn create_topic(
        &self,
        name: &str,
        partitions: i32,
        replication_factor: i32,
        wait: Option<Duration>,
    ) -> Result<()> {
        topic::validate(name)?;
        at_least("partitions", partitions, 1)?;
        at_least("replication_factor", replication_factor, 1)?;
        let context = format!("creating topic {name:?}");
        let what = TopicRequest::Create {
            name,
            partitions,
            replication_factor,
        };
        self.topic_request(what, wait, &context)
    }

    pub fn delete_topic(&self, name: &str, wait: Option<Duration>) -> Result<()> {
        topic::validate(name)?;
        let context = format!("deleting topic {name:?}");
        self.topic_request(TopicRequest::Delete { name }, wait, &context)
    }

    /// The cluster's topic names, sorted, without internal topics (names
    /// starting with `__`, such as `__consumer_offsets`).
    pub fn list_topics(&self, wait: Option<Duration>) -> Result<Vec<String>> {
        let metadata = self.metadata(None, wait, "listing topics")?;
        let mut names: Vec<String> = metadata
            .topics()
            .iter()
            .map(|t| t.name().to_owned())
            .filter(|n| !n.starts_with("__"))
            .collect();
        names.sort();
        Ok(names)
    }

    /// Brokers and partitions: of every topic (`topic` None, internal
    /// topics left out), or of one topic (which must exist).
    pub fn describe(&self, topic: Option<&str>, wait: Option<Duration>) -> Result<Cluster> {
        if let Some(t) = topic {
            topic::validate(t)?;
        }
        let context = match topic {
            Some(t) => format!("describing topic {t:?}"),
            None => "describing the cluster".to_owned(),
        };
        let metadata = self.metadata(topic, wait, &context)?;
        let mut cluster = Cluster {
            id: sys::cluster_id(self.client.inner(), Duration::from_secs(1)),
            brokers: metadata
                .brokers()
                .iter()
                .map(|b| BrokerInfo {
                    id: b.id(),
                    host: b.host().to_owned(),
                    port: b.port(),
                })
                .collect(),
            partitions: Vec::new(),
        };
        cluster.brokers.sort_by_key(|b| b.id);
        for t in metadata.topics() {
            if topic.is_none() && t.name().starts_with("__") {
                continue;
            }
            if let Some(e) = t.error() {
                let code = RDKafkaErrorCode::from(e);
                if topic.is_some() {
                    return Err(Error::from_rdkafka_code(code, &context));
                }
                continue;
            }
            for p in t.partitions() {
                cluster.partitions.push(PartitionInfo {
                    topic: t.name().to_owned(),
                    partition: p.id(),
                    leader: p.leader(),
                    replicas: p.replicas().to_vec(),
                    in_sync: p.isr().to_vec(),
                    error: p.error().map(RDKafkaErrorCode::from),
                });
            }
        }
        cluster
            .partitions
            .sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
        Ok(cluster)
    }

    /// The consumer groups the brokers know (`group` None), or one group
    /// with its members and their assignments.
    pub fn groups(&self, group: Option<&str>, wait: Option<Duration>) -> Result<Vec<GroupInfo>> {
        if group == Some("") {
            return Err(Error::invalid_argument("group must not be empty"));
        }
        let context = match group {
            Some(g) => format!("describing group {g:?}"),
            None => "listing groups".to_owned(),
        };
        let t = wait.map_or(Timeout::Never, Timeout::After);
        let list = self
            .client
            .inner()
            .fetch_group_list(group, t)
            .map_err(|e| self.explain(Error::from_rdkafka(&e, &context)))?;
        let mut groups: Vec<GroupInfo> = list
            .groups()
            .iter()
            .map(|g| GroupInfo {
                name: g.name().to_owned(),
                state: g.state().to_owned(),
                protocol_type: g.protocol_type().to_owned(),
                protocol: g.protocol().to_owned(),
                members: g
                    .members()
                    .iter()
                    .map(|m| GroupMember {
                        id: m.id().to_owned(),
                        client_id: m.client_id().to_owned(),
                        host: m.client_host().to_owned(),
                        assignment: m.assignment().map(decode_assignment).unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect();
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(groups)
    }

    /// The offsets `group` has committed, per partition, sorted: of
    /// `partitions` (each listed, -1001 where nothing is committed), or of
    /// every partition it committed (None).
    pub fn group_offsets(
        &self,
        group: &str,
        partitions: Option<&[(&str, i32)]>,
        wait: Option<Duration>,
    ) -> Result<Vec<Committed>> {
        if group.is_empty() {
            return Err(Error::invalid_argument("group must not be empty"));
        }
        for (t, p) in partitions.unwrap_or_default() {
            topic::validate(t)?;
            at_least("partition", *p, 0)?;
        }
        let context = format!("reading the committed offsets of group {group:?}");
        let stop = || self.security.get().is_some();
        let outcome =
            native_admin::group_offsets(self.client.inner(), group, partitions, wait, &stop);
        let mut offsets = self.coordinator_outcome(outcome, &context)?;
        offsets.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
        Ok(offsets
            .into_iter()
            .map(|o| Committed {
                topic: o.topic,
                partition: o.partition,
                offset: if o.offset >= 0 { o.offset } else { NO_OFFSET },
            })
            .collect())
    }

    /// Per partition the group committed an offset for: the committed
    /// offset and the partition's watermarks (lag is high minus
    /// committed).
    pub fn group_lag(
        &self,
        group: &str,
        partitions: Option<&[(&str, i32)]>,
        wait: Option<Duration>,
    ) -> Result<Vec<Lag>> {
        let deadline = wait.map(|w| Instant::now() + w);
        let left = || deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let committed = self.group_offsets(group, partitions, left())?;
        let mut lags = Vec::with_capacity(committed.len());
        for c in committed {
            let context = format!("reading the watermarks of {}[{}]", c.topic, c.partition);
            let t = left().map_or(Timeout::Never, Timeout::After);
            let (low, high) = self
                .client
                .inner()
                .fetch_watermarks(&c.topic, c.partition, t)
                .map_err(|e| self.explain(Error::from_rdkafka(&e, &context)))?;
            let lag = if c.offset >= 0 {
                (high - c.offset).max(0)
            } else {
                high - low
            };
            lags.push(Lag {
                committed: c,
                low,
                high,
                lag,
            });
        }
        Ok(lags)
    }

    pub fn delete_group(&self, group: &str, wait: Option<Duration>) -> Result<()> {
        if group.is_empty() {
            return Err(Error::invalid_argument("group must not be empty"));
        }
        let context = format!("deleting group {group:?}");
        let stop = || self.security.get().is_some();
        let outcome = native_admin::delete_group(self.client.inner(), group, wait, &stop);
        if matches!(
            outcome,
            Outcome::Failed(RDKafkaErrorCode::UnsupportedFeature, _)
        ) {
            self.never_destroy.store(true, Ordering::Release);
        }
        self.coordinator_outcome(outcome, &context)
    }

    /// Grows `topic` to `total` partitions.
    pub fn create_partitions(&self, name: &str, total: i32, wait: Option<Duration>) -> Result<()> {
        topic::validate(name)?;
        at_least("total", total, 1)?;
        let context = format!("growing topic {name:?} to {total} partitions");
        let what = TopicRequest::CreatePartitions { name, total };
        self.topic_request(what, wait, &context)
    }

    /// Deletes the records of `topic`'s `partition` before `offset`
    /// (`-1`: all of them); returns the partition's new low watermark.
    pub fn delete_records(
        &self,
        name: &str,
        partition: i32,
        offset: i64,
        wait: Option<Duration>,
    ) -> Result<i64> {
        topic::validate(name)?;
        at_least("partition", partition, 0)?;
        if offset < -1 {
            return Err(Error::invalid_argument(format!(
                "offset must be 0 or more, or -1 (all records), not {offset}"
            )));
        }
        let context = format!("deleting the records of {name}[{partition}] before {offset}");
        let mut list = TopicPartitionList::new();
        let at = match offset {
            -1 => rdkafka::Offset::End,
            o => rdkafka::Offset::Offset(o),
        };
        list.add_partition_offset(name, partition, at)
            .map_err(|e| Error::from_rdkafka(&e, &context))?;
        let result = self
            .wait(self.client.delete_records(&list, &options(wait)), &context)?
            .map_err(|e| self.explain(Error::from_rdkafka(&e, &context)))?;
        let element = result
            .elements()
            .into_iter()
            .next()
            .ok_or_else(|| Error::new(ErrorKind::Broker, format!("{context}: no result")))?;
        element
            .error()
            .map_err(|e| Error::from_rdkafka(&e, &context))?;
        match element.offset() {
            rdkafka::Offset::Offset(o) => Ok(o),
            other => Err(Error::new(
                ErrorKind::Broker,
                format!("{context}: the broker answered {other:?}"),
            )),
        }
    }
}

impl Admin {
    /// Every setting of `topic` as the broker reports it, sorted by name.
    pub fn topic_config(&self, name: &str, wait: Option<Duration>) -> Result<Vec<TopicSetting>> {
        topic::validate(name)?;
        let context = format!("describing the settings of topic {name:?}");
        let wait = self.check_controller(wait, &context)?;
        let stop = || self.security.get().is_some();
        let outcome = native_admin::topic_settings(self.client.inner(), name, wait, &stop);
        let mut settings: Vec<TopicSetting> = self
            .outcome(outcome, &context)?
            .into_iter()
            .map(|e| TopicSetting {
                value: if e.is_sensitive { None } else { e.value },
                set_on_topic: e.set_on_topic,
                name: e.name,
                is_default: e.is_default,
                is_read_only: e.is_read_only,
                is_sensitive: e.is_sensitive,
            })
            .collect();
        settings.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(settings)
    }

    /// Sets (`Some`) or resets to the default (`None`) the `changes` of
    /// `topic`, keeping its other settings: with IncrementalAlterConfigs
    /// (Kafka 2.3 and later), which changes only the settings named. A
    /// broker without it gets AlterConfigs, which replaces a topic's whole
    /// set: the settings made on the topic are read first and sent again
    /// with the changes (a change made by someone else in between is
    /// lost), and a topic with a sensitive setting of its own (whose value
    /// no broker shows) is refused rather than losing it.
    pub fn alter_topic_config(
        &self,
        name: &str,
        changes: &[(&str, Option<&str>)],
        wait: Option<Duration>,
    ) -> Result<()> {
        topic::validate(name)?;
        if changes.is_empty() {
            return Err(Error::invalid_argument("no settings to change"));
        }
        for (key, _) in changes {
            if key.trim().is_empty() {
                return Err(Error::invalid_argument("a setting name is empty"));
            }
        }
        let deadline = wait.map(|w| Instant::now() + w);
        let left = || deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let context = format!("changing the settings of topic {name:?}");
        self.check_controller(wait, &context)?;
        let what = TopicRequest::ChangeConfigs { name, changes };
        let stop = || self.security.get().is_some();
        let outcome = native_admin::topic_request(self.client.inner(), what, left(), &stop);
        let unsupported = [
            RDKafkaErrorCode::UnsupportedFeature,
            RDKafkaErrorCode::UnsupportedVersion,
        ];
        match outcome {
            Outcome::Failed(code, _) if unsupported.contains(&code) => {}
            other => return self.outcome(other, &context),
        }
        let current = self.topic_config(name, left())?;
        let changed = |n: &str| changes.iter().any(|(k, _)| *k == n);
        if let Some(s) = current
            .iter()
            .find(|s| s.set_on_topic && s.value.is_none() && !changed(&s.name))
        {
            let why = format!(
                "{context}: the broker has no IncrementalAlterConfigs, and resending the \
                 topic's settings would lose {:?}, whose value it does not show",
                s.name
            );
            return Err(Error::from_rdkafka_code(
                RDKafkaErrorCode::UnsupportedFeature,
                &why,
            ));
        }
        let kept = merged_settings(current, changes);
        let what = TopicRequest::AlterConfigs {
            name,
            settings: &kept,
        };
        self.topic_request(what, left(), &context)
    }
}

/// What AlterConfigs must be sent for `changes` (`None`: back to the
/// inherited value) to apply to a topic whose settings are `current`:
/// the settings made on the topic, changed.
fn merged_settings(
    current: Vec<TopicSetting>,
    changes: &[(&str, Option<&str>)],
) -> Vec<(String, String)> {
    let mut kept: Vec<(String, String)> = current
        .into_iter()
        .filter(|s| s.set_on_topic)
        .filter_map(|s| Some((s.name, s.value?)))
        .collect();
    for (key, value) in changes {
        kept.retain(|(k, _)| k != key);
        if let Some(v) = value {
            kept.push(((*key).to_owned(), (*v).to_owned()));
        }
    }
    kept
}

/// One setting of a topic, as [`Admin::topic_config`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSetting {
    pub name: String,
    /// None for a sensitive setting (never shown) or one without a value.
    pub value: Option<String>,
    /// Set on the topic itself (not inherited from the broker).
    pub set_on_topic: bool,
    pub is_default: bool,
    pub is_read_only: bool,
    pub is_sensitive: bool,
}

/// A committed offset that is not there (librdkafka's `OFFSET_INVALID`).
pub(crate) const NO_OFFSET: i64 = -1001;

fn at_least(name: &str, value: i32, min: i32) -> Result<()> {
    match value >= min {
        true => Ok(()),
        false => Err(Error::invalid_argument(format!(
            "{name} must be at least {min}, not {value}"
        ))),
    }
}

/// Brokers and partitions, as [`Admin::describe`] found them.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// None when the broker did not say in time (or is too old to).
    pub id: Option<String>,
    pub brokers: Vec<BrokerInfo>,
    /// Sorted by topic, then partition.
    pub partitions: Vec<PartitionInfo>,
}

#[derive(Debug, Clone)]
pub struct BrokerInfo {
    pub id: i32,
    pub host: String,
    pub port: i32,
}

#[derive(Debug, Clone)]
pub struct PartitionInfo {
    pub topic: String,
    pub partition: i32,
    /// -1: no leader now.
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub in_sync: Vec<i32>,
    pub error: Option<RDKafkaErrorCode>,
}

#[derive(Debug, Clone)]
pub struct GroupInfo {
    pub name: String,
    /// As the coordinator says: "Stable", "Empty", "PreparingRebalance"...
    pub state: String,
    pub protocol_type: String,
    /// The assignor in use ("range", "cooperative-sticky"...).
    pub protocol: String,
    pub members: Vec<GroupMember>,
}

#[derive(Debug, Clone)]
pub struct GroupMember {
    pub id: String,
    pub client_id: String,
    pub host: String,
    /// (topic, partition), sorted.
    pub assignment: Vec<(String, i32)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub topic: String,
    pub partition: i32,
    /// -1001 (`KAFKA_OFFSET_NONE`): nothing committed.
    pub offset: i64,
}

#[derive(Debug, Clone)]
pub struct Lag {
    pub committed: Committed,
    pub low: i64,
    pub high: i64,
    /// High watermark minus the committed offset (with nothing
    /// committed, everything retained: high minus low).
    pub lag: i64,
}

/// The (topic, partition) pairs of a consumer-protocol assignment
/// (version, then an array of topic and partition array, then user data);
/// an assignment in another shape (another protocol type) gives none.
fn decode_assignment(bytes: &[u8]) -> Vec<(String, i32)> {
    fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (b.get(..n)?, b.get(n..)?);
        *b = rest;
        Some(head)
    }
    fn int16(b: &mut &[u8]) -> Option<i16> {
        take(b, 2).map(|x| i16::from_be_bytes([x[0], x[1]]))
    }
    fn int32(b: &mut &[u8]) -> Option<i32> {
        take(b, 4).map(|x| i32::from_be_bytes([x[0], x[1], x[2], x[3]]))
    }
    let parse = |mut b: &[u8]| -> Option<Vec<(String, i32)>> {
        let _version = int16(&mut b)?;
        let mut out = Vec::new();
        for _ in 0..int32(&mut b)?.max(0) {
            let len = int16(&mut b)?.max(0) as usize;
            let name = String::from_utf8_lossy(take(&mut b, len)?).into_owned();
            for _ in 0..int32(&mut b)?.max(0) {
                out.push((name.clone(), int32(&mut b)?));
            }
        }
        out.sort();
        Some(out)
    };
    parse(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::{decode_assignment, merged_settings, TopicSetting};

    fn setting(name: &str, value: Option<&str>, set_on_topic: bool) -> TopicSetting {
        TopicSetting {
            name: name.into(),
            value: value.map(Into::into),
            set_on_topic,
            is_default: !set_on_topic,
            is_read_only: false,
            is_sensitive: value.is_none(),
        }
    }

    #[test]
    fn a_change_keeps_the_topics_other_settings_and_drops_inherited_ones() {
        let current = vec![
            setting("retention.ms", Some("1000"), true),
            setting("cleanup.policy", Some("delete"), false),
            setting("max.message.bytes", Some("2000"), true),
            setting("secret.thing", None, true),
        ];
        let got = merged_settings(
            current,
            &[("retention.ms", None), ("segment.ms", Some("60000"))],
        );
        let want = [("max.message.bytes", "2000"), ("segment.ms", "60000")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()));
        assert_eq!(got, want);
    }

    #[test]
    fn a_consumer_protocol_assignment_decodes() {
        // version 1; 2 topics: "ab" [0, 2], "c" [1]; 0 bytes of user data.
        let mut b = vec![0, 1, 0, 0, 0, 2];
        b.extend([0, 2, b'a', b'b', 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0]);
        b.extend([0, 1, b'c', 0, 0, 0, 1, 0, 0, 0, 1]);
        b.extend([0, 0, 0, 0]);
        let got = decode_assignment(&b);
        let want = [("ab", 0), ("ab", 2), ("c", 1)].map(|(t, p)| (t.to_owned(), p));
        assert_eq!(got, want);
        // Truncated or empty: none, never a panic.
        for n in 0..b.len() - 4 {
            let _ = decode_assignment(&b[..n]);
        }
        assert!(decode_assignment(&[]).is_empty());
    }
}
