//! The committed C header is what cbindgen generates from the sources,
//! in the sections of src/ffi/handles.rs, with the version macros, and an
//! API reference that doxygen builds from it without a warning.

#![allow(unsafe_code)] // the shared helpers call the C ABI, as a C program would

mod common;

use std::path::Path;
use std::process::Command;

use common::sources::{handles, rust_files};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn generated() -> String {
    std::fs::read_to_string(env!("KAFKA_INSTANCE_GENERATED_HEADER")).unwrap()
}

#[test]
fn include_holds_the_generated_header() {
    let in_tree =
        std::fs::read_to_string(Path::new(ROOT).join("include/kafka_instance.h")).unwrap();
    assert!(
        in_tree == generated(),
        "include/kafka_instance.h differs from a fresh generation"
    );
}

/// build.rs refreshes include/ on every build, so the tree is always fresh;
/// what must be checked is that the refreshed header was committed.
#[test]
fn the_committed_header_is_not_stale() {
    if !Path::new(ROOT).join(".git").exists() {
        eprintln!("NOTE: not a git checkout; the committed header cannot be compared");
        return;
    }
    let out = Command::new("git")
        .args(["-C", ROOT, "show", "HEAD:include/kafka_instance.h"])
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "include/kafka_instance.h is not committed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let committed = String::from_utf8(out.stdout).unwrap();
    assert!(
        committed == generated(),
        "the committed include/kafka_instance.h is stale: commit the regenerated header"
    );
}

#[test]
fn the_header_has_guards_and_the_contract_names() {
    let h = generated();
    for needle in [
        "#ifndef KAFKA_INSTANCE_H",
        "#define KAFKA_INSTANCE_H",
        "#ifdef __cplusplus",
        "extern \"C\" {",
        "KAFKA_OK = 0,",
        "KAFKA_ERR_INTERNAL = 99,",
        "KAFKA_LOG_DEBUG = 7,",
        "const char *kafka_error_code_name(KafkaErrorCode code);",
        "void kafka_set_log_callback(KafkaLogCallback cb, void *opaque, KafkaLogLevel max_level);",
        "char message[KAFKA_ERROR_MESSAGE_SIZE];",
    ] {
        assert!(h.contains(needle), "header lacks {needle:?}");
    }
    // Every function has a doc comment right above it.
    let lines: Vec<&str> = h.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.contains("kafka_")
            && line.ends_with(");")
            && !line.starts_with(' ')
            && !line.starts_with("typedef")
        {
            assert!(lines[i - 1].trim() == "*/", "no doc comment above: {line}");
        }
    }
}

/// The test file a C function's tests live in: its handle's, as
/// src/ffi/handles.rs divides the functions (`kafka_consumer_poll`:
/// tests/consumer/; `kafka_instance_get_producer`: tests/producer/).
fn test_file_of(function: &str) -> &'static str {
    handles::handle_of(function).map_or("log", |h| h.name)
}

/// Every function of the header is named in the test file of its handle
/// (or one of its handle's files, `tests/<handle>_<topic>.rs`), so that its
/// tests are found in one place.
#[test]
fn every_c_function_is_tested_in_the_file_of_its_handle() {
    let header = generated();
    let functions = c_functions(&header);
    assert!(functions.len() > 50, "functions found: {functions:?}");
    // A handle's tests may be split by topic (tests/consumer.rs,
    // tests/consumer_control.rs, ...) and into modules (tests/consumer/).
    let files = test_files();
    let missing: Vec<String> = functions
        .iter()
        .filter_map(|f| {
            let handle = test_file_of(f);
            let found = files.iter().any(|(name, text)| {
                (name == handle || name.starts_with(&format!("{handle}_"))) && text.contains(f)
            });
            (!found).then(|| format!("{f} (tests/{handle}.rs or tests/{handle}_*.rs)"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "not tested in its handle's file: {missing:?}"
    );
}

/// The functions the header declares (every identifier of ours right
/// before a '('), sorted, once each.
fn c_functions(header: &str) -> Vec<&str> {
    let mut functions: Vec<&str> = header
        .match_indices('(')
        .filter_map(|(at, _)| {
            let before = &header[..at];
            let start = before
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(0, |i| i + 1);
            Some(&before[start..]).filter(|name| name.starts_with("kafka_"))
        })
        .collect();
    functions.sort();
    functions.dedup();
    functions
}

/// Each test binary's name (`consumer` for tests/consumer.rs and for
/// tests/consumer/, whose files it reads together) and its text.
fn test_files() -> Vec<(String, String)> {
    let tests = Path::new(ROOT).join("tests");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&tests).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.extension().is_some_and(|e| e == "rs") {
            files.push((name, std::fs::read_to_string(&path).unwrap()));
        } else if path.join("main.rs").exists() {
            let text = rust_files(&path)
                .into_iter()
                .map(|(_, text)| text)
                .collect();
            files.push((name, text));
        }
    }
    files
}

/// The header's macros: (name, value).
fn macros(header: &str) -> Vec<(&str, &str)> {
    header
        .lines()
        .filter_map(|l| l.strip_prefix("#define "))
        .map(|l| l.split_once(' ').unwrap_or((l, "")))
        .collect()
}

/// A C program that defines its own `NO_OFFSET` (or any name without our
/// prefix) still compiles with the header.
#[test]
fn every_macro_in_the_header_starts_with_kafka() {
    let header = generated();
    let foreign: Vec<&str> = macros(&header)
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| !name.starts_with("KAFKA_"))
        .collect();
    assert!(
        foreign.is_empty(),
        "macros without the KAFKA_ prefix: {foreign:?}"
    );
}

#[test]
fn the_version_macros_say_the_version_of_cargo_toml_and_of_kafka_version() {
    let header = generated();
    let value = |name: &str| -> u32 {
        let found = macros(&header).into_iter().find(|(n, _)| *n == name);
        found
            .unwrap_or_else(|| panic!("no {name}"))
            .1
            .trim()
            .parse()
            .unwrap()
    };
    let [major, minor, patch] =
        ["MAJOR", "MINOR", "PATCH"].map(|part| value(&format!("KAFKA_INSTANCE_VERSION_{part}")));
    assert_eq!(
        value("KAFKA_INSTANCE_VERSION_NUM"),
        major * 10000 + minor * 100 + patch
    );
    let toml = std::fs::read_to_string(Path::new(ROOT).join("Cargo.toml")).unwrap();
    let in_toml = toml
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .unwrap();
    assert_eq!(format!("{major}.{minor}.{patch}"), in_toml);
    // SAFETY: a static NUL-terminated string.
    let at_run_time =
        unsafe { std::ffi::CStr::from_ptr(kafka_instance::ffi::version::kafka_instance_version()) };
    assert_eq!(at_run_time.to_str().unwrap(), in_toml);
}

/// The sections come in the order a user meets them, each opening with
/// its paragraph, and the producer's four sends of the original API come
/// before every other send.
#[test]
fn the_header_reads_in_sections_in_the_order_a_user_meets_them() {
    let header = generated();
    let mut at = 0;
    for (i, section) in handles::SECTIONS.iter().enumerate() {
        let banner = format!(" * {}. {}\n", i + 1, section.title);
        let found = header[at..].find(&banner);
        at += found.unwrap_or_else(|| panic!("section {banner:?} missing or out of order"));
        let first_words: String = section
            .intro
            .split_whitespace()
            .take(4)
            .collect::<Vec<_>>()
            .join(" ");
        let opening = &header[at..at + 600.min(header.len() - at)];
        let opening = opening.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            opening.contains(&first_words),
            "section {} opens without its paragraph",
            section.title
        );
    }
    let position = |name: &str| {
        header
            .find(&format!(" {name}("))
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let original = [
        "kafka_producer_send_json",
        "kafka_producer_send_json_sync",
        "kafka_producer_send",
        "kafka_producer_send_sync",
    ];
    let last_original = original.iter().map(|f| position(f)).max().unwrap();
    for other in [
        "kafka_producer_send_batch",
        "kafka_producer_send_wait",
        "kafka_producer_send_tracked",
        "kafka_producer_send_tracked_packed",
        "kafka_producer_hand_over_tracked_packed",
    ] {
        assert!(
            position(other) > last_original,
            "{other} comes before the original four sends"
        );
    }
    let bindings = header.find(" * 10. For language bindings").unwrap();
    assert!(position("kafka_producer_send_tracked") > bindings);
}

/// KAFKA_DEPRECATED makes a compiler warn about a use, quoting its reason.
#[test]
fn the_deprecation_marker_makes_a_use_warn() {
    if !common::have_tool("the_deprecation_marker_makes_a_use_warn", "cc") {
        return;
    }
    let dir = Path::new(ROOT).join("target/tmp/deprecation");
    std::fs::create_dir_all(&dir).unwrap();
    let program = dir.join("old.c");
    std::fs::write(
        &program,
        "#include \"kafka_instance.h\"\n\
         KAFKA_DEPRECATED(\"use kafka_new_call\") int kafka_old_call(void);\n\
         int kafka_old_call(void) { return 0; }\n\
         int main(void) { return kafka_old_call(); }\n",
    )
    .unwrap();
    let out = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-fsyntax-only", "-Iinclude"])
        .arg(&program)
        .current_dir(ROOT)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("deprecated") && said.contains("use kafka_new_call"),
        "no warning: {said}"
    );
}

/// `doxygen docs/Doxyfile` builds the API reference from the header, and
/// says nothing: a @param naming no parameter, or a function with some
/// parameters left undocumented, is a warning, so a failure here.
#[test]
fn the_api_reference_builds_from_the_header_without_a_warning() {
    if !common::have_tool(
        "the_api_reference_builds_from_the_header_without_a_warning",
        "doxygen",
    ) {
        return;
    }
    let out = Command::new("doxygen")
        .arg("docs/Doxyfile")
        .current_dir(ROOT)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "doxygen failed: {said}");
    assert!(said.trim().is_empty(), "doxygen warned:\n{said}");
    let index = Path::new(ROOT).join("target/api-reference/html/index.html");
    assert!(index.exists(), "no {}", index.display());
    for section in handles::SECTIONS {
        let page = Path::new(ROOT).join(format!(
            "target/api-reference/html/group__{}.html",
            section.group
        ));
        assert!(page.exists(), "no page for the section {}", section.title);
    }
}

/// Every function of the header belongs to a handle of src/ffi/handles.rs,
/// which names its log subject and its test file.
#[test]
fn every_c_function_belongs_to_a_handle_of_the_one_list() {
    let header = generated();
    let functions = c_functions(&header);
    let orphans: Vec<&&str> = functions
        .iter()
        .filter(|f| handles::handle_of(f).is_none())
        .collect();
    assert!(orphans.is_empty(), "functions of no handle: {orphans:?}");
    for h in handles::HANDLES.iter().filter(|h| !h.c_type.is_empty()) {
        assert!(
            header.contains(&format!("typedef struct {}", h.c_type)),
            "no type {}",
            h.c_type
        );
    }
}

/// Every function that takes a pointer has its NULL and bad arguments
/// tried in tests/null_args/ (each case names its function).
#[test]
fn every_function_taking_a_pointer_is_in_the_null_argument_tables() {
    let header = generated();
    let tables: String = rust_files(&Path::new(ROOT).join("tests/null_args"))
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    let missing: Vec<&str> = header
        .lines()
        .filter(|l| l.ends_with(");") && !l.starts_with(' ') && !l.starts_with("typedef"))
        .filter_map(|l| {
            let (before, params) = l.split_once('(')?;
            let name = before.rsplit([' ', '*']).next()?;
            (name.starts_with("kafka_") && params.contains('*')).then_some(name)
        })
        .filter(|name| !tables.contains(name))
        .collect();
    assert!(missing.is_empty(), "no NULL-argument case for {missing:?}");
}
