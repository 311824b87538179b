//! JSON values: checked, never re-encoded.

use std::borrow::Cow;

use serde_json::value::RawValue;

use crate::error::{Error, ErrorKind, Result};

/// Checks that `text` is exactly one JSON text (surrounding whitespace
/// allowed), without building a tree. The error says where it broke.
pub fn validate(text: &str) -> Result<()> {
    match serde_json::from_str::<&RawValue>(text) {
        Ok(_) => Ok(()),
        Err(e) => Err(Error::new(
            ErrorKind::Serialization,
            format!(
                "value is not valid JSON: {} (line {}, column {})",
                describe(&e),
                e.line(),
                e.column()
            ),
        )),
    }
}

/// The elements of `text`, a JSON array of exactly `count` values, each
/// as its exact text (never re-encoded). `what` names the argument in
/// errors.
pub fn array_elements<'a>(text: &'a str, count: usize, what: &str) -> Result<Vec<&'a str>> {
    let items: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| not_an_array(what, &e))?;
    same_count(items.len(), count, what)?;
    Ok(items.into_iter().map(RawValue::get).collect())
}

/// The keys in `text`, a JSON array of exactly `count` strings or nulls
/// (no key); a string without escapes is borrowed from `text`.
pub fn array_keys<'a>(
    text: &'a str,
    count: usize,
    what: &str,
) -> Result<Vec<Option<Cow<'a, str>>>> {
    let items: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| not_an_array(what, &e))?;
    same_count(items.len(), count, what)?;
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let raw = item.get();
            if raw == "null" {
                return Ok(None);
            }
            let inner = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"'));
            match inner {
                Some(plain) if !plain.contains('\\') => Ok(Some(Cow::Borrowed(plain))),
                Some(_) => serde_json::from_str::<String>(raw)
                    .map(|s| Some(Cow::Owned(s)))
                    .map_err(|e| not_an_array(what, &e)),
                None => Err(Error::new(
                    ErrorKind::Serialization,
                    format!("{what}[{i}] must be a string or null, not {}", preview(raw)),
                )),
            }
        })
        .collect()
}

fn not_an_array(what: &str, e: &serde_json::Error) -> Error {
    Error::new(
        ErrorKind::Serialization,
        format!(
            "{what} is not a JSON array of valid values: {} (line {}, column {})",
            describe(e),
            e.line(),
            e.column()
        ),
    )
}

fn same_count(found: usize, count: usize, what: &str) -> Result<()> {
    if found == count {
        return Ok(());
    }
    Err(Error::invalid_argument(format!(
        "{what} holds {found} elements, but count is {count}"
    )))
}

/// The start of a JSON text for an error message.
fn preview(raw: &str) -> String {
    match raw.char_indices().nth(40) {
        Some((i, _)) => format!("{}...", &raw[..i]),
        None => raw.to_owned(),
    }
}

/// serde_json's message without its own " at line L column C" suffix.
fn describe(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(i) => full[..i].to_owned(),
        None => full,
    }
}

#[cfg(test)]
mod tests {
    use super::{array_elements, array_keys, validate};
    use std::borrow::Cow;

    #[test]
    fn array_elements_keep_each_text() {
        let got = array_elements(r#" [{"a": 1}, [1,2] ,"s",null, 4.5e1] "#, 5, "values").unwrap();
        assert_eq!(got, [r#"{"a": 1}"#, "[1,2]", "\"s\"", "null", "4.5e1"]);
        assert!(array_elements("[]", 0, "values").unwrap().is_empty());
        let e = array_elements("[1,2]", 3, "values").unwrap_err();
        assert!(
            e.message
                .contains("values holds 2 elements, but count is 3"),
            "{}",
            e.message
        );
        for bad in ["", "{}", "1", "[1,]", "[1] [2]", "[{\"a\":}]", "[NaN]"] {
            let e = array_elements(bad, 1, "values").expect_err(bad);
            assert!(
                e.message.starts_with("values is not a JSON array"),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn array_keys_are_strings_or_null() {
        let got = array_keys(r#"["k", null, "a\"b", "\u00e9"]"#, 4, "keys").unwrap();
        assert_eq!(
            got,
            [
                Some(Cow::Borrowed("k")),
                None,
                Some("a\"b".into()),
                Some("\u{e9}".into())
            ]
        );
        assert!(matches!(got[0], Some(Cow::Borrowed(_))));
        let e = array_keys(r#"["k", 7]"#, 2, "keys").unwrap_err();
        assert!(
            e.message
                .contains("keys[1] must be a string or null, not 7"),
            "{}",
            e.message
        );
        assert!(array_keys(r#"["k"]"#, 2, "keys").is_err());
    }

    #[test]
    fn one_json_text() {
        for ok in [
            r#"{"a":1}"#,
            "[1,2]",
            "\"s\"",
            "42",
            "true",
            "null",
            " {\"a\":[]}\n",
        ] {
            assert!(validate(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            " ",
            "{",
            "{\"a\":}",
            "{} {}",
            "nul",
            "'a'",
            "{\"a\":1,}",
            "[1,]",
        ] {
            let e = validate(bad).expect_err(bad);
            assert!(e.message.contains("line 1, column"), "{}", e.message);
        }
        let e = validate("{\"order\": 1,\n \"x\": }").unwrap_err();
        assert!(e.message.contains("line 2, column 7"), "{}", e.message);
    }
}
