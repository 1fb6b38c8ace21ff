//! Decoding a session's access units with FFmpeg the way a player must: after a lost frame
//! nothing is decoded until the next keyframe (the picture would be corrupt), and a decode error
//! breaks the picture the same way; the caller then asks the host for a keyframe.

use punktfunk_core::control::Codec;
use punktfunk_core::Frame;
use punktfunk_video::decoder::VideoDecoder;
use punktfunk_video::VideoError;

pub use punktfunk_video::Picture;

/// What became of one access unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeOutcome {
    /// Decoded; this many pictures came out.
    Pictures(usize),
    /// Not decoded: the picture is broken until a keyframe arrives.
    Skipped,
    /// The decoder refused it: the picture is broken; ask for a keyframe.
    Failed,
}

pub struct StreamDecoder {
    decoder: VideoDecoder,
    broken: bool,
}

impl StreamDecoder {
    pub fn new(codec: Codec) -> Result<Self, VideoError> {
        Ok(Self {
            decoder: VideoDecoder::new(codec)?,
            broken: false,
        })
    }

    /// A frame was lost: the picture is broken until the next keyframe.
    pub fn on_loss(&mut self) {
        self.broken = true;
    }

    /// Whether pictures are being held back until a keyframe.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Decodes `frame` unless the picture is broken; `on_picture` sees every decoded picture.
    pub fn decode(&mut self, frame: &Frame, mut on_picture: impl FnMut(&Picture)) -> DecodeOutcome {
        if frame.keyframe {
            self.broken = false;
        }
        if self.broken {
            return DecodeOutcome::Skipped;
        }
        let mut n = 0;
        match self.decoder.decode(&frame.data, |p| {
            n += 1;
            on_picture(p)
        }) {
            Ok(()) => DecodeOutcome::Pictures(n),
            Err(e) => {
                tracing::debug!(frame = frame.index, "decode failed: {e}");
                self.broken = true;
                DecodeOutcome::Failed
            }
        }
    }
}
