//! Hostile input: random bytes, mutated valid packets, and (below the AEAD) arbitrary shard
//! headers never panic, and never make the receiver hold more memory than its bounds allow.
//!
//! One test in this binary, so the counting allocator sees only this test's allocations.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use punktfunk_core::header::ShardHeader;
use punktfunk_core::reassembly::Reassembler;
use punktfunk_core::wire::media::{flags, MAX_DATAGRAM};
use punktfunk_core::{FecParams, MediaReceiver, ReassemblyLimits};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
        PEAK.fetch_max(live, Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let live = LIVE.fetch_add(new_size - layout.size(), Relaxed) + new_size - layout.size();
            // A moving realloc holds both blocks for a moment.
            PEAK.fetch_max(live + layout.size(), Relaxed);
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Small bounds, so the test can tell whether they hold.
fn hostile_limits() -> ReassemblyLimits {
    ReassemblyLimits {
        min_shard_bytes: 2,
        max_shard_bytes: 2048,
        max_data_shards: 256,
        max_recovery_shards: 256,
        max_blocks: 64,
        max_block_bytes: 256 << 10,
        max_frame_bytes: 1 << 20,
        max_frames_in_flight: 8,
        max_in_flight_bytes: 2 << 20,
        frame_timeout: Duration::from_millis(100),
    }
}

/// What the receiver may hold: its in-flight budget, the decoder's workspace (under 4× a block,
/// shards rounded up to 64 bytes), the replay window, and a little bookkeeping.
fn memory_bound(l: &ReassemblyLimits) -> usize {
    let shards_per_block = usize::from(l.max_data_shards) + usize::from(l.max_recovery_shards);
    let decoder = 4 * (l.max_block_bytes + shards_per_block * 64);
    l.max_in_flight_bytes + decoder + (64 << 10)
}

/// One shard of a scenario: (frame, block, shard index, flip end-of-frame, corruption kind,
/// corrupting value, clock in ms).
type ShardEntry = (u32, u16, u16, bool, u8, u32, u64);

/// A hostile shard stream: mostly consistent geometry (so shards get deep into reassembly and
/// blocks complete or decode), with some fields corrupted at random.
#[derive(Debug, Clone)]
struct Scenario {
    /// Shard size per frame (frame index modulo the table).
    shard: Vec<usize>,
    /// (base, k, m) per block index.
    blocks: Vec<(u32, u16, u16)>,
    shards: Vec<ShardEntry>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        proptest::collection::vec(1usize..512, 8),
        proptest::collection::vec(
            (
                // Mostly small blocks that complete; some large ones that fill the budget.
                prop_oneof![4 => 1u16..12, 1 => 100u16..256],
                prop_oneof![4 => 0u16..6, 1 => 0u16..200],
            ),
            8,
        ),
        proptest::collection::vec(
            (
                0u32..10,
                0u16..8,
                0u16..18,
                any::<bool>(),
                0u8..40,
                any::<u32>(),
                0u64..300,
            ),
            1..500,
        ),
    )
        .prop_map(|(shard, blocks, mut shards)| {
            // Blocks tile the frame (base = sum of the k before it) so frames can complete;
            // shards come roughly in frame order so few are merely late.
            let mut next = 0;
            let blocks = blocks
                .into_iter()
                .map(|(k, m)| {
                    let base = next;
                    next += u32::from(k);
                    (base, k, m)
                })
                .collect();
            shards.sort_by_key(|s| s.0);
            Scenario {
                shard: shard.into_iter().map(|h| h * 2).collect(),
                blocks,
                shards,
            }
        })
}

/// Builds the header and shard length for one entry of a scenario.
fn hostile_shard(
    sc: &Scenario,
    (frame, block, index, flip_last, corrupt, value, _): ShardEntry,
) -> (ShardHeader, usize) {
    // Each frame ends at a block of its own choosing, with its own padding.
    let last_block = (frame % 3) as u16;
    let last = (block == last_block) ^ (flip_last && corrupt == 8);
    let block = block.min(last_block);
    let (base, k, m) = sc.blocks[usize::from(block)];
    let shard = sc.shard[frame as usize % sc.shard.len()];
    let mut h = ShardHeader {
        epoch: 0,
        flags: if last { flags::END_OF_FRAME } else { 0 },
        frame_index: frame,
        pts_us: u64::from(frame),
        block_index: block,
        block_base: base,
        shard_index: index % (k + m).max(1),
        data_shards: k,
        recovery_shards: m,
        padding: if last {
            (frame * 37 % shard as u32) as u16
        } else {
            0
        },
    };
    let mut len = shard;
    match corrupt {
        0 => h.block_base = value,
        1 => h.data_shards = value as u16,
        2 => h.recovery_shards = value as u16,
        3 => h.shard_index = value as u16,
        4 => h.padding = value as u16,
        5 => h.frame_index = value,
        6 => len = (value as usize % 2100) & !1,
        7 => h.epoch = value as u8,
        _ => {}
    }
    (h, len)
}

#[test]
fn hostile_input_never_panics_and_stays_within_bounds() {
    let limits = hostile_limits();
    let bound = memory_bound(&limits);
    // A fresh runner per stage: a runner counts its cases across `run` calls.
    let runner = || {
        TestRunner::new(Config {
            cases: 300,
            failure_persistence: None,
            ..Config::default()
        })
    };

    // 1. Random bytes of any length straight into the receiver.
    runner()
        .run(
            &proptest::collection::vec(
                proptest::collection::vec(any::<u8>(), 0..MAX_DATAGRAM + 64),
                1..20,
            ),
            |datagrams| {
                let mut rx = MediaReceiver::new(&secret(), limits);
                for mut d in datagrams {
                    rx.handle_datagram(&mut d, Instant::now());
                }
                prop_assert_eq!(rx.counters().received, 0);
                Ok(())
            },
        )
        .unwrap();

    // 2. Valid packets, then mutated: bit flips, truncation, extension, duplication.
    let (mut tx, _) = pair(limits);
    let params = FecParams {
        percent: 20,
        shard_bytes: 512,
        max_data_shards: 16,
    };
    let valid: Vec<Vec<u8>> = (0..4)
        .flat_map(|i| packetize(&mut tx, &frame_bytes(9_000, i), i as u32, &params))
        .collect();
    runner()
        .run(
            &proptest::collection::vec((0..valid.len(), 0usize..600, any::<u8>(), 0u8..4), 1..200),
            |edits| {
                let mut rx = MediaReceiver::new(&secret(), limits);
                for (which, at, byte, how) in edits {
                    let mut p = valid[which].clone();
                    match how {
                        0 => {
                            let at = at % p.len();
                            p[at] ^= byte | 1;
                        }
                        1 => p.truncate(at % p.len()),
                        2 => p.extend(std::iter::repeat_n(byte, at)),
                        _ => {}
                    }
                    rx.handle_datagram(&mut p, Instant::now());
                    prop_assert!(rx.in_flight_bytes() <= limits.max_in_flight_bytes);
                }
                while let Some(e) = rx.poll_event() {
                    if let punktfunk_core::Event::Frame(f) = e {
                        // Only untouched packets authenticate, so any frame is the real one.
                        prop_assert_eq!(f.data, frame_bytes(9_000, u64::from(f.index)));
                    }
                }
                Ok(())
            },
        )
        .unwrap();

    // 3. Below the AEAD: arbitrary (authenticated-looking) shard headers into the reassembler.
    let peak = std::cell::Cell::new(0usize);
    let accepted = std::cell::Cell::new(0usize);
    let completed = std::cell::Cell::new(0usize);
    runner()
        .run(&scenario(), |sc| {
            let base = LIVE.load(Relaxed);
            PEAK.store(base, Relaxed);
            let mut r = Reassembler::new(limits);
            let start = Instant::now();
            let payload = vec![0xA5u8; limits.max_shard_bytes + 200];
            for entry in sc.shards.iter().copied() {
                let (h, len) = hostile_shard(&sc, entry);
                let ms = entry.6;
                let res = r.push(&h, &payload[..len], start + Duration::from_millis(ms));
                if res.is_ok() {
                    accepted.set(accepted.get() + 1);
                }
                prop_assert!(r.in_flight_bytes() <= limits.max_in_flight_bytes);
                r.handle_timeout(start + Duration::from_millis(ms));
                while let Some(e) = r.poll_event() {
                    if matches!(e, punktfunk_core::Event::Frame(_)) {
                        completed.set(completed.get() + 1);
                    }
                }
            }
            drop(r);
            peak.set(peak.get().max(PEAK.load(Relaxed).saturating_sub(base)));
            Ok(())
        })
        .unwrap();
    let peak = peak.get();
    assert!(
        accepted.get() > 2_000,
        "the hostile shards must reach the reassembler's insides ({} taken)",
        accepted.get()
    );
    assert!(
        peak <= bound,
        "reassembler held {peak} bytes at its peak, bound {bound}"
    );
    assert!(completed.get() > 20, "some hostile frames must complete");
    eprintln!(
        "hostile reassembly: {} shards taken, {} frames completed, peak {peak} bytes (bound {bound})",
        accepted.get(),
        completed.get()
    );
}
