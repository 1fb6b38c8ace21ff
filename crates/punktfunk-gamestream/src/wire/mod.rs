//! Every GameStream wire number, in one place: ports here, each plane's numbers in its own file.

pub mod audio;
pub mod control;
pub mod input;
pub mod pairing;
pub mod rtsp;
pub mod video;

/// The HTTP port Moonlight is told about; every other port is an offset from it.
pub const DEFAULT_BASE_PORT: u16 = 47989;
/// nvhttp over TLS with client certificates: base − 5.
pub const HTTPS_OFFSET: i32 = -5;
/// RTSP handshake (TCP): base + 21.
pub const RTSP_OFFSET: i32 = 21;
/// Video (UDP): base + 9.
pub const VIDEO_OFFSET: i32 = 9;
/// Control stream (ENet over UDP): base + 10.
pub const CONTROL_OFFSET: i32 = 10;
/// Audio (UDP): base + 11.
pub const AUDIO_OFFSET: i32 = 11;

/// The mDNS service Moonlight browses for hosts (at the HTTP port).
pub const MDNS_SERVICE: &str = "_nvstream._tcp.local.";

/// The ports of a host whose HTTP port is `base`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub http: u16,
    pub https: u16,
    pub rtsp: u16,
    pub video: u16,
    pub control: u16,
    pub audio: u16,
}

impl Ports {
    /// `None` when an offset would leave the port range.
    pub fn from_base(base: u16) -> Option<Self> {
        let at = |offset: i32| {
            u16::try_from(i32::from(base) + offset)
                .ok()
                .filter(|p| *p != 0)
        };
        Some(Self {
            http: base,
            https: at(HTTPS_OFFSET)?,
            rtsp: at(RTSP_OFFSET)?,
            video: at(VIDEO_OFFSET)?,
            control: at(CONTROL_OFFSET)?,
            audio: at(AUDIO_OFFSET)?,
        })
    }
}

/// Encryption flags of the RTSP `encryptionSupported/Requested/Enabled` attributes.
pub mod encryption {
    /// Control stream V2 (AES-GCM with per-direction IVs).
    pub const CONTROL_V2: u32 = 0x01;
    /// Per-packet AES-GCM on video.
    pub const VIDEO: u32 = 0x02;
    /// AES-CBC on audio.
    pub const AUDIO: u32 = 0x04;
}

/// `ServerCodecModeSupport` bits of `/serverinfo`.
pub mod codec_mode {
    pub const H264: u32 = 0x1;
    pub const HEVC: u32 = 0x100;
    pub const HEVC_MAIN10: u32 = 0x200;
    pub const AV1_MAIN8: u32 = 0x10000;
    pub const AV1_MAIN10: u32 = 0x20000;
    pub const H264_444: u32 = 0x40000;
    pub const HEVC_REXT8_444: u32 = 0x80000;
    pub const HEVC_REXT10_444: u32 = 0x100000;
    pub const AV1_HIGH8_444: u32 = 0x200000;
    pub const AV1_HIGH10_444: u32 = 0x400000;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ports_follow_moonlight() {
        let p = Ports::from_base(DEFAULT_BASE_PORT).unwrap();
        assert_eq!(
            (p.http, p.https, p.rtsp, p.video, p.control, p.audio),
            (47989, 47984, 48010, 47998, 47999, 48000)
        );
        assert!(Ports::from_base(3).is_none());
        assert!(Ports::from_base(65530).is_none());
    }
}
