//! The requests the handles send to the loop thread, and how the loop
//! answers them exactly once.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::{mpsc, Arc};

use super::layout::Layout;
use super::queue::{ChunkQueue, SampleQueue};
use super::streams::OnReady;
use super::CaptureOrigin;
use crate::PipeWireError;

/// The answer to a request; the handle waits for it with a timeout.
pub(crate) type Reply<T> = mpsc::SyncSender<Result<T, PipeWireError>>;

/// Requests from the handles to the loop thread.
pub(crate) enum Command {
    Capture(PendingCapture),
    StopCapture {
        id: u64,
        done: mpsc::SyncSender<()>,
    },
    Mic {
        id: u64,
        layout: Layout,
        queue: Arc<SampleQueue>,
        reply: Reply<String>,
    },
    StopMic {
        id: u64,
        done: mpsc::SyncSender<()>,
    },
    Stop,
}

/// A capture waiting for the sink it will record.
pub(crate) struct PendingCapture {
    pub id: u64,
    pub layout: Layout,
    pub queue: Arc<ChunkQueue>,
    pub reply: Reply<CaptureOrigin>,
}

/// A reply that whichever comes first sends: the stream's readiness or a
/// failure before it got that far.
pub(crate) struct OnceReply<T>(Rc<Cell<Option<Reply<T>>>>);

impl<T: 'static> OnceReply<T> {
    pub(crate) fn new(reply: Reply<T>) -> Self {
        Self(Rc::new(Cell::new(Some(reply))))
    }

    pub(crate) fn send(&self, result: Result<T, PipeWireError>) {
        if let Some(reply) = self.0.take() {
            // Capacity one, one send: never blocks. The asker may have
            // given up waiting; then nobody listens.
            let _ = reply.try_send(result);
        }
    }

    /// The stream's readiness callback, answering with `value()`.
    pub(crate) fn on_ready(&self, value: impl FnOnce() -> T + 'static) -> OnReady {
        let reply = Self(self.0.clone());
        Box::new(move |result| reply.send(result.map(|()| value())))
    }
}
