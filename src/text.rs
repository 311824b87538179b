//! Text kept with a NUL byte after it: a consumed message's topic and
//! header names are read by the millions, and the C boundary lends them
//! to its callers as they are stored, without a copy per read. The text
//! itself never holds a NUL.

use std::fmt;

/// An owned text followed by one NUL byte. Made from a `&str` it is UTF-8;
/// a copy of a header name held in librdkafka's buffer keeps that name's
/// bytes as the producer sent them (see [`NulStr::as_str`]).
#[derive(Clone, PartialEq, Eq)]
pub struct NulText(Box<[u8]>);

impl NulText {
    /// `text`, with any NUL in it replaced by a space (librdkafka's topic
    /// names never hold one; a header name may, and C could not read past it).
    pub fn new(text: &str) -> Self {
        let mut bytes = Vec::with_capacity(text.len() + 1);
        bytes.extend(text.bytes().map(|b| if b == 0 { b' ' } else { b }));
        bytes.push(0);
        NulText(bytes.into_boxed_slice())
    }

    /// The text, without its NUL.
    pub fn as_str(&self) -> &str {
        self.as_nul_str().as_str()
    }

    /// A borrowed view of it.
    pub fn as_nul_str(&self) -> NulStr<'_> {
        NulStr(&self.0)
    }
}

impl fmt::Debug for NulText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// A borrowed text followed by one NUL byte: a [`NulText`]'s, or one
/// librdkafka keeps (a header name of a message held without a copy).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct NulStr<'a>(&'a [u8]);

impl<'a> NulStr<'a> {
    /// `bytes` when it ends with its only NUL.
    pub fn from_bytes_with_nul(bytes: &'a [u8]) -> Option<Self> {
        match bytes.iter().position(|&b| b == 0) {
            Some(end) if end + 1 == bytes.len() => Some(NulStr(bytes)),
            _ => None,
        }
    }

    /// The bytes before the NUL.
    pub fn as_bytes(self) -> &'a [u8] {
        &self.0[..self.0.len() - 1]
    }

    /// The text before the NUL (a name that is not UTF-8 reads as empty:
    /// `NulText` is built from a `&str`, and librdkafka's header names are
    /// the producers' `&str`s).
    pub fn as_str(self) -> &'a str {
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// An owned copy.
    pub fn to_text(self) -> NulText {
        NulText(self.0.into())
    }

    /// The bytes, the NUL included: what the C boundary lends.
    pub fn with_nul(self) -> &'a [u8] {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_text_keeps_one_nul_at_its_end_and_none_inside() {
        let t = NulText::new("a\0b");
        assert_eq!(t.as_str(), "a b");
        assert_eq!(t.as_nul_str().with_nul(), b"a b\0");
        assert_eq!(
            NulStr::from_bytes_with_nul(b"ab\0").map(NulStr::as_str),
            Some("ab")
        );
        assert!(NulStr::from_bytes_with_nul(b"a\0b\0").is_none());
        assert!(NulStr::from_bytes_with_nul(b"ab").is_none());
    }
}
