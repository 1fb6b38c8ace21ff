//! Property tests: any frame size, shard size, FEC percentage and loss pattern. Losses of at most
//! `m` shards in every block give back the exact bytes; more in any block report the frame lost.

mod common;

use common::*;
use proptest::prelude::*;
use punktfunk_core::fec::FramePlan;
use punktfunk_core::{Event, FecParams};

/// Splits a frame's packets into blocks (they are laid out block by block: k data, then m
/// recovery) and drops `losses[b]` packets of block `b`, chosen by `pick`.
fn drop_per_block(
    packets: Vec<Vec<u8>>,
    plan: &FramePlan,
    losses: &[u16],
    pick: u64,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = packets.into_iter();
    let mut x = pick | 1;
    for (b, block) in plan.iter().enumerate() {
        let n = usize::from(block.data_shards + block.recovery_shards);
        let mut shards: Vec<_> = rest.by_ref().take(n).collect();
        for _ in 0..usize::from(losses[b]).min(shards.len()) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let at = (x % shards.len() as u64) as usize;
            shards.remove(at);
        }
        out.extend(shards);
    }
    out
}

fn shuffle(packets: &mut [Vec<u8>], seed: u64) {
    let mut x = seed | 1;
    for i in (1..packets.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        packets.swap(i, (x % (i as u64 + 1)) as usize);
    }
}

fn fec_params() -> impl Strategy<Value = FecParams> {
    (0u8..=60, 1usize..=1024, 1u16..=300).prop_map(|(percent, half, max_k)| FecParams {
        percent,
        shard_bytes: half * 2,
        max_data_shards: max_k,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn recoverable_losses_give_exact_bytes(
        len in 1usize..120_000,
        params in fec_params(),
        seed in any::<u64>(),
        loss_fraction in 0.0f64..=1.0,
        reorder in any::<bool>(),
    ) {
        let plan = FramePlan::new(len, &params).unwrap();
        // Within what the receiver accepts (its block count bound) and what a test can afford.
        prop_assume!(plan.packet_count() <= 6_000);
        prop_assume!(plan.blocks <= test_limits().max_blocks);
        let (mut tx, mut rx) = pair(test_limits());
        let frame = frame_bytes(len, seed);
        let packets = packetize(&mut tx, &frame, 0, &params);
        let losses: Vec<u16> = plan
            .iter()
            .map(|b| (f64::from(b.recovery_shards) * loss_fraction) as u16)
            .collect();
        let mut kept = drop_per_block(packets, &plan, &losses, seed);
        if reorder {
            shuffle(&mut kept, seed);
        }
        deliver(&mut rx, kept);
        let ev = events(&mut rx);
        prop_assert_eq!(&only_frame(&ev).data, &frame);
        prop_assert_eq!(rx.in_flight_bytes(), 0);
    }

    #[test]
    fn unrecoverable_losses_report_the_frame_lost(
        len in 1usize..60_000,
        params in fec_params(),
        seed in any::<u64>(),
        extra in 1u16..4,
    ) {
        let plan = FramePlan::new(len, &params).unwrap();
        // Within what the receiver accepts (its block count bound) and what a test can afford.
        prop_assume!(plan.packet_count() <= 6_000);
        prop_assume!(plan.blocks <= test_limits().max_blocks);
        let (mut tx, mut rx) = pair(test_limits());
        // A whole frame first, so the receiver knows where the stream starts.
        deliver(&mut rx, packetize(&mut tx, &frame_bytes(10, 2), 0, &params));
        prop_assert_eq!(events(&mut rx).len(), 1);
        let frame = frame_bytes(len, seed);
        let packets = packetize(&mut tx, &frame, 1, &params);
        // One block loses more than its m; the others lose nothing.
        let victim = (seed % u64::from(plan.blocks)) as usize;
        let losses: Vec<u16> = plan
            .iter()
            .enumerate()
            .map(|(b, blk)| if b == victim { blk.recovery_shards + extra } else { 0 })
            .collect();
        deliver(&mut rx, drop_per_block(packets, &plan, &losses, seed));
        prop_assert!(events(&mut rx).is_empty());
        let next = frame_bytes(10, 1);
        deliver(&mut rx, packetize(&mut tx, &next, 2, &params));
        let ev = events(&mut rx);
        prop_assert_eq!(&ev[0], &Event::Lost { first: 1, count: 1 });
        prop_assert!(matches!(&ev[1], Event::Frame(f) if f.data == next));
        prop_assert_eq!(ev.len(), 2);
        prop_assert_eq!(rx.counters().lost, 1);
    }

    #[test]
    fn a_stream_with_random_loss_never_emits_wrong_bytes(
        frames in proptest::collection::vec((1usize..20_000, 0u8..=50), 1..12),
        shard_half in 8usize..=700,
        loss_per_mille in 0u64..300,
        seed in any::<u64>(),
    ) {
        let (mut tx, mut rx) = pair(test_limits());
        let mut sent = Vec::new();
        let mut x = seed | 1;
        for (i, (len, pct)) in frames.iter().enumerate() {
            let params = FecParams { percent: *pct, shard_bytes: shard_half * 2, max_data_shards: 64 };
            let frame = frame_bytes(*len, seed ^ i as u64);
            let packets = packetize(&mut tx, &frame, i as u32, &params);
            let kept = packets.into_iter().filter(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x % 1000 >= loss_per_mille
            });
            deliver(&mut rx, kept);
            sent.push(frame);
        }
        rx.handle_timeout(std::time::Instant::now() + rx.limits().frame_timeout);
        let events = events(&mut rx);
        // Frames lost before the first packet that arrived are unknowable: count from there.
        let start = match events.first() {
            Some(Event::Frame(f)) => f.index,
            Some(Event::Lost { first, .. }) => *first,
            None => 0,
        };
        let mut accounted = start;
        for e in events {
            match e {
                Event::Frame(f) => {
                    prop_assert_eq!(f.index, accounted);
                    prop_assert_eq!(&f.data, &sent[f.index as usize]);
                    accounted += 1;
                }
                Event::Lost { first, count } => {
                    prop_assert_eq!(first, accounted);
                    accounted += count;
                }
            }
        }
        // Every frame from there on is accounted for exactly once, in order.
        let c = rx.counters();
        prop_assert_eq!(c.frames + c.lost, u64::from(accounted - start));
        prop_assert!(accounted as usize <= sent.len());
        prop_assert_eq!(rx.in_flight_bytes(), 0);
    }
}
