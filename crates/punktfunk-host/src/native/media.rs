//! A session's per-frame path on its own native thread: source (→ encoder) → packetize/FEC/seal
//! → send, paced at the mode's refresh rate. The control plane steers it through
//! [`SessionControl`].

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use punktfunk_core::control::Mode;
use punktfunk_core::testpicture::Stamp;
use punktfunk_core::{FecParams, FrameInfo, MediaSecret};
use punktfunk_net::endpoint::MediaOut;
use punktfunk_video::convert::RgbToYuv;
use punktfunk_video::encoder::VideoEncoder;
use punktfunk_video::picture::TestPicture;

use crate::source::synthetic::SyntheticSource;
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
    /// A mode change the media thread applies before its next frame, with its new epoch.
    pub reconfigure: Mutex<Option<(Mode, u8)>>,
    /// The configuration epoch last handed out.
    pub epoch: AtomicU8,
    /// Input events received from the client.
    pub input_events: std::sync::atomic::AtomicU64,
    /// Frames sent so far.
    pub frames_sent: std::sync::atomic::AtomicU64,
    /// The client's last reported loss, parts per million.
    pub loss_ppm: AtomicU32,
    /// Frame ready → last packet sent, last frame, µs.
    pub host_latency_us: std::sync::atomic::AtomicU64,
}

/// One access unit from a source.
pub(crate) struct SourceUnit {
    /// The synthetic source's own frame index (its bytes depend on it); `None` for encoders.
    pub own_index: Option<u32>,
    pub keyframe: bool,
    pub data: Vec<u8>,
}

/// Where a session's access units come from.
pub enum FrameSource {
    /// Stand-in bytes; the frame index is the source's own.
    Synthetic(SyntheticSource),
    /// The test picture through a real encoder.
    Encoded {
        picture: TestPicture,
        encoder: VideoEncoder,
        pictures: u32,
    },
    /// The client's own output on the compositor, captured, converted and encoded.
    Display(Box<DisplaySource>),
}

/// While the desktop is idle the last picture is sent again this often, so the client's decoder
/// stays warm and a lost frame is repaired without a keyframe request.
const IDLE_REPEAT: Duration = Duration::from_millis(100);

/// A leased virtual display and what reads it. The capture is declared first so it stops
/// before the lease lets the display go.
pub struct DisplaySource {
    pub capture: Box<dyn crate::display::Capturer>,
    pub lease: crate::lifecycle::displays::Lease,
    pub converter: RgbToYuv,
    pub encoder: VideoEncoder,
    pub last_sequence: u64,
    pub last_encoded: Option<Instant>,
    pub frames_captured: u64,
    pub frames_repeated: u64,
}

impl DisplaySource {
    /// The next picture to encode: a new capture, the last one again when idle for
    /// [`IDLE_REPEAT`] (or when a keyframe is due), or nothing.
    fn next(&mut self, keyframe: bool) -> anyhow::Result<Vec<SourceUnit>> {
        let fresh = self
            .capture
            .next_frame(self.last_sequence, Duration::ZERO)?;
        let picture = match fresh {
            Some(frame) => {
                self.last_sequence = frame.sequence();
                self.frames_captured += 1;
                let (data, stride, width, height, layout) = frame.pixels();
                self.converter
                    .convert(data, stride, width, height, layout)?
            }
            None if keyframe || self.last_encoded.is_none_or(|t| t.elapsed() >= IDLE_REPEAT) => {
                self.frames_repeated += 1;
                self.converter.picture()
            }
            None => return Ok(Vec::new()),
        };
        self.last_encoded = Some(Instant::now());
        Ok(self
            .encoder
            .encode(picture, keyframe)?
            .into_iter()
            .map(|u| SourceUnit {
                own_index: None,
                keyframe: u.keyframe,
                data: u.data,
            })
            .collect())
    }
}

impl FrameSource {
    /// Switches the source to another mode (the encoder's first frame is a keyframe); on
    /// failure the source is left as it was.
    fn rebuild(&mut self, mode: Mode, kbps: u32) -> anyhow::Result<()> {
        match self {
            FrameSource::Synthetic(_) => {
                *self = FrameSource::Synthetic(SyntheticSource::new(
                    (mode.refresh_millihz / 1000).max(1),
                    kbps,
                    u32::MAX,
                ))
            }
            FrameSource::Encoded {
                encoder, pictures, ..
            } => {
                let mut fresh = FrameSource::encoded(mode, encoder.codec(), kbps)?;
                // Picture numbers go on across the switch: the client checks they only rise.
                if let FrameSource::Encoded { pictures: p, .. } = &mut fresh {
                    *p = *pictures;
                }
                *self = fresh;
            }
            FrameSource::Display(d) => {
                let encoder = VideoEncoder::new(d.encoder.codec(), mode, kbps)?;
                let converter = RgbToYuv::new(mode.width, mode.height)?;
                d.lease.reconfigure(mode)?;
                d.encoder = encoder;
                d.converter = converter;
                d.last_encoded = None;
            }
        }
        Ok(())
    }

    fn set_bitrate_kbps(&mut self, kbps: u32) {
        match self {
            FrameSource::Synthetic(s) => s.set_bitrate_kbps(kbps),
            FrameSource::Encoded { encoder, .. } => encoder.set_bitrate_kbps(kbps),
            FrameSource::Display(d) => d.encoder.set_bitrate_kbps(kbps),
        }
    }

    pub fn encoded(
        mode: Mode,
        codec: punktfunk_core::control::Codec,
        kbps: u32,
    ) -> Result<Self, punktfunk_video::VideoError> {
        Ok(FrameSource::Encoded {
            picture: TestPicture::new(mode.width, mode.height)?,
            encoder: VideoEncoder::new(codec, mode, kbps)?,
            pictures: 0,
        })
    }

    /// The access units of the next picture, captured at `pts_us`.
    pub(crate) fn next(&mut self, pts_us: u64, keyframe: bool) -> anyhow::Result<Vec<SourceUnit>> {
        match self {
            FrameSource::Synthetic(source) => {
                if keyframe {
                    source.request_keyframe();
                }
                let (info, data) = source.next_frame_at(pts_us);
                Ok(vec![SourceUnit {
                    own_index: Some(info.frame_index),
                    keyframe: info.keyframe,
                    data,
                }])
            }
            FrameSource::Encoded {
                picture,
                encoder,
                pictures,
            } => {
                let stamp = Stamp {
                    frame: *pictures,
                    capture_us: pts_us,
                };
                *pictures = pictures.wrapping_add(1);
                let units = encoder.encode(picture.draw(stamp), keyframe)?;
                Ok(units
                    .into_iter()
                    .map(|u| SourceUnit {
                        own_index: None,
                        keyframe: u.keyframe,
                        data: u.data,
                    })
                    .collect())
            }
            FrameSource::Display(d) => d.next(keyframe),
        }
    }
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
    source: FrameSource,
    control: Arc<SessionControl>,
) -> std::io::Result<JoinHandle<SendStats>> {
    std::thread::Builder::new()
        .name("session-media".into())
        .spawn(move || stream(out, plan, source, &control))
}

fn stream(
    out: MediaOut,
    plan: MediaPlan,
    mut source: FrameSource,
    control: &SessionControl,
) -> SendStats {
    let mut interval = Duration::from_secs_f64(1000.0 / f64::from(plan.mode.refresh_millihz));
    let mut epoch = 0u8;
    let mut bitrate = control.bitrate_kbps.load(Ordering::Relaxed);
    let mut streamer = MediaStreamer::new(out, plan.peer, &plan.secret, LossModel::new(0.0, 1));
    let mut next_index = 0u32;
    let mut next = Instant::now();
    while !control.stop.load(Ordering::Relaxed) {
        let wanted = control.bitrate_kbps.load(Ordering::Relaxed);
        if wanted != bitrate {
            bitrate = wanted;
            source.set_bitrate_kbps(bitrate);
        }
        let pending = control.reconfigure.lock().expect("reconfigure lock").take();
        if let Some((mode, new_epoch)) = pending {
            match source.rebuild(mode, bitrate) {
                Ok(()) => {
                    epoch = new_epoch;
                    interval = Duration::from_secs_f64(1000.0 / f64::from(mode.refresh_millihz));
                    tracing::info!(%mode, epoch, "mode changed");
                }
                Err(e) => tracing::warn!("cannot switch to {mode}: {e:#}; keeping the old mode"),
            }
        }
        let keyframe = control.keyframe.swap(false, Ordering::Relaxed);
        if keyframe {
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
        let units = match source.next(pts_us, keyframe) {
            Ok(units) => units,
            Err(e) => {
                tracing::warn!("the source failed, stopping the stream: {e:#}");
                break;
            }
        };
        for SourceUnit {
            own_index,
            keyframe,
            data,
        } in units
        {
            let frame_index = own_index.unwrap_or(next_index);
            next_index = frame_index.wrapping_add(1);
            let info = FrameInfo {
                frame_index,
                pts_us,
                epoch,
                keyframe,
            };
            let ready = Instant::now();
            match streamer.send_frame(info, &data, &fec) {
                Ok(cut) => {
                    let k = cut.iter().next().map_or(1, |b| b.data_shards);
                    control.typical_block_shards.store(k, Ordering::Relaxed);
                    control.frames_sent.fetch_add(1, Ordering::Relaxed);
                    control
                        .host_latency_us
                        .store(ready.elapsed().as_micros() as u64, Ordering::Relaxed);
                }
                Err(e) => {
                    tracing::warn!("media send failed, stopping the stream: {e}");
                    return streamer.stats;
                }
            }
        }
        next += interval;
        match next.checked_duration_since(Instant::now()) {
            Some(wait) => std::thread::sleep(wait),
            // Behind: don't try to catch up with a burst of frames.
            None => next = Instant::now(),
        }
    }
    if let FrameSource::Display(d) = &source {
        tracing::info!(
            output = %d.lease.name,
            captured = d.frames_captured,
            repeated_while_idle = d.frames_repeated,
            "display stream stopped"
        );
    }
    streamer.stats
}
