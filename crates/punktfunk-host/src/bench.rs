//! `punktfunk-host bench`: per-frame host latency, from "frame ready" (picture drawn) to "last
//! packet sent", next to the encoder's own latency for the same frames, in the same run.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use anyhow::Context;
use punktfunk_core::control::{Codec, Mode};
use punktfunk_core::testpicture::Stamp;
use punktfunk_core::{FecParams, FrameInfo, MediaSecret};
use punktfunk_video::encoder::VideoEncoder;
use punktfunk_video::picture::TestPicture;

use crate::stream::{LossModel, MediaStreamer};

#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Modes to measure.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1280x720@60,1920x1080@60"
    )]
    pub modes: Vec<Mode>,
    #[arg(long, default_value = "h264")]
    pub codec: Codec,
    #[arg(long, default_value_t = 20_000)]
    pub bitrate_kbps: u32,
    /// Frames measured per mode (after 30 warm-up frames).
    #[arg(long, default_value_t = 300)]
    pub frames: u32,
    #[arg(long, default_value_t = 10)]
    pub fec_percent: u8,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

pub fn run(args: BenchArgs) -> anyhow::Result<bool> {
    // Packets go to a real socket on loopback that a thread drains.
    let sink = UdpSocket::bind("127.0.0.1:0")?;
    let peer = sink.local_addr()?;
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        while sink.recv(&mut buf).is_ok() {}
    });
    println!(
        "{:<14} {:>6} | {:>11} {:>11} | {:>13} {:>13} | {:>12}",
        "mode", "codec", "encode p50", "encode p95", "pipeline p50", "pipeline p95", "added p50"
    );
    for mode in &args.modes {
        let mut picture = TestPicture::new(mode.width, mode.height)?;
        let mut encoder = VideoEncoder::new(args.codec, *mode, args.bitrate_kbps)
            .with_context(|| format!("opening the {} encoder", args.codec.name()))?;
        let socket = UdpSocket::bind("127.0.0.1:0")?;
        let mut streamer =
            MediaStreamer::new(socket, peer, &MediaSecret::random(), LossModel::new(0.0, 1));
        let fec = FecParams {
            percent: args.fec_percent,
            ..FecParams::default()
        };
        let (mut encode, mut pipeline, mut added) = (Vec::new(), Vec::new(), Vec::new());
        let mut index = 0u32;
        for n in 0..30 + args.frames {
            let frame = picture.draw(Stamp {
                frame: n,
                capture_us: u64::from(n),
            });
            let ready = Instant::now();
            let units = encoder.encode(frame, n == 0)?;
            let encoded = Instant::now();
            for unit in units {
                let info = FrameInfo {
                    frame_index: index,
                    pts_us: u64::from(n),
                    epoch: 0,
                    keyframe: unit.keyframe,
                };
                index += 1;
                streamer.send_frame(info, &unit.data, &fec)?;
            }
            let sent = Instant::now();
            if n >= 30 {
                encode.push(encoded - ready);
                pipeline.push(sent - ready);
                added.push(sent - encoded);
            }
            // Frames arrive at the mode's rate, as they would from a compositor.
            std::thread::sleep(
                Duration::from_secs_f64(1000.0 / f64::from(mode.refresh_millihz))
                    .saturating_sub(ready.elapsed()),
            );
        }
        for v in [&mut encode, &mut pipeline, &mut added] {
            v.sort();
        }
        println!(
            "{:<14} {:>6} | {:>8.2} ms {:>8.2} ms | {:>10.2} ms {:>10.2} ms | {:>9.3} ms",
            mode.to_string(),
            args.codec.name(),
            percentile(&encode, 0.5),
            percentile(&encode, 0.95),
            percentile(&pipeline, 0.5),
            percentile(&pipeline, 0.95),
            percentile(&added, 0.5),
        );
    }
    println!("added = packetize + FEC + seal + send of the encoded frame (target ≤ 0.5 ms)");
    Ok(true)
}
