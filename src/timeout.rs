//! `timeout_ms` as C callers give it: -1 waits forever, 0 and up are
//! milliseconds, anything else is refused. One rule for every call.

use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The wait, or `None` for forever.
pub fn duration(timeout_ms: i32) -> Result<Option<Duration>> {
    match timeout_ms {
        -1 => Ok(None),
        t if t >= 0 => Ok(Some(Duration::from_millis(t as u64))),
        t => Err(Error::invalid_argument(format!(
            "timeout_ms must be -1 (forever) or at least 0, not {t}"
        ))),
    }
}

/// When the wait ends, or `None` for never.
pub fn deadline(timeout_ms: i32) -> Result<Option<Instant>> {
    Ok(duration(timeout_ms)?.map(|d| Instant::now() + d))
}

/// What is left of a deadline (`None`: forever).
pub fn remaining(deadline: Option<Instant>) -> Option<Duration> {
    deadline.map(|d| d.saturating_duration_since(Instant::now()))
}
