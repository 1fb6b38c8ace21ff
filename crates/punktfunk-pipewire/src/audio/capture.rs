//! The host's handle on one capture of a sink's monitor.

use std::sync::{mpsc, Arc};
use std::time::Duration;

use super::command::Command;
use super::link::Link;
use super::queue::ChunkQueue;
use super::{AudioChunk, CaptureOrigin};
use crate::PipeWireError;

/// How long dropping a capture waits for the daemon to have removed it.
const STOP_WAIT: Duration = Duration::from_secs(2);

/// A running capture: PCM chunks from a sink's monitor, in a bounded queue
/// (at most 200 ms; the oldest chunks go when the reader lags, see
/// [`Self::dropped`]).
///
/// Dropping it stops the stream and, if it was the last capture of our
/// sink, removes the sink and restores the previous default output; the
/// drop waits (briefly, bounded) until the daemon has done so.
pub struct AudioCapture {
    pub(super) id: u64,
    pub(super) origin: CaptureOrigin,
    pub(super) channels: u8,
    pub(super) queue: Arc<ChunkQueue>,
    pub(super) link: Link,
}

impl AudioCapture {
    /// The oldest chunk not yet taken, waiting at most `timeout` for one.
    /// `None` on timeout, and at once when the capture has ended (see
    /// [`Self::ended`]) and nothing is left.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<AudioChunk> {
        self.queue.pop_timeout(timeout)
    }

    /// Which sink this records.
    pub fn origin(&self) -> CaptureOrigin {
        self.origin
    }

    /// Channels per frame, as asked for.
    pub fn channels(&self) -> u8 {
        self.channels
    }

    /// Chunks dropped because they were not taken in time.
    pub fn dropped(&self) -> u64 {
        self.queue.dropped()
    }

    /// Why the capture ended (its sink went away, the daemon is gone, the
    /// server was dropped), or `None` while it runs.
    pub fn ended(&self) -> Option<PipeWireError> {
        self.queue.ended()
    }
}

impl Drop for AudioCapture {
    fn drop(&mut self) {
        let (done, stopped) = mpsc::sync_channel(1);
        if self
            .link
            .send(Command::StopCapture { id: self.id, done })
            .is_ok()
        {
            // Gone already if the loop has ended.
            let _ = self.link.wait(&stopped, STOP_WAIT);
        }
    }
}
