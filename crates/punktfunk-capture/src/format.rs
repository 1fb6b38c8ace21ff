use wayland_client::protocol::wl_shm;

/// The wl_shm pixel formats we accept. Names follow DRM fourcc, so the byte
/// order in memory is reversed (little-endian): `Xrgb8888` is B, G, R, X.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    Xrgb8888,
    Argb8888,
    Xbgr8888,
    Abgr8888,
}

impl PixelFormat {
    pub(crate) fn from_wl(format: wl_shm::Format) -> Option<Self> {
        match format {
            wl_shm::Format::Xrgb8888 => Some(Self::Xrgb8888),
            wl_shm::Format::Argb8888 => Some(Self::Argb8888),
            wl_shm::Format::Xbgr8888 => Some(Self::Xbgr8888),
            wl_shm::Format::Abgr8888 => Some(Self::Abgr8888),
            _ => None,
        }
    }

    pub(crate) fn to_wl(self) -> wl_shm::Format {
        match self {
            Self::Xrgb8888 => wl_shm::Format::Xrgb8888,
            Self::Argb8888 => wl_shm::Format::Argb8888,
            Self::Xbgr8888 => wl_shm::Format::Xbgr8888,
            Self::Abgr8888 => wl_shm::Format::Abgr8888,
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
    fn byte_order_is_little_endian_fourcc() {
        let bgrx = [0x10, 0x20, 0x30, 0xff];
        assert_eq!(PixelFormat::Xrgb8888.rgb(bgrx), [0x30, 0x20, 0x10]);
        assert_eq!(PixelFormat::Abgr8888.rgb(bgrx), [0x10, 0x20, 0x30]);
    }

    #[test]
    fn wl_round_trip() {
        for f in [
            PixelFormat::Xrgb8888,
            PixelFormat::Argb8888,
            PixelFormat::Xbgr8888,
            PixelFormat::Abgr8888,
        ] {
            assert_eq!(PixelFormat::from_wl(f.to_wl()), Some(f));
        }
        assert_eq!(PixelFormat::from_wl(wl_shm::Format::Rgb565), None);
    }
}
