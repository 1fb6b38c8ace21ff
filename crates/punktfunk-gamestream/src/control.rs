//! The encrypted control stream of current Moonlight clients (host `appversion` ≥ 7.1.431 with
//! `SS_ENC_CONTROL_V2`): the AES-128-GCM envelope around each ENet packet, the client messages the
//! host acts on, and the host → client messages.
//!
//! Envelope: u16 LE 0x0001 ‖ u16 LE length (of everything after it) ‖ u32 LE seq ‖ 16-byte tag ‖
//! ciphertext of (u16 LE type ‖ u16 LE payload length ‖ payload). Nonce: seq LE ‖ 6 zeros ‖ `CC`
//! (client → host) or `HC` (host → client). Each side counts its own seq from 0; neither checks
//! the other's order, because ENet channels deliver independently of one another.
//!
//! The host puts [`ControlCipher::seal`]'s bytes into reliable ENet packets itself.

use ring::aead::{Aad, LessSafeKey, Nonce, Tag, UnboundKey, AES_128_GCM};

use crate::wire::control::{
    invalidate, loss_stats, message_type, termination, ADAPTIVE_TRIGGER_LEFT,
    ADAPTIVE_TRIGGER_RIGHT, CIPHERTEXT_OFFSET, DS_EFFECT_PAYLOAD_LEN, ENCRYPTED_HEADER_TYPE,
    ENVELOPE_PREFIX_LEN, HDR_MODE_PAYLOAD_LEN, INNER_HEADER_LEN, MAX_PAYLOAD_LEN,
    MIN_ENVELOPE_LENGTH, NONCE_CLIENT_TO_HOST, NONCE_DIRECTION_OFFSET, NONCE_HOST_TO_CLIENT,
    NONCE_LEN, RUMBLE_PADDING_LEN, SEQ_LEN, TAG_LEN, TAG_OFFSET,
};

/// The graceful termination code: the client ends without an error dialog.
pub const TERMINATION_GRACEFUL: u32 = termination::GRACEFUL;
/// Termination code for protected content on screen.
pub const TERMINATION_PROTECTED_CONTENT: u32 = termination::PROTECTED_CONTENT;
/// Termination code for an encoder that could not convert its input frame.
pub const TERMINATION_FRAME_CONVERSION_FAILED: u32 = termination::FRAME_CONVERSION_FAILED;

/// Why a control packet was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    #[error("control packet of {got} bytes is shorter than the {needed} bytes it needs")]
    Truncated { needed: usize, got: usize },
    #[error("unencrypted control message (type {message_type:#06x}) on an encrypted stream")]
    Unencrypted { message_type: u16 },
    #[error("runt encrypted control packet: length field {0} is below the minimum")]
    Runt(usize),
    #[error("control packet failed AES-GCM authentication")]
    Authentication,
    #[error("an encrypted envelope nested inside another")]
    NestedEnvelope,
    #[error("control message {message_type:#06x} has a {got}-byte payload, needs {needed}")]
    ShortPayload {
        message_type: u16,
        needed: usize,
        got: usize,
    },
}

impl ControlError {
    /// Whether the host should end the session: every failure to open an envelope (plaintext,
    /// malformed, forged or desynchronised) is; a well-authenticated message with a short payload
    /// is only dropped.
    pub fn is_fatal(&self) -> bool {
        !matches!(self, ControlError::ShortPayload { .. })
    }
}

/// One decrypted control message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlMessage {
    pub message_type: u16,
    pub payload: Vec<u8>,
}

/// Which way a cipher seals; it opens the other way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    HostToClient,
    ClientToHost,
}

impl Direction {
    fn tag(self) -> [u8; 2] {
        match self {
            Direction::HostToClient => NONCE_HOST_TO_CLIENT,
            Direction::ClientToHost => NONCE_CLIENT_TO_HOST,
        }
    }

    fn reverse(self) -> Self {
        match self {
            Direction::HostToClient => Direction::ClientToHost,
            Direction::ClientToHost => Direction::HostToClient,
        }
    }
}

/// The AES-GCM state of one control stream: the launch key (`rikey`) and the own send counter.
pub struct ControlCipher {
    key: LessSafeKey,
    sends: Direction,
    next_seq: u32,
    exhausted: bool,
}

impl std::fmt::Debug for ControlCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlCipher")
            .field("sends", &self.sends)
            .field("next_seq", &self.next_seq)
            .finish_non_exhaustive()
    }
}

impl ControlCipher {
    /// The host's side: seals with `HC`, opens the client's `CC` messages.
    pub fn new(key: [u8; 16]) -> Self {
        Self::with_direction(key, Direction::HostToClient)
    }

    /// The client's side (seals `CC`, opens `HC`), for tests and simulated clients.
    pub fn new_client(key: [u8; 16]) -> Self {
        Self::with_direction(key, Direction::ClientToHost)
    }

    fn with_direction(key: [u8; 16], sends: Direction) -> Self {
        let unbound = UnboundKey::new(&AES_128_GCM, &key).expect("a 16-byte key suits AES-128-GCM");
        Self {
            key: LessSafeKey::new(unbound),
            sends,
            next_seq: 0,
            exhausted: false,
        }
    }

    /// The sequence number the next [`seal`](Self::seal) uses.
    pub fn next_seq(&self) -> u32 {
        self.next_seq
    }

    /// Authenticates and decrypts one ENet packet from the peer. Every error means the stream
    /// can't be trusted any more ([`ControlError::is_fatal`]).
    pub fn open(&mut self, packet: &[u8]) -> Result<ControlMessage, ControlError> {
        let outer_type = read_u16_le(packet, 0).ok_or(ControlError::Truncated {
            needed: ENVELOPE_PREFIX_LEN,
            got: packet.len(),
        })?;
        if outer_type != ENCRYPTED_HEADER_TYPE {
            return Err(ControlError::Unencrypted {
                message_type: outer_type,
            });
        }
        let length = read_u16_le(packet, 2).ok_or(ControlError::Truncated {
            needed: ENVELOPE_PREFIX_LEN,
            got: packet.len(),
        })?;
        let length = usize::from(length);
        if length < MIN_ENVELOPE_LENGTH {
            return Err(ControlError::Runt(length));
        }
        let end = ENVELOPE_PREFIX_LEN + length;
        if packet.len() < end {
            return Err(ControlError::Truncated {
                needed: end,
                got: packet.len(),
            });
        }
        let seq = read_u32_le(packet, ENVELOPE_PREFIX_LEN).expect("length checked above");
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&packet[TAG_OFFSET..CIPHERTEXT_OFFSET]);
        let mut plaintext = packet[CIPHERTEXT_OFFSET..end].to_vec();
        self.key
            .open_in_place_separate_tag(
                nonce(seq, self.sends.reverse()),
                Aad::empty(),
                Tag::from(tag),
                &mut plaintext,
                0..,
            )
            .map_err(|_| ControlError::Authentication)?;
        split_inner(plaintext)
    }

    /// Encrypts one message for the peer under the next sequence number.
    ///
    /// # Panics
    /// If `payload` exceeds [`MAX_PAYLOAD_LEN`] (no control message comes close) or after 2³²
    /// messages, rather than reuse a nonce.
    pub fn seal(&mut self, message_type: u16, payload: &[u8]) -> Vec<u8> {
        assert!(
            payload.len() <= MAX_PAYLOAD_LEN,
            "control payload of {} bytes exceeds the envelope",
            payload.len()
        );
        assert!(!self.exhausted, "control sequence numbers exhausted");
        let seq = self.next_seq;
        match self.next_seq.checked_add(1) {
            Some(next) => self.next_seq = next,
            None => self.exhausted = true,
        }

        let inner_len = INNER_HEADER_LEN + payload.len();
        let mut packet = Vec::with_capacity(CIPHERTEXT_OFFSET + inner_len);
        packet.extend_from_slice(&ENCRYPTED_HEADER_TYPE.to_le_bytes());
        packet.extend_from_slice(&len_u16(SEQ_LEN + TAG_LEN + inner_len).to_le_bytes());
        packet.extend_from_slice(&seq.to_le_bytes());
        packet.extend_from_slice(&[0u8; TAG_LEN]);
        packet.extend_from_slice(&message_type.to_le_bytes());
        packet.extend_from_slice(&len_u16(payload.len()).to_le_bytes());
        packet.extend_from_slice(payload);

        let tag = self
            .key
            .seal_in_place_separate_tag(
                nonce(seq, self.sends),
                Aad::empty(),
                &mut packet[CIPHERTEXT_OFFSET..],
            )
            .expect("AES-GCM seals any message this small");
        packet[TAG_OFFSET..CIPHERTEXT_OFFSET].copy_from_slice(tag.as_ref());
        packet
    }
}

fn nonce(seq: u32, direction: Direction) -> Nonce {
    let mut bytes = [0u8; NONCE_LEN];
    bytes[..SEQ_LEN].copy_from_slice(&seq.to_le_bytes());
    bytes[NONCE_DIRECTION_OFFSET..].copy_from_slice(&direction.tag());
    Nonce::assume_unique_for_key(bytes)
}

/// Splits the plaintext into inner type and payload. A payload length beyond the bytes present is
/// cut to what is there (the message is authentic, so this is the peer's rounding, not an attack).
fn split_inner(mut plaintext: Vec<u8>) -> Result<ControlMessage, ControlError> {
    let message_type = read_u16_le(&plaintext, 0).ok_or(ControlError::Truncated {
        needed: INNER_HEADER_LEN,
        got: plaintext.len(),
    })?;
    let declared = read_u16_le(&plaintext, 2).ok_or(ControlError::Truncated {
        needed: INNER_HEADER_LEN,
        got: plaintext.len(),
    })?;
    if message_type == ENCRYPTED_HEADER_TYPE {
        return Err(ControlError::NestedEnvelope);
    }
    let payload_len = usize::from(declared).min(plaintext.len() - INNER_HEADER_LEN);
    plaintext.truncate(INNER_HEADER_LEN + payload_len);
    plaintext.drain(..INNER_HEADER_LEN);
    Ok(ControlMessage {
        message_type,
        payload: plaintext,
    })
}

fn len_u16(len: usize) -> u16 {
    u16::try_from(len).expect("bounded by MAX_PAYLOAD_LEN")
}

/// What a client message asks of the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    /// Periodic keep-alive (every 100 ms).
    Ping,
    /// Loss statistics of old clients (what Sunshine reads of them).
    LossStats {
        count: i32,
        time_interval_ms: i32,
        last_good_frame: u64,
    },
    /// Frame statistics (never sent by current clients).
    FrameStats,
    /// Encode the next frame as an IDR frame. Also the encrypted client's "Start A".
    RequestIdr,
    /// Second start message; nothing to do.
    StartB,
    /// No later frame may reference a frame in `first..=last`.
    InvalidateReferenceFrames { first: i64, last: i64 },
    /// How a frame's FEC block fared at the client: it needed recovery or was lost. The
    /// difference between sent and received packets is what the network lost.
    FrameFecStatus {
        frame_index: u32,
        total_data: u16,
        total_parity: u16,
        received_data: u16,
        received_parity: u16,
        fec_percent: u8,
        block_index: u8,
        block_count: u8,
    },
    /// One input packet, for [`crate::input::decode_input`].
    Input(Vec<u8>),
    /// Anything else (e.g. LTR ACK 0x0350, FEC status 0x5502): ignore.
    Unknown { message_type: u16 },
}

/// Interprets a decrypted client message.
pub fn parse_client_message(msg: &ControlMessage) -> Result<ClientMessage, ControlError> {
    let payload = msg.payload.as_slice();
    let need = |needed: usize| {
        if payload.len() < needed {
            Err(ControlError::ShortPayload {
                message_type: msg.message_type,
                needed,
                got: payload.len(),
            })
        } else {
            Ok(())
        }
    };
    Ok(match msg.message_type {
        message_type::PING => ClientMessage::Ping,
        message_type::LOSS_STATS => {
            need(loss_stats::MIN_LEN)?;
            ClientMessage::LossStats {
                count: le_i32(payload, loss_stats::COUNT_OFFSET),
                time_interval_ms: le_i32(payload, loss_stats::INTERVAL_MS_OFFSET),
                last_good_frame: le_u64(payload, loss_stats::LAST_GOOD_FRAME_OFFSET),
            }
        }
        message_type::FRAME_STATS => ClientMessage::FrameStats,
        message_type::FRAME_FEC_STATUS => {
            use crate::wire::control::frame_fec_status as f;
            need(f::MIN_LEN)?;
            let be16 = |at: usize| u16::from_be_bytes([payload[at], payload[at + 1]]);
            ClientMessage::FrameFecStatus {
                frame_index: u32::from_be_bytes([
                    payload[f::FRAME_INDEX_OFFSET],
                    payload[f::FRAME_INDEX_OFFSET + 1],
                    payload[f::FRAME_INDEX_OFFSET + 2],
                    payload[f::FRAME_INDEX_OFFSET + 3],
                ]),
                total_data: be16(f::TOTAL_DATA_OFFSET),
                total_parity: be16(f::TOTAL_PARITY_OFFSET),
                received_data: be16(f::RECEIVED_DATA_OFFSET),
                received_parity: be16(f::RECEIVED_PARITY_OFFSET),
                fec_percent: payload[f::FEC_PERCENT_OFFSET],
                block_index: payload[f::BLOCK_INDEX_OFFSET],
                block_count: payload[f::BLOCK_COUNT_OFFSET],
            }
        }
        message_type::REQUEST_IDR => ClientMessage::RequestIdr,
        message_type::START_B => ClientMessage::StartB,
        message_type::INVALIDATE_REFERENCE_FRAMES => {
            need(invalidate::MIN_LEN)?;
            ClientMessage::InvalidateReferenceFrames {
                first: le_u64(payload, invalidate::FIRST_OFFSET) as i64,
                last: le_u64(payload, invalidate::LAST_OFFSET) as i64,
            }
        }
        message_type::INPUT => ClientMessage::Input(payload.to_vec()),
        other => ClientMessage::Unknown {
            message_type: other,
        },
    })
}

fn read_u16_le(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn read_u32_le(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Callers have checked the length.
fn le_i32(bytes: &[u8], at: usize) -> i32 {
    read_u32_le(bytes, at).unwrap_or_default() as i32
}

/// Callers have checked the length.
fn le_u64(bytes: &[u8], at: usize) -> u64 {
    bytes
        .get(at..at + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
        .unwrap_or_default()
}

// ---- Host → client messages: (type, payload) pairs for `ControlCipher::seal`. ----

/// Termination: the error code big-endian. Send [`TERMINATION_GRACEFUL`] before every intentional
/// disconnect.
pub fn termination(reason: u32) -> (u16, Vec<u8>) {
    (message_type::TERMINATION, reason.to_be_bytes().to_vec())
}

/// Rumble of the client's controller `controller`; persists until the next rumble (0/0 stops).
pub fn rumble(controller: u16, low: u16, high: u16) -> (u16, Vec<u8>) {
    let mut payload = vec![0u8; RUMBLE_PADDING_LEN];
    for field in [controller, low, high] {
        payload.extend_from_slice(&field.to_le_bytes());
    }
    (message_type::RUMBLE, payload)
}

/// HDR10 static metadata as the client expects it (all u16, sent LE).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HdrMetadata {
    /// Red, green, blue primaries as (x, y), normalised to 50 000.
    pub display_primaries: [(u16, u16); 3],
    /// White point (x, y), normalised to 50 000.
    pub white_point: (u16, u16),
    /// Nits.
    pub max_display_luminance: u16,
    /// 1/10 000 nit.
    pub min_display_luminance: u16,
    /// Nits.
    pub max_content_light_level: u16,
    /// Nits.
    pub max_frame_average_light_level: u16,
    /// Nits.
    pub max_full_frame_luminance: u16,
}

/// HDR mode: `enabled` ‖ metadata (a Sunshine extension the client reads from such hosts). Send
/// zeroed metadata with `enabled = false`.
pub fn hdr_mode(enabled: bool, metadata: &HdrMetadata) -> (u16, Vec<u8>) {
    let m = metadata;
    let mut payload = Vec::with_capacity(HDR_MODE_PAYLOAD_LEN);
    payload.push(u8::from(enabled));
    let points = m.display_primaries.iter().chain([&m.white_point]);
    for &(x, y) in points {
        payload.extend_from_slice(&x.to_le_bytes());
        payload.extend_from_slice(&y.to_le_bytes());
    }
    for value in [
        m.max_display_luminance,
        m.min_display_luminance,
        m.max_content_light_level,
        m.max_frame_average_light_level,
        m.max_full_frame_luminance,
    ] {
        payload.extend_from_slice(&value.to_le_bytes());
    }
    (message_type::HDR_MODE, payload)
}

/// Trigger rumble (Xbox impulse triggers, DualSense).
pub fn rumble_triggers(controller: u16, left: u16, right: u16) -> (u16, Vec<u8>) {
    let mut payload = Vec::with_capacity(6);
    for field in [controller, left, right] {
        payload.extend_from_slice(&field.to_le_bytes());
    }
    (message_type::RUMBLE_TRIGGERS, payload)
}

/// Ask the client to report `motion_type` (see `wire::input::motion_type`) of `controller` at
/// about `report_rate_hz`; 0 stops.
pub fn set_motion_event(controller: u16, report_rate_hz: u16, motion_type: u8) -> (u16, Vec<u8>) {
    let mut payload = Vec::with_capacity(5);
    payload.extend_from_slice(&controller.to_le_bytes());
    payload.extend_from_slice(&report_rate_hz.to_le_bytes());
    payload.push(motion_type);
    (message_type::SET_MOTION_EVENT, payload)
}

/// Light-bar colour of `controller`.
pub fn set_rgb_led(controller: u16, r: u8, g: u8, b: u8) -> (u16, Vec<u8>) {
    let mut payload = controller.to_le_bytes().to_vec();
    payload.extend_from_slice(&[r, g, b]);
    (message_type::SET_RGB_LED, payload)
}

/// One DualSense trigger effect: mode byte and its opaque parameters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TriggerEffect {
    pub mode: u8,
    pub parameters: [u8; DS_EFFECT_PAYLOAD_LEN],
}

/// DualSense adaptive triggers; `None` leaves that trigger out (its flag clear).
pub fn set_adaptive_triggers(
    controller: u16,
    left: Option<TriggerEffect>,
    right: Option<TriggerEffect>,
) -> (u16, Vec<u8>) {
    let mut flags = 0;
    if left.is_some() {
        flags |= ADAPTIVE_TRIGGER_LEFT;
    }
    if right.is_some() {
        flags |= ADAPTIVE_TRIGGER_RIGHT;
    }
    let (left, right) = (left.unwrap_or_default(), right.unwrap_or_default());
    let mut payload = controller.to_le_bytes().to_vec();
    payload.extend_from_slice(&[flags, left.mode, right.mode]);
    payload.extend_from_slice(&left.parameters);
    payload.extend_from_slice(&right.parameters);
    (message_type::SET_ADAPTIVE_TRIGGERS, payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: [u8; 16] = *b"0123456789abcdef";

    /// A client message as moonlight-common-c's `sendMessageEnet` lays it out.
    fn client_packet(seq: u32, message_type: u16, payload: &[u8]) -> Vec<u8> {
        let mut client = ControlCipher::new_client(KEY);
        client.next_seq = seq;
        client.seal(message_type, payload)
    }

    #[test]
    fn envelope_layout_matches_the_client() {
        // IDR request ("Start A"): payload 00 00, seq 0.
        let packet = client_packet(0, 0x0302, &[0, 0]);
        assert_eq!(packet.len(), 28 + 2);
        assert_eq!(&packet[..4], &[0x01, 0x00, 26, 0x00]);
        assert_eq!(&packet[4..8], &[0, 0, 0, 0]);

        // Independent check of the nonce: seq LE ‖ 6 zeros ‖ "CC", tag first, then ciphertext.
        let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &KEY).unwrap());
        let mut n = [0u8; 12];
        n[..4].copy_from_slice(&7u32.to_le_bytes());
        n[10] = b'C';
        n[11] = b'C';
        let mut inner = vec![0x07, 0x03, 0x01, 0x00, 0x00];
        let tag = key
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(n), Aad::empty(), &mut inner)
            .unwrap();
        let mut expected = vec![0x01, 0x00, 25, 0x00, 7, 0, 0, 0];
        expected.extend_from_slice(tag.as_ref());
        expected.extend_from_slice(&inner);
        assert_eq!(client_packet(7, 0x0307, &[0]), expected);
    }

    #[test]
    fn host_opens_what_the_client_sealed() {
        let mut client = ControlCipher::new_client(KEY);
        let mut host = ControlCipher::new(KEY);
        for (ty, payload) in [
            (0x0302u16, vec![0u8, 0]),
            (0x0307, vec![0]),
            (0x0200, vec![4, 0, 0, 0, 0, 0, 0, 0]),
        ] {
            let msg = host.open(&client.seal(ty, &payload)).unwrap();
            assert_eq!(
                msg,
                ControlMessage {
                    message_type: ty,
                    payload
                }
            );
        }
        assert_eq!(client.next_seq(), 3);
        assert_eq!(
            host.next_seq(),
            0,
            "opening does not advance the host's own counter"
        );
    }

    #[test]
    fn client_opens_what_the_host_sealed_and_host_seq_counts_from_zero() {
        let mut host = ControlCipher::new(KEY);
        let mut client = ControlCipher::new_client(KEY);
        let (ty, payload) = termination(TERMINATION_GRACEFUL);
        let first = host.seal(ty, &payload);
        let second = host.seal(ty, &payload);
        assert_eq!(&first[4..8], &0u32.to_le_bytes());
        assert_eq!(&second[4..8], &1u32.to_le_bytes());
        assert_ne!(first[8..], second[8..], "a fresh nonce per message");
        let msg = client.open(&second).unwrap();
        assert_eq!(msg.message_type, 0x0109);
        assert_eq!(msg.payload, vec![0x80, 0x03, 0x00, 0x23]);
    }

    #[test]
    fn directions_do_not_mix() {
        // A host message reflected back at the host fails: its nonce says "HC".
        let mut host = ControlCipher::new(KEY);
        let packet = host.seal(0x0200, &[]);
        assert_eq!(host.open(&packet), Err(ControlError::Authentication));
    }

    #[test]
    fn sequence_numbers_arrive_in_any_order() {
        let mut host = ControlCipher::new(KEY);
        for seq in [5u32, 2, 9, 0, u32::MAX] {
            let msg = host.open(&client_packet(seq, 0x0206, &[1, 2, 3])).unwrap();
            assert_eq!(msg.payload, vec![1, 2, 3]);
        }
        // A packet whose seq field was changed no longer authenticates.
        let mut packet = client_packet(5, 0x0302, &[0, 0]);
        packet[4] = 6;
        assert_eq!(host.open(&packet), Err(ControlError::Authentication));
    }

    #[test]
    fn tampering_fails_authentication() {
        let mut host = ControlCipher::new(KEY);
        let packet = client_packet(1, 0x0302, &[0, 0]);
        for at in TAG_OFFSET..packet.len() {
            let mut bad = packet.clone();
            bad[at] ^= 0x01;
            assert_eq!(
                host.open(&bad),
                Err(ControlError::Authentication),
                "byte {at}"
            );
        }
        let mut other_key = ControlCipher::new(*b"fedcba9876543210");
        assert_eq!(other_key.open(&packet), Err(ControlError::Authentication));
    }

    #[test]
    fn refuses_plaintext_runts_and_truncation() {
        let mut host = ControlCipher::new(KEY);
        assert!(matches!(
            host.open(&[]),
            Err(ControlError::Truncated { .. })
        ));
        assert!(matches!(
            host.open(&[1, 0, 24]),
            Err(ControlError::Truncated { .. })
        ));
        // A V2 plaintext IDR request.
        assert_eq!(
            host.open(&[0x02, 0x03, 0x02, 0x00, 0, 0]),
            Err(ControlError::Unencrypted {
                message_type: 0x0302
            })
        );
        assert_eq!(host.open(&[1, 0, 23, 0]), Err(ControlError::Runt(23)));
        let packet = client_packet(0, 0x0302, &[0, 0]);
        assert_eq!(
            host.open(&packet[..packet.len() - 1]),
            Err(ControlError::Truncated {
                needed: 30,
                got: 29
            })
        );
        // Trailing bytes beyond the length field are not part of the message.
        let mut longer = packet.clone();
        longer.push(0xAA);
        assert_eq!(host.open(&longer).unwrap().payload, vec![0, 0]);
        for e in [
            ControlError::Runt(0),
            ControlError::Authentication,
            ControlError::Unencrypted { message_type: 0 },
            ControlError::NestedEnvelope,
        ] {
            assert!(e.is_fatal());
        }
    }

    #[test]
    fn nested_envelope_is_refused() {
        let mut host = ControlCipher::new(KEY);
        let packet = client_packet(3, 0x0001, &[0; 8]);
        assert_eq!(host.open(&packet), Err(ControlError::NestedEnvelope));
    }

    #[test]
    fn payload_length_is_cut_to_the_bytes_present() {
        let mut client = ControlCipher::new_client(KEY);
        // Hand-build a plaintext whose payload length claims more than there is.
        let mut packet = client.seal(0x0200, &[9, 9]);
        let mut inner = vec![0x00, 0x02, 0x50, 0x00, 9, 9];
        let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &KEY).unwrap());
        let tag = key
            .seal_in_place_separate_tag(nonce(0, Direction::ClientToHost), Aad::empty(), &mut inner)
            .unwrap();
        packet[TAG_OFFSET..CIPHERTEXT_OFFSET].copy_from_slice(tag.as_ref());
        packet[CIPHERTEXT_OFFSET..].copy_from_slice(&inner);
        let msg = ControlCipher::new(KEY).open(&packet).unwrap();
        assert_eq!(msg.payload, vec![9, 9]);
    }

    #[test]
    fn parses_each_client_message() {
        let parse = |message_type: u16, payload: Vec<u8>| {
            parse_client_message(&ControlMessage {
                message_type,
                payload,
            })
        };
        assert_eq!(
            parse(0x0200, vec![4, 0, 0, 0, 0, 0, 0xCC, 0xCC]),
            Ok(ClientMessage::Ping)
        );
        assert_eq!(parse(0x0302, vec![0, 0]), Ok(ClientMessage::RequestIdr));
        assert_eq!(parse(0x0307, vec![0]), Ok(ClientMessage::StartB));
        assert_eq!(parse(0x0204, vec![0; 80]), Ok(ClientMessage::FrameStats));
        assert_eq!(
            parse(0x0305, vec![]),
            Ok(ClientMessage::Unknown {
                message_type: 0x0305
            })
        );
        assert!(matches!(
            parse(0x5502, vec![0; 21]),
            Ok(ClientMessage::FrameFecStatus { total_data: 0, .. })
        ));
        assert_eq!(
            parse(0x0206, vec![0, 0, 0, 8, 7, 0, 0, 0, 0, 5, 0xFF, 0xFD]),
            Ok(ClientMessage::Input(vec![
                0, 0, 0, 8, 7, 0, 0, 0, 0, 5, 0xFF, 0xFD
            ]))
        );

        // SS_RFI_REQUEST: u32 first, u32 0, u32 last, 3 × u32 0.
        let mut rfi = Vec::new();
        for word in [100u32, 0, 104, 0, 0, 0] {
            rfi.extend_from_slice(&word.to_le_bytes());
        }
        assert_eq!(
            parse(0x0301, rfi),
            Ok(ClientMessage::InvalidateReferenceFrames {
                first: 100,
                last: 104
            })
        );
        let short = parse(0x0301, vec![0; 15]).unwrap_err();
        assert!(!short.is_fatal());

        // Loss stats as old clients lay them out: 0, 50, 1000, u64 last good frame, 0, 0, 0x14.
        let mut stats = Vec::new();
        for word in [3u32, 50, 1000] {
            stats.extend_from_slice(&word.to_le_bytes());
        }
        stats.extend_from_slice(&0x1_0000_0042u64.to_le_bytes());
        for word in [0u32, 0, 0x14] {
            stats.extend_from_slice(&word.to_le_bytes());
        }
        assert_eq!(
            parse(0x0201, stats),
            Ok(ClientMessage::LossStats {
                count: 3,
                time_interval_ms: 50,
                last_good_frame: 0x1_0000_0042
            })
        );
        assert!(parse(0x0201, vec![0; 19]).is_err());
    }

    #[test]
    fn host_message_payloads() {
        assert_eq!(
            termination(0x80030023),
            (0x0109, vec![0x80, 0x03, 0x00, 0x23])
        );
        assert_eq!(
            rumble(2, 0x1234, 0xFFFF),
            (0x010b, vec![0, 0, 0, 0, 2, 0, 0x34, 0x12, 0xFF, 0xFF])
        );
        assert_eq!(rumble_triggers(1, 2, 3), (0x5500, vec![1, 0, 2, 0, 3, 0]));
        assert_eq!(set_motion_event(1, 100, 2), (0x5501, vec![1, 0, 100, 0, 2]));
        assert_eq!(set_rgb_led(3, 10, 20, 30), (0x5502, vec![3, 0, 10, 20, 30]));

        let (ty, off) = hdr_mode(false, &HdrMetadata::default());
        assert_eq!((ty, off), (0x010e, vec![0; 27]));
        let metadata = HdrMetadata {
            display_primaries: [(34000, 16000), (13250, 34500), (7500, 3000)],
            white_point: (15635, 16450),
            max_display_luminance: 1000,
            min_display_luminance: 50,
            max_content_light_level: 1000,
            max_frame_average_light_level: 400,
            max_full_frame_luminance: 600,
        };
        let (_, on) = hdr_mode(true, &metadata);
        assert_eq!(on.len(), HDR_MODE_PAYLOAD_LEN);
        assert_eq!(on[0], 1);
        assert_eq!(&on[1..5], &[0xD0, 0x84, 0x80, 0x3E]); // 34000, 16000 LE
        assert_eq!(&on[13..17], &[0x13, 0x3D, 0x42, 0x40]); // white point
        assert_eq!(&on[17..19], &1000u16.to_le_bytes());
        assert_eq!(&on[25..27], &600u16.to_le_bytes());

        let effect = TriggerEffect {
            mode: 0x26,
            parameters: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        };
        let (ty, p) = set_adaptive_triggers(0, None, Some(effect));
        assert_eq!(ty, 0x5503);
        assert_eq!(p.len(), 25);
        assert_eq!(&p[..5], &[0, 0, 0x04, 0, 0x26]);
        assert_eq!(&p[5..15], &[0; 10]);
        assert_eq!(&p[15..], &effect.parameters);
    }

    proptest! {
        #[test]
        fn seal_open_round_trip(seq: u32, message_type in 0x0002u16.., payload in proptest::collection::vec(any::<u8>(), 0..300)) {
            let packet = client_packet(seq, message_type, &payload);
            prop_assert_eq!(packet.len(), CIPHERTEXT_OFFSET + INNER_HEADER_LEN + payload.len());
            let msg = ControlCipher::new(KEY).open(&packet).unwrap();
            prop_assert_eq!(msg, ControlMessage { message_type, payload });
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut host = ControlCipher::new(KEY);
            if let Ok(msg) = host.open(&bytes) {
                let _ = parse_client_message(&msg);
            }
        }

        #[test]
        fn envelope_shaped_garbage_fails_authentication(seq: u32, body in proptest::collection::vec(any::<u8>(), 20..120)) {
            let mut packet = vec![0x01, 0x00];
            packet.extend_from_slice(&((SEQ_LEN + body.len()) as u16).to_le_bytes());
            packet.extend_from_slice(&seq.to_le_bytes());
            packet.extend_from_slice(&body);
            prop_assert_eq!(ControlCipher::new(KEY).open(&packet), Err(ControlError::Authentication));
        }

        #[test]
        fn parse_never_panics(message_type: u16, payload in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_client_message(&ControlMessage { message_type, payload });
        }
    }
}

#[cfg(test)]
mod frame_fec_status_tests {
    use super::*;

    #[test]
    fn a_frame_fec_report_reads_big_endian_fields() {
        // frame 0x01020304, seq fields, 16 data + 4 parity sent, 13 + 4 received, 20 %, block 1/2.
        let payload = [
            1, 2, 3, 4, 0, 9, 0, 7, 0, 1, 0, 16, 0, 4, 0, 13, 0, 4, 20, 1, 2,
        ];
        let message = ControlMessage {
            message_type: crate::wire::control::message_type::FRAME_FEC_STATUS,
            payload: payload.to_vec(),
        };
        assert_eq!(
            parse_client_message(&message).unwrap(),
            ClientMessage::FrameFecStatus {
                frame_index: 0x0102_0304,
                total_data: 16,
                total_parity: 4,
                received_data: 13,
                received_parity: 4,
                fec_percent: 20,
                block_index: 1,
                block_count: 2,
            }
        );
        let short = ControlMessage {
            payload: payload[..20].to_vec(),
            ..message
        };
        assert!(matches!(
            parse_client_message(&short),
            Err(ControlError::ShortPayload { .. })
        ));
    }
}
