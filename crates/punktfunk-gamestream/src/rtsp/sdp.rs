//! The two SDP-ish bodies of the handshake: the host's DESCRIBE answer (capabilities) and the
//! client's ANNOUNCE (the stream it wants).

use super::RtspError;
use crate::wire::encryption;
use crate::wire::rtsp::{
    defaults, limits, ANN_AUDIO_CHANNELS, ANN_AUDIO_CHANNEL_MASK, ANN_AUDIO_PACKET_DURATION,
    ANN_AUDIO_QOS_TYPE, ANN_AUDIO_QUALITY, ANN_BITSTREAM_FORMAT, ANN_CHROMA_SAMPLING,
    ANN_CONFIGURED_BITRATE, ANN_CONTROL_PROTOCOL, ANN_DYNAMIC_RANGE_MODE, ANN_ENCODER_CSC_MODE,
    ANN_ENCRYPTION_ENABLED, ANN_FPS, ANN_HEIGHT, ANN_INTRA_REFRESH, ANN_MAX_BITRATE,
    ANN_MAX_REFERENCE_FRAMES, ANN_MIN_FEC_PACKETS, ANN_ML_FEATURE_FLAGS, ANN_NV_FEATURE_FLAGS,
    ANN_PACKET_SIZE, ANN_REFRESH_RATE_X100, ANN_SLICES_PER_FRAME, ANN_VIDEO_QOS_TYPE, ANN_WIDTH,
    BITSTREAM_AV1, BITSTREAM_HEVC, CHROMA_444, DYNAMIC_RANGE_HDR, MAX_BODY, NV_FF_AUDIO_ENCRYPTION,
    SDP_ATTRIBUTE_PREFIX, SDP_AV1_LINE, SDP_ENCRYPTION_REQUESTED, SDP_ENCRYPTION_SUPPORTED,
    SDP_HEVC_LINE, SDP_NAME_VALUE_SEPARATOR, SDP_RFI_LINE, SDP_SS_FEATURE_FLAGS,
    SDP_SURROUND_PARAMS_PREFIX, SURROUND_PARAMS_MAX_LEN,
};
use core::ops::RangeInclusive;

// ---- DESCRIBE -----------------------------------------------------------------------------

/// What the host offers in its DESCRIBE reply.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DescribeOffer {
    pub hevc: bool,
    pub av1: bool,
    /// The encoder can invalidate reference frames (the client may then send RFI requests).
    pub ref_pic_invalidation: bool,
    /// `wire::encryption` bits the host implements.
    pub encryption_supported: u32,
    /// Bits the client should enable even if its user did not opt in.
    pub encryption_requested: u32,
    /// `x-ss-general.featureFlags`: Sunshine input extensions (pen/touch 0x01, controller touch 0x02).
    pub feature_flags: u32,
    /// The digits of each `a=fmtp:97 surround-params=` line, in order (from the audio module).
    pub surround_params: Vec<String>,
}

/// The DESCRIBE body. The client searches it for substrings and parses integers with
/// `strtoul(…, 0)`, so numbers are plain decimal; lines end in `\n` as Sunshine's do. Surround
/// parameters that are not 1–11 ASCII digits are left out (they could come from `/launch`).
pub fn describe_sdp(offer: &DescribeOffer) -> String {
    let mut lines = vec![
        format!("a={SDP_SS_FEATURE_FLAGS}:{}", offer.feature_flags),
        format!(
            "a={SDP_ENCRYPTION_SUPPORTED}:{}",
            offer.encryption_supported
        ),
        format!(
            "a={SDP_ENCRYPTION_REQUESTED}:{}",
            offer.encryption_requested
        ),
    ];
    let markers = [
        (offer.ref_pic_invalidation, SDP_RFI_LINE),
        (offer.hevc, SDP_HEVC_LINE),
        (offer.av1, SDP_AV1_LINE),
    ];
    lines.extend(
        markers
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, l)| l.to_string()),
    );
    lines.extend(
        offer
            .surround_params
            .iter()
            .filter(|p| is_surround_params(p))
            .map(|p| format!("{SDP_SURROUND_PARAMS_PREFIX}{p}")),
    );
    let mut body = lines.join("\n");
    body.push('\n');
    body
}

fn is_surround_params(p: &str) -> bool {
    (1..=SURROUND_PARAMS_MAX_LEN).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit())
}

// ---- ANNOUNCE -----------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoCodec {
    H264,
    Hevc,
    Av1,
}

/// The stream the client asked for in ANNOUNCE, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamParams {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// Client display refresh × 100, 0 = unknown; see [`StreamParams::exact_frame_rate_x100`].
    pub refresh_rate_x100: u32,
    /// Video payload bytes per packet (already reduced by 32 when video is encrypted).
    pub packet_size: u32,
    pub slices_per_frame: u32,
    /// 0 = any (the decoder handles RFI), else the limit.
    pub max_reference_frames: u32,
    /// `(colorSpace << 1) | colorRange`: space 0 Rec.601, 1 Rec.709, 2 Rec.2020; range 1 = full.
    pub encoder_csc_mode: u32,
    /// `dynamicRangeMode` 1: 10-bit HDR.
    pub hdr: bool,
    pub codec: VideoCodec,
    /// `bw.maximumBitrateKbps`: the encoder bitrate when `configured_bitrate_kbps` is 0.
    pub max_bitrate_kbps: u32,
    /// `x-ml-video.configuredBitrateKbps`: the user's whole budget; see
    /// [`StreamParams::encoder_bitrate_kbps`].
    pub configured_bitrate_kbps: u32,
    pub min_required_fec_packets: u32,
    pub chroma_444: bool,
    pub intra_refresh: bool,
    pub audio_packet_duration_ms: u32,
    pub audio_channels: u32,
    pub audio_channel_mask: u32,
    /// `AudioQuality` as sent. For stereo Sunshine decides by the request's `Host` header
    /// instead; [`super::Handshake`] applies that rule to the params it reports.
    pub audio_high_quality: bool,
    /// `x-nv-general.useReliableUdp`: 13 = the encrypted control stream.
    pub control_protocol: u32,
    /// `x-nv-general.featureFlags` as sent (0x20: audio encryption, folded into
    /// `encryption_enabled`).
    pub feature_flags: u32,
    /// `x-ml-general.featureFlags`: 0x01 FEC status, 0x02 session id V1 (pings carry the ping
    /// payload, CONNECT carries the connect data).
    pub ml_feature_flags: u32,
    /// `wire::encryption` bits in force: `x-ss-general.encryptionEnabled`, plus AUDIO when
    /// `feature_flags` has 0x20 (as Sunshine does).
    pub encryption_enabled: u32,
    /// DSCP wishes: 0 = do not mark.
    pub video_qos_type: u32,
    pub audio_qos_type: u32,
}

impl StreamParams {
    /// The encoder bitrate Sunshine derives (02-rtsp §8.1): from the configured budget minus
    /// FEC (if `fec_percentage` ≤ 80), audio (≤ 20 %) and 500 kbps overhead (≤ 10 %); else
    /// `max_bitrate_kbps`.
    pub fn encoder_bitrate_kbps(&self, fec_percentage: u32) -> u32 {
        if self.configured_bitrate_kbps == 0 {
            return self.max_bitrate_kbps;
        }
        let mut b = u64::from(self.configured_bitrate_kbps);
        if fec_percentage <= 80 {
            b = b * u64::from(100 - fec_percentage) / 100;
        }
        let per_channel = if self.audio_high_quality { 256 } else { 96 };
        b -= (per_channel * u64::from(self.audio_channels)).min(b / 5);
        b -= 500.min(b / 10);
        // b only shrank from a u32.
        b as u32
    }

    /// `refresh_rate_x100` when it is within ±1 % of `fps` (a fractional rate such as 59.94),
    /// the only case in which Sunshine uses it.
    pub fn exact_frame_rate_x100(&self) -> Option<u32> {
        let nominal = u64::from(self.fps) * 100;
        let rate = u64::from(self.refresh_rate_x100);
        let tolerance = nominal * u64::from(limits::REFRESH_RATE_TOLERANCE_PERCENT) / 100;
        (rate > 0 && rate.abs_diff(nominal) <= tolerance).then_some(self.refresh_rate_x100)
    }
}

/// Every attribute `parse_announce` reads; others are ignored.
const KNOWN: [&str; 25] = [
    ANN_WIDTH,
    ANN_HEIGHT,
    ANN_FPS,
    ANN_REFRESH_RATE_X100,
    ANN_PACKET_SIZE,
    ANN_SLICES_PER_FRAME,
    ANN_MAX_REFERENCE_FRAMES,
    ANN_ENCODER_CSC_MODE,
    ANN_DYNAMIC_RANGE_MODE,
    ANN_BITSTREAM_FORMAT,
    ANN_MAX_BITRATE,
    ANN_CONFIGURED_BITRATE,
    ANN_MIN_FEC_PACKETS,
    ANN_CHROMA_SAMPLING,
    ANN_INTRA_REFRESH,
    ANN_AUDIO_PACKET_DURATION,
    ANN_AUDIO_CHANNELS,
    ANN_AUDIO_CHANNEL_MASK,
    ANN_AUDIO_QUALITY,
    ANN_CONTROL_PROTOCOL,
    ANN_NV_FEATURE_FLAGS,
    ANN_ML_FEATURE_FLAGS,
    ANN_ENCRYPTION_ENABLED,
    ANN_VIDEO_QOS_TYPE,
    ANN_AUDIO_QOS_TYPE,
];

const ANY: RangeInclusive<u32> = 0..=u32::MAX;

/// Parses and validates an ANNOUNCE body: `a=NAME:VALUE` lines (CRLF or LF), value trimmed,
/// the first occurrence of a name wins (as in Sunshine). Required: size, fps, packet size,
/// codec, bitrate, slices, reference frames and the audio layout; the rest default as in
/// Sunshine. Values must be plain decimal and within `wire::rtsp::limits`.
pub fn parse_announce(sdp: &[u8]) -> Result<StreamParams, RtspError> {
    if sdp.len() > MAX_BODY {
        return Err(RtspError::SdpTooLarge { limit: MAX_BODY });
    }
    let a = Attributes::collect(sdp);
    let nv_feature_flags = a.optional(ANN_NV_FEATURE_FLAGS, defaults::NV_FEATURE_FLAGS, ANY)?;
    let mut encryption_enabled =
        a.optional(ANN_ENCRYPTION_ENABLED, defaults::ENCRYPTION_ENABLED, ANY)?;
    if nv_feature_flags & NV_FF_AUDIO_ENCRYPTION != 0 {
        encryption_enabled |= encryption::AUDIO;
    }
    Ok(StreamParams {
        width: a.required(ANN_WIDTH, limits::DIMENSION)?,
        height: a.required(ANN_HEIGHT, limits::DIMENSION)?,
        fps: a.required(ANN_FPS, limits::FPS)?,
        refresh_rate_x100: a.optional(
            ANN_REFRESH_RATE_X100,
            defaults::REFRESH_RATE_X100,
            limits::REFRESH_RATE_X100,
        )?,
        packet_size: a.required(ANN_PACKET_SIZE, limits::PACKET_SIZE)?,
        slices_per_frame: a.required(ANN_SLICES_PER_FRAME, limits::SLICES_PER_FRAME)?,
        max_reference_frames: a.required(ANN_MAX_REFERENCE_FRAMES, limits::MAX_REFERENCE_FRAMES)?,
        encoder_csc_mode: a.optional(
            ANN_ENCODER_CSC_MODE,
            defaults::ENCODER_CSC_MODE,
            limits::ENCODER_CSC_MODE,
        )?,
        hdr: a.optional(
            ANN_DYNAMIC_RANGE_MODE,
            defaults::DYNAMIC_RANGE_MODE,
            limits::FLAG,
        )? == DYNAMIC_RANGE_HDR,
        codec: codec(a.required(ANN_BITSTREAM_FORMAT, limits::BITSTREAM_FORMAT)?),
        max_bitrate_kbps: a.required(ANN_MAX_BITRATE, limits::MAX_BITRATE_KBPS)?,
        configured_bitrate_kbps: a.optional(
            ANN_CONFIGURED_BITRATE,
            defaults::CONFIGURED_BITRATE_KBPS,
            limits::CONFIGURED_BITRATE_KBPS,
        )?,
        min_required_fec_packets: a.optional(
            ANN_MIN_FEC_PACKETS,
            defaults::MIN_REQUIRED_FEC_PACKETS,
            limits::MIN_REQUIRED_FEC_PACKETS,
        )?,
        chroma_444: a.optional(
            ANN_CHROMA_SAMPLING,
            defaults::CHROMA_SAMPLING_TYPE,
            limits::FLAG,
        )? == CHROMA_444,
        intra_refresh: a.optional(ANN_INTRA_REFRESH, defaults::INTRA_REFRESH, limits::FLAG)? == 1,
        audio_packet_duration_ms: a.audio_packet_duration()?,
        audio_channels: a.required(ANN_AUDIO_CHANNELS, limits::AUDIO_CHANNELS)?,
        audio_channel_mask: a.required(ANN_AUDIO_CHANNEL_MASK, ANY)?,
        audio_high_quality: a.required(ANN_AUDIO_QUALITY, limits::FLAG)? == 1,
        control_protocol: a.optional(ANN_CONTROL_PROTOCOL, defaults::CONTROL_PROTOCOL, ANY)?,
        feature_flags: nv_feature_flags,
        ml_feature_flags: a.optional(ANN_ML_FEATURE_FLAGS, defaults::ML_FEATURE_FLAGS, ANY)?,
        encryption_enabled,
        video_qos_type: a.optional(ANN_VIDEO_QOS_TYPE, defaults::VIDEO_QOS_TYPE, ANY)?,
        audio_qos_type: a.optional(ANN_AUDIO_QOS_TYPE, defaults::AUDIO_QOS_TYPE, ANY)?,
    })
}

fn codec(bitstream_format: u32) -> VideoCodec {
    match bitstream_format {
        BITSTREAM_HEVC => VideoCodec::Hevc,
        BITSTREAM_AV1 => VideoCodec::Av1,
        _ => VideoCodec::H264,
    }
}

/// The raw values of the known attributes, borrowed from the body.
struct Attributes<'a> {
    values: [Option<&'a [u8]>; KNOWN.len()],
}

impl<'a> Attributes<'a> {
    fn collect(sdp: &'a [u8]) -> Self {
        let mut values = [None; KNOWN.len()];
        let lines = sdp.split(|b| matches!(b, b'\r' | b'\n'));
        for (name, value) in lines.filter_map(attribute) {
            if let Some(i) = KNOWN.iter().position(|k| k.as_bytes() == name) {
                values[i].get_or_insert(value);
            }
        }
        Self { values }
    }

    fn raw(&self, name: &'static str) -> Option<&'a [u8]> {
        let i = KNOWN.iter().position(|k| *k == name)?;
        self.values[i]
    }

    fn required(&self, name: &'static str, range: RangeInclusive<u32>) -> Result<u32, RtspError> {
        let raw = self.raw(name).ok_or(RtspError::MissingAttribute(name))?;
        checked(name, raw, range)
    }

    fn optional(
        &self,
        name: &'static str,
        default: u32,
        range: RangeInclusive<u32>,
    ) -> Result<u32, RtspError> {
        self.raw(name)
            .map_or(Ok(default), |raw| checked(name, raw, range))
    }

    fn audio_packet_duration(&self) -> Result<u32, RtspError> {
        let name = ANN_AUDIO_PACKET_DURATION;
        let ms = self.optional(name, defaults::AUDIO_PACKET_DURATION_MS, ANY)?;
        if limits::AUDIO_PACKET_DURATIONS_MS.contains(&ms) {
            Ok(ms)
        } else {
            Err(RtspError::AttributeOutOfRange {
                name,
                value: u64::from(ms),
            })
        }
    }
}

/// `a=NAME:VALUE` → (NAME, VALUE trimmed of blanks); other lines → None.
fn attribute(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = line.strip_prefix(SDP_ATTRIBUTE_PREFIX)?;
    let colon = rest.iter().position(|b| *b == SDP_NAME_VALUE_SEPARATOR)?;
    Some((&rest[..colon], rest[colon + 1..].trim_ascii()))
}

fn checked(name: &'static str, raw: &[u8], range: RangeInclusive<u32>) -> Result<u32, RtspError> {
    if raw.is_empty() || !raw.iter().all(u8::is_ascii_digit) {
        return Err(RtspError::InvalidAttribute(name));
    }
    let value = raw.iter().fold(0u64, |acc, d| {
        acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    u32::try_from(value)
        .ok()
        .filter(|v| range.contains(v))
        .ok_or(RtspError::AttributeOutOfRange { name, value })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An ANNOUNCE body as moonlight-common-c's `getSdpPayloadForStreamConfig` writes it.
    pub(crate) fn client_sdp(attributes: &[(&str, String)]) -> Vec<u8> {
        let mut out = String::from(
            "v=0\r\no=android 0 14 IN IPv4 192.168.1.10\r\ns=NVIDIA Streaming Client\r\n",
        );
        for (name, value) in attributes {
            out.push_str(&format!("a={name}:{value} \r\n"));
        }
        out.push_str("t=0 0\r\nm=video 47998  \r\n");
        out.into_bytes()
    }

    /// What a current client sends to a 7.1.431 Sunshine-style host: local stream, 1080p60,
    /// 20 Mbps, HEVC, control encryption only, stereo, Rec.709 limited, in the client's order.
    pub(crate) fn moonlight_attributes() -> Vec<(&'static str, String)> {
        [
            ("x-ml-general.featureFlags", "3"),
            ("x-ss-general.encryptionEnabled", "1"),
            ("x-ss-video[0].chromaSamplingType", "0"),
            ("x-nv-video[0].clientViewportWd", "1920"),
            ("x-nv-video[0].clientViewportHt", "1080"),
            ("x-nv-video[0].maxFPS", "60"),
            ("x-nv-video[0].packetSize", "1392"),
            ("x-nv-video[0].rateControlMode", "4"),
            ("x-nv-video[0].timeoutLengthMs", "7000"),
            ("x-nv-video[0].framesWithInvalidRefThreshold", "0"),
            ("x-nv-video[0].initialBitrateKbps", "16000"),
            ("x-nv-video[0].initialPeakBitrateKbps", "16000"),
            ("x-nv-vqos[0].bw.minimumBitrateKbps", "16000"),
            ("x-nv-vqos[0].bw.maximumBitrateKbps", "16000"),
            ("x-ml-video.configuredBitrateKbps", "20000"),
            ("x-nv-vqos[0].fec.enable", "1"),
            ("x-nv-vqos[0].videoQualityScoreUpdateTime", "5000"),
            ("x-nv-vqos[0].qosTrafficType", "5"),
            ("x-nv-aqos.qosTrafficType", "4"),
            ("x-nv-general.featureFlags", "135"),
            ("x-nv-general.useReliableUdp", "13"),
            ("x-nv-vqos[0].fec.minRequiredFecPackets", "2"),
            ("x-nv-vqos[0].bllFec.enable", "0"),
            ("x-nv-vqos[0].drc.enable", "0"),
            ("x-nv-general.enableRecoveryMode", "0"),
            ("x-nv-video[0].videoEncoderSlicesPerFrame", "1"),
            ("x-nv-clientSupportHevc", "1"),
            ("x-nv-vqos[0].bitStreamFormat", "1"),
            ("x-nv-video[0].dynamicRangeMode", "0"),
            ("x-nv-video[0].maxNumReferenceFrames", "0"),
            ("x-nv-video[0].clientRefreshRateX100", "5994"),
            ("x-nv-audio.surround.numChannels", "2"),
            ("x-nv-audio.surround.channelMask", "3"),
            ("x-nv-audio.surround.enable", "0"),
            ("x-nv-audio.surround.AudioQuality", "0"),
            ("x-nv-aqos.packetDuration", "5"),
            ("x-nv-video[0].encoderCscMode", "2"),
        ]
        .into_iter()
        .map(|(n, v)| (n, v.to_owned()))
        .collect()
    }

    pub(crate) fn moonlight_params() -> StreamParams {
        StreamParams {
            width: 1920,
            height: 1080,
            fps: 60,
            refresh_rate_x100: 5994,
            packet_size: 1392,
            slices_per_frame: 1,
            max_reference_frames: 0,
            encoder_csc_mode: 2,
            hdr: false,
            codec: VideoCodec::Hevc,
            max_bitrate_kbps: 16000,
            configured_bitrate_kbps: 20000,
            min_required_fec_packets: 2,
            chroma_444: false,
            intra_refresh: false,
            audio_packet_duration_ms: 5,
            audio_channels: 2,
            audio_channel_mask: 3,
            audio_high_quality: false,
            control_protocol: 13,
            feature_flags: 135,
            ml_feature_flags: 3,
            encryption_enabled: 1,
            video_qos_type: 5,
            audio_qos_type: 4,
        }
    }

    fn without(name: &str) -> Vec<(&'static str, String)> {
        moonlight_attributes()
            .into_iter()
            .filter(|(n, _)| *n != name)
            .collect()
    }

    fn with(name: &'static str, value: &str) -> Vec<(&'static str, String)> {
        let mut a = without(name);
        a.push((name, value.to_owned()));
        a
    }

    #[test]
    fn parses_what_moonlight_sends() {
        let sdp = client_sdp(&moonlight_attributes());
        assert_eq!(parse_announce(&sdp), Ok(moonlight_params()));
        // The exact text of the first lines, to pin the generator itself.
        assert!(sdp.starts_with(
            b"v=0\r\no=android 0 14 IN IPv4 192.168.1.10\r\ns=NVIDIA Streaming Client\r\n\
a=x-ml-general.featureFlags:3 \r\na=x-ss-general.encryptionEnabled:1 \r\n"
        ));
        assert!(sdp.ends_with(b"a=x-nv-video[0].encoderCscMode:2 \r\nt=0 0\r\nm=video 47998  \r\n"));
    }

    #[test]
    fn required_attributes_must_be_present() {
        for name in [
            ANN_WIDTH,
            ANN_HEIGHT,
            ANN_FPS,
            ANN_PACKET_SIZE,
            ANN_BITSTREAM_FORMAT,
            ANN_MAX_BITRATE,
            ANN_SLICES_PER_FRAME,
            ANN_MAX_REFERENCE_FRAMES,
            ANN_AUDIO_CHANNELS,
            ANN_AUDIO_CHANNEL_MASK,
            ANN_AUDIO_QUALITY,
        ] {
            assert_eq!(
                parse_announce(&client_sdp(&without(name))),
                Err(RtspError::MissingAttribute(name))
            );
        }
    }

    #[test]
    fn optional_attributes_take_sunshines_defaults() {
        let optional = [
            ANN_REFRESH_RATE_X100,
            ANN_ENCODER_CSC_MODE,
            ANN_DYNAMIC_RANGE_MODE,
            ANN_CONFIGURED_BITRATE,
            ANN_MIN_FEC_PACKETS,
            ANN_CHROMA_SAMPLING,
            ANN_INTRA_REFRESH,
            ANN_AUDIO_PACKET_DURATION,
            ANN_CONTROL_PROTOCOL,
            ANN_NV_FEATURE_FLAGS,
            ANN_ML_FEATURE_FLAGS,
            ANN_ENCRYPTION_ENABLED,
            ANN_VIDEO_QOS_TYPE,
            ANN_AUDIO_QOS_TYPE,
        ];
        let attrs: Vec<_> = moonlight_attributes()
            .into_iter()
            .filter(|(n, _)| !optional.contains(n))
            .collect();
        let p = parse_announce(&client_sdp(&attrs)).unwrap();
        assert_eq!(
            (
                p.refresh_rate_x100,
                p.encoder_csc_mode,
                p.hdr,
                p.configured_bitrate_kbps
            ),
            (0, 0, false, 0)
        );
        assert_eq!(
            (p.min_required_fec_packets, p.chroma_444, p.intra_refresh),
            (0, false, false)
        );
        assert_eq!((p.audio_packet_duration_ms, p.control_protocol), (5, 1));
        // Default nv feature flags 135 lack 0x20, so no audio encryption is folded in.
        assert_eq!(
            (p.feature_flags, p.ml_feature_flags, p.encryption_enabled),
            (135, 0, 0)
        );
        assert_eq!((p.video_qos_type, p.audio_qos_type), (5, 4));
    }

    #[test]
    fn values_out_of_bounds_or_not_decimal_are_refused() {
        for (name, value) in [
            (ANN_WIDTH, "0"),
            (ANN_WIDTH, "16385"),
            (ANN_HEIGHT, "99999999999999999999999"),
            (ANN_FPS, "0"),
            (ANN_PACKET_SIZE, "199"),
            (ANN_PACKET_SIZE, "65001"),
            (ANN_SLICES_PER_FRAME, "0"),
            (ANN_BITSTREAM_FORMAT, "3"),
            (ANN_DYNAMIC_RANGE_MODE, "2"),
            (ANN_AUDIO_CHANNELS, "9"),
            (ANN_AUDIO_PACKET_DURATION, "7"),
            (ANN_MAX_BITRATE, "0"),
        ] {
            assert!(
                matches!(
                    parse_announce(&client_sdp(&with(name, value))),
                    Err(RtspError::AttributeOutOfRange { name: n, .. }) if n == name
                ),
                "{name}={value}"
            );
        }
        for (name, value) in [
            (ANN_WIDTH, "-1"),
            (ANN_FPS, "0x3c"),
            (ANN_PACKET_SIZE, ""),
            (ANN_ML_FEATURE_FLAGS, "1 2"),
        ] {
            assert_eq!(
                parse_announce(&client_sdp(&with(name, value))),
                Err(RtspError::InvalidAttribute(name)),
                "{name}={value}"
            );
        }
        let big = vec![b'a'; MAX_BODY + 1];
        assert_eq!(
            parse_announce(&big),
            Err(RtspError::SdpTooLarge { limit: MAX_BODY })
        );
    }

    #[test]
    fn codecs_hdr_444_and_legacy_audio_encryption_flag() {
        let av1 = parse_announce(&client_sdp(&with(ANN_BITSTREAM_FORMAT, "2"))).unwrap();
        assert_eq!(av1.codec, VideoCodec::Av1);
        let h264 = parse_announce(&client_sdp(&with(ANN_BITSTREAM_FORMAT, "0"))).unwrap();
        assert_eq!(h264.codec, VideoCodec::H264);
        let mut attrs = with(ANN_DYNAMIC_RANGE_MODE, "1");
        attrs.retain(|(n, _)| *n != ANN_CHROMA_SAMPLING && *n != ANN_NV_FEATURE_FLAGS);
        attrs.push((ANN_CHROMA_SAMPLING, "1".into()));
        attrs.push((ANN_NV_FEATURE_FLAGS, "167".into()));
        let p = parse_announce(&client_sdp(&attrs)).unwrap();
        assert!(p.hdr && p.chroma_444);
        assert_eq!(p.feature_flags, 167);
        assert_eq!(
            p.encryption_enabled,
            encryption::CONTROL_V2 | encryption::AUDIO
        );
    }

    #[test]
    fn first_occurrence_wins_and_lf_lines_and_unknown_attributes_are_fine() {
        let mut attrs = moonlight_attributes();
        attrs.push((ANN_WIDTH, "640".into()));
        attrs.push(("x-future.thing", "whatever:with:colons".into()));
        let lf = String::from_utf8(client_sdp(&attrs))
            .unwrap()
            .replace("\r\n", "\n");
        assert_eq!(parse_announce(lf.as_bytes()).unwrap().width, 1920);
    }

    #[test]
    fn encoder_bitrate_follows_sunshine() {
        // 02-rtsp §8.1 example: 20000 → 16000 → 15808 → 15308.
        assert_eq!(moonlight_params().encoder_bitrate_kbps(20), 15308);
        let hq = StreamParams {
            audio_high_quality: true,
            audio_channels: 8,
            ..moonlight_params()
        };
        // 20000 → 16000; audio 2048 capped at 3200 → 13952; overhead 500 → 13452.
        assert_eq!(hq.encoder_bitrate_kbps(20), 13452);
        // FEC above 80 % is not subtracted; tiny budgets lose at most 30 %.
        let tiny = StreamParams {
            configured_bitrate_kbps: 100,
            ..moonlight_params()
        };
        assert_eq!(tiny.encoder_bitrate_kbps(90), 72);
        let legacy = StreamParams {
            configured_bitrate_kbps: 0,
            ..moonlight_params()
        };
        assert_eq!(legacy.encoder_bitrate_kbps(20), 16000);
    }

    #[test]
    fn fractional_frame_rate_only_near_fps() {
        assert_eq!(moonlight_params().exact_frame_rate_x100(), Some(5994));
        let far = StreamParams {
            refresh_rate_x100: 14400,
            ..moonlight_params()
        };
        assert_eq!(far.exact_frame_rate_x100(), None);
        let unknown = StreamParams {
            refresh_rate_x100: 0,
            ..moonlight_params()
        };
        assert_eq!(unknown.exact_frame_rate_x100(), None);
    }

    #[test]
    fn describe_lists_what_is_offered() {
        let offer = DescribeOffer {
            hevc: true,
            av1: true,
            ref_pic_invalidation: true,
            encryption_supported: 0x07,
            encryption_requested: 0x01,
            feature_flags: 0x03,
            surround_params: vec![
                "21101".into(),
                "642012453".into(),
                "88001234567".into(),
                "6\nevil".into(),
                "".into(),
            ],
        };
        assert_eq!(
            describe_sdp(&offer),
            "a=x-ss-general.featureFlags:3\n\
a=x-ss-general.encryptionSupported:7\n\
a=x-ss-general.encryptionRequested:1\n\
a=x-nv-video[0].refPicInvalidation:1\n\
sprop-parameter-sets=AAAAAU\n\
a=rtpmap:98 AV1/90000\n\
a=fmtp:97 surround-params=21101\n\
a=fmtp:97 surround-params=642012453\n\
a=fmtp:97 surround-params=88001234567\n"
        );
        let plain = describe_sdp(&DescribeOffer {
            encryption_supported: 0x05,
            encryption_requested: 0x01,
            ..Default::default()
        });
        assert_eq!(
            plain,
            "a=x-ss-general.featureFlags:0\na=x-ss-general.encryptionSupported:5\n\
a=x-ss-general.encryptionRequested:1\n"
        );
        for marker in ["refPicInvalidation", "AAAAAU", "AV1/90000"] {
            assert!(!plain.contains(marker));
        }
    }

    fn arb_params() -> impl Strategy<Value = StreamParams> {
        (
            (
                limits::DIMENSION,
                limits::DIMENSION,
                limits::FPS,
                limits::REFRESH_RATE_X100,
            ),
            (
                limits::PACKET_SIZE,
                limits::SLICES_PER_FRAME,
                limits::MAX_REFERENCE_FRAMES,
                limits::ENCODER_CSC_MODE,
            ),
            (
                any::<bool>(),
                0u32..3,
                limits::MAX_BITRATE_KBPS,
                limits::CONFIGURED_BITRATE_KBPS,
            ),
            (
                limits::MIN_REQUIRED_FEC_PACKETS,
                any::<bool>(),
                any::<bool>(),
                prop::sample::select(limits::AUDIO_PACKET_DURATIONS_MS),
            ),
            (
                limits::AUDIO_CHANNELS,
                any::<u32>(),
                any::<bool>(),
                any::<u32>(),
            ),
            (
                any::<u32>(),
                any::<u32>(),
                any::<u32>(),
                any::<u32>(),
                any::<u32>(),
            ),
        )
            .prop_map(|(v, w, x, y, z, f)| StreamParams {
                width: v.0,
                height: v.1,
                fps: v.2,
                refresh_rate_x100: v.3,
                packet_size: w.0,
                slices_per_frame: w.1,
                max_reference_frames: w.2,
                encoder_csc_mode: w.3,
                hdr: x.0,
                codec: codec(x.1),
                max_bitrate_kbps: x.2,
                configured_bitrate_kbps: x.3,
                min_required_fec_packets: y.0,
                chroma_444: y.1,
                intra_refresh: y.2,
                audio_packet_duration_ms: y.3,
                audio_channels: z.0,
                audio_channel_mask: z.1,
                audio_high_quality: z.2,
                control_protocol: z.3,
                feature_flags: f.0,
                ml_feature_flags: f.1,
                encryption_enabled: f.2,
                video_qos_type: f.3,
                audio_qos_type: f.4,
            })
    }

    fn to_attributes(p: &StreamParams) -> Vec<(&'static str, String)> {
        let b = |v: bool| u32::from(v).to_string();
        let format = match p.codec {
            VideoCodec::H264 => 0,
            VideoCodec::Hevc => 1,
            VideoCodec::Av1 => 2,
        };
        vec![
            (ANN_ML_FEATURE_FLAGS, p.ml_feature_flags.to_string()),
            (ANN_ENCRYPTION_ENABLED, p.encryption_enabled.to_string()),
            (ANN_CHROMA_SAMPLING, b(p.chroma_444)),
            (ANN_WIDTH, p.width.to_string()),
            (ANN_HEIGHT, p.height.to_string()),
            (ANN_FPS, p.fps.to_string()),
            (ANN_PACKET_SIZE, p.packet_size.to_string()),
            (ANN_MAX_BITRATE, p.max_bitrate_kbps.to_string()),
            (
                ANN_CONFIGURED_BITRATE,
                p.configured_bitrate_kbps.to_string(),
            ),
            (ANN_VIDEO_QOS_TYPE, p.video_qos_type.to_string()),
            (ANN_AUDIO_QOS_TYPE, p.audio_qos_type.to_string()),
            (ANN_NV_FEATURE_FLAGS, p.feature_flags.to_string()),
            (ANN_CONTROL_PROTOCOL, p.control_protocol.to_string()),
            (ANN_MIN_FEC_PACKETS, p.min_required_fec_packets.to_string()),
            (ANN_SLICES_PER_FRAME, p.slices_per_frame.to_string()),
            (ANN_BITSTREAM_FORMAT, format.to_string()),
            (ANN_DYNAMIC_RANGE_MODE, b(p.hdr)),
            (ANN_MAX_REFERENCE_FRAMES, p.max_reference_frames.to_string()),
            (ANN_REFRESH_RATE_X100, p.refresh_rate_x100.to_string()),
            (ANN_AUDIO_CHANNELS, p.audio_channels.to_string()),
            (ANN_AUDIO_CHANNEL_MASK, p.audio_channel_mask.to_string()),
            (ANN_AUDIO_QUALITY, b(p.audio_high_quality)),
            (
                ANN_AUDIO_PACKET_DURATION,
                p.audio_packet_duration_ms.to_string(),
            ),
            (ANN_ENCODER_CSC_MODE, p.encoder_csc_mode.to_string()),
            (ANN_INTRA_REFRESH, b(p.intra_refresh)),
        ]
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(sdp in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let _ = parse_announce(&sdp);
        }

        #[test]
        fn attribute_soup_never_panics_and_valid_results_are_in_bounds(
            lines in proptest::collection::vec((prop::sample::select(KNOWN.to_vec()), "[0-9 -]{0,12}"), 0..40)
        ) {
            let attrs: Vec<(&str, String)> = lines.into_iter().collect();
            if let Ok(p) = parse_announce(&client_sdp(&attrs)) {
                prop_assert!(limits::DIMENSION.contains(&p.width) && limits::DIMENSION.contains(&p.height));
                prop_assert!(limits::PACKET_SIZE.contains(&p.packet_size));
                prop_assert!(limits::FPS.contains(&p.fps));
            }
        }

        #[test]
        fn valid_params_round_trip(p in arb_params()) {
            let mut expected = p.clone();
            if p.feature_flags & NV_FF_AUDIO_ENCRYPTION != 0 {
                expected.encryption_enabled |= encryption::AUDIO;
            }
            prop_assert_eq!(parse_announce(&client_sdp(&to_attributes(&p))), Ok(expected));
        }
    }
}
