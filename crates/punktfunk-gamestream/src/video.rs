//! The video plane: encoded frames cut into equal-sized RTP shards with Reed–Solomon parity
//! and optional AES-GCM, as moonlight-common-c reassembles them; and the client's UDP pings.
//!
//! Per frame: the 8-byte frame header and the Annex-B bitstream form one byte stream, cut into
//! `packetSize − 16`-byte payloads (the last zero-padded). The data shards split into at most
//! four FEC blocks; each block gets its own parity, computed over whole shards with every
//! header field the client reads from recovered shards already final. Parity shards then get
//! their own RTP header, `frameIndex`, `multiFecBlocks` and `fecInfo` (the client rewrites those
//! fields on recovered shards). With encryption each shard is sealed separately, parity
//! included, behind a 32-byte prefix.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};

use crate::fec::{FecError, ReedSolomon};
use crate::wire::video::*;

/// Largest UDP payload over IPv4.
const MAX_UDP_PAYLOAD: usize = 65_507;
/// Smallest `packetSize`: the 8-byte frame header must fit the first shard's payload.
pub const MIN_PACKET_SIZE: usize = NV_HEADER_LEN + FRAME_HEADER_LEN;
/// Largest `packetSize`: an encrypted shard must still fit one UDP datagram.
pub const MAX_PACKET_SIZE: usize = MAX_UDP_PAYLOAD - PACKET_SIZE_OVERHEAD - ENC_PREFIX_LEN;
/// Reed–Solomon codes kept for reuse (block shapes repeat from frame to frame).
const CODE_CACHE: usize = 8;

/// How the client should treat a frame (frame-header byte 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameType {
    P,
    Idr,
    IntraRefresh,
    /// The first frame after a reference-frame invalidation (RFI) request.
    AfterInvalidation,
}

impl FrameType {
    pub fn wire_value(self) -> u8 {
        match self {
            FrameType::P => FRAME_TYPE_P,
            FrameType::Idr => FRAME_TYPE_IDR,
            FrameType::IntraRefresh => FRAME_TYPE_INTRA_REFRESH,
            FrameType::AfterInvalidation => FRAME_TYPE_AFTER_INVALIDATION,
        }
    }
}

/// Session parameters from RTSP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoConfig {
    /// `x-nv-video[0].packetSize` from ANNOUNCE; each shard is this + 16 bytes (+ 32 encrypted).
    pub packet_size: usize,
    /// Parity shards per 100 data shards (Sunshine's default: 20); 0 turns FEC off.
    pub fec_percent: u8,
    /// `x-nv-vqos[0].fec.minRequiredFecPackets` (Moonlight sends 2).
    pub min_required_fec_packets: u8,
    /// The `rikey` when the client enabled video encryption (`encryptionEnabled` bit 0x02).
    pub encryption_key: Option<[u8; 16]>,
}

/// One encoded access unit.
#[derive(Debug, Clone, Copy)]
pub struct VideoFrame<'a> {
    /// 1 for the first frame of the session, +1 per frame sent, no gaps.
    pub frame_index: u32,
    /// Capture time in 90 kHz ticks from a fixed epoch (wrapping).
    pub rtp_timestamp: u32,
    pub frame_type: FrameType,
    /// Capture-to-send latency in 0.1 ms units, 0 when unknown.
    pub host_processing_latency_100us: u16,
    /// The bitstream (Annex B for H.264/HEVC, OBUs for AV1).
    pub annex_b: &'a [u8],
}

/// How a frame was sent (totals over its FEC blocks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLayout {
    pub blocks: usize,
    pub data_shards: usize,
    pub parity_shards: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VideoError {
    #[error("packet size {0} outside {MIN_PACKET_SIZE}..={MAX_PACKET_SIZE}")]
    PacketSize(usize),
    #[error(
        "frame of {bytes} bytes needs {shards} data shards, more than four FEC blocks can index"
    )]
    FrameTooLarge { bytes: usize, shards: usize },
    #[error("AES-128-GCM refused the key")]
    Key,
    #[error("AES-GCM sealing failed")]
    Seal,
    #[error(transparent)]
    Fec(#[from] FecError),
}

/// The datagrams of one frame, in send order, all of the same length. Reused across frames:
/// its buffer only grows.
#[derive(Debug, Default)]
pub struct ShardBatch {
    buf: Vec<u8>,
    stride: usize,
    count: usize,
}

impl ShardBatch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn clear(&mut self) {
        self.count = 0;
    }

    /// Number of datagrams.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Length of every datagram of the batch.
    pub fn datagram_len(&self) -> usize {
        self.stride
    }

    /// Datagram `i`.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        (i < self.count).then(|| &self.buf[i * self.stride..(i + 1) * self.stride])
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.as_contiguous().chunks_exact(self.stride.max(1))
    }

    /// All datagrams back to back, each [`ShardBatch::datagram_len`] bytes: ready for one
    /// segmentation-offload send (up to 64 segments at a time).
    pub fn as_contiguous(&self) -> &[u8] {
        &self.buf[..self.count * self.stride]
    }

    /// Makes room for `count` datagrams of `stride` bytes; the bytes are left as they were.
    fn reset(&mut self, count: usize, stride: usize) {
        let need = count * stride;
        if self.buf.len() < need {
            self.buf.resize(need, 0);
        }
        self.stride = stride;
        self.count = count;
    }
}

/// One FEC block of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BlockPlan {
    /// Index of its first data shard in the frame's data shards.
    first_data: usize,
    data: usize,
    parity: usize,
    /// The percentage written to `fecInfo`, from which the client derives `parity`.
    percent: u8,
}

/// Frame-level numbers.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    payload_per_shard: usize,
    /// Unencrypted shard length: `packetSize + 16`.
    shard_len: usize,
    /// Bytes in front of each shard: the encryption prefix or nothing.
    prefix_len: usize,
}

impl Geometry {
    fn stride(&self) -> usize {
        self.prefix_len + self.shard_len
    }
}

/// Cuts frames into shards for one video session; keeps the RTP sequence and the IV counter.
pub struct VideoPacketizer {
    config: VideoConfig,
    geometry: Geometry,
    key: Option<LessSafeKey>,
    /// Running packet number of the next shard: RTP sequence (low 16 bits) and
    /// `streamPacketIndex` (low 24 bits).
    next_packet: u32,
    /// Invocation counter of the AES-GCM IV, one per encrypted shard.
    iv_counter: u64,
    codes: Vec<ReedSolomon>,
    /// The client's reported loss: blocks get the parity it needs (see `set_expected_loss_ppm`).
    expected_loss_ppm: u32,
}

impl std::fmt::Debug for VideoPacketizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoPacketizer")
            .field("packet_size", &self.config.packet_size)
            .field("fec_percent", &self.config.fec_percent)
            .field("encrypted", &self.key.is_some())
            .field("next_packet", &self.next_packet)
            .finish_non_exhaustive()
    }
}

impl VideoPacketizer {
    pub fn new(config: VideoConfig) -> Result<Self, VideoError> {
        if !(MIN_PACKET_SIZE..=MAX_PACKET_SIZE).contains(&config.packet_size) {
            return Err(VideoError::PacketSize(config.packet_size));
        }
        let key = match config.encryption_key {
            Some(k) => Some(LessSafeKey::new(
                UnboundKey::new(&AES_128_GCM, &k).map_err(|_| VideoError::Key)?,
            )),
            None => None,
        };
        let geometry = Geometry {
            payload_per_shard: config.packet_size - NV_HEADER_LEN,
            shard_len: config.packet_size + PACKET_SIZE_OVERHEAD,
            prefix_len: if key.is_some() { ENC_PREFIX_LEN } else { 0 },
        };
        Ok(Self {
            config,
            geometry,
            key,
            next_packet: 0,
            iv_counter: 0,
            codes: Vec::new(),
            expected_loss_ppm: 0,
        })
    }

    /// Changes the FEC percentage from the next frame on (0 turns FEC off).
    pub fn set_fec_percent(&mut self, percent: u8) {
        self.config.fec_percent = percent;
    }

    /// The packet loss the client reports, parts per million: from the next frame on, each
    /// block gets at least the parity that keeps it recoverable under that loss with
    /// probability ≥ 1 − 10⁻³ (the percentage stays the floor; 0 FEC stays off).
    pub fn set_expected_loss_ppm(&mut self, ppm: u32) {
        self.expected_loss_ppm = ppm;
    }

    /// Cuts `frame` into datagrams in send order (`out` is cleared first). The RTP sequence
    /// continues from the previous frame.
    pub fn packetize(
        &mut self,
        frame: &VideoFrame,
        out: &mut ShardBatch,
    ) -> Result<FrameLayout, VideoError> {
        out.clear();
        let g = self.geometry;
        let stream_len = FRAME_HEADER_LEN + frame.annex_b.len();
        let data_shards = stream_len.div_ceil(g.payload_per_shard);
        let (blocks, block_count) = plan_blocks(
            stream_len,
            data_shards,
            g,
            self.config.fec_percent,
            self.config.min_required_fec_packets,
            self.expected_loss_ppm,
        )
        .ok_or(VideoError::FrameTooLarge {
            bytes: frame.annex_b.len(),
            shards: data_shards,
        })?;
        let blocks = &blocks[..block_count];
        let total: usize = blocks.iter().map(|b| b.data + b.parity).sum();
        out.reset(total, g.stride());

        let header = frame_header(frame, stream_len, g.payload_per_shard);
        let mut first_shard = 0;
        for (index, block) in blocks.iter().enumerate() {
            let shards = block.data + block.parity;
            let region =
                &mut out.buf[first_shard * g.stride()..(first_shard + shards) * g.stride()];
            let ctx = BlockContext {
                frame,
                block: *block,
                multi_fec_blocks: multi_fec_blocks(index, block_count),
                first_packet: self.next_packet,
            };
            fill_data_shards(region, &ctx, g, &header, frame.annex_b);
            if block.parity > 0 {
                let code = self.code(block.data, block.parity)?;
                encode_parity(code, region, block.data, g)?;
                write_parity_headers(region, &ctx, g);
            }
            self.next_packet = self.next_packet.wrapping_add(shards as u32);
            first_shard += shards;
        }
        self.seal_all(out, frame.frame_index)?;

        Ok(FrameLayout {
            blocks: block_count,
            data_shards,
            parity_shards: blocks.iter().map(|b| b.parity).sum(),
        })
    }

    /// The cached code for a block shape, building it when new.
    fn code(&mut self, data: usize, parity: usize) -> Result<&ReedSolomon, FecError> {
        let found = self
            .codes
            .iter()
            .position(|c| c.data_shards() == data && c.parity_shards() == parity);
        let at = match found {
            Some(at) => at,
            None => {
                if self.codes.len() == CODE_CACHE {
                    self.codes.remove(0);
                }
                self.codes.push(ReedSolomon::new(data, parity)?);
                self.codes.len() - 1
            }
        };
        Ok(&self.codes[at])
    }

    /// Encrypts every shard of the batch in place behind its prefix, in send order.
    fn seal_all(&mut self, out: &mut ShardBatch, frame_index: u32) -> Result<(), VideoError> {
        let Some(key) = &self.key else {
            return Ok(());
        };
        let stride = out.stride;
        for datagram in out.buf[..out.count * stride].chunks_exact_mut(stride) {
            let iv = video_iv(self.iv_counter);
            self.iv_counter = self.iv_counter.wrapping_add(1);
            let (prefix, shard) = datagram.split_at_mut(ENC_PREFIX_LEN);
            let tag = key
                .seal_in_place_separate_tag(Nonce::assume_unique_for_key(iv), Aad::empty(), shard)
                .map_err(|_| VideoError::Seal)?;
            prefix[ENC_OFF_IV..ENC_OFF_IV + ENC_IV_LEN].copy_from_slice(&iv);
            put_u32_le(prefix, ENC_OFF_FRAME_NUMBER, frame_index);
            prefix[ENC_OFF_TAG..ENC_OFF_TAG + ENC_TAG_LEN].copy_from_slice(tag.as_ref());
        }
        Ok(())
    }
}

/// The GCM nonce of the `counter`-th encrypted video shard: counter LE ‖ 0 0 0 ‖ 'V'.
fn video_iv(counter: u64) -> [u8; ENC_IV_LEN] {
    let mut iv = [0u8; ENC_IV_LEN];
    iv[..8].copy_from_slice(&counter.to_le_bytes());
    iv[ENC_IV_OFF_STREAM_TAG] = ENC_IV_STREAM_TAG;
    iv
}

/// The 8-byte frame header that precedes the bitstream.
fn frame_header(frame: &VideoFrame, stream_len: usize, payload_per_shard: usize) -> [u8; 8] {
    let last = match stream_len % payload_per_shard {
        0 => payload_per_shard,
        n => n,
    };
    let mut h = [0u8; FRAME_HEADER_LEN];
    h[OFF_FRAME_HEADER_TYPE] = FRAME_HEADER_TYPE_SHORT;
    h[OFF_FRAME_HEADER_LATENCY..OFF_FRAME_HEADER_LATENCY + 2]
        .copy_from_slice(&frame.host_processing_latency_100us.to_le_bytes());
    h[OFF_FRAME_HEADER_FRAME_TYPE] = frame.frame_type.wire_value();
    // payload_per_shard <= MAX_PACKET_SIZE - 16 < 65536, so `last` fits.
    h[OFF_FRAME_HEADER_LAST_PAYLOAD_LEN..OFF_FRAME_HEADER_LAST_PAYLOAD_LEN + 2]
        .copy_from_slice(&(last as u16).to_le_bytes());
    h
}

/// Splits a frame's data shards into FEC blocks the way Sunshine does, with each block's
/// parity count. `None` when a block would need more shards than `fecInfo` can index.
fn plan_blocks(
    stream_len: usize,
    data_shards: usize,
    g: Geometry,
    fec_percent: u8,
    min_parity: u8,
    expected_loss_ppm: u32,
) -> Option<([BlockPlan; MAX_FEC_BLOCKS], usize)> {
    let mut percent = usize::from(fec_percent);
    let max_data_per_block = RS_MAX_SHARDS * 100 / (100 + percent);
    // The frame as Sunshine lays it out before cutting: every payload slice behind its headers.
    let expanded = stream_len + SHARD_HEADER_LEN * data_shards;
    let mut count = expanded.div_ceil(max_data_per_block * g.shard_len);
    if count > MAX_FEC_BLOCKS {
        // Too big for four protected blocks: send it unprotected rather than not at all.
        percent = 0;
        count = MAX_FEC_BLOCKS;
    }
    let mut per_block = (expanded / count).div_ceil(g.shard_len);
    if per_block * (count - 1) >= data_shards {
        per_block = data_shards.div_ceil(count);
    }
    let mut plans = [BlockPlan {
        first_data: 0,
        data: 0,
        parity: 0,
        percent: 0,
    }; MAX_FEC_BLOCKS];
    for (k, plan) in plans.iter_mut().enumerate().take(count) {
        let first_data = k * per_block;
        let data = if k + 1 == count {
            data_shards - first_data
        } else {
            per_block
        };
        if data > FEC_INFO_INDEX_MAX {
            return None;
        }
        // What the reported loss needs for a block this size, on top of the client's minimum.
        let for_loss = if percent == 0 {
            0
        } else {
            punktfunk_core::fec::recovery_for_loss(
                data as u32,
                expected_loss_ppm,
                RS_MAX_SHARDS.saturating_sub(data) as u32,
            )
        };
        let min = usize::from(min_parity)
            .max(for_loss as usize)
            .min(usize::from(u8::MAX));
        let (parity, percent) = parity_for_block(data, percent as u8, min as u8);
        *plan = BlockPlan {
            first_data,
            data,
            parity,
            percent,
        };
    }
    Some((plans, count))
}

/// Parity count and advertised percentage of a block of `data` shards. The client derives
/// the count back as `ceil(data · percent / 100)` and builds its matrix from it, so the pair
/// must agree exactly; raising the count to the minimum means picking a percentage that maps
/// back to it.
fn parity_for_block(data: usize, percent: u8, min_parity: u8) -> (usize, u8) {
    if percent == 0 {
        return (0, 0);
    }
    let derived = |p: usize| (data * p).div_ceil(100);
    let base = derived(usize::from(percent));
    let min = usize::from(min_parity);
    if base >= min {
        return (base, percent);
    }
    // The largest percentage that does not overshoot `p`; if it maps to less, none maps to p.
    let advertised = |p: usize| {
        let f = (100 * p / data).min(usize::from(u8::MAX));
        (derived(f) == p).then_some(f as u8)
    };
    let headroom = RS_MAX_SHARDS - data;
    (min..=headroom)
        .chain((base + 1..min.min(headroom + 1)).rev())
        .find_map(|p| advertised(p).map(|f| (p, f)))
        .unwrap_or((base, percent))
}

fn multi_fec_blocks(index: usize, count: usize) -> u8 {
    ((index << MULTI_FEC_BLOCK_INDEX_SHIFT) | ((count - 1) << MULTI_FEC_LAST_BLOCK_SHIFT)) as u8
}

fn fec_info(shard_index: usize, block: &BlockPlan) -> u32 {
    ((shard_index as u32) << FEC_INFO_SHARD_INDEX_SHIFT)
        | ((block.data as u32) << FEC_INFO_DATA_SHARDS_SHIFT)
        | (u32::from(block.percent) << FEC_INFO_PERCENT_SHIFT)
}

/// What every shard header of a block is made from.
struct BlockContext<'f, 'a> {
    frame: &'f VideoFrame<'a>,
    block: BlockPlan,
    multi_fec_blocks: u8,
    /// Packet number of the block's first shard.
    first_packet: u32,
}

/// The header fields a parity shard needs for itself: RTP bytes 0–11, `frameIndex`,
/// `multiFecBlocks`, `fecInfo`. (Data shards get them too, plus the fields parity protects.)
fn write_routing_fields(shard: &mut [u8], ctx: &BlockContext, shard_index: usize) {
    let packet = ctx.first_packet.wrapping_add(shard_index as u32);
    shard[OFF_RTP_BYTE0] = RTP_BYTE0;
    shard[OFF_RTP_SEQUENCE..OFF_RTP_SEQUENCE + 2].copy_from_slice(&(packet as u16).to_be_bytes());
    shard[OFF_RTP_TIMESTAMP..OFF_RTP_TIMESTAMP + 4]
        .copy_from_slice(&ctx.frame.rtp_timestamp.to_be_bytes());
    shard[OFF_RTP_SSRC..OFF_RTP_SSRC + 4].fill(0);
    put_u32_le(shard, OFF_FRAME_INDEX, ctx.frame.frame_index);
    shard[OFF_MULTI_FEC_BLOCKS] = ctx.multi_fec_blocks;
    put_u32_le(shard, OFF_FEC_INFO, fec_info(shard_index, &ctx.block));
}

/// Writes the complete data shards of a block (headers and payload) behind their prefixes.
fn fill_data_shards(
    region: &mut [u8],
    ctx: &BlockContext,
    g: Geometry,
    header: &[u8; FRAME_HEADER_LEN],
    bitstream: &[u8],
) {
    let data = ctx.block.data;
    for (x, datagram) in region.chunks_exact_mut(g.stride()).take(data).enumerate() {
        let shard = &mut datagram[g.prefix_len..];
        write_routing_fields(shard, ctx, x);
        shard[OFF_RTP_PAYLOAD_TYPE] = 0;
        shard[OFF_RTP_EXTENSION..OFF_RTP_EXTENSION + RTP_EXTENSION_LEN].fill(0);
        let packet = ctx.first_packet.wrapping_add(x as u32);
        put_u32_le(
            shard,
            OFF_STREAM_PACKET_INDEX,
            packet << STREAM_PACKET_INDEX_SHIFT,
        );
        let mut flags = FLAG_CONTAINS_PIC_DATA;
        if x == 0 {
            flags |= FLAG_SOF;
        }
        if x + 1 == data {
            flags |= FLAG_EOF;
        }
        shard[OFF_FLAGS] = flags;
        shard[OFF_EXTRA_FLAGS] = EXTRA_FLAGS_NONE;
        shard[OFF_MULTI_FEC_FLAGS] = MULTI_FEC_FLAGS;
        let offset = (ctx.block.first_data + x) * g.payload_per_shard;
        copy_stream(header, bitstream, offset, &mut shard[SHARD_HEADER_LEN..]);
    }
}

/// Copies the frame stream (`header ‖ bitstream`) from `offset` into `dst`, zero-filling what
/// lies past its end.
fn copy_stream(header: &[u8], bitstream: &[u8], offset: usize, dst: &mut [u8]) {
    let mut filled = 0;
    if offset < header.len() {
        let part = &header[offset..];
        let n = part.len().min(dst.len());
        dst[..n].copy_from_slice(&part[..n]);
        filled = n;
    }
    let body_from = (offset + filled)
        .saturating_sub(header.len())
        .min(bitstream.len());
    let body = &bitstream[body_from..];
    let n = body.len().min(dst.len() - filled);
    dst[filled..filled + n].copy_from_slice(&body[..n]);
    dst[filled + n..].fill(0);
}

/// Computes the parity shards of a block over the whole (unencrypted) data shards.
fn encode_parity(
    code: &ReedSolomon,
    region: &mut [u8],
    data: usize,
    g: Geometry,
) -> Result<(), FecError> {
    let (data_part, parity_part) = region.split_at_mut(data * g.stride());
    let ins: Vec<&[u8]> = data_part
        .chunks_exact(g.stride())
        .map(|d| &d[g.prefix_len..])
        .collect();
    let mut outs: Vec<&mut [u8]> = parity_part
        .chunks_exact_mut(g.stride())
        .map(|p| &mut p[g.prefix_len..])
        .collect();
    code.encode(&ins, &mut outs)
}

/// Gives each parity shard its own routing fields; the other header bytes keep parity, which
/// is what recovers those fields of a lost data shard.
fn write_parity_headers(region: &mut [u8], ctx: &BlockContext, g: Geometry) {
    let data = ctx.block.data;
    for (j, datagram) in region.chunks_exact_mut(g.stride()).skip(data).enumerate() {
        write_routing_fields(&mut datagram[g.prefix_len..], ctx, data + j);
    }
}

fn put_u32_le(buf: &mut [u8], at: usize, v: u32) {
    buf[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

// --- pings ----------------------------------------------------------------------------------------

/// A client ping on the video or audio port; its source address is where media goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ping {
    /// The `X-SS-Ping-Payload` the client echoes (None for a legacy ping).
    pub payload: Option<[u8; PING_PAYLOAD_LEN]>,
    /// Counts from 1 per socket (None for a legacy ping).
    pub sequence: Option<u32>,
}

/// Recognises a ping: 16-byte payload ‖ u32 BE sequence (longer datagrams are accepted, as
/// Sunshine does), or the 4-byte legacy `PING`. Anything else is `None`.
pub fn parse_ping(datagram: &[u8]) -> Option<Ping> {
    if datagram == LEGACY_PING {
        return Some(Ping {
            payload: None,
            sequence: None,
        });
    }
    let payload: [u8; PING_PAYLOAD_LEN] = datagram.get(..PING_PAYLOAD_LEN)?.try_into().ok()?;
    let sequence: [u8; 4] = datagram.get(PING_PAYLOAD_LEN..PING_LEN)?.try_into().ok()?;
    Some(Ping {
        payload: Some(payload),
        sequence: Some(u32::from_be_bytes(sequence)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(packet_size: usize, fec_percent: u8, min: u8) -> VideoConfig {
        VideoConfig {
            packet_size,
            fec_percent,
            min_required_fec_packets: min,
            encryption_key: None,
        }
    }

    fn frame(index: u32, bitstream: &[u8]) -> VideoFrame<'_> {
        VideoFrame {
            frame_index: index,
            rtp_timestamp: 0x0102_0304,
            frame_type: FrameType::P,
            host_processing_latency_100us: 0x1234,
            annex_b: bitstream,
        }
    }

    fn u32_le(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    /// The worked example of the notes: packetSize 1392, a 50 000-byte P-frame, 20 %, min 2.
    #[test]
    fn worked_example_headers() {
        let bitstream: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        let mut p = VideoPacketizer::new(config(1392, 20, 2)).unwrap();
        let mut out = ShardBatch::new();
        let layout = p.packetize(&frame(1, &bitstream), &mut out).unwrap();
        assert_eq!(
            layout,
            FrameLayout {
                blocks: 1,
                data_shards: 37,
                parity_shards: 8
            }
        );
        assert_eq!(out.len(), 45);
        assert!(out.iter().all(|d| d.len() == 1408));
        for (x, d) in out.iter().enumerate() {
            assert_eq!(d[0], 0x90);
            assert_eq!(u16::from_be_bytes([d[2], d[3]]), x as u16);
            assert_eq!(&d[4..8], &[1, 2, 3, 4]);
            assert_eq!(&d[8..12], &[0; 4]);
            assert_eq!(u32_le(d, 20), 1, "frameIndex");
            assert_eq!(d[27], 0x00, "multiFecBlocks");
            assert_eq!(u32_le(d, 28), (x as u32) << 12 | 37 << 22 | 20 << 4);
            if x < 37 {
                assert_eq!(&d[12..16], &[0; 4]);
                assert_eq!(u32_le(d, 16), (x as u32) << 8, "streamPacketIndex");
                let flags = match x {
                    0 => 0x05,
                    36 => 0x03,
                    _ => 0x01,
                };
                assert_eq!(d[24], flags);
                assert_eq!((d[25], d[26]), (0, 0x10));
            }
        }
        let first = out.get(0).unwrap();
        // Frame header: type 1, latency 0x1234 LE, P-frame, last payload 472 LE, 0 0.
        assert_eq!(&first[32..40], &[0x01, 0x34, 0x12, 1, 0xD8, 0x01, 0, 0]);
        assert_eq!(&first[40..48], &bitstream[..8]);
        let last = out.get(36).unwrap();
        let tail = 50_000 - (36 * 1376 - 8);
        assert_eq!(tail, 472);
        assert_eq!(&last[32..32 + tail], &bitstream[50_000 - tail..]);
        assert!(last[32 + tail..].iter().all(|&b| b == 0));

        // The next frame continues the sequence at 45.
        let layout = p.packetize(&frame(2, &bitstream[..100]), &mut out).unwrap();
        assert_eq!((layout.data_shards, layout.parity_shards), (1, 2));
        let d = out.get(0).unwrap();
        assert_eq!(u16::from_be_bytes([d[2], d[3]]), 45);
        assert_eq!(u32_le(d, 16), 45 << 8);
        assert_eq!(d[24], 0x07);
        // One data shard, two parity: the advertised percentage is 200.
        assert_eq!(u32_le(d, 28), 1 << 22 | 200 << 4);
    }

    #[test]
    fn frame_types_on_the_wire() {
        assert_eq!(
            [
                FrameType::P,
                FrameType::Idr,
                FrameType::IntraRefresh,
                FrameType::AfterInvalidation
            ]
            .map(FrameType::wire_value),
            [1, 2, 4, 5]
        );
    }

    #[test]
    fn last_payload_length_when_the_stream_fills_the_last_shard() {
        let ppsh = 1376;
        let f = frame(1, &[]);
        let h = frame_header(&f, 2 * ppsh, ppsh);
        assert_eq!(u16::from_le_bytes([h[4], h[5]]), 1376);
        let h = frame_header(&f, 8, ppsh);
        assert_eq!(u16::from_le_bytes([h[4], h[5]]), 8);
    }

    #[test]
    fn parity_for_block_examples() {
        assert_eq!(parity_for_block(37, 20, 2), (8, 20));
        assert_eq!(parity_for_block(1, 20, 2), (2, 200));
        assert_eq!(parity_for_block(3, 20, 2), (2, 66));
        assert_eq!(parity_for_block(10, 0, 2), (0, 0));
        // A one-shard block advertises 3 parity shards as 255 %; 4 would need 301 %.
        assert_eq!(parity_for_block(1, 20, 3), (3, 255));
        assert_eq!(parity_for_block(1, 20, 4), (3, 255));
        // 150 shards at 1 %: 2 parity; min 3 needs a percentage the client maps back to 3.
        let (p, f) = parity_for_block(150, 1, 3);
        assert_eq!((150 * usize::from(f)).div_ceil(100), p);
        assert!(p >= 3);
    }

    /// Whatever the inputs, the advertised percentage maps back to the parity count sent, the
    /// block fits nanors' 255 shards, and the minimum is met whenever it can be.
    #[test]
    fn parity_for_block_is_always_consistent() {
        for f in 1..=255u8 {
            let max_data = RS_MAX_SHARDS * 100 / (100 + usize::from(f));
            for d in 1..=max_data {
                for min in 0..=6u8 {
                    let (p, adv) = parity_for_block(d, f, min);
                    assert_eq!(
                        (d * usize::from(adv)).div_ceil(100),
                        p,
                        "d {d} f {f} min {min}"
                    );
                    assert!(d + p <= RS_MAX_SHARDS, "d {d} f {f} min {min}");
                    assert!(p >= 1);
                    let reachable = (1..=255usize)
                        .map(|f| (d * f).div_ceil(100))
                        .any(|q| q >= usize::from(min) && d + q <= RS_MAX_SHARDS);
                    if reachable {
                        assert!(p >= usize::from(min), "d {d} f {f} min {min}");
                    }
                }
            }
        }
    }

    fn plan(len: usize, packet_size: usize, f: u8) -> Option<Vec<BlockPlan>> {
        let g = Geometry {
            payload_per_shard: packet_size - 16,
            shard_len: packet_size + 16,
            prefix_len: 0,
        };
        let stream = len + 8;
        let d = stream.div_ceil(g.payload_per_shard);
        plan_blocks(stream, d, g, f, 2, 0).map(|(p, n)| p[..n].to_vec())
    }

    #[test]
    fn reported_loss_raises_the_parity_of_small_blocks() {
        let bitstream = vec![0x5A; 2000];
        let mut p = VideoPacketizer::new(config(1392, 20, 2)).unwrap();
        let mut out = ShardBatch::new();
        let plain = p.packetize(&frame(1, &bitstream), &mut out).unwrap();
        assert_eq!((plain.data_shards, plain.parity_shards), (2, 2));
        // At 10 % loss two parity shards fail 0.4 % of 2-shard blocks; three keep it under 0.1 %.
        p.set_expected_loss_ppm(100_000);
        let guarded = p.packetize(&frame(2, &bitstream), &mut out).unwrap();
        assert_eq!((guarded.data_shards, guarded.parity_shards), (2, 3));
        assert_eq!(out.len(), 5);
    }

    #[test]
    fn blocks_split_like_sunshine() {
        // 212 data shards fit one block at 20 %; 213 need two, of 107 and 106.
        let one = plan(212 * 1376 - 8, 1392, 20).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!((one[0].data, one[0].parity), (212, 43));
        let two = plan(212 * 1376, 1392, 20).unwrap();
        assert_eq!(two.iter().map(|b| b.data).collect::<Vec<_>>(), [107, 106]);
        assert_eq!(two[1].first_data, 107);
        // Beyond four blocks the frame goes unprotected in four blocks.
        let big = plan(900 * 1376, 1392, 20).unwrap();
        assert_eq!(big.len(), 4);
        assert!(big.iter().all(|b| b.parity == 0 && b.percent == 0));
        assert_eq!(big.iter().map(|b| b.data).sum::<usize>(), 901);
        // More than 4 × 1023 shards cannot be indexed.
        assert!(plan(4 * 1023 * 1376, 1392, 20).is_none());
        assert!(plan(4 * 1023 * 1376 - 8, 1392, 20).is_some());
    }

    #[test]
    fn block_headers_of_a_two_block_frame() {
        let bitstream = vec![0xAB; 212 * 1376];
        let mut p = VideoPacketizer::new(config(1392, 20, 2)).unwrap();
        let mut out = ShardBatch::new();
        let layout = p.packetize(&frame(7, &bitstream), &mut out).unwrap();
        assert_eq!(layout.blocks, 2);
        // Block 0: 107 data + 22 parity; block 1 starts at shard 129.
        let b1 = out.get(129).unwrap();
        assert_eq!(u16::from_be_bytes([b1[2], b1[3]]), 129);
        assert_eq!(b1[27], 1 << 4 | 1 << 6);
        assert_eq!(b1[24], FLAG_CONTAINS_PIC_DATA | FLAG_SOF);
        assert_eq!(u32_le(b1, 28), 106 << 22 | 20 << 4);
        let b0_last = out.get(106).unwrap();
        assert_eq!(b0_last[24], FLAG_CONTAINS_PIC_DATA | FLAG_EOF);
        assert_eq!(b0_last[27], 1 << 6);
    }

    #[test]
    fn packet_size_bounds() {
        assert_eq!(
            VideoPacketizer::new(config(23, 20, 2)).err(),
            Some(VideoError::PacketSize(23))
        );
        assert!(VideoPacketizer::new(config(24, 20, 2)).is_ok());
        assert!(VideoPacketizer::new(config(MAX_PACKET_SIZE + 1, 20, 2)).is_err());
        // The smallest packet still carries the frame header whole.
        let mut p = VideoPacketizer::new(config(24, 0, 0)).unwrap();
        let mut out = ShardBatch::new();
        p.packetize(&frame(1, &[9, 9, 9]), &mut out).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out.get(1).unwrap()[32..], [9, 9, 9, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn encrypted_shards_open_to_the_plain_ones() {
        let key = [0x42; 16];
        let bitstream: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        let mut plain = VideoPacketizer::new(config(1024, 20, 2)).unwrap();
        let mut sealed = VideoPacketizer::new(VideoConfig {
            encryption_key: Some(key),
            ..config(1024, 20, 2)
        })
        .unwrap();
        let (mut a, mut b) = (ShardBatch::new(), ShardBatch::new());
        let opener = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &key).unwrap());
        let mut counter = 0u64;
        for index in 1..=3 {
            plain.packetize(&frame(index, &bitstream), &mut a).unwrap();
            sealed.packetize(&frame(index, &bitstream), &mut b).unwrap();
            assert_eq!(a.len(), b.len());
            assert_eq!(b.datagram_len(), 1024 + 16 + 32);
            for (p, s) in a.iter().zip(b.iter()) {
                let mut iv = [0u8; 12];
                iv[..8].copy_from_slice(&counter.to_le_bytes());
                iv[11] = b'V';
                counter += 1;
                assert_eq!(&s[..12], &iv);
                assert_eq!(u32_le(s, 12), index);
                let mut body = s[32..].to_vec();
                body.extend_from_slice(&s[16..32]);
                let opened = opener
                    .open_in_place(Nonce::assume_unique_for_key(iv), Aad::empty(), &mut body)
                    .unwrap();
                assert_eq!(opened, p);
            }
        }
    }

    #[test]
    fn pings() {
        let mut current = [0u8; 20];
        current[..16].copy_from_slice(b"0123456789ABCDEF");
        current[16..].copy_from_slice(&7u32.to_be_bytes());
        assert_eq!(
            parse_ping(&current),
            Some(Ping {
                payload: Some(*b"0123456789ABCDEF"),
                sequence: Some(7)
            })
        );
        assert_eq!(
            parse_ping(b"PING"),
            Some(Ping {
                payload: None,
                sequence: None
            })
        );
        assert!(parse_ping(b"PONG").is_none());
        assert!(parse_ping(&current[..19]).is_none());
        assert!(parse_ping(&[]).is_none());
        let mut long = current.to_vec();
        long.push(0);
        assert!(parse_ping(&long).is_some());
    }
}
