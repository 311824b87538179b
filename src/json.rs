//! JSON values: checked, never re-encoded.

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
    use super::validate;

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
