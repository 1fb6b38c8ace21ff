//! The stream callbacks' state: what format was agreed, and turning the
//! newest buffer into a [`CapturedFrame`].

use std::sync::Arc;
use std::time::Instant;

use pipewire::spa::param::format::{MediaSubtype, MediaType};
use pipewire::spa::param::format_utils::parse_format;
use pipewire::spa::param::video::VideoInfoRaw;
use pipewire::spa::param::ParamType;
use pipewire::spa::pod::Pod;
use pipewire::stream::Stream;

use crate::buffer::{Dequeued, Unusable};
use crate::copy::{copy_packed, Skip};
use crate::params::mappable_buffers;
use crate::slot::Shared;
use crate::{CapturedFrame, PixelFormat};

/// Per-stream state of the callbacks.
#[derive(Default)]
pub(crate) struct Frames {
    negotiated: Option<(u32, u32, PixelFormat)>,
    sequence: u64,
    /// Pixel memory of a frame no consumer holds any more, for reuse.
    spare: Vec<u8>,
    /// Log only the first bad buffer: a producer repeats its mistakes.
    logged_skip: bool,
}

impl Frames {
    pub(crate) fn format_changed(
        &mut self,
        stream: &Stream,
        shared: &Shared,
        id: u32,
        param: Option<&Pod>,
    ) {
        if id != ParamType::Format.as_raw() {
            return;
        }
        self.negotiated = param.and_then(parse_raw_video);
        tracing::debug!(negotiated = ?self.negotiated, "PipeWire format");
        let negotiated = self.negotiated;
        shared.update(|slot| slot.negotiated = negotiated);
        if negotiated.is_some() {
            let buffers = mappable_buffers();
            let pod = Pod::from_bytes(&buffers).expect("we serialized a valid pod");
            if let Err(e) = stream.update_params(&mut [pod]) {
                tracing::warn!("announcing buffer types failed: {e}");
            }
        }
    }

    pub(crate) fn process(&mut self, stream: &Stream, shared: &Shared) {
        // Drain the queue and keep only the newest usable buffer: older ones
        // go straight back to the producer.
        let mut newest = None;
        let mut skipped = 0;
        while let Some(buffer) = Dequeued::next(stream) {
            match buffer.payload() {
                Ok(_) => newest = Some(buffer),
                // Empty buffers are normal (e.g. cursor-only updates).
                Err(Unusable::Empty) => skipped += 1,
                Err(why) => {
                    skipped += 1;
                    self.log_skip(format_args!("{why:?}"));
                }
            }
        }
        let (Some(buffer), Some((width, height, format))) = (newest, self.negotiated) else {
            if skipped > 0 {
                shared.update(|slot| slot.skipped += skipped);
            }
            return;
        };
        let (mapped, chunk) = buffer.payload().expect("checked above");
        let mut data = std::mem::take(&mut self.spare);
        if let Err(why) = copy_packed(mapped, chunk, width, height, &mut data) {
            if why != Skip::Empty {
                self.log_skip(format_args!("{why:?} ({width}x{height}, {chunk:?})"));
            }
            self.spare = data;
            shared.update(|slot| slot.skipped += skipped + 1);
            return;
        }
        drop(buffer);
        self.sequence += 1;
        let frame = Arc::new(CapturedFrame {
            width,
            height,
            stride: width * 4,
            format,
            data,
            sequence: self.sequence,
            captured_at: Instant::now(),
        });
        let mut replaced = None;
        shared.update(|slot| {
            replaced = slot.latest.replace(frame);
            slot.frames += 1;
            slot.skipped += skipped;
        });
        // Reuse the old frame's memory unless a consumer still holds it.
        if let Some(old) = replaced.and_then(|old| Arc::try_unwrap(old).ok()) {
            self.spare = old.data;
        }
    }

    fn log_skip(&mut self, why: std::fmt::Arguments<'_>) {
        if !self.logged_skip {
            self.logged_skip = true;
            tracing::warn!("skipping PipeWire buffer: {why} (further skips are not logged)");
        }
    }
}

/// `(width, height, format)` of a raw video Format param in a layout we read.
fn parse_raw_video(param: &Pod) -> Option<(u32, u32, PixelFormat)> {
    let (media_type, media_subtype) = parse_format(param).ok()?;
    if media_type != MediaType::Video || media_subtype != MediaSubtype::Raw {
        return None;
    }
    let mut info = VideoInfoRaw::new();
    info.parse(param).ok()?;
    let format = PixelFormat::from_spa(info.format())?;
    Some((info.size().width, info.size().height, format))
}
