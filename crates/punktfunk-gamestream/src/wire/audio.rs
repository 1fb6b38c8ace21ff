//! Audio plane numbers (UDP base + 11): RTP framing, the 4+2 audio FEC, AES-CBC and the Opus
//! layouts Sunshine offers. Sources: Sunshine `src/stream.cpp` (`audioBroadcastThread`),
//! `src/audio.cpp` (`stream_configs`), `src/rtsp.cpp` (`cmd_describe`); moonlight-common-c
//! `src/RtpAudioQueue.{c,h}`, `src/AudioStream.c`, `src/RtspConnection.c`.

/// RTP byte 0 of every audio datagram: version 2, no padding, extension, CSRCs or marker.
pub const RTP_VERSION_BYTE: u8 = 0x80;
/// RTP payload type of an Opus data packet (also what the FEC header says recovered packets are).
pub const PAYLOAD_TYPE_OPUS: u8 = 97;
/// RTP payload type of an audio FEC packet.
pub const PAYLOAD_TYPE_FEC: u8 = 127;
/// SSRC of every audio packet and of recovered packets (the FEC header's `ssrc`).
pub const SSRC: u32 = 0;
/// Timestamp written into the RTP header of FEC packets (the client ignores it).
pub const FEC_RTP_TIMESTAMP: u32 = 0;

/// RTP header: byte 0, payload type, sequence (u16 BE), timestamp (u32 BE), SSRC (u32 BE).
pub const RTP_HEADER_LEN: usize = 12;
pub const RTP_OFFSET_PAYLOAD_TYPE: usize = 1;
pub const RTP_OFFSET_SEQUENCE: usize = 2;
pub const RTP_OFFSET_TIMESTAMP: usize = 4;
pub const RTP_OFFSET_SSRC: usize = 8;

/// FEC header after the RTP header: shard index u8, payload type u8, base sequence u16 BE,
/// base timestamp u32 BE, SSRC u32 BE.
pub const FEC_HEADER_LEN: usize = 12;
pub const FEC_OFFSET_SHARD_INDEX: usize = 0;
pub const FEC_OFFSET_PAYLOAD_TYPE: usize = 1;
pub const FEC_OFFSET_BASE_SEQUENCE: usize = 2;
pub const FEC_OFFSET_BASE_TIMESTAMP: usize = 4;
pub const FEC_OFFSET_SSRC: usize = 8;

/// Data packets per FEC block; a block starts at a sequence number divisible by this.
pub const DATA_SHARDS: usize = 4;
/// Parity packets sent right after the 4th data packet of a block.
pub const FEC_SHARDS: usize = 2;
/// The fixed parity rows (GF(2^8), polynomial [`GF_POLYNOMIAL`]) both ends hard-code in place
/// of nanors' own matrix: parity `j` = Σ `FEC_PARITY_ROWS[j][i]` · payload `i`.
pub const FEC_PARITY_ROWS: [[u8; DATA_SHARDS]; FEC_SHARDS] =
    [[0x77, 0x40, 0x38, 0x0e], [0xc7, 0xa7, 0x0d, 0x6c]];
/// Reduction polynomial of the FEC field: x^8 + x^4 + x^3 + x^2 + 1.
pub const GF_POLYNOMIAL: u16 = 0x11d;

/// The client's receive buffer: longer datagrams (data or FEC) arrive truncated.
pub const MAX_DATAGRAM_LEN: usize = 1400;

/// AES block size: CBC ciphertext is the plaintext rounded up to the next multiple (PKCS#7
/// always adds 1–16 bytes). The IV is BE32(`rikeyid` + sequence) followed by zeros.
pub const AES_BLOCK_LEN: usize = 16;

/// Opus always runs at 48 kHz here.
pub const SAMPLE_RATE: u32 = 48_000;
/// `x-nv-aqos.packetDuration` values the client sends (ms); 5 is the default.
pub const PACKET_DURATION_DEFAULT_MS: u8 = 5;
pub const PACKET_DURATION_SLOW_DECODER_MS: u8 = 10;

/// DESCRIBE line prefix; the value is `<channels><streams><coupled><mapping digits…>`.
pub const SURROUND_PARAMS_PREFIX: &str = "a=fmtp:97 surround-params=";
/// The client undoes an old GFE quirk on the first (normal-quality) 6- or 8-channel line: it
/// moves mapping entry `channels − 1` to this index and shifts the entries from here up by one.
pub const NORMAL_QUALITY_LFE_INDEX: usize = 3;

/// Channel order of the interleaved PCM the encoder takes and the client's decoder plays.
pub mod speaker {
    pub const FRONT_LEFT: u8 = 0;
    pub const FRONT_RIGHT: u8 = 1;
    pub const FRONT_CENTER: u8 = 2;
    pub const LOW_FREQUENCY: u8 = 3;
    pub const BACK_LEFT: u8 = 4;
    pub const BACK_RIGHT: u8 = 5;
    pub const SIDE_LEFT: u8 = 6;
    pub const SIDE_RIGHT: u8 = 7;
    pub const MAX_CHANNELS: usize = 8;
}

/// `x-nv-audio.surround.channelMask` values (informational; the channel count decides).
pub mod channel_mask {
    pub const STEREO: u32 = 0x3;
    pub const SURROUND_51: u32 = 0x3f;
    pub const SURROUND_71: u32 = 0x63f;
}

/// Opus bit rates Sunshine uses per layout (bit/s), hard CBR.
pub mod bitrate {
    pub const STEREO: u32 = 96_000;
    pub const STEREO_HIGH: u32 = 512_000;
    pub const SURROUND_51: u32 = 256_000;
    pub const SURROUND_51_HIGH: u32 = 1_536_000;
    pub const SURROUND_71: u32 = 450_000;
    pub const SURROUND_71_HIGH: u32 = 2_048_000;
}
