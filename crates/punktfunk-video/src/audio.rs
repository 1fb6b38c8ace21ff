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
//!
//! [`OpusDecoder`] decodes such packets back (FFmpeg's `libopus` decoder, else its native one)
//! into the caller's channel order, concealing lost packets; [`peak_frequency`] finds the
//! dominant tone of a channel (what the audio tests check).

use ffmpeg_next::format::{sample, Sample};
use ffmpeg_next::{
    codec, decoder, encoder, ffi, frame, ChannelLayout, Dictionary, Packet, Rational,
};
use rustfft::num_complex::Complex32;

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

/// The punktfunk/1 multistream layout of a channel count: streams, coupled, identity mapping.
fn native_layout(channels: u8) -> Result<(u8, u8, Vec<u8>), VideoError> {
    let (streams, coupled) =
        punktfunk_core::wire::audio::layout(channels).ok_or_else(invalid_argument)?;
    Ok((streams, coupled, (0..channels).collect()))
}

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
    /// The punktfunk/1 layout for `channels` (`wire::audio::layout`, identity mapping, 48 kHz).
    pub fn native(channels: u8, frame_ms: u8, bitrate_bps: u32) -> Result<Self, VideoError> {
        let (streams, coupled, mapping) = native_layout(channels)?;
        Self::new(
            channels,
            streams,
            coupled,
            &mapping,
            punktfunk_core::wire::audio::SAMPLE_RATE,
            frame_ms,
            bitrate_bps,
        )
    }

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

/// Opus decodes to 48 kHz here: FFmpeg's Opus decoders always output that rate.
const DECODE_RATE: u32 = 48_000;
/// Shortest and longest frame libopus conceals in one call: 2.5 ms and 120 ms at 48 kHz.
const PLC_GRANULE: usize = 120;
const MAX_PLC_SAMPLES: usize = 5760;
/// CELT frame lengths (samples at 48 kHz) and their fullband CELT-only TOC configurations
/// (RFC 6716 §3.1: configs 28…31 are 2.5, 5, 10 and 20 ms).
const CELT_FRAMES: [(usize, u8); 4] = [(960, 31), (480, 30), (240, 29), (120, 28)];
/// FFmpeg's `ff_vorbis_channel_layout_offsets`: for each output channel of FFmpeg's layout, the
/// Vorbis-order (RFC 7845 family 1) channel it comes from, per channel count − 1. FFmpeg's
/// `libopus` decoder remaps an OpusHead's mapping table with it for 3–8 channels. The tests
/// decode every channel count and check each channel, so a different table would fail them.
const FFMPEG_FROM_VORBIS: [[u8; 8]; 8] = [
    [0, 0, 0, 0, 0, 0, 0, 0],
    [0, 1, 0, 0, 0, 0, 0, 0],
    [0, 2, 1, 0, 0, 0, 0, 0],
    [0, 1, 2, 3, 0, 0, 0, 0],
    [0, 2, 1, 3, 4, 0, 0, 0],
    [0, 2, 1, 5, 3, 4, 0, 0],
    [0, 2, 1, 6, 5, 3, 4, 0],
    [0, 2, 1, 7, 5, 6, 3, 4],
];
/// OpusHead channel mapping families (RFC 7845 §5.1.1).
const FAMILY_RTP: u8 = 0;
const FAMILY_VORBIS: u8 = 1;
const FAMILY_UNDEFINED: u8 = 255;

/// Which of FFmpeg's Opus decoders runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    /// `libopus`: libopus' multistream decoder, with its packet loss concealment.
    LibOpus,
    /// FFmpeg's own `opus`: no concealment (a lost packet decodes to silence).
    Native,
}

impl Backend {
    fn codec_name(self) -> &'static str {
        match self {
            Backend::LibOpus => "libopus",
            Backend::Native => "opus",
        }
    }
}

/// RFC 7845 §5.1 identification header for a 48 kHz stream without pre-skip or gain: family 0
/// (no table) or another family with stream count, coupled count and mapping table.
fn opus_head(channels: u8, family: u8, table: Option<(u8, u8, &[u8])>) -> Vec<u8> {
    let mut head = b"OpusHead".to_vec();
    head.push(1); // version
    head.push(channels);
    head.extend_from_slice(&0u16.to_le_bytes()); // pre-skip
    head.extend_from_slice(&DECODE_RATE.to_le_bytes());
    head.extend_from_slice(&0i16.to_le_bytes()); // output gain
    head.push(family);
    if let Some((streams, coupled, mapping)) = table {
        head.extend_from_slice(&[streams, coupled]);
        head.extend_from_slice(mapping);
    }
    head
}

/// The OpusHead that makes `backend` decode this layout with output channel `i` = caller
/// channel `i`.
fn head_for(backend: Backend, streams: u8, coupled: u8, mapping: &[u8]) -> Vec<u8> {
    let channels = mapping.len() as u8;
    let plain = channels <= 2 && streams == 1 && coupled == channels - 1;
    if plain
        && mapping
            .iter()
            .enumerate()
            .all(|(i, &m)| usize::from(m) == i)
    {
        return opus_head(channels, FAMILY_RTP, None);
    }
    match backend {
        // FFmpeg's native decoder takes a family-255 table as is.
        Backend::Native => opus_head(
            channels,
            FAMILY_UNDEFINED,
            Some((streams, coupled, mapping)),
        ),
        // FFmpeg's libopus wrapper reads the table as Vorbis order and hands libopus
        // `table[FFMPEG_FROM_VORBIS[ch]]` for output channel `ch` (3–8 channels): place each
        // caller channel's entry where that lookup finds it.
        Backend::LibOpus => {
            let mut table = mapping.to_vec();
            if channels > 2 {
                let from = &FFMPEG_FROM_VORBIS[usize::from(channels) - 1];
                for (ch, &m) in mapping.iter().enumerate() {
                    table[usize::from(from[ch])] = m;
                }
            }
            opus_head(channels, FAMILY_VORBIS, Some((streams, coupled, &table)))
        }
    }
}

/// Opens one of FFmpeg's Opus decoders with `head` as extradata, set to output f32.
fn open_decoder(backend: Backend, head: &[u8]) -> Result<decoder::Audio, VideoError> {
    let name = backend.codec_name();
    let codec = decoder::find_by_name(name).ok_or(VideoError::MissingCodec(name))?;
    let mut ctx = codec::Context::new_with_codec(codec);
    // SAFETY: the context is fresh and exclusively ours. Its extradata comes from av_mallocz,
    // padded as FFmpeg requires, and is freed with the context.
    unsafe {
        let padded = head.len() + ffi::AV_INPUT_BUFFER_PADDING_SIZE as usize;
        let buf = ffi::av_mallocz(padded) as *mut u8;
        if buf.is_null() {
            return Err(VideoError::Ffmpeg(ffmpeg_next::Error::Other {
                errno: ffmpeg_next::error::ENOMEM,
            }));
        }
        std::ptr::copy_nonoverlapping(head.as_ptr(), buf, head.len());
        let raw = ctx.as_mut_ptr();
        (*raw).extradata = buf;
        (*raw).extradata_size = head.len() as i32;
        (*raw).sample_rate = DECODE_RATE as i32;
        // The libopus wrapper decodes to f32 only when asked before it opens.
        (*raw).request_sample_fmt = ffi::AVSampleFormat::AV_SAMPLE_FMT_FLT;
    }
    Ok(ctx.decoder().open_as(codec)?.audio()?)
}

/// Whether `mapping` fits the stream counts: every entry a coded channel or 255 (silence).
fn valid_layout(channels: u8, streams: u8, coupled: u8, mapping: &[u8]) -> bool {
    let coded = u16::from(streams) + u16::from(coupled);
    (1..=8).contains(&channels)
        && mapping.len() == usize::from(channels)
        && streams >= 1
        && coupled <= streams
        && coded <= 255
        && mapping.iter().all(|&m| m == 255 || u16::from(m) < coded)
}

/// Appends a decoded frame to `out` as interleaved f32; returns the samples per channel.
fn append_interleaved(
    frame: &frame::Audio,
    channels: usize,
    out: &mut Vec<f32>,
) -> Result<usize, VideoError> {
    if usize::from(frame.channels()) != channels {
        return Err(invalid_argument());
    }
    let n = frame.samples();
    out.reserve(n * channels);
    match frame.format() {
        Sample::F32(sample::Type::Packed) => {
            out.extend_from_slice(&frame.plane::<f32>(0)[..n * channels])
        }
        Sample::F32(sample::Type::Planar) => {
            let planes: Vec<&[f32]> = (0..channels).map(|c| frame.plane::<f32>(c)).collect();
            out.extend((0..n * channels).map(|i| planes[i % channels][i / channels]));
        }
        Sample::I16(sample::Type::Packed) => out.extend(
            frame.plane::<i16>(0)[..n * channels]
                .iter()
                .map(|&v| f32::from(v) / 32768.0),
        ),
        Sample::I16(sample::Type::Planar) => {
            let planes: Vec<&[i16]> = (0..channels).map(|c| frame.plane::<i16>(c)).collect();
            out.extend(
                (0..n * channels).map(|i| f32::from(planes[i % channels][i / channels]) / 32768.0),
            );
        }
        _ => return Err(invalid_argument()),
    }
    Ok(n)
}

/// Decodes Opus (multistream) packets of one layout into interleaved f32 in the caller's channel
/// order, concealing lost packets.
pub struct OpusDecoder {
    decoder: decoder::Audio,
    backend: Backend,
    channels: usize,
    streams: u8,
    coupled: u8,
    frame: frame::Audio,
}

impl OpusDecoder {
    /// Decodes what [`OpusEncoder::native`] makes for `channels`.
    pub fn native(channels: u8) -> Result<Self, VideoError> {
        let (streams, coupled, mapping) = native_layout(channels)?;
        Self::new(
            channels,
            streams,
            coupled,
            &mapping,
            punktfunk_core::wire::audio::SAMPLE_RATE,
        )
    }

    /// Decodes packets made for this layout (`channels`, `streams`, `coupled`, `mapping` as in
    /// [`OpusEncoder::new`]) into interleaved f32 in the caller's channel order: output channel
    /// `i` is the encoder's input channel `i`. `rate` must be 48000 (FFmpeg's Opus decoders
    /// output nothing else). Takes FFmpeg's `libopus` decoder when there is one (it conceals
    /// losses), else FFmpeg's native `opus` decoder.
    pub fn new(
        channels: u8,
        streams: u8,
        coupled: u8,
        mapping: &[u8],
        rate: u32,
    ) -> Result<Self, VideoError> {
        Self::with_backend(
            &[Backend::LibOpus, Backend::Native],
            channels,
            streams,
            coupled,
            mapping,
            rate,
        )
    }

    /// Like [`OpusDecoder::new`], trying the given decoders in order.
    fn with_backend(
        backends: &[Backend],
        channels: u8,
        streams: u8,
        coupled: u8,
        mapping: &[u8],
        rate: u32,
    ) -> Result<Self, VideoError> {
        crate::init();
        if rate != DECODE_RATE || !valid_layout(channels, streams, coupled, mapping) {
            return Err(invalid_argument());
        }
        let mut last_error = VideoError::MissingCodec("opus");
        for &backend in backends {
            let head = head_for(backend, streams, coupled, mapping);
            match open_decoder(backend, &head) {
                Ok(decoder) => {
                    return Ok(Self {
                        decoder,
                        backend,
                        channels: usize::from(channels),
                        streams,
                        coupled,
                        frame: frame::Audio::empty(),
                    })
                }
                Err(e) => last_error = e,
            }
        }
        Err(last_error)
    }

    /// Decodes one packet into interleaved f32 samples (`channels` per sample, as many samples
    /// as the packet holds). `None` (or an empty packet) means the packet was lost: the result
    /// is `frame_samples` concealed samples per channel, where `frame_samples` is a whole
    /// number of 2.5 ms frames at 48 kHz (120, 240, 480, …), at most 120 ms (5760). With the
    /// `libopus` decoder that is libopus' concealment (silence before the first packet); with
    /// FFmpeg's native decoder, silence.
    pub fn decode(
        &mut self,
        packet: Option<&[u8]>,
        frame_samples: usize,
    ) -> Result<Vec<f32>, VideoError> {
        match packet.filter(|p| !p.is_empty()) {
            Some(packet) => {
                let mut out = Vec::new();
                self.decode_packet(packet, &mut out)?;
                Ok(out)
            }
            None => self.conceal(frame_samples),
        }
    }

    fn decode_packet(&mut self, packet: &[u8], out: &mut Vec<f32>) -> Result<usize, VideoError> {
        self.decoder.send_packet(&Packet::copy(packet))?;
        let mut samples = 0;
        loop {
            match self.decoder.receive_frame(&mut self.frame) {
                Ok(()) => samples += append_interleaved(&self.frame, self.channels, out)?,
                Err(ffmpeg_next::Error::Other { errno }) if errno == ffmpeg_next::error::EAGAIN => {
                    return Ok(samples)
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Conceals `frame_samples` per channel.
    ///
    /// FFmpeg cannot pass libopus a lost packet: an empty packet means end of stream to
    /// `avcodec_send_packet`. But libopus conceals any Opus frame of at most one byte, for the
    /// duration its TOC byte announces (opus_decoder.c: "Payloads of 1 (2 including ToC) or 0
    /// trigger the PLC/DTX"). So a loss is fed as a multistream packet of TOC-only frames, one
    /// per stream (self-delimited, zero length, for all but the last; RFC 6716 appendix B), in
    /// 20 ms pieces or shorter. FFmpeg's native decoder decodes the same packet to silence.
    fn conceal(&mut self, frame_samples: usize) -> Result<Vec<f32>, VideoError> {
        if frame_samples == 0
            || frame_samples > MAX_PLC_SAMPLES
            || !frame_samples.is_multiple_of(PLC_GRANULE)
        {
            return Err(invalid_argument());
        }
        let silence = vec![0.0; frame_samples * self.channels];
        if self.backend == Backend::Native {
            return Ok(silence);
        }
        let mut out = Vec::with_capacity(frame_samples * self.channels);
        let mut left = frame_samples;
        while left > 0 {
            let (piece, config) = CELT_FRAMES
                .into_iter()
                .find(|&(n, _)| n <= left)
                .expect("left is a multiple of the shortest frame");
            let packet = self.lost_packet(config);
            if self.decode_packet(&packet, &mut out)? != piece {
                // Not what libopus does; keep the promised length all the same.
                return Ok(silence);
            }
            left -= piece;
        }
        Ok(out)
    }

    /// A multistream packet whose every stream is a TOC byte announcing one CELT frame (stereo
    /// for the coupled streams, which come first) and no data.
    fn lost_packet(&self, config: u8) -> Vec<u8> {
        let toc = |stereo: bool| config << 3 | u8::from(stereo) << 2;
        let mut packet = Vec::with_capacity(2 * usize::from(self.streams));
        for s in 0..self.streams {
            packet.push(toc(s < self.coupled));
            if s + 1 < self.streams {
                packet.push(0); // self-delimiting length: 0 bytes
            }
        }
        packet
    }
}

/// Ignore a tone quieter than this RMS (about −100 dBFS): nothing to measure.
const SILENCE_RMS: f32 = 1e-5;
/// Fewest samples per channel [`peak_frequency`] measures, and the most it reads.
const MIN_PEAK_SAMPLES: usize = 64;
const MAX_PEAK_SAMPLES: usize = 1 << 20;

/// The dominant frequency (Hz) of one channel of interleaved audio, or of the mix of all
/// channels when `channel` is `None`, with that signal's RMS. Hann window, FFT over the whole
/// input (at most 2^20 samples per channel), parabolic interpolation of the log magnitude
/// around the peak bin: a pure tone reads within a few hundredths of a bin (0.25 s at 48 kHz
/// has 4 Hz bins). `None` for fewer than 64 samples per channel, silence, or bad arguments.
pub fn peak_frequency(
    samples: &[f32],
    channels: u8,
    channel: Option<u8>,
    rate: u32,
) -> Option<(f32, f32)> {
    let stride = usize::from(channels);
    if stride == 0 || rate == 0 || channel.is_some_and(|c| c >= channels) {
        return None;
    }
    let n = (samples.len() / stride).min(MAX_PEAK_SAMPLES);
    if n < MIN_PEAK_SAMPLES {
        return None;
    }
    let signal: Vec<f32> = samples
        .chunks_exact(stride)
        .take(n)
        .map(|frame| match channel {
            Some(c) => frame[usize::from(c)],
            None => frame.iter().sum::<f32>() / stride as f32,
        })
        .collect();
    let rms = (signal.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / n as f64).sqrt() as f32;
    if rms.is_nan() || rms < SILENCE_RMS {
        return None;
    }
    // Without its mean, a DC offset cannot outweigh the tone.
    let mean = signal.iter().map(|v| f64::from(*v)).sum::<f64>() / n as f64;
    let mut spectrum: Vec<Complex32> = signal
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let hann = 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos();
            Complex32::new(((f64::from(v) - mean) * hann) as f32, 0.0)
        })
        .collect();
    rustfft::FftPlanner::new()
        .plan_fft_forward(n)
        .process(&mut spectrum);
    let magnitude = |k: usize| spectrum[k].norm();
    let peak = (1..n / 2).max_by(|&a, &b| magnitude(a).total_cmp(&magnitude(b)))?;
    if magnitude(peak) == 0.0 {
        return None;
    }
    // A Hann-windowed tone's log magnitude is close to a parabola around its peak.
    let log = |k: usize| magnitude(k).max(f32::MIN_POSITIVE).ln();
    let (a, b, c) = (log(peak - 1), log(peak), log(peak + 1));
    let curvature = a - 2.0 * b + c;
    let offset = if curvature < 0.0 {
        (0.5 * (a - c) / curvature).clamp(-0.5, 0.5)
    } else {
        0.0
    };
    let hz = (peak as f32 + offset) * rate as f32 / n as f32;
    Some((hz, rms))
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

    /// Per-channel test tones (Hz), as in the encoder tests.
    const TONES: [f32; 8] = [1000.0, 1500.0, 700.0, 300.0, 2200.0, 2700.0, 3300.0, 3900.0];

    /// One frame of `tones[c]` on channel `c`, interleaved.
    fn next_frame(tones: &mut [Tone], samples_per_frame: usize) -> Vec<f32> {
        let n = tones.len();
        let per: Vec<Vec<f32>> = tones
            .iter_mut()
            .map(|t| t.next(samples_per_frame))
            .collect();
        (0..samples_per_frame * n)
            .map(|i| per[i % n][i / n])
            .collect()
    }

    /// Encodes 0.5 s with its own tone on each channel, decodes it with `backends`, and checks
    /// each output channel's dominant frequency is its own tone.
    fn round_trip(backends: &[Backend], layout: (u8, u8, u8, u32), mapping: &[u8]) {
        let (channels, streams, coupled, bitrate) = layout;
        let n = usize::from(channels);
        let mut enc = OpusEncoder::new(channels, streams, coupled, mapping, RATE, 5, bitrate)
            .unwrap_or_else(|e| panic!("{layout:?} {mapping:?}: {e}"));
        let mut dec =
            OpusDecoder::with_backend(backends, channels, streams, coupled, mapping, RATE).unwrap();
        assert_eq!(dec.backend, backends[0]);
        let spf = enc.samples_per_frame();
        let mut tones: Vec<Tone> = TONES[..n].iter().map(|&f| Tone::new(f, RATE, 1)).collect();
        let mut decoded = Vec::new();
        for _ in 0..100 {
            let packet = enc.encode(&next_frame(&mut tones, spf)).unwrap();
            let samples = dec.decode(Some(&packet), spf).unwrap();
            assert_eq!(samples.len(), spf * n, "{layout:?}: one packet, one frame");
            decoded.extend(samples);
        }
        // From 10 ms on (past the codec's start-up).
        let steady = &decoded[480 * n..];
        for (c, &want) in TONES[..n].iter().enumerate() {
            let (hz, rms) = peak_frequency(steady, channels, Some(c as u8), RATE)
                .unwrap_or_else(|| panic!("{layout:?} {mapping:?} ch {c}: silent"));
            assert!(
                (hz - want).abs() <= 3.0 && rms > 0.2,
                "{backends:?} {layout:?} {mapping:?} ch {c}: {hz} Hz (rms {rms}), want {want}"
            );
        }
    }

    #[test]
    fn decoder_puts_every_sunshine_layout_back_on_its_speakers() {
        for layout in LAYOUTS {
            round_trip(
                &[Backend::LibOpus],
                layout,
                &IDENTITY[..usize::from(layout.0)],
            );
        }
    }

    #[test]
    fn decoder_honours_scrambled_mappings() {
        round_trip(&[Backend::LibOpus], (6, 4, 2, 256_000), &[3, 0, 5, 1, 4, 2]);
        round_trip(
            &[Backend::LibOpus],
            (8, 5, 3, 450_000),
            &[7, 6, 5, 4, 3, 2, 1, 0],
        );
        round_trip(
            &[Backend::LibOpus],
            (8, 8, 0, 2_048_000),
            &[1, 0, 3, 2, 5, 4, 7, 6],
        );
        round_trip(&[Backend::LibOpus], (2, 1, 1, 96_000), &[1, 0]);
    }

    /// Every channel count FFmpeg's libopus wrapper remaps (its Vorbis-order table), with its
    /// default stream counts and with one mono stream per channel.
    #[test]
    fn decoder_handles_every_channel_count() {
        for channels in 1..=8u8 {
            let n = usize::from(channels);
            let coupled = FFMPEG_COUPLED_STREAMS[n - 1];
            let bitrate = 64_000 * u32::from(channels);
            round_trip(
                &[Backend::LibOpus],
                (channels, channels - coupled, coupled, bitrate),
                &IDENTITY[..n],
            );
            round_trip(
                &[Backend::LibOpus],
                (channels, channels, 0, bitrate),
                &IDENTITY[..n],
            );
        }
    }

    #[test]
    fn ffmpegs_native_decoder_gives_the_same_layouts() {
        for layout in LAYOUTS {
            round_trip(
                &[Backend::Native],
                layout,
                &IDENTITY[..usize::from(layout.0)],
            );
        }
        round_trip(&[Backend::Native], (6, 4, 2, 256_000), &[3, 0, 5, 1, 4, 2]);
    }

    #[test]
    fn lost_packets_are_concealed_with_the_right_length() {
        for (channels, streams, coupled, bitrate) in [LAYOUTS[0], LAYOUTS[1], LAYOUTS[3]] {
            let n = usize::from(channels);
            let mapping = &IDENTITY[..n];
            let mut enc =
                OpusEncoder::new(channels, streams, coupled, mapping, RATE, 10, bitrate).unwrap();
            let mut dec = OpusDecoder::new(channels, streams, coupled, mapping, RATE).unwrap();
            assert_eq!(dec.backend, Backend::LibOpus);
            // Before any packet there is nothing to extend: silence.
            let before = dec.decode(None, 480).unwrap();
            assert_eq!(before.len(), 480 * n);
            assert!(before.iter().all(|&v| v == 0.0));

            let mut tones: Vec<Tone> = TONES[..n].iter().map(|&f| Tone::new(f, RATE, 1)).collect();
            for _ in 0..20 {
                let packet = enc.encode(&next_frame(&mut tones, 480)).unwrap();
                assert_eq!(dec.decode(Some(&packet), 480).unwrap().len(), 480 * n);
            }
            // One 10 ms packet lost: libopus extends each channel's tone.
            let concealed = dec.decode(None, 480).unwrap();
            assert_eq!(concealed.len(), 480 * n);
            for (c, &want) in TONES[..n].iter().enumerate() {
                let (hz, rms) = peak_frequency(&concealed, channels, Some(c as u8), RATE)
                    .unwrap_or_else(|| panic!("{channels} ch: ch {c} concealed as silence"));
                assert!(
                    (hz - want).abs() < 100.0 && rms > 0.05,
                    "{channels} ch: ch {c} concealed as {hz} Hz (rms {rms}), want {want}"
                );
            }
            // Other lengths: in pieces of up to 20 ms, 2.5 ms granularity, up to 120 ms.
            for samples in [120, 240, 360, 960, 1200, 2880, 5760] {
                assert_eq!(dec.decode(None, samples).unwrap().len(), samples * n);
            }
            assert_eq!(dec.decode(Some(&[]), 240).unwrap().len(), 240 * n);
            for bad in [0, 100, 5880, usize::MAX] {
                assert!(dec.decode(None, bad).is_err(), "{bad} samples");
            }
            // Decoding goes on normally afterwards.
            for _ in 0..5 {
                let packet = enc.encode(&next_frame(&mut tones, 480)).unwrap();
                assert_eq!(dec.decode(Some(&packet), 480).unwrap().len(), 480 * n);
            }
        }
    }

    #[test]
    fn the_native_decoder_conceals_with_silence_of_the_right_length() {
        let mut dec =
            OpusDecoder::with_backend(&[Backend::Native], 6, 4, 2, &IDENTITY[..6], RATE).unwrap();
        let concealed = dec.decode(None, 240).unwrap();
        assert_eq!(concealed.len(), 240 * 6);
        assert!(concealed.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn decoder_refuses_bad_layouts_and_survives_bad_packets() {
        assert!(OpusDecoder::new(2, 1, 1, &[0, 1], 44_100).is_err());
        assert!(OpusDecoder::new(2, 1, 1, &[0], RATE).is_err());
        assert!(OpusDecoder::new(0, 1, 0, &[], RATE).is_err());
        assert!(OpusDecoder::new(9, 9, 0, &[0; 9], RATE).is_err());
        assert!(OpusDecoder::new(6, 2, 3, &IDENTITY[..6], RATE).is_err());
        assert!(OpusDecoder::new(6, 4, 2, &[0, 1, 2, 3, 4, 6], RATE).is_err());
        assert!(OpusDecoder::new(6, 0, 0, &[0; 6], RATE).is_err());
        // 255 leaves a channel silent, which libopus allows.
        assert!(OpusDecoder::new(2, 1, 0, &[0, 255], RATE).is_ok());

        let mut enc = OpusEncoder::new(2, 1, 1, &[0, 1], RATE, 5, 96_000).unwrap();
        let mut dec = OpusDecoder::new(2, 1, 1, &[0, 1], RATE).unwrap();
        for garbage in [
            &[0xffu8; 3][..],
            &[0x00],
            &[0xfc, 0xff, 0xff, 0xff],
            &[7; 2000],
        ] {
            let _ = dec.decode(Some(garbage), 240);
        }
        let mut tone = Tone::new(1000.0, RATE, 2);
        let packet = enc.encode(&tone.next(240)).unwrap();
        assert_eq!(dec.decode(Some(&packet), 240).unwrap().len(), 480);
    }

    /// `seconds` of a sine at `hz` with peak `amplitude`, mono.
    fn sine(hz: f64, amplitude: f64, seconds: f64) -> Vec<f32> {
        let n = (f64::from(RATE) * seconds) as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(RATE);
                (amplitude * (std::f64::consts::TAU * hz * t + 0.3).sin()) as f32
            })
            .collect()
    }

    #[test]
    fn peak_frequency_reads_a_tone_within_two_hertz() {
        for hz in [1000.0, 1001.3, 440.0, 123.45, 2718.28, 15_000.7] {
            let x = sine(hz, 0.5, 0.25);
            let (found, rms) = peak_frequency(&x, 1, None, RATE).unwrap();
            assert!(
                (f64::from(found) - hz).abs() <= 0.5,
                "{hz} Hz read as {found}"
            );
            assert!((rms - 0.5 / 2f32.sqrt()).abs() < 1e-3, "rms {rms}");
        }
        // 1000 Hz from 0.25 s at 48 kHz, the stated accuracy.
        let (found, _) = peak_frequency(&sine(1000.0, 0.1, 0.25), 1, Some(0), RATE).unwrap();
        assert!((found - 1000.0).abs() <= 2.0, "{found}");
    }

    #[test]
    fn peak_frequency_finds_a_tone_in_noise_and_past_a_dc_offset() {
        // Deterministic white noise as loud as the tone (xorshift).
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut noise = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        };
        let x: Vec<f32> = sine(1000.0, 0.3, 0.25)
            .into_iter()
            .map(|v| v + (0.3 * noise()) as f32)
            .collect();
        let (found, _) = peak_frequency(&x, 1, None, RATE).unwrap();
        assert!((found - 1000.0).abs() <= 2.0, "{found}");

        let x: Vec<f32> = sine(700.0, 0.1, 0.25)
            .into_iter()
            .map(|v| v + 0.8)
            .collect();
        let (found, _) = peak_frequency(&x, 1, None, RATE).unwrap();
        assert!((found - 700.0).abs() <= 2.0, "{found}");
    }

    #[test]
    fn peak_frequency_picks_one_channel_of_six_or_the_mix() {
        let freqs = [300.0, 500.0, 800.0, 60.0, 1200.0, 3000.0];
        let per: Vec<Vec<f32>> = freqs
            .iter()
            .enumerate()
            .map(|(c, &f)| sine(f, if c == 4 { 0.6 } else { 0.2 }, 0.25))
            .collect();
        let x: Vec<f32> = (0..per[0].len() * 6).map(|i| per[i % 6][i / 6]).collect();
        for (c, &f) in freqs.iter().enumerate() {
            let (found, _) = peak_frequency(&x, 6, Some(c as u8), RATE).unwrap();
            assert!(
                (f64::from(found) - f).abs() <= 2.0,
                "ch {c}: {found}, want {f}"
            );
        }
        // The mix is led by the loudest channel.
        let (found, _) = peak_frequency(&x, 6, None, RATE).unwrap();
        assert!((found - 1200.0).abs() <= 2.0, "{found}");
    }

    #[test]
    fn peak_frequency_has_no_answer_for_nothing() {
        assert_eq!(peak_frequency(&[], 1, None, RATE), None);
        assert_eq!(
            peak_frequency(&sine(1000.0, 0.5, 0.25)[..63], 1, None, RATE),
            None
        );
        assert_eq!(peak_frequency(&[0.0; 4800], 2, None, RATE), None);
        assert_eq!(peak_frequency(&[f32::NAN; 4800], 1, None, RATE), None);
        let x = sine(1000.0, 0.5, 0.1);
        assert_eq!(peak_frequency(&x, 0, None, RATE), None);
        assert_eq!(peak_frequency(&x, 2, Some(2), RATE), None);
        assert_eq!(peak_frequency(&x, 1, None, 0), None);
        assert!(peak_frequency(&x[..64], 1, None, RATE).is_some());
    }
}
