//! The video packetizer against a depacketizer written from moonlight-common-c's rules
//! (RtpVideoQueue + VideoDepacketizer): decrypt, check every header field the client checks,
//! drop up to the parity count of each block, recover with Reed–Solomon, rewrite the fields
//! the client rewrites on recovered shards, and get the frame back byte for byte.

use proptest::prelude::*;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};

use punktfunk_gamestream::fec::ReedSolomon;
use punktfunk_gamestream::video::{
    FrameType, ShardBatch, VideoConfig, VideoError, VideoFrame, VideoPacketizer,
};

const KEY: [u8; 16] = *b"0123456789abcdef";

fn u16_be(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn u32_be(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

fn u32_le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// The client's view of one session.
struct Depacketizer {
    packet_size: usize,
    key: Option<LessSafeKey>,
    next_seq: u16,
    /// 24-bit `streamPacketIndex` of the last data shard handed on.
    last_packet_index: Option<u32>,
    next_frame: u32,
}

struct Shard {
    seq: u16,
    bytes: Vec<u8>,
}

#[derive(Debug)]
struct Frame {
    frame_type: u8,
    latency: u16,
    last_payload_len: u16,
    /// Payloads of all data shards concatenated (frame header included).
    stream: Vec<u8>,
    timestamp: u32,
}

impl Depacketizer {
    fn new(packet_size: usize, encrypted: bool) -> Self {
        Self {
            packet_size,
            key: encrypted.then(|| LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &KEY).unwrap())),
            next_seq: 0,
            last_packet_index: None,
            next_frame: 1,
        }
    }

    fn shard_len(&self) -> usize {
        self.packet_size + 16
    }

    /// Decrypts (if needed) and checks the datagram length.
    fn open(&self, datagram: &[u8], frame_index: u32) -> Vec<u8> {
        match &self.key {
            None => {
                assert_eq!(datagram.len(), self.shard_len());
                datagram.to_vec()
            }
            Some(key) => {
                assert_eq!(datagram.len(), self.shard_len() + 32);
                assert_eq!(u32_le(datagram, 12), frame_index, "prefix frame number");
                assert_eq!(&datagram[8..12], &[0, 0, 0, b'V']);
                let iv: [u8; 12] = datagram[..12].try_into().unwrap();
                let mut body = datagram[32..].to_vec();
                body.extend_from_slice(&datagram[16..32]);
                let plain = key
                    .open_in_place(Nonce::assume_unique_for_key(iv), Aad::empty(), &mut body)
                    .expect("GCM tag");
                plain.to_vec()
            }
        }
    }

    /// Receives one frame's datagrams, dropping those `drop` selects (never more than the
    /// parity of a block), and returns the frame.
    fn receive(
        &mut self,
        datagrams: &ShardBatch,
        frame_index: u32,
        mut drop: impl FnMut(usize, usize) -> bool,
    ) -> Frame {
        assert_eq!(frame_index, self.next_frame, "frame numbers have no gaps");
        let shards: Vec<Shard> = datagrams
            .iter()
            .map(|d| {
                let bytes = self.open(d, frame_index);
                Shard {
                    seq: u16_be(&bytes, 2),
                    bytes,
                }
            })
            .collect();
        let mut at = 0;
        let mut block_index = 0;
        let mut data_shards: Vec<Vec<u8>> = Vec::new();
        let mut timestamp = None;
        loop {
            let first = &shards[at];
            let fec_info = u32_le(&first.bytes, 28);
            let multi = first.bytes[27];
            let shard_index = ((fec_info >> 12) & 0x3FF) as usize;
            assert_eq!(shard_index, 0, "a block starts with its shard 0");
            let d = (fec_info >> 22) as usize;
            let percent = ((fec_info >> 4) & 0xFF) as usize;
            let p = (d * percent).div_ceil(100);
            let last_block = usize::from((multi >> 6) & 3);
            assert_eq!(usize::from((multi >> 4) & 3), block_index);
            assert_eq!(multi & 0x0F, 0);
            assert!((1..=1023).contains(&d));
            if percent > 0 {
                assert!(d + p <= 255);
            }
            let block = &shards[at..at + d + p];
            let base = first.seq;
            assert_eq!(base, self.next_seq, "RTP sequence continues");
            for (k, s) in block.iter().enumerate() {
                let b = &s.bytes;
                assert_eq!(b[0], 0x90);
                assert_eq!(s.seq, base.wrapping_add(k as u16));
                assert_eq!(u32_le(b, 20), frame_index);
                assert_eq!(b[27], multi);
                let info = u32_le(b, 28);
                assert_eq!(((info >> 12) & 0x3FF) as usize, k);
                assert_eq!(info & !(0x3FF << 12), fec_info & !(0x3FF << 12));
                assert_eq!(info & 0xF, 0);
                assert_eq!(&b[8..12], &[0; 4], "ssrc");
                let ts = u32_be(b, 4);
                assert_eq!(*timestamp.get_or_insert(ts), ts);
            }
            self.next_seq = base.wrapping_add((d + p) as u16);

            // Lose some, recover the rest like RtpVideoQueue does.
            let mut slots: Vec<Option<Vec<u8>>> = block
                .iter()
                .enumerate()
                .map(|(k, s)| (!drop(k, p)).then(|| s.bytes.clone()))
                .collect();
            let lost = slots.iter().filter(|s| s.is_none()).count();
            assert!(lost <= p, "the test drops at most the parity count");
            if lost > 0 {
                let rs = ReedSolomon::new(d, p).unwrap();
                let recovered: Vec<bool> = slots[..d].iter().map(Option::is_none).collect();
                rs.reconstruct(&mut slots).unwrap();
                let template = block[0].bytes.clone();
                for (i, slot) in slots[..d].iter_mut().enumerate() {
                    if recovered[i] {
                        let b = slot.as_mut().unwrap();
                        // The fields the client overwrites on a recovered shard.
                        b[0] = template[0];
                        b[2..4].copy_from_slice(&base.wrapping_add(i as u16).to_be_bytes());
                        b[4..12].copy_from_slice(&template[4..12]);
                        b[20..24].copy_from_slice(&frame_index.to_le_bytes());
                        b[27] = ((last_block << 2 | block_index) << 4) as u8;
                        // What the client's FEC validation compares with the original.
                        assert_eq!(b[16..27], block[i].bytes[16..27], "recovered NV header");
                        assert_eq!(b[32..], block[i].bytes[32..], "recovered payload");
                    }
                }
            }

            // VideoDepacketizer checks on each data shard in order.
            for (i, slot) in slots[..d].iter().enumerate() {
                let b = slot.as_ref().unwrap();
                let flags = b[24];
                assert_eq!(flags & !0x07, 0, "no unknown flag bits");
                assert_eq!(flags & 0x01, 0x01);
                assert_eq!(
                    flags & 0x04 != 0,
                    i == 0,
                    "SOF on the first shard of a block"
                );
                assert_eq!(
                    flags & 0x02 != 0,
                    i + 1 == d,
                    "EOF on the last shard of a block"
                );
                assert_eq!(b[25], 0);
                assert_eq!(b[26], 0x10);
                let packet_index = u32_le(b, 16) >> 8;
                if let Some(last) = self.last_packet_index {
                    let next = (last + 1) & 0xFF_FFFF;
                    let ahead = packet_index.wrapping_sub(next) & 0xFF_FFFF;
                    assert!(ahead < 0x80_0000, "streamPacketIndex never goes back");
                    if flags & 0x04 == 0 {
                        assert_eq!(packet_index, next, "+1 inside a block");
                    }
                }
                self.last_packet_index = Some(packet_index);
                assert_eq!(b.len(), self.shard_len());
                data_shards.push(b[32..].to_vec());
            }

            at += d + p;
            if block_index == last_block {
                break;
            }
            block_index += 1;
        }
        assert_eq!(at, shards.len(), "nothing after the last block");
        self.next_frame += 1;
        let stream = data_shards.concat();
        Frame {
            frame_type: stream[3],
            latency: u16::from_le_bytes([stream[1], stream[2]]),
            last_payload_len: u16::from_le_bytes([stream[4], stream[5]]),
            timestamp: timestamp.unwrap(),
            stream,
        }
    }
}

/// Cheap deterministic bytes.
fn bitstream(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn check_frame(got: &Frame, sent: &VideoFrame, payload_per_shard: usize) {
    assert_eq!(got.stream[0], 0x01, "short frame header");
    assert_eq!(got.frame_type, sent.frame_type.wire_value());
    assert_eq!(got.latency, sent.host_processing_latency_100us);
    assert_eq!(&got.stream[6..8], &[0, 0]);
    assert_eq!(got.timestamp, sent.rtp_timestamp);
    let body = &got.stream[8..];
    assert_eq!(&body[..sent.annex_b.len()], sent.annex_b);
    assert!(
        body[sent.annex_b.len()..].iter().all(|&b| b == 0),
        "zero padding"
    );
    let len = 8 + sent.annex_b.len();
    assert_eq!(
        got.stream.len(),
        len.div_ceil(payload_per_shard) * payload_per_shard
    );
    let last = usize::from(got.last_payload_len);
    assert_eq!(got.stream.len() - payload_per_shard + last, len);
}

fn frame_type(k: u8) -> FrameType {
    match k % 4 {
        0 => FrameType::P,
        1 => FrameType::Idr,
        2 => FrameType::IntraRefresh,
        _ => FrameType::AfterInvalidation,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn frames_survive_loss_up_to_parity(
        sizes in proptest::collection::vec(0usize..400_000, 1..4),
        packet_size in prop_oneof![Just(1392usize), Just(1024), 24usize..1500],
        fec_percent in prop_oneof![Just(20u8), Just(0), any::<u8>()],
        min_fec in 0u8..5,
        encrypted in any::<bool>(),
        seed in any::<u64>(),
        loss_seed in any::<u64>(),
    ) {
        let config = VideoConfig {
            packet_size,
            fec_percent,
            min_required_fec_packets: min_fec,
            encryption_key: encrypted.then_some(KEY),
        };
        let mut packetizer = VideoPacketizer::new(config).unwrap();
        let mut client = Depacketizer::new(packet_size, encrypted);
        let mut batch = ShardBatch::new();
        let mut rng = loss_seed | 1;
        let mut frame_index = 1;
        for (n, &size) in sizes.iter().enumerate() {
            let data = bitstream(size, seed.wrapping_add(n as u64));
            let frame = VideoFrame {
                frame_index,
                rtp_timestamp: (seed as u32).wrapping_add(n as u32 * 1500),
                frame_type: frame_type((n as u8).wrapping_add(seed as u8)),
                host_processing_latency_100us: (seed >> 16) as u16,
                annex_b: &data,
            };
            let payload = packet_size - 16;
            match packetizer.packetize(&frame, &mut batch) {
                Err(VideoError::FrameTooLarge { .. }) => {
                    prop_assert!((8 + size).div_ceil(payload) > 4 * 1023);
                    continue;
                }
                other => { other.unwrap(); }
            }
            // Drop each shard with probability 1/4 while a block still has parity to spare.
            let mut budget = None;
            let got = client.receive(&batch, frame_index, |k, p| {
                if k == 0 { budget = Some(p); }
                rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
                let left = budget.as_mut().unwrap();
                if *left > 0 && rng % 4 == 0 { *left -= 1; true } else { false }
            });
            check_frame(&got, &frame, payload);
            frame_index += 1;
        }
    }
}

#[test]
fn every_single_loss_position_recovers() {
    let data = bitstream(60_000, 9);
    let config = VideoConfig {
        packet_size: 1392,
        fec_percent: 20,
        min_required_fec_packets: 2,
        encryption_key: Some(KEY),
    };
    let mut packetizer = VideoPacketizer::new(config).unwrap();
    let mut batch = ShardBatch::new();
    let mut client = Depacketizer::new(1392, true);
    // 60 008 bytes = 44 data shards, 9 parity.
    for lost in 0..53 {
        let frame = VideoFrame {
            frame_index: lost as u32 + 1,
            rtp_timestamp: 3000 * lost as u32,
            frame_type: FrameType::P,
            host_processing_latency_100us: 0,
            annex_b: &data,
        };
        let layout = packetizer.packetize(&frame, &mut batch).unwrap();
        assert_eq!((layout.data_shards, layout.parity_shards), (44, 9));
        let got = client.receive(&batch, frame.frame_index, |k, _| k == lost);
        check_frame(&got, &frame, 1376);
    }
}
