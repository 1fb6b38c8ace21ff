//! The audio plane: Opus packets in RTP, optional AES-128-CBC, and the 4+2 audio FEC with the
//! fixed parity matrix both Sunshine and moonlight-common-c hard-code; plus the Opus layouts a
//! host advertises in DESCRIBE (`surround-params`).
//!
//! Sans-IO: [`AudioPacketizer::packetize`] turns one encoded Opus packet into the datagrams to
//! send now (the data packet and, after every 4th, the block's two FEC packets).

use aes::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyIvInit};

use crate::wire::audio as wire;

type Aes128CbcEnc = cbc::Encryptor<aes::Aes128>;

/// Longest payload (Opus bytes or their ciphertext): the block's FEC datagrams carry it after
/// two headers and must fit the client's receive buffer too.
pub const MAX_PAYLOAD_LEN: usize =
    wire::MAX_DATAGRAM_LEN - wire::RTP_HEADER_LEN - wire::FEC_HEADER_LEN;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AudioError {
    #[error("empty Opus packet")]
    EmptyOpusPacket,
    #[error("audio payload of {payload_len} bytes (from {opus_len} Opus bytes) exceeds {max}: use 5 ms frames or a lower bit rate")]
    PayloadTooLarge {
        opus_len: usize,
        payload_len: usize,
        max: usize,
    },
}

// ---------------------------------------------------------------------------------------------
// Opus layouts
// ---------------------------------------------------------------------------------------------

/// An Opus multistream layout: `mapping[i]` is the coded channel that speaker `i` (order FL FR
/// FC LFE BL BR SL SR) goes into on the host and comes out of on the client. Coded channels
/// `2s, 2s+1` form coupled stream `s` (for `s < coupled_streams`); the rest are mono streams.
/// Entries past `channels` are unused (zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpusLayout {
    pub channels: u8,
    pub streams: u8,
    pub coupled_streams: u8,
    pub mapping: [u8; 8],
}

const IDENTITY_MAPPING: [u8; 8] = [0, 1, 2, 3, 4, 5, 6, 7];

/// Identity mapping for the first `channels` speakers, zeros after.
const fn identity(channels: u8) -> [u8; 8] {
    let mut mapping = [0u8; 8];
    let mut i = 0;
    while i < channels as usize {
        mapping[i] = IDENTITY_MAPPING[i];
        i += 1;
    }
    mapping
}

impl OpusLayout {
    /// Stereo, both qualities (Sunshine differs only in bit rate): 1 coupled stream.
    pub const fn stereo() -> Self {
        Self::new(2, 1, 1)
    }
    /// 5.1 normal quality: 4 streams, 2 coupled (FL+FR, FC+LFE), BL and BR mono.
    pub const fn surround_51() -> Self {
        Self::new(6, 4, 2)
    }
    /// 5.1 high quality: 6 mono streams.
    pub const fn surround_51_high() -> Self {
        Self::new(6, 6, 0)
    }
    /// 7.1 normal quality: 5 streams, 3 coupled (FL+FR, FC+LFE, BL+BR), SL and SR mono.
    pub const fn surround_71() -> Self {
        Self::new(8, 5, 3)
    }
    /// 7.1 high quality: 8 mono streams.
    pub const fn surround_71_high() -> Self {
        Self::new(8, 8, 0)
    }

    const fn new(channels: u8, streams: u8, coupled_streams: u8) -> Self {
        Self {
            channels,
            streams,
            coupled_streams,
            mapping: identity(channels),
        }
    }

    /// Sunshine's layout for a channel count (`x-nv-audio.surround.numChannels`) and quality.
    pub fn for_channels(channels: u8, high_quality: bool) -> Option<Self> {
        match (channels, high_quality) {
            (2, _) => Some(Self::stereo()),
            (6, false) => Some(Self::surround_51()),
            (6, true) => Some(Self::surround_51_high()),
            (8, false) => Some(Self::surround_71()),
            (8, true) => Some(Self::surround_71_high()),
            _ => None,
        }
    }

    /// The layouts a host lists in DESCRIBE, in Sunshine's order: per channel count the
    /// normal-quality one first (the client takes the first line for its channel count as normal
    /// quality and the second, if present, as high quality).
    pub const fn advertised() -> [Self; 6] {
        [
            Self::stereo(),
            Self::stereo(),
            Self::surround_51(),
            Self::surround_51_high(),
            Self::surround_71(),
            Self::surround_71_high(),
        ]
    }

    /// The used part of [`OpusLayout::mapping`].
    pub fn mapping(&self) -> &[u8] {
        &self.mapping[..usize::from(self.channels).min(self.mapping.len())]
    }

    /// Whether libopus accepts this layout for encoding: 1–8 channels, every coded channel fed by
    /// exactly one speaker (streams + coupled = channels, mapping a permutation).
    pub fn is_valid(&self) -> bool {
        let channels = usize::from(self.channels);
        if !(1..=wire::speaker::MAX_CHANNELS).contains(&channels)
            || self.streams == 0
            || self.coupled_streams > self.streams
            || usize::from(self.streams) + usize::from(self.coupled_streams) != channels
        {
            return false;
        }
        let mut seen = [false; wire::speaker::MAX_CHANNELS];
        self.mapping().iter().all(|&coded| {
            let coded = usize::from(coded);
            coded < channels && !std::mem::replace(&mut seen[coded], true)
        })
    }

    /// Whether the client reads this layout from the first (normal-quality) DESCRIBE line for its
    /// channel count, to which it applies the GFE LFE remapping. True for Sunshine's normal
    /// surround layouts (they have coupled streams; the high-quality ones have none).
    fn takes_normal_quality_line(&self) -> bool {
        matches!(self.channels, 6 | 8) && self.coupled_streams > 0
    }

    /// `<channels><streams><coupled><mapping…>` as decimal digits, unchanged: the form of the
    /// `/launch` `surroundParams` parameter.
    pub fn digits(&self) -> String {
        digit_string(
            self.channels,
            self.streams,
            self.coupled_streams,
            self.mapping(),
        )
    }

    /// The value after `a=fmtp:97 surround-params=` in the DESCRIBE answer, such that the
    /// client's decoder ends up with exactly [`OpusLayout::mapping`]. For a normal-quality 5.1
    /// or 7.1 layout the client moves mapping entry `N−1` to index 3 and shifts 3…N−2 up, so
    /// this rotates 3…N−1 left by one first (`642012453`, `85301245673`); high-quality and
    /// stereo layouts go out as they are. (Sunshine rotates only indices 3–5, which is the same
    /// for 5.1 but leaves 7.1 normal misrouted on the client: it sends `85301245367`.)
    pub fn surround_params(&self) -> String {
        if !self.takes_normal_quality_line() {
            return self.digits();
        }
        let mut mapping = self.mapping;
        let channels = usize::from(self.channels);
        mapping[wire::NORMAL_QUALITY_LFE_INDEX..channels].rotate_left(1);
        digit_string(
            self.channels,
            self.streams,
            self.coupled_streams,
            &mapping[..channels],
        )
    }

    /// Parses the unrotated digit form ([`OpusLayout::digits`], the `/launch` `surroundParams`
    /// value) the way Sunshine accepts it: 6 or 8 channels, exactly `channels + 3` digits, and a
    /// layout libopus can encode. The caller checks the channel count against ANNOUNCE.
    pub fn parse_surround_params(value: &str) -> Option<Self> {
        let digits: Vec<u8> = value
            .bytes()
            .take(wire::speaker::MAX_CHANNELS + 4)
            .map(|b| b.is_ascii_digit().then(|| b - b'0'))
            .collect::<Option<_>>()?;
        let (&channels, rest) = digits.split_first()?;
        if !matches!(channels, 6 | 8) || value.len() != usize::from(channels) + 3 {
            return None;
        }
        let (&[streams, coupled_streams], mapping_digits) = rest.split_first_chunk::<2>()?;
        let mut mapping = [0u8; 8];
        mapping[..mapping_digits.len()].copy_from_slice(mapping_digits);
        let layout = Self {
            channels,
            streams,
            coupled_streams,
            mapping,
        };
        layout.is_valid().then_some(layout)
    }
}

fn digit_string(channels: u8, streams: u8, coupled: u8, mapping: &[u8]) -> String {
    let mut s = format!("{channels}{streams}{coupled}");
    for m in mapping {
        s.push_str(&m.to_string());
    }
    s
}

/// Sunshine's Opus bit rate (bit/s, hard CBR) for a channel count and quality.
pub fn opus_bitrate_bps(channels: u8, high_quality: bool) -> Option<u32> {
    use wire::bitrate::*;
    match (channels, high_quality) {
        (2, false) => Some(STEREO),
        (2, true) => Some(STEREO_HIGH),
        (6, false) => Some(SURROUND_51),
        (6, true) => Some(SURROUND_51_HIGH),
        (8, false) => Some(SURROUND_71),
        (8, true) => Some(SURROUND_71_HIGH),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Packetizer
// ---------------------------------------------------------------------------------------------

/// The stream key from `/launch`: `rikey` and `rikeyid` (the decimal int32 taken as u32, so a
/// negative id wraps: `rikeyid as u32`).
#[derive(Clone, PartialEq, Eq)]
pub struct AudioKey {
    pub key: [u8; 16],
    pub key_id: u32,
}

impl std::fmt::Debug for AudioKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioKey")
            .field("key", &"<redacted>")
            .field("key_id", &self.key_id)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioConfig {
    /// `x-nv-aqos.packetDuration`: 5 or 10 ms of audio per packet; the RTP timestamp advances by
    /// this many (milliseconds, not samples) per data packet.
    pub packet_duration_ms: u8,
    /// `Some` when the client enabled audio encryption (see the notes on ANNOUNCE flags).
    pub encryption: Option<AudioKey>,
}

/// Turns Opus packets into audio datagrams: sequence numbers from 0 (+1 per data packet, FEC
/// packets take none), timestamps from 0 (+`packet_duration_ms` per data packet), 2 FEC packets
/// after every block of 4. Keep one per session for its whole life: the counters must stay
/// contiguous across capture restarts.
#[derive(Debug)]
pub struct AudioPacketizer {
    config: AudioConfig,
    sequence: u16,
    timestamp: u32,
    /// Payloads (as sent) of the current block, by `sequence % 4`.
    block: [Vec<u8>; wire::DATA_SHARDS],
    block_base_timestamp: u32,
}

impl AudioPacketizer {
    pub fn new(config: AudioConfig) -> Self {
        Self {
            config,
            sequence: 0,
            timestamp: 0,
            block: Default::default(),
            block_base_timestamp: 0,
        }
    }

    /// Sequence number the next data packet gets.
    pub fn next_sequence(&self) -> u16 {
        self.sequence
    }

    /// RTP timestamp the next data packet gets.
    pub fn next_timestamp(&self) -> u32 {
        self.timestamp
    }

    /// Clears `out`, then puts in it the datagrams to send now, in order: the data packet for
    /// `opus`, and if it completes a block, the block's FEC packets 0 and 1. On error nothing is
    /// to be sent and the counters stay where they were.
    ///
    /// Every packet of a session should have the same length (hard-CBR Opus): the client checks
    /// that all six packets of a block agree. A block whose payloads differ gets no FEC packets
    /// (the client would drop to pass-through mode on them anyway; it already does on the data).
    pub fn packetize(&mut self, opus: &[u8], out: &mut Vec<Vec<u8>>) -> Result<(), AudioError> {
        out.clear();
        if opus.is_empty() {
            return Err(AudioError::EmptyOpusPacket);
        }
        let sequence = self.sequence;
        let payload = match &self.config.encryption {
            Some(key) => encrypt(key, sequence, opus),
            None => opus.to_vec(),
        };
        if payload.len() > MAX_PAYLOAD_LEN {
            return Err(AudioError::PayloadTooLarge {
                opus_len: opus.len(),
                payload_len: payload.len(),
                max: MAX_PAYLOAD_LEN,
            });
        }

        out.push(data_datagram(sequence, self.timestamp, &payload));
        let slot = usize::from(sequence) % wire::DATA_SHARDS;
        if slot == 0 {
            self.block_base_timestamp = self.timestamp;
        }
        self.block[slot] = payload;
        if slot == wire::DATA_SHARDS - 1 {
            self.push_fec(sequence, out);
        }

        self.sequence = sequence.wrapping_add(1);
        self.timestamp = self
            .timestamp
            .wrapping_add(u32::from(self.config.packet_duration_ms));
        Ok(())
    }

    /// The two FEC datagrams of the block that `last_sequence` (its 4th packet) completes.
    fn push_fec(&self, last_sequence: u16, out: &mut Vec<Vec<u8>>) {
        let len = self.block[0].len();
        if self.block.iter().any(|p| p.len() != len) {
            return;
        }
        let base_sequence = last_sequence.wrapping_sub(wire::DATA_SHARDS as u16 - 1);
        for (index, row) in PARITY_TABLES.iter().enumerate() {
            let mut datagram =
                Vec::with_capacity(wire::RTP_HEADER_LEN + wire::FEC_HEADER_LEN + len);
            // Like Sunshine: the numbers the next block's first data packets will reuse.
            let rtp_sequence = last_sequence.wrapping_add(1 + index as u16);
            push_rtp_header(
                &mut datagram,
                wire::PAYLOAD_TYPE_FEC,
                rtp_sequence,
                wire::FEC_RTP_TIMESTAMP,
            );
            datagram.push(index as u8);
            datagram.push(wire::PAYLOAD_TYPE_OPUS);
            datagram.extend_from_slice(&base_sequence.to_be_bytes());
            datagram.extend_from_slice(&self.block_base_timestamp.to_be_bytes());
            datagram.extend_from_slice(&wire::SSRC.to_be_bytes());
            push_parity(&mut datagram, row, &self.block);
            out.push(datagram);
        }
    }
}

/// AES-128-CBC with PKCS#7, a fresh chain per packet; IV = BE32(`rikeyid` + sequence) ‖ 0¹².
fn encrypt(key: &AudioKey, sequence: u16, opus: &[u8]) -> Vec<u8> {
    let iv = audio_iv(key.key_id, sequence);
    Aes128CbcEnc::new(&key.key.into(), &iv.into()).encrypt_padded_vec_mut::<Pkcs7>(opus)
}

fn audio_iv(key_id: u32, sequence: u16) -> [u8; wire::AES_BLOCK_LEN] {
    let mut iv = [0u8; wire::AES_BLOCK_LEN];
    iv[..4].copy_from_slice(&key_id.wrapping_add(u32::from(sequence)).to_be_bytes());
    iv
}

fn push_rtp_header(datagram: &mut Vec<u8>, payload_type: u8, sequence: u16, timestamp: u32) {
    datagram.push(wire::RTP_VERSION_BYTE);
    datagram.push(payload_type);
    datagram.extend_from_slice(&sequence.to_be_bytes());
    datagram.extend_from_slice(&timestamp.to_be_bytes());
    datagram.extend_from_slice(&wire::SSRC.to_be_bytes());
}

fn data_datagram(sequence: u16, timestamp: u32, payload: &[u8]) -> Vec<u8> {
    let mut datagram = Vec::with_capacity(wire::RTP_HEADER_LEN + payload.len());
    push_rtp_header(&mut datagram, wire::PAYLOAD_TYPE_OPUS, sequence, timestamp);
    datagram.extend_from_slice(payload);
    datagram
}

// ---------------------------------------------------------------------------------------------
// GF(2^8) parity with the fixed matrix
// ---------------------------------------------------------------------------------------------

/// Product in GF(2^8) modulo [`wire::GF_POLYNOMIAL`] (shift-and-add; only used to build tables).
const fn gf_mul(a: u8, b: u8) -> u8 {
    let mut a = a as u16;
    let mut b = b;
    let mut product = 0u16;
    while b != 0 {
        if b & 1 != 0 {
            product ^= a;
        }
        a <<= 1;
        if a & 0x100 != 0 {
            a ^= wire::GF_POLYNOMIAL;
        }
        b >>= 1;
    }
    product as u8
}

/// `table[x] = coefficient · x` for one matrix entry.
type MulTable = [u8; 256];

const fn mul_table(coefficient: u8) -> MulTable {
    let mut table = [0u8; 256];
    let mut x = 0;
    while x < 256 {
        table[x] = gf_mul(coefficient, x as u8);
        x += 1;
    }
    table
}

/// One multiplication table per entry of [`wire::FEC_PARITY_ROWS`], built at compile time.
const PARITY_TABLES: [[MulTable; wire::DATA_SHARDS]; wire::FEC_SHARDS] = {
    let mut tables = [[[0u8; 256]; wire::DATA_SHARDS]; wire::FEC_SHARDS];
    let mut row = 0;
    while row < wire::FEC_SHARDS {
        let mut col = 0;
        while col < wire::DATA_SHARDS {
            tables[row][col] = mul_table(wire::FEC_PARITY_ROWS[row][col]);
            col += 1;
        }
        row += 1;
    }
    tables
};

/// Appends one parity shard: byte-wise Σ row[i] · payload[i] (all payloads the same length).
fn push_parity(
    datagram: &mut Vec<u8>,
    row: &[MulTable; wire::DATA_SHARDS],
    payloads: &[Vec<u8>; wire::DATA_SHARDS],
) {
    let [d0, d1, d2, d3] = payloads;
    datagram.extend(
        d0.iter()
            .zip(d1)
            .zip(d2)
            .zip(d3)
            .map(|(((&a, &b), &c), &d)| {
                row[0][usize::from(a)]
                    ^ row[1][usize::from(b)]
                    ^ row[2][usize::from(c)]
                    ^ row[3][usize::from(d)]
            }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes::cipher::BlockDecryptMut;
    use proptest::prelude::*;

    type Aes128CbcDec = cbc::Decryptor<aes::Aes128>;

    /// The fields of one datagram as the client reads them.
    #[derive(Debug, PartialEq, Eq)]
    struct Rtp<'a> {
        payload_type: u8,
        sequence: u16,
        timestamp: u32,
        ssrc: u32,
        payload: &'a [u8],
    }

    fn rtp(datagram: &[u8]) -> Rtp<'_> {
        assert_eq!(datagram[0], wire::RTP_VERSION_BYTE);
        Rtp {
            payload_type: datagram[wire::RTP_OFFSET_PAYLOAD_TYPE],
            sequence: u16::from_be_bytes([datagram[2], datagram[3]]),
            timestamp: u32::from_be_bytes(datagram[4..8].try_into().unwrap()),
            ssrc: u32::from_be_bytes(datagram[8..12].try_into().unwrap()),
            payload: &datagram[wire::RTP_HEADER_LEN..],
        }
    }

    #[derive(Debug, PartialEq, Eq)]
    struct Fec<'a> {
        shard_index: u8,
        payload_type: u8,
        base_sequence: u16,
        base_timestamp: u32,
        ssrc: u32,
        parity: &'a [u8],
    }

    fn fec(datagram: &[u8]) -> Fec<'_> {
        let r = rtp(datagram);
        assert_eq!(r.payload_type, wire::PAYLOAD_TYPE_FEC);
        let h = r.payload;
        Fec {
            shard_index: h[wire::FEC_OFFSET_SHARD_INDEX],
            payload_type: h[wire::FEC_OFFSET_PAYLOAD_TYPE],
            base_sequence: u16::from_be_bytes([h[2], h[3]]),
            base_timestamp: u32::from_be_bytes(h[4..8].try_into().unwrap()),
            ssrc: u32::from_be_bytes(h[8..12].try_into().unwrap()),
            parity: &h[wire::FEC_HEADER_LEN..],
        }
    }

    fn plain(duration: u8) -> AudioPacketizer {
        AudioPacketizer::new(AudioConfig {
            packet_duration_ms: duration,
            encryption: None,
        })
    }

    fn key() -> AudioKey {
        AudioKey {
            key: *b"0123456789abcdef",
            key_id: 0xfffffffe,
        }
    }

    // --- test-side decoder: the 6×4 generator, any 4 rows inverted --------------------------

    fn gf_inv(a: u8) -> u8 {
        (1..=255u8).find(|&b| gf_mul(a, b) == 1).expect("nonzero")
    }

    /// Generator row of shard `i` (0–3 data, 4–5 parity).
    fn generator_row(i: usize) -> [u8; 4] {
        if i < 4 {
            let mut row = [0; 4];
            row[i] = 1;
            row
        } else {
            wire::FEC_PARITY_ROWS[i - 4]
        }
    }

    /// Inverse of a 4×4 matrix over GF(2^8) by Gauss–Jordan; None when singular.
    fn invert(mut m: [[u8; 4]; 4]) -> Option<[[u8; 4]; 4]> {
        let mut inv = [[0u8; 4]; 4];
        for (i, row) in inv.iter_mut().enumerate() {
            row[i] = 1;
        }
        for col in 0..4 {
            let pivot = (col..4).find(|&r| m[r][col] != 0)?;
            m.swap(col, pivot);
            inv.swap(col, pivot);
            let scale = gf_inv(m[col][col]);
            for c in 0..4 {
                m[col][c] = gf_mul(m[col][c], scale);
                inv[col][c] = gf_mul(inv[col][c], scale);
            }
            for r in 0..4 {
                let factor = m[r][col];
                if r != col && factor != 0 {
                    for c in 0..4 {
                        m[r][c] ^= gf_mul(factor, m[col][c]);
                        inv[r][c] ^= gf_mul(factor, inv[col][c]);
                    }
                }
            }
        }
        Some(inv)
    }

    /// Rebuilds the 4 data payloads from any 4 of the 6 shards (`shards[i]` = None when lost).
    fn recover(shards: &[Option<&[u8]>; 6]) -> [Vec<u8>; 4] {
        let present: Vec<usize> = (0..6).filter(|&i| shards[i].is_some()).take(4).collect();
        assert_eq!(present.len(), 4, "need 4 shards");
        let matrix: [[u8; 4]; 4] = std::array::from_fn(|k| generator_row(present[k]));
        let inv = invert(matrix).expect("any 4 rows of the generator are independent");
        let len = shards[present[0]].unwrap().len();
        std::array::from_fn(|d| {
            (0..len)
                .map(|b| {
                    (0..4).fold(0u8, |acc, k| {
                        acc ^ gf_mul(inv[d][k], shards[present[k]].unwrap()[b])
                    })
                })
                .collect()
        })
    }

    /// Packetizes `packets`; returns every datagram sent, in order.
    fn send_all(p: &mut AudioPacketizer, packets: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let mut sent = Vec::new();
        let mut out = Vec::new();
        for opus in packets {
            p.packetize(opus, &mut out).unwrap();
            sent.append(&mut out);
        }
        sent
    }

    // --- FEC ---------------------------------------------------------------------------------

    #[test]
    fn parity_matches_the_nanors_test_vector() {
        let mut p = plain(5);
        let payloads = [
            [0x01, 0x02, 0x03, 0x04],
            [0x11, 0x12, 0x13, 0x14],
            [0x21, 0x22, 0x23, 0x24],
            [0x31, 0x32, 0x33, 0x34],
        ];
        let sent = send_all(&mut p, &payloads.map(|x| x.to_vec()));
        assert_eq!(sent.len(), 6);
        assert_eq!(fec(&sent[4]).parity, [0x1b, 0x18, 0x19, 0x1e]);
        assert_eq!(fec(&sent[5]).parity, [0x91, 0x92, 0x93, 0x94]);
    }

    #[test]
    fn gf_mul_is_the_0x11d_field() {
        // α^8 = x^4 + x^3 + x^2 + 1 for this polynomial.
        assert_eq!(gf_mul(0x80, 2), 0x1d);
        for a in 0..=255u8 {
            assert_eq!(gf_mul(a, 1), a);
            assert_eq!(gf_mul(a, 0), 0);
            for b in [2u8, 0x53, 0xca, 0xff] {
                assert_eq!(gf_mul(a, b), gf_mul(b, a));
            }
        }
        // Every nonzero element has an inverse (so the field is a field, not a ring).
        for a in 1..=255u8 {
            assert_eq!(gf_mul(a, gf_inv(a)), 1);
        }
    }

    #[test]
    fn any_two_lost_of_six_are_recovered() {
        let mut p = plain(5);
        let payloads: Vec<Vec<u8>> = (0..4u8)
            .map(|i| {
                (0..60u8)
                    .map(|b| b.wrapping_mul(37).wrapping_add(i.wrapping_mul(91)))
                    .collect()
            })
            .collect();
        let sent = send_all(&mut p, &payloads);
        let shards: Vec<&[u8]> = sent[..4]
            .iter()
            .map(|d| rtp(d).payload)
            .chain(sent[4..].iter().map(|d| fec(d).parity))
            .collect();
        for lost_a in 0..6 {
            for lost_b in lost_a..6 {
                let kept: [Option<&[u8]>; 6] =
                    std::array::from_fn(|i| (i != lost_a && i != lost_b).then_some(shards[i]));
                assert_eq!(
                    recover(&kept).to_vec(),
                    payloads,
                    "lost {lost_a} and {lost_b}"
                );
            }
        }
    }

    #[test]
    fn worked_example_from_the_notes() {
        // 5 ms stereo, 60-byte CBR packets: D0..D3 then F0, F1, then the next block.
        let mut p = plain(5);
        let sent = send_all(&mut p, &vec![vec![0xaa; 60]; 5]);
        assert_eq!(sent.len(), 7);
        for (i, d) in sent[..4].iter().enumerate() {
            assert_eq!(d.len(), 72);
            assert_eq!(
                &d[..12],
                &[0x80, 0x61, 0, i as u8, 0, 0, 0, 5 * i as u8, 0, 0, 0, 0]
            );
        }
        assert_eq!(sent[4].len(), 84);
        assert_eq!(
            &sent[4][..24],
            &[0x80, 0x7f, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x61, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(&sent[5][..4], &[0x80, 0x7f, 0, 5]);
        assert_eq!(&sent[5][12..14], &[1, 0x61]);
        let next = rtp(&sent[6]);
        assert_eq!((next.sequence, next.timestamp), (4, 20));
        // The second block's FEC header carries its own base.
        let sent = send_all(&mut p, &vec![vec![0xbb; 60]; 3]);
        let f = fec(&sent[3]);
        assert_eq!((f.base_sequence, f.base_timestamp), (4, 20));
    }

    #[test]
    fn blocks_with_mixed_lengths_get_no_fec() {
        let mut p = plain(10);
        let sent = send_all(
            &mut p,
            &[vec![1; 60], vec![2; 61], vec![3; 60], vec![4; 60]],
        );
        assert_eq!(sent.len(), 4);
        assert!(sent
            .iter()
            .all(|d| rtp(d).payload_type == wire::PAYLOAD_TYPE_OPUS));
        // The next uniform block is protected again.
        let sent = send_all(&mut p, &vec![vec![5; 60]; 4]);
        assert_eq!(sent.len(), 6);
    }

    #[test]
    fn counters_wrap_and_blocks_stay_aligned() {
        let mut p = plain(10);
        let mut out = Vec::new();
        for _ in 0..65_536u32 + 8 {
            p.packetize(&[7], &mut out).unwrap();
        }
        assert_eq!(p.next_sequence(), 8);
        assert_eq!(p.next_timestamp(), (65_536 + 8) * 10);
        // The block 65532..65535: FEC sequence numbers wrap to 0 and 1.
        let mut p = plain(5);
        for _ in 0..65_532u32 {
            p.packetize(&[7], &mut out).unwrap();
        }
        let sent = send_all(&mut p, &vec![vec![9; 3]; 4]);
        let f = fec(&sent[4]);
        assert_eq!((f.base_sequence, f.base_timestamp), (65_532, 65_532 * 5));
        assert_eq!((rtp(&sent[4]).sequence, rtp(&sent[5]).sequence), (0, 1));
    }

    // --- encryption --------------------------------------------------------------------------

    fn decrypt(key: &AudioKey, sequence: u16, ciphertext: &[u8]) -> Vec<u8> {
        let mut iv = [0u8; 16];
        iv[..4].copy_from_slice(&key.key_id.wrapping_add(u32::from(sequence)).to_be_bytes());
        Aes128CbcDec::new(&key.key.into(), &iv.into())
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
            .expect("valid padding")
    }

    #[test]
    fn encrypted_packets_decrypt_with_the_rikeyid_iv() {
        let key = key();
        let mut p = AudioPacketizer::new(AudioConfig {
            packet_duration_ms: 5,
            encryption: Some(key.clone()),
        });
        let packets: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 60]).collect();
        let sent = send_all(&mut p, &packets);
        let data: Vec<Rtp> = sent
            .iter()
            .map(|d| rtp(d))
            .filter(|r| r.payload_type == wire::PAYLOAD_TYPE_OPUS)
            .collect();
        assert_eq!(data.len(), 8);
        for (r, opus) in data.iter().zip(&packets) {
            // 60 bytes → 64 of ciphertext; the key id wraps past u32::MAX at sequence 2.
            assert_eq!(r.payload.len(), 64);
            assert_eq!(&decrypt(&key, r.sequence, r.payload), opus);
            assert_ne!(r.payload, opus.as_slice());
        }
        // The IV of sequence 2 is BE32(0xfffffffe + 2) = 0.
        assert_eq!(audio_iv(key.key_id, 2), [0; 16]);
        // FEC protects the ciphertexts.
        let shards: [Option<&[u8]>; 6] = [
            None,
            Some(data[1].payload),
            None,
            Some(data[3].payload),
            Some(fec(&sent[4]).parity),
            Some(fec(&sent[5]).parity),
        ];
        let rebuilt = recover(&shards);
        assert_eq!(rebuilt[0], data[0].payload);
        assert_eq!(&decrypt(&key, 2, &rebuilt[2]), &packets[2]);
    }

    #[test]
    fn ciphertext_length_is_the_next_multiple_of_16() {
        for n in [1usize, 15, 16, 17, 60, 320, 1280] {
            assert_eq!(encrypt(&key(), 0, &vec![0; n]).len(), 16 * (n / 16 + 1));
        }
    }

    #[test]
    fn key_is_not_printed() {
        assert!(!format!("{:?}", key()).contains("0123"));
    }

    // --- errors ------------------------------------------------------------------------------

    #[test]
    fn refused_packets_send_nothing_and_keep_the_counters() {
        let mut p = plain(5);
        let mut out = vec![vec![1u8]];
        assert_eq!(p.packetize(&[], &mut out), Err(AudioError::EmptyOpusPacket));
        assert!(out.is_empty());
        assert_eq!(
            p.packetize(&vec![0; MAX_PAYLOAD_LEN + 1], &mut out),
            Err(AudioError::PayloadTooLarge {
                opus_len: MAX_PAYLOAD_LEN + 1,
                payload_len: MAX_PAYLOAD_LEN + 1,
                max: MAX_PAYLOAD_LEN
            })
        );
        assert!(out.is_empty());
        assert_eq!((p.next_sequence(), p.next_timestamp()), (0, 0));
        // The largest payload still fits a whole FEC datagram into the client's buffer.
        let sent = send_all(&mut p, &vec![vec![0; MAX_PAYLOAD_LEN]; 4]);
        assert_eq!(sent[4].len(), wire::MAX_DATAGRAM_LEN);
        // Encryption growth counts: 1376 plaintext bytes become 1392.
        let mut e = AudioPacketizer::new(AudioConfig {
            packet_duration_ms: 5,
            encryption: Some(key()),
        });
        assert!(e.packetize(&vec![0; MAX_PAYLOAD_LEN], &mut out).is_err());
        assert!(e.packetize(&vec![0; MAX_PAYLOAD_LEN - 1], &mut out).is_ok());
    }

    // --- layouts -----------------------------------------------------------------------------

    /// What moonlight-common-c does with a DESCRIBE body for `channels` (6 or 8): the first
    /// matching line is normal quality (GFE LFE remap applied), the next is high quality.
    fn client_parse(body: &str, channels: u8) -> (Vec<u8>, Option<Vec<u8>>) {
        let prefix = format!("{}{channels}", wire::SURROUND_PARAMS_PREFIX);
        let parse = |at: &str| -> Vec<u8> {
            at.bytes()
                .take(usize::from(channels) + 2)
                .map(|b| b - b'0')
                .collect()
        };
        let first = body.find(&prefix).unwrap() + prefix.len();
        let normal = parse(&body[first..]);
        let n = usize::from(channels);
        let mut m: Vec<u8> = normal[2..].to_vec();
        let original = m.clone();
        m[3] = original[n - 1];
        m[4..n].copy_from_slice(&original[3..n - 1]);
        let high = body[first..]
            .find(&prefix)
            .map(|i| parse(&body[first + i + prefix.len()..])[2..].to_vec());
        ([&normal[..2], &m[..]].concat(), high)
    }

    fn describe_body() -> String {
        OpusLayout::advertised()
            .iter()
            .map(|l| {
                format!(
                    "{}{}\r\n",
                    wire::SURROUND_PARAMS_PREFIX,
                    l.surround_params()
                )
            })
            .collect()
    }

    #[test]
    fn surround_params_values() {
        assert_eq!(OpusLayout::stereo().surround_params(), "21101");
        assert_eq!(OpusLayout::surround_51().surround_params(), "642012453");
        assert_eq!(
            OpusLayout::surround_51_high().surround_params(),
            "660012345"
        );
        assert_eq!(OpusLayout::surround_71().surround_params(), "85301245673");
        assert_eq!(
            OpusLayout::surround_71_high().surround_params(),
            "88001234567"
        );
        assert_eq!(OpusLayout::surround_71().digits(), "85301234567");
    }

    #[test]
    fn the_client_decodes_with_the_host_mapping() {
        let body = describe_body();
        for channels in [6u8, 8] {
            let (normal, high) = client_parse(&body, channels);
            let want_normal = OpusLayout::for_channels(channels, false).unwrap();
            let want_high = OpusLayout::for_channels(channels, true).unwrap();
            assert_eq!(normal[0], want_normal.streams);
            assert_eq!(normal[1], want_normal.coupled_streams);
            assert_eq!(&normal[2..], want_normal.mapping());
            assert_eq!(high.as_deref(), Some(want_high.mapping()));
        }
    }

    #[test]
    fn sunshine_layouts_are_encodable() {
        for l in OpusLayout::advertised() {
            assert!(l.is_valid(), "{l:?}");
            assert_eq!(
                OpusLayout::parse_surround_params(&l.digits()).is_some(),
                l.channels != 2
            );
        }
        assert_eq!(OpusLayout::for_channels(4, false), None);
        assert_eq!(opus_bitrate_bps(8, true), Some(2_048_000));
        assert_eq!(opus_bitrate_bps(2, false), Some(96_000));
    }

    #[test]
    fn surround_params_parser_follows_sunshine() {
        let p = OpusLayout::parse_surround_params;
        assert_eq!(p("642012345"), Some(OpusLayout::surround_51()));
        assert_eq!(
            p("642042153").map(|l| l.mapping().to_vec()),
            Some(vec![0, 4, 2, 1, 5, 3])
        );
        for bad in [
            "",
            "6",
            "642",
            "64201234",
            "6420123456",
            "642012346",
            "642012344",
            "632012345",
            "21101",
            "4220123",
            "64201234x",
            "６42012345",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn constant_size_streams_are_framed_and_recoverable(
            size in 1usize..=MAX_PAYLOAD_LEN - 16,
            count in 1usize..24,
            seed in any::<u8>(),
            encrypted in any::<bool>(),
            ten_ms in any::<bool>(),
            lost in (0usize..6, 0usize..6),
        ) {
            let duration = if ten_ms { 10 } else { 5 };
            let key = key();
            let mut p = AudioPacketizer::new(AudioConfig {
                packet_duration_ms: duration,
                encryption: encrypted.then(|| key.clone()),
            });
            let packets: Vec<Vec<u8>> = (0..count)
                .map(|i| (0..size).map(|b| (b * 7 + i * 13) as u8 ^ seed).collect())
                .collect();
            let mut out = Vec::new();
            let mut block: Vec<Vec<u8>> = Vec::new();
            for (i, opus) in packets.iter().enumerate() {
                p.packetize(opus, &mut out).unwrap();
                let d = rtp(&out[0]);
                prop_assert_eq!(d.payload_type, wire::PAYLOAD_TYPE_OPUS);
                prop_assert_eq!(d.sequence as usize, i);
                prop_assert_eq!(d.timestamp as usize, i * usize::from(duration));
                prop_assert_eq!(d.ssrc, 0);
                prop_assert!(out.iter().all(|x| x.len() <= wire::MAX_DATAGRAM_LEN));
                let plain = if encrypted { decrypt(&key, d.sequence, d.payload) } else { d.payload.to_vec() };
                prop_assert_eq!(&plain, opus);
                block.push(d.payload.to_vec());
                if i % 4 == 3 {
                    prop_assert_eq!(out.len(), 3);
                    let (f0, f1) = (fec(&out[1]), fec(&out[2]));
                    let base = (i - 3) as u16;
                    for (k, f) in [&f0, &f1].into_iter().enumerate() {
                        prop_assert_eq!(f.shard_index as usize, k);
                        prop_assert_eq!(f.payload_type, wire::PAYLOAD_TYPE_OPUS);
                        prop_assert_eq!(f.base_sequence, base);
                        prop_assert_eq!(f.base_timestamp, u32::from(base) * u32::from(duration));
                        prop_assert_eq!(f.ssrc, 0);
                        prop_assert_eq!(f.parity.len(), block[0].len());
                    }
                    let all: Vec<&[u8]> = block.iter().map(|b| b.as_slice()).chain([f0.parity, f1.parity]).collect();
                    let kept: [Option<&[u8]>; 6] = std::array::from_fn(|s| (s != lost.0 && s != lost.1).then_some(all[s]));
                    prop_assert_eq!(recover(&kept).to_vec(), block.clone());
                    block.clear();
                } else {
                    prop_assert_eq!(out.len(), 1);
                }
            }
        }

        #[test]
        fn any_sizes_send_every_packet_and_only_uniform_blocks_get_fec(
            sizes in proptest::collection::vec(0usize..1500, 1..40),
        ) {
            let mut p = plain(5);
            let mut out = Vec::new();
            let mut block = Vec::new();
            for &size in &sizes {
                let before = p.next_sequence();
                let result = p.packetize(&vec![0x5a; size], &mut out);
                if size == 0 || size > MAX_PAYLOAD_LEN {
                    prop_assert!(result.is_err());
                    prop_assert!(out.is_empty());
                    prop_assert_eq!(p.next_sequence(), before);
                    continue;
                }
                prop_assert!(result.is_ok());
                prop_assert_eq!(rtp(&out[0]).sequence, before);
                prop_assert_eq!(out[0].len(), wire::RTP_HEADER_LEN + size);
                block.push(size);
                if before % 4 == 3 {
                    let uniform = block.iter().all(|&s| s == block[0]);
                    prop_assert_eq!(out.len(), if uniform { 3 } else { 1 });
                    block.clear();
                } else {
                    prop_assert_eq!(out.len(), 1);
                }
            }
        }

        #[test]
        fn surround_params_parser_never_panics_and_round_trips(value in "[0-9]{0,12}|.{0,16}") {
            if let Some(layout) = OpusLayout::parse_surround_params(&value) {
                prop_assert!(layout.is_valid());
                prop_assert_eq!(layout.digits(), value);
            }
        }
    }
}
