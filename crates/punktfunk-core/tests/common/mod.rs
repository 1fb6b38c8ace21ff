//! Shared helpers of the data-plane tests: a sender and receiver pair with the same secret.
#![allow(dead_code)]

use std::time::Instant;

use punktfunk_core::{
    Event, FecParams, Frame, FrameInfo, MediaReceiver, MediaSecret, MediaSender, PacketBatch,
    ReassemblyLimits,
};

pub fn secret() -> MediaSecret {
    MediaSecret::new([0x5A; 32])
}

pub fn pair(limits: ReassemblyLimits) -> (MediaSender, MediaReceiver) {
    (
        MediaSender::new(&secret()),
        MediaReceiver::new(&secret(), limits),
    )
}

/// Test limits that accept the small shards property tests use.
pub fn test_limits() -> ReassemblyLimits {
    ReassemblyLimits {
        min_shard_bytes: 2,
        ..ReassemblyLimits::default()
    }
}

/// Deterministic, non-repeating frame bytes.
pub fn frame_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

pub fn packetize(
    sender: &mut MediaSender,
    frame: &[u8],
    index: u32,
    params: &FecParams,
) -> Vec<Vec<u8>> {
    let mut batch = PacketBatch::new();
    sender
        .packetize(
            frame,
            FrameInfo {
                frame_index: index,
                pts_us: u64::from(index) * 16_667,
                epoch: 1,
                keyframe: index == 0,
            },
            params,
            &mut batch,
        )
        .expect("valid parameters");
    batch.iter().map(<[u8]>::to_vec).collect()
}

pub fn deliver(receiver: &mut MediaReceiver, packets: impl IntoIterator<Item = Vec<u8>>) {
    let now = Instant::now();
    for mut p in packets {
        receiver.handle_datagram(&mut p, now);
    }
}

pub fn events(receiver: &mut MediaReceiver) -> Vec<Event> {
    std::iter::from_fn(|| receiver.poll_event()).collect()
}

pub fn only_frame(events: &[Event]) -> &Frame {
    match events {
        [Event::Frame(f)] => f,
        other => panic!("expected one frame, got {other:?}"),
    }
}
