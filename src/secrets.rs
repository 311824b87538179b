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
use std::sync::RwLock;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// The shortest secret that is matched in text.
const MIN_LEN: usize = 3;
const MASK: &str = "***";

pub fn register(secret: &str) {
    if secret.len() < MIN_LEN {
        return;
    }
    let mut all = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    if !all.iter().any(|s| s == secret) {
        // Longest first, so a secret containing another is masked whole.
        let at = all.partition_point(|s| s.len() >= secret.len());
        all.insert(at, secret.to_owned());
    }
}

/// `text` with every registered secret replaced by `***`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let all = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    if !all.iter().any(|s| text.contains(s.as_str())) {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_owned();
    for s in all.iter() {
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
}
