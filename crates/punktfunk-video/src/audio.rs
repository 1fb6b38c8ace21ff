//! Opus encoding through FFmpeg's `libopus` encoder, in the exact multistream layout a
//! GameStream client decodes with, and a test tone for the virtual audio source.
//!
//! FFmpeg's wrapper does not take a stream layout: it offers two fixed ones (option
//! `mapping_family`). `-1` builds the encoder with `opus_multistream_encoder_create` and FFmpeg's
//! own counts and mapping (2 ch: 1 stream/1 coupled, 6 ch: 4/2, 8 ch: 5/3, …); `255` gives one
//! mono stream per channel, coded channel = input channel. Neither adds surround masking or LFE
//! handling, as with Sunshine's `opus_multistream_encoder_create`. When the wanted layout has the
//! same stream and coupled counts as one of them, only the mapping differs, and a mapping is a
//! permutation of the input channels: this encoder feeds FFmpeg's input channel `j` with the
//! caller's channel whose wanted coded channel is FFmpeg's coded channel for `j`. The packets
//! are then what `opus_multistream_encoder_create(…, streams, coupled, mapping, …)` makes, which
//! covers all six of Sunshine's layouts. Other layouts are refused.

use ffmpeg_next::format::{sample, Sample};
use ffmpeg_next::{codec, encoder, frame, ChannelLayout, Dictionary, Packet, Rational};

use crate::VideoError;

/// Coupled streams FFmpeg's default (`mapping_family` −1) layout has per channel count − 1.
const FFMPEG_COUPLED_STREAMS: [u8; 8] = [0, 1, 1, 2, 2, 2, 2, 3];
/// FFmpeg's default layout: coded channel of each input channel, per channel count − 1
/// (`libavcodec_libopus_channel_map` in libavcodec/libopusenc.c). The tests decode with the
/// intended layout and check every channel, so a different FFmpeg table would fail them.
const FFMPEG_DEFAULT_MAPPING: [[u8; 8]; 8] = [
    [0, 0, 0, 0, 0, 0, 0, 0],
    [0, 1, 0, 0, 0, 0, 0, 0],
    [0, 1, 2, 0, 0, 0, 0, 0],
    [0, 1, 2, 3, 0, 0, 0, 0],
    [0, 1, 3, 4, 2, 0, 0, 0],
    [0, 1, 4, 5, 2, 3, 0, 0],
    [0, 1, 5, 6, 2, 4, 3, 0],
    [0, 1, 6, 7, 4, 5, 2, 3],
];
/// The channel layouts FFmpeg's wrapper accepts with its default mapping (the Vorbis ones);
/// the speakers they name do not matter here, only the count.
const FFMPEG_LAYOUTS: [ChannelLayout; 8] = [
    ChannelLayout::MONO,
    ChannelLayout::STEREO,
    ChannelLayout::SURROUND,
    ChannelLayout::QUAD,
    ChannelLayout::_5POINT0_BACK,
    ChannelLayout::_5POINT1_BACK,
    ChannelLayout::_6POINT1,
    ChannelLayout::_7POINT1,
];
/// `mapping_family` value for FFmpeg's default layout and for one mono stream per channel.
const FAMILY_DEFAULT: &str = "-1";
const FAMILY_MONO_STREAMS: &str = "255";

fn invalid_argument() -> VideoError {
    VideoError::Ffmpeg(ffmpeg_next::Error::Other {
        errno: ffmpeg_next::error::EINVAL,
    })
}

/// One of FFmpeg's layouts with the given stream counts: its `mapping_family` option value and
/// the coded channel of each FFmpeg input channel.
fn ffmpeg_layout(channels: u8, streams: u8, coupled: u8) -> Option<(&'static str, [u8; 8])> {
    let n = usize::from(channels);
    if !(1..=8).contains(&n) {
        return None;
    }
    if coupled == 0 && streams == channels {
        return Some((FAMILY_MONO_STREAMS, [0, 1, 2, 3, 4, 5, 6, 7]));
    }
    let default_coupled = FFMPEG_COUPLED_STREAMS[n - 1];
    (coupled == default_coupled && streams == channels - default_coupled)
        .then_some((FAMILY_DEFAULT, FFMPEG_DEFAULT_MAPPING[n - 1]))
}

/// For each FFmpeg input channel, the caller's channel to put there so that caller channel `i`
/// lands in coded channel `mapping[i]`. None unless `mapping` is a permutation of the coded
/// channels.
fn input_permutation(mapping: &[u8], ffmpeg_mapping: &[u8]) -> Option<Vec<usize>> {
    ffmpeg_mapping
        .iter()
        .map(|coded| mapping.iter().position(|m| m == coded))
        .collect::<Option<Vec<_>>>()
        .filter(|sources| {
            let mut seen = vec![false; sources.len()];
            sources
                .iter()
                .all(|&s| !std::mem::replace(&mut seen[s], true))
        })
}

/// A low-delay, hard-CBR Opus (multistream) encoder: every packet of a session has the same size
/// (what the audio FEC needs).
pub struct OpusEncoder {
    encoder: encoder::Audio,
    packet: Packet,
    layout: ChannelLayout,
    sample_rate: u32,
    samples_per_frame: usize,
    /// `source_channel[j]`: the caller's channel fed into FFmpeg's input channel `j`.
    source_channel: Vec<usize>,
    next_pts: i64,
}

impl OpusEncoder {
    /// `channels`, `streams`, `coupled_streams`, `mapping` as in `OpusLayout` of
    /// punktfunk-gamestream (`mapping.len() == channels`); `frame_ms` 5 or 10 for GameStream
    /// (any Opus frame length in whole ms: 5, 10, 20, 40, 60); `bitrate_bps` the total.
    pub fn new(
        channels: u8,
        streams: u8,
        coupled_streams: u8,
        mapping: &[u8],
        sample_rate: u32,
        frame_ms: u8,
        bitrate_bps: u32,
    ) -> Result<Self, VideoError> {
        crate::init();
        let (family, ffmpeg_mapping) =
            ffmpeg_layout(channels, streams, coupled_streams).ok_or_else(invalid_argument)?;
        let n = usize::from(channels);
        if mapping.len() != n {
            return Err(invalid_argument());
        }
        let source_channel =
            input_permutation(mapping, &ffmpeg_mapping[..n]).ok_or_else(invalid_argument)?;
        let samples_per_frame = sample_rate as usize * usize::from(frame_ms) / 1000;

        let codec = encoder::find_by_name("libopus").ok_or(VideoError::MissingCodec("libopus"))?;
        let mut enc = codec::Context::new_with_codec(codec).encoder().audio()?;
        let layout = FFMPEG_LAYOUTS[n - 1];
        enc.set_rate(sample_rate as i32);
        enc.set_format(Sample::F32(sample::Type::Packed));
        enc.set_channel_layout(layout);
        enc.set_time_base(Rational::new(1, sample_rate as i32));
        enc.set_bit_rate(bitrate_bps as usize);
        let mut options = Dictionary::new();
        // Restricted low delay: CELT only, no extra lookahead (Sunshine's choice).
        options.set("application", "lowdelay");
        options.set("frame_duration", &frame_ms.to_string());
        // Hard CBR: the FEC needs equal packet sizes.
        options.set("vbr", "off");
        options.set("mapping_family", family);
        let encoder = enc.open_as_with(codec, options)?;
        if encoder.frame_size() as usize != samples_per_frame {
            return Err(invalid_argument());
        }
        Ok(Self {
            encoder,
            packet: Packet::empty(),
            layout,
            sample_rate,
            samples_per_frame,
            source_channel,
            next_pts: 0,
        })
    }

    /// Samples per channel that [`OpusEncoder::encode`] takes (240 for 5 ms at 48 kHz).
    pub fn samples_per_frame(&self) -> usize {
        self.samples_per_frame
    }

    /// Encodes exactly one frame: `samples_per_frame() × channels` interleaved samples in the
    /// caller's channel order (GameStream: FL FR FC LFE BL BR SL SR), nominally in −1…1.
    pub fn encode(&mut self, interleaved: &[f32]) -> Result<Vec<u8>, VideoError> {
        let channels = self.source_channel.len();
        if interleaved.len() != self.samples_per_frame * channels {
            return Err(invalid_argument());
        }
        // A fresh frame each time: the encoder may still reference the previous one's buffer.
        let mut input = frame::Audio::new(
            Sample::F32(sample::Type::Packed),
            self.samples_per_frame,
            self.layout,
        );
        input.set_rate(self.sample_rate);
        input.set_pts(Some(self.next_pts));
        self.next_pts += self.samples_per_frame as i64;
        let samples = input.plane_mut::<f32>(0);
        for (i, out) in samples.iter_mut().enumerate().take(interleaved.len()) {
            let (sample, channel) = (i / channels, i % channels);
            *out = interleaved[sample * channels + self.source_channel[channel]];
        }
        self.encoder.send_frame(&input)?;
        self.encoder.receive_packet(&mut self.packet)?;
        Ok(self.packet.data().unwrap_or_default().to_vec())
    }
}

/// A sine tone on every channel, phase continuous across calls (the virtual audio source).
#[derive(Debug, Clone)]
pub struct Tone {
    /// Phase advance per sample, in cycles.
    step: f64,
    /// Current phase, in cycles (0…1).
    phase: f64,
    channels: usize,
}

/// Peak amplitude of [`Tone`]: loud enough to hear, far from clipping.
const TONE_AMPLITUDE: f64 = 0.5;

impl Tone {
    pub fn new(frequency_hz: f32, sample_rate: u32, channels: u8) -> Self {
        Self {
            step: f64::from(frequency_hz) / f64::from(sample_rate.max(1)),
            phase: 0.0,
            channels: usize::from(channels),
        }
    }

    /// The next `samples_per_channel` samples, interleaved (the same value on every channel).
    pub fn next(&mut self, samples_per_channel: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(samples_per_channel * self.channels);
        for _ in 0..samples_per_channel {
            let value = (TONE_AMPLITUDE * (std::f64::consts::TAU * self.phase).sin()) as f32;
            out.extend(std::iter::repeat_n(value, self.channels));
            self.phase = (self.phase + self.step).fract();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ffmpeg_next::{decoder, ffi};

    const RATE: u32 = 48_000;

    /// Sunshine's six layouts: (channels, streams, coupled, bit rate); mapping is the identity.
    const LAYOUTS: [(u8, u8, u8, u32); 5] = [
        (2, 1, 1, 96_000),
        (6, 4, 2, 256_000),
        (6, 6, 0, 1_536_000),
        (8, 5, 3, 450_000),
        (8, 8, 0, 2_048_000),
    ];
    const IDENTITY: [u8; 8] = [0, 1, 2, 3, 4, 5, 6, 7];

    /// FFmpeg's own Opus decoder set up the way the client calls
    /// `opus_multistream_decoder_create(48000, channels, streams, coupled, mapping)`: an OpusHead
    /// with mapping family 255, which FFmpeg takes as is (family 1 would reorder channels).
    fn client_decoder(channels: u8, streams: u8, coupled: u8, mapping: &[u8]) -> decoder::Audio {
        let mut head = b"OpusHead".to_vec();
        head.push(1);
        head.push(channels);
        head.extend_from_slice(&0u16.to_le_bytes()); // pre-skip
        head.extend_from_slice(&RATE.to_le_bytes());
        head.extend_from_slice(&0i16.to_le_bytes()); // gain
        head.extend_from_slice(&[255, streams, coupled]);
        head.extend_from_slice(mapping);
        let codec = decoder::find_by_name("opus").expect("FFmpeg's opus decoder");
        let mut ctx = codec::Context::new_with_codec(codec);
        // SAFETY: the context owns extradata from av_mallocz (padded as FFmpeg requires) and
        // frees it with itself.
        unsafe {
            let padded = head.len() + ffi::AV_INPUT_BUFFER_PADDING_SIZE as usize;
            let buf = ffi::av_mallocz(padded) as *mut u8;
            assert!(!buf.is_null());
            std::ptr::copy_nonoverlapping(head.as_ptr(), buf, head.len());
            let raw = ctx.as_mut_ptr();
            (*raw).extradata = buf;
            (*raw).extradata_size = head.len() as i32;
            (*raw).sample_rate = RATE as i32;
        }
        ctx.decoder().audio().expect("decoder opens")
    }

    /// Decodes every packet; returns the samples of each output channel.
    fn decode_all(dec: &mut decoder::Audio, packets: &[Vec<u8>], channels: usize) -> Vec<Vec<f32>> {
        let mut out = vec![Vec::new(); channels];
        let mut frame = frame::Audio::empty();
        for p in packets {
            dec.send_packet(&Packet::copy(p)).unwrap();
            while dec.receive_frame(&mut frame).is_ok() {
                assert_eq!(usize::from(frame.channels()), channels);
                assert_eq!(frame.format(), Sample::F32(sample::Type::Planar));
                for (c, samples) in out.iter_mut().enumerate() {
                    samples.extend_from_slice(frame.plane::<f32>(c));
                }
            }
        }
        out
    }

    /// Goertzel power of `x` at `hz`.
    fn power(x: &[f32], hz: f64) -> f64 {
        let coeff = 2.0 * (std::f64::consts::TAU * hz / f64::from(RATE)).cos();
        let (mut s1, mut s2) = (0.0f64, 0.0f64);
        for &v in x {
            let s = f64::from(v) + coeff * s1 - s2;
            s2 = s1;
            s1 = s;
        }
        s1 * s1 + s2 * s2 - coeff * s1 * s2
    }

    /// The strongest frequency from 100 Hz to 8 kHz in 10 Hz steps.
    fn peak_hz(x: &[f32]) -> f64 {
        (10..=800)
            .map(|k| f64::from(k) * 10.0)
            .max_by(|a, b| power(x, *a).total_cmp(&power(x, *b)))
            .unwrap()
    }

    /// Encodes 1 s of `signal` (interleaved, in frames) and checks the packets are hard CBR.
    fn encode_second(
        enc: &mut OpusEncoder,
        mut signal: impl FnMut(usize) -> Vec<f32>,
    ) -> Vec<Vec<u8>> {
        let frames = RATE as usize / enc.samples_per_frame();
        let packets: Vec<Vec<u8>> = (0..frames)
            .map(|_| enc.encode(&signal(enc.samples_per_frame())).unwrap())
            .collect();
        let size = packets[0].len();
        assert!(size > 0);
        assert!(
            packets.iter().all(|p| p.len() == size),
            "not CBR: {:?}",
            packets.iter().map(Vec::len).collect::<Vec<_>>()
        );
        packets
    }

    #[test]
    fn stereo_tone_survives_encode_and_decode() {
        let mut enc = OpusEncoder::new(2, 1, 1, &[0, 1], RATE, 5, 96_000).unwrap();
        assert_eq!(enc.samples_per_frame(), 240);
        let mut tone = Tone::new(1000.0, RATE, 2);
        let packets = encode_second(&mut enc, |n| tone.next(n));
        // 96 kbit/s for 5 ms.
        assert_eq!(packets[0].len(), 60);
        let mut dec = client_decoder(2, 1, 1, &[0, 1]);
        let decoded = decode_all(&mut dec, &packets, 2);
        for channel in &decoded {
            assert!(channel.len() >= 47_000, "{}", channel.len());
            let peak = peak_hz(&channel[2400..]);
            assert!((peak - 1000.0).abs() <= 20.0, "peak at {peak} Hz");
        }
    }

    /// Every Sunshine layout, each speaker with its own tone: the client's decoder (configured
    /// with the same layout) must put each tone back on its speaker.
    #[test]
    fn every_sunshine_layout_keeps_each_channel_on_its_speaker() {
        const TONES: [f32; 8] = [1000.0, 1500.0, 700.0, 300.0, 2200.0, 2700.0, 3300.0, 3900.0];
        for (channels, streams, coupled, bitrate) in LAYOUTS {
            let n = usize::from(channels);
            let mapping = &IDENTITY[..n];
            let mut enc =
                OpusEncoder::new(channels, streams, coupled, mapping, RATE, 5, bitrate).unwrap();
            let mut tones: Vec<Tone> = TONES[..n].iter().map(|&f| Tone::new(f, RATE, 1)).collect();
            let packets = encode_second(&mut enc, |spf| {
                let per: Vec<Vec<f32>> = tones.iter_mut().map(|t| t.next(spf)).collect();
                (0..spf * n).map(|i| per[i % n][i / n]).collect()
            });
            let expected = bitrate as usize * 5 / 8000;
            assert!(
                packets[0].len().abs_diff(expected) <= 1,
                "{channels}/{streams}/{coupled}: {} bytes",
                packets[0].len()
            );
            let mut dec = client_decoder(channels, streams, coupled, mapping);
            let decoded = decode_all(&mut dec, &packets, n);
            for (c, samples) in decoded.iter().enumerate() {
                let x = &samples[2400..];
                let want = f64::from(TONES[c]);
                let peak = peak_hz(x);
                assert!(
                    (peak - want).abs() <= 20.0,
                    "{channels}/{streams}/{coupled} ch {c}: peak {peak} Hz, want {want}"
                );
                // No other speaker's tone leaks in strongly.
                for (other, &f) in TONES[..n].iter().enumerate().filter(|(o, _)| *o != c) {
                    let ratio = power(x, want) / power(x, f64::from(f)).max(1e-12);
                    assert!(
                        ratio > 100.0,
                        "{channels}/{streams}/{coupled}: ch {other}'s tone in ch {c}: {ratio}"
                    );
                }
            }
        }
    }

    #[test]
    fn any_mapping_with_ffmpeg_stream_counts_is_honoured() {
        // 5.1 normal counts with a scrambled mapping (a client-supplied surroundParams).
        let mapping = [3u8, 0, 5, 1, 4, 2];
        let mut enc = OpusEncoder::new(6, 4, 2, &mapping, RATE, 10, 256_000).unwrap();
        assert_eq!(enc.samples_per_frame(), 480);
        let freqs = [400.0f32, 900.0, 1400.0, 1900.0, 2400.0, 2900.0];
        let mut tones: Vec<Tone> = freqs.iter().map(|&f| Tone::new(f, RATE, 1)).collect();
        let packets = encode_second(&mut enc, |spf| {
            let per: Vec<Vec<f32>> = tones.iter_mut().map(|t| t.next(spf)).collect();
            (0..spf * 6).map(|i| per[i % 6][i / 6]).collect()
        });
        let mut dec = client_decoder(6, 4, 2, &mapping);
        for (c, samples) in decode_all(&mut dec, &packets, 6).iter().enumerate() {
            let peak = peak_hz(&samples[4800..]);
            assert!((peak - f64::from(freqs[c])).abs() <= 20.0, "ch {c}: {peak}");
        }
    }

    #[test]
    fn unsupported_layouts_and_sizes_are_refused() {
        // Stream counts FFmpeg's wrapper cannot make.
        assert!(OpusEncoder::new(6, 3, 3, &IDENTITY[..6], RATE, 5, 256_000).is_err());
        // Not a permutation, wrong length, too many channels.
        assert!(OpusEncoder::new(6, 4, 2, &[0, 0, 1, 2, 3, 4], RATE, 5, 256_000).is_err());
        assert!(OpusEncoder::new(6, 4, 2, &IDENTITY[..5], RATE, 5, 256_000).is_err());
        assert!(OpusEncoder::new(9, 9, 0, &[0; 9], RATE, 5, 256_000).is_err());
        // A frame length Opus does not have.
        assert!(OpusEncoder::new(2, 1, 1, &[0, 1], RATE, 7, 96_000).is_err());
        let mut enc = OpusEncoder::new(2, 1, 1, &[0, 1], RATE, 5, 96_000).unwrap();
        assert!(enc.encode(&[0.0; 479]).is_err());
        assert!(enc.encode(&[0.0; 480]).is_ok());
        // Silence is still a full CBR packet.
        assert_eq!(enc.encode(&[0.0; 480]).unwrap().len(), 60);
    }

    #[test]
    fn tone_is_phase_continuous() {
        let mut whole = Tone::new(440.0, RATE, 2);
        let mut parts = Tone::new(440.0, RATE, 2);
        let a = whole.next(1000);
        let mut b = parts.next(333);
        b.extend(parts.next(667));
        assert_eq!(a.len(), 2000);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-6);
        }
        assert!(a.chunks(2).all(|s| s[0] == s[1]));
        let max = a.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!((0.49..=0.5).contains(&max), "{max}");
    }
}
