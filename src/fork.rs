//! Clients and `fork()`. A producer, consumer or embedded broker runs
//! librdkafka threads that a forked child does not have, and shares its
//! broker connections with the parent. So a client remembers the process
//! it was created in, and every call on it from another process is refused
//! ([`ErrorKind::State`]) instead of queueing work nobody will do; closing it
//! there releases nothing, because what it holds belongs to the parent.

use crate::error::{Error, Result};
use crate::sys::fork_generation;

/// The process a client was created in.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    pid: u32,
    generation: u64,
}

impl Origin {
    /// This process.
    pub fn here() -> Self {
        Origin {
            pid: std::process::id(),
            generation: fork_generation(),
        }
    }

    /// Whether this is still the process the client was created in, as
    /// far as `fork()` tells (its child handlers run); one atomic load, so
    /// the hot paths and signal handlers can afford it.
    pub fn is_here(&self) -> bool {
        fork_generation() == self.generation
    }

    /// [`ErrorKind::State`] unless this is the process the client was created
    /// in.
    pub fn check(&self, what: &str) -> Result<()> {
        if self.is_here() {
            Ok(())
        } else {
            Err(self.elsewhere(what))
        }
    }

    /// [`check`](Self::check), and the process id compared as well: before
    /// releasing a client, which in another process would wait for threads
    /// that are not there. It also catches children made without running
    /// `fork()`'s handlers (a raw `clone`).
    pub fn check_release(&self, what: &str) -> Result<()> {
        if self.is_here() && std::process::id() == self.pid {
            Ok(())
        } else {
            Err(self.elsewhere(what))
        }
    }

    fn elsewhere(&self, what: &str) -> Error {
        Error::state(format!(
            "this {what} was created in process {} and cannot be used after fork(): create \
             clients in the process that uses them (closing it here releases nothing)",
            self.pid
        ))
    }
}
