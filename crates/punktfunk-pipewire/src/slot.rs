//! The hand-over point between the loop thread and consumers: only the newest
//! frame is kept, so a slow consumer skips frames instead of queueing them.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::{CapturedFrame, PipeWireError, PixelFormat};

#[derive(Default)]
pub(crate) struct Shared {
    slot: Mutex<Slot>,
    cond: Condvar,
}

#[derive(Default)]
pub(crate) struct Slot {
    pub(crate) latest: Option<Arc<CapturedFrame>>,
    pub(crate) negotiated: Option<(u32, u32, PixelFormat)>,
    /// Whether the stream is in the Streaming state (not paused).
    pub(crate) streaming: bool,
    /// Why the loop ended, once it has.
    pub(crate) ended: Option<PipeWireError>,
    pub(crate) frames: u64,
    pub(crate) skipped: u64,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Slot> {
        // A panic elsewhere leaves plain data behind: keep going with it.
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the slot and wakes every waiter.
    pub(crate) fn update(&self, f: impl FnOnce(&mut Slot)) {
        f(&mut self.lock());
        self.cond.notify_all();
    }

    /// Records why the stream ended; the first reason wins.
    pub(crate) fn end(&self, why: PipeWireError) {
        self.update(|slot| {
            slot.ended.get_or_insert(why);
        });
    }

    /// Waits until `ready` picks something out of the slot, the stream ended,
    /// or `timeout` passed (`Ok(None)`). Unseen results win over the end.
    pub(crate) fn wait_for<T>(
        &self,
        timeout: Duration,
        mut ready: impl FnMut(&Slot) -> Option<T>,
    ) -> Result<Option<T>, PipeWireError> {
        let deadline = Instant::now() + timeout;
        let mut slot = self.lock();
        loop {
            if let Some(found) = ready(&slot) {
                return Ok(Some(found));
            }
            if let Some(err) = &slot.ended {
                return Err(err.clone());
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            slot = self
                .cond
                .wait_timeout(slot, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}
