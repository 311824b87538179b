//! The committed C header is what cbindgen generates from the sources.

use std::path::Path;
use std::process::Command;

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

/// The test file a C function's tests live in: its handle's
/// (`kafka_consumer_poll`: tests/consumer.rs). A client made from an
/// instance is tested with that client (`kafka_instance_get_producer`:
/// tests/producer.rs).
fn test_file_of(function: &str) -> &'static str {
    const BY_PREFIX: &[(&str, &str)] = &[
        ("kafka_instance_get_producer", "producer"),
        ("kafka_instance_with_producer", "producer"),
        ("kafka_instance_get_consumer", "consumer"),
        ("kafka_instance_with_consumer", "consumer"),
        ("kafka_mock_cluster_", "mock_cluster"),
        ("kafka_instance_describe_topic_config", "topic_config"),
        ("kafka_instance_alter_topic_config", "topic_config"),
        ("kafka_topic_config_", "topic_config"),
        ("kafka_instance_describe_cluster", "cluster"),
        ("kafka_instance_describe_topic", "cluster"),
        ("kafka_cluster_", "cluster"),
        ("kafka_instance_list_groups", "group_list"),
        ("kafka_instance_describe_group", "group_list"),
        ("kafka_instance_group_", "group_list"),
        ("kafka_instance_delete_group", "group_list"),
        ("kafka_group_list_", "group_list"),
        ("kafka_statistics_", "statistics"),
        ("kafka_set_statistics_callback", "statistics"),
        ("kafka_partition_list_", "partition_list"),
        ("kafka_config_", "config"),
        ("kafka_instance_", "instance"),
        ("kafka_producer_", "producer"),
        ("kafka_consumer_", "consumer"),
        ("kafka_message_", "message"),
        ("kafka_error_", "error"),
    ];
    BY_PREFIX
        .iter()
        .find(|(prefix, _)| function.starts_with(prefix))
        .map_or("log", |(_, file)| file)
}

/// Every function of the header is named in the test file of its handle
/// (or one of its handle's files, `tests/<handle>_<topic>.rs`), so that its
/// tests are found in one place.
#[test]
fn every_c_function_is_tested_in_the_file_of_its_handle() {
    let header = generated();
    // Every identifier right before a '(' that names one of ours.
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
    assert!(functions.len() > 50, "functions found: {functions:?}");
    // A handle's tests may be split by topic: tests/consumer.rs,
    // tests/consumer_control.rs, ...
    let tests = Path::new(ROOT).join("tests");
    let files: Vec<(String, String)> = std::fs::read_dir(&tests)
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let text = std::fs::read_to_string(tests.join(&name)).ok()?;
            name.ends_with(".rs").then_some((name, text))
        })
        .collect();
    let missing: Vec<String> = functions
        .iter()
        .filter_map(|f| {
            let handle = test_file_of(f);
            let found = files.iter().any(|(name, text)| {
                (name == &format!("{handle}.rs") || name.starts_with(&format!("{handle}_")))
                    && text.contains(f)
            });
            (!found).then(|| format!("{f} (tests/{handle}.rs or tests/{handle}_*.rs)"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "not tested in its handle's file: {missing:?}"
    );
}
