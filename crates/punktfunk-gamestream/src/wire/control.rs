//! Control-stream wire numbers (ENet payloads on UDP base + 10), for the encrypted generation that
//! clients use against a host reporting `appversion` ≥ 7.1.431 (`SS_ENC_CONTROL_V2`).
//!
//! All multi-byte fields are little-endian unless a constant says otherwise.

/// Outer type of the encrypted envelope; the only type an encrypted session may carry.
pub const ENCRYPTED_HEADER_TYPE: u16 = 0x0001;

/// Envelope: u16 type ‖ u16 length ‖ u32 seq ‖ 16-byte GCM tag ‖ ciphertext.
pub const ENVELOPE_TYPE_LEN: usize = 2;
/// The `length` field that follows the type; it counts everything after itself.
pub const ENVELOPE_LENGTH_FIELD_LEN: usize = 2;
/// Bytes before the sequence number: type and length.
pub const ENVELOPE_PREFIX_LEN: usize = ENVELOPE_TYPE_LEN + ENVELOPE_LENGTH_FIELD_LEN;
/// The per-direction message counter that feeds the nonce.
pub const SEQ_LEN: usize = 4;
/// AES-GCM tag, stored before the ciphertext.
pub const TAG_LEN: usize = 16;
/// Offset of the tag in the envelope.
pub const TAG_OFFSET: usize = ENVELOPE_PREFIX_LEN + SEQ_LEN;
/// Offset of the ciphertext in the envelope.
pub const CIPHERTEXT_OFFSET: usize = TAG_OFFSET + TAG_LEN;

/// Inner (plaintext) header: u16 type ‖ u16 payload length ("V2" header).
pub const INNER_HEADER_LEN: usize = 4;
/// Smallest valid envelope `length`: seq, tag and an inner header (the client calls anything
/// shorter a runt).
pub const MIN_ENVELOPE_LENGTH: usize = SEQ_LEN + TAG_LEN + INNER_HEADER_LEN;
/// Largest payload that fits the u16 envelope `length`.
pub const MAX_PAYLOAD_LEN: usize = u16::MAX as usize - MIN_ENVELOPE_LENGTH;

/// AES-GCM nonce: seq as 4 LE bytes ‖ zeros ‖ a 2-byte direction tag at the end.
pub const NONCE_LEN: usize = 12;
/// Where the direction tag sits in the nonce.
pub const NONCE_DIRECTION_OFFSET: usize = 10;
/// Direction tag of client → host messages ('C'lient, 'C'ontrol).
pub const NONCE_CLIENT_TO_HOST: [u8; 2] = *b"CC";
/// Direction tag of host → client messages ('H'ost, 'C'ontrol).
pub const NONCE_HOST_TO_CLIENT: [u8; 2] = *b"HC";

/// Inner message types of the encrypted generation (moonlight-common-c `packetTypesGen7Enc`
/// plus the types it sends outside that table).
pub mod message_type {
    // Client → host.
    /// Periodic ping, every 100 ms, reliable.
    pub const PING: u16 = 0x0200;
    /// Loss statistics (not sent to hosts ≥ 7.1.415; kept for completeness).
    pub const LOSS_STATS: u16 = 0x0201;
    /// Frame statistics (never sent by current clients).
    pub const FRAME_STATS: u16 = 0x0204;
    /// Input packet (chapter 04); the payload is one input packet.
    pub const INPUT: u16 = 0x0206;
    /// Invalidate reference frames: first, last frame index.
    pub const INVALIDATE_REFERENCE_FRAMES: u16 = 0x0301;
    /// Request an IDR frame. An encrypted client's "Start A" is this message.
    pub const REQUEST_IDR: u16 = 0x0302;
    /// "Start A" of unencrypted generations; an encrypted client never sends it.
    pub const START_A_UNENCRYPTED: u16 = 0x0305;
    /// Start B, the second message after connect.
    pub const START_B: u16 = 0x0307;
    /// Long-term-reference frame acknowledgement (Sunshine + RFI only).
    pub const LTR_FRAME_ACK: u16 = 0x0350;
    /// Per-frame FEC status (Sunshine extension); same number as `SET_RGB_LED`, other direction.
    pub const FRAME_FEC_STATUS: u16 = 0x5502;

    // Host → client.
    /// Termination with a u32 BE error code ("extended" form).
    pub const TERMINATION: u16 = 0x0109;
    /// Controller rumble.
    pub const RUMBLE: u16 = 0x010b;
    /// HDR mode and metadata.
    pub const HDR_MODE: u16 = 0x010e;
    /// Trigger rumble (Sunshine extension).
    pub const RUMBLE_TRIGGERS: u16 = 0x5500;
    /// Ask the client to report a motion sensor (Sunshine extension).
    pub const SET_MOTION_EVENT: u16 = 0x5501;
    /// Controller light-bar colour (Sunshine extension).
    pub const SET_RGB_LED: u16 = 0x5502;
    /// DualSense adaptive-trigger effect (Sunshine extension).
    pub const SET_ADAPTIVE_TRIGGERS: u16 = 0x5503;
}

/// Termination error codes (HRESULT-style, sent big-endian).
pub mod termination {
    /// `NVST_DISCONN_SERVER_TERMINATED_CLOSED`: graceful end; the client reports no error once it
    /// has seen a video frame.
    pub const GRACEFUL: u32 = 0x8003_0023;
    /// `NVST_DISCONN_SERVER_VFP_PROTECTED_CONTENT`: protected content on screen.
    pub const PROTECTED_CONTENT: u32 = 0x800E_9302;
    /// `NVST_DISCONN_SERVER_VIDEO_ENCODER_CONVERT_INPUT_FRAME_FAILED`.
    pub const FRAME_CONVERSION_FAILED: u32 = 0x800E_9403;
}

/// Loss statistics payload (all LE): u32 count ‖ u32 interval ms ‖ u32 ‖ u64 last good frame ‖ …
pub mod loss_stats {
    pub const COUNT_OFFSET: usize = 0;
    pub const INTERVAL_MS_OFFSET: usize = 4;
    pub const LAST_GOOD_FRAME_OFFSET: usize = 12;
    /// Bytes needed to read the fields above.
    pub const MIN_LEN: usize = LAST_GOOD_FRAME_OFFSET + 8;
}

/// Sunshine-generation per-frame FEC report (sent when a frame needed recovery or was lost):
/// every field big-endian, packed.
pub mod frame_fec_status {
    pub const FRAME_INDEX_OFFSET: usize = 0;
    pub const TOTAL_DATA_OFFSET: usize = 10;
    pub const TOTAL_PARITY_OFFSET: usize = 12;
    pub const RECEIVED_DATA_OFFSET: usize = 14;
    pub const RECEIVED_PARITY_OFFSET: usize = 16;
    pub const FEC_PERCENT_OFFSET: usize = 18;
    pub const BLOCK_INDEX_OFFSET: usize = 19;
    pub const BLOCK_COUNT_OFFSET: usize = 20;
    /// Bytes needed to read the fields above.
    pub const MIN_LEN: usize = 21;
}

/// Invalidate-reference-frames payload: i64 LE first ‖ i64 LE last ‖ 8 reserved bytes.
pub mod invalidate {
    pub const FIRST_OFFSET: usize = 0;
    pub const LAST_OFFSET: usize = 8;
    /// Bytes needed to read both indices (the client sends 24).
    pub const MIN_LEN: usize = LAST_OFFSET + 8;
}

/// Rumble payload: 4 unused bytes ‖ u16 controller ‖ u16 low-frequency ‖ u16 high-frequency.
pub const RUMBLE_PADDING_LEN: usize = 4;
/// DualSense trigger effect parameters per trigger, opaque bytes.
pub const DS_EFFECT_PAYLOAD_LEN: usize = 10;
/// Adaptive-trigger flag: the right trigger's effect is present.
pub const ADAPTIVE_TRIGGER_RIGHT: u8 = 0x04;
/// Adaptive-trigger flag: the left trigger's effect is present.
pub const ADAPTIVE_TRIGGER_LEFT: u8 = 0x08;
/// HDR mode payload: u8 enabled ‖ 3 × (x, y) primaries ‖ white point (x, y) ‖ 5 luminance u16s.
pub const HDR_MODE_PAYLOAD_LEN: usize = 27;
