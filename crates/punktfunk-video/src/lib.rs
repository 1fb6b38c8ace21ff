//! # punktfunk-video
//!
//! Video through FFmpeg's libavcodec: a low-latency [`encoder::VideoEncoder`] (libx264,
//! libx265, SVT-AV1: no B-frames, one opening keyframe then P-frames, keyframes on request,
//! encode driven by frame arrival) and a [`decoder::VideoDecoder`], plus
//! [`picture::TestPicture`], the virtual source's frames.

pub mod audio;
pub mod convert;
pub mod decoder;

/// A decoded picture: FFmpeg's video frame (planes, strides, size).
pub type Picture = ffmpeg_next::frame::Video;
pub mod encoder;
pub mod picture;

#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    #[error("FFmpeg has no {0} (install the libavcodec with it, or choose another codec)")]
    MissingCodec(&'static str),
    #[error("FFmpeg: {0}")]
    Ffmpeg(#[from] ffmpeg_next::Error),
    #[error("mode {0}x{1} is not even in both dimensions, as 4:2:0 video needs")]
    OddMode(u32, u32),
}

/// Initialises FFmpeg once and keeps its logging quiet (errors only).
pub fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SVT-AV1 prints its banner unless told to log errors only.
        if std::env::var_os("SVT_LOG").is_none() {
            std::env::set_var("SVT_LOG", "1");
        }
        ffmpeg_next::init().expect("libavcodec initialises");
        ffmpeg_next::util::log::set_level(ffmpeg_next::util::log::Level::Error);
    });
}
