//! Packaging: the install script, pkg-config, dynamic and static linking
//! against an installed prefix alone, and the exported symbol set.

#![allow(unsafe_code)] // the shared helpers call the C ABI, as a C program would

mod common;
use common::cbuild::{assert_ok, lib_dir, rebuilding, ROOT};
use common::have_tool;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Installs into a fresh temporary prefix from the test build, one per
/// call (the tests of this file run at the same time).
fn install() -> PathBuf {
    static INSTALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = INSTALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let prefix = Path::new(ROOT)
        .join("target")
        .join(format!("install-test-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&prefix);
    let out = Command::new("sh")
        .arg(Path::new(ROOT).join("scripts/install.sh"))
        .arg("--prefix")
        .arg(&prefix)
        .arg("--from")
        .arg(lib_dir())
        .output()
        .unwrap();
    assert_ok(&out, "scripts/install.sh");
    prefix
}

fn pkg_config(prefix: &Path, args: &[&str]) -> Vec<String> {
    let out = Command::new("pkg-config")
        .args(args)
        .arg("kafka_instance")
        .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"))
        .env_remove("PKG_CONFIG_LIBDIR")
        .output()
        .expect("pkg-config runs (scripts/test.sh installs it)");
    assert_ok(&out, "pkg-config");
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

#[test]
fn an_installed_prefix_alone_builds_and_runs_the_quickstart() {
    let prefix = install();
    for name in [
        "libkafka_instance.so",
        "libkafka_instance.so.0",
        "libkafka_instance.a",
        "pkgconfig/kafka_instance.pc",
    ] {
        assert!(prefix.join("lib").join(name).exists(), "{name} installed");
    }
    assert!(prefix.join("include/kafka_instance.h").exists());
    assert!(prefix.join("include/kafka_instance.hpp").exists());
    for name in ["LICENSE-MIT", "LICENSE-APACHE", "CHANGELOG.md"] {
        assert!(
            prefix.join("share/doc/kafka_instance").join(name).exists(),
            "{name} installed"
        );
    }
    // The embedded broker as a command, built against the prefix
    // (tests/examples.rs runs it).
    let out = Command::new(prefix.join("bin/kafka-embedded-broker"))
        .arg("--help")
        .output()
        .unwrap();
    assert_ok(&out, "the installed kafka-embedded-broker --help");
    assert!(String::from_utf8_lossy(&out.stdout).contains("KAFKA_BOOTSTRAP_SERVERS"));
    // Stripped of debug information (the build keeps it).
    for lib in ["libkafka_instance.so", "libkafka_instance.a"] {
        let sections = Command::new("readelf")
            .args(["-S", "-W"])
            .arg(prefix.join("lib").join(lib))
            .output()
            .unwrap();
        assert!(
            !String::from_utf8_lossy(&sections.stdout).contains(".debug_info"),
            "{lib} installed without debug information"
        );
    }
    assert_eq!(
        pkg_config(&prefix, &["--modversion"]),
        [env!("CARGO_PKG_VERSION")]
    );

    let source = Path::new(ROOT).join("examples-c/quickstart.c");
    let dir = prefix.join("build");
    std::fs::create_dir_all(&dir).unwrap();

    // Dynamic: only what pkg-config says, plus an rpath to the prefix.
    let dynamic = dir.join("quickstart-dynamic");
    let out = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror"])
        .arg(&source)
        .arg("-o")
        .arg(&dynamic)
        .args(pkg_config(&prefix, &["--cflags", "--libs"]))
        .arg(format!("-Wl,-rpath,{}", prefix.join("lib").display()))
        .output()
        .unwrap();
    assert_ok(&out, "cc with pkg-config --cflags --libs");
    let needed = Command::new("readelf")
        .arg("-d")
        .arg(&dynamic)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&needed.stdout).contains("[libkafka_instance.so.0]"),
        "links the soname"
    );
    let out = Command::new(&dynamic)
        .env("KAFKA_INSTANCE_LOG", "off")
        .output()
        .unwrap();
    assert_ok(&out, "the dynamically linked quickstart");

    // The Python package (its sources, without a bundled library), copied
    // elsewhere with the demo, finds the installed library through the
    // system loader.
    let python_dir = dir.join("python");
    let package = python_dir.join("kafka_instance");
    std::fs::create_dir_all(&package).unwrap();
    for entry in std::fs::read_dir(Path::new(ROOT).join("python/kafka_instance")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "py") {
            std::fs::copy(&path, package.join(path.file_name().unwrap())).unwrap();
        }
    }
    std::fs::copy(
        Path::new(ROOT).join("examples-python/demo.py"),
        python_dir.join("demo.py"),
    )
    .unwrap();
    let out = Command::new("python3")
        .arg(python_dir.join("demo.py"))
        .env("LD_LIBRARY_PATH", prefix.join("lib"))
        .env_remove("KAFKA_INSTANCE_LIB")
        .output()
        .unwrap();
    assert_ok(&out, "the copied Python demo against the installed library");

    // Static: the archive and pkg-config's private libraries.
    let static_bin = dir.join("quickstart-static");
    let libs: Vec<String> = pkg_config(&prefix, &["--static", "--libs"])
        .into_iter()
        .filter(|a| a != "-lkafka_instance" && !a.starts_with("-L"))
        .collect();
    let out = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror"])
        .args(pkg_config(&prefix, &["--cflags"]))
        .arg(&source)
        .arg("-o")
        .arg(&static_bin)
        .arg(prefix.join("lib/libkafka_instance.a"))
        .args(libs)
        .output()
        .unwrap();
    assert_ok(&out, "cc with the static archive");
    let needed = Command::new("readelf")
        .arg("-d")
        .arg(&static_bin)
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&needed.stdout).contains("libkafka_instance"),
        "no shared library needed"
    );
    let out = Command::new(&static_bin)
        .env("KAFKA_INSTANCE_LOG", "off")
        .output()
        .unwrap();
    assert_ok(&out, "the statically linked quickstart");
    std::fs::remove_dir_all(&prefix).unwrap();
}

#[test]
fn the_shared_library_exports_exactly_the_c_api() {
    let so = lib_dir().join("libkafka_instance.so");
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&so)
        .output()
        .expect("nm (binutils)");
    assert_ok(&out, "nm -D");
    let exported: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2).map(str::to_owned))
        .collect();
    let header = std::fs::read_to_string(env!("KAFKA_INSTANCE_GENERATED_HEADER")).unwrap();
    let declared: BTreeSet<String> = header
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with("typedef") && l.ends_with(");"))
        .filter_map(|l| {
            l[..l.find('(')?]
                .rsplit([' ', '*'])
                .next()
                .map(str::to_owned)
        })
        .filter(|n| n.starts_with("kafka_"))
        .collect();
    assert_eq!(
        exported, declared,
        "exported symbols = the header's functions, nothing else"
    );
}

/// The way C developers try first: `-L` the build directory, then run with
/// `LD_LIBRARY_PATH` there. The library's soname is
/// `libkafka_instance.so.0`; the build leaves a link of that name beside it.
#[test]
fn linking_against_the_build_directory_works() {
    // `cargo test` leaves the library in deps/ only: build it as a user
    // does. The test build compiled it already, so this mostly links it
    // and leaves it (and the soname link) in the profile directory.
    let out = {
        let _rebuilding = rebuilding();
        Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(["build", "--lib", "--quiet"])
            .current_dir(ROOT)
            .output()
            .unwrap()
    };
    assert_ok(&out, "cargo build --lib");
    let profile_dir = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    assert!(
        profile_dir.join("libkafka_instance.so.0").exists(),
        "the build left libkafka_instance.so.0 in {}",
        profile_dir.display()
    );
    let dir = Path::new(ROOT).join("target").join("c-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let bin = dir.join("quickstart-build-tree");
    let out = Command::new("cc")
        .arg(Path::new(ROOT).join("examples-c/quickstart.c"))
        .arg("-I")
        .arg(Path::new(ROOT).join("include"))
        .arg("-L")
        .arg(&profile_dir)
        .arg("-lkafka_instance")
        .arg("-o")
        .arg(&bin)
        .output()
        .unwrap();
    assert_ok(&out, "cc -I include -L <build dir> -lkafka_instance");
    let out = Command::new(&bin)
        .env("LD_LIBRARY_PATH", &profile_dir)
        .env("KAFKA_INSTANCE_LOG", "off")
        .output()
        .unwrap();
    assert_ok(&out, "the quickstart linked against the build directory");
}

/// Creates and closes a producer and a consumer on the embedded broker:
/// rust-rdkafka leaks 216 bytes for each client, the mock cluster's
/// included (tests/valgrind/kafka_instance.supp).
const CLIENTS_C: &str = r#"#include <stdio.h>

#include "kafka_instance.h"

static int fail(const char *what, const KafkaError *err) {
  fprintf(stderr, "%s failed: %s\n", what, err->message);
  return 1;
}

int main(void) {
  KafkaError err;
  KafkaMockCluster *mc = kafka_mock_cluster_new(1, &err);
  if (mc == NULL) return fail("kafka_mock_cluster_new", &err);
  KafkaConfig *cfg = kafka_config_new();
  const char *servers[] = {kafka_mock_cluster_bootstrap_servers(mc)};
  if (kafka_config_set_bootstrap_servers(cfg, servers, 1, &err) ||
      kafka_config_set_group_id(cfg, "valgrind", &err))
    return fail("kafka_config_set", &err);
  KafkaInstance *inst = kafka_instance_new(cfg, &err);
  kafka_config_free(cfg);
  if (inst == NULL) return fail("kafka_instance_new", &err);
  KafkaProducer *p = kafka_instance_get_producer(inst, NULL, &err);
  if (p == NULL) return fail("kafka_instance_get_producer", &err);
  if (kafka_producer_close(p, 10000, &err)) return fail("kafka_producer_close", &err);
  const char *topics[] = {"valgrind"};
  KafkaConsumer *c = kafka_instance_get_consumer(inst, topics, 1, NULL, &err);
  if (c == NULL) return fail("kafka_instance_get_consumer", &err);
  if (kafka_consumer_close(c, &err)) return fail("kafka_consumer_close", &err);
  kafka_instance_free(inst);
  kafka_mock_cluster_free(mc);
  puts("clients: created and freed");
  return 0;
}
"#;

/// Bytes valgrind's leak summary counts as `kind` ("definitely",
/// "indirectly", "possibly"); 0 when it has no such line.
fn lost(report: &str, kind: &str) -> u64 {
    let label = format!("{kind} lost: ");
    report
        .lines()
        .filter_map(|l| l.split_once(label.as_str()).map(|(_, rest)| rest))
        .map(|rest| {
            let bytes: String = rest
                .split(" bytes")
                .next()
                .unwrap()
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            bytes.parse::<u64>().unwrap()
        })
        .sum()
}

/// What a user of the installed library sees under valgrind: with the
/// suppressions the install puts in share/kafka_instance/valgrind.supp,
/// no byte lost; without them, rust-rdkafka's 216 bytes per client (and
/// Rust's 48-byte handle of the main thread, possibly lost). The
/// library is the installed one (stripped of its debug information), so
/// the suppressions must match frames that survive the strip.
#[test]
fn the_installed_valgrind_suppressions_match_the_installed_library() {
    if !have_tool("install_valgrind_suppressions", "valgrind") {
        return;
    }
    let prefix = install();
    let supp = prefix.join("share/kafka_instance/valgrind.supp");
    assert!(supp.exists(), "{} installed", supp.display());
    let so = prefix.join("lib/libkafka_instance.so");
    let sections = Command::new("readelf")
        .args(["-S", "-W"])
        .arg(&so)
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&sections.stdout).contains(".debug_info"),
        "the installed library has no debug information"
    );

    let dir = prefix.join("build");
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("clients.c");
    std::fs::write(&source, CLIENTS_C).unwrap();
    let bin = dir.join("clients");
    let out = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g"])
        .arg(&source)
        .arg("-o")
        .arg(&bin)
        .args(pkg_config(&prefix, &["--cflags", "--libs"]))
        .arg(format!("-Wl,-rpath,{}", prefix.join("lib").display()))
        .output()
        .unwrap();
    assert_ok(&out, "cc clients.c with pkg-config --cflags --libs");

    let memcheck = |suppressions: Option<&Path>| {
        let mut valgrind = Command::new("valgrind");
        if let Some(file) = suppressions {
            valgrind.arg(format!("--suppressions={}", file.display()));
        }
        // The command of docs/performance.md (Memory), and an exit code for
        // the errors (valgrind's default: leaks definitely and possibly
        // lost).
        let out = valgrind
            .args(["--leak-check=full", "--error-exitcode=3"])
            .arg(&bin)
            .env("KAFKA_INSTANCE_LOG", "off")
            // cargo's library path would load the build's library, with
            // its debug information, instead of the installed one.
            .env_remove("LD_LIBRARY_PATH")
            .output()
            .expect("valgrind runs");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("clients: created and freed"),
            "the program ran to its end: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            out.status,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    // The command docs/performance.md (Memory) gives.
    let (status, report) = memcheck(Some(&supp));
    assert!(
        status.success() && report.contains("ERROR SUMMARY: 0 errors"),
        "with {}: {status}\n{report}",
        supp.display()
    );
    assert_eq!(
        (
            lost(&report, "definitely"),
            lost(&report, "indirectly"),
            lost(&report, "possibly")
        ),
        (0, 0, 0),
        "nothing lost with the installed suppressions:\n{report}"
    );

    // Without them the leak shows, from the installed library: the
    // suppressions above had something to match.
    let (status, report) = memcheck(None);
    let leaked = lost(&report, "definitely") + lost(&report, "indirectly");
    assert!(
        status.code() == Some(3) && leaked > 0 && leaked % 216 == 0,
        "without suppressions, 216 bytes per client lost: {status}\n{report}"
    );
    assert!(
        report.contains("are definitely lost")
            && report.contains("rd_kafka_queue_new0")
            && report.contains(&format!(
                "(in {}",
                prefix.join("lib").canonicalize().unwrap().display()
            )),
        "the leak's frames are the installed library's:\n{report}"
    );
    std::fs::remove_dir_all(&prefix).unwrap();
}
