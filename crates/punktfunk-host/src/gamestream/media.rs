//! A stream's media: the client pings the video and audio ports first (with the payloads RTSP
//! gave it), which tells the host where to send; then one thread sends video (source → encoder
//! → RTP shards with FEC) at the stream's frame rate and one sends audio (Opus in RTP with its
//! FEC) every packet duration.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use punktfunk_core::control::{Codec, Mode};
use punktfunk_gamestream::audio::{
    opus_bitrate_bps, AudioConfig, AudioKey, AudioPacketizer, OpusLayout,
};
use punktfunk_gamestream::rtsp::{StreamParams, VideoCodec};
use punktfunk_gamestream::video::{
    parse_ping, FrameType, ShardBatch, VideoConfig, VideoFrame, VideoPacketizer,
};
use punktfunk_gamestream::wire::encryption;

use super::session::{lock, Live};
use super::GameStream;
use crate::lifecycle::displays::{AcquireError, Displays};
use crate::native::media::FrameSource;
use crate::stream::LossModel;
use punktfunk_net::identity::Fingerprint;

/// How long PLAY waits for the client's first ping before giving up on the stream.
const FIRST_PING_WAIT: Duration = Duration::from_secs(10);

/// One thread per media socket records where the current stream's client pings from.
pub fn spawn_ping_listeners(gs: &Arc<GameStream>) -> anyhow::Result<()> {
    for (socket, video) in [
        (gs.sockets.video.clone(), true),
        (gs.sockets.audio.clone(), false),
    ] {
        let gs = Arc::downgrade(gs);
        std::thread::Builder::new()
            .name(
                if video {
                    "gs-video-ping"
                } else {
                    "gs-audio-ping"
                }
                .into(),
            )
            .spawn(move || {
                let mut buf = [0u8; 512];
                loop {
                    let Ok((n, from)) = socket.recv_from(&mut buf) else {
                        continue;
                    };
                    let Some(gs) = gs.upgrade() else {
                        return;
                    };
                    let Some(ping) = parse_ping(&buf[..n]) else {
                        continue;
                    };
                    let Some(session) = gs.current() else {
                        continue;
                    };
                    if from.ip().to_canonical() != session.client_ip.to_canonical() {
                        continue;
                    }
                    let Some(live) = session.live() else {
                        continue;
                    };
                    let expected = if video {
                        live.video_ping
                    } else {
                        live.audio_ping
                    };
                    // Old clients ping without a payload; the address check above still holds.
                    if ping.payload.is_some_and(|p| p != expected) {
                        continue;
                    }
                    let slot = if video {
                        &live.video_peer
                    } else {
                        &live.audio_peer
                    };
                    let mut peer = lock(slot);
                    if *peer != Some(from) {
                        tracing::debug!(%from, video, "GameStream media peer");
                        *peer = Some(from);
                    }
                }
            })?;
    }
    Ok(())
}

/// Starts the media threads of a stream that got PLAY.
pub fn start(gs: &Arc<GameStream>, live: &Arc<Live>, owner: Fingerprint, params: StreamParams) {
    let video = std::thread::Builder::new().name("gs-video".into()).spawn({
        let (gs, live, params) = (gs.clone(), live.clone(), params.clone());
        move || {
            if let Err(e) = video(&gs, &live, owner, &params) {
                tracing::warn!("GameStream video stopped: {e:#}");
            }
        }
    });
    let audio = std::thread::Builder::new().name("gs-audio".into()).spawn({
        let (gs, live) = (gs.clone(), live.clone());
        move || {
            if let Err(e) = audio(&gs, &live, &params) {
                tracing::warn!("GameStream audio stopped: {e:#}");
            }
        }
    });
    for t in [video, audio] {
        match t {
            Ok(handle) => live.add_thread(handle),
            Err(e) => tracing::warn!("cannot start a GameStream media thread: {e}"),
        }
    }
}

/// Waits for the client's first ping on one port; `None` when the stream stopped or it never
/// came.
fn wait_for_peer(live: &Live, slot: &Mutex<Option<SocketAddr>>) -> Option<SocketAddr> {
    let deadline = Instant::now() + FIRST_PING_WAIT;
    while !live.stopped() && Instant::now() < deadline {
        if let Some(peer) = *lock(slot) {
            return Some(peer);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

fn send(socket: &UdpSocket, packet: &[u8], to: SocketAddr) -> std::io::Result<()> {
    match socket.send_to(packet, to) {
        Ok(_) => Ok(()),
        // The client went away (ICMP) or the buffer is full for a moment: the stream goes on.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::WouldBlock
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(e),
    }
}

fn codec(params: &StreamParams) -> Codec {
    match params.codec {
        VideoCodec::H264 => Codec::H264,
        VideoCodec::Hevc => Codec::Hevc,
        VideoCodec::Av1 => Codec::Av1,
    }
}

/// The client's own virtual display at the stream's mode (its lingering one when it comes
/// back), captured and encoded.
fn display_source(
    displays: &Arc<Displays>,
    live: &Live,
    owner: Fingerprint,
    mode: Mode,
    codec: Codec,
    kbps: u32,
) -> anyhow::Result<FrameSource> {
    let lease = match displays.acquire(live.display_session, owner.0, mode) {
        Ok(lease) => lease,
        Err(AcquireError::Refused(why)) => anyhow::bail!("no display for this stream: {why:?}"),
        Err(AcquireError::MustStop(_)) => {
            anyhow::bail!(
                "another client's display is live (mode-conflict policy steal is native-only)"
            )
        }
        Err(AcquireError::Failed(e)) => return Err(e),
    };
    tracing::info!(output = %lease.name, reused = lease.reused, "GameStream display");
    *lock(&live.display_quit) = Some(lease.quit_flag());
    match displays.injector(lease.display, &crate::input::Target::of(&lease)) {
        Ok(injector) => *lock(&live.injector) = injector,
        Err(e) => tracing::warn!("input stays logged only: {e:#}"),
    }
    crate::native::session::display_source(lease, codec, kbps)
}

fn video(
    gs: &GameStream,
    live: &Live,
    owner: Fingerprint,
    params: &StreamParams,
) -> anyhow::Result<()> {
    let Some(mut peer) = wait_for_peer(live, &live.video_peer) else {
        anyhow::bail!("the client never pinged the video port");
    };
    let mode = Mode::new(params.width, params.height, params.fps.max(1));
    let kbps = match params.configured_bitrate_kbps {
        0 => params.max_bitrate_kbps.max(1000),
        k => k,
    };
    let mut source = match &gs.displays {
        Some(displays) => display_source(displays, live, owner, mode, codec(params), kbps)?,
        None => FrameSource::encoded(mode, codec(params), kbps)?,
    };
    let encrypt = params.encryption_enabled & encryption::VIDEO != 0;
    let mut packetizer = VideoPacketizer::new(VideoConfig {
        packet_size: params.packet_size as usize,
        fec_percent: gs.args.gamestream_fec_percent,
        min_required_fec_packets: params.min_required_fec_packets.min(255) as u8,
        encryption_key: encrypt.then_some(live.keys.rikey),
    })?;
    let mut drop = LossModel::new(gs.args.gamestream_drop_video_percent, 0x5eed);
    let mut batch = ShardBatch::new();
    let interval = Duration::from_secs_f64(1.0 / f64::from(mode.refresh_millihz / 1000).max(1.0));
    let origin = Instant::now();
    let mut frame_index = 0u32;
    let mut next = Instant::now();
    let (mut frames, mut packets, mut dropped) = (0u64, 0u64, 0u64);
    let mut loss = LossEstimate::default();
    tracing::info!(%mode, codec = ?params.codec, kbps, encrypt, %peer, "GameStream video streaming");
    while !live.stopped() {
        if let Some(p) = *lock(&live.video_peer) {
            peer = p;
        }
        if let Some(ppm) = loss.update(packets, live.reported_lost.load(Ordering::Relaxed)) {
            packetizer.set_expected_loss_ppm(ppm);
        }
        let keyframe = live.keyframe.swap(false, Ordering::Relaxed);
        let pts_us = origin.elapsed().as_micros() as u64;
        let ready = Instant::now();
        for unit in source.next(pts_us, keyframe)? {
            frame_index = frame_index.wrapping_add(1);
            let frame = VideoFrame {
                frame_index,
                rtp_timestamp: (pts_us * 9 / 100) as u32,
                frame_type: if unit.keyframe {
                    FrameType::Idr
                } else {
                    FrameType::P
                },
                host_processing_latency_100us: (ready.elapsed().as_micros() / 100)
                    .min(u128::from(u16::MAX))
                    as u16,
                annex_b: &unit.data,
            };
            packetizer.packetize(&frame, &mut batch)?;
            for shard in batch.iter() {
                packets += 1;
                if drop.drop_next() {
                    dropped += 1;
                    continue;
                }
                send(&gs.sockets.video, shard, peer)?;
            }
            frames += 1;
        }
        next += interval;
        match next.checked_duration_since(Instant::now()) {
            Some(wait) => std::thread::sleep(wait),
            None => next = Instant::now(),
        }
    }
    tracing::info!(frames, packets, dropped, "GameStream video stopped");
    Ok(())
}

/// The loss the client reports, as the video thread's FEC sizing sees it: measured over
/// windows of sent packets, it rises to a worse window at once and decays slowly (a tenth a
/// window) when the network gets better.
#[derive(Default)]
struct LossEstimate {
    window_start_sent: u64,
    window_start_lost: u64,
    ppm: u32,
}

impl LossEstimate {
    /// Packets a window spans: about a quarter second of a light stream.
    const WINDOW: u64 = 60;

    /// The new estimate once a window is complete.
    fn update(&mut self, sent: u64, lost: u64) -> Option<u32> {
        let span = sent - self.window_start_sent;
        if span < Self::WINDOW {
            return None;
        }
        let lost_now = lost.saturating_sub(self.window_start_lost);
        let measured = (lost_now.min(span) * 1_000_000 / span) as u32;
        self.window_start_sent = sent;
        self.window_start_lost = lost;
        let next = measured.max(self.ppm - self.ppm / 10);
        if next != self.ppm {
            tracing::debug!(loss_ppm = next, "video loss estimate");
        }
        self.ppm = next;
        Some(next)
    }
}

const SAMPLE_RATE: u32 = punktfunk_core::wire::audio::SAMPLE_RATE;

/// The stream's audio: desktop audio or the test tone (as `--audio` says), Opus in the layout
/// the client asked for, RTP with FEC, encrypted when negotiated. Without audio (no PipeWire,
/// `--audio off`) the video goes on and the log says why.
fn audio(gs: &GameStream, live: &Live, params: &StreamParams) -> anyhow::Result<()> {
    let Some(mut peer) = wait_for_peer(live, &live.audio_peer) else {
        anyhow::bail!("the client never pinged the audio port");
    };
    let channels = params.audio_channels.clamp(1, 8) as u8;
    let layout = OpusLayout::for_channels(channels, params.audio_high_quality)
        .or_else(|| OpusLayout::for_channels(2, false))
        .ok_or_else(|| anyhow::anyhow!("no Opus layout for {channels} channels"))?;
    let mut feed = match gs.audio.open(layout.channels) {
        Ok(feed) => feed,
        Err(why) => {
            tracing::warn!("GameStream audio off: {why}");
            return Ok(());
        }
    };
    let frame_ms = match params.audio_packet_duration_ms {
        10 => 10u8,
        _ => 5,
    };
    let bitrate = opus_bitrate_bps(layout.channels, params.audio_high_quality)
        .unwrap_or(u32::from(layout.channels) * 64_000);
    let mut encoder = punktfunk_video::audio::OpusEncoder::new(
        layout.channels,
        layout.streams,
        layout.coupled_streams,
        layout.mapping(),
        SAMPLE_RATE,
        frame_ms,
        bitrate,
    )?;
    let encrypt = params.encryption_enabled & encryption::AUDIO != 0;
    let mut packetizer = AudioPacketizer::new(AudioConfig {
        packet_duration_ms: frame_ms,
        encryption: encrypt.then_some(AudioKey {
            key: live.keys.rikey,
            key_id: live.keys.rikeyid as u32,
        }),
    });
    let mut datagrams = Vec::new();
    let mut packets = 0u64;
    tracing::info!(channels = layout.channels, frame_ms, encrypt, %peer, source = feed.describe(),
        "GameStream audio streaming");
    let stop = || live.stopped();
    while let Some(frame) = feed.next_frame(encoder.samples_per_frame(), &stop) {
        if let Some(p) = *lock(&live.audio_peer) {
            peer = p;
        }
        let opus = encoder.encode(&frame.samples)?;
        packetizer.packetize(&opus, &mut datagrams)?;
        for d in &datagrams {
            send(&gs.sockets.audio, d, peer)?;
            packets += 1;
        }
    }
    tracing::info!(packets, "GameStream audio stopped");
    Ok(())
}
