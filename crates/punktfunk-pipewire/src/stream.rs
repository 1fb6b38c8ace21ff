use std::os::fd::OwnedFd;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::params::Wanted;
use crate::slot::Shared;
use crate::worker::{self, Command, Setup};
use crate::{CapturedFrame, PipeWireError, PixelFormat};

/// The node id PipeWire uses for "any node".
const ID_ANY: u32 = u32::MAX;

/// How long [`VideoStream::start`] waits for the daemon to answer.
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

/// Which node to consume, over which connection, and what to ask it for.
#[derive(Debug)]
pub struct StreamConfig {
    /// The producer's node id (from a portal's or Mutter's stream);
    /// `u32::MAX` lets the session manager pick.
    pub node_id: u32,
    /// A PipeWire connection handed over by a portal or compositor
    /// (`OpenPipeWireRemote`); `None` connects to the default daemon.
    pub fd: Option<OwnedFd>,
    /// Wished size; exact with `fixed_size`, else the preferred default.
    pub width: u32,
    pub height: u32,
    /// Offered as the (max) framerate; 0 means 60 Hz.
    pub refresh_millihz: u32,
    /// Offer only `width`×`height`. Mutter sizes a RecordVirtual monitor
    /// from the size the consumer fixes.
    pub fixed_size: bool,
}

/// Consumes one PipeWire video stream on its own thread, keeping only the
/// newest frame, copied into ordinary memory.
///
/// Dropping it stops the loop thread and disconnects from PipeWire.
pub struct VideoStream {
    shared: Arc<Shared>,
    commands: pipewire::channel::Sender<Command>,
    thread: Option<JoinHandle<()>>,
    wanted: Wanted,
}

impl VideoStream {
    /// Connects to PipeWire, checks that the node exists, and links a
    /// consumer stream to it. Frames arrive once the format is negotiated.
    ///
    /// Errors (as [`PipeWireError`] inside the `anyhow::Error`) when no
    /// daemon answers, the node does not exist, or setup fails.
    pub fn start(config: StreamConfig) -> anyhow::Result<Self> {
        if config.fixed_size && (config.width == 0 || config.height == 0) {
            anyhow::bail!(
                "a fixed size needs a width and height, got {}x{}",
                config.width,
                config.height
            );
        }
        let wanted = Wanted {
            width: config.width,
            height: config.height,
            refresh_millihz: match config.refresh_millihz {
                0 => 60_000,
                r => r,
            },
            fixed_size: config.fixed_size,
        };
        let setup = Setup {
            node_id: (config.node_id != ID_ANY).then_some(config.node_id),
            fd: config.fd,
            wanted,
        };
        let shared = Arc::new(Shared::default());
        let (commands, receiver) = pipewire::channel::channel();
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name(format!("pipewire node {}", config.node_id))
            .spawn({
                let shared = shared.clone();
                move || worker::run(setup, shared, receiver, ready_tx)
            })?;
        let stream = Self {
            shared,
            commands,
            thread: Some(thread),
            wanted,
        };
        // On any error `stream` drops here, which stops and joins the thread.
        match ready_rx.recv_timeout(SETUP_TIMEOUT) {
            Ok(Ok(())) => Ok(stream),
            Ok(Err(err)) => Err(err.into()),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(PipeWireError::Setup(format!(
                "the PipeWire daemon did not answer within {SETUP_TIMEOUT:?}"
            ))
            .into()),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(PipeWireError::Setup("the PipeWire thread exited during setup".into()).into())
            }
        }
    }

    /// The newest frame if its sequence is greater than `after`, waiting at
    /// most `timeout`; `Ok(None)` on timeout.
    ///
    /// Returns a shared handle, not a copy. Once the stream has ended (e.g.
    /// the node went away) an unseen last frame is still returned, after
    /// which this returns the [`PipeWireError`] that ended it.
    pub fn next_frame(
        &self,
        after: u64,
        timeout: Duration,
    ) -> anyhow::Result<Option<Arc<CapturedFrame>>> {
        Ok(self.shared.wait_for(timeout, |slot| {
            slot.latest.clone().filter(|f| f.sequence > after)
        })?)
    }

    /// The negotiated `(width, height, format)`, once the producer agreed.
    pub fn negotiated(&self) -> Option<(u32, u32, PixelFormat)> {
        self.shared.lock().negotiated
    }

    /// Waits until a format is negotiated that `accept` likes; `Ok(None)` on
    /// timeout, an error if the stream ended.
    pub fn wait_negotiated(
        &self,
        timeout: Duration,
        mut accept: impl FnMut(u32, u32, PixelFormat) -> bool,
    ) -> anyhow::Result<Option<(u32, u32, PixelFormat)>> {
        Ok(self.shared.wait_for(timeout, |slot| {
            slot.negotiated.filter(|&(w, h, f)| accept(w, h, f))
        })?)
    }

    /// Offers a new size and rate; the producer may renegotiate (Mutter then
    /// changes the virtual monitor's mode). Watch [`Self::negotiated`].
    pub fn renegotiate(
        &mut self,
        width: u32,
        height: u32,
        refresh_millihz: u32,
    ) -> anyhow::Result<()> {
        let wanted = Wanted {
            width,
            height,
            refresh_millihz: if refresh_millihz == 0 {
                60_000
            } else {
                refresh_millihz
            },
            fixed_size: self.wanted.fixed_size,
        };
        if self.commands.send(Command::Renegotiate(wanted)).is_err() {
            let ended = self.shared.lock().ended.clone();
            return Err(ended.unwrap_or(PipeWireError::Stopped).into());
        }
        self.wanted = wanted;
        Ok(())
    }

    /// Pauses the stream until it is paused (`false`) or resumes it until it
    /// streams again (`true`), waiting at most `timeout`; `Ok(false)` if the
    /// state did not change in time.
    pub(crate) fn set_active(&self, active: bool, timeout: Duration) -> anyhow::Result<bool> {
        if self.commands.send(Command::SetActive(active)).is_err() {
            let ended = self.shared.lock().ended.clone();
            return Err(ended.unwrap_or(PipeWireError::Stopped).into());
        }
        Ok(self
            .shared
            .wait_for(timeout, |slot| (slot.streaming == active).then_some(()))?
            .is_some())
    }

    /// Waits for a frame of `width`×`height` newer than `after`.
    pub(crate) fn next_frame_sized(
        &self,
        after: u64,
        width: u32,
        height: u32,
        timeout: Duration,
    ) -> anyhow::Result<Option<Arc<CapturedFrame>>> {
        Ok(self.shared.wait_for(timeout, |slot| {
            slot.latest
                .clone()
                .filter(|f| f.sequence > after && (f.width, f.height) == (width, height))
        })?)
    }

    /// `(frames delivered, buffers skipped)` since start.
    pub fn stats(&self) -> (u64, u64) {
        let slot = self.shared.lock();
        (slot.frames, slot.skipped)
    }
}

impl Drop for VideoStream {
    fn drop(&mut self) {
        // Fails only if the loop already ended; then the join is immediate.
        let _ = self.commands.send(Command::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
