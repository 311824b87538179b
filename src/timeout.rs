//! Waits, in the safe layer's terms: `Option<Duration>`, `None` for no
//! limit. (The C API's `timeout_ms` becomes one in `ffi::arg_timeout`.)

use std::time::{Duration, Instant};

/// When a wait ends, or `None` for never.
pub fn deadline(wait: Option<Duration>) -> Option<Instant> {
    wait.map(|d| Instant::now() + d)
}

/// What is left of a deadline (`None`: no limit).
pub fn remaining(deadline: Option<Instant>) -> Option<Duration> {
    deadline.map(|d| d.saturating_duration_since(Instant::now()))
}

/// A wait in milliseconds, for messages ("after 3000 ms").
pub fn millis(wait: Option<Duration>) -> u128 {
    wait.map_or(0, |d| d.as_millis())
}
