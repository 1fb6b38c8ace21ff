//! GameStream video send path (packetize + GF(2^8) Cauchy Reed–Solomon + per-shard AES-128-GCM)
//! next to punktfunk's native send path (`MediaSender::packetize`), same frames, same run.
//!
//! Frames are 1080p-like: 40 KB P-frames and 250 KB key frames; GameStream with packetSize
//! 1392 (Moonlight's default), 20 % FEC, min 2 parity, encryption on (and off, to show the FEC
//! share); native with its default 1408-byte shards and 20 % FEC.
//!
//! `cargo bench -p punktfunk-gamestream --bench sendpath` prints a median table with the ratio
//! GameStream / native first, then runs criterion. `PUNKTFUNK_BENCH_SUMMARY_ONLY=1` stops after
//! the table.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};

use punktfunk_core::{FecParams, FrameInfo, MediaSecret, MediaSender, PacketBatch};
use punktfunk_gamestream::fec::ReedSolomon;
use punktfunk_gamestream::video::{
    FrameType, ShardBatch, VideoConfig, VideoFrame, VideoPacketizer,
};

const FRAMES: [(usize, &str); 2] = [(40_000, "P_40KB"), (250_000, "IDR_250KB")];
const PACKET_SIZE: usize = 1392;
const FEC_PERCENT: u8 = 20;
/// Samples per operation in the summary table.
const ROUNDS: usize = 201;

fn frame(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + i / 977) as u8).collect()
}

struct GameStream {
    packetizer: VideoPacketizer,
    batch: ShardBatch,
    index: u32,
}

impl GameStream {
    fn new(encrypted: bool) -> Self {
        let config = VideoConfig {
            packet_size: PACKET_SIZE,
            fec_percent: FEC_PERCENT,
            min_required_fec_packets: 2,
            encryption_key: encrypted.then_some([7; 16]),
        };
        Self {
            packetizer: VideoPacketizer::new(config).unwrap(),
            batch: ShardBatch::new(),
            index: 0,
        }
    }

    fn send(&mut self, data: &[u8]) {
        self.index += 1;
        let frame = VideoFrame {
            frame_index: self.index,
            rtp_timestamp: self.index * 1500,
            frame_type: FrameType::P,
            host_processing_latency_100us: 20,
            annex_b: data,
        };
        black_box(self.packetizer.packetize(&frame, &mut self.batch).unwrap());
    }
}

struct Native {
    sender: MediaSender,
    batch: PacketBatch,
    params: FecParams,
}

impl Native {
    fn new() -> Self {
        Self {
            sender: MediaSender::new(&MediaSecret::new([7; 32])),
            batch: PacketBatch::new(),
            params: FecParams {
                percent: FEC_PERCENT,
                ..FecParams::default()
            },
        }
    }

    fn send(&mut self, data: &[u8]) {
        black_box(
            self.sender
                .packetize(data, FrameInfo::default(), &self.params, &mut self.batch)
                .unwrap(),
        );
    }
}

/// Just the Reed–Solomon work of a frame: its blocks' parity over full shards, nothing else.
struct RawFec {
    blocks: Vec<RawBlock>,
}

struct RawBlock {
    code: ReedSolomon,
    data: Vec<Vec<u8>>,
    parity: Vec<Vec<u8>>,
}

impl RawFec {
    /// The block shapes and shards of `data` as the plain packetizer cuts it.
    fn new(data: &[u8]) -> Self {
        let mut probe = GameStream::new(false);
        probe.send(data);
        let batch = &probe.batch;
        let mut blocks = Vec::new();
        let mut at = 0;
        while at < batch.len() {
            let shard = batch.get(at).unwrap();
            let info = u32::from_le_bytes(shard[28..32].try_into().unwrap());
            let d = (info >> 22) as usize;
            let p = (d * ((info >> 4) & 0xFF) as usize).div_ceil(100);
            let data: Vec<Vec<u8>> = (at..at + d)
                .map(|k| batch.get(k).unwrap().to_vec())
                .collect();
            blocks.push(RawBlock {
                code: ReedSolomon::new(d, p).unwrap(),
                data,
                parity: vec![vec![0; shard.len()]; p],
            });
            at += d + p;
        }
        Self { blocks }
    }

    fn encode(&mut self) {
        for b in &mut self.blocks {
            let ins: Vec<&[u8]> = b.data.iter().map(Vec::as_slice).collect();
            let mut outs: Vec<&mut [u8]> = b.parity.iter_mut().map(Vec::as_mut_slice).collect();
            b.code.encode(&ins, &mut outs).unwrap();
        }
        black_box(&self.blocks);
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn gbps(bytes: usize, secs: f64) -> f64 {
    bytes as f64 / secs / 1e9
}

/// Medians of interleaved single calls, so machine drift hits every path alike.
fn summary() {
    println!("\nsend path, one core, frame bytes per second (GB/s); ratio = GameStream encrypted / native");
    println!(
        "{:<10} | {:>8} {:>8} {:>8} {:>8} | {:>6} {:>8}",
        "frame", "gs enc", "gs plain", "rs only", "native", "ratio", "gs µs"
    );
    for (len, name) in FRAMES {
        let data = frame(len);
        let (mut enc, mut plain, mut native) =
            (GameStream::new(true), GameStream::new(false), Native::new());
        let mut rs = RawFec::new(&data);
        let mut t = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
        for _ in 0..ROUNDS {
            let start = Instant::now();
            enc.send(&data);
            t[0].push(start.elapsed().as_secs_f64());
            let start = Instant::now();
            plain.send(&data);
            t[1].push(start.elapsed().as_secs_f64());
            let start = Instant::now();
            native.send(&data);
            t[2].push(start.elapsed().as_secs_f64());
            let start = Instant::now();
            rs.encode();
            t[3].push(start.elapsed().as_secs_f64());
        }
        let [e, p, n, r] = t.map(median);
        println!(
            "{:<10} | {:>8.2} {:>8.2} {:>8.2} {:>8.2} | {:>6.2} {:>8.1}",
            name,
            gbps(len, e),
            gbps(len, p),
            gbps(len, r),
            gbps(len, n),
            e / n,
            e * 1e6
        );
    }
    println!();
}

fn criterion_benches(c: &mut Criterion) {
    for (len, name) in FRAMES {
        let data = frame(len);
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Bytes(len as u64));
        let mut enc = GameStream::new(true);
        group.bench_function("gamestream_encrypted", |b| b.iter(|| enc.send(&data)));
        let mut plain = GameStream::new(false);
        group.bench_function("gamestream_plain", |b| b.iter(|| plain.send(&data)));
        let mut native = Native::new();
        group.bench_function("native", |b| b.iter(|| native.send(&data)));
        group.finish();
    }
}

fn main() {
    summary();
    if std::env::var_os("PUNKTFUNK_BENCH_SUMMARY_ONLY").is_some() {
        return;
    }
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    criterion_benches(&mut c);
    c.final_summary();
}
