//! The other languages' packages, each with its own tests, on the embedded
//! broker: the Python package (python/, installed with pip into
//! target/venv, then pytest), the Go package (go/, `go test`, linked
//! through pkg-config) and the Node module (node/, koffi from the npm
//! registry, `node --test`).

#![allow(unsafe_code)] // the shared helpers call the C ABI, as a C program would

mod common;
use common::cbuild::{assert_ok, lib_dir, rebuilding, ROOT};
use common::have_tool;

use std::path::{Path, PathBuf};
use std::process::Command;

fn venv_python() -> PathBuf {
    Path::new(ROOT).join("target/venv/bin/python")
}

/// `pip install ./python` (the library built by setuptools-rust, in the dev
/// profile that `cargo test` already built), then the package's tests
/// against the installed copy: the original framework's usage examples,
/// the delivery guarantees, asyncio.
#[test]
fn python_package_installs_and_its_tests_pass() {
    let python = venv_python();
    let ready = python.exists()
        && Command::new(&python)
            .args(["-c", "import pytest, setuptools_rust"])
            .output()
            .is_ok_and(|o| o.status.success());
    if !ready {
        common::not_run(
            "bindings::python",
            "target/venv lacks pytest or setuptools-rust (scripts/test.sh installs them)",
        );
        return;
    }
    let rebuilding = rebuilding();
    let out = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-build-isolation",
            "--force-reinstall",
        ])
        .args(["--no-deps", "./python"])
        .current_dir(ROOT)
        .env("SETUPTOOLS_RUST_CARGO_PROFILE", "dev")
        .output()
        .expect("pip runs");
    drop(rebuilding);
    assert_ok(&out, "pip install ./python");
    // send()'s compiled common case was built (scripts/test.sh installs
    // Python's headers): without them pip installs the Python steps alone,
    // which would leave the compiled ones untested.
    let out = Command::new(&python)
        .args([
            "-c",
            "from kafka_instance import connection; print(connection.COMPILED)",
        ])
        .current_dir(std::env::temp_dir())
        .env_remove("KAFKA_INSTANCE_LIB")
        .env_remove("KAFKA_INSTANCE_PURE_PYTHON")
        .output()
        .expect("python runs");
    assert_ok(&out, "import kafka_instance");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "True",
        "pip built the package without kafka_instance/_speedups.c (are Python's headers, \
         python3-dev, installed?)"
    );
    // Every test with the compiled send, then the producer's with the same
    // steps in Python.
    for (pure, files) in [
        (false, "python/tests"),
        (true, "python/tests/test_producer.py"),
    ] {
        let mut pytest = Command::new(&python);
        pytest
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", files])
            .current_dir(ROOT)
            .env_remove("KAFKA_INSTANCE_LIB")
            .env_remove("KAFKA_INSTANCE_PURE_PYTHON");
        if pure {
            pytest.env("KAFKA_INSTANCE_PURE_PYTHON", "1");
        }
        let out = pytest.output().expect("pytest runs");
        let what = format!("pytest {files} (pure Python: {pure})");
        assert_ok(&out, &what);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains(" passed"), "{what}: {stdout}");
        assert!(!stdout.contains("skipped"), "{what}: {stdout}");
    }

    // The program of docs/python.md ("From Python"), with the installed package.
    let out = Command::new(&python)
        .arg("examples-python/orders.py")
        .current_dir(ROOT)
        .env_remove("KAFKA_INSTANCE_LIB")
        .env("KAFKA_INSTANCE_LOG", "off")
        .output()
        .expect("python runs");
    assert_ok(&out, "examples-python/orders.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("received orders [1, 2, 3]"), "{stdout}");
}

/// kafka_instance/_speedups.c (the Python package's compiled send) builds
/// with the warnings the repository's C compiles with, as errors, against
/// the test venv's Python headers. Not -pedantic: CPython's type slots
/// (PyType_Slot) hold functions as `void *` by design, which ISO C flags.
#[test]
fn python_speedups_compile_without_warnings() {
    let python = venv_python();
    let include = Command::new(&python)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['include'])",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|dir| Path::new(dir).join("Python.h").exists());
    let Some(include) = include else {
        common::not_run(
            "bindings::python_speedups_compile_without_warnings",
            "no target/venv with Python's headers (scripts/test.sh installs python3-dev)",
        );
        return;
    };
    let out = Command::new("cc")
        .args(
            common::cbuild::C_FLAGS
                .iter()
                .filter(|f| **f != "-pedantic"),
        )
        .args(["-fsyntax-only", "-I", &include])
        .arg(Path::new(ROOT).join("python/kafka_instance/_speedups.c"))
        .output()
        .expect("cc runs");
    assert_ok(&out, "cc python/kafka_instance/_speedups.c");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A pkg-config file for the library this test binary was built with.
fn pkg_config_dir() -> PathBuf {
    let dir = lib_dir().join("pkgconfig");
    std::fs::create_dir_all(&dir).unwrap();
    let pc = format!(
        "Name: kafka_instance\nDescription: kafka_instance (this build)\nVersion: {}\n\
         Libs: -L{} -lkafka_instance\nCflags: -I{}/include\n",
        env!("CARGO_PKG_VERSION"),
        lib_dir().display(),
        ROOT
    );
    std::fs::write(dir.join("kafka_instance.pc"), pc).unwrap();
    dir
}

/// `go test` in go/: produce JSON with delivery callbacks (cgo.Handle),
/// consume through a handler (a panicking one recovered), clean close.
#[test]
fn go_package_tests_pass() {
    if !have_tool("bindings::go", "go") || !have_tool("bindings::go", "pkg-config") {
        return;
    }
    let pkg_config = pkg_config_dir();
    // One go command in go/, against this build; its stdout.
    let go = |args: &[&str]| {
        let out = Command::new("go")
            .args(args)
            .current_dir(Path::new(ROOT).join("go"))
            .env("PKG_CONFIG_PATH", &pkg_config)
            .env("LD_LIBRARY_PATH", lib_dir())
            .env("CGO_ENABLED", "1")
            .env("GOFLAGS", "-mod=mod")
            .env("GOPROXY", "off")
            .env("GOCACHE", Path::new(ROOT).join("target/go-cache"))
            .env("KAFKA_INSTANCE_LOG", "off")
            .output()
            .expect("go runs");
        assert_ok(&out, &format!("go {}", args.join(" ")));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let stdout = go(&["test", "-count=1", "./..."]);
    assert!(stdout.contains("ok"), "{stdout}");
    // The program of docs/go.md ("From Go").
    let stdout = go(&["run", "./cmd/orders"]);
    assert!(stdout.contains("received orders [1 2 3]"), "{stdout}");
}

/// `node --test` in node/ (koffi installed from the npm registry): the
/// same surface as Go's, with promises for delivery.
#[test]
fn node_module_tests_pass() {
    if !have_tool("bindings::node", "node") || !have_tool("bindings::node", "npm") {
        return;
    }
    let dir = Path::new(ROOT).join("node");
    if !dir.join("node_modules/koffi").exists() {
        let out = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .output()
            .expect("npm runs");
        assert_ok(&out, "npm install (koffi)");
    }
    // One node command in node/, against this build; its stdout.
    let node = |args: &[&str]| {
        let out = Command::new("node")
            .args(args)
            .current_dir(&dir)
            .env("KAFKA_INSTANCE_LIB", lib_dir().join("libkafka_instance.so"))
            .env("KAFKA_INSTANCE_LOG", "off")
            .output()
            .expect("node runs");
        assert_ok(&out, &format!("node {}", args.join(" ")));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let stdout = node(&["--test", "test/"]);
    assert!(
        stdout.contains("# pass 1") && stdout.contains("# fail 0"),
        "{stdout}"
    );
    // The program of docs/node.md ("From Node").
    let stdout = node(&["examples/orders.js"]);
    assert!(stdout.contains("received orders [ 1, 2, 3 ]"), "{stdout}");
}
