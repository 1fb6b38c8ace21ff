//! Data-plane throughput: our send path (packetize + FEC + seal) and receive path (open +
//! reassemble + recover at 5 % loss), each against raw AES-128-GCM plus raw reed-solomon-simd
//! over the same bytes, measured in the same run.
//!
//! `cargo bench -p punktfunk-core` prints a summary table with the ratio
//! `ours / (raw AEAD + raw FEC)` first, then runs the criterion benchmarks.
//! `PUNKTFUNK_BENCH_SUMMARY_ONLY=1` stops after the table.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput};
use reed_solomon_simd::{ReedSolomonDecoder, ReedSolomonEncoder};
use ring::aead::{Aad, LessSafeKey, Nonce};

use punktfunk_core::crypto::raw_aes128gcm;
use punktfunk_core::fec::FramePlan;
use punktfunk_core::wire::media::{AEAD_TAG_LEN, CLEAR_PREFIX_LEN, HEADER_LEN};
use punktfunk_core::{
    FecParams, FrameInfo, MediaReceiver, MediaSecret, MediaSender, PacketBatch, ReassemblyLimits,
};

const SIZES: [(usize, &str); 3] = [
    (64 << 10, "64KiB"),
    (256 << 10, "256KiB"),
    (1 << 20, "1MiB"),
];
const FEC_PERCENTS: [u8; 2] = [10, 20];
/// One packet in this many is dropped on the receive path (5 %).
const LOSS_EVERY: usize = 20;
/// Samples per operation in the summary table.
const ROUNDS: usize = 301;

fn secret() -> MediaSecret {
    MediaSecret::new([7; 32])
}

fn params(percent: u8) -> FecParams {
    let max_data_shards = std::env::var("PUNKTFUNK_BENCH_MAX_K")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(FecParams::default().max_data_shards);
    FecParams {
        percent,
        max_data_shards,
        ..FecParams::default()
    }
}

fn frame(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + i / 977) as u8).collect()
}

/// The raw baselines: one AES-GCM seal/open per packet, one RS encode/decode per block, with
/// nothing else around them.
struct Raw {
    key: LessSafeKey,
    plan: FramePlan,
    /// The frame cut into zero-padded shards, as contiguous bytes.
    shards: Vec<u8>,
    /// Packets as the AEAD sees them: sealed part of the header + shard, then the tag.
    sealed: Vec<Vec<u8>>,
    encoder: ReedSolomonEncoder,
    decoder: ReedSolomonDecoder,
    recovery: Vec<Vec<Vec<u8>>>,
}

impl Raw {
    fn new(frame: &[u8], percent: u8) -> Self {
        let plan = FramePlan::new(frame.len(), &params(percent)).unwrap();
        let shard = plan.shard_bytes;
        let mut shards = frame.to_vec();
        shards.resize(plan.total_data_shards as usize * shard, 0);
        let key = raw_aes128gcm(&[9; 16]);
        let body = HEADER_LEN - CLEAR_PREFIX_LEN + shard;
        let mut sealed = Vec::new();
        for pn in 0..plan.packet_count() as u64 {
            let mut p = vec![0u8; body];
            let tag = key
                .seal_in_place_separate_tag(nonce(pn), Aad::from([0u8; 5]), &mut p)
                .unwrap();
            p.extend_from_slice(tag.as_ref());
            sealed.push(p);
        }
        let mut raw = Self {
            key,
            plan,
            shards,
            sealed,
            encoder: ReedSolomonEncoder::new(2, 2, 2).unwrap(),
            decoder: ReedSolomonDecoder::new(2, 2, 2).unwrap(),
            recovery: Vec::new(),
        };
        raw.recovery = raw.encode_all();
        raw
    }

    fn encode_all(&mut self) -> Vec<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        self.encode_blocks(|recovery| out.push(recovery.map(<[u8]>::to_vec).collect()));
        out
    }

    /// Encodes every block, handing each block's recovery shards to `each`.
    fn encode_blocks(&mut self, mut each: impl FnMut(&mut dyn Iterator<Item = &[u8]>)) {
        let shard = self.plan.shard_bytes;
        for b in self.plan.iter() {
            let (k, m) = (usize::from(b.data_shards), usize::from(b.recovery_shards));
            self.encoder.reset(k, m, shard).unwrap();
            let start = b.base as usize * shard;
            for s in self.shards[start..start + k * shard].chunks_exact(shard) {
                self.encoder.add_original_shard(s).unwrap();
            }
            let result = self.encoder.encode().unwrap();
            each(&mut result.recovery_iter());
        }
    }

    /// Seals every packet of the frame in place (the raw send-side AEAD cost).
    fn seal(&mut self) {
        for (pn, p) in self.sealed.iter_mut().enumerate() {
            let n = p.len() - AEAD_TAG_LEN;
            let tag = self
                .key
                .seal_in_place_separate_tag(nonce(pn as u64), Aad::from([0u8; 5]), &mut p[..n])
                .unwrap();
            p[n..].copy_from_slice(tag.as_ref());
        }
    }

    /// Encodes every block (the raw send-side FEC cost).
    fn encode(&mut self) {
        self.encode_blocks(|recovery| {
            for r in recovery {
                black_box(r);
            }
        });
    }

    /// Opens the packets that survive the loss pattern (the raw receive-side AEAD cost).
    fn open(&self, packets: &mut [(u64, Vec<u8>)]) {
        for (pn, p) in packets.iter_mut() {
            self.key
                .open_in_place(nonce(*pn), Aad::from([0u8; 5]), p)
                .unwrap();
        }
    }

    /// Sealed copies of the packets that survive the loss pattern.
    fn survivors(&self) -> Vec<(u64, Vec<u8>)> {
        self.sealed
            .iter()
            .enumerate()
            .filter(|(i, _)| !lost(*i))
            .map(|(i, p)| (i as u64, p.clone()))
            .collect()
    }

    /// Decodes every block that lost shards under the loss pattern (the raw receive-side FEC cost).
    fn decode(&mut self) {
        let shard = self.plan.shard_bytes;
        let mut packet = 0;
        for (bi, b) in self.plan.iter().enumerate() {
            let (k, m) = (usize::from(b.data_shards), usize::from(b.recovery_shards));
            let data_lost = (packet..packet + k).any(lost);
            if data_lost {
                self.decoder.reset(k, m, shard).unwrap();
                let start = b.base as usize * shard;
                for (i, s) in self.shards[start..start + k * shard]
                    .chunks_exact(shard)
                    .enumerate()
                {
                    if !lost(packet + i) {
                        self.decoder.add_original_shard(i, s).unwrap();
                    }
                }
                for (r, s) in self.recovery[bi].iter().enumerate() {
                    if !lost(packet + k + r) {
                        self.decoder.add_recovery_shard(r, s).unwrap();
                    }
                }
                let restored = self.decoder.decode().unwrap();
                for s in restored.restored_original_iter() {
                    black_box(s);
                }
            }
            packet += k + m;
        }
    }
}

fn nonce(pn: u64) -> Nonce {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&pn.to_be_bytes());
    Nonce::assume_unique_for_key(n)
}

fn lost(packet: usize) -> bool {
    packet % LOSS_EVERY == LOSS_EVERY / 2
}

/// Makes successive frames' packets for our receive path, 5 % of them dropped (setup, not
/// measured).
struct FrameSource {
    sender: MediaSender,
    batch: PacketBatch,
    index: u32,
}

impl FrameSource {
    fn new() -> Self {
        Self {
            sender: MediaSender::new(&secret()),
            batch: PacketBatch::new(),
            index: 0,
        }
    }

    fn next_packets(&mut self, frame: &[u8], percent: u8) -> Vec<Vec<u8>> {
        let info = FrameInfo {
            frame_index: self.index,
            ..FrameInfo::default()
        };
        self.index += 1;
        self.sender
            .packetize(frame, info, &params(percent), &mut self.batch)
            .unwrap();
        self.batch
            .iter()
            .enumerate()
            .filter(|(i, _)| !lost(*i))
            .map(|(_, p)| p.to_vec())
            .collect()
    }
}

fn new_receiver() -> MediaReceiver {
    MediaReceiver::new(&secret(), ReassemblyLimits::default())
}

/// Measured: open, reassemble, recover; the frame must come out whole.
fn receive(receiver: &mut MediaReceiver, packets: &mut [Vec<u8>]) {
    let now = Instant::now();
    for p in packets.iter_mut() {
        receiver.handle_datagram(p, now);
    }
    match receiver.poll_event() {
        Some(punktfunk_core::Event::Frame(f)) => {
            // A client hands the buffer back once decoded.
            receiver.recycle(black_box(f).data);
        }
        other => panic!("frame not recovered: {other:?}"),
    }
}

/// Per-call timings of several operations, sampled round-robin so that drift in the machine's
/// speed (two shared cores) hits them all alike; medians are reported.
struct Samples(Vec<Vec<f64>>);

impl Samples {
    fn new(n: usize) -> Self {
        Self(vec![Vec::new(); n])
    }

    /// Times one call of `measured(setup())`; the setup is not timed.
    fn time<T>(&mut self, slot: usize, setup: impl FnOnce() -> T, measured: impl FnOnce(T)) {
        let input = setup();
        let start = Instant::now();
        measured(input);
        self.0[slot].push(start.elapsed().as_secs_f64());
    }

    fn median(&mut self, slot: usize) -> f64 {
        let v = &mut self.0[slot];
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }
}

fn gbps(bytes: usize, secs: f64) -> f64 {
    bytes as f64 / secs / 1e9
}

fn summary() {
    println!("\ndata plane, one core, 1408-byte shards, frame bytes per second (GB/s)");
    println!(
        "{:<7} {:>4} | {:>10} {:>9} {:>9} {:>6} | {:>10} {:>9} {:>9} {:>6}",
        "frame",
        "fec",
        "send ours",
        "raw aead",
        "raw fec",
        "ratio",
        "recv ours",
        "raw aead",
        "raw fec",
        "ratio"
    );
    let only = std::env::var("PUNKTFUNK_BENCH_ONLY").ok();
    for (len, name) in SIZES {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        for pct in FEC_PERCENTS {
            let data = frame(len);
            let mut raw = Raw::new(&data, pct);
            let mut sender = MediaSender::new(&secret());
            let mut batch = PacketBatch::new();
            let (mut source, mut rx) = (FrameSource::new(), new_receiver());
            let survivors = raw.survivors();
            let [send, seal, encode, recv, open, decode] = [0, 1, 2, 3, 4, 5];
            let mut t = Samples::new(6);
            for _ in 0..ROUNDS {
                t.time(
                    send,
                    || (),
                    |_| {
                        sender
                            .packetize(&data, FrameInfo::default(), &params(pct), &mut batch)
                            .unwrap();
                    },
                );
                t.time(seal, || (), |_| raw.seal());
                t.time(encode, || (), |_| raw.encode());
                t.time(
                    recv,
                    || source.next_packets(&data, pct),
                    |mut p| receive(&mut rx, &mut p),
                );
                t.time(open, || raw.survivors(), |mut p| raw.open(&mut p));
                t.time(decode, || survivors.clone(), |_| raw.decode());
            }
            let [send, seal, encode, recv, open, decode] =
                [send, seal, encode, recv, open, decode].map(|i| t.median(i));
            println!(
                "{:<7} {:>3}% | {:>10.2} {:>9.2} {:>9.2} {:>6.2} | {:>10.2} {:>9.2} {:>9.2} {:>6.2}",
                name,
                pct,
                gbps(len, send),
                gbps(len, seal),
                gbps(len, encode),
                send / (seal + encode),
                gbps(len, recv),
                gbps(len, open),
                gbps(len, decode),
                recv / (open + decode),
            );
        }
    }
    println!("ratio = ours / (raw AEAD + raw FEC); below 1.3 is the target.\n");
}

fn criterion_benches(c: &mut Criterion) {
    for (len, name) in SIZES {
        for pct in FEC_PERCENTS {
            let data = frame(len);
            let mut group = c.benchmark_group(format!("{name}_fec{pct}"));
            group.throughput(Throughput::Bytes(len as u64));
            let mut sender = MediaSender::new(&secret());
            let mut batch = PacketBatch::new();
            group.bench_function("send_ours", |b| {
                b.iter(|| {
                    sender
                        .packetize(&data, FrameInfo::default(), &params(pct), &mut batch)
                        .unwrap()
                })
            });
            let mut raw = Raw::new(&data, pct);
            group.bench_function("send_raw_aead", |b| b.iter(|| raw.seal()));
            group.bench_function("send_raw_fec", |b| b.iter(|| raw.encode()));
            let (mut source, mut rx) = (FrameSource::new(), new_receiver());
            group.bench_function("recv_ours_5pct_loss", |b| {
                b.iter_batched(
                    || source.next_packets(&data, pct),
                    |mut p| receive(&mut rx, &mut p),
                    BatchSize::PerIteration,
                )
            });
            group.bench_function("recv_raw_aead", |b| {
                b.iter_batched(
                    || raw.survivors(),
                    |mut p| raw.open(&mut p),
                    BatchSize::PerIteration,
                )
            });
            group.bench_function("recv_raw_fec", |b| b.iter(|| raw.decode()));
            group.finish();
        }
    }
}

fn main() {
    summary();
    if std::env::var_os("PUNKTFUNK_BENCH_SUMMARY_ONLY").is_some() {
        return;
    }
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    criterion_benches(&mut c);
    c.final_summary();
}
