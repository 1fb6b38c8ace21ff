//! The screencopy frame cycle: request → buffer info → copy → ready/failed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wayland_client::protocol::{wl_output::WlOutput, wl_shm::WlShm};
use wayland_client::{delegate_noop, Connection, Dispatch, Proxy, QueueHandle};
use wayland_protocols_wlr::screencopy::v1::client::{
    zwlr_screencopy_frame_v1::{self, Flags, ZwlrScreencopyFrameV1},
    zwlr_screencopy_manager_v1::ZwlrScreencopyManagerV1,
};

use crate::error::CaptureError;
use crate::format::PixelFormat;
use crate::shm::{Layout, ShmBuffer};
use crate::worker::State;
use crate::{CaptureConfig, CapturedFrame, Shared};

/// Longest pause between retries after repeated failed copies.
const MAX_RETRY_DELAY: Duration = Duration::from_millis(500);

pub(crate) struct Screencopy {
    manager: ZwlrScreencopyManagerV1,
    output: WlOutput,
    shm: WlShm,
    output_name: String,
    overlay_cursor: bool,
    with_damage: bool,
    shared: Arc<Shared>,
    buffer: Option<ShmBuffer>,
    pending: Option<Pending>,
    sequence: u64,
    failures_in_row: u32,
    retry_at: Option<Instant>,
    /// Whether the next damage frame may repeat the first (see `ready`).
    check_duplicate: bool,
    fatal: Option<CaptureError>,
    /// Pixel storage of a frame nobody holds any more, reused to avoid
    /// faulting in megabytes of fresh memory per frame.
    spare: Vec<u8>,
}

struct Pending {
    frame: ZwlrScreencopyFrameV1,
    requested_at: Instant,
    layout: Option<Layout>,
    offered: Vec<String>,
    y_invert: bool,
    copied: bool,
}

impl Screencopy {
    pub(crate) fn new(
        manager: ZwlrScreencopyManagerV1,
        output: WlOutput,
        shm: WlShm,
        config: &CaptureConfig,
        shared: Arc<Shared>,
    ) -> Self {
        Self {
            manager,
            output,
            shm,
            output_name: config.output_name.clone(),
            overlay_cursor: config.overlay_cursor,
            with_damage: config.with_damage,
            shared,
            buffer: None,
            pending: None,
            sequence: 0,
            failures_in_row: 0,
            retry_at: None,
            check_duplicate: config.with_damage,
            fatal: None,
            spare: Vec::new(),
        }
    }

    /// Asks for the next frame unless one is in flight or a retry is due later.
    pub(crate) fn request_if_idle(&mut self, qh: &QueueHandle<State>) {
        if self.pending.is_some() || self.fatal.is_some() {
            return;
        }
        if let Some(at) = self.retry_at {
            if Instant::now() < at {
                return;
            }
            self.retry_at = None;
        }
        let frame = self
            .manager
            .capture_output(self.overlay_cursor.into(), &self.output, qh, ());
        self.pending = Some(Pending {
            frame,
            requested_at: Instant::now(),
            layout: None,
            offered: Vec::new(),
            y_invert: false,
            copied: false,
        });
    }

    /// How long until a postponed retry is due, if one is.
    pub(crate) fn retry_in(&self) -> Option<Duration> {
        self.retry_at
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    pub(crate) fn take_fatal(&mut self) -> Option<CaptureError> {
        self.fatal.take()
    }

    fn handle(
        &mut self,
        frame: &ZwlrScreencopyFrameV1,
        event: zwlr_screencopy_frame_v1::Event,
        qh: &QueueHandle<State>,
    ) {
        let Some(pending) = self.pending.as_mut().filter(|p| &p.frame == frame) else {
            return;
        };
        use zwlr_screencopy_frame_v1::Event;
        match event {
            Event::Buffer {
                format,
                width,
                height,
                stride,
            } => {
                pending.offered.push(format!("{format:?}"));
                let format = format.into_result().ok().and_then(PixelFormat::from_wl);
                if let (None, Some(format)) = (pending.layout, format) {
                    pending.layout = Some(Layout {
                        width,
                        height,
                        stride,
                        format,
                    });
                }
                // Before version 3 there is no `buffer_done`: one `buffer` is all.
                if frame.version() < 3 {
                    self.copy(qh);
                }
            }
            Event::BufferDone => self.copy(qh),
            Event::Flags { flags } => {
                pending.y_invert = flags
                    .into_result()
                    .is_ok_and(|f| f.contains(Flags::YInvert));
            }
            Event::Ready { .. } => self.ready(),
            Event::Failed => self.failed(),
            // Damage rectangles and dma-buf offers: not used by an shm capturer.
            _ => {}
        }
    }

    fn copy(&mut self, qh: &QueueHandle<State>) {
        let Some(pending) = self.pending.as_mut().filter(|p| !p.copied) else {
            return;
        };
        let Some(layout) = pending.layout else {
            self.fatal = Some(CaptureError::UnsupportedFormat {
                output: self.output_name.clone(),
                offered: if pending.offered.is_empty() {
                    "only dma-buf".to_owned()
                } else {
                    pending.offered.join(", ")
                },
            });
            return;
        };
        if self.buffer.as_ref().map(|b| b.layout) != Some(layout) {
            // Destroy the old buffer first: no point holding both.
            self.buffer = None;
            match ShmBuffer::new(&self.shm, layout, qh) {
                Ok(buffer) => self.buffer = Some(buffer),
                Err(err) => {
                    self.fatal = Some(CaptureError::Shm(Arc::new(err)));
                    return;
                }
            }
        }
        let Some(buffer) = &self.buffer else { return };
        // The first frame must always come, so only later ones wait for damage.
        if self.with_damage && self.sequence > 0 {
            pending.frame.copy_with_damage(&buffer.buffer);
        } else {
            pending.frame.copy(&buffer.buffer);
        }
        pending.copied = true;
    }

    fn ready(&mut self) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        pending.frame.destroy();
        let captured_at = Instant::now();
        let Some(buffer) = self.buffer.as_ref().filter(|_| pending.copied) else {
            return;
        };
        let layout = buffer.layout;
        let mut data = std::mem::take(&mut self.spare);
        copy_rows(buffer.bytes(), layout.stride, pending.y_invert, &mut data);
        self.failures_in_row = 0;
        let first_damage_copy = self.sequence > 0 && std::mem::take(&mut self.check_duplicate);
        if first_damage_copy && self.same_as_latest(&data) {
            // wlroots starts a client's damage as "everything", so the first
            // copy_with_damage returns at once, repeating the plain first copy.
            tracing::debug!(output = %self.output_name, "dropped duplicate first damage frame");
            self.spare = data;
            return;
        }
        self.sequence += 1;
        let copy_time = captured_at - pending.requested_at;
        let frame = Arc::new(CapturedFrame {
            width: layout.width,
            height: layout.height,
            stride: layout.stride,
            format: layout.format,
            data,
            sequence: self.sequence,
            captured_at,
            copy_time,
        });
        let previous = {
            let mut slot = self.shared.lock();
            slot.frames += 1;
            slot.copy_time_total_us += u64::try_from(copy_time.as_micros()).unwrap_or(u64::MAX);
            slot.latest.replace(frame)
        };
        self.shared.cond.notify_all();
        if let Some(previous) = previous.and_then(|f| Arc::try_unwrap(f).ok()) {
            self.spare = previous.data;
        }
    }

    fn same_as_latest(&self, data: &[u8]) -> bool {
        let latest = self.shared.lock().latest.clone();
        latest.is_some_and(|f| f.data == data)
    }

    fn failed(&mut self) {
        if let Some(pending) = self.pending.take() {
            pending.frame.destroy();
        }
        self.shared.lock().failed += 1;
        self.failures_in_row += 1;
        // Retry once at once (e.g. a mode change), then back off so a
        // persistently failing output doesn't spin.
        let delay = match self.failures_in_row {
            1 => Duration::ZERO,
            n => (Duration::from_millis(10) * 2u32.saturating_pow(n - 2)).min(MAX_RETRY_DELAY),
        };
        if self.failures_in_row == 1 {
            tracing::warn!(output = %self.output_name, "screencopy failed; retrying");
        } else {
            tracing::debug!(output = %self.output_name, failures = self.failures_in_row, ?delay, "screencopy failed again");
        }
        self.retry_at = Some(Instant::now() + delay);
    }
}

/// Copies `src` into `dst` (reusing its allocation), top row first.
fn copy_rows(src: &[u8], stride: u32, y_invert: bool, dst: &mut Vec<u8>) {
    dst.clear();
    dst.reserve_exact(src.len());
    if y_invert {
        for row in src.chunks_exact(stride as usize).rev() {
            dst.extend_from_slice(row);
        }
    } else {
        dst.extend_from_slice(src);
    }
}

impl Dispatch<ZwlrScreencopyFrameV1, ()> for State {
    fn event(
        state: &mut Self,
        frame: &ZwlrScreencopyFrameV1,
        event: zwlr_screencopy_frame_v1::Event,
        _: &(),
        _: &Connection,
        qh: &QueueHandle<Self>,
    ) {
        if let Some(capture) = state.capture.as_mut() {
            capture.handle(frame, event, qh);
        }
    }
}

delegate_noop!(State: ZwlrScreencopyManagerV1);

#[cfg(test)]
mod tests {
    use super::copy_rows;

    #[test]
    fn y_inverted_frames_come_out_top_row_first() {
        let src = [1, 1, 2, 2, 3, 3];
        let mut dst = vec![9; 100];
        copy_rows(&src, 2, true, &mut dst);
        assert_eq!(dst, [3, 3, 2, 2, 1, 1]);
        copy_rows(&src, 2, false, &mut dst);
        assert_eq!(dst, src);
    }
}
