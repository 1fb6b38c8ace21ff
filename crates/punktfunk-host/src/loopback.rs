//! `punktfunk-host loopback`: the data plane alone, end to end over a real UDP socket.
//!
//! Streams the synthetic source to a receiver it is pointed at (`--send-to` with a shared
//! `--secret`, e.g. `punktfunk-probe listen`) or, by default, to an in-process receiver on
//! loopback built from `punktfunk-client`, optionally dropping packets on purpose, and reports
//! what arrived. No control plane: the secret is given, not derived.

use std::net::{SocketAddr, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use punktfunk_client::media::MediaPump;
use punktfunk_client::report::{receive_synthetic, ReceiveReport};
use punktfunk_core::{FecParams, MediaSecret, ReassemblyLimits};

use crate::source::synthetic::SyntheticSource;
use crate::source::SourceKind;
use crate::stream::{LossModel, MediaStreamer, SendStats};

#[derive(Debug, Clone, clap::Args)]
pub struct LoopbackArgs {
    /// Where frames come from (this loopback run checks every byte, so: synthetic).
    #[arg(long, value_enum, default_value = "synthetic")]
    pub source: SourceKind,
    /// Stop after this many seconds.
    #[arg(long, default_value_t = 10.0, env = "PUNKTFUNK_SECONDS")]
    pub seconds: f64,
    #[arg(long, default_value_t = 60)]
    pub fps: u32,
    /// Video bitrate in kbit/s.
    #[arg(long, default_value_t = 20_000)]
    pub bitrate_kbps: u32,
    /// A keyframe every this many frames.
    #[arg(long, default_value_t = 600)]
    pub keyframe_interval: u32,
    /// Recovery shards per block, percent of its data shards (0 turns FEC off).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub fec_percent: u8,
    /// Shard payload bytes (even).
    #[arg(long, default_value_t = punktfunk_core::wire::media::DEFAULT_SHARD_BYTES)]
    pub shard_bytes: usize,
    /// Drop this percentage of packets before they leave, to watch FEC recover them.
    #[arg(long, default_value_t = 0.0)]
    pub simulate_loss: f64,
    /// Send to this receiver (`punktfunk-probe listen`) instead of an in-process one.
    #[arg(long, requires = "secret")]
    pub send_to: Option<SocketAddr>,
    /// Media secret shared with `--send-to`'s receiver, 64 hex digits (the run prints none:
    /// choose one and give it to both sides).
    #[arg(long, env = "PUNKTFUNK_MEDIA_SECRET")]
    pub secret: Option<String>,
}

pub fn run(args: LoopbackArgs) -> anyhow::Result<bool> {
    let fec = FecParams {
        percent: args.fec_percent,
        shard_bytes: args.shard_bytes,
        ..FecParams::default()
    };
    if args.source != SourceKind::Synthetic {
        bail!(
            "`loopback` checks every byte it sends, which needs --source synthetic; for the \
             test picture through a real encoder run `punktfunk-host serve` and \
             `punktfunk-probe --connect`"
        );
    }
    fec.validate()
        .with_context(|| format!("--shard-bytes {} / --fec-percent", args.shard_bytes))?;
    if !(args.seconds > 0.0 && args.seconds.is_finite()) {
        bail!(
            "--seconds must be a positive number of seconds, got {}",
            args.seconds
        );
    }
    if args.fps == 0 || args.fps > 1000 {
        bail!("--fps must be between 1 and 1000, got {}", args.fps);
    }
    let secret = match &args.secret {
        Some(hex) => MediaSecret::from_hex(hex).context("--secret")?,
        None => MediaSecret::random(),
    };

    let (peer, receiver) = match args.send_to {
        Some(peer) => (peer, None),
        None => {
            let socket = UdpSocket::bind("127.0.0.1:0").context("binding the loopback receiver")?;
            let mut pump = MediaPump::new(socket, &secret, ReassemblyLimits::default());
            let addr = pump.local_addr()?;
            let deadline = Instant::now() + Duration::from_secs_f64(args.seconds + 2.0);
            let handle = thread::Builder::new()
                .name("loopback-receiver".into())
                .spawn(move || {
                    receive_synthetic(&mut pump, deadline, Duration::from_millis(500))
                })?;
            (addr, Some(handle))
        }
    };

    tracing::info!(
        source = ?args.source, %peer, fps = args.fps, kbps = args.bitrate_kbps,
        fec = args.fec_percent, shard = args.shard_bytes, "streaming"
    );
    let socket = UdpSocket::bind(if peer.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    })
    .context("binding the media socket")?;
    let loss = LossModel::new(args.simulate_loss, 0x9E37_79B9);
    let mut streamer = MediaStreamer::new(socket, peer, &secret, loss);
    let sent = stream_virtual(&args, &fec, &mut streamer)?;
    println!("sent {}", send_summary(&sent, args.seconds));

    let Some(receiver) = receiver else {
        return Ok(true);
    };
    let report: ReceiveReport = receiver
        .join()
        .map_err(|_| anyhow::anyhow!("the loopback receiver panicked"))??;
    println!("received {report}");
    Ok(report.corrupt == 0 && report.verified > 0)
}

/// Sends the virtual source's frames at their frame rate for the configured time.
fn stream_virtual(
    args: &LoopbackArgs,
    fec: &FecParams,
    streamer: &mut MediaStreamer<UdpSocket>,
) -> anyhow::Result<SendStats> {
    let mut source = SyntheticSource::new(args.fps, args.bitrate_kbps, args.keyframe_interval);
    let interval = Duration::from_secs_f64(1.0 / f64::from(args.fps));
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(args.seconds);
    let mut next = start;
    while next < end {
        let (info, frame) = source.next_frame();
        streamer.send_frame(info, &frame, fec)?;
        next += interval;
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
    }
    Ok(streamer.stats)
}

fn send_summary(s: &SendStats, seconds: f64) -> String {
    format!(
        "frames={} packets={} dropped={} wire_mbit_s={:.1} video_mbit_s={:.1}",
        s.frames,
        s.packets,
        s.dropped,
        s.wire_bytes as f64 * 8.0 / seconds / 1e6,
        s.frame_bytes as f64 * 8.0 / seconds / 1e6
    )
}
