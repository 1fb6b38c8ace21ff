//! The host's handle on the virtual microphone.

use std::sync::{mpsc, Arc};
use std::time::Duration;

use super::command::Command;
use super::link::Link;
use super::queue::SampleQueue;

/// How long dropping the microphone waits for the daemon to remove it.
const STOP_WAIT: Duration = Duration::from_secs(2);

/// A PipeWire source node ("punktfunk mic") that apps record from. It plays
/// the samples given to [`Self::push`] from a bounded queue (at most
/// 200 ms: the oldest samples go when more arrive) and silence when the
/// queue runs dry (counted in [`Self::underruns`]).
///
/// Dropping it removes the node (waiting briefly, bounded, for the daemon).
pub struct MicSource {
    pub(super) id: u64,
    pub(super) node_name: String,
    pub(super) channels: u8,
    pub(super) queue: Arc<SampleQueue>,
    pub(super) link: Link,
}

impl MicSource {
    /// Queues interleaved 48 kHz samples in this source's channel layout;
    /// a trailing partial frame is ignored. Never blocks on PipeWire.
    pub fn push(&self, interleaved: &[f32]) {
        self.queue.push(interleaved);
    }

    /// The node's `node.name`, for recorders (`parecord --device=…`).
    /// Whether its connection is gone (the node with it): make a new one.
    pub fn ended(&self) -> bool {
        self.link.has_ended()
    }

    pub fn node_name(&self) -> &str {
        &self.node_name
    }

    /// Channels per frame.
    pub fn channels(&self) -> u8 {
        self.channels
    }

    /// Periods PipeWire asked for more than was queued (the rest was
    /// silence). Counts only while something records.
    pub fn underruns(&self) -> u64 {
        self.queue.underruns()
    }

    /// Frames dropped because the queue was full.
    pub fn dropped_frames(&self) -> u64 {
        self.queue.dropped_frames()
    }
}

impl Drop for MicSource {
    fn drop(&mut self) {
        let (done, stopped) = mpsc::sync_channel(1);
        if self
            .link
            .send(Command::StopMic { id: self.id, done })
            .is_ok()
        {
            // Gone already if the loop has ended.
            let _ = self.link.wait(&stopped, STOP_WAIT);
        }
    }
}
