//! A session's per-frame path on its own native thread: source → packetize/FEC/seal → send,
//! paced at the mode's refresh rate. The control plane steers it through [`SessionControl`].

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, AtomicU8, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use punktfunk_core::control::Mode;
use punktfunk_core::{FecParams, MediaSecret};
use punktfunk_net::endpoint::MediaOut;

use crate::source::virtual_source::VirtualSource;
use crate::stream::{LossModel, MediaStreamer, SendStats};

/// What the control plane may change while the stream runs.
#[derive(Debug, Default)]
pub struct SessionControl {
    pub stop: AtomicBool,
    pub keyframe: AtomicBool,
    pub fec_percent: AtomicU8,
    pub bitrate_kbps: AtomicU32,
    pub keyframes_sent_on_request: AtomicU32,
    /// Data shards in the last frame's first block: what the adaptive FEC sizes against.
    pub typical_block_shards: AtomicU16,
}

pub struct MediaPlan {
    pub peer: SocketAddr,
    pub secret: MediaSecret,
    pub mode: Mode,
    pub shard_bytes: usize,
    /// The instant media timestamp 0 stands for.
    pub clock_origin: Instant,
}

pub fn spawn(
    out: MediaOut,
    plan: MediaPlan,
    control: Arc<SessionControl>,
) -> std::io::Result<JoinHandle<SendStats>> {
    std::thread::Builder::new()
        .name("session-media".into())
        .spawn(move || stream(out, plan, &control))
}

fn stream(out: MediaOut, plan: MediaPlan, control: &SessionControl) -> SendStats {
    let fps = (plan.mode.refresh_millihz / 1000).max(1);
    let interval = Duration::from_secs_f64(1000.0 / f64::from(plan.mode.refresh_millihz));
    // Infinite GOP: one opening keyframe, then only on request.
    let mut bitrate = control.bitrate_kbps.load(Ordering::Relaxed);
    let mut source = VirtualSource::new(fps, bitrate, u32::MAX);
    let mut streamer = MediaStreamer::new(out, plan.peer, &plan.secret, LossModel::new(0.0, 1));
    let mut next = Instant::now();
    while !control.stop.load(Ordering::Relaxed) {
        let wanted = control.bitrate_kbps.load(Ordering::Relaxed);
        if wanted != bitrate {
            bitrate = wanted;
            source.set_bitrate_kbps(bitrate);
        }
        if control.keyframe.swap(false, Ordering::Relaxed) {
            source.request_keyframe();
            control
                .keyframes_sent_on_request
                .fetch_add(1, Ordering::Relaxed);
        }
        let fec = FecParams {
            percent: control.fec_percent.load(Ordering::Relaxed),
            shard_bytes: plan.shard_bytes,
            ..FecParams::default()
        };
        let pts_us = plan.clock_origin.elapsed().as_micros() as u64;
        let (info, frame) = source.next_frame_at(pts_us);
        if let Ok(plan) = punktfunk_core::fec::FramePlan::new(frame.len(), &fec) {
            let k = plan.iter().next().map_or(1, |b| b.data_shards);
            control.typical_block_shards.store(k, Ordering::Relaxed);
        }
        if let Err(e) = streamer.send_frame(info, &frame, &fec) {
            tracing::warn!("media send failed, stopping the stream: {e}");
            break;
        }
        next += interval;
        match next.checked_duration_since(Instant::now()) {
            Some(wait) => std::thread::sleep(wait),
            // Behind: don't try to catch up with a burst of frames.
            None => next = Instant::now(),
        }
    }
    streamer.stats
}
