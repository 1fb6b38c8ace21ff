//! Screen capture from Wayland compositors.
//!
//! [`OutputCapture`] grabs one named output through wlr-screencopy into a
//! shared-memory buffer, on its own thread, and keeps the newest frame in a
//! slot that consumers poll with [`OutputCapture::next_frame`].
//!
//! [`kwin::KwinVirtualOutput`] instead has KWin make a virtual output and
//! stream it into a PipeWire node (read elsewhere).

mod error;
mod format;
pub mod kwin;
mod output;
mod pump;
mod screencopy;
mod shm;
mod worker;

#[cfg(feature = "testing")]
pub mod testing;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use error::CaptureError;
pub use format::PixelFormat;

/// How long [`OutputCapture::start`] waits for the compositor's answers.
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

/// One captured image of the output, in shared-memory pixel layout.
#[derive(Clone)]
pub struct CapturedFrame {
    pub width: u32,
    pub height: u32,
    /// Bytes per row in `data` (may exceed `width * 4`).
    pub stride: u32,
    pub format: PixelFormat,
    /// `stride * height` bytes, top row first (y-inverted frames are flipped).
    pub data: Vec<u8>,
    /// Increments by one per captured frame; the first frame is 1.
    pub sequence: u64,
    /// When the compositor's `ready` event arrived.
    pub captured_at: Instant,
    /// From the capture request to `ready` (includes waiting for damage).
    pub copy_time: Duration,
}

impl CapturedFrame {
    /// The `[r, g, b]` value at (`x`, `y`), or `None` outside the frame.
    pub fn pixel_rgb(&self, x: u32, y: u32) -> Option<[u8; 3]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let at = y as usize * self.stride as usize + x as usize * 4;
        let px: [u8; 4] = self.data.get(at..at + 4)?.try_into().ok()?;
        Some(self.format.rgb(px))
    }
}

impl std::fmt::Debug for CapturedFrame {
    // Leaves out `data`: megabytes of pixels help nobody in a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CapturedFrame")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("stride", &self.stride)
            .field("format", &self.format)
            .field("sequence", &self.sequence)
            .field("captured_at", &self.captured_at)
            .field("copy_time", &self.copy_time)
            .finish_non_exhaustive()
    }
}

/// What to capture, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureConfig {
    /// Full path of the compositor's Wayland socket, e.g. `/run/user/1000/wayland-1`.
    pub wayland_display: PathBuf,
    /// The xdg-output name of the output, e.g. `HEADLESS-2` or `DP-1`.
    pub output_name: String,
    /// Only produce a frame when the output changed (screencopy version ≥ 2).
    pub with_damage: bool,
    /// Draw the cursor into the frames.
    pub overlay_cursor: bool,
}

/// Counters of an [`OutputCapture`] since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptureStats {
    pub frames_captured: u64,
    pub failed_copies: u64,
    /// Mean time from capture request to `ready`, in microseconds.
    pub avg_copy_time_us: u64,
}

/// Captures one output continuously on a background thread.
///
/// Dropping it stops the thread (within about 50 ms) and disconnects.
pub struct OutputCapture {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl OutputCapture {
    /// Connects to the compositor, finds the output whose xdg-output name is
    /// `config.output_name`, and starts capturing it.
    ///
    /// Errors (as [`CaptureError`] inside the `anyhow::Error`) if the socket
    /// can't be reached, the output doesn't exist (the message lists the ones
    /// that do), or the compositor lacks a needed protocol.
    pub fn start(config: CaptureConfig) -> anyhow::Result<Self> {
        let shared = Arc::new(Shared::default());
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name(format!("capture {}", config.output_name))
            .spawn({
                let shared = shared.clone();
                move || worker::run(config, shared, ready_tx)
            })?;
        match ready_rx.recv_timeout(SETUP_TIMEOUT) {
            Ok(Ok(())) => Ok(Self {
                shared,
                thread: Some(thread),
            }),
            Ok(Err(err)) => {
                let _ = thread.join();
                Err(err.into())
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // Setup blocks in Wayland roundtrips; the thread exits by
                // itself once the compositor answers or hangs up.
                shared.stop.store(true, Ordering::Relaxed);
                Err(CaptureError::Connection(format!(
                    "the compositor did not answer within {SETUP_TIMEOUT:?}"
                ))
                .into())
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let _ = thread.join();
                anyhow::bail!("capture thread exited during setup")
            }
        }
    }

    /// The newest frame if its sequence is greater than `after`, waiting at
    /// most `timeout` for one; `Ok(None)` on timeout.
    ///
    /// Returns a shared handle, not a copy of the pixels. Once capture has
    /// ended (e.g. the output went away) frames not yet seen are still
    /// returned, after which this returns the error that ended it.
    pub fn next_frame(
        &self,
        after: u64,
        timeout: Duration,
    ) -> anyhow::Result<Option<Arc<CapturedFrame>>> {
        let deadline = Instant::now() + timeout;
        let mut slot = self.shared.lock();
        loop {
            if let Some(frame) = slot.latest.as_ref().filter(|f| f.sequence > after) {
                return Ok(Some(frame.clone()));
            }
            if let Some(err) = &slot.ended {
                return Err(err.clone().into());
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            slot = self
                .shared
                .cond
                .wait_timeout(slot, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Counters since start.
    pub fn stats(&self) -> CaptureStats {
        let slot = self.shared.lock();
        CaptureStats {
            frames_captured: slot.frames,
            failed_copies: slot.failed,
            avg_copy_time_us: slot
                .copy_time_total_us
                .checked_div(slot.frames)
                .unwrap_or(0),
        }
    }
}

impl Drop for OutputCapture {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// State shared between [`OutputCapture`] and its thread.
#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) stop: AtomicBool,
    pub(crate) slot: Mutex<Slot>,
    pub(crate) cond: Condvar,
}

#[derive(Default)]
pub(crate) struct Slot {
    pub(crate) latest: Option<Arc<CapturedFrame>>,
    /// Why the thread ended, once it has.
    pub(crate) ended: Option<CaptureError>,
    pub(crate) frames: u64,
    pub(crate) failed: u64,
    pub(crate) copy_time_total_us: u64,
}

impl Shared {
    // A panic elsewhere can't leave the slot half-written, so poison is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_can_move_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<OutputCapture>();
        send_sync::<Arc<CapturedFrame>>();
        send_sync::<CaptureError>();
    }
}
