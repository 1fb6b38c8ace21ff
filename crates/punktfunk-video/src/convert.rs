//! Captured RGB pixels → the encoder's YUV 4:2:0, through FFmpeg's swscale on the CPU.

use ffmpeg_next::format::Pixel;
use ffmpeg_next::frame;
use ffmpeg_next::software::scaling::{Context, Flags};

use crate::VideoError;

/// Packed 32-bit RGB layouts as compositors hand them out (named by their byte order in memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RgbLayout {
    /// B, G, R, unused (wl_shm XRGB8888 on little-endian).
    Bgrx,
    /// B, G, R, A (ARGB8888).
    Bgra,
    /// R, G, B, unused (XBGR8888).
    Rgbx,
    /// R, G, B, A (ABGR8888).
    Rgba,
}

impl RgbLayout {
    fn pixel(self) -> Pixel {
        match self {
            RgbLayout::Bgrx => Pixel::BGRZ,
            RgbLayout::Bgra => Pixel::BGRA,
            RgbLayout::Rgbx => Pixel::RGBZ,
            RgbLayout::Rgba => Pixel::RGBA,
        }
    }
}

/// Converts (and scales, when sizes differ) packed RGB into a reusable YUV 4:2:0 picture.
pub struct RgbToYuv {
    scaler: Option<(Context, (u32, u32, RgbLayout))>,
    input: Option<frame::Video>,
    output: frame::Video,
}

// SAFETY: a swscale context has no thread affinity; `RgbToYuv` owns its context alone and only
// uses it through `&mut self`, so moving it to another thread (a session's media thread) is sound.
unsafe impl Send for RgbToYuv {}

impl RgbToYuv {
    /// A converter whose pictures are `width`×`height` (even, as 4:2:0 needs).
    pub fn new(width: u32, height: u32) -> Result<Self, VideoError> {
        if !width.is_multiple_of(2) || !height.is_multiple_of(2) {
            return Err(VideoError::OddMode(width, height));
        }
        crate::init();
        let mut output = frame::Video::new(Pixel::YUV420P, width, height);
        // Black until the first capture arrives (zeroed YUV would be green).
        output.data_mut(0).fill(16);
        output.data_mut(1).fill(128);
        output.data_mut(2).fill(128);
        Ok(Self {
            scaler: None,
            input: None,
            output,
        })
    }

    /// The last converted picture (for repeating it while nothing changes).
    pub fn picture(&self) -> &frame::Video {
        &self.output
    }

    /// Converts one packed RGB image of `width`×`height` with `stride` bytes per row.
    pub fn convert(
        &mut self,
        data: &[u8],
        stride: usize,
        width: u32,
        height: u32,
        layout: RgbLayout,
    ) -> Result<&frame::Video, VideoError> {
        let row = width as usize * 4;
        if stride < row || data.len() < stride * (height as usize - 1) + row {
            return Err(VideoError::Ffmpeg(ffmpeg_next::Error::InvalidData));
        }
        let key = (width, height, layout);
        if self.scaler.as_ref().map(|(_, k)| *k) != Some(key) {
            let scaler = Context::get(
                layout.pixel(),
                width,
                height,
                Pixel::YUV420P,
                self.output.width(),
                self.output.height(),
                Flags::FAST_BILINEAR,
            )?;
            self.scaler = Some((scaler, key));
            self.input = Some(frame::Video::new(layout.pixel(), width, height));
        }
        let input = self.input.as_mut().expect("made with the scaler");
        // One copy into FFmpeg's frame: its rows are aligned the way swscale wants.
        let to_stride = input.stride(0);
        let plane = input.data_mut(0);
        for y in 0..height as usize {
            plane[y * to_stride..y * to_stride + row]
                .copy_from_slice(&data[y * stride..y * stride + row]);
        }
        let (scaler, _) = self.scaler.as_mut().expect("made above");
        scaler.run(input, &mut self.output)?;
        Ok(&self.output)
    }
}

/// A decoded picture as a binary PPM (P6, RGB), for tests and people to look at.
pub fn to_ppm(picture: &frame::Video) -> Result<Vec<u8>, VideoError> {
    let (w, h) = (picture.width(), picture.height());
    let mut rgb = frame::Video::new(Pixel::RGB24, w, h);
    Context::get(picture.format(), w, h, Pixel::RGB24, w, h, Flags::POINT)?
        .run(picture, &mut rgb)?;
    let mut out = format!("P6\n{w} {h}\n255\n").into_bytes();
    let stride = rgb.stride(0);
    for y in 0..h as usize {
        out.extend_from_slice(&rgb.data(0)[y * stride..y * stride + w as usize * 3]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_solid_colour_converts_to_its_bt601_values() {
        // Magenta (255, 0, 255) as B,G,R,X with a padded stride.
        let (w, h, stride) = (64u32, 32u32, 64 * 4 + 16);
        let mut data = vec![0u8; stride * h as usize];
        for y in 0..h as usize {
            for x in 0..w as usize {
                data[y * stride + x * 4..][..4].copy_from_slice(&[255, 0, 255, 0]);
            }
        }
        let mut c = RgbToYuv::new(w, h).unwrap();
        let pic = c.convert(&data, stride, w, h, RgbLayout::Bgrx).unwrap();
        let (y, u, v) = (pic.data(0)[100], pic.data(1)[40], pic.data(2)[40]);
        // Limited-range BT.601: Y ≈ 107, U ≈ 202, V ≈ 222.
        assert!((y as i32 - 107).abs() <= 3, "Y {y}");
        assert!((u as i32 - 202).abs() <= 3, "U {u}");
        assert!((v as i32 - 222).abs() <= 3, "V {v}");
        // A different size scales.
        let mut small = RgbToYuv::new(32, 16).unwrap();
        assert_eq!(
            small
                .convert(&data, stride, w, h, RgbLayout::Bgrx)
                .unwrap()
                .width(),
            32
        );
        assert!(
            c.convert(&data[..100], stride, w, h, RgbLayout::Bgrx)
                .is_err(),
            "short input"
        );
    }
}
