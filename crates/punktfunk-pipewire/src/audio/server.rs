//! The public entry: one connection to PipeWire with its loop thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use super::command::{Command, PendingCapture};
use super::engine;
use super::layout::Layout;
use super::link::Link;
use super::queue::{ChunkQueue, SampleQueue};
use super::{AudioCapture, CaptureOrigin, MicSource, Remote};
use crate::PipeWireError;

/// How long a request waits for the loop thread's answer. Longer than the
/// thread's own setup (two roundtrips of at most 5 s each), so its specific
/// error wins.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(15);

/// One PipeWire connection and main loop on its own thread ("pw-audio"),
/// owning every sink, capture and microphone made through it.
///
/// `Send + Sync`: share it between session threads. Dropping it ends the
/// thread and removes everything it made (restoring the default output);
/// handles still held then report [`PipeWireError::Stopped`]. If the daemon
/// goes away, captures end with [`PipeWireError::Disconnected`] and later
/// requests fail with it: connect anew.
pub struct AudioServer {
    link: Link,
    thread: Option<JoinHandle<()>>,
    next_id: AtomicU64,
}

impl AudioServer {
    /// Connects to the daemon at `remote` and reads its state (our thread
    /// waits at most a few seconds for each answer).
    ///
    /// Errors with [`PipeWireError::NoDaemon`] (naming the socket it
    /// tried) when no daemon runs there.
    pub fn connect(remote: Remote) -> Result<Self, PipeWireError> {
        let (commands, receiver) = pipewire::channel::channel();
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let ended = Arc::new(OnceLock::new());
        let thread = std::thread::Builder::new()
            .name("pw-audio".into())
            .spawn({
                let ended = ended.clone();
                move || engine::run(remote, receiver, ready_tx, ended)
            })
            .map_err(|e| PipeWireError::Setup(format!("starting the pw-audio thread: {e}")))?;
        let server = Self {
            link: Link::new(commands, ended),
            thread: Some(thread),
            next_id: AtomicU64::new(1),
        };
        // On any error `server` drops here, which stops and joins the thread.
        server.link.wait(&ready_rx, ANSWER_TIMEOUT)??;
        Ok(server)
    }

    /// Whether the connection is gone (the daemon went away): connect anew.
    pub fn ended(&self) -> bool {
        self.link.has_ended()
    }

    /// Makes the sink "punktfunk" with `channels` (1..=8) channels the
    /// default output (if this is its first capture), and captures its
    /// monitor as F32 interleaved at 48 kHz in exactly `channels` channels
    /// (WAVE order: 1 MONO; 2 FL FR; 6 FL FR FC LFE RL RR; 8 adds SL SR).
    ///
    /// Captures share the sink; one with a different channel count than the
    /// sink's first gets PipeWire's conversion. If the sink cannot be made,
    /// records the default sink's monitor instead, logs why, and says so in
    /// [`AudioCapture::origin`].
    pub fn capture_session_sink(&self, channels: u8) -> Result<AudioCapture, PipeWireError> {
        let layout = Layout::new(channels)?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let queue = Arc::new(ChunkQueue::default());
        let (reply, answer) = mpsc::sync_channel(1);
        self.link.send(Command::Capture(PendingCapture {
            id,
            layout,
            queue: queue.clone(),
            reply,
        }))?;
        // Made before waiting, so that on a timeout its drop cancels the
        // request.
        let mut capture = AudioCapture {
            id,
            origin: CaptureOrigin::SessionSink,
            channels,
            queue,
            link: self.link.clone(),
        };
        capture.origin = self.link.wait(&answer, ANSWER_TIMEOUT)??;
        Ok(capture)
    }

    /// Makes a source node "punktfunk mic" (`node.name`
    /// [`super::MIC_NODE_NAME`]) with `channels` (1..=8) channels at 48 kHz
    /// that apps can record from, playing what [`MicSource::push`] queues.
    pub fn virtual_mic(&self, channels: u8) -> Result<MicSource, PipeWireError> {
        let layout = Layout::new(channels)?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let queue = Arc::new(SampleQueue::new(channels));
        let (reply, answer) = mpsc::sync_channel(1);
        self.link.send(Command::Mic {
            id,
            layout,
            queue: queue.clone(),
            reply,
        })?;
        let mut mic = MicSource {
            id,
            node_name: String::new(),
            channels,
            queue,
            link: self.link.clone(),
        };
        mic.node_name = self.link.wait(&answer, ANSWER_TIMEOUT)??;
        Ok(mic)
    }
}

impl Drop for AudioServer {
    fn drop(&mut self) {
        // Fails only if the loop already ended; then the join is immediate.
        let _ = self.link.send(Command::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
