//! Non-blocking Wayland I/O shared by the crate's threads: they must keep
//! seeing their stop flags, so nothing here blocks longer than asked.

use std::io::ErrorKind;
use std::time::Duration;

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use wayland_client::backend::WaylandError;
use wayland_client::EventQueue;

/// Sends queued requests, then reads whatever arrives within `wait` into the
/// queue (dispatching is left to the caller). `Err` means the connection is dead.
pub(crate) fn flush_and_read<S>(queue: &EventQueue<S>, wait: Duration) -> Result<(), String> {
    match queue.flush() {
        Err(WaylandError::Io(e)) if e.kind() != ErrorKind::WouldBlock => return Err(e.to_string()),
        Err(e @ WaylandError::Protocol(_)) => return Err(e.to_string()),
        _ => {}
    }
    if let Some(guard) = queue.prepare_read() {
        if wait_readable(&guard.connection_fd(), wait) {
            match guard.read() {
                Err(WaylandError::Io(e)) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(e.to_string()),
                Ok(_) => {}
            }
        }
    }
    Ok(())
}

fn wait_readable(fd: &impl std::os::fd::AsFd, timeout: Duration) -> bool {
    let mut fds = [PollFd::new(fd, PollFlags::IN)];
    let timeout = Timespec {
        tv_sec: timeout.as_secs() as _,
        tv_nsec: timeout.subsec_nanos() as _,
    };
    // EINTR and friends: the caller just goes round its loop again.
    matches!(poll(&mut fds, Some(&timeout)), Ok(n) if n > 0)
}
