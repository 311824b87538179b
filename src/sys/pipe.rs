//! The self-pipe: a byte written (from a signal handler too) wakes a
//! thread waiting on the other end; librdkafka writes to it when a queue
//! goes from empty to not empty.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// A pipe that one side writes a byte to and the other waits on: the
/// self-pipe pattern. `wake` is async-signal-safe (one `write(2)`).
#[derive(Debug)]
pub(crate) struct WakePipe {
    read: OwnedFd,
    pub(super) write: OwnedFd,
}

impl WakePipe {
    /// Both ends non-blocking and close-on-exec.
    pub(crate) fn new() -> io::Result<Self> {
        let mut fds = [0 as libc::c_int; 2];
        let flags = libc::O_NONBLOCK | libc::O_CLOEXEC;
        // SAFETY: fds has room for the two descriptors pipe2() writes.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), flags) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: pipe2() succeeded, so both are open descriptors we own.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        Ok(WakePipe { read, write })
    }

    /// The read end, for the caller to wait on (never to read or close).
    pub(crate) fn read_fd(&self) -> std::os::fd::RawFd {
        self.read.as_raw_fd()
    }

    /// Makes the read end readable. Async-signal-safe: one `write(2)`, no
    /// lock, no allocation, and `errno` as it was. A full pipe is already
    /// readable, so a failed write loses nothing.
    pub(crate) fn wake(&self) {
        // SAFETY: errno is this thread's; the write sends one byte from a
        // static buffer to our descriptor.
        unsafe {
            let errno = *libc::__errno_location();
            libc::write(self.write.as_raw_fd(), b"w".as_ptr().cast(), 1);
            *libc::__errno_location() = errno;
        }
    }

    /// Waits until the read end is readable or `timeout` passes; `true`
    /// when readable. An interrupted wait (EINTR) returns `false` early:
    /// callers loop to their own deadline.
    pub(crate) fn wait(&self, timeout: Duration) -> bool {
        let mut pfd = libc::pollfd {
            fd: self.read.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
        // SAFETY: one pollfd, valid for the call.
        unsafe { libc::poll(&mut pfd, 1, ms) > 0 }
    }

    /// Empties the pipe, so that the next `wait` blocks until the next
    /// write.
    pub(crate) fn drain(&self) {
        let mut buf = [0u8; 256];
        // SAFETY: reads into a local buffer of the stated size. A read
        // that did not fill it emptied the pipe: no second call to learn so.
        while unsafe { libc::read(self.read.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) }
            == buf.len() as isize
        {}
    }
}
