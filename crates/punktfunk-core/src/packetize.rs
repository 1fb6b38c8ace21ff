//! The send path: frame → blocks of shards → recovery shards → sealed packets, written straight
//! into one contiguous buffer of equal-size packets (ready for a GSO send).

use reed_solomon_simd::ReedSolomonEncoder;

use crate::crypto::{CryptoError, MediaSecret, Sealer, MAX_PACKET_NUMBER};
use crate::fec::{BlockPlan, FecError, FecParams, FramePlan};
use crate::header::{write_clear_prefix, write_shard_header, ClearPrefix, ShardHeader};
use crate::wire::media::{self, flags, AEAD_TAG_LEN, CLEAR_PREFIX_LEN, HEADER_LEN};

/// What the sender knows about a frame besides its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameInfo {
    pub frame_index: u32,
    pub pts_us: u64,
    pub epoch: u8,
    pub keyframe: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Fec(#[from] FecError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// A frame's packets: `count` sealed packets of `packet_len` bytes each, back to back.
/// Reused from frame to frame so the send path does not allocate.
#[derive(Debug, Default)]
pub struct PacketBatch {
    buf: Vec<u8>,
    packet_len: usize,
}

impl PacketBatch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.buf.len().checked_div(self.packet_len).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Size of every packet in the batch (the GSO segment size).
    pub fn packet_len(&self) -> usize {
        self.packet_len
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.buf.chunks_exact(self.packet_len.max(1))
    }

    fn reset(&mut self, packet_len: usize, count: usize) {
        self.packet_len = packet_len;
        // Every byte is overwritten below, so stale contents are fine; only grow.
        self.buf.resize(packet_len * count, 0);
    }
}

/// FEC parameters that carry a small frame (an audio packet) in one shard of its own size,
/// rounded up to an even length of at least [`media::MIN_SHARD_BYTES`]: one packet, plus, when
/// `redundant`, one recovery shard (for a one-shard block, a second copy).
pub fn single_packet_params(frame_len: usize, redundant: bool) -> FecParams {
    FecParams {
        percent: if redundant { 100 } else { 0 },
        shard_bytes: (frame_len.max(media::MIN_SHARD_BYTES) + 1) & !1,
        max_data_shards: 1,
    }
}

/// The sending half of the media data plane for one direction.
pub struct MediaSender {
    sealer: Sealer,
    encoder: Option<ReedSolomonEncoder>,
    stream: u8,
}

impl MediaSender {
    pub fn new(secret: &MediaSecret) -> Self {
        Self::from_sealer(Sealer::new(secret))
    }

    /// The sender of one media stream (`wire::media::stream`): its own secret, derived from the
    /// direction's, and its own packet numbers.
    pub fn for_stream(secret: &MediaSecret, stream: u8) -> Self {
        Self {
            stream,
            ..Self::new(&secret.for_stream(stream))
        }
    }

    pub fn from_sealer(sealer: Sealer) -> Self {
        Self {
            sealer,
            encoder: None,
            stream: media::stream::VIDEO,
        }
    }

    pub fn next_packet_number(&self) -> u64 {
        self.sealer.next_packet_number()
    }

    /// Cuts `frame` into sealed packets in `out` (replacing what it held); returns how it was cut.
    pub fn packetize(
        &mut self,
        frame: &[u8],
        info: FrameInfo,
        params: &FecParams,
        out: &mut PacketBatch,
    ) -> Result<FramePlan, SendError> {
        let plan = FramePlan::new(frame.len(), params)?;
        let count = plan.packet_count();
        if self.sealer.next_packet_number() + count as u64 > MAX_PACKET_NUMBER + 1 {
            return Err(CryptoError::Exhausted.into());
        }
        let shard = plan.shard_bytes;
        let packet_len = shard + media::OVERHEAD;
        out.reset(packet_len, count);

        let mut packets = out.buf.chunks_exact_mut(packet_len);
        let last_block = plan.blocks - 1;
        for block in plan.iter() {
            let header = ShardHeader {
                epoch: info.epoch,
                flags: frame_flags(info, block.index == last_block),
                frame_index: info.frame_index,
                pts_us: info.pts_us,
                block_index: block.index,
                block_base: block.base,
                shard_index: 0,
                data_shards: block.data_shards,
                recovery_shards: block.recovery_shards,
                padding: if block.index == last_block {
                    plan.padding
                } else {
                    0
                },
            };
            let mut encoder = encoder_for(&mut self.encoder, &block, shard);
            for s in 0..block.data_shards {
                let packet = packets.next().expect("batch sized by the plan");
                let start = (block.base as usize + usize::from(s)) * shard;
                let end = (start + shard).min(frame.len());
                let payload = &mut packet[HEADER_LEN..HEADER_LEN + shard];
                payload[..end - start].copy_from_slice(&frame[start..end]);
                payload[end - start..].fill(0);
                if let Some(enc) = encoder.as_deref_mut() {
                    enc.add_original_shard(&*payload)
                        .expect("shard sized by the plan");
                }
                let h = ShardHeader {
                    shard_index: s,
                    ..header
                };
                seal_packet(&mut self.sealer, self.stream, &h, packet);
            }
            if let Some(enc) = encoder {
                let recovery = enc.encode().expect("block geometry checked by the plan");
                for (r, parity) in recovery.recovery_iter().enumerate() {
                    let packet = packets.next().expect("batch sized by the plan");
                    packet[HEADER_LEN..HEADER_LEN + shard].copy_from_slice(parity);
                    let h = ShardHeader {
                        shard_index: block.data_shards + r as u16,
                        ..header
                    };
                    seal_packet(&mut self.sealer, self.stream, &h, packet);
                }
            }
        }
        Ok(plan)
    }
}

/// The reusable encoder reset to this block, or `None` when the block has no recovery shards.
fn encoder_for<'a>(
    slot: &'a mut Option<ReedSolomonEncoder>,
    block: &BlockPlan,
    shard: usize,
) -> Option<&'a mut ReedSolomonEncoder> {
    if block.recovery_shards == 0 {
        return None;
    }
    let (k, m) = (
        usize::from(block.data_shards),
        usize::from(block.recovery_shards),
    );
    let geometry_ok = match slot {
        Some(enc) => enc.reset(k, m, shard).is_ok(),
        None => {
            *slot = ReedSolomonEncoder::new(k, m, shard).ok();
            slot.is_some()
        }
    };
    assert!(geometry_ok, "block geometry checked by the plan");
    slot.as_mut()
}

fn frame_flags(info: FrameInfo, last_block: bool) -> u16 {
    let mut f = 0;
    if info.keyframe {
        f |= flags::KEYFRAME;
    }
    if last_block {
        f |= flags::END_OF_FRAME;
    }
    f
}

/// Writes the header into `packet` (header + shard + tag space) and seals it in place.
fn seal_packet(sealer: &mut Sealer, stream: u8, h: &ShardHeader, packet: &mut [u8]) {
    let pn = sealer
        .take_packet_number()
        .expect("packet numbers reserved before the frame");
    write_clear_prefix(
        packet,
        ClearPrefix {
            stream,
            packet_number_low: pn as u32,
        },
    );
    write_shard_header(packet, h);
    let (prefix, rest) = packet.split_at_mut(CLEAR_PREFIX_LEN);
    let (body, tag) = rest.split_at_mut(rest.len() - AEAD_TAG_LEN);
    tag.copy_from_slice(&sealer.seal_with(pn, prefix, body));
}
