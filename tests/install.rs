//! Packaging: the install script, pkg-config, dynamic and static linking
//! against an installed prefix alone, and the exported symbol set.

#![allow(unsafe_code)] // the shared helpers call the C ABI, as a C program would

mod common;
use common::cbuild::{assert_ok, lib_dir, rebuilding, ROOT};

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Installs into a fresh temporary prefix from the test build.
fn install() -> PathBuf {
    let prefix = Path::new(ROOT)
        .join("target")
        .join(format!("install-test-{}", std::process::id()));
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
