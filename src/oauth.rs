//! SASL/OAUTHBEARER tokens from the application, refreshed by a thread of
//! the library: at the client's start and before each token expires,
//! whether or not the application polls (librdkafka's own refresh request
//! waits in the client's main queue for a poll, a known stall in other
//! bindings).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rdkafka::client::{Client, ClientContext};
use serde_json::json;

use crate::events::{join_library_thread_by, Ending};
use crate::logging::{self, Level};
use crate::secrets;
use crate::sys;

/// A token as the application's callback returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthToken {
    pub token: String,
    /// When it expires, in milliseconds since the Unix epoch.
    pub lifetime_ms: i64,
    pub principal: String,
}

/// The application's token source: given `sasl.oauthbearer.config` (None
/// when unset), a token, or why there is none.
pub type OAuthCallback =
    Arc<dyn Fn(Option<&str>) -> std::result::Result<OAuthToken, String> + Send + Sync>;

/// After a failed attempt, the next one comes this much later (as
/// librdkafka does for its own).
const RETRY: Duration = Duration::from_secs(10);
/// Refreshes never come closer together than this.
const MIN_INTERVAL: Duration = Duration::from_millis(500);

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// When to ask again for a token that expires at `lifetime_ms`: after 80%
/// of the time it has left.
pub fn refresh_after(now_ms: i64, lifetime_ms: i64) -> Duration {
    let left = (lifetime_ms - now_ms).max(0) as u64;
    Duration::from_millis(left * 8 / 10).max(MIN_INTERVAL)
}

/// Refuses a token librdkafka would (RFC 7628: printable ASCII, space,
/// tab, CR, LF), saying where, never what: the text would be a secret.
fn check_token(token: &str) -> std::result::Result<(), String> {
    if token.is_empty() {
        return Err("the token is empty".into());
    }
    let allowed = |b: u8| (0x20..=0x7e).contains(&b) || matches!(b, b'\t' | b'\r' | b'\n');
    match token.bytes().position(|b| !allowed(b)) {
        None => Ok(()),
        Some(at) => Err(format!(
            "the token holds a byte that is not printable ASCII (0x{:02x} at byte {at} of {}); \
             a token that was not UTF-8 reads as U+FFFD (0xef) here",
            token.as_bytes()[at],
            token.len()
        )),
    }
}

/// How a refresher hands a token (or a failure) to its client.
pub trait TokenTarget: Send + 'static {
    fn set_token(&self, token: &OAuthToken) -> std::result::Result<(), String>;
    fn set_failure(&self, why: &str);
}

/// A librdkafka client as a [`TokenTarget`]: `keep` keeps it alive (an
/// `Arc` of the producer, consumer or admin client), `client` reaches it.
pub struct ClientTarget<K, C: ClientContext + 'static> {
    pub keep: K,
    pub client: fn(&K) -> &Client<C>,
}

impl<K: Send + 'static, C: ClientContext + 'static> TokenTarget for ClientTarget<K, C> {
    fn set_token(&self, token: &OAuthToken) -> std::result::Result<(), String> {
        let client = (self.client)(&self.keep);
        sys::set_oauth_token(client, &token.token, token.lifetime_ms, &token.principal)
    }

    fn set_failure(&self, why: &str) {
        sys::set_oauth_failure((self.client)(&self.keep), why);
    }
}

/// The refreshing thread of one client. Stopping it (or dropping it)
/// joins it, except from inside the callback it runs and in a forked
/// child, and except past the stop's deadline while the callback runs:
/// the thread then stops once the callback returns, without touching the
/// client (whose last reference it may be: it then releases it).
pub struct TokenRefresher {
    stop: Arc<(Mutex<bool>, Condvar)>,
    stopped: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
    ending: Arc<Ending>,
    generation: u64,
}

/// How long dropping a refresher waits for a token callback still
/// running (a client released without a close of its own).
const DROP_WAIT: Duration = Duration::from_secs(1);

impl TokenRefresher {
    /// Asks `callback` for a token now, and again before each expires,
    /// handing each to `target` (which keeps the client alive).
    pub fn start<T: TokenTarget>(
        target: T,
        callback: OAuthCallback,
        config: Option<String>,
        source: usize,
    ) -> std::io::Result<Self> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let stopped = Arc::new(AtomicBool::new(false));
        let (stop2, stopped2) = (Arc::clone(&stop), Arc::clone(&stopped));
        let ending = Arc::new(Ending::default());
        let ended = Arc::clone(&ending);
        let thread = thread::Builder::new()
            .name("kafka-oauth".into())
            .spawn(move || {
                loop {
                    let got = callback(config.as_deref());
                    // The callback may have released the client.
                    if stopped2.load(Ordering::Acquire) {
                        break;
                    }
                    // Before librdkafka sees it: its refusals quote it.
                    if let Ok(t) = &got {
                        secrets::register_transient(&t.token);
                    }
                    let set = |t: OAuthToken| {
                        check_token(&t.token)?;
                        target
                            .set_token(&t)
                            .map_err(|why| secrets::redact(&why).into_owned())?;
                        Ok(t)
                    };
                    let wait = match got.and_then(set) {
                        Ok(t) => refresh_after(now_ms(), t.lifetime_ms),
                        Err(why) => {
                            let why = format!("no OAUTHBEARER token: {why}");
                            logging::log_repeating(
                                source,
                                Level::Error,
                                "kafka_instance.oauthbearer",
                                "Kafka Instance",
                                &why,
                                Some(json!({ "retry_in_ms": RETRY.as_millis() as u64 })),
                            );
                            target.set_failure(&why);
                            RETRY
                        }
                    };
                    let (lock, cv) = &*stop2;
                    let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
                    let (guard, _) = cv
                        .wait_timeout_while(guard, wait, |stop| !*stop)
                        .unwrap_or_else(|e| e.into_inner());
                    if *guard {
                        break;
                    }
                }
                drop(target);
                ended.mark();
            })?;
        Ok(TokenRefresher {
            stop,
            stopped,
            thread: Mutex::new(Some(thread)),
            ending,
            generation: sys::fork_generation(),
        })
    }

    /// Stops the thread, waiting until `deadline` (`None`: no limit) at
    /// most for a callback still running.
    pub fn stop(&self, deadline: Option<Instant>) {
        self.stopped.store(true, Ordering::Release);
        {
            let (lock, cv) = &*self.stop;
            *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
            cv.notify_all();
        }
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        join_library_thread_by(thread, self.generation, &self.ending, deadline);
    }
}

impl Drop for TokenRefresher {
    fn drop(&mut self) {
        self.stop(Some(Instant::now() + DROP_WAIT));
    }
}

/// The refresher of a client whose config has a token `callback` (and
/// `sasl.oauthbearer.config`, handed to it): `keep` keeps the client
/// alive, `client` reaches it. None without a callback.
pub fn refresher_for<K: Send + 'static, C: ClientContext + 'static>(
    callback: Option<&OAuthCallback>,
    config: Option<&str>,
    keep: K,
    client: fn(&K) -> &Client<C>,
    source: usize,
) -> crate::error::Result<Option<TokenRefresher>> {
    let Some(callback) = callback.cloned() else {
        return Ok(None);
    };
    let config = config.map(str::to_owned);
    TokenRefresher::start(ClientTarget { keep, client }, callback, config, source)
        .map(Some)
        .map_err(|e| {
            crate::error::Error::new(
                crate::error::ErrorKind::Internal,
                format!("no thread for OAUTHBEARER tokens: {e}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::refresh_after;
    use std::time::Duration;

    #[test]
    fn a_token_librdkafka_would_refuse_is_refused_without_quoting_it() {
        assert_eq!(super::check_token("eyJ.abc-_ ~\t"), Ok(()));
        for bad in ["SeCrEtToKeN\u{7}", "SeCrEtToKeN\u{e9}", ""] {
            let why = super::check_token(bad).unwrap_err();
            assert!(!why.contains("SeCrEt"), "{why}");
        }
    }

    #[test]
    fn a_token_is_refreshed_after_80_percent_of_its_life() {
        assert_eq!(refresh_after(1_000, 11_000), Duration::from_millis(8_000));
        // Expired or about to: soon, but not in a loop.
        assert_eq!(refresh_after(5_000, 1_000), Duration::from_millis(500));
        assert_eq!(refresh_after(0, 100), Duration::from_millis(500));
    }
}
