//! A one-node broker speaking the Kafka protocol for the topic
//! administration requests that neither librdkafka's mock cluster nor tansu
//! 0.6 answers: CreatePartitions, DeleteRecords, DescribeConfigs and
//! AlterConfigs (plus ApiVersions and Metadata, which every client sends
//! first). It keeps topics in memory and answers as Apache Kafka documents
//! (the protocol guide and KIP-107/195/133), and it records every request,
//! so a test checks both what the library sent and what it made of the
//! answer. It is not Kafka: what it proves is the library's side of the
//! wire; the tests say so where a person sees it.
//!
//! Only non-flexible versions are advertised (besides ApiVersions v3, which
//! librdkafka always tries first), so every request and answer is read and
//! written with the classic encodings below.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

const API_VERSIONS: i16 = 18;
const METADATA: i16 = 3;
const DELETE_RECORDS: i16 = 21;
const DESCRIBE_CONFIGS: i16 = 32;
const ALTER_CONFIGS: i16 = 33;
const CREATE_PARTITIONS: i16 = 37;
const INCREMENTAL_ALTER_CONFIGS: i16 = 44;

/// (api key, lowest version, highest version) advertised.
const ADVERTISED: [(i16, i16, i16); 7] = [
    (METADATA, 4, 4),
    (DELETE_RECORDS, 0, 1),
    (API_VERSIONS, 0, 3),
    (DESCRIBE_CONFIGS, 1, 1),
    (ALTER_CONFIGS, 0, 1),
    (CREATE_PARTITIONS, 0, 0),
    (INCREMENTAL_ALTER_CONFIGS, 0, 0),
];

const TOPIC_RESOURCE: i8 = 2;
const NODE: i32 = 1;

/// The settings every topic inherits, with Kafka's defaults.
pub const DEFAULTS: [(&str, &str); 5] = [
    ("cleanup.policy", "delete"),
    ("max.message.bytes", "1048588"),
    ("min.insync.replicas", "1"),
    ("retention.ms", "604800000"),
    ("segment.bytes", "1073741824"),
];

/// A setting the stand-in treats as sensitive (no Kafka topic setting is,
/// but a broker plugin's may be): described without its value.
pub const SENSITIVE: &str = "plugin.secret";

fn known(setting: &str) -> bool {
    setting == SENSITIVE || DEFAULTS.iter().any(|(d, _)| *d == setting)
}

#[derive(Debug, Clone, Default)]
pub struct Partition {
    pub log_start: i64,
    pub high_watermark: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Topic {
    pub partitions: Vec<Partition>,
    /// Settings made on the topic (DYNAMIC_TOPIC_CONFIG).
    pub settings: BTreeMap<String, String>,
}

/// A request as the stand-in read it off the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    CreatePartitions {
        topic: String,
        count: i32,
        validate_only: bool,
    },
    DeleteRecords {
        topic: String,
        partition: i32,
        offset: i64,
    },
    DescribeConfigs {
        resource_type: i8,
        name: String,
    },
    AlterConfigs {
        resource_type: i8,
        name: String,
        settings: Vec<(String, Option<String>)>,
        validate_only: bool,
    },
    /// (name, operation: 0 set, 1 delete, value).
    IncrementalAlterConfigs {
        name: String,
        changes: Vec<(String, i8, Option<String>)>,
    },
}

#[derive(Default)]
pub struct State {
    /// Answer as a broker older than Kafka 2.3: no IncrementalAlterConfigs.
    pub old: bool,
    pub topics: BTreeMap<String, Topic>,
    /// The administration requests received, in order.
    pub requests: Vec<Request>,
    /// Anything the stand-in could not read: (api key, version, why).
    pub refused: Vec<String>,
}

pub struct StandIn {
    pub bootstrap: String,
    pub state: Arc<Mutex<State>>,
    /// While set, requests are read and never answered (a broker that hangs).
    pub stall: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl StandIn {
    pub fn start(topics: &[(&str, Topic)]) -> StandIn {
        Self::start_as(topics, false)
    }

    /// As a broker older than Kafka 2.3, which has no
    /// IncrementalAlterConfigs.
    pub fn start_old(topics: &[(&str, Topic)]) -> StandIn {
        Self::start_as(topics, true)
    }

    fn start_as(topics: &[(&str, Topic)], old: bool) -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        let mut state = State {
            old,
            ..State::default()
        };
        for (name, t) in topics {
            state.topics.insert((*name).to_owned(), t.clone());
        }
        let state = Arc::new(Mutex::new(state));
        let stop = Arc::new(AtomicBool::new(false));
        let stall = Arc::new(AtomicBool::new(false));
        let accept = {
            let (state, stop, stall) = (state.clone(), stop.clone(), stall.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::Acquire) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (state, stop, stall) = (state.clone(), stop.clone(), stall.clone());
                    std::thread::spawn(move || serve(conn, port, &state, &stop, &stall));
                }
            })
        };
        StandIn {
            bootstrap: format!("127.0.0.1:{port}"),
            state,
            stall,
            stop,
            accept: Some(accept),
        }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn topic(&self, name: &str) -> Option<Topic> {
        self.state.lock().unwrap().topics.get(name).cloned()
    }

    /// Panics with what the stand-in could not read, if anything.
    pub fn assert_understood_everything(&self) {
        let refused = self.state.lock().unwrap().refused.clone();
        assert!(
            refused.is_empty(),
            "the stand-in broker refused: {refused:?}"
        );
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = TcpStream::connect(&self.bootstrap); // wakes the accept loop
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    mut conn: TcpStream,
    port: u16,
    state: &Mutex<State>,
    stop: &AtomicBool,
    stall: &AtomicBool,
) {
    let _ = conn.set_read_timeout(Some(Duration::from_millis(200)));
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 65536];
    while !stop.load(Ordering::Acquire) {
        match conn.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(_) => return,
        }
        while pending.len() >= 4 {
            let size = i32::from_be_bytes(pending[..4].try_into().unwrap()) as usize;
            if pending.len() < 4 + size {
                break;
            }
            let frame: Vec<u8> = pending.drain(..4 + size).skip(4).collect();
            if stall.load(Ordering::Acquire) {
                continue;
            }
            let answer = match answer(&frame, port, state) {
                Ok(a) => a,
                Err(why) => {
                    state.lock().unwrap().refused.push(why);
                    return; // as Kafka does with a request it cannot read
                }
            };
            let mut out = (answer.len() as i32).to_be_bytes().to_vec();
            out.extend_from_slice(&answer);
            if conn.write_all(&out).is_err() {
                return;
            }
        }
    }
}

/// The whole answer to one request frame (correlation id onwards).
fn answer(frame: &[u8], port: u16, state: &Mutex<State>) -> Result<Vec<u8>, String> {
    let mut r = Reader(frame);
    let key = r.i16()?;
    let version = r.i16()?;
    let correlation = r.i32()?;
    let _client = r.nullable_string()?;
    let old = state.lock().unwrap().old;
    let known = advertised(old).any(|(k, lo, hi)| k == key && (lo..=hi).contains(&version));
    if !known {
        return Err(format!("api key {key} version {version}: not advertised"));
    }
    if key == API_VERSIONS && version >= 3 {
        r.tags()?; // the flexible request header's tagged fields
    }
    let mut w = Writer(correlation.to_be_bytes().to_vec());
    let mut st = state.lock().unwrap();
    let context = |e: String| format!("api key {key} version {version}: {e}");
    match key {
        API_VERSIONS => api_versions(version, &mut w, st.old),
        METADATA => metadata(&mut r, &mut w, port, &st).map_err(context)?,
        CREATE_PARTITIONS => create_partitions(&mut r, &mut w, &mut st).map_err(context)?,
        DELETE_RECORDS => delete_records(&mut r, &mut w, &mut st).map_err(context)?,
        DESCRIBE_CONFIGS => describe_configs(&mut r, &mut w, &mut st).map_err(context)?,
        ALTER_CONFIGS => alter_configs(&mut r, &mut w, &mut st).map_err(context)?,
        INCREMENTAL_ALTER_CONFIGS => change_configs(&mut r, &mut w, &mut st).map_err(context)?,
        _ => unreachable!("only advertised keys get here"),
    }
    Ok(w.0)
}

fn advertised(old: bool) -> impl Iterator<Item = (i16, i16, i16)> {
    ADVERTISED
        .into_iter()
        .filter(move |a| !(old && a.0 == INCREMENTAL_ALTER_CONFIGS))
}

fn api_versions(version: i16, w: &mut Writer, old: bool) {
    w.i16(0);
    let n = advertised(old).count();
    if version >= 3 {
        w.uvarint(n as u64 + 1);
    } else {
        w.i32(n as i32);
    }
    for (key, lo, hi) in advertised(old) {
        w.i16(key);
        w.i16(lo);
        w.i16(hi);
        if version >= 3 {
            w.uvarint(0);
        }
    }
    if version >= 1 {
        w.i32(0); // throttle time
    }
    if version >= 3 {
        w.uvarint(0);
    }
}

fn metadata(r: &mut Reader, w: &mut Writer, port: u16, st: &State) -> Result<(), String> {
    let asked = r.nullable_array(|r| r.string())?;
    let _auto_create = r.bool()?;
    w.i32(0); // throttle time
    w.i32(1);
    w.i32(NODE);
    w.string("127.0.0.1");
    w.i32(port as i32);
    w.nullable_string(None);
    w.nullable_string(Some("stand-in"));
    w.i32(NODE); // controller
    let names: Vec<String> = asked.unwrap_or_else(|| st.topics.keys().cloned().collect());
    w.i32(names.len() as i32);
    for name in names {
        match st.topics.get(&name) {
            None => {
                w.i16(3); // UNKNOWN_TOPIC_OR_PARTITION
                w.string(&name);
                w.bool(false);
                w.i32(0);
            }
            Some(t) => {
                w.i16(0);
                w.string(&name);
                w.bool(false);
                w.i32(t.partitions.len() as i32);
                for p in 0..t.partitions.len() as i32 {
                    w.i16(0);
                    w.i32(p);
                    w.i32(NODE);
                    w.i32(1);
                    w.i32(NODE); // replicas
                    w.i32(1);
                    w.i32(NODE); // in-sync replicas
                }
            }
        }
    }
    Ok(())
}

fn create_partitions(r: &mut Reader, w: &mut Writer, st: &mut State) -> Result<(), String> {
    let asked = r.array(|r| {
        let name = r.string()?;
        let count = r.i32()?;
        let _assignments = r.nullable_array(|r| r.array(|r| r.i32()))?;
        Ok((name, count))
    })?;
    let _timeout = r.i32()?;
    let validate_only = r.bool()?;
    w.i32(0);
    w.i32(asked.len() as i32);
    for (name, count) in asked {
        st.requests.push(Request::CreatePartitions {
            topic: name.clone(),
            count,
            validate_only,
        });
        w.string(&name);
        let now = st.topics.get(&name).map(|t| t.partitions.len() as i32);
        match now {
            None => {
                w.i16(3);
                w.nullable_string(Some(&format!("Topic '{name}' does not exist.")));
            }
            Some(now) if count <= now => {
                w.i16(37); // INVALID_PARTITIONS
                let m = format!(
                    "Topic currently has {now} partitions, which is higher than or equal to the requested {count}."
                );
                w.nullable_string(Some(&m));
            }
            Some(_) => {
                if !validate_only {
                    let t = st.topics.get_mut(&name).unwrap();
                    t.partitions.resize(count as usize, Partition::default());
                }
                w.i16(0);
                w.nullable_string(None);
            }
        }
    }
    Ok(())
}

fn delete_records(r: &mut Reader, w: &mut Writer, st: &mut State) -> Result<(), String> {
    let asked = r.array(|r| {
        let name = r.string()?;
        let parts = r.array(|r| Ok((r.i32()?, r.i64()?)))?;
        Ok((name, parts))
    })?;
    let _timeout = r.i32()?;
    w.i32(0);
    w.i32(asked.len() as i32);
    for (name, parts) in asked {
        w.string(&name);
        w.i32(parts.len() as i32);
        for (partition, offset) in parts {
            st.requests.push(Request::DeleteRecords {
                topic: name.clone(),
                partition,
                offset,
            });
            w.i32(partition);
            let p = st
                .topics
                .get_mut(&name)
                .and_then(|t| t.partitions.get_mut(partition as usize));
            match p {
                None => {
                    w.i64(-1);
                    w.i16(3);
                }
                Some(p) => {
                    let before = if offset == -1 {
                        p.high_watermark
                    } else {
                        offset
                    };
                    if before < 0 || before > p.high_watermark {
                        w.i64(-1);
                        w.i16(1); // OFFSET_OUT_OF_RANGE
                    } else {
                        p.log_start = p.log_start.max(before);
                        w.i64(p.log_start);
                        w.i16(0);
                    }
                }
            }
        }
    }
    Ok(())
}

fn describe_configs(r: &mut Reader, w: &mut Writer, st: &mut State) -> Result<(), String> {
    let asked = r.array(|r| {
        let kind = r.i8()?;
        let name = r.string()?;
        let _keys = r.nullable_array(|r| r.string())?;
        Ok((kind, name))
    })?;
    let _synonyms = r.bool()?;
    w.i32(0);
    w.i32(asked.len() as i32);
    for (kind, name) in asked {
        st.requests.push(Request::DescribeConfigs {
            resource_type: kind,
            name: name.clone(),
        });
        let topic = st.topics.get(&name).filter(|_| kind == TOPIC_RESOURCE);
        let Some(topic) = topic else {
            w.i16(3);
            w.nullable_string(Some(&format!("Topic '{name}' does not exist.")));
            w.i8(kind);
            w.string(&name);
            w.i32(0);
            continue;
        };
        w.i16(0);
        w.nullable_string(None);
        w.i8(kind);
        w.string(&name);
        let secret = topic.settings.contains_key(SENSITIVE);
        w.i32(DEFAULTS.len() as i32 + secret as i32);
        for (setting, default) in DEFAULTS {
            let own = topic.settings.get(setting);
            w.string(setting);
            w.nullable_string(Some(own.map_or(default, |v| v.as_str())));
            w.bool(false); // read only
            w.i8(if own.is_some() { 1 } else { 5 }); // DYNAMIC_TOPIC / DEFAULT
            w.bool(false); // sensitive
            w.i32(0); // synonyms
        }
        if secret {
            w.string(SENSITIVE);
            w.nullable_string(None); // never shown
            w.bool(false);
            w.i8(1);
            w.bool(true);
            w.i32(0);
        }
    }
    Ok(())
}

fn alter_configs(r: &mut Reader, w: &mut Writer, st: &mut State) -> Result<(), String> {
    let asked = r.array(|r| {
        let kind = r.i8()?;
        let name = r.string()?;
        let settings = r.array(|r| Ok((r.string()?, r.nullable_string()?)))?;
        Ok((kind, name, settings))
    })?;
    let validate_only = r.bool()?;
    w.i32(0);
    w.i32(asked.len() as i32);
    for (kind, name, settings) in asked {
        st.requests.push(Request::AlterConfigs {
            resource_type: kind,
            name: name.clone(),
            settings: settings.clone(),
            validate_only,
        });
        let unknown = settings.iter().find(|(k, _)| !known(k));
        let exists = kind == TOPIC_RESOURCE && st.topics.contains_key(&name);
        if !exists {
            w.i16(3);
            w.nullable_string(Some(&format!("Topic '{name}' does not exist.")));
        } else if let Some((k, _)) = unknown {
            w.i16(40); // INVALID_CONFIG
            w.nullable_string(Some(&format!("Unknown topic config name: {k}")));
        } else {
            if !validate_only {
                // AlterConfigs replaces the topic's whole set.
                let t = st.topics.get_mut(&name).unwrap();
                t.settings = settings
                    .into_iter()
                    .filter_map(|(k, v)| Some((k, v?)))
                    .collect();
            }
            w.i16(0);
            w.nullable_string(None);
        }
        w.i8(kind);
        w.string(&name);
    }
    Ok(())
}

fn change_configs(r: &mut Reader, w: &mut Writer, st: &mut State) -> Result<(), String> {
    let asked = r.array(|r| {
        let kind = r.i8()?;
        let name = r.string()?;
        let changes = r.array(|r| Ok((r.string()?, r.i8()?, r.nullable_string()?)))?;
        Ok((kind, name, changes))
    })?;
    let validate_only = r.bool()?;
    w.i32(0);
    w.i32(asked.len() as i32);
    for (kind, name, changes) in asked {
        st.requests.push(Request::IncrementalAlterConfigs {
            name: name.clone(),
            changes: changes.clone(),
        });
        let exists = kind == TOPIC_RESOURCE && st.topics.contains_key(&name);
        let unknown = changes.iter().find(|(k, _, _)| !known(k));
        let odd = changes
            .iter()
            .find(|(_, op, v)| !matches!((op, v), (0, Some(_)) | (1, _)));
        if !exists {
            w.i16(3);
            w.nullable_string(Some(&format!("Topic '{name}' does not exist.")));
        } else if let Some((k, _, _)) = unknown {
            w.i16(40);
            w.nullable_string(Some(&format!("Unknown topic config name: {k}")));
        } else if let Some((k, op, _)) = odd {
            w.i16(42); // INVALID_REQUEST
            w.nullable_string(Some(&format!("{k}: operation {op} not taken here")));
        } else {
            if !validate_only {
                let t = st.topics.get_mut(&name).unwrap();
                for (k, op, v) in changes {
                    match (op, v) {
                        (0, Some(v)) => t.settings.insert(k, v),
                        _ => t.settings.remove(&k),
                    };
                }
            }
            w.i16(0);
            w.nullable_string(None);
        }
        w.i8(kind);
        w.string(&name);
    }
    Ok(())
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        if self.0.len() < n {
            return Err(format!(
                "truncated: {n} bytes wanted, {} left",
                self.0.len()
            ));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn i8(&mut self) -> Result<i8, String> {
        Ok(self.take(1)?[0] as i8)
    }
    fn bool(&mut self) -> Result<bool, String> {
        Ok(self.i8()? != 0)
    }
    fn i16(&mut self) -> Result<i16, String> {
        Ok(i16::from_be_bytes(self.take(2)?.try_into().unwrap()))
    }
    fn i32(&mut self) -> Result<i32, String> {
        Ok(i32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_be_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn uvarint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.take(1)?[0];
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint too long".into())
    }
    fn tags(&mut self) -> Result<(), String> {
        for _ in 0..self.uvarint()? {
            let _tag = self.uvarint()?;
            let size = self.uvarint()? as usize;
            self.take(size)?;
        }
        Ok(())
    }
    fn nullable_string(&mut self) -> Result<Option<String>, String> {
        let n = self.i16()?;
        if n < 0 {
            return Ok(None);
        }
        let b = self.take(n as usize)?;
        String::from_utf8(b.to_vec())
            .map(Some)
            .map_err(|_| "a string is not UTF-8".to_owned())
    }
    fn string(&mut self) -> Result<String, String> {
        self.nullable_string()?
            .ok_or_else(|| "a null string".to_owned())
    }
    fn nullable_array<T>(
        &mut self,
        mut each: impl FnMut(&mut Self) -> Result<T, String>,
    ) -> Result<Option<Vec<T>>, String> {
        let n = self.i32()?;
        if n < 0 {
            return Ok(None);
        }
        (0..n)
            .map(|_| each(self))
            .collect::<Result<_, _>>()
            .map(Some)
    }
    fn array<T>(
        &mut self,
        each: impl FnMut(&mut Self) -> Result<T, String>,
    ) -> Result<Vec<T>, String> {
        self.nullable_array(each)?
            .ok_or_else(|| "a null array".to_owned())
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn i8(&mut self, v: i8) {
        self.0.push(v as u8);
    }
    fn bool(&mut self, v: bool) {
        self.0.push(v as u8);
    }
    fn i16(&mut self, v: i16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn uvarint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn nullable_string(&mut self, v: Option<&str>) {
        match v {
            None => self.i16(-1),
            Some(s) => {
                self.i16(s.len() as i16);
                self.0.extend_from_slice(s.as_bytes());
            }
        }
    }
    fn string(&mut self, v: &str) {
        self.nullable_string(Some(v));
    }
}
