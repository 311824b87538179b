//! Every function and callback typedef of the committed C header documents
//! each of its parameters, by its exact name and in signature order, with
//! one `@param` line, and its return value with one `@return` line (none
//! for a void one), so that the header's docs and its prototypes cannot
//! drift apart. The header is cbindgen's copy of the Rust doc comments
//! under src/ffi/: fix a failure there.

#![allow(unsafe_code)] // the shared helpers call the C ABI, as a C program would

mod common;
use common::cbuild::ROOT;

use std::path::Path;

/// One declaration of the header with the doc comment right above it.
#[derive(Debug)]
struct Declaration {
    /// The function's or the typedef's name.
    name: String,
    /// The parameter names, in order.
    params: Vec<String>,
    /// Whether it returns a value (anything but `void`).
    returns: bool,
    /// The lines of the `/** ... */` right above it, without the leading
    /// ` * `; `None` when there is none.
    doc: Option<Vec<String>>,
}

/// The text of a `/** ... */` comment, one entry per line, without the
/// comment's own markers.
fn doc_lines(comment: &[&str]) -> Vec<String> {
    comment
        .iter()
        .map(|line| {
            let line = line.trim();
            let line = line.strip_prefix("/**").unwrap_or(line);
            let line = line.strip_suffix("*/").unwrap_or(line);
            let line = line.strip_prefix('*').unwrap_or(line);
            line.strip_prefix(' ').unwrap_or(line).trim_end().to_owned()
        })
        .collect()
}

/// Splits a parameter list at its top-level commas.
fn split_params(list: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, ch) in list.char_indices() {
        match ch {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(list[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(list[start..].trim());
    out.retain(|p| !p.is_empty() && *p != "void");
    out
}

/// The name a C parameter declares: its last identifier (before any
/// array suffix).
fn param_name(param: &str) -> String {
    let param = param.split('[').next().unwrap_or(param);
    let end = param
        .trim_end()
        .trim_end_matches(|c: char| !(c.is_alphanumeric() || c == '_'));
    let name: String = end
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    name.chars().rev().collect()
}

/// The text inside the parenthesis that opens at byte `open` of `text`,
/// and the byte after its closing one.
fn inside_parens(text: &str, open: usize) -> Option<(&str, usize)> {
    let mut depth = 0i32;
    for (i, ch) in text[open..].char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some((&text[open + 1..open + i], open + i + 1));
                }
            }
            _ => {}
        }
    }
    None
}

/// A function prototype or a callback typedef, from one statement (ending
/// in `;`); `None` for anything else (structs, enums, defines, fields).
fn declaration(statement: &str, doc: Option<Vec<String>>) -> Option<Declaration> {
    let s = statement.trim();
    if !s.ends_with(");") || s.starts_with('#') || s.starts_with('}') {
        return None;
    }
    // `typedef RET (*Name)(params);`
    if let Some(rest) = s.strip_prefix("typedef ") {
        let star = rest.find("(*")?;
        let ret = rest[..star].trim();
        let (name, after) = inside_parens(rest, star)?;
        let open = after + rest[after..].find('(')?;
        let (params, _) = inside_parens(rest, open)?;
        return Some(Declaration {
            name: name.trim_start_matches('*').trim().to_owned(),
            params: split_params(params).into_iter().map(param_name).collect(),
            returns: ret != "void",
            doc,
        });
    }
    // `RET name(params);` at the start of a line: the first parenthesis
    // follows the name.
    if statement.starts_with(char::is_whitespace) || s.contains('=') {
        return None;
    }
    let open = s.find('(')?;
    let head = s[..open].trim_end();
    let name = param_name(head);
    let ret = head.strip_suffix(name.as_str())?.trim();
    if name.is_empty() || ret.is_empty() {
        return None;
    }
    let (params, _) = inside_parens(s, open)?;
    Some(Declaration {
        name,
        params: split_params(params).into_iter().map(param_name).collect(),
        returns: ret != "void",
        doc,
    })
}

/// Every function prototype and callback typedef of a header, each with
/// the doc comment right above it.
fn declarations(header: &str) -> Vec<Declaration> {
    let lines: Vec<&str> = header.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut doc: Option<Vec<String>> = None;
    while i < lines.len() {
        let line = lines[i].trim();
        if line.starts_with("/**") {
            let start = i;
            while !lines[i].contains("*/") && i + 1 < lines.len() {
                i += 1;
            }
            doc = Some(doc_lines(&lines[start..=i]));
            i += 1;
            continue;
        }
        if line.is_empty() || line.starts_with("//") || line.starts_with("/*") {
            if line.starts_with("/*") {
                while !lines[i].contains("*/") && i + 1 < lines.len() {
                    i += 1;
                }
            }
            doc = None;
            i += 1;
            continue;
        }
        // A statement: this line, and the next ones until it ends (a
        // preprocessor line is one line).
        let mut statement = lines[i].to_owned();
        let ended = |s: &str| s.trim_end().ends_with([';', '{', '}']) || s.starts_with('#');
        let continues = |next: &str| {
            let next = next.trim();
            !next.is_empty() && !next.starts_with("/*") && !next.starts_with('#')
        };
        while !ended(&statement) && i + 1 < lines.len() && continues(lines[i + 1]) {
            i += 1;
            statement.push(' ');
            statement.push_str(lines[i].trim());
        }
        if let Some(d) = declaration(&statement, doc.take()) {
            out.push(d);
        }
        i += 1;
    }
    out
}

/// What is wrong with one declaration's doc, if anything.
fn problems(d: &Declaration) -> Vec<String> {
    let Some(doc) = &d.doc else {
        return vec!["no doc comment".to_owned()];
    };
    let mut out = Vec::new();
    let mut named: Vec<String> = Vec::new();
    let mut returns = 0;
    for line in doc {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.first().copied() {
            Some("@param") => named.push(words.get(1).copied().unwrap_or("").to_owned()),
            Some("@return") => returns += 1,
            _ => {}
        }
    }
    for p in &d.params {
        match named.iter().filter(|n| *n == p).count() {
            0 => out.push(format!("no @param {p}")),
            1 => {}
            n => out.push(format!("{n} @param lines for {p}")),
        }
    }
    for n in &named {
        if !d.params.contains(n) {
            out.push(format!("@param {n} names no parameter"));
        }
    }
    if out.is_empty() && named != d.params {
        out.push(format!(
            "@param order {named:?} is not the signature's {:?}",
            d.params
        ));
    }
    match (d.returns, returns) {
        (true, 1) | (false, 0) => {}
        (true, n) => out.push(format!("returns a value: wants one @return, has {n}")),
        (false, n) => out.push(format!("returns void: wants no @return, has {n}")),
    }
    out
}

/// Every offending declaration of `header`, one line each with all its
/// problems.
fn check(header: &str) -> Vec<String> {
    declarations(header)
        .iter()
        .filter_map(|d| {
            let p = problems(d);
            (!p.is_empty()).then(|| format!("{}: {}", d.name, p.join("; ")))
        })
        .collect()
}

#[test]
fn every_function_and_callback_documents_its_parameters_and_result() {
    let header = std::fs::read_to_string(Path::new(ROOT).join("include/kafka_instance.h")).unwrap();
    let found = declarations(&header);
    let functions = found
        .iter()
        .filter(|d| d.name.starts_with("kafka_"))
        .count();
    let callbacks = found.iter().filter(|d| d.name.starts_with("Kafka")).count();
    assert!(
        functions >= 100 && callbacks >= 5,
        "the parser found {functions} functions and {callbacks} callback typedefs: \
         the header's layout changed"
    );
    let bad = check(&header);
    assert!(
        bad.is_empty(),
        "{} of {} declarations in include/kafka_instance.h have wrong @param/@return \
         lines (fix the doc comments under src/ffi/):\n{}",
        bad.len(),
        found.len(),
        bad.join("\n")
    );
}

#[test]
fn the_check_reports_what_is_missing() {
    let header = "\
/**
 * Fine.
 *
 * @param a  The first.
 * @param b  The second.
 * @return A value.
 */
int kafka_fine(int a, const char *const *b);

/**
 * Misses b, and its result.
 *
 * @param a The first.
 */
int kafka_missing(int a, struct KafkaError *b);

/**
 * Names a parameter it does not have, and documents a void result.
 *
 * @param a The first.
 * @param z No such parameter.
 * @return Nothing.
 */
void kafka_extra(int a);

/**
 * In the wrong order.
 *
 * @param b The second.
 * @param a The first.
 */
void kafka_order(int a, int b);

/**
 * A callback without its parameters.
 */
typedef void (*KafkaCallback)(const char *json, void *opaque);

int kafka_undocumented(void);

/**
 * No parameters at all.
 *
 * @return The version.
 */
const char *kafka_version(void);
";
    let found: Vec<String> = declarations(header).into_iter().map(|d| d.name).collect();
    assert_eq!(
        found,
        [
            "kafka_fine",
            "kafka_missing",
            "kafka_extra",
            "kafka_order",
            "KafkaCallback",
            "kafka_undocumented",
            "kafka_version"
        ]
    );
    let bad = check(header);
    let of = |name: &str| {
        bad.iter()
            .find(|line| line.starts_with(&format!("{name}: ")))
            .cloned()
            .unwrap_or_default()
    };
    assert!(of("kafka_fine").is_empty(), "{bad:#?}");
    assert!(of("kafka_version").is_empty(), "{bad:#?}");
    assert!(of("kafka_missing").contains("no @param b"), "{bad:#?}");
    assert!(
        of("kafka_missing").contains("wants one @return, has 0"),
        "{bad:#?}"
    );
    assert!(
        of("kafka_extra").contains("@param z names no parameter"),
        "{bad:#?}"
    );
    assert!(
        of("kafka_extra").contains("wants no @return, has 1"),
        "{bad:#?}"
    );
    assert!(of("kafka_order").contains("order"), "{bad:#?}");
    assert!(of("KafkaCallback").contains("no @param json"), "{bad:#?}");
    assert!(of("KafkaCallback").contains("no @param opaque"), "{bad:#?}");
    assert!(
        of("kafka_undocumented").contains("no doc comment"),
        "{bad:#?}"
    );
    assert_eq!(bad.len(), 5, "every offender is listed, once: {bad:#?}");
}
