//! The hand-written bindings agree with the header: scripts/abi_check.py
//! compares the Python package's ctypes declarations (python/kafka_instance/),
//! the Node module's koffi ones (node/index.js) and what the Go package
//! copies by hand (go/) with what the C compiler says of
//! include/kafka_instance.h: struct layouts, prototypes, constants. A field
//! added to a struct in the header and not in a binding (or in the wrong
//! place) fails here instead of corrupting memory at run time.

#![allow(unsafe_code)] // the shared helpers call the C ABI, as a C program would

mod common;
use common::cbuild::ROOT;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// python3 and the C compiler abi_check.py builds its program with are
/// there; otherwise [`common::not_run`] for `test`.
fn tools_present(test: &str) -> bool {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    common::have_tool(test, "python3") && common::have_tool(test, &cc)
}

fn abi_check(args: &[&Path]) -> Output {
    let mut cmd = Command::new("python3");
    cmd.arg(Path::new(ROOT).join("scripts/abi_check.py"));
    for pair in args.chunks(2) {
        cmd.arg(pair[0]).arg(pair[1]);
    }
    cmd.current_dir(ROOT).output().expect("python3 runs")
}

fn shown(out: &Output) -> String {
    format!(
        "exit status {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// An empty folder for this test under target/.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(ROOT)
        .join("target/abi-check")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `text` with the first two items of the list or object that opens at
/// `open` (`[` or `{`) swapped: items are split at the commas outside
/// brackets and quotes.
fn swap_first_two(text: &str, open: usize) -> String {
    let bytes = text.as_bytes();
    let (mut depth, mut quote, mut cuts) = (0, None, vec![open + 1]);
    for i in open + 1..bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q && bytes[i - 1] != b'\\' => quote = None,
            Some(_) => {}
            None => match b {
                b'\'' | b'"' | b'`' => quote = Some(b),
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' if depth > 0 => depth -= 1,
                b',' if depth == 0 => cuts.push(i + 1),
                b')' | b']' | b'}' => {
                    cuts.push(i + 1); // the end of the list
                    break;
                }
                _ => {}
            },
        }
        if cuts.len() == 3 {
            break;
        }
    }
    assert_eq!(cuts.len(), 3, "no two items after byte {open}");
    let (a, b) = (&text[cuts[0]..cuts[1] - 1], &text[cuts[1]..cuts[2] - 1]);
    format!(
        "{}{},{}{}",
        &text[..cuts[0]],
        a.replacen(a.trim(), b.trim(), 1),
        b.replacen(b.trim(), a.trim(), 1),
        &text[cuts[2] - 1..]
    )
}

#[test]
fn every_binding_agrees_with_the_header() {
    if !tools_present("bindings_abi::every_binding_agrees_with_the_header") {
        return;
    }
    let out = abi_check(&[]);
    assert!(
        out.status.success(),
        "a binding disagrees with include/kafka_instance.h (fix the binding, or \
         scripts/abi_check.py if it misreads one):\n{}",
        shown(&out)
    );
    // The summary counts what was compared: every binding, none empty.
    let stdout = String::from_utf8_lossy(&out.stdout);
    for binding in ["python: ", "node: ", "go: "] {
        assert!(stdout.contains(binding), "{binding} not checked:\n{stdout}");
    }
    assert!(!stdout.contains("python: 0 structs"), "{stdout}");
    assert!(!stdout.contains("node: 0 structs"), "{stdout}");
}

/// The check can fail: the first two fields of the first struct of
/// native.py, then of index.js, swapped in a copy, are reported by name.
#[test]
fn the_check_catches_a_moved_field() {
    if !tools_present("bindings_abi::the_check_catches_a_moved_field") {
        return;
    }
    // Python: a copy of the package's sources with native.py changed.
    let package = Path::new(ROOT).join("python/kafka_instance");
    let python_copy = scratch("python");
    for entry in std::fs::read_dir(&package).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "py" || e == "c") {
            std::fs::copy(&path, python_copy.join(path.file_name().unwrap())).unwrap();
        }
    }
    let native = std::fs::read_to_string(package.join("native.py")).unwrap();
    let fields = native
        .find("_fields_ = [")
        .expect("native.py declares a Structure");
    let class = native[..fields].rfind("class ").unwrap() + "class ".len();
    let class = &native[class..class + native[class..].find('(').unwrap()];
    let moved = swap_first_two(&native, fields + "_fields_ = ".len());
    assert_ne!(moved, native);
    std::fs::write(python_copy.join("native.py"), moved).unwrap();
    let out = abi_check(&[Path::new("--python-dir"), &python_copy]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    assert!(
        stdout.contains(&format!(
            "python: struct Kafka{} ({class} in native.py) field '",
            class.trim_start_matches('_')
        )),
        "the moved field of {class} is not reported:\n{}",
        shown(&out)
    );

    // Node: a copy of index.js.
    let index = std::fs::read_to_string(Path::new(ROOT).join("node/index.js")).unwrap();
    let call = index
        .find("koffi.struct('")
        .expect("index.js declares a koffi struct")
        + "koffi.struct('".len();
    let name = &index[call..call + index[call..].find('\'').unwrap()];
    let moved = swap_first_two(&index, call + index[call..].find('{').unwrap());
    assert_ne!(moved, index);
    let node_copy = scratch("node");
    std::fs::write(node_copy.join("index.js"), moved).unwrap();
    let out = abi_check(&[Path::new("--node-file"), &node_copy.join("index.js")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    assert!(
        stdout.contains(&format!("node: struct {name} field '")),
        "the moved field of {name} is not reported:\n{}",
        shown(&out)
    );
    for dir in [python_copy, node_copy] {
        let _ = std::fs::remove_dir_all(dir);
    }
}
