//! Decoding through libavcodec.

use ffmpeg_next::codec::{self, Context};
use ffmpeg_next::{decoder, frame, Packet};
use punktfunk_core::control::Codec;

use crate::VideoError;

pub struct VideoDecoder {
    decoder: decoder::Video,
    frame: frame::Video,
}

fn decoder_for(codec: Codec) -> Result<ffmpeg_next::Codec, VideoError> {
    let found = match codec {
        Codec::H264 => decoder::find(codec::Id::H264),
        Codec::Hevc => decoder::find(codec::Id::HEVC),
        // FFmpeg's own AV1 decoder needs hardware; dav1d decodes in software.
        Codec::Av1 => decoder::find_by_name("libdav1d").or_else(|| decoder::find(codec::Id::AV1)),
    };
    found.ok_or(VideoError::MissingCodec(codec.name()))
}

impl VideoDecoder {
    pub fn new(codec: Codec) -> Result<Self, VideoError> {
        crate::init();
        let found = decoder_for(codec)?;
        let mut ctx = Context::new_with_codec(found);
        // One thread for dav1d: its worker threads hold pictures back; slices for the others.
        ctx.set_threading(codec::threading::Config {
            kind: codec::threading::Type::Slice,
            count: if codec == Codec::Av1 { 1 } else { 2 },
            ..Default::default()
        });
        // dav1d holds pictures back for frame threading unless told not to.
        let mut options = ffmpeg_next::Dictionary::new();
        options.set("max_frame_delay", "1");
        let decoder = ctx.decoder().open_as_with(found, options)?.video()?;
        Ok(Self {
            decoder,
            frame: frame::Video::empty(),
        })
    }

    /// Decodes one access unit; calls `on_picture` for every picture it yields. An error means
    /// the bitstream is broken (lost references): the caller asks for a keyframe.
    pub fn decode(
        &mut self,
        access_unit: &[u8],
        mut on_picture: impl FnMut(&frame::Video),
    ) -> Result<(), VideoError> {
        let packet = Packet::copy(access_unit);
        self.decoder.send_packet(&packet)?;
        while self.decoder.receive_frame(&mut self.frame).is_ok() {
            on_picture(&self.frame);
        }
        Ok(())
    }
}
