use std::time::Instant;

use crate::PixelFormat;

/// One video frame copied out of a PipeWire buffer into ordinary memory.
#[derive(Clone)]
pub struct CapturedFrame {
    pub width: u32,
    pub height: u32,
    /// Bytes per row in `data`; always `width * 4` (rows are packed on copy).
    pub stride: u32,
    pub format: PixelFormat,
    /// `stride * height` bytes, top row first.
    pub data: Vec<u8>,
    /// Increments by one per delivered frame; the first frame is 1.
    pub sequence: u64,
    /// When the process callback copied the frame.
    pub captured_at: Instant,
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
            .finish_non_exhaustive()
    }
}
