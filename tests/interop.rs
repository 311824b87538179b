//! Independent clients against our library: kafka-python (the Python
//! client) and kcat, on the embedded broker and KAFKA_BOOTSTRAP_SERVERS.
//!
//! kafka-python is installed into target/venv by the first test that needs
//! it (pip, from PyPI), unless `scripts/test.sh` did already; kcat comes
//! from Debian (`scripts/test.sh` installs it). Without them the tests are
//! listed as not run.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::*;

use std::collections::BTreeSet;
use std::ffi::{c_int, c_void};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::ptr::{null, null_mut};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

const KAFKA_PYTHON: &str = "kafka-python==2.2.21";

/// The venv's python with kafka-python, created once (`scripts/test.sh`
/// prepares it ahead, with retries, so a slow registry does not fail a
/// test); `None`, recorded as not run for `test`, when it cannot be made.
fn python(test: &str) -> Option<&'static Path> {
    static PY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let made = PY.get_or_init(|| {
        let venv = Path::new(cbuild::ROOT).join("target").join("venv");
        let py = venv.join("bin").join("python");
        let version = KAFKA_PYTHON.split("==").nth(1).unwrap();
        let ready = || {
            Command::new(&py)
                .args([
                    "-c",
                    &format!("import kafka, sys; sys.exit(kafka.__version__ != '{version}')"),
                ])
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if !ready() {
            let out = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .output()
                .map_err(|e| format!("python3: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "python3 -m venv failed (scripts/test.sh installs python3-venv): {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            let out = Command::new(venv.join("bin").join("pip"))
                .args(["install", "--quiet", KAFKA_PYTHON])
                .output()
                .map_err(|e| format!("pip: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "pip install {KAFKA_PYTHON} failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            assert!(ready(), "{KAFKA_PYTHON} importable after install");
        }
        Ok(py)
    });
    match made {
        Ok(py) => Some(py),
        Err(why) => {
            not_run(test, why);
            None
        }
    }
}

fn peer(py: &Path, args: &[&str]) -> Output {
    let out = Command::new(py)
        .arg(Path::new(cbuild::ROOT).join("tests/peers/kafka_python_peer.py"))
        .args(args)
        .output()
        .unwrap();
    cbuild::assert_ok(&out, "kafka_python_peer.py");
    out
}

fn lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Runs kcat, which must succeed.
fn kcat(args: &[&str], input: Option<&str>) -> Output {
    let out = kcat_once(args, input);
    cbuild::assert_ok(&out, "kcat");
    out
}

/// Whether the kcat on this machine can talk to `bootstrap` at all: the
/// kcat of Debian 12 runs on its librdkafka 2.0, which misreads the
/// ApiVersions answer of some brokers (tansu 0.6: "Protocol read buffer
/// underflow for ApiVersion v3", its tagged fields) and so reaches none of
/// them. Run with cargo's library path, it used to load the librdkafka
/// this crate builds instead and hide that; scripts/run-tests.sh runs the
/// binaries as they are.
fn kcat_reaches(bootstrap: &str) -> Result<(), String> {
    let out = kcat_once(&["-L", "-b", bootstrap, "-m", "10"], None);
    let said = String::from_utf8_lossy(&out.stderr);
    match out.status.success() {
        true => Ok(()),
        false if said.contains("ApiVersionRequest failed") => Err(format!(
            "this machine's kcat ({}) cannot read the broker's ApiVersions answer: {}",
            kcat_version(),
            said.lines().next().unwrap_or_default()
        )),
        false => {
            cbuild::assert_ok(&out, "kcat -L");
            Ok(())
        }
    }
}

/// kcat's own version line, with its librdkafka's.
fn kcat_version() -> String {
    let out = kcat_once(&["-V"], None);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.starts_with("Version"))
        .unwrap_or_default()
        .to_owned()
}

fn kcat_once(args: &[&str], input: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new("kcat")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kcat runs");
    if let Some(text) = input {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn send_json(p: *mut KafkaProducer, topic: &str, key: &str, json: &str) {
    let mut e = err();
    let rc = unsafe {
        kafka_producer_send_json_sync(
            p,
            c(topic).as_ptr(),
            c(key).as_ptr(),
            c(json).as_ptr(),
            10000,
            null_mut(),
            &mut e,
        )
    };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
}

#[test]
fn kafka_python_reads_our_json_and_we_read_its_json_byte_for_byte() {
    let Some(py) = python("interop::kafka_python_reads_our_json") else {
        return;
    };
    for broker in brokers() {
        let topic = unique_topic("py-interop");
        create_topic(&broker, &topic, 2);
        let inst = instance(
            &broker,
            &[
                ("group_id", &unique_topic("g")),
                ("auto_offset_reset", "earliest"),
                ("session_timeout_ms", "6000"),
            ],
        );
        let mut e = err();
        let p = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
        let ours: Vec<String> = (0..5)
            .map(|i| {
                format!(
                    "{{\"from\": \"kafka_instance\", \"i\": {i}, \"nested\": {{\"ok\": true}}}}"
                )
            })
            .collect();
        for (i, json) in ours.iter().enumerate() {
            send_json(p, &topic, &format!("k{i}"), json);
        }
        unsafe { kafka_producer_close(p, 10000, &mut e) };
        let read = peer(py, &["read", &broker.bootstrap, &topic, "5"]);
        let got: BTreeSet<String> = lines(&read).into_iter().collect();
        let want: BTreeSet<String> = ours
            .iter()
            .map(|j| {
                serde_json::to_string(&serde_json::from_str::<serde_json::Value>(j).unwrap())
                    .unwrap()
            })
            .map(|j| j.replace(",", ", ").replace(":", ": "))
            .collect();
        assert_eq!(
            got, want,
            "{}: kafka-python decoded what we sent",
            broker.name
        );

        // kafka-python writes with json.dumps; our handler sees those bytes.
        let written = lines(&peer(py, &["write", &broker.bootstrap, &topic, "4"]));
        static SEEN: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
        unsafe extern "C" fn collect(m: *const KafkaMessage, _: *mut c_void) -> c_int {
            let mut len = 0usize;
            let v = unsafe { kafka_instance::ffi::message::kafka_message_value(m, &mut len) };
            SEEN.lock()
                .unwrap()
                .push(unsafe { std::slice::from_raw_parts(v.cast::<u8>(), len) }.to_vec());
            0
        }
        SEEN.lock().unwrap().clear();
        let t = c(&topic);
        let list = [t.as_ptr()];
        let cons = unsafe { kafka_instance_get_consumer(inst, list.as_ptr(), 1, null(), &mut e) };
        assert!(!cons.is_null(), "{}", e.message_str());
        unsafe {
            kafka_consumer_register_handler(cons, t.as_ptr(), Some(collect), null_mut(), &mut e)
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while SEEN.lock().unwrap().len() < 9 && Instant::now() < deadline {
            unsafe { kafka_consumer_consume(cons, 500, null_mut(), &mut e) };
        }
        unsafe { kafka_consumer_close(cons, &mut e) };
        let seen: BTreeSet<Vec<u8>> = SEEN.lock().unwrap().iter().cloned().collect();
        for w in &written {
            assert!(
                seen.contains(w.as_bytes()),
                "{}: handler got kafka-python's bytes for {w}",
                broker.name
            );
        }
        unsafe { kafka_instance_free(inst) };
    }
}

#[test]
fn kcat_reads_what_we_write_and_writes_what_we_read() {
    if !have_tool("interop::kcat_reads_what_we_write", "kcat") {
        return;
    }
    for broker in brokers() {
        if broker.name != "embedded" {
            if let Err(why) = kcat_reaches(&broker.bootstrap) {
                broker_cannot("interop::kcat_reads_what_we_write", &why);
                continue;
            }
        }
        let topic = unique_topic("kcat");
        create_topic(&broker, &topic, 1);
        let inst = instance(
            &broker,
            &[
                ("group_id", &unique_topic("g")),
                ("auto_offset_reset", "earliest"),
                ("session_timeout_ms", "6000"),
            ],
        );
        let mut e = err();
        let p = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
        let t = c(&topic);
        let (hn, hv) = (c("origin"), "kafka_instance");
        let headers = [KafkaHeader {
            name: hn.as_ptr(),
            value: hv.as_ptr().cast(),
            value_len: hv.len(),
        }];
        let mut r = empty_record(&t);
        r.key = b"our-key".as_ptr().cast();
        r.key_len = 7;
        r.value = b"{\"ours\":1}".as_ptr().cast();
        r.value_len = 10;
        r.headers = headers.as_ptr();
        r.header_count = 1;
        assert_eq!(
            unsafe { kafka_producer_send_sync(p, &r, 10000, null_mut(), &mut e) },
            KAFKA_OK,
            "{}",
            e.message_str()
        );
        unsafe { kafka_producer_close(p, 10000, &mut e) };
        let out = kcat(
            &[
                "-C",
                "-b",
                &broker.bootstrap,
                "-t",
                &topic,
                "-o",
                "beginning",
                "-c",
                "1",
                "-e",
                "-f",
                "%k|%s|%h\\n",
            ],
            None,
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "our-key|{\"ours\":1}|origin=kafka_instance",
            "{}",
            broker.name
        );

        kcat(
            &[
                "-P",
                "-b",
                &broker.bootstrap,
                "-t",
                &topic,
                "-K",
                ":",
                "-H",
                "via=kcat",
            ],
            Some("kcat-key:{\"theirs\":2}\n"),
        );
        let list = [t.as_ptr()];
        let cons = unsafe { kafka_instance_get_consumer(inst, list.as_ptr(), 1, null(), &mut e) };
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut found = false;
        while !found && Instant::now() < deadline {
            let mut m = null_mut();
            unsafe { kafka_consumer_poll(cons, 500, &mut m, &mut e) };
            if m.is_null() {
                continue;
            }
            let (mut klen, mut vlen) = (0usize, 0usize);
            let key = unsafe {
                std::slice::from_raw_parts(kafka_message_key(m, &mut klen).cast::<u8>(), klen)
            }
            .to_vec();
            let value = unsafe {
                std::slice::from_raw_parts(kafka_message_value(m, &mut vlen).cast::<u8>(), vlen)
            }
            .to_vec();
            if key == b"kcat-key" {
                assert_eq!(value, b"{\"theirs\":2}");
                let (mut name, mut hval, mut hlen) = (null(), null(), 0usize);
                assert!(unsafe { kafka_message_header(m, 0, &mut name, &mut hval, &mut hlen) });
                assert_eq!(s(name), "via");
                assert_eq!(
                    unsafe { std::slice::from_raw_parts(hval.cast::<u8>(), hlen) },
                    b"kcat"
                );
                found = true;
            }
            unsafe { kafka_message_free(m) };
        }
        assert!(found, "{}: we read what kcat wrote", broker.name);
        unsafe {
            kafka_consumer_close(cons, &mut e);
            kafka_instance_free(inst);
        }
    }
}

#[test]
fn a_group_shared_with_kafka_python_splits_the_partitions() {
    let Some(py) = python("interop::a_group_shared_with_kafka_python") else {
        return;
    };
    capture_logs();
    for broker in brokers() {
        let topic = unique_topic("py-group");
        create_topic(&broker, &topic, 4);
        let group = unique_topic("mixed");
        // kafka-python joins first and stays 40 s.
        let python_member = Command::new(py)
            .arg(Path::new(cbuild::ROOT).join("tests/peers/kafka_python_peer.py"))
            .args(["member", &broker.bootstrap, &topic, &group, "40"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let inst = instance(
            &broker,
            &[
                ("group_id", &group),
                ("auto_offset_reset", "earliest"),
                ("session_timeout_ms", "6000"),
            ],
        );
        let t = c(&topic);
        let list = [t.as_ptr()];
        let mut e = err();
        let since = logged().len();
        let ours = unsafe { kafka_instance_get_consumer(inst, list.as_ptr(), 1, null(), &mut e) };
        assert!(!ours.is_null(), "{}", e.message_str());
        // Two members, so ours settles on two of the four partitions.
        settle(&[ours], &topic, since, 1, 2);
        let settled = logged().len();
        let p = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
        for i in 0..40 {
            send_json(p, &topic, &format!("key-{i}"), &format!("{{\"i\":{i}}}"));
        }
        unsafe { kafka_producer_close(p, 10000, &mut e) };
        let mine: Vec<(i32, i64)> = poll_messages(ours, 40, Duration::from_secs(15), |m| unsafe {
            (kafka_message_partition(m), kafka_message_offset(m))
        });
        let out = python_member.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() && stderr.contains("InvalidRequestError") {
            // Brokers may answer kafka-python's group requests with
            // INVALID_REQUEST (42): tansu 0.6 always did here, and
            // librdkafka's mock does when a request reaches its group in a
            // state it does not expect (rd_kafka_mock_cgrp_classic_check_state,
            // a timing race). Said, not skipped: ours must still get every
            // message as the group's only member.
            eprintln!(
                "NOTE: {}: kafka-python could not join the group (INVALID_REQUEST from the broker)",
                broker.name
            );
            let unique: BTreeSet<(i32, i64)> = mine.iter().copied().collect();
            assert_eq!(unique.len(), 40, "our consumer alone got everything");
            unsafe {
                kafka_consumer_close(ours, &mut e);
                kafka_instance_free(inst);
            }
            continue;
        }
        cbuild::assert_ok(&out, "kafka-python group member");
        let theirs: Vec<(i32, i64)> = lines(&out)
            .iter()
            .map(|l| {
                let mut it = l.split(' ').map(|x| x.parse::<i64>().unwrap());
                (it.next().unwrap() as i32, it.next().unwrap())
            })
            .collect();
        let all: BTreeSet<(i32, i64)> = mine.iter().chain(theirs.iter()).copied().collect();
        assert_eq!(
            all.len(),
            40,
            "{}: nothing lost ({} ours, {} theirs)",
            broker.name,
            mine.len(),
            theirs.len()
        );
        assert!(
            !mine.is_empty() && !theirs.is_empty(),
            "{}: both members got partitions",
            broker.name
        );
        let rebalanced = logged()[settled..]
            .iter()
            .any(|r| r.message.starts_with("rebalance: ") && r.message.contains(&topic));
        if !rebalanced {
            let parts = |v: &[(i32, i64)]| v.iter().map(|x| x.0).collect::<BTreeSet<_>>();
            assert!(
                parts(&mine).is_disjoint(&parts(&theirs)),
                "no partition read by both"
            );
        }
        unsafe {
            kafka_consumer_close(ours, &mut e);
            kafka_instance_free(inst);
        }
    }
}
