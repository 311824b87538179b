//! `kafka_url` parsing: `kafka://user:pass@host1:9092,host2:9092`.
//!
//! Error messages here never quote the part of the URL before `@`: it may
//! hold a password.

use crate::error::{Error, Result};
use crate::secrets;

/// The schemes we accept, and the security protocol each states.
/// `None`: the scheme says nothing about security (then credentials in the
/// URL mean SASL_PLAINTEXT and no credentials leave `security_protocol`
/// as set).
const SCHEMES: &[(&str, Option<&str>)] = &[
    ("kafka", None),
    ("kafka+plaintext", Some("PLAINTEXT")),
    ("kafka+ssl", Some("SSL")),
    ("kafkas", Some("SSL")),
    ("kafka+sasl_plaintext", Some("SASL_PLAINTEXT")),
    ("kafka+sasl_ssl", Some("SASL_SSL")),
];

#[derive(Clone, PartialEq, Eq)]
pub struct KafkaUrl {
    /// The protocol the scheme states, before credentials are considered.
    scheme_protocol: Option<&'static str>,
    pub servers: Vec<String>,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl std::fmt::Debug for KafkaUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaUrl")
            .field("scheme_protocol", &self.scheme_protocol)
            .field("servers", &self.servers)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Splits `SCHEME://rest` into the scheme and the rest; `None` and the
/// whole text when there is no scheme. A scheme is a letter, then letters,
/// digits, '+', '-', '.' (RFC 3986) or '_' (ours have it, as in
/// `kafka+sasl_ssl`): a "://" after anything else (':', '@') is not
/// a scheme's end but may sit inside a password ("user:pa://ss@host"),
/// which must neither be quoted in an error nor escape redaction.
fn split_scheme(url: &str) -> (Option<&str>, &str) {
    let is_scheme = |s: &str| {
        let mut chars = s.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.' | '_'))
    };
    match url.find("://") {
        Some(i) if is_scheme(&url[..i]) => (Some(&url[..i]), &url[i + 3..]),
        _ => (None, url),
    }
}

impl KafkaUrl {
    /// Parses a `kafka_url`. Accepted forms:
    /// - `SCHEME://[user[:password]@]host[:port][,host[:port]...][/]`
    /// - `[user[:password]@]host[:port][,...]` (no scheme)
    ///
    /// Credentials are percent-decoded. A password with a literal `@` is
    /// tolerated (the last `@` ends the credentials).
    pub fn parse(url: &str) -> Result<Self> {
        let url = url.trim();
        if url.is_empty() {
            return Err(Error::config("the URL is empty"));
        }
        let (scheme, rest) = split_scheme(url);
        let scheme_protocol = match scheme {
            Some(scheme) => known_scheme(scheme)?,
            None => None,
        };
        let (credentials, hosts) = match rest.rfind('@') {
            Some(i) => (Some(credentials(&rest[..i])?), &rest[i + 1..]),
            None => (None, rest),
        };
        let (username, password) = credentials.unzip();
        let hosts = hosts.strip_suffix('/').unwrap_or(hosts);
        if let Some(bad) = hosts.find(['/', '?', '#']) {
            return Err(Error::config(format!(
                "the URL may not have a path, query or fragment (found {:?} after the hosts)",
                &hosts[bad..bad + 1]
            )));
        }
        Ok(KafkaUrl {
            scheme_protocol,
            servers: parse_servers(hosts)?,
            username,
            password: password.flatten(),
        })
    }

    /// The security protocol this URL selects, if it selects one: the
    /// scheme's, upgraded to its SASL form when credentials are present.
    pub fn security_protocol(&self) -> Option<&'static str> {
        let sasl = self.username.is_some();
        match (self.scheme_protocol, sasl) {
            (None, false) => None,
            (None, true) | (Some("PLAINTEXT"), true) => Some("SASL_PLAINTEXT"),
            (Some("SSL"), true) => Some("SASL_SSL"),
            (Some(p), _) => Some(p),
        }
    }
}

/// `url` with the password of its credentials (if any) shown as `***`.
/// Works on malformed URLs too: whatever stands between the first `:` of
/// the credentials and their last `@` is masked.
pub fn redact(url: &str) -> String {
    let (scheme, rest) = match split_scheme(url) {
        (Some(scheme), rest) => (&url[..scheme.len() + 3], rest),
        (None, rest) => ("", rest),
    };
    match rest.rfind('@') {
        Some(at) => match rest[..at].find(':') {
            Some(colon) => format!("{scheme}{}:***{}", &rest[..colon], &rest[at..]),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// The security protocol a scheme selects (`None` for `kafka://`).
fn known_scheme(scheme: &str) -> Result<Option<&'static str>> {
    SCHEMES
        .iter()
        .find(|(s, _)| s.eq_ignore_ascii_case(scheme))
        .map(|(_, protocol)| *protocol)
        .ok_or_else(|| {
            // Scheme characters only, before any credentials: safe to
            // show, capped in case this was not a URL.
            let shown: String = scheme.chars().take(32).collect();
            Error::config(format!(
                "unsupported URL scheme {shown:?}: use kafka://, kafka+ssl://, \
                 kafka+sasl_plaintext:// or kafka+sasl_ssl://"
            ))
        })
}

/// `user[:password]`, percent-decoded. The password is registered as a
/// secret before anything can fail, so even a message about a broken URL
/// cannot carry it.
fn credentials(info: &str) -> Result<(String, Option<String>)> {
    let (user_raw, pass_raw) = match info.find(':') {
        Some(i) => (&info[..i], Some(&info[i + 1..])),
        None => (info, None),
    };
    if let Some(p) = pass_raw {
        secrets::register(p);
    }
    let password = pass_raw
        .map(|p| {
            percent_decode(p).ok_or_else(|| {
                Error::config(
                    "the password in the URL has an invalid percent-encoding (value not shown)",
                )
            })
        })
        .transpose()?;
    if let Some(p) = &password {
        secrets::register(p);
    }
    let username = percent_decode(user_raw)
        .ok_or_else(|| Error::config("the user name in the URL has an invalid percent-encoding"))?;
    if username.is_empty() {
        return Err(Error::config("the URL has credentials but no user name"));
    }
    Ok((username, password))
}

/// Splits and checks `host[:port],host[:port]`. IPv6 hosts go in brackets:
/// `[::1]:9092`. A missing port means Kafka's 9092 (librdkafka's default).
pub fn parse_servers(list: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for raw in list.split(',') {
        let server = raw.trim();
        if server.is_empty() {
            return Err(Error::config(if list.trim().is_empty() {
                "no hosts given".to_owned()
            } else {
                format!("empty host in {list:?}")
            }));
        }
        check_server(server)?;
        out.push(server.to_owned());
    }
    Ok(out)
}

fn check_server(server: &str) -> Result<()> {
    let bad = |why: &str| Error::config(format!("invalid broker address {server:?}: {why}"));
    let (host, port) = if let Some(rest) = server.strip_prefix('[') {
        let end = rest.find(']').ok_or_else(|| bad("unclosed '['"))?;
        let host = &rest[..end];
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err(bad("not an IPv6 address"));
        }
        match &rest[end + 1..] {
            "" => (host, None),
            p => (
                host,
                Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| bad("expected ':' after ']'"))?,
                ),
            ),
        }
    } else {
        match server.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (server, None),
        }
    };
    if host.is_empty() {
        return Err(bad("no host name"));
    }
    if !server.starts_with('[')
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
    {
        return Err(bad("host names use letters, digits, '.', '-' and '_'"));
    }
    if let Some(p) = port {
        match p.parse::<u16>() {
            Ok(n) if n > 0 => {}
            _ => return Err(bad("the port must be a number from 1 to 65535")),
        }
    }
    Ok(())
}

/// Decodes `%XX` escapes; `None` for a broken escape or non-UTF-8 result.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_url_with_credentials() {
        let u = KafkaUrl::parse("kafka://alice:s%40cret%3A1@b1:9092,b2:9093").unwrap();
        assert_eq!(u.servers, vec!["b1:9092", "b2:9093"]);
        assert_eq!(u.username.as_deref(), Some("alice"));
        assert_eq!(u.password.as_deref(), Some("s@cret:1"));
        assert_eq!(u.security_protocol(), Some("SASL_PLAINTEXT"));
    }

    #[test]
    fn schemes_select_protocols() {
        let p = |s: &str| KafkaUrl::parse(s).unwrap().security_protocol();
        assert_eq!(p("kafka://h:1"), None);
        assert_eq!(p("h:1,h2:2"), None);
        assert_eq!(p("kafka+ssl://h:1"), Some("SSL"));
        assert_eq!(p("KAFKA+SSL://h:1"), Some("SSL"));
        assert_eq!(p("kafka+ssl://u:p@h:1"), Some("SASL_SSL"));
        assert_eq!(p("kafka+sasl_ssl://u:p@h:1"), Some("SASL_SSL"));
        assert_eq!(p("kafka+sasl_plaintext://u:p@h:1"), Some("SASL_PLAINTEXT"));
        assert_eq!(p("kafka+plaintext://h:1"), Some("PLAINTEXT"));
    }

    #[test]
    fn a_password_holding_a_scheme_separator_is_neither_quoted_nor_shown() {
        let u = KafkaUrl::parse("user:pa://ss@h:1").unwrap();
        assert_eq!(u.password.as_deref(), Some("pa://ss"));
        assert_eq!(u.servers, vec!["h:1"]);
        assert_eq!(redact("user:pa://ss@h:1"), "user:***@h:1");
        assert_eq!(redact("kafka://user:pa://ss@h:1"), "kafka://user:***@h:1");
        // Found by tests/properties.rs: the text before "://" was quoted as
        // an unsupported scheme.
        let e = KafkaUrl::parse(":SECRET://SECRET@").unwrap_err();
        assert!(!e.message.contains("SECRET"), "{}", e.message);
        let e = KafkaUrl::parse("http://h:1").unwrap_err();
        assert!(e.message.contains("\"http\""), "{}", e.message);
    }

    #[test]
    fn redaction_masks_only_the_password() {
        assert_eq!(
            redact("kafka://u:p%40ss@h:1,h2:2"),
            "kafka://u:***@h:1,h2:2"
        );
        assert_eq!(redact("u:a@b@h:1"), "u:***@h:1");
        assert_eq!(redact("kafka+ssl://h:1"), "kafka+ssl://h:1");
        assert_eq!(redact("kafka://user@h:1"), "kafka://user@h:1");
    }

    #[test]
    fn ipv6_and_missing_ports() {
        let u = KafkaUrl::parse("kafka://[::1]:9092,localhost").unwrap();
        assert_eq!(u.servers, vec!["[::1]:9092", "localhost"]);
    }

    #[test]
    fn garbage_is_refused_without_echoing_the_password() {
        for bad in [
            "",
            "http://h:1",
            "kafka://",
            "kafka://u:pw-xyz@",
            "kafka://u:pw-xyz@h:0",
            "kafka://u:pw-xyz@h:99999",
            "kafka://u:pw-xyz@h:1/path",
            "kafka://u:pw-xyz@h:1?x=1",
            "kafka://u:pw-x%zz@h:1",
            "kafka://:pw-xyz@h:1",
            "kafka://u:pw-xyz@h 1:2",
            "kafka://h1:1,,h2:2",
            "kafka://[::1:9092",
        ] {
            let err = KafkaUrl::parse(bad).expect_err(bad);
            assert!(!err.message.contains("pw-x"), "{bad}: {}", err.message);
        }
    }
}
