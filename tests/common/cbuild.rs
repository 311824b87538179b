//! Compiling and running C programs against the header and the freshly
//! built shared library.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard, OnceLock};

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The warnings every C program in this repository compiles clean with.
pub const C_FLAGS: &[&str] = &["-Wall", "-Wextra", "-Werror", "-std=c11", "-pedantic", "-g"];

/// Held while a test builds the library again in place (pip's build of
/// the Python package, `cargo build --lib`): `cargo test` and those builds
/// see different dependency fingerprints, so the linker replaces
/// target/<profile>/deps/libkafka_instance.{so,a}, which for a moment do
/// not exist.
static REBUILDING: Mutex<()> = Mutex::new(());

/// See [`REBUILDING`]: hold it for the whole build.
pub fn rebuilding() -> MutexGuard<'static, ()> {
    REBUILDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// A folder laid out as an install would be: `libkafka_instance.so`, its
/// soname link `libkafka_instance.so.0` and `libkafka_instance.a`, the
/// fresh libraries `cargo test` leaves in target/<profile>/deps. Hard
/// links (copies where the file system has none), taken once per test
/// binary and never while a test rebuilds them: a program built or run
/// against this folder keeps its library when a rebuild replaces the ones
/// in deps/.
pub fn lib_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let _quiet = rebuilding();
        let exe = std::env::current_exe().unwrap();
        // The libraries scripts/run-tests.sh set aside before any test ran
        // (a binary that rebuilds the library may run beside this one, and
        // must never hand it a half-written file), else cargo's, in deps/.
        let set_aside = std::env::var_os("KAFKA_INSTANCE_TEST_LIBS").map(PathBuf::from);
        let deps = set_aside
            .as_deref()
            .unwrap_or_else(|| exe.parent().unwrap());
        // One folder per test binary.
        let binary = exe.file_stem().unwrap().to_string_lossy().into_owned();
        let dir = Path::new(ROOT)
            .join("target")
            .join("c-tests")
            .join(format!("lib-{binary}"));
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["libkafka_instance.so", "libkafka_instance.a"] {
            let built = deps.join(name);
            assert!(built.exists(), "no {}", built.display());
            let taken = dir.join(name);
            let _ = std::fs::remove_file(&taken);
            if std::fs::hard_link(&built, &taken).is_err() {
                std::fs::copy(&built, &taken).unwrap();
            }
        }
        let soname = dir.join("libkafka_instance.so.0");
        let _ = std::fs::remove_file(&soname);
        std::os::unix::fs::symlink("libkafka_instance.so", &soname).unwrap();
        dir
    })
}

/// The warnings every C++ program in this repository compiles clean with.
pub const CXX_FLAGS: &[&str] = &[
    "-Wall",
    "-Wextra",
    "-Werror",
    "-std=c++17",
    "-pedantic",
    "-g",
];

/// Compiles one C source file; returns the binary.
pub fn compile_c(source: &Path) -> PathBuf {
    compile(
        source,
        &std::env::var("CC").unwrap_or_else(|_| "cc".into()),
        C_FLAGS,
    )
}

/// Compiles one C++ source file; returns the binary.
pub fn compile_cpp(source: &Path) -> PathBuf {
    compile(
        source,
        &std::env::var("CXX").unwrap_or_else(|_| "c++".into()),
        CXX_FLAGS,
    )
}

fn compile(source: &Path, compiler: &str, flags: &[&str]) -> PathBuf {
    // One folder per test binary, as for the library: binaries running
    // side by side build the same programs.
    let binary = std::env::current_exe().unwrap();
    let binary = binary.file_stem().unwrap().to_string_lossy().into_owned();
    let out_dir = Path::new(ROOT).join("target").join("c-tests").join(binary);
    std::fs::create_dir_all(&out_dir).unwrap();
    let bin = out_dir.join(source.file_stem().unwrap());
    let lib = lib_dir();
    let out = Command::new(compiler)
        .args(flags)
        .arg("-I")
        .arg(Path::new(ROOT).join("include"))
        .arg(source)
        .arg("-o")
        .arg(&bin)
        .arg("-L")
        .arg(lib)
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-lkafka_instance")
        .output()
        .unwrap_or_else(|e| panic!("running {compiler}: {e}"));
    assert!(
        out.status.success(),
        "compiling {}:\n{}",
        source.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    bin
}

pub fn run(bin: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(bin);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

pub fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
