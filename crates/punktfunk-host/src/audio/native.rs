//! The native plane's desktop audio: feed → Opus (5 ms frames) → one sealed datagram per packet
//! on the audio stream, stamped with the capture time on the session's media clock.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use punktfunk_core::wire::audio::{self, Tier, FRAME_MS};
use punktfunk_core::wire::media::stream;
use punktfunk_core::{single_packet_params, FrameInfo, MediaSecret, MediaSender, PacketBatch};
use punktfunk_net::endpoint::MediaOut;
use punktfunk_video::audio::OpusEncoder;

use super::Feed;
use crate::native::media::SessionControl;

/// Above this reported loss every audio packet goes out twice (it is small; a gap is audible).
const REDUNDANCY_LOSS_PPM: u32 = 5_000;

pub struct AudioPlan {
    pub peer: SocketAddr,
    /// The host → client media secret; the audio stream derives its own from it.
    pub secret: MediaSecret,
    pub channels: u8,
    pub tier: Tier,
    /// The instant media timestamp 0 stands for (shared with the video).
    pub clock_origin: Instant,
}

pub fn spawn(
    out: MediaOut,
    plan: AudioPlan,
    feed: Feed,
    control: Arc<SessionControl>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("session-audio".into())
        .spawn(move || {
            if let Err(e) = stream(&out, &plan, feed, &control) {
                tracing::warn!("audio stopped: {e:#}");
            }
        })
}

fn stream(
    out: &MediaOut,
    plan: &AudioPlan,
    mut feed: Feed,
    control: &SessionControl,
) -> anyhow::Result<()> {
    let mut encoder = OpusEncoder::native(
        plan.channels,
        FRAME_MS,
        audio::bitrate_bps(plan.channels, plan.tier),
    )?;
    let mut sender = MediaSender::for_stream(&plan.secret, stream::AUDIO);
    let mut batch = PacketBatch::new();
    let mut sequence = 0u32;
    tracing::info!(
        channels = plan.channels,
        frame_ms = FRAME_MS,
        source = feed.describe(),
        "audio streaming"
    );
    let stop = || control.stop.load(Ordering::Relaxed);
    while let Some(frame) = feed.next_frame(encoder.samples_per_frame(), &stop) {
        let opus = encoder.encode(&frame.samples)?;
        let info = FrameInfo {
            frame_index: sequence,
            pts_us: frame
                .captured
                .saturating_duration_since(plan.clock_origin)
                .as_micros() as u64,
            ..FrameInfo::default()
        };
        let redundant = control.loss_ppm.load(Ordering::Relaxed) > REDUNDANCY_LOSS_PPM;
        sender.packetize(
            &opus,
            info,
            &single_packet_params(opus.len(), redundant),
            &mut batch,
        )?;
        for packet in batch.iter() {
            out.send(packet, plan.peer)?;
        }
        sequence = sequence.wrapping_add(1);
    }
    tracing::info!(packets = sequence, "audio stopped");
    Ok(())
}
