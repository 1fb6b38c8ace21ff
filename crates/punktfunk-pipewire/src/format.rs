use pipewire::spa::param::video::VideoFormat;

/// The 32-bit RGB layouts we negotiate. Names follow DRM fourcc (like the
/// sibling capture crate), so the byte order in memory is reversed:
/// `Xrgb8888` is B, G, R, X in memory, which SPA calls `BGRx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    /// SPA `BGRx`.
    Xrgb8888,
    /// SPA `BGRA`.
    Argb8888,
    /// SPA `RGBx`.
    Xbgr8888,
    /// SPA `RGBA`.
    Abgr8888,
}

impl PixelFormat {
    /// Every format we offer, preferred first: compositors render BGRx natively.
    pub(crate) const OFFERED: [Self; 4] = [
        Self::Xrgb8888,
        Self::Argb8888,
        Self::Xbgr8888,
        Self::Abgr8888,
    ];

    pub(crate) fn from_spa(format: VideoFormat) -> Option<Self> {
        match format {
            VideoFormat::BGRx => Some(Self::Xrgb8888),
            VideoFormat::BGRA => Some(Self::Argb8888),
            VideoFormat::RGBx => Some(Self::Xbgr8888),
            VideoFormat::RGBA => Some(Self::Abgr8888),
            _ => None,
        }
    }

    pub(crate) fn to_spa(self) -> VideoFormat {
        match self {
            Self::Xrgb8888 => VideoFormat::BGRx,
            Self::Argb8888 => VideoFormat::BGRA,
            Self::Xbgr8888 => VideoFormat::RGBx,
            Self::Abgr8888 => VideoFormat::RGBA,
        }
    }

    /// Bytes per pixel (all supported formats are 32-bit).
    pub fn bytes_per_pixel(self) -> u32 {
        4
    }

    /// `[r, g, b]` of one pixel's four bytes as they lie in memory.
    pub fn rgb(self, px: [u8; 4]) -> [u8; 3] {
        match self {
            Self::Xrgb8888 | Self::Argb8888 => [px[2], px[1], px[0]],
            Self::Xbgr8888 | Self::Abgr8888 => [px[0], px[1], px[2]],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spa_round_trip() {
        for f in PixelFormat::OFFERED {
            assert_eq!(PixelFormat::from_spa(f.to_spa()), Some(f));
        }
        assert_eq!(PixelFormat::from_spa(VideoFormat::I420), None);
    }

    #[test]
    fn spa_names_are_memory_order() {
        // SPA names list bytes in memory order; DRM names a little-endian word.
        assert_eq!(PixelFormat::Xrgb8888.to_spa(), VideoFormat::BGRx);
        let bgrx = [0x10, 0x20, 0x30, 0xff];
        assert_eq!(PixelFormat::Xrgb8888.rgb(bgrx), [0x30, 0x20, 0x10]);
        assert_eq!(PixelFormat::Abgr8888.rgb(bgrx), [0x10, 0x20, 0x30]);
    }
}
