//! The synthetic source: stand-in access units shaped like a low-latency encoder's output, one
//! keyframe to open the stream and then every `keyframe_interval` frames, P-frames around the
//! per-frame budget of the bitrate. Bytes come from `punktfunk_core::synthetic`, so a receiver
//! can check every one.

use punktfunk_core::{synthetic, FrameInfo};

/// A keyframe is this many times the size of an average frame.
const KEYFRAME_SCALE: usize = 4;

pub struct SyntheticSource {
    fps: u32,
    bytes_per_frame: usize,
    keyframe_interval: u32,
    next_index: u32,
    keyframe_requested: bool,
    /// Drives the ±20 % size jitter of P-frames.
    jitter: u64,
}

impl SyntheticSource {
    pub fn new(fps: u32, bitrate_kbps: u32, keyframe_interval: u32) -> Self {
        Self {
            fps: fps.max(1),
            bytes_per_frame: Self::frame_budget(fps, bitrate_kbps),
            keyframe_interval: keyframe_interval.max(1),
            next_index: 0,
            keyframe_requested: false,
            jitter: 0x2545_F491_4F6C_DD1D,
        }
    }

    pub fn set_bitrate_kbps(&mut self, kbps: u32) {
        self.bytes_per_frame = Self::frame_budget(self.fps, kbps);
    }

    fn frame_budget(fps: u32, kbps: u32) -> usize {
        ((u64::from(kbps) * 1000 / 8 / u64::from(fps.max(1))) as usize).max(64)
    }

    /// Makes the next frame a keyframe (the client asked for one).
    pub fn request_keyframe(&mut self) {
        self.keyframe_requested = true;
    }

    /// The next access unit, time-stamped by its frame index at the frame rate.
    pub fn next_frame(&mut self) -> (FrameInfo, Vec<u8>) {
        let pts_us = u64::from(self.next_index) * 1_000_000 / u64::from(self.fps);
        self.next_frame_at(pts_us)
    }

    /// The next access unit, captured at `pts_us` (µs from the session's clock origin).
    pub fn next_frame_at(&mut self, pts_us: u64) -> (FrameInfo, Vec<u8>) {
        let index = self.next_index;
        self.next_index = self.next_index.wrapping_add(1);
        let keyframe = index.is_multiple_of(self.keyframe_interval) || self.keyframe_requested;
        self.keyframe_requested = false;
        let len = if keyframe {
            self.bytes_per_frame * KEYFRAME_SCALE
        } else {
            self.jitter ^= self.jitter << 13;
            self.jitter ^= self.jitter >> 7;
            self.jitter ^= self.jitter << 17;
            let percent = 80 + (self.jitter % 41) as usize;
            (self.bytes_per_frame * percent / 100).max(1)
        };
        let info = FrameInfo {
            frame_index: index,
            pts_us,
            epoch: 0,
            keyframe,
        };
        (info, synthetic::frame(index, len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_follow_the_bitrate_and_keyframe_interval() {
        let mut src = SyntheticSource::new(60, 12_000, 30);
        let frames: Vec<_> = (0..60).map(|_| src.next_frame()).collect();
        let avg = 12_000_000 / 8 / 60;
        assert!(frames[0].0.keyframe && frames[30].0.keyframe && !frames[1].0.keyframe);
        assert_eq!(frames[0].1.len(), avg * KEYFRAME_SCALE);
        for (info, data) in &frames[1..30] {
            assert!(data.len() >= avg * 8 / 10 && data.len() <= avg * 12 / 10);
            assert!(synthetic::verify(info.frame_index, data));
        }
        assert_eq!(frames[59].0.pts_us, 59 * 1_000_000 / 60);
        src.request_keyframe();
        assert!(src.next_frame().0.keyframe);
        assert!(!src.next_frame().0.keyframe);
    }
}
