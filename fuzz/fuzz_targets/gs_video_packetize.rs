//! GameStream video packetizer under arbitrary settings and frames: it never panics, and every
//! frame comes out as equal-length datagrams whose data shards carry the frame back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use punktfunk_gamestream::video::{
    FrameType, ShardBatch, VideoConfig, VideoFrame, VideoPacketizer,
};

fuzz_target!(|data: &[u8]| {
    let Some((head, bitstream)) = data.split_first_chunk::<5>() else {
        return;
    };
    let packet_size = usize::from(u16::from_le_bytes([head[0], head[1]]));
    let config = VideoConfig {
        packet_size,
        fec_percent: head[2],
        min_required_fec_packets: head[3] % 8,
        encryption_key: (head[4] & 1 == 1).then_some([head[4]; 16]),
    };
    let Ok(mut packetizer) = VideoPacketizer::new(config) else {
        return;
    };
    let mut batch = ShardBatch::new();
    for index in 1..=2 {
        let frame = VideoFrame {
            frame_index: index,
            rtp_timestamp: index * 1500,
            frame_type: FrameType::Idr,
            host_processing_latency_100us: 0,
            annex_b: bitstream,
        };
        let Ok(layout) = packetizer.packetize(&frame, &mut batch) else {
            continue;
        };
        assert_eq!(batch.len(), layout.data_shards + layout.parity_shards);
        let overhead = if head[4] & 1 == 1 { 48 } else { 16 };
        assert!(batch.iter().all(|d| d.len() == packet_size + overhead));
        if head[4] & 1 == 0 {
            let payload = packet_size - 16;
            let stream: Vec<u8> = batch
                .iter()
                .filter(|d| is_data_shard(d))
                .flat_map(|d| d[32..].to_vec())
                .collect();
            assert_eq!(stream.len(), layout.data_shards * payload);
            assert_eq!(&stream[8..8 + bitstream.len()], bitstream);
        }
    }
});

/// `fecInfo` says whether a shard is data: its index in the block is below the data count.
fn is_data_shard(shard: &[u8]) -> bool {
    let fec_info = u32::from_le_bytes(shard[28..32].try_into().unwrap());
    (fec_info >> 12) & 0x3FF < fec_info >> 22
}
