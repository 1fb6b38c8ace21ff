//! The virtual source's frames: YUV 4:2:0 pictures with the test pattern and its block code.

use ffmpeg_next::format::Pixel;
use ffmpeg_next::frame;
use punktfunk_core::testpicture::{self, Stamp};

use crate::VideoError;

/// A reusable 4:2:0 frame the test pattern is drawn into.
pub struct TestPicture {
    frame: frame::Video,
}

impl TestPicture {
    pub fn new(width: u32, height: u32) -> Result<Self, VideoError> {
        if !width.is_multiple_of(2) || !height.is_multiple_of(2) {
            return Err(VideoError::OddMode(width, height));
        }
        crate::init();
        let mut frame = frame::Video::new(Pixel::YUV420P, width, height);
        // Neutral chroma: the code and pattern live in luma.
        frame.data_mut(1).fill(128);
        frame.data_mut(2).fill(128);
        Ok(Self { frame })
    }

    /// Draws frame `stamp.frame` and returns it, ready for the encoder.
    pub fn draw(&mut self, stamp: Stamp) -> &frame::Video {
        let (w, h) = (self.frame.width() as usize, self.frame.height() as usize);
        let stride = self.frame.stride(0);
        testpicture::draw(self.frame.data_mut(0), stride, w, h, stamp);
        &self.frame
    }
}

/// Reads the stamp from a decoded frame's luma plane.
pub fn read_stamp(frame: &frame::Video) -> Option<Stamp> {
    testpicture::read(
        frame.data(0),
        frame.stride(0),
        frame.width() as usize,
        frame.height() as usize,
    )
}
