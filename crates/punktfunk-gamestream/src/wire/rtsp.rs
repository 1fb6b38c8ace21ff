//! RTSP handshake wire numbers: framing, limits, the encrypted record, header and SDP names.
//!
//! Facts from moonlight-common-c (`RtspConnection.c`, `RtspParser.c`, `SdpGenerator.c`) and
//! Sunshine (`rtsp.cpp`); see docs/gamestream/02-rtsp.md.

// ---- Plain message framing ----------------------------------------------------------------

/// The only protocol token either side accepts.
pub const PROTOCOL: &str = "RTSP/1.0";
/// End of the request line, each header line and (doubled) the header block.
pub const CRLF: &[u8] = b"\r\n";
/// The blank line that ends the header block.
pub const HEADER_END: &[u8] = b"\r\n\r\n";

/// Largest request line + headers + blank line we buffer (current clients send < 300 bytes).
pub const MAX_HEADER_BLOCK: usize = 8 * 1024;
/// Most header lines per request (current clients send at most 6).
pub const MAX_HEADERS: usize = 64;
/// Largest request body (`Content-length`); ANNOUNCE bodies are about 1.4 KB.
pub const MAX_BODY: usize = 64 * 1024;
/// Largest complete plaintext request: a full header block plus a full body.
pub const MAX_MESSAGE: usize = MAX_HEADER_BLOCK + MAX_BODY;

// ---- Header names (the client looks its reply headers up case-sensitively) ----------------

pub const HEADER_CSEQ: &str = "CSeq";
/// The client spells it `Content-length`; we match case-insensitively.
pub const HEADER_CONTENT_LENGTH: &str = "Content-Length";
pub const HEADER_SESSION: &str = "Session";
pub const HEADER_TRANSPORT: &str = "Transport";
pub const HEADER_HOST: &str = "Host";
pub const HEADER_PING_PAYLOAD: &str = "X-SS-Ping-Payload";
pub const HEADER_CONNECT_DATA: &str = "X-SS-Connect-Data";

/// `Session:` value of every SETUP reply. The client keeps the text before `;` and echoes it;
/// the token carries no authority (the ping payload and connect data identify the session).
pub const SESSION_VALUE: &str = "DEADBEEFCAFE;timeout = 90";
/// Prefix of the SETUP reply's `Transport` value; the port follows in decimal.
pub const TRANSPORT_SERVER_PORT: &str = "server_port=";
/// The low-quality-audio marker: the client puts it in `Host` when it wants normal-quality stereo.
pub const LOW_QUALITY_AUDIO_HOST: &str = "0.0.0.0";

// ---- Methods and SETUP targets ------------------------------------------------------------

pub const METHOD_OPTIONS: &str = "OPTIONS";
pub const METHOD_DESCRIBE: &str = "DESCRIBE";
pub const METHOD_SETUP: &str = "SETUP";
pub const METHOD_ANNOUNCE: &str = "ANNOUNCE";
pub const METHOD_PLAY: &str = "PLAY";

/// SETUP targets look like `streamid=audio/0/0`: the stream kind sits between these two bytes.
pub const SETUP_KIND_START: char = '=';
pub const SETUP_KIND_END: char = '/';
pub const STREAM_AUDIO: &str = "audio";
pub const STREAM_VIDEO: &str = "video";
pub const STREAM_CONTROL: &str = "control";

// ---- Status codes (the client reports a non-200 code as the handshake error) --------------

pub const STATUS_OK: (u16, &str) = (200, "OK");
pub const STATUS_BAD_REQUEST: (u16, &str) = (400, "BAD REQUEST");
pub const STATUS_FORBIDDEN: (u16, &str) = (403, "Forbidden");
pub const STATUS_NOT_FOUND: (u16, &str) = (404, "NOT FOUND");
/// RFC 2326 §7.1.1: the method is known but not allowed in the handshake's current state.
pub const STATUS_WRONG_STATE: (u16, &str) = (455, "Method Not Valid in This State");
pub const STATUS_INTERNAL_ERROR: (u16, &str) = (500, "Internal Server Error");

// ---- Encrypted RTSP (`rtspenc://`) --------------------------------------------------------

/// Top bit of the record's first u32 (BE): set on every encrypted record, never on plain text.
pub const ENCRYPTED_BIT: u32 = 0x8000_0000;
/// `typeAndLength` u32 BE ‖ `sequenceNumber` u32 BE ‖ 16-byte GCM tag.
pub const ENC_HEADER_LEN: usize = 24;
pub const ENC_TYPE_AND_LENGTH_OFFSET: usize = 0;
pub const ENC_SEQUENCE_OFFSET: usize = 4;
pub const ENC_TAG_OFFSET: usize = 8;
pub const ENC_TAG_LEN: usize = 16;
/// Nonce: sequence number as 4 LE bytes ‖ zeros ‖ direction byte ‖ stream byte.
pub const NONCE_DIRECTION_INDEX: usize = 10;
pub const NONCE_STREAM_INDEX: usize = 11;
pub const NONCE_FROM_CLIENT: u8 = b'C';
pub const NONCE_FROM_HOST: u8 = b'H';
pub const NONCE_RTSP_STREAM: u8 = b'R';

// ---- SETUP identifiers --------------------------------------------------------------------

/// `X-SS-Ping-Payload` must be exactly this many characters or the client ignores it.
pub const PING_PAYLOAD_LEN: usize = 16;

// ---- DESCRIBE body (host capabilities; the client searches it for substrings) -------------

pub const SDP_SS_FEATURE_FLAGS: &str = "x-ss-general.featureFlags";
/// Its bits (`LI_FF_*`): without one the client refuses to send those packets.
pub mod ss_feature {
    /// Screen touch and pen packets.
    pub const PEN_TOUCH_EVENTS: u32 = 0x01;
    /// Controller touchpad and motion packets.
    pub const CONTROLLER_TOUCH_EVENTS: u32 = 0x02;
}
pub const SDP_ENCRYPTION_SUPPORTED: &str = "x-ss-general.encryptionSupported";
pub const SDP_ENCRYPTION_REQUESTED: &str = "x-ss-general.encryptionRequested";
/// Line whose presence lets the client use reference-frame invalidation.
pub const SDP_RFI_LINE: &str = "a=x-nv-video[0].refPicInvalidation:1";
/// Base64 of an HEVC VPS prefix: the client offers HEVC only if this substring is present.
pub const SDP_HEVC_LINE: &str = "sprop-parameter-sets=AAAAAU";
/// The client offers AV1 only if `AV1/90000` is present.
pub const SDP_AV1_LINE: &str = "a=rtpmap:98 AV1/90000";
/// Followed by the digits of one Opus layout (channels, streams, coupled, mapping…).
pub const SDP_SURROUND_PARAMS_PREFIX: &str = "a=fmtp:97 surround-params=";
/// Longest `surround-params` value: 8 channels + 3 = 11 digits.
pub const SURROUND_PARAMS_MAX_LEN: usize = 11;

// ---- ANNOUNCE body (client stream configuration, `a=NAME:VALUE` lines) --------------------

/// Attribute lines start with this; every other SDP line is ignored.
pub const SDP_ATTRIBUTE_PREFIX: &[u8] = b"a=";
/// Separates an attribute's name from its value (the first one on the line).
pub const SDP_NAME_VALUE_SEPARATOR: u8 = b':';

pub const ANN_WIDTH: &str = "x-nv-video[0].clientViewportWd";
pub const ANN_HEIGHT: &str = "x-nv-video[0].clientViewportHt";
pub const ANN_FPS: &str = "x-nv-video[0].maxFPS";
pub const ANN_REFRESH_RATE_X100: &str = "x-nv-video[0].clientRefreshRateX100";
pub const ANN_PACKET_SIZE: &str = "x-nv-video[0].packetSize";
pub const ANN_SLICES_PER_FRAME: &str = "x-nv-video[0].videoEncoderSlicesPerFrame";
pub const ANN_MAX_REFERENCE_FRAMES: &str = "x-nv-video[0].maxNumReferenceFrames";
pub const ANN_ENCODER_CSC_MODE: &str = "x-nv-video[0].encoderCscMode";
pub const ANN_DYNAMIC_RANGE_MODE: &str = "x-nv-video[0].dynamicRangeMode";
pub const ANN_BITSTREAM_FORMAT: &str = "x-nv-vqos[0].bitStreamFormat";
pub const ANN_MAX_BITRATE: &str = "x-nv-vqos[0].bw.maximumBitrateKbps";
pub const ANN_CONFIGURED_BITRATE: &str = "x-ml-video.configuredBitrateKbps";
pub const ANN_MIN_FEC_PACKETS: &str = "x-nv-vqos[0].fec.minRequiredFecPackets";
pub const ANN_CHROMA_SAMPLING: &str = "x-ss-video[0].chromaSamplingType";
pub const ANN_INTRA_REFRESH: &str = "x-ss-video[0].intraRefresh";
pub const ANN_AUDIO_PACKET_DURATION: &str = "x-nv-aqos.packetDuration";
pub const ANN_AUDIO_CHANNELS: &str = "x-nv-audio.surround.numChannels";
pub const ANN_AUDIO_CHANNEL_MASK: &str = "x-nv-audio.surround.channelMask";
pub const ANN_AUDIO_QUALITY: &str = "x-nv-audio.surround.AudioQuality";
pub const ANN_CONTROL_PROTOCOL: &str = "x-nv-general.useReliableUdp";
pub const ANN_NV_FEATURE_FLAGS: &str = "x-nv-general.featureFlags";
pub const ANN_ML_FEATURE_FLAGS: &str = "x-ml-general.featureFlags";
pub const ANN_ENCRYPTION_ENABLED: &str = "x-ss-general.encryptionEnabled";
pub const ANN_VIDEO_QOS_TYPE: &str = "x-nv-vqos[0].qosTrafficType";
pub const ANN_AUDIO_QOS_TYPE: &str = "x-nv-aqos.qosTrafficType";

/// `bitStreamFormat` values.
pub const BITSTREAM_H264: u32 = 0;
pub const BITSTREAM_HEVC: u32 = 1;
pub const BITSTREAM_AV1: u32 = 2;

/// `chromaSamplingType` value that asks for YUV 4:4:4.
pub const CHROMA_444: u32 = 1;
/// `dynamicRangeMode` value that asks for a 10-bit HDR stream.
pub const DYNAMIC_RANGE_HDR: u32 = 1;

/// `x-nv-general.featureFlags` bit of the older audio-encryption opt-in; Sunshine treats it as
/// `encryptionEnabled |= AUDIO`.
pub const NV_FF_AUDIO_ENCRYPTION: u32 = 0x20;
/// `useReliableUdp` value of the fully encrypted ENet control stream (7.1.431 generation).
pub const CONTROL_PROTOCOL_ENCRYPTED: u32 = 13;

/// `x-ml-general.featureFlags` bits.
pub mod ml_feature {
    /// The client sends per-frame FEC status on the control stream.
    pub const FEC_STATUS: u32 = 0x01;
    /// The client puts the ping payload / connect data from SETUP into its pings and CONNECT.
    pub const SESSION_ID_V1: u32 = 0x02;
}

/// Sunshine's values for attributes a client may leave out.
pub mod defaults {
    pub const ENCODER_CSC_MODE: u32 = 0;
    pub const BITSTREAM_FORMAT: u32 = super::BITSTREAM_H264;
    pub const DYNAMIC_RANGE_MODE: u32 = 0;
    pub const AUDIO_PACKET_DURATION_MS: u32 = 5;
    pub const CONTROL_PROTOCOL: u32 = 1;
    pub const MIN_REQUIRED_FEC_PACKETS: u32 = 0;
    pub const NV_FEATURE_FLAGS: u32 = 135;
    pub const ML_FEATURE_FLAGS: u32 = 0;
    pub const VIDEO_QOS_TYPE: u32 = 5;
    pub const AUDIO_QOS_TYPE: u32 = 4;
    pub const CONFIGURED_BITRATE_KBPS: u32 = 0;
    pub const ENCRYPTION_ENABLED: u32 = 0;
    pub const CHROMA_SAMPLING_TYPE: u32 = 0;
    pub const INTRA_REFRESH: u32 = 0;
    pub const REFRESH_RATE_X100: u32 = 0;
}

/// What we accept in ANNOUNCE (inclusive ranges); anything outside is refused with 400.
pub mod limits {
    use core::ops::RangeInclusive;

    pub const DIMENSION: RangeInclusive<u32> = 1..=16384;
    pub const FPS: RangeInclusive<u32> = 1..=1000;
    /// Sunshine's `PACKETSIZE_MIN` and a bound below the UDP datagram limit.
    pub const PACKET_SIZE: RangeInclusive<u32> = 200..=65000;
    /// The client sends an `unsigned char`, at least 1.
    pub const SLICES_PER_FRAME: RangeInclusive<u32> = 1..=255;
    /// 0 = "any" (the decoder copes with RFI); codecs allow at most 16.
    pub const MAX_REFERENCE_FRAMES: RangeInclusive<u32> = 0..=16;
    /// `(colorSpace << 1) | colorRange`, colour spaces Rec.601/709/2020.
    pub const ENCODER_CSC_MODE: RangeInclusive<u32> = 0..=5;
    /// 0/1 flags (`dynamicRangeMode`, `chromaSamplingType`, `intraRefresh`, `AudioQuality`).
    pub const FLAG: RangeInclusive<u32> = 0..=1;
    pub const BITSTREAM_FORMAT: RangeInclusive<u32> = super::BITSTREAM_H264..=super::BITSTREAM_AV1;
    pub const MAX_BITRATE_KBPS: RangeInclusive<u32> = 1..=10_000_000;
    pub const CONFIGURED_BITRATE_KBPS: RangeInclusive<u32> = 0..=10_000_000;
    /// Parity shards per FEC block; a block holds at most 255 shards.
    pub const MIN_REQUIRED_FEC_PACKETS: RangeInclusive<u32> = 0..=254;
    pub const AUDIO_CHANNELS: RangeInclusive<u32> = 1..=8;
    /// Whole-millisecond Opus frame durations.
    pub const AUDIO_PACKET_DURATIONS_MS: &[u32] = &[5, 10, 20, 40, 60];
    /// `clientRefreshRateX100`: 0 (unknown) up to 1000 Hz.
    pub const REFRESH_RATE_X100: RangeInclusive<u32> = 0..=100_000;
    /// Sunshine uses `clientRefreshRateX100` as the exact frame rate only within ±1 % of `maxFPS`.
    pub const REFRESH_RATE_TOLERANCE_PERCENT: u32 = 1;
}
