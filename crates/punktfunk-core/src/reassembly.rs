//! The receive path after decryption: shards → blocks → frames, recovering lost data shards
//! with the GF(2^16) code.
//!
//! Policy, chosen for latency: a frame is delivered the moment it is whole; every older frame
//! still incomplete at that point (and every frame never seen) is reported lost at once, in order.
//! A frame also is given up `frame_timeout` after its first packet. Bytes are only ever emitted
//! for a frame whose blocks all completed and tile it exactly, so a frame is either exact or lost.
//!
//! Every allocation is bounded by [`ReassemblyLimits`] and checked before it happens.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use reed_solomon_simd::ReedSolomonDecoder;

use crate::fec;
use crate::header::ShardHeader;
use crate::stats::MediaCounters;
use crate::wire::media::{flags, MAX_SHARD_BYTES};

/// Bounds the receiver enforces before it allocates anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyLimits {
    pub min_shard_bytes: usize,
    pub max_shard_bytes: usize,
    pub max_data_shards: u16,
    pub max_recovery_shards: u16,
    pub max_blocks: u16,
    /// `(k + m) * shard` of one block. The decoder's workspace, held once and reused, stays
    /// under 4× this (the GF(2^16) decoder rounds shard counts up to powers of two).
    pub max_block_bytes: usize,
    pub max_frame_bytes: usize,
    pub max_frames_in_flight: usize,
    /// Frame buffers, recovery shards and bookkeeping of all frames in flight together.
    pub max_in_flight_bytes: usize,
    pub frame_timeout: Duration,
}

impl Default for ReassemblyLimits {
    fn default() -> Self {
        Self {
            min_shard_bytes: crate::wire::media::MIN_SHARD_BYTES,
            max_shard_bytes: MAX_SHARD_BYTES,
            // Generous: a peer may choose far larger blocks than our sender's default;
            // `max_block_bytes` is what bounds the memory.
            max_data_shards: 4096,
            max_recovery_shards: 4096,
            max_blocks: 1024,
            max_block_bytes: 16 << 20,
            max_frame_bytes: 16 << 20,
            max_frames_in_flight: 32,
            max_in_flight_bytes: 64 << 20,
            frame_timeout: Duration::from_millis(120),
        }
    }
}

impl ReassemblyLimits {
    /// Bounds of an audio stream: one small packet per frame (plus up to two copies), a few
    /// frames in flight.
    pub fn audio() -> Self {
        use crate::wire::audio::MAX_PACKET_BYTES;
        Self {
            max_data_shards: 1,
            max_recovery_shards: 2,
            max_blocks: 1,
            max_block_bytes: 3 * MAX_PACKET_BYTES,
            max_frame_bytes: MAX_PACKET_BYTES,
            max_frames_in_flight: 8,
            max_in_flight_bytes: 16 * MAX_PACKET_BYTES,
            ..Self::default()
        }
    }
}

/// A whole frame, exactly as the sender passed it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub index: u32,
    pub epoch: u8,
    pub pts_us: u64,
    pub keyframe: bool,
    pub data: Vec<u8>,
}

/// What the reassembler reports, in frame order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Frame(Frame),
    /// `count` consecutive frames starting at `first` will never be delivered.
    Lost {
        first: u32,
        count: u32,
    },
}

/// Why a shard was not taken (the caller counts these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The shard's frame was already delivered: a recovery shard it did not need.
    Surplus,
    Late,
    Malformed,
    OverBudget,
}

struct Block {
    base: u32,
    k: u16,
    m: u16,
    /// One bit per shard, data shards first.
    have: Vec<u64>,
    data_count: u16,
    recovery_count: u16,
    /// Recovery shard bytes, `m * shard`, allocated with the first recovery shard.
    recovery: Vec<u8>,
    done: bool,
}

impl Block {
    fn has(&self, i: u16) -> bool {
        self.have[usize::from(i) / 64] & (1 << (i % 64)) != 0
    }
    fn mark(&mut self, i: u16) {
        self.have[usize::from(i) / 64] |= 1 << (i % 64);
    }
    fn bytes(&self) -> usize {
        self.have.capacity() * 8 + self.recovery.capacity()
    }
}

struct Assembly {
    index: u32,
    epoch: u8,
    pts_us: u64,
    frame_flags: u16,
    shard: usize,
    first_seen: Instant,
    /// Data shards at their frame offsets; grows as blocks further in arrive.
    data: Vec<u8>,
    blocks: Vec<Option<Block>>,
    last_block: Option<(u16, u16)>,
    blocks_done: usize,
    /// Bytes charged to the in-flight budget.
    charged: usize,
}

const BLOCK_SLOT_BYTES: usize = std::mem::size_of::<Option<Block>>();

impl Assembly {
    fn footprint(&self) -> usize {
        self.data.capacity()
            + self.blocks.capacity() * BLOCK_SLOT_BYTES
            + self
                .blocks
                .iter()
                .flatten()
                .map(Block::bytes)
                .sum::<usize>()
    }
}

/// Serial-number order of frame indices (RFC 1982 style): `a` is older than `b` when the
/// wrapping distance from `a` to `b` is positive and under half the space.
fn distance(from: u32, to: u32) -> i32 {
    to.wrapping_sub(from) as i32
}

/// Shards in, frames and losses out. No I/O; time comes in as an argument.
pub struct Reassembler {
    limits: ReassemblyLimits,
    frames: Vec<Assembly>,
    /// Oldest frame index not yet delivered or reported lost.
    next_frame: Option<u32>,
    /// Bit `i` set: frame `next_frame - 1 - i` was delivered (not lost).
    delivered_history: u64,
    in_flight: usize,
    events: VecDeque<Event>,
    decoder: Option<ReedSolomonDecoder>,
    /// Frame buffers handed back by the caller, reused to skip allocation and page faults.
    spare: Vec<Vec<u8>>,
    counters: MediaCounters,
}

/// How many returned frame buffers are kept for reuse.
const SPARE_BUFFERS: usize = 2;

impl Reassembler {
    pub fn new(limits: ReassemblyLimits) -> Self {
        Self {
            limits,
            frames: Vec::new(),
            next_frame: None,
            delivered_history: 0,
            in_flight: 0,
            events: VecDeque::new(),
            decoder: None,
            spare: Vec::new(),
            counters: MediaCounters::default(),
        }
    }

    /// Hands a delivered frame's buffer back for reuse (optional; saves an allocation per frame).
    pub fn recycle(&mut self, mut buffer: Vec<u8>) {
        if self.spare.len() < SPARE_BUFFERS && buffer.capacity() <= self.limits.max_frame_bytes {
            buffer.clear();
            self.spare.push(buffer);
        }
    }

    pub fn limits(&self) -> &ReassemblyLimits {
        &self.limits
    }

    /// Frames delivered, lost and recovered shards so far (the shard-level counters are kept by
    /// the caller).
    pub fn counters(&self) -> &MediaCounters {
        &self.counters
    }

    /// Bytes held for frames in flight.
    pub fn in_flight_bytes(&self) -> usize {
        self.in_flight
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Reassembler::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.frames
            .iter()
            .map(|f| f.first_seen + self.limits.frame_timeout)
            .min()
    }

    /// Gives up every frame whose first packet is older than the frame timeout.
    pub fn handle_timeout(&mut self, now: Instant) {
        let timeout = self.limits.frame_timeout;
        let Some(next) = self.next_frame else { return };
        let newest_expired = self
            .frames
            .iter()
            .filter(|f| now.saturating_duration_since(f.first_seen) >= timeout)
            .map(|f| f.index)
            .max_by_key(|&i| distance(next, i));
        if let Some(index) = newest_expired {
            self.give_up_through(index);
        }
    }

    /// Takes one authenticated shard. `shard` is the payload after the header.
    pub fn push(&mut self, h: &ShardHeader, shard: &[u8], now: Instant) -> Result<(), Rejection> {
        self.check_bounds(h, shard.len())?;
        let next = *self.next_frame.get_or_insert(h.frame_index);
        let age = distance(h.frame_index, next);
        if age > 0 {
            let delivered = age <= 64 && self.delivered_history & (1 << (age - 1)) != 0;
            return Err(if delivered {
                Rejection::Surplus
            } else {
                Rejection::Late
            });
        }
        self.open_frame(h, shard.len(), now)?;
        self.store(h, shard)?;
        self.complete_block(h.frame_index, h.block_index)?;
        self.try_deliver(h.frame_index);
        Ok(())
    }

    fn check_bounds(&self, h: &ShardHeader, shard: usize) -> Result<(), Rejection> {
        let l = &self.limits;
        let frame_end = (u64::from(h.block_base) + u64::from(h.data_shards)) * shard as u64;
        let ok = shard >= l.min_shard_bytes
            && shard <= l.max_shard_bytes
            && shard.is_multiple_of(2)
            && h.data_shards >= 1
            && h.data_shards <= l.max_data_shards
            && h.recovery_shards <= l.max_recovery_shards
            && h.block_index < l.max_blocks
            && u32::from(h.shard_index) < u32::from(h.data_shards) + u32::from(h.recovery_shards)
            && usize::from(h.padding) < shard
            && frame_end <= l.max_frame_bytes as u64
            && (u64::from(h.data_shards) + u64::from(h.recovery_shards)) * shard as u64
                <= l.max_block_bytes as u64
            && fec::supports(h.data_shards, h.recovery_shards);
        if ok {
            Ok(())
        } else {
            Err(Rejection::Malformed)
        }
    }

    /// Position of a frame in flight.
    fn position(&self, index: u32) -> Option<usize> {
        self.frames.iter().position(|f| f.index == index)
    }

    /// Checks the shard against its frame's assembly, creating it (within the count bound) when new.
    fn open_frame(&mut self, h: &ShardHeader, shard: usize, now: Instant) -> Result<(), Rejection> {
        if let Some(i) = self.position(h.frame_index) {
            let f = &self.frames[i];
            let same = f.shard == shard
                && f.epoch == h.epoch
                && f.pts_us == h.pts_us
                && f.frame_flags == h.flags & flags::FRAME_FLAGS;
            return if same {
                Ok(())
            } else {
                Err(Rejection::Malformed)
            };
        }
        if self.frames.len() >= self.limits.max_frames_in_flight {
            // Make room by giving up the oldest frame; the new one may turn out older still.
            let next = self.next_frame.expect("frames in flight");
            let oldest = self
                .frames
                .iter()
                .map(|f| f.index)
                .min_by_key(|&i| distance(next, i))
                .expect("frames in flight");
            self.give_up_through(oldest);
            let next = self.next_frame.expect("advanced past the oldest");
            if distance(next, h.frame_index) < 0 {
                return Err(Rejection::Late);
            }
        }
        self.frames.push(Assembly {
            index: h.frame_index,
            epoch: h.epoch,
            pts_us: h.pts_us,
            frame_flags: h.flags & flags::FRAME_FLAGS,
            shard,
            first_seen: now,
            data: Vec::new(),
            blocks: Vec::new(),
            last_block: None,
            blocks_done: 0,
            charged: 0,
        });
        Ok(())
    }

    fn store(&mut self, h: &ShardHeader, shard: &[u8]) -> Result<(), Rejection> {
        let slot = self.position(h.frame_index).expect("opened above");
        let f = &mut self.frames[slot];
        // The last block is fixed by its first packet; no block may lie beyond it.
        match (f.last_block, h.flags & flags::END_OF_FRAME != 0) {
            (Some((last, pad)), true) if (last, pad) != (h.block_index, h.padding) => {
                return Err(Rejection::Malformed)
            }
            (Some((last, _)), false) if h.block_index >= last => return Err(Rejection::Malformed),
            (None, true) if f.blocks.len() > usize::from(h.block_index) + 1 => {
                return Err(Rejection::Malformed)
            }
            (None, true) => f.last_block = Some((h.block_index, h.padding)),
            _ => {}
        }
        let b = usize::from(h.block_index);
        if let Some(Some(block)) = f.blocks.get(b) {
            if (block.base, block.k, block.m) != (h.block_base, h.data_shards, h.recovery_shards) {
                return Err(Rejection::Malformed);
            }
            if block.done || block.has(h.shard_index) {
                return Ok(()); // Surplus recovery shard or duplicate: nothing to do.
            }
        }
        let is_data = h.shard_index < h.data_shards;
        let block_end = (h.block_base as usize + usize::from(h.data_shards)) * shard.len();
        let new_block = f.blocks.get(b).is_none_or(Option::is_none);
        let bit_words = (usize::from(h.data_shards) + usize::from(h.recovery_shards)).div_ceil(64);

        // Charge everything this shard makes us allocate before allocating it.
        let mut grow = 0;
        if new_block {
            grow += bit_words * 8 + (b + 1).saturating_sub(f.blocks.capacity()) * BLOCK_SLOT_BYTES;
        }
        // Recovery shards grow the frame too: decoding writes the rebuilt data shards there.
        let data_cap = if f.data.len() < block_end {
            // A fresh frame takes a recycled buffer whole, so charge its full capacity.
            let spare = match (f.data.capacity(), self.spare.last()) {
                (0, Some(buf)) => buf.capacity(),
                _ => 0,
            };
            let cap = (f.data.capacity() * 2)
                .max(block_end)
                .min(self.limits.max_frame_bytes)
                .max(spare);
            grow += cap - f.data.capacity();
            Some(cap)
        } else {
            None
        };
        let recovery_len = usize::from(h.recovery_shards) * shard.len();
        let needs_recovery_buf = !is_data
            && f.blocks
                .get(b)
                .and_then(Option::as_ref)
                .is_none_or(|blk| blk.recovery.is_empty());
        if needs_recovery_buf {
            grow += recovery_len;
        }
        self.reserve(h.frame_index, grow)?;

        let slot = self
            .position(h.frame_index)
            .expect("reserve keeps the frame it fills");
        let f = &mut self.frames[slot];
        if new_block {
            if f.blocks.len() <= b {
                f.blocks.reserve_exact(b + 1 - f.blocks.len());
                f.blocks.resize_with(b + 1, || None);
            }
            f.blocks[b] = Some(Block {
                base: h.block_base,
                k: h.data_shards,
                m: h.recovery_shards,
                have: vec![0; bit_words],
                data_count: 0,
                recovery_count: 0,
                recovery: Vec::new(),
                done: false,
            });
        }
        if let Some(cap) = data_cap {
            if f.data.capacity() == 0 {
                if let Some(spare) = self.spare.pop() {
                    f.data = spare;
                }
            }
            f.data.reserve_exact(cap - f.data.len());
            f.data.resize(block_end, 0);
        }
        let block = f.blocks[b].as_mut().expect("created above");
        if is_data {
            let at = (h.block_base as usize + usize::from(h.shard_index)) * shard.len();
            f.data[at..at + shard.len()].copy_from_slice(shard);
            block.data_count += 1;
        } else {
            if block.recovery.is_empty() {
                block.recovery = vec![0; recovery_len];
            }
            let r = usize::from(h.shard_index - h.data_shards) * shard.len();
            block.recovery[r..r + shard.len()].copy_from_slice(shard);
            block.recovery_count += 1;
        }
        block.mark(h.shard_index);
        self.recharge(slot);
        Ok(())
    }

    /// Re-measures a frame's footprint and updates the in-flight total.
    fn recharge(&mut self, slot: usize) {
        let f = &mut self.frames[slot];
        let footprint = f.footprint();
        self.in_flight = self.in_flight - f.charged + footprint;
        f.charged = footprint;
    }

    /// Makes room for `bytes` more in flight, giving up frames older than `index` if needed.
    fn reserve(&mut self, index: u32, bytes: usize) -> Result<(), Rejection> {
        while self.in_flight + bytes > self.limits.max_in_flight_bytes {
            let next = self.next_frame.expect("frames in flight");
            let oldest = self
                .frames
                .iter()
                .map(|f| f.index)
                .filter(|&i| distance(i, index) > 0)
                .min_by_key(|&i| distance(next, i));
            match oldest {
                Some(i) => self.give_up_through(i),
                None => return Err(Rejection::OverBudget),
            }
        }
        Ok(())
    }

    /// Finishes a block whose shards suffice, decoding lost data shards when needed.
    fn complete_block(&mut self, index: u32, block_index: u16) -> Result<(), Rejection> {
        let slot = self.position(index).expect("stored above");
        let f = &mut self.frames[slot];
        let shard = f.shard;
        let block = f.blocks[usize::from(block_index)]
            .as_mut()
            .expect("stored above");
        if block.done
            || usize::from(block.data_count) + usize::from(block.recovery_count)
                < usize::from(block.k)
        {
            return Ok(());
        }
        if block.data_count < block.k {
            let restored = recover(&mut self.decoder, block, &mut f.data, shard);
            match restored {
                Some(n) => self.counters.recovered += n,
                None => return Err(Rejection::Malformed),
            }
        }
        block.done = true;
        block.recovery = Vec::new();
        f.blocks_done += 1;
        self.recharge(slot);
        Ok(())
    }

    fn try_deliver(&mut self, index: u32) {
        let f = &self.frames[self.position(index).expect("stored above")];
        let Some((last, padding)) = f.last_block else {
            return;
        };
        if f.blocks_done != usize::from(last) + 1 || f.blocks.len() != usize::from(last) + 1 {
            return;
        }
        // Blocks must tile the frame: each starts where the one before it ended.
        let mut end = 0u64;
        let tiled = f.blocks.iter().all(|b| match b {
            Some(b) if u64::from(b.base) == end => {
                end += u64::from(b.k);
                true
            }
            _ => false,
        });
        let len = (end * f.shard as u64).checked_sub(u64::from(padding));
        self.give_up_before(index);
        let pos = self.position(index).expect("not given up");
        let mut f = self.frames.swap_remove(pos);
        self.in_flight -= f.charged;
        self.next_frame = Some(index.wrapping_add(1));
        self.delivered_history <<= 1;
        match len {
            Some(len) if tiled && len > 0 && len as usize <= f.data.len() => {
                f.data.truncate(len as usize);
                self.counters.frames += 1;
                self.delivered_history |= 1;
                self.events.push_back(Event::Frame(Frame {
                    index,
                    epoch: f.epoch,
                    pts_us: f.pts_us,
                    keyframe: f.frame_flags & flags::KEYFRAME != 0,
                    data: f.data,
                }));
            }
            _ => {
                self.counters.lost += 1;
                self.events.push_back(Event::Lost {
                    first: index,
                    count: 1,
                });
            }
        }
    }

    /// Reports every frame before `index` lost and drops their assemblies.
    fn give_up_before(&mut self, index: u32) {
        let Some(next) = self.next_frame else { return };
        let gap = distance(next, index);
        if gap <= 0 {
            return;
        }
        let mut freed = 0;
        self.frames.retain(|f| {
            let keep = distance(f.index, index) <= 0;
            if !keep {
                freed += f.charged;
            }
            keep
        });
        self.in_flight -= freed;
        self.report_lost(next, gap as u32);
        self.next_frame = Some(index);
    }

    /// Reports `index` and every frame before it lost.
    fn give_up_through(&mut self, index: u32) {
        self.give_up_before(index.wrapping_add(1));
    }

    /// Reports frames lost that were before `next_frame`, which the caller advances past them.
    fn report_lost(&mut self, first: u32, count: u32) {
        self.counters.lost += u64::from(count);
        self.delivered_history = self.delivered_history.checked_shl(count).unwrap_or(0);
        self.events.push_back(Event::Lost { first, count });
    }
}

/// Rebuilds the block's missing data shards into `data`; returns how many, or `None` if the
/// decoder refused (which valid geometry never causes).
fn recover(
    decoder: &mut Option<ReedSolomonDecoder>,
    block: &Block,
    data: &mut [u8],
    shard: usize,
) -> Option<u64> {
    let (k, m) = (usize::from(block.k), usize::from(block.m));
    match decoder {
        Some(d) => d.reset(k, m, shard).ok()?,
        None => *decoder = Some(ReedSolomonDecoder::new(k, m, shard).ok()?),
    }
    let d = decoder.as_mut().expect("set above");
    let base = block.base as usize * shard;
    for i in 0..block.k {
        if block.has(i) {
            let at = base + usize::from(i) * shard;
            d.add_original_shard(usize::from(i), &data[at..at + shard])
                .ok()?;
        }
    }
    for r in 0..block.m {
        if block.has(block.k + r) {
            let at = usize::from(r) * shard;
            d.add_recovery_shard(usize::from(r), &block.recovery[at..at + shard])
                .ok()?;
        }
    }
    let result = d.decode().ok()?;
    let mut n = 0;
    for (i, bytes) in result.restored_original_iter() {
        let at = base + i * shard;
        data[at..at + shard].copy_from_slice(bytes);
        n += 1;
    }
    Some(n)
}
