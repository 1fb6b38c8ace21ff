//! How the handles reach the loop thread: commands over a
//! `pipewire::channel`, answers over std channels.
//!
//! A `pipewire::channel::Sender` keeps accepting messages after its loop
//! has ended (nothing reads them any more), so every wait here also
//! watches for the loop's end instead of sitting out its timeout.

use std::sync::{mpsc, Arc, OnceLock};
use std::time::{Duration, Instant};

use super::command::Command;
use crate::PipeWireError;

/// How often a wait looks whether the loop has ended.
const POLL: Duration = Duration::from_millis(50);

#[derive(Clone)]
pub(crate) struct Link {
    commands: pipewire::channel::Sender<Command>,
    /// Why the loop thread ended, once it has.
    ended: Arc<OnceLock<PipeWireError>>,
}

impl Link {
    pub(crate) fn new(
        commands: pipewire::channel::Sender<Command>,
        ended: Arc<OnceLock<PipeWireError>>,
    ) -> Self {
        Self { commands, ended }
    }

    /// Queues `command`, unless the loop has ended.
    pub(crate) fn send(&self, command: Command) -> Result<(), PipeWireError> {
        if let Some(why) = self.ended.get() {
            return Err(why.clone());
        }
        self.commands.send(command).map_err(|_| self.why_ended())
    }

    /// The loop's answer on `answer`, waiting at most `timeout`; an error
    /// at once when the loop ends without answering.
    pub(crate) fn wait<T>(
        &self,
        answer: &mpsc::Receiver<T>,
        timeout: Duration,
    ) -> Result<T, PipeWireError> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.ended.get().is_some() {
                // It may have answered just before it ended.
                return answer.try_recv().map_err(|_| self.why_ended());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(PipeWireError::Setup(format!(
                    "the PipeWire audio thread did not answer within {timeout:?}"
                )));
            }
            match answer.recv_timeout(left.min(POLL)) {
                Ok(value) => return Ok(value),
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                // The loop dropped the request: it is shutting down.
                Err(mpsc::RecvTimeoutError::Disconnected) => return Err(self.why_ended()),
            }
        }
    }

    /// Whether the loop has ended (the daemon went away, or the server stopped).
    pub(crate) fn has_ended(&self) -> bool {
        self.ended.get().is_some()
    }

    /// Why the loop is gone (e.g. the daemon went away).
    pub(crate) fn why_ended(&self) -> PipeWireError {
        self.ended.get().cloned().unwrap_or(PipeWireError::Stopped)
    }
}
