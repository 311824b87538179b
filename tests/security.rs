//! SASL and TLS end to end, against real servers on loopback.
//!
//! - SASL: tansu started with `--authentication`. tansu 0.6.0 keeps its
//!   users in its storage and only lets an authenticated client create one
//!   (`tansu user create` is refused with NotAuthenticated), and its
//!   in-memory storage starts empty: no credentials can succeed. What runs
//!   here is the full SCRAM exchange ending in the broker's refusal, which
//!   is the failure path the issue asks for, with the password set through
//!   the setter and through the URL.
//! - TLS: tansu 0.6.0 cannot serve TLS (its `--cert` and `--key` flags
//!   conflict with each other, and the broker builds a TLS acceptor it
//!   never uses), so a throwaway CA signs a certificate that `socat`
//!   (OpenSSL) serves in front of a plain tansu listener; tansu advertises
//!   the TLS port, so every connection, bootstrap or not, goes through TLS.
//!
//! tansu comes from `scripts/broker.sh install` (cargo's bin directory);
//! socat and openssl from Debian: `scripts/test.sh` installs them. Without
//! one of them the tests are listed as not run (`common::not_run`), and
//! fail in CI (`KAFKA_INSTANCE_REQUIRE_ALL`).

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::*;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::ptr::{null, null_mut};
use std::time::{Duration, Instant};

/// A server process, stopped when dropped.
struct Server {
    child: Child,
    name: &'static str,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `cmd`, waits until `port` accepts connections.
fn start(name: &'static str, cmd: &mut Command, port: u16) -> Server {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {name}: {e}"));
    let mut server = Server { child, name };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = server.child.try_wait().unwrap() {
            panic!("{} exited at start: {status}", server.name);
        }
        assert!(Instant::now() < deadline, "{name} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

fn tansu_binary() -> Option<PathBuf> {
    // scripts/test.sh builds tansu in the background while the tests run,
    // holding this lock (scripts/broker.sh install): wait for it to end.
    let lock = Path::new(common::cbuild::ROOT).join("target/tansu-install.lock");
    if lock.exists() {
        let _ = Command::new("flock").arg(&lock).arg("true").status();
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))?;
    let p = home.join("bin").join("tansu");
    p.is_file().then_some(p)
}

/// tansu's path, or `None` (recorded as not run) when these tests cannot
/// run here.
fn tools(test: &str, extra: &[&str]) -> Option<PathBuf> {
    let Some(tansu) = tansu_binary() else {
        not_run(
            test,
            "tansu is not installed (scripts/test.sh installs it with scripts/broker.sh install)",
        );
        return None;
    };
    extra
        .iter()
        .all(|tool| have_tool(test, tool))
        .then_some(tansu)
}

/// tansu on a fresh port, in memory, with `flags`; advertising
/// `advertised` (its own port when `None`).
fn tansu(bin: &Path, flags: &[&str], advertised: Option<u16>) -> (Server, u16) {
    let port = free_port();
    let adv = advertised.unwrap_or(port);
    let mut cmd = Command::new(bin);
    cmd.arg("broker")
        .arg("--listener-url")
        .arg(format!("tcp://127.0.0.1:{port}"))
        .arg("--advertised-listener-url")
        .arg(format!("tcp://127.0.0.1:{adv}"))
        .arg("--storage-engine")
        .arg("memory://tansu/")
        .args(flags);
    (start("tansu", &mut cmd, port), port)
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A throwaway CA and a server certificate for 127.0.0.1 signed by it,
/// plus a second CA that signed nothing here.
struct Certs {
    ca: PathBuf,
    other_ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
}

fn certs() -> Certs {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(unique_topic("certs"));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["ca", "other-ca"] {
        openssl(
            &dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN=kafka_instance test {name}"),
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.pem"),
            ],
        );
    }
    openssl(
        &dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(dir.join("san.cnf"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "san.cnf",
            "-out",
            "server.pem",
        ],
    );
    Certs {
        ca: dir.join("ca.pem"),
        other_ca: dir.join("other-ca.pem"),
        server_cert: dir.join("server.pem"),
        server_key: dir.join("server.key"),
    }
}

/// tansu behind a TLS terminator: returns the servers and the TLS port.
fn tls_broker(tansu_bin: &Path, certs: &Certs) -> (Vec<Server>, u16) {
    let tls_port = free_port();
    let (broker, plain_port) = tansu(tansu_bin, &[], Some(tls_port));
    let mut cmd = Command::new("socat");
    cmd.arg(format!(
        "OPENSSL-LISTEN:{tls_port},bind=127.0.0.1,reuseaddr,fork,cert={},key={},verify=0",
        certs.server_cert.display(),
        certs.server_key.display()
    ))
    .arg(format!("TCP:127.0.0.1:{plain_port}"));
    let proxy = start("socat", &mut cmd, tls_port);
    (vec![proxy, broker], tls_port)
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Sends one JSON value synchronously; returns the code, the error and how
/// long the call took.
fn send_sync(inst: *mut KafkaInstance, topic: &str, timeout_ms: i32) -> (KafkaError, Duration) {
    let mut e = err();
    let p = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
    assert!(!p.is_null(), "{}", e.message_str());
    let t0 = Instant::now();
    let mut out = err();
    unsafe {
        kafka_producer_send_json_sync(
            p,
            c(topic).as_ptr(),
            c("k").as_ptr(),
            c(r#"{"n": 1}"#).as_ptr(),
            timeout_ms,
            null_mut(),
            &mut out,
        )
    };
    let took = t0.elapsed();
    let mut ce = err();
    // Nothing was delivered: close purges the message within its timeout.
    unsafe { kafka_producer_close(p, 1000, &mut ce) };
    (out, took)
}

/// Polls once for up to `timeout_ms`; returns the error and the duration.
fn poll_error(inst: *mut KafkaInstance, topic: &str, timeout_ms: i32) -> (KafkaError, Duration) {
    let mut e = err();
    let topics = [c(topic)];
    let ptrs: Vec<_> = topics.iter().map(|t| t.as_ptr()).collect();
    let cons = unsafe { kafka_instance_get_consumer(inst, ptrs.as_ptr(), 1, null(), &mut e) };
    assert!(!cons.is_null(), "{}", e.message_str());
    let t0 = Instant::now();
    let mut msg = null_mut();
    let mut out = err();
    unsafe { kafka_consumer_poll(cons, timeout_ms, &mut msg, &mut out) };
    let took = t0.elapsed();
    assert!(msg.is_null(), "no message can arrive");
    unsafe { kafka_consumer_close(cons, &mut e) };
    (out, took)
}

/// Margin over a call's own timeout (the machines are shared and slow).
const SLACK: Duration = Duration::from_secs(3);

/// An admin call (list_topics, then create_topic) on `inst`: the error of
/// each and how long it took. Both use the instance's one admin client.
fn admin_errors(inst: *mut KafkaInstance, timeout_ms: i32) -> Vec<(KafkaError, Duration)> {
    let mut out = Vec::new();
    let start = Instant::now();
    let mut e = err();
    let mut len = 0usize;
    unsafe { kafka_instance_list_topics(inst, timeout_ms, null_mut(), 0, &mut len, &mut e) };
    out.push((e, start.elapsed()));
    let start = Instant::now();
    let mut e = err();
    let t = c(&unique_topic("refused"));
    unsafe { kafka_instance_create_topic(inst, t.as_ptr(), 1, 1, timeout_ms, &mut e) };
    out.push((e, start.elapsed()));
    out
}

#[test]
fn wrong_sasl_credentials_fail_clearly_and_the_password_never_leaks() {
    let Some(bin) = tools("security::sasl", &[]) else {
        return;
    };
    let _g = serial();
    capture_logs();
    let (_broker, port) = tansu(&bin, &["--authentication"], None);
    let servers = format!("127.0.0.1:{port}");
    let password = format!("Pw-{}-Zq8!leak-check", std::process::id());

    // The same refusal whichever way the credentials arrive.
    let setters = |mechanism: &str| -> Vec<(String, String)> {
        vec![
            ("bootstrap_servers".into(), servers.clone()),
            ("security_protocol".into(), "SASL_PLAINTEXT".into()),
            ("sasl_mechanism".into(), mechanism.into()),
            ("sasl_plain_username".into(), "alice".into()),
            ("sasl_plain_password".into(), password.clone()),
        ]
    };
    let ways: Vec<(&str, Vec<(String, String)>)> = vec![
        ("setters, SCRAM-SHA-256", setters("SCRAM-SHA-256")),
        ("setters, SCRAM-SHA-512", setters("SCRAM-SHA-512")),
        (
            "URL, SCRAM-SHA-256",
            vec![
                (
                    "kafka_url".into(),
                    format!("kafka://alice:{password}@{servers}"),
                ),
                ("sasl_mechanism".into(), "SCRAM-SHA-256".into()),
            ],
        ),
        (
            // tansu offers no PLAIN: the handshake itself is refused.
            "URL, PLAIN (the default with URL credentials)",
            vec![(
                "kafka_url".into(),
                format!("kafka://alice:{password}@{servers}"),
            )],
        ),
    ];

    for (way, settings) in &ways {
        clear_logged();
        let mut all: Vec<(&str, &str)> = settings
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        // librdkafka's own debug lines about the exchange are logged too.
        all.push(("debug", "security,broker,protocol"));
        all.push(("group_id", "security-test"));
        let cfg = config(&all);
        let mut e = err();
        let inst = unsafe { kafka_instance_new(cfg, &mut e) };
        assert!(!inst.is_null(), "{way}: {}", e.message_str());

        let (sent, took) = send_sync(inst, "t", 5000);
        assert_eq!(sent.code, KAFKA_ERR_BROKER, "{way}: {}", sent.message_str());
        assert_eq!(sent.rdkafka_code, -169, "{way}: {}", sent.message_str());
        assert!(
            !sent.retriable,
            "{way}: an authentication failure is not retriable"
        );
        assert!(
            sent.message_str().contains("Authentication failure"),
            "{way}: {}",
            sent.message_str()
        );
        assert!(
            took < Duration::from_millis(5000) + SLACK,
            "{way}: {took:?}"
        );

        // The admin calls see the refusal too, not a timeout.
        let admin = admin_errors(inst, 8000);
        for (i, (e, took)) in admin.iter().enumerate() {
            assert_eq!(
                e.code,
                KAFKA_ERR_BROKER,
                "{way}: admin call {i}: {}",
                e.message_str()
            );
            assert_eq!(
                e.rdkafka_code,
                -169,
                "{way}: admin call {i}: {}",
                e.message_str()
            );
            assert!(
                took < &Duration::from_millis(8000),
                "{way}: admin call {i}: {took:?}"
            );
        }

        let (polled, took) = poll_error(inst, "t", 10000);
        assert_eq!(
            polled.code,
            KAFKA_ERR_BROKER,
            "{way}: {}",
            polled.message_str()
        );
        assert_eq!(polled.rdkafka_code, -169, "{way}: {}", polled.message_str());
        assert!(!polled.retriable, "{way}");
        assert!(
            took < Duration::from_millis(10000) + SLACK,
            "{way}: {took:?}"
        );

        // Read back: the password is write-only, the URL masked.
        if settings.iter().any(|(k, _)| k == "sasl_plain_password") {
            assert_eq!(config_get(cfg, "sasl_plain_password"), "***", "{way}");
        }
        if settings.iter().any(|(k, _)| k == "kafka_url") {
            let url = config_get(cfg, "kafka_url");
            assert!(
                url.contains("alice") && !url.contains(&password),
                "{way}: {url}"
            );
        }
        unsafe {
            kafka_instance_free(inst);
            kafka_config_free(cfg);
        }

        let records = logged();
        let refusal = records.iter().find(|r| {
            r.subject == "librdkafka" && r.log_type == "error" && r.message.contains("SASL")
        });
        assert!(
            refusal.is_some(),
            "{way}: an error record about the SASL refusal: {records:#?}"
        );
        assert!(
            records
                .iter()
                .any(|r| r.log_type == "debug" && r.subject == "librdkafka"),
            "{way}: librdkafka's debug lines were captured (the check below saw them)"
        );
        for r in &records {
            assert!(!r.text().contains(&password), "{way}: password in {r:?}");
        }
        for e in [&sent, &polled, &admin[0].0, &admin[1].0] {
            assert!(!e.message_str().contains(&password), "{way}");
        }
    }
    kafka_set_log_callback(None, null_mut(), KafkaLogLevelArg(-1));
}

/// tansu on `port` with `storage` and `flags`; `Err` with what it printed
/// when it exits at start (a tansu built without the storage's feature).
fn tansu_on(bin: &Path, port: u16, storage: &str, flags: &[&str]) -> Result<Server, String> {
    let log = std::env::temp_dir().join(format!("ki-tansu-{}-{port}.log", std::process::id()));
    let child = Command::new(bin)
        .arg("broker")
        .arg("--listener-url")
        .arg(format!("tcp://127.0.0.1:{port}"))
        .arg("--advertised-listener-url")
        .arg(format!("tcp://127.0.0.1:{port}"))
        .arg("--storage-engine")
        .arg(storage)
        .args(flags)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("starting tansu: {e}"));
    let mut server = Server {
        child,
        name: "tansu",
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if server.child.try_wait().unwrap().is_some() {
            return Err(std::fs::read_to_string(&log).unwrap_or_default());
        }
        assert!(Instant::now() < deadline, "tansu did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(server)
}

/// A SCRAM login that succeeds: users are created (SCRAM-SHA-256 and -512)
/// on a tansu without authentication, which is restarted on the same
/// storage with authentication on; then each user, through the setters
/// or a kafka:// URL, creates a topic, produces, and consumes in a group.
/// The wrong password is still refused, and no password reaches a log
/// record or an error.
#[test]
fn scram_login_with_a_provisioned_user_produces_and_consumes() {
    let Some(bin) = tools("security::scram_success", &[]) else {
        return;
    };
    let _g = serial();
    capture_logs();
    let dir = std::env::temp_dir().join(format!("ki-scram-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // tansu reads the URL's path without its first slash: four in all.
    let storage = format!("sqlite:///{}", dir.join("tansu.db").display());
    let port = free_port();
    let servers = format!("127.0.0.1:{port}");
    let password = format!("Sc-{}-ram!ok", std::process::id());
    {
        let open = match tansu_on(&bin, port, &storage, &[]) {
            Ok(s) => s,
            Err(said) if said.contains("FeatureNotEnabled") => {
                not_run(
                    "security::scram_success",
                    "tansu was built without persistent storage (scripts/broker.sh install builds it with libsql)",
                );
                return;
            }
            Err(said) => panic!("tansu exited at start: {said}"),
        };
        for (mechanism, user) in [("scram256", "alice"), ("scram512", "bob")] {
            let out = Command::new(&bin)
                .args(["user", "create", "--broker", &format!("tcp://{servers}")])
                .args(["--mechanism", mechanism, user, &password])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "creating {user}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        drop(open);
    }
    let _broker = tansu_on(&bin, port, &storage, &["--authentication"])
        .unwrap_or_else(|said| panic!("tansu with authentication: {said}"));

    let ways: Vec<(&str, Vec<(String, String)>)> = vec![
        (
            "setters, SCRAM-SHA-256, alice",
            vec![
                ("bootstrap_servers".into(), servers.clone()),
                ("security_protocol".into(), "SASL_PLAINTEXT".into()),
                ("sasl_mechanism".into(), "SCRAM-SHA-256".into()),
                ("sasl_plain_username".into(), "alice".into()),
                ("sasl_plain_password".into(), password.clone()),
            ],
        ),
        (
            "URL, SCRAM-SHA-512, bob",
            vec![
                (
                    "kafka_url".into(),
                    format!("kafka://bob:{password}@{servers}"),
                ),
                ("sasl_mechanism".into(), "SCRAM-SHA-512".into()),
            ],
        ),
    ];
    for (way, settings) in &ways {
        let topic = unique_topic("scram");
        let mut all: Vec<(&str, &str)> = settings
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let group = unique_topic("g");
        all.push(("group_id", &group));
        all.push(("auto_offset_reset", "earliest"));
        all.push(("debug", "security"));
        let inst = instance_from(&all);
        let mut e = err();
        let t = c(&topic);
        let rc = unsafe { kafka_instance_create_topic(inst, t.as_ptr(), 1, 1, 10000, &mut e) };
        assert_eq!(rc, KAFKA_OK, "{way}: creating a topic: {}", e.message_str());
        let (sent, _) = send_sync(inst, &topic, 10000);
        assert_eq!(
            sent.code,
            KAFKA_OK,
            "{way}: sending: {}",
            sent.message_str()
        );
        let cons = consumer(inst, &[&topic], &[]);
        let got = poll_messages(cons, 1, Duration::from_secs(30), |_| ());
        assert_eq!(got.len(), 1, "{way}: the message read back");
        close_consumer(cons);
        unsafe { kafka_instance_free(inst) };
    }

    // The wrong password: refused as before.
    let inst = instance_from(&[
        ("bootstrap_servers", &servers),
        ("security_protocol", "SASL_PLAINTEXT"),
        ("sasl_mechanism", "SCRAM-SHA-256"),
        ("sasl_plain_username", "alice"),
        ("sasl_plain_password", "not-the-password"),
    ]);
    let (sent, _) = send_sync(inst, "t", 5000);
    assert_eq!(sent.code, KAFKA_ERR_BROKER, "{}", sent.message_str());
    assert_eq!(sent.rdkafka_code, -169, "{}", sent.message_str());
    unsafe { kafka_instance_free(inst) };
    for r in logged() {
        assert!(!r.text().contains(&password), "password in {r:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Settings for a TLS client of `port` trusting `ca`.
fn tls_settings(port: u16, ca: &Path) -> Vec<(String, String)> {
    vec![
        ("bootstrap_servers".into(), format!("127.0.0.1:{port}")),
        ("security_protocol".into(), "SSL".into()),
        ("ssl_cafile".into(), path_str(ca).into()),
    ]
}

fn tls_instance(settings: &[(String, String)]) -> *mut KafkaInstance {
    let all: Vec<(&str, &str)> = settings
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    instance_from(&all)
}

#[test]
fn tls_with_the_right_ca_round_trips_and_a_wrong_ca_fails_clearly() {
    let Some(bin) = tools("security::tls", &["socat", "openssl"]) else {
        return;
    };
    let certs = certs();
    let (_servers, port) = tls_broker(&bin, &certs);
    let topic = unique_topic("tls");

    // Right CA, through the setters: admin, producer and a group consumer.
    let mut settings = tls_settings(port, &certs.ca);
    settings.push(("group_id".into(), unique_topic("g")));
    settings.push(("auto_offset_reset".into(), "earliest".into()));
    let inst = tls_instance(&settings);
    let mut e = err();
    let rc = unsafe { kafka_instance_create_topic(inst, c(&topic).as_ptr(), 1, 1, 10000, &mut e) };
    assert_eq!(rc, KAFKA_OK, "create over TLS: {}", e.message_str());
    let p = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
    assert!(!p.is_null(), "{}", e.message_str());
    let values: Vec<String> = (0..5).map(|i| format!(r#"{{"tls": {i}}}"#)).collect();
    for v in &values {
        let rc = unsafe {
            kafka_producer_send_json_sync(
                p,
                c(&topic).as_ptr(),
                c("k").as_ptr(),
                c(v).as_ptr(),
                10000,
                null_mut(),
                &mut e,
            )
        };
        assert_eq!(rc, KAFKA_OK, "send over TLS: {}", e.message_str());
    }
    assert_eq!(unsafe { kafka_producer_close(p, 10000, &mut e) }, KAFKA_OK);
    let topics = [c(&topic)];
    let ptrs: Vec<_> = topics.iter().map(|t| t.as_ptr()).collect();
    let cons = unsafe { kafka_instance_get_consumer(inst, ptrs.as_ptr(), 1, null(), &mut e) };
    assert!(!cons.is_null(), "{}", e.message_str());
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while got.len() < values.len() && Instant::now() < deadline {
        let mut m = null_mut();
        let rc = unsafe { kafka_consumer_poll(cons, 500, &mut m, &mut e) };
        assert_eq!(rc, KAFKA_OK, "poll over TLS: {}", e.message_str());
        if !m.is_null() {
            let mut len = 0usize;
            let v = unsafe { kafka_message_value(m, &mut len) } as *const u8;
            got.push(
                String::from_utf8(unsafe { std::slice::from_raw_parts(v, len) }.to_vec()).unwrap(),
            );
            unsafe { kafka_message_free(m) };
        }
    }
    assert_eq!(got, values, "read back over TLS");
    assert_eq!(unsafe { kafka_consumer_close(cons, &mut e) }, KAFKA_OK);
    unsafe { kafka_instance_free(inst) };

    // The `kafkas://` URL states SSL by itself.
    let inst = tls_instance(&[
        ("kafka_url".into(), format!("kafkas://127.0.0.1:{port}")),
        ("ssl_cafile".into(), path_str(&certs.ca).into()),
    ]);
    let (sent, _) = send_sync(inst, &topic, 10000);
    assert_eq!(sent.code, KAFKA_OK, "kafkas:// URL: {}", sent.message_str());
    unsafe { kafka_instance_free(inst) };

    // A CA that did not sign the server's certificate: refused, clearly,
    // within the timeout, for a producer and a consumer.
    let mut settings = tls_settings(port, &certs.other_ca);
    settings.push(("group_id".into(), unique_topic("g")));
    let inst = tls_instance(&settings);
    let (sent, took) = send_sync(inst, &topic, 5000);
    assert_eq!(sent.code, KAFKA_ERR_BROKER, "{}", sent.message_str());
    assert_eq!(sent.rdkafka_code, -181, "{}", sent.message_str());
    assert!(!sent.retriable);
    assert!(
        sent.message_str().contains("certificate verify failed"),
        "{}",
        sent.message_str()
    );
    assert!(took < Duration::from_millis(5000) + SLACK, "{took:?}");
    let (polled, took) = poll_error(inst, &topic, 10000);
    assert_eq!(polled.code, KAFKA_ERR_BROKER, "{}", polled.message_str());
    assert_eq!(polled.rdkafka_code, -181, "{}", polled.message_str());
    assert!(took < Duration::from_millis(10000) + SLACK, "{took:?}");
    for (i, (e, took)) in admin_errors(inst, 8000).iter().enumerate() {
        assert_eq!(
            e.code,
            KAFKA_ERR_BROKER,
            "admin call {i}: {}",
            e.message_str()
        );
        assert_eq!(e.rdkafka_code, -181, "admin call {i}: {}", e.message_str());
        assert!(
            took < &Duration::from_millis(8000),
            "admin call {i}: {took:?}"
        );
    }
    unsafe { kafka_instance_free(inst) };

    // Plaintext against the TLS port fails too, and does not hang.
    let inst = tls_instance(&[("bootstrap_servers".into(), format!("127.0.0.1:{port}"))]);
    let (sent, took) = send_sync(inst, &topic, 3000);
    assert_ne!(sent.code, KAFKA_OK);
    assert!(took < Duration::from_millis(3000) + SLACK, "{took:?}");
    unsafe { kafka_instance_free(inst) };
}
