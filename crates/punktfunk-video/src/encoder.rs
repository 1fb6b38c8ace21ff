//! Low-latency encoding through libavcodec.

use ffmpeg_next::codec::{self, Context};
use ffmpeg_next::format::Pixel;
use ffmpeg_next::{encoder, frame, picture, Dictionary, Packet, Rational};
use punktfunk_core::control::{Codec, Mode};

use crate::VideoError;

/// One encoded access unit.
#[derive(Debug)]
pub struct EncodedFrame {
    pub data: Vec<u8>,
    pub keyframe: bool,
}

/// Longest wait for an asynchronous encoder's output after a frame went in.
const ASYNC_OUTPUT_WAIT: std::time::Duration = std::time::Duration::from_millis(40);

pub struct VideoEncoder {
    encoder: encoder::Video,
    packet: Packet,
    next_pts: i64,
    codec: Codec,
    mode: Mode,
    bitrate_kbps: u32,
    /// The encoder must be reopened before the next picture (a rate change it can't take live).
    reopen: bool,
}

/// The FFmpeg encoder for a codec and its low-latency options.
fn encoder_settings(codec: Codec) -> (&'static str, Vec<(&'static str, &'static str)>) {
    match codec {
        Codec::H264 => (
            "libx264",
            vec![
                ("preset", "ultrafast"),
                ("tune", "zerolatency"),
                // Infinite GOP, no scene-cut keyframes, IDR when a frame is marked I.
                ("x264-params", "keyint=infinite:scenecut=0:forced-idr=1"),
            ],
        ),
        Codec::Hevc => (
            "libx265",
            vec![
                ("preset", "ultrafast"),
                ("tune", "zerolatency"),
                // A picture marked I becomes an IDR.
                ("forced-idr", "1"),
                (
                    "x265-params",
                    "keyint=-1:scenecut=0:repeat-headers=1:info=0:frame-threads=1:rc-lookahead=0:log-level=error",
                ),
            ],
        ),
        Codec::Av1 => (
            "libsvtav1",
            vec![
                ("preset", "12"),
                // Low-delay prediction structure: no frames held back for reordering.
                ("svtav1-params", "pred-struct=1:keyint=-1:lookahead=0"),
            ],
        ),
    }
}

/// Whether this FFmpeg has the encoder for `codec`.
pub fn available(codec: Codec) -> bool {
    crate::init();
    encoder::find_by_name(encoder_settings(codec).0).is_some()
}

impl VideoEncoder {
    pub fn new(codec: Codec, mode: Mode, bitrate_kbps: u32) -> Result<Self, VideoError> {
        Ok(Self {
            encoder: Self::open(codec, mode, bitrate_kbps)?,
            packet: Packet::empty(),
            next_pts: 0,
            codec,
            mode,
            bitrate_kbps,
            reopen: false,
        })
    }

    /// Changes the target rate: live for x264 (libavcodec re-configures it between pictures),
    /// by reopening (so with a keyframe) for the others.
    pub fn set_bitrate_kbps(&mut self, kbps: u32) {
        self.bitrate_kbps = kbps;
        match self.codec {
            Codec::H264 => self.encoder.set_bit_rate(kbps as usize * 1000),
            Codec::Hevc | Codec::Av1 => self.reopen = true,
        }
    }

    fn open(codec: Codec, mode: Mode, bitrate_kbps: u32) -> Result<encoder::Video, VideoError> {
        crate::init();
        if !mode.width.is_multiple_of(2) || !mode.height.is_multiple_of(2) {
            return Err(VideoError::OddMode(mode.width, mode.height));
        }
        let (name, options) = encoder_settings(codec);
        let found = encoder::find_by_name(name).ok_or(VideoError::MissingCodec(name))?;
        let mut enc = Context::new_with_codec(found).encoder().video()?;
        enc.set_width(mode.width);
        enc.set_height(mode.height);
        enc.set_format(Pixel::YUV420P);
        let rate = Rational::new(mode.refresh_millihz as i32, 1000);
        enc.set_frame_rate(Some(rate));
        enc.set_time_base(rate.invert());
        enc.set_bit_rate(bitrate_kbps as usize * 1000);
        enc.set_max_b_frames(0);
        enc.set_gop(u32::MAX >> 1);
        enc.set_threading(codec::threading::Config {
            kind: codec::threading::Type::Slice,
            count: 2,
            ..Default::default()
        });
        let mut dict = Dictionary::new();
        for (k, v) in options {
            dict.set(k, v);
        }
        Ok(enc.open_as_with(found, dict)?)
    }

    /// Moves every access unit the encoder has ready into `out`.
    fn drain(&mut self, out: &mut Vec<EncodedFrame>) {
        while self.encoder.receive_packet(&mut self.packet).is_ok() {
            if let Some(data) = self.packet.data() {
                out.push(EncodedFrame {
                    data: data.to_vec(),
                    keyframe: self.packet.is_key(),
                });
            }
        }
    }

    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Encodes one picture; `keyframe` forces an IDR. Returns the access units ready now (one,
    /// for these low-latency settings).
    pub fn encode(
        &mut self,
        picture: &frame::Video,
        keyframe: bool,
    ) -> Result<Vec<EncodedFrame>, VideoError> {
        // SVT-AV1 forces no keyframes in its low-delay mode: start a fresh encoder, whose first
        // picture is one.
        let mut out = Vec::new();
        if self.reopen || (keyframe && self.codec == Codec::Av1 && self.next_pts > 0) {
            self.reopen = false;
            // Drain what the old encoder still holds, so no picture is lost.
            self.encoder.send_eof()?;
            self.drain(&mut out);
            self.encoder = Self::open(self.codec, self.mode, self.bitrate_kbps)?;
            self.next_pts = 0;
        }
        let mut input = picture.clone();
        input.set_pts(Some(self.next_pts));
        self.next_pts += 1;
        input.set_kind(if keyframe || self.next_pts == 1 {
            picture::Type::I
        } else {
            picture::Type::None
        });
        self.encoder.send_frame(&input)?;
        let before = out.len();
        // SVT-AV1 encodes asynchronously: its access unit turns up a moment after the frame
        // went in. Wait for it (bounded) rather than hold it back a whole frame interval.
        let patient = self.codec == Codec::Av1;
        let deadline = std::time::Instant::now() + ASYNC_OUTPUT_WAIT;
        loop {
            self.drain(&mut out);
            if out.len() > before || !patient || std::time::Instant::now() >= deadline {
                return Ok(out);
            }
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    }
}
