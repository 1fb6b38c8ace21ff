//! The media packet header: encoding and bounded, panic-free parsing.
//!
//! Layout (little-endian, see `docs/protocol.md`): a 5-byte clear prefix (tag, low 32 bits of the
//! packet number) that is authenticated as associated data, then 29 sealed bytes describing the
//! shard's place in its frame.

use crate::wire::media::{self, flags, offset};

/// The clear prefix: what a receiver reads before opening the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClearPrefix {
    pub stream: u8,
    /// Low 32 bits of the 64-bit packet number.
    pub packet_number_low: u32,
}

/// The sealed part of the header: a shard's place in its frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardHeader {
    /// Configuration epoch: bumps on every reconfiguration; its first frame is a keyframe.
    pub epoch: u8,
    pub flags: u16,
    pub frame_index: u32,
    /// Presentation time in microseconds from the session's clock origin.
    pub pts_us: u64,
    /// Index of the FEC block within the frame.
    pub block_index: u16,
    /// Frame-wide index of the block's first data shard.
    pub block_base: u32,
    /// `0..k` data shards, `k..k+m` recovery shards.
    pub shard_index: u16,
    pub data_shards: u16,
    pub recovery_shards: u16,
    /// Zero bytes appended to the frame's last data shard; non-zero only on the last block.
    pub padding: u16,
}

impl ShardHeader {
    pub fn is_keyframe(&self) -> bool {
        self.flags & flags::KEYFRAME != 0
    }
    pub fn is_end_of_frame(&self) -> bool {
        self.flags & flags::END_OF_FRAME != 0
    }
    pub fn is_recovery(&self) -> bool {
        self.shard_index >= self.data_shards
    }
}

/// Why a packet was not accepted. Parsing never panics and never allocates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("packet of {0} bytes is shorter than the header, tag and a 2-byte shard")]
    TooShort(usize),
    #[error("packet of {0} bytes exceeds the {max}-byte datagram bound", max = media::MAX_DATAGRAM)]
    TooLong(usize),
    #[error("first byte {0:#04x} is not a media tag (QUIC bits set)")]
    NotMedia(u8),
    #[error("header version {0} is unknown")]
    UnknownVersion(u8),
    #[error("stream {0} is unknown")]
    UnknownStream(u8),
    #[error("shard of {0} bytes is odd; the GF(2^16) code needs even shards")]
    OddShard(usize),
    #[error("reserved flag bits {0:#06x} are set")]
    ReservedFlags(u16),
    #[error("block geometry is invalid: k={k} m={m} shard index={index}")]
    BadGeometry { k: u16, m: u16, index: u16 },
    #[error("padding {padding} is not below the shard size {shard} or sits on a non-final block")]
    BadPadding { padding: u16, shard: usize },
}

/// Size of the shard a packet of `packet_len` bytes carries.
pub fn shard_len_of(packet_len: usize) -> Option<usize> {
    packet_len.checked_sub(media::OVERHEAD)
}

/// Reads the clear prefix and checks the packet's overall length.
pub fn parse_clear_prefix(packet: &[u8]) -> Result<ClearPrefix, HeaderError> {
    if packet.len() > media::MAX_DATAGRAM {
        return Err(HeaderError::TooLong(packet.len()));
    }
    if packet.len() < media::OVERHEAD + 2 {
        return Err(HeaderError::TooShort(packet.len()));
    }
    let tag = packet[offset::TAG];
    if tag & media::QUIC_BITS_MASK != 0 {
        return Err(HeaderError::NotMedia(tag));
    }
    let version = (tag & media::TAG_VERSION_MASK) >> media::TAG_VERSION_SHIFT;
    if version != media::HEADER_VERSION {
        return Err(HeaderError::UnknownVersion(version));
    }
    let stream = tag & media::TAG_STREAM_MASK;
    if !media::stream::KNOWN.contains(&stream) {
        return Err(HeaderError::UnknownStream(stream));
    }
    Ok(ClearPrefix {
        stream,
        packet_number_low: read_u32(packet, offset::PACKET_NUMBER),
    })
}

/// Encodes the clear prefix into `out[..CLEAR_PREFIX_LEN]`.
pub fn write_clear_prefix(out: &mut [u8], prefix: ClearPrefix) {
    out[offset::TAG] = (media::HEADER_VERSION << media::TAG_VERSION_SHIFT)
        | (prefix.stream & media::TAG_STREAM_MASK);
    out[offset::PACKET_NUMBER..offset::PACKET_NUMBER + 4]
        .copy_from_slice(&prefix.packet_number_low.to_le_bytes());
}

/// Encodes the sealed header fields into `out[CLEAR_PREFIX_LEN..HEADER_LEN]`.
pub fn write_shard_header(out: &mut [u8], h: &ShardHeader) {
    out[offset::EPOCH] = h.epoch;
    put(out, offset::FLAGS, &h.flags.to_le_bytes());
    put(out, offset::FRAME_INDEX, &h.frame_index.to_le_bytes());
    put(out, offset::PTS_US, &h.pts_us.to_le_bytes());
    put(out, offset::BLOCK_INDEX, &h.block_index.to_le_bytes());
    put(out, offset::BLOCK_BASE, &h.block_base.to_le_bytes());
    put(out, offset::SHARD_INDEX, &h.shard_index.to_le_bytes());
    put(out, offset::DATA_SHARDS, &h.data_shards.to_le_bytes());
    put(
        out,
        offset::RECOVERY_SHARDS,
        &h.recovery_shards.to_le_bytes(),
    );
    put(out, offset::PADDING, &h.padding.to_le_bytes());
}

/// Parses the sealed header of an opened packet (`packet` = header + shard, tag removed) and
/// checks everything that can be checked from one packet alone.
pub fn parse_shard_header(packet: &[u8]) -> Result<ShardHeader, HeaderError> {
    if packet.len() < media::HEADER_LEN + 2 {
        return Err(HeaderError::TooShort(packet.len()));
    }
    let shard = packet.len() - media::HEADER_LEN;
    if !shard.is_multiple_of(2) {
        return Err(HeaderError::OddShard(shard));
    }
    let h = ShardHeader {
        epoch: packet[offset::EPOCH],
        flags: read_u16(packet, offset::FLAGS),
        frame_index: read_u32(packet, offset::FRAME_INDEX),
        pts_us: u64::from_le_bytes(array(packet, offset::PTS_US)),
        block_index: read_u16(packet, offset::BLOCK_INDEX),
        block_base: read_u32(packet, offset::BLOCK_BASE),
        shard_index: read_u16(packet, offset::SHARD_INDEX),
        data_shards: read_u16(packet, offset::DATA_SHARDS),
        recovery_shards: read_u16(packet, offset::RECOVERY_SHARDS),
        padding: read_u16(packet, offset::PADDING),
    };
    if h.flags & !flags::KNOWN != 0 {
        return Err(HeaderError::ReservedFlags(h.flags & !flags::KNOWN));
    }
    let total = u32::from(h.data_shards) + u32::from(h.recovery_shards);
    if h.data_shards == 0 || u32::from(h.shard_index) >= total {
        return Err(HeaderError::BadGeometry {
            k: h.data_shards,
            m: h.recovery_shards,
            index: h.shard_index,
        });
    }
    if usize::from(h.padding) >= shard || (h.padding != 0 && !h.is_end_of_frame()) {
        return Err(HeaderError::BadPadding {
            padding: h.padding,
            shard,
        });
    }
    Ok(h)
}

fn put(out: &mut [u8], at: usize, bytes: &[u8]) {
    out[at..at + bytes.len()].copy_from_slice(bytes);
}

fn array<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&b[at..at + N]);
    a
}

fn read_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(array(b, at))
}

fn read_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(array(b, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ShardHeader {
        ShardHeader {
            epoch: 3,
            flags: flags::KEYFRAME | flags::END_OF_FRAME,
            frame_index: 0x0102_0304,
            pts_us: 0x1122_3344_5566_7788,
            block_index: 2,
            block_base: 700,
            shard_index: 5,
            data_shards: 10,
            recovery_shards: 2,
            padding: 7,
        }
    }

    #[test]
    fn round_trip_and_exact_layout() {
        let mut p = vec![0u8; media::HEADER_LEN + 64];
        write_clear_prefix(
            &mut p,
            ClearPrefix {
                stream: 0,
                packet_number_low: 0xA1B2_C3D4,
            },
        );
        write_shard_header(&mut p, &sample());
        assert_eq!(
            &p[..media::HEADER_LEN],
            &[
                0x00, 0xD4, 0xC3, 0xB2, 0xA1, // tag, pn
                3, 0x01, 0x80, // epoch, flags
                0x04, 0x03, 0x02, 0x01, // frame
                0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, // pts
                2, 0, // block
                0xBC, 0x02, 0, 0, // base 700
                5, 0, 10, 0, 2, 0, 7, 0, // shard, k, m, pad
            ]
        );
        assert_eq!(parse_shard_header(&p).unwrap(), sample());
        let mut sealed = p.clone();
        sealed.extend_from_slice(&[0u8; media::AEAD_TAG_LEN]);
        assert_eq!(
            parse_clear_prefix(&sealed).unwrap().packet_number_low,
            0xA1B2_C3D4
        );
    }

    #[test]
    fn rejects_quic_and_bad_geometry() {
        let mut p = vec![0u8; media::OVERHEAD + 64];
        p[0] = 0x40;
        assert_eq!(parse_clear_prefix(&p), Err(HeaderError::NotMedia(0x40)));
        p[0] = 0x10;
        assert_eq!(parse_clear_prefix(&p), Err(HeaderError::UnknownVersion(1)));
        let mut h = sample();
        h.shard_index = 12;
        let mut q = vec![0u8; media::HEADER_LEN + 64];
        write_shard_header(&mut q, &h);
        assert!(matches!(
            parse_shard_header(&q),
            Err(HeaderError::BadGeometry { .. })
        ));
        h.shard_index = 0;
        h.flags = 0;
        write_shard_header(&mut q, &h);
        assert!(matches!(
            parse_shard_header(&q),
            Err(HeaderError::BadPadding { .. })
        ));
        assert!(matches!(
            parse_shard_header(&q[..media::HEADER_LEN + 3]),
            Err(HeaderError::OddShard(3))
        ));
    }
}
