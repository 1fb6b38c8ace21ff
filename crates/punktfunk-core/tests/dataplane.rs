//! End-to-end behaviour of the data plane: sender → (loss, reorder, tamper) → receiver.

mod common;

use std::time::{Duration, Instant};

use common::*;
use punktfunk_core::crypto::Sealer;
use punktfunk_core::wire::keys::PACKETS_PER_KEY;
use punktfunk_core::wire::media;
use punktfunk_core::{Event, FecParams, MediaReceiver, MediaSender, Outcome, ReassemblyLimits};

fn params(percent: u8, shard: usize, max_k: u16) -> FecParams {
    FecParams {
        percent,
        shard_bytes: shard,
        max_data_shards: max_k,
    }
}

#[test]
fn a_frame_arrives_exactly_with_its_metadata() {
    let (mut tx, mut rx) = pair(test_limits());
    let frame = frame_bytes(10_000, 1);
    let packets = packetize(&mut tx, &frame, 0, &params(20, 1000, 4));
    // 10 data shards in 3 blocks (4,3,3), each with 2 recovery shards.
    assert_eq!(packets.len(), 10 + 3 * 2);
    assert!(packets.iter().all(|p| p.len() == 1000 + media::OVERHEAD));
    deliver(&mut rx, packets);
    let ev = events(&mut rx);
    let f = only_frame(&ev);
    assert_eq!(f.data, frame);
    assert_eq!((f.index, f.epoch, f.pts_us, f.keyframe), (0, 1, 0, true));
    let c = rx.counters();
    assert_eq!((c.received, c.frames, c.recovered, c.lost), (16, 1, 0, 0));
}

#[test]
fn losses_up_to_m_per_block_are_recovered_in_any_order() {
    let (mut tx, mut rx) = pair(test_limits());
    let frame = frame_bytes(7_777, 2);
    let mut packets = packetize(&mut tx, &frame, 0, &params(50, 100, 40));
    // 78 data shards, 2 blocks of 39 with 20 recovery each: drop 20 data shards of block 0.
    assert_eq!(packets.len(), 78 + 40);
    packets.drain(0..20);
    // Reversed: block 1's recovery shards come first, so it decodes as soon as any 39 of its
    // shards are in (20 rebuilt), without waiting for the rest of its data shards.
    packets.reverse();
    deliver(&mut rx, packets);
    let ev = events(&mut rx);
    assert_eq!(only_frame(&ev).data, frame);
    assert_eq!(rx.counters().recovered, 40);
}

#[test]
fn more_than_m_losses_report_the_frame_lost_never_bytes() {
    let (mut tx, mut rx) = pair(test_limits());
    let lossy = frame_bytes(5_000, 3);
    let mut packets = packetize(&mut tx, &lossy, 0, &params(10, 500, 100));
    // 10 data + 2 recovery: lose 3.
    packets.drain(2..5);
    deliver(&mut rx, packets);
    assert!(
        events(&mut rx).is_empty(),
        "nothing until the frame resolves"
    );
    // The next frame completes, so frame 0 is given up, then frame 1 is delivered.
    let next = frame_bytes(900, 4);
    deliver(&mut rx, packetize(&mut tx, &next, 1, &params(10, 500, 100)));
    let ev = events(&mut rx);
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[0], Event::Lost { first: 0, count: 1 });
    match &ev[1] {
        Event::Frame(f) => assert_eq!((f.index, &f.data), (1, &next)),
        e => panic!("{e:?}"),
    }
    assert_eq!(rx.counters().lost, 1);
}

#[test]
fn frames_never_seen_are_reported_as_a_range() {
    let (mut tx, mut rx) = pair(test_limits());
    let p = params(10, 200, 64);
    deliver(&mut rx, packetize(&mut tx, &frame_bytes(300, 5), 0, &p));
    for i in 1..5 {
        let _ = packetize(&mut tx, &frame_bytes(300, 5), i, &p); // dropped on the wire
    }
    deliver(&mut rx, packetize(&mut tx, &frame_bytes(300, 6), 5, &p));
    let ev = events(&mut rx);
    assert!(matches!(ev[0], Event::Frame(ref f) if f.index == 0));
    assert_eq!(ev[1], Event::Lost { first: 1, count: 4 });
    assert!(matches!(ev[2], Event::Frame(ref f) if f.index == 5));
}

#[test]
fn an_incomplete_frame_is_given_up_after_the_timeout() {
    let limits = ReassemblyLimits {
        frame_timeout: Duration::from_millis(50),
        ..test_limits()
    };
    let (mut tx, mut rx) = pair(limits);
    let mut packets = packetize(&mut tx, &frame_bytes(4_000, 7), 0, &params(0, 400, 64));
    packets.pop();
    let t0 = Instant::now();
    for mut p in packets {
        rx.handle_datagram(&mut p, t0);
    }
    let deadline = rx.poll_timeout().expect("a frame is pending");
    assert_eq!(deadline, t0 + Duration::from_millis(50));
    rx.handle_timeout(t0 + Duration::from_millis(49));
    assert!(events(&mut rx).is_empty());
    rx.handle_timeout(deadline);
    assert_eq!(events(&mut rx), vec![Event::Lost { first: 0, count: 1 }]);
    assert_eq!(rx.poll_timeout(), None);
    assert_eq!(rx.in_flight_bytes(), 0);
}

#[test]
fn late_replayed_and_forged_packets_are_counted_and_dropped() {
    let (mut tx, mut rx) = pair(test_limits());
    let packets = packetize(&mut tx, &frame_bytes(1_000, 8), 0, &params(20, 100, 64));
    let now = Instant::now();
    let mut first = packets[0].clone();
    assert_eq!(rx.handle_datagram(&mut first, now), Outcome::Accepted);
    let mut again = packets[0].clone();
    assert_eq!(rx.handle_datagram(&mut again, now), Outcome::Replayed);
    let mut forged = packets[1].clone();
    forged[media::HEADER_LEN + 3] ^= 0x80;
    assert_eq!(rx.handle_datagram(&mut forged, now), Outcome::BadTag);
    let mut renumbered = packets[1].clone();
    renumbered[media::offset::PACKET_NUMBER] ^= 0x10; // pn 1 -> 17: fresh, but wrong
    assert_eq!(rx.handle_datagram(&mut renumbered, now), Outcome::BadTag);
    deliver(&mut rx, packets[1..].iter().cloned());
    assert_eq!(events(&mut rx).len(), 1);
    // Frame 2 arrives whole, so frame 1 (never seen) is given up; a packet of frame 1 that
    // turns up afterwards is late.
    deliver(
        &mut rx,
        packetize(&mut tx, &frame_bytes(100, 9), 2, &params(0, 100, 64)),
    );
    assert_eq!(events(&mut rx).len(), 2);
    let mut tx2 = MediaSender::from_sealer(Sealer::starting_at(&secret(), 10_000));
    deliver(
        &mut rx,
        packetize(&mut tx2, &frame_bytes(100, 9), 1, &params(0, 100, 64)),
    );
    let c = rx.counters();
    // 10 data + 2 recovery shards: frame 0 was whole before its 2 recovery shards came.
    assert_eq!(
        (c.replayed, c.bad_tag, c.late, c.surplus, c.frames, c.lost),
        (1, 2, 1, 2, 2, 1)
    );
    assert!(events(&mut rx).is_empty());
}

#[test]
fn quic_packets_and_garbage_are_malformed() {
    let (_, mut rx) = pair(test_limits());
    let now = Instant::now();
    let mut quic_short = vec![0x40u8; 1200];
    let mut tiny = vec![0u8; 10];
    let mut huge = vec![0u8; media::MAX_DATAGRAM + 1];
    for p in [&mut quic_short, &mut tiny, &mut huge] {
        assert_eq!(rx.handle_datagram(p, now), Outcome::Malformed);
    }
    assert_eq!(rx.counters().malformed, 3);
}

#[test]
fn the_stream_survives_a_key_rotation() {
    let start = PACKETS_PER_KEY - 5;
    let mut tx = MediaSender::from_sealer(Sealer::starting_at(&secret(), start));
    let mut rx = MediaReceiver::new(&secret(), test_limits());
    let p = params(20, 256, 64);
    for i in 0..3 {
        let frame = frame_bytes(2_000, 10 + u64::from(i));
        let mut packets = packetize(&mut tx, &frame, i, &p);
        packets.swap(0, 3); // reorder inside the frame
        deliver(&mut rx, packets);
        assert_eq!(only_frame(&events(&mut rx)).data, frame);
    }
    assert!(tx.next_packet_number() > PACKETS_PER_KEY);
}

#[test]
fn parameters_may_change_every_frame_without_signalling() {
    let (mut tx, mut rx) = pair(test_limits());
    let shapes = [(10, 1408, 4096), (0, 64, 8), (50, 2, 3), (20, 9000, 4096)];
    for (i, (pct, shard, max_k)) in shapes.into_iter().enumerate() {
        let frame = frame_bytes(3_001 + i, i as u64);
        deliver(
            &mut rx,
            packetize(&mut tx, &frame, i as u32, &params(pct, shard, max_k)),
        );
        assert_eq!(only_frame(&events(&mut rx)).data, frame, "shape {i}");
    }
}

#[test]
fn frames_beyond_the_receiver_bounds_are_refused_before_allocating() {
    let limits = ReassemblyLimits {
        max_frame_bytes: 4_096,
        ..test_limits()
    };
    let (mut tx, mut rx) = pair(limits);
    deliver(
        &mut rx,
        packetize(&mut tx, &frame_bytes(8_000, 11), 0, &params(10, 1000, 64)),
    );
    assert!(events(&mut rx).is_empty());
    assert_eq!(rx.in_flight_bytes(), 0);
    assert!(rx.counters().malformed > 0);
}

#[test]
fn recycled_buffers_are_reused_for_the_next_frame() {
    let (mut tx, mut rx) = pair(test_limits());
    let p = params(10, 1000, 64);
    deliver(&mut rx, packetize(&mut tx, &frame_bytes(50_000, 1), 0, &p));
    let first = match rx.poll_event() {
        Some(Event::Frame(f)) => f.data,
        e => panic!("{e:?}"),
    };
    let ptr = first.as_ptr();
    rx.recycle(first);
    let second = frame_bytes(40_000, 2);
    deliver(&mut rx, packetize(&mut tx, &second, 1, &p));
    let f = match rx.poll_event() {
        Some(Event::Frame(f)) => f,
        e => panic!("{e:?}"),
    };
    assert_eq!(f.data, second);
    assert_eq!(
        f.data.as_ptr(),
        ptr,
        "the recycled buffer carries the next frame"
    );
    assert_eq!(rx.in_flight_bytes(), 0);
}

/// Audio-sized frames in one packet each, on their own stream and keys.
fn audio_packets(tx: &mut MediaSender, frame: &[u8], index: u32, redundant: bool) -> Vec<Vec<u8>> {
    let mut batch = punktfunk_core::PacketBatch::new();
    let info = punktfunk_core::FrameInfo {
        frame_index: index,
        pts_us: u64::from(index) * 5000,
        ..Default::default()
    };
    let params = punktfunk_core::single_packet_params(frame.len(), redundant);
    tx.packetize(frame, info, &params, &mut batch).unwrap();
    batch.iter().map(<[u8]>::to_vec).collect()
}

#[test]
fn audio_frames_travel_one_packet_each_on_their_own_stream() {
    let secret = punktfunk_core::MediaSecret::new([7; 32]);
    let mut tx = MediaSender::for_stream(&secret, media::stream::AUDIO);
    let mut rx = MediaReceiver::for_stream(&secret, media::stream::AUDIO, test_limits());
    let now = Instant::now();
    // Opus packets are small and of any length, down to a few bytes of silence.
    for (i, len) in [3usize, 63, 64, 65, 200, 1275].into_iter().enumerate() {
        let frame = frame_bytes(len, i as u64);
        let packets = audio_packets(&mut tx, &frame, i as u32, false);
        assert_eq!(packets.len(), 1, "{len} bytes fit one packet");
        for mut p in packets {
            assert_eq!(rx.handle_datagram(&mut p, now), Outcome::Accepted);
        }
        match rx.poll_event() {
            Some(Event::Frame(f)) => {
                assert_eq!(
                    (f.index, f.pts_us, &f.data),
                    (i as u32, i as u64 * 5000, &frame)
                )
            }
            other => panic!("expected frame {i}, got {other:?}"),
        }
    }
}

#[test]
fn a_redundant_audio_packet_survives_the_loss_of_its_original() {
    let secret = punktfunk_core::MediaSecret::new([7; 32]);
    let mut tx = MediaSender::for_stream(&secret, media::stream::AUDIO);
    let mut rx = MediaReceiver::for_stream(&secret, media::stream::AUDIO, test_limits());
    let frame = frame_bytes(120, 9);
    let mut packets = audio_packets(&mut tx, &frame, 0, true);
    assert!(packets.len() >= 2);
    packets.remove(0);
    for mut p in packets {
        rx.handle_datagram(&mut p, Instant::now());
    }
    assert!(matches!(rx.poll_event(), Some(Event::Frame(f)) if f.data == frame));
}

#[test]
fn streams_do_not_open_each_others_packets() {
    let secret = punktfunk_core::MediaSecret::new([7; 32]);
    assert_ne!(
        secret.for_stream(media::stream::AUDIO).to_hex(),
        secret.for_stream(media::stream::MIC).to_hex()
    );
    assert_eq!(
        secret.for_stream(media::stream::VIDEO).to_hex(),
        secret.to_hex()
    );
    let mut audio = MediaSender::for_stream(&secret, media::stream::AUDIO);
    let packet = audio_packets(&mut audio, &frame_bytes(100, 1), 0, false).remove(0);
    // A video or microphone receiver refuses it; one whose stream tag is rewritten fails the tag.
    for stream in [media::stream::VIDEO, media::stream::MIC] {
        let mut rx = MediaReceiver::for_stream(&secret, stream, test_limits());
        let mut p = packet.clone();
        assert_eq!(
            rx.handle_datagram(&mut p, Instant::now()),
            Outcome::Malformed
        );
        let mut forged = packet.clone();
        forged[media::offset::TAG] = stream;
        assert_eq!(
            rx.handle_datagram(&mut forged, Instant::now()),
            Outcome::BadTag
        );
    }
}
