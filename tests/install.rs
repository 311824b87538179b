//! Packaging: the install script, pkg-config, dynamic and static linking
//! against an installed prefix alone, and the exported symbol set.

#![allow(unsafe_code)] // the shared helpers call the C ABI, as a C program would

mod common;
use common::cbuild::{assert_ok, lib_dir, ROOT};

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Installs into a fresh temporary prefix from the test build.
fn install() -> PathBuf {
    let prefix = Path::new(ROOT)
        .join("target")
        .join(format!("install-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&prefix);
    let built = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let out = Command::new("sh")
        .arg(Path::new(ROOT).join("scripts/install.sh"))
        .arg("--prefix")
        .arg(&prefix)
        .arg("--from")
        .arg(&built)
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
        .expect("pkg-config is installed (.ci/run installs it)");
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
