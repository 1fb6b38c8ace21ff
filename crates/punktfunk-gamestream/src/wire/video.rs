//! Video plane (UDP base + 9): the shard layout, its flags, the frame header, FEC limits,
//! the encrypted-shard prefix and the client's pings.
//!
//! Layout of one unencrypted shard (`packetSize + 16` bytes):
//! RTP header (12) ‖ RTP extension (4) ‖ NV video header (16) ‖ payload (`packetSize − 16`).

// --- RTP part -------------------------------------------------------------------------------

/// Fixed RTP header length.
pub const RTP_HEADER_LEN: usize = 12;
/// The 4 extension bytes the client skips because [`RTP_FLAG_EXTENSION`] is set.
pub const RTP_EXTENSION_LEN: usize = 4;
/// RTP version 2 in the top bits of byte 0.
pub const RTP_VERSION_2: u8 = 0x80;
/// RTP extension bit; every GameStream video shard has it.
pub const RTP_FLAG_EXTENSION: u8 = 0x10;
/// RTP byte 0 of every shard: version 2 with extension.
pub const RTP_BYTE0: u8 = RTP_VERSION_2 | RTP_FLAG_EXTENSION;
/// The RTP timestamp clock (90 kHz).
pub const RTP_CLOCK_HZ: u32 = 90_000;

/// Offset of RTP byte 0.
pub const OFF_RTP_BYTE0: usize = 0;
/// Offset of the RTP payload type byte (unused for video).
pub const OFF_RTP_PAYLOAD_TYPE: usize = 1;
/// Offset of the RTP sequence number (u16 BE).
pub const OFF_RTP_SEQUENCE: usize = 2;
/// Offset of the RTP timestamp (u32 BE, 90 kHz).
pub const OFF_RTP_TIMESTAMP: usize = 4;
/// Offset of the RTP SSRC (u32 BE, always 0).
pub const OFF_RTP_SSRC: usize = 8;
/// Offset of the 4 reserved extension bytes.
pub const OFF_RTP_EXTENSION: usize = 12;

// --- NV video header (all multi-byte fields LE) -----------------------------------------------

/// NV video header length (`NV_VIDEO_PACKET`).
pub const NV_HEADER_LEN: usize = 16;
/// Offset of the NV header in a shard.
pub const OFF_NV_HEADER: usize = RTP_HEADER_LEN + RTP_EXTENSION_LEN;
/// `streamPacketIndex`: u32 LE = 24-bit running packet number `<< 8`.
pub const OFF_STREAM_PACKET_INDEX: usize = OFF_NV_HEADER;
/// `frameIndex`: u32 LE.
pub const OFF_FRAME_INDEX: usize = OFF_NV_HEADER + 4;
/// `flags`: u8.
pub const OFF_FLAGS: usize = OFF_NV_HEADER + 8;
/// `extraFlags`: u8.
pub const OFF_EXTRA_FLAGS: usize = OFF_NV_HEADER + 9;
/// `multiFecFlags`: u8.
pub const OFF_MULTI_FEC_FLAGS: usize = OFF_NV_HEADER + 10;
/// `multiFecBlocks`: u8.
pub const OFF_MULTI_FEC_BLOCKS: usize = OFF_NV_HEADER + 11;
/// `fecInfo`: u32 LE.
pub const OFF_FEC_INFO: usize = OFF_NV_HEADER + 12;
/// Bytes of a shard before its payload (RTP + extension + NV header).
pub const SHARD_HEADER_LEN: usize = OFF_NV_HEADER + NV_HEADER_LEN;

/// The announced `packetSize` counts the NV header and the payload; the shard on the wire adds
/// the RTP header and extension (the client's `MAX_RTP_HEADER_SIZE`).
pub const PACKET_SIZE_OVERHEAD: usize = RTP_HEADER_LEN + RTP_EXTENSION_LEN;

/// `streamPacketIndex` holds the packet number shifted left by this.
pub const STREAM_PACKET_INDEX_SHIFT: u32 = 8;

/// `flags`: the shard carries picture data (always set).
pub const FLAG_CONTAINS_PIC_DATA: u8 = 0x01;
/// `flags`: last data shard of an FEC block.
pub const FLAG_EOF: u8 = 0x02;
/// `flags`: first data shard of an FEC block.
pub const FLAG_SOF: u8 = 0x04;

/// `extraFlags` value we send (no long-term-reference marking).
pub const EXTRA_FLAGS_NONE: u8 = 0x00;
/// `multiFecFlags` value the client expects.
pub const MULTI_FEC_FLAGS: u8 = 0x10;
/// `multiFecBlocks`: index of this FEC block, bits 4–5.
pub const MULTI_FEC_BLOCK_INDEX_SHIFT: u32 = 4;
/// `multiFecBlocks`: index of the frame's last FEC block, bits 6–7.
pub const MULTI_FEC_LAST_BLOCK_SHIFT: u32 = 6;

/// `fecInfo`: FEC percentage of the block, bits 4–11.
pub const FEC_INFO_PERCENT_SHIFT: u32 = 4;
/// `fecInfo`: shard index inside the block, bits 12–21.
pub const FEC_INFO_SHARD_INDEX_SHIFT: u32 = 12;
/// `fecInfo`: data shard count of the block, bits 22–31.
pub const FEC_INFO_DATA_SHARDS_SHIFT: u32 = 22;
/// Largest value of the 10-bit shard index and data-count fields.
pub const FEC_INFO_INDEX_MAX: usize = 0x3FF;

// --- FEC limits -------------------------------------------------------------------------------

/// At most this many FEC blocks per frame (2-bit block index).
pub const MAX_FEC_BLOCKS: usize = 4;
/// Reed–Solomon (nanors) limit on data + parity shards per block.
pub const RS_MAX_SHARDS: usize = 255;
/// GF(2^8) reduction polynomial x⁸+x⁴+x³+x²+1 (nanors' tables).
pub const GF_POLYNOMIAL: u16 = 0x11D;

// --- Frame header (8 bytes at the start of the frame's byte stream) ---------------------------

/// Length of the short frame header.
pub const FRAME_HEADER_LEN: usize = 8;
/// Header type byte of the 8-byte header.
pub const FRAME_HEADER_TYPE_SHORT: u8 = 0x01;
/// Offset of the header type.
pub const OFF_FRAME_HEADER_TYPE: usize = 0;
/// Offset of the host processing latency (u16 LE, 0.1 ms).
pub const OFF_FRAME_HEADER_LATENCY: usize = 1;
/// Offset of the frame type.
pub const OFF_FRAME_HEADER_FRAME_TYPE: usize = 3;
/// Offset of the last payload length (u16 LE).
pub const OFF_FRAME_HEADER_LAST_PAYLOAD_LEN: usize = 4;

/// Frame type: P-frame.
pub const FRAME_TYPE_P: u8 = 1;
/// Frame type: IDR / key frame.
pub const FRAME_TYPE_IDR: u8 = 2;
/// Frame type: P-frame with intra refresh.
pub const FRAME_TYPE_INTRA_REFRESH: u8 = 4;
/// Frame type: first frame after reference-frame invalidation.
pub const FRAME_TYPE_AFTER_INVALIDATION: u8 = 5;

// --- Encrypted shard prefix (`ENC_VIDEO_HEADER`) ----------------------------------------------

/// IV ‖ frame number ‖ GCM tag in front of each encrypted shard.
pub const ENC_PREFIX_LEN: usize = 32;
/// Offset and length of the 12-byte AES-GCM nonce.
pub const ENC_OFF_IV: usize = 0;
pub const ENC_IV_LEN: usize = 12;
/// Offset of the frame number (u32 LE, unauthenticated).
pub const ENC_OFF_FRAME_NUMBER: usize = 12;
/// Offset and length of the GCM tag.
pub const ENC_OFF_TAG: usize = 16;
pub const ENC_TAG_LEN: usize = 16;
/// Last IV byte: marks the video stream among the uses of the session key.
pub const ENC_IV_STREAM_TAG: u8 = b'V';
/// Position of [`ENC_IV_STREAM_TAG`] in the IV; bytes 0–7 hold the LE counter, 8–10 are zero.
pub const ENC_IV_OFF_STREAM_TAG: usize = 11;

// --- Client pings (video and audio ports) -----------------------------------------------------

/// Bytes of the `X-SS-Ping-Payload` echoed at the start of a ping.
pub const PING_PAYLOAD_LEN: usize = 16;
/// Payload ‖ u32 BE sequence number (`SS_PING`).
pub const PING_LEN: usize = PING_PAYLOAD_LEN + 4;
/// The legacy ping, sent when the client got no ping payload.
pub const LEGACY_PING: [u8; 4] = *b"PING";
