//! Every secret the library has been given, so that nothing that leaves it
//! (log records, error messages) can carry one, whatever built the text.
//!
//! Messages are written not to include secret values in the first place;
//! this is the second line of defence, applied to every log record and
//! every `KafkaError` message. Secrets are kept for the life of the process
//! (a config may be cloned anywhere), and only secrets of 3 or more bytes are
//! matched, so that a one-letter password does not blank every message.
//! The price of masking everywhere: a password that is a common word
//! (`kafka`, `false`) is masked wherever that word appears, so some
//! messages read oddly; a garbled message is better than a leaked
//! password. Each message is checked against every secret, which is cheap
//! for the handful of credentials a process holds.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::RwLock;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Secrets that are replaced as time goes on (OAUTHBEARER tokens): the
/// newest [`TRANSIENT_KEPT`], so that a process refreshing tokens for
/// days does not keep them all.
static TRANSIENT: RwLock<VecDeque<String>> = RwLock::new(VecDeque::new());
const TRANSIENT_KEPT: usize = 256;

/// The shortest secret that is matched in text.
const MIN_LEN: usize = 3;
/// The shortest part of a secret (a line, a word) that is matched on its
/// own: shorter ones (`a=b`, a PEM's `-----`) would mask common text.
const PART_MIN_LEN: usize = 8;
const MASK: &str = "***";

/// Registers `secret` for the life of the process, and its parts: each
/// line of a value of several (a PEM key), each word of one with spaces
/// and the value of each `name=value` in it (`sasl.oauthbearer.config`),
/// since librdkafka's refusals quote such parts alone.
pub fn register(secret: &str) {
    let mut all = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    let lines = secret.lines().map(str::trim);
    let words = secret.split_whitespace();
    let values = words
        .clone()
        .filter_map(|w| w.split_once('=').map(|(_, v)| v));
    let parts = lines
        .chain(words)
        .chain(values)
        .filter(|p| p.len() >= PART_MIN_LEN && *p != secret);
    for s in std::iter::once(secret).chain(parts) {
        if s.len() >= MIN_LEN && !all.iter().any(|known| known == s) {
            // Longest first, so a secret containing another is masked whole.
            let at = all.partition_point(|known| known.len() >= s.len());
            all.insert(at, s.to_owned());
        }
    }
}

/// Registers a secret that a newer one replaces in time (a token): only
/// the newest few are kept.
pub fn register_transient(secret: &str) {
    if secret.len() < MIN_LEN {
        return;
    }
    let mut kept = TRANSIENT.write().unwrap_or_else(|e| e.into_inner());
    if kept.iter().any(|s| s == secret) {
        return;
    }
    if kept.len() == TRANSIENT_KEPT {
        kept.pop_front();
    }
    kept.push_back(secret.to_owned());
}

/// `text` with every registered secret replaced by `***`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let all = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    let transient = TRANSIENT.read().unwrap_or_else(|e| e.into_inner());
    let found = |s: &String| text.contains(s.as_str());
    if !all.iter().any(found) && !transient.iter().any(found) {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_owned();
    // Tokens first: they are long, and may contain a shorter secret.
    for s in transient.iter().chain(all.iter()) {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), MASK);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_masked() {
        register("correct-horse-battery");
        register("horse");
        assert_eq!(
            redact("pw=correct-horse-battery and horse"),
            "pw=*** and ***"
        );
        assert!(matches!(redact("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn each_line_of_a_key_and_the_newest_tokens_are_masked() {
        register("-----BEGIN KEY-----\nMIIEvQIBADANBgkq\n-----END KEY-----");
        assert_eq!(
            redact("bad line MIIEvQIBADANBgkq here"),
            "bad line *** here"
        );
        // Parts of 8 bytes or more: "alice" stays readable.
        register("principal=alice lifeSeconds=Qv9x7Kp2");
        assert_eq!(
            redact("non-integral 'lifeSeconds=': Qv9x7Kp2 for alice"),
            "non-integral 'lifeSeconds=': *** for alice"
        );
        for i in 0..=TRANSIENT_KEPT {
            register_transient(&format!("token-number-{i:04}"));
        }
        let newest = format!("token-number-{TRANSIENT_KEPT:04}");
        assert_eq!(redact(&format!("refused: {newest}")), "refused: ***");
        // The oldest was dropped: only so many are kept.
        assert_eq!(redact("token-number-0000"), "token-number-0000");
    }
}
