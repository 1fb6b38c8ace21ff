//! One native session: admission, Hello → Welcome → Ready, the control loop, teardown.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use punktfunk_core::control::{Codec, Hello, Message, Welcome};
use punktfunk_core::fec::adapt_percent;
use punktfunk_core::wire::audio as audio_wire;
use punktfunk_core::wire::close;
use punktfunk_core::wire::control::feature;
use punktfunk_core::wire::media::DEFAULT_SHARD_BYTES;
use punktfunk_net::control_io::{self, ControlIoError, ControlReader};
use punktfunk_net::tls::peer_fingerprint;
use ring::rand::{SecureRandom, SystemRandom};
use tracing::Instrument;

use super::media::{self, FrameSource, MediaPlan, SessionControl};
use super::pairing;
use super::registry::LiveSession;
use super::Plane;
use crate::lifecycle::displays::{AcquireError, Displays, Lease};
use crate::lifecycle::registry::{sessions_to_preempt, Refusal as AdmissionRefusal};
use crate::source::synthetic::SyntheticSource;
use crate::source::SourceKind;
use crate::trust::{Admit, PlaneKind};
use punktfunk_core::pairing::Fingerprint;

/// How long a client has to open its control stream and say Hello, or answer the Welcome.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections beyond `--max-sessions` allowed while they handshake, pair or preempt.
const SPARE_CONNECTIONS: usize = 8;
/// How long a preempted or stolen session may take to let go of its display.
const RELEASE_GRACE: Duration = Duration::from_secs(3);

/// A reason to close the connection, with the code from the registry.
#[derive(Debug)]
pub struct Refusal {
    pub code: u32,
    pub reason: String,
}

impl Refusal {
    pub fn new(code: u32, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
        }
    }
}

impl From<ControlIoError> for Refusal {
    fn from(e: ControlIoError) -> Self {
        Refusal::new(close::PROTOCOL_VIOLATION, e.to_string())
    }
}

/// Counts the session as active for as long as it lives.
struct Admission(Arc<Plane>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

pub async fn run(plane: Arc<Plane>, conn: quinn::Connection) {
    // The TLS layer demands a client certificate, so this is there; be explicit anyway.
    let Some(client) = peer_fingerprint(&conn) else {
        conn.close(close::PROTOCOL_VIOLATION.into(), b"no client certificate");
        return;
    };
    let fingerprint = client.to_string();
    let span = tracing::info_span!("session", client = %&fingerprint[..16],
        remote = %conn.remote_address());
    async move {
        tracing::info!(%fingerprint, "client connected");
        let before = plane.active.fetch_add(1, Ordering::SeqCst);
        let _admission = Admission(plane.clone());
        // Connections in any state (handshakes, pairing, reconnects about to preempt); the
        // session limit itself is checked once the client is known.
        if before >= plane.args.max_sessions + SPARE_CONNECTIONS {
            tracing::info!(
                max = plane.args.max_sessions,
                "refused: too many connections"
            );
            conn.close(
                close::TOO_MANY_SESSIONS.into(),
                b"the host runs its maximum number of sessions (--max-sessions)",
            );
            return;
        }
        if let Err(refusal) = serve(&plane, &conn, client.0).await {
            tracing::info!(code = refusal.code, reason = %refusal.reason, "closing");
            conn.close(refusal.code.into(), refusal.reason.as_bytes());
        }
        match conn.closed().await {
            quinn::ConnectionError::ApplicationClosed(c)
                if c.error_code == close::CLIENT_QUIT.into() =>
            {
                tracing::info!("client quit")
            }
            quinn::ConnectionError::TimedOut => tracing::info!("client went silent: idle timeout"),
            reason => tracing::info!(%reason, "session ended"),
        }
    }
    .instrument(span)
    .await
}

async fn serve(
    plane: &Plane,
    conn: &quinn::Connection,
    client: Fingerprint,
) -> Result<(), Refusal> {
    let (mut send, recv) = tokio::time::timeout(HANDSHAKE_TIMEOUT, conn.accept_bi())
        .await
        .map_err(|_| Refusal::new(close::PROTOCOL_VIOLATION, "no control stream in time"))?
        .map_err(|e| Refusal::new(close::PROTOCOL_VIOLATION, e.to_string()))?;
    let mut control = ControlReader::new(recv);
    let hello = match tokio::time::timeout(HANDSHAKE_TIMEOUT, control.next()).await {
        Ok(Ok(Some(Message::Hello(hello)))) => hello,
        Ok(Ok(Some(Message::PairRequest { device_name, spake }))) => {
            return pairing::run(plane, &mut send, &mut control, client, &device_name, &spake)
                .await;
        }
        Ok(Ok(_)) => return Err(Refusal::new(close::PROTOCOL_VIOLATION, "expected Hello")),
        Ok(Err(e)) => return Err(e.into()),
        Err(_) => return Err(Refusal::new(close::PROTOCOL_VIOLATION, "no Hello in time")),
    };
    match plane
        .trust
        .admit(&client, PlaneKind::Native, &hello.device_name)
        .map_err(|e| Refusal::new(close::SETUP_FAILED, format!("{e:#}")))?
    {
        Admit::Paired => {}
        Admit::PinnedOnFirstUse => {
            tracing::info!(device = %hello.device_name, "new device pinned on first use (--open)")
        }
        Admit::NotPaired => {
            tracing::info!(device = %hello.device_name, "refused: not paired");
            return Err(Refusal::new(
                close::NOT_PAIRED,
                "this device is not paired with the host: ask its operator for a PIN \
                 (`punktfunk-host ctl pair arm`), then pair (`punktfunk-probe pair HOST:PORT --pin PIN`)",
            ));
        }
    }
    // A reconnect while the host still holds this client's old session (it has not noticed
    // the drop yet): end the old one and let its display go to Lingering, to be reused below.
    let old = sessions_to_preempt(&plane.sessions.owners(), &client);
    if !old.is_empty() {
        tracing::info!(sessions = ?old, "preempting this client's older session");
        plane.sessions.close_ids(
            &old,
            close::NO_ERROR,
            "replaced by a newer connection from the same device",
        );
        if !plane.sessions.wait_gone(&old, RELEASE_GRACE).await {
            tracing::warn!(sessions = ?old, "the preempted session did not end in time");
        }
    }
    // Media timestamps count from here; the Welcome tells the client the same moment in
    // wall-clock time, so it can measure capture-to-arrival latency.
    let clock_origin = Instant::now();
    let mut welcome = negotiate(plane, &hello)?;
    if plane.args.source != SourceKind::Synthetic {
        // 4:2:0 video needs even dimensions: round down, and say so in the Welcome.
        welcome.mode.width &= !1;
        welcome.mode.height &= !1;
        welcome.features &= !feature::SYNTHETIC_MEDIA;
        if plane.args.source != SourceKind::Compositor {
            welcome.features |= feature::TEST_PICTURE;
        }
    }
    // Admission: a slot in the live-session registry (visible to `ctl sessions`, closable by
    // `ctl unpair`) while the session lives.
    let steering = Arc::new(SessionControl::default());
    let mut live = plane
        .sessions
        .try_register(
            plane.args.max_sessions,
            LiveSession {
                control: steering.clone(),
                fingerprint: client,
                device: hello.device_name.clone(),
                mode: welcome.mode,
                codec: welcome.codec,
                remote: conn.remote_address(),
                started_unix: crate::trust::unix_now(),
                started: Instant::now(),
                conn: conn.clone(),
            },
        )
        .ok_or_else(|| {
            tracing::info!(max = plane.args.max_sessions, "refused: host is full");
            Refusal::new(
                close::TOO_MANY_SESSIONS,
                "the host runs its maximum number of sessions (--max-sessions)",
            )
        })?;
    let secrets = control_io::session_media_secrets(conn, &welcome.session_id)
        .map_err(|e| Refusal::new(close::SETUP_FAILED, e.to_string()))?;
    // The encoder is opened before the Welcome, so a failure is a clear refusal.
    let mut quit_flag = None;
    let mut injector = None;
    let source = match plane.args.source {
        SourceKind::Synthetic => FrameSource::Synthetic(SyntheticSource::new(
            (welcome.mode.refresh_millihz / 1000).max(1),
            welcome.bitrate_kbps,
            u32::MAX, // infinite GOP: one opening keyframe, then only on request
        )),
        SourceKind::Virtual | SourceKind::Auto => {
            FrameSource::encoded(welcome.mode, welcome.codec, welcome.bitrate_kbps)
                .map_err(|e| Refusal::new(close::SETUP_FAILED, e.to_string()))?
        }
        SourceKind::Compositor => {
            let displays = plane.displays.clone().ok_or_else(|| {
                Refusal::new(close::SETUP_FAILED, "no compositor connected on this host")
            })?;
            let lease = acquire_display(plane, &displays, live.id(), client, welcome.mode).await?;
            if lease.mode != welcome.mode {
                tracing::info!(mode = %lease.mode, "joining a live display at its mode");
                welcome.mode = lease.mode;
                live.set_mode(lease.mode);
            }
            quit_flag = Some(lease.quit_flag());
            let (for_input, display, target) = (
                displays.clone(),
                lease.display,
                crate::input::Target::of(&lease),
            );
            match tokio::task::spawn_blocking(move || for_input.injector(display, &target)).await {
                Ok(Ok(i)) => injector = i,
                Ok(Err(e)) => tracing::warn!("input stays counted only: {e:#}"),
                Err(e) => tracing::warn!("input stays counted only: {e}"),
            }
            let (codec, kbps) = (welcome.codec, welcome.bitrate_kbps);
            tokio::task::spawn_blocking(move || display_source(lease, codec, kbps))
                .await
                .map_err(|e| Refusal::new(close::SETUP_FAILED, e.to_string()))?
                .map_err(|e| Refusal::new(close::SETUP_FAILED, format!("{e:#}")))?
        }
    };
    let (audio_feed, mic) = open_audio(plane, &hello).await;
    welcome.audio_channels = audio_feed.as_ref().map_or(0, |(_, channels)| *channels);
    welcome.mic = mic.is_some();
    tracing::info!(mode = %welcome.mode, codec = welcome.codec.name(), kbps = welcome.bitrate_kbps,
        audio_channels = welcome.audio_channels, mic = welcome.mic,
        device = %hello.device_name, "welcome");
    control_io::send(&mut send, &Message::Welcome(welcome.clone())).await?;
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, control.next()).await {
        Ok(Ok(Some(Message::Ready))) => {}
        Ok(Ok(_)) => return Err(Refusal::new(close::PROTOCOL_VIOLATION, "expected Ready")),
        Ok(Err(e)) => return Err(e.into()),
        Err(_) => return Err(Refusal::new(close::PROTOCOL_VIOLATION, "no Ready in time")),
    }

    steering
        .fec_percent
        .store(welcome.fec_percent, Ordering::Relaxed);
    steering
        .bitrate_kbps
        .store(welcome.bitrate_kbps, Ordering::Relaxed);
    let audio = audio_feed.and_then(|(feed, channels)| {
        let plan = crate::audio::native::AudioPlan {
            peer: conn.remote_address(),
            secret: secrets.host_to_client.clone(),
            channels,
            tier: plane.audio.tier,
            clock_origin,
        };
        crate::audio::native::spawn(plane.media_out.clone(), plan, feed, steering.clone())
            .inspect_err(|e| tracing::warn!("audio off: cannot start its thread: {e}"))
            .ok()
    });
    // The route lives until the session ends; the mic thread ends with it.
    let mic = mic.and_then(|(source, channels)| {
        let (route, datagrams) = plane.media_routes.open(conn.remote_address());
        let plan = crate::audio::mic::MicPlan {
            secret: secrets.client_to_host.clone(),
            channels,
        };
        crate::audio::mic::spawn(datagrams, plan, source, steering.clone())
            .inspect_err(|e| tracing::warn!("microphone off: cannot start its thread: {e}"))
            .ok()
            .map(|thread| (route, thread))
    });
    let plan = MediaPlan {
        peer: conn.remote_address(),
        secret: secrets.host_to_client,
        mode: welcome.mode,
        shard_bytes: usize::from(welcome.shard_bytes),
        clock_origin,
    };
    let media = media::spawn(plane.media_out.clone(), plan, source, steering.clone())
        .map_err(|e| Refusal::new(close::SETUP_FAILED, e.to_string()))?;

    let mut pads = crate::input::session_pads::SessionPads::default();
    let outcome = control_loop(
        &mut control,
        &mut send,
        &steering,
        injector.as_ref(),
        &mut pads,
        welcome.mode,
    )
    .await;
    // Pads go with the session (their devices with them).
    pads.end();
    // Keys and buttons still held are released before anything else goes.
    drop(injector);
    // A deliberate quit tears the display down at once; anything else lets it linger.
    if let (Some(flag), Some(quinn::ConnectionError::ApplicationClosed(c))) =
        (&quit_flag, conn.close_reason())
    {
        if c.error_code == close::CLIENT_QUIT.into() {
            flag.store(true, Ordering::Relaxed);
        }
    }
    steering.stop.store(true, Ordering::Relaxed);
    let _ = tokio::task::spawn_blocking(move || {
        if let Some(audio) = audio {
            let _ = audio.join();
        }
        if let Some((_route, mic)) = mic {
            let _ = mic.join();
        }
    })
    .await;
    let stats = tokio::task::spawn_blocking(move || media.join())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    tracing::info!(
        frames = stats.frames,
        packets = stats.packets,
        keyframes_on_request = steering.keyframes_sent_on_request.load(Ordering::Relaxed),
        input_events = steering.input_events.load(Ordering::Relaxed),
        "stream stopped"
    );
    outcome
}

/// Finds or makes the client's display under the mode-conflict policy: ends other clients'
/// sessions first where the policy says `steal`.
async fn acquire_display(
    plane: &Plane,
    displays: &Arc<Displays>,
    session: u64,
    client: Fingerprint,
    mode: punktfunk_core::control::Mode,
) -> Result<Lease, Refusal> {
    loop {
        let attempt = {
            let displays = displays.clone();
            tokio::task::spawn_blocking(move || displays.acquire(session, client, mode))
                .await
                .map_err(|e| Refusal::new(close::SETUP_FAILED, e.to_string()))?
        };
        match attempt {
            Ok(lease) => {
                tracing::info!(output = %lease.name, reused = lease.reused, "display");
                return Ok(lease);
            }
            Err(AcquireError::MustStop(stop)) => {
                tracing::info!(sessions = ?stop, "mode-conflict policy steal: ending the others");
                let taken = displays.displays_of(&stop);
                plane.sessions.close_ids(
                    &stop,
                    close::NO_ERROR,
                    "another client took over the host (mode-conflict policy steal)",
                );
                plane.sessions.wait_gone(&stop, RELEASE_GRACE).await;
                let displays = displays.clone();
                let _ = tokio::task::spawn_blocking(move || displays.release_now(&taken)).await;
            }
            Err(AcquireError::Refused(AdmissionRefusal::TooManySessions)) => {
                return Err(Refusal::new(
                    close::TOO_MANY_SESSIONS,
                    "the host runs its maximum number of sessions (--max-sessions)",
                ))
            }
            Err(AcquireError::Refused(AdmissionRefusal::Busy)) => {
                return Err(Refusal::new(
                    close::BUSY,
                    "another client is streaming from this host (mode-conflict policy reject)",
                ))
            }
            Err(AcquireError::Failed(e)) => {
                return Err(Refusal::new(close::SETUP_FAILED, format!("{e:#}")))
            }
        }
    }
}

/// How long a new output may take to deliver its first captured frame.
const FIRST_CAPTURE_TIMEOUT: Duration = Duration::from_secs(3);

/// Starts capturing the leased output and opens the encoder; fails (and the lease lets the
/// display go) unless a first frame arrives in time.
pub(crate) fn display_source(lease: Lease, codec: Codec, kbps: u32) -> anyhow::Result<FrameSource> {
    let capture = lease.start_capture()?;
    let started = Instant::now();
    capture
        .next_frame(0, FIRST_CAPTURE_TIMEOUT)?
        .with_context(|| {
            format!(
                "no frame captured from {} within {FIRST_CAPTURE_TIMEOUT:?}",
                lease.name
            )
        })?;
    tracing::info!(output = %lease.name, first_frame_ms = started.elapsed().as_millis() as u64,
        "capturing");
    let mode = lease.mode;
    Ok(FrameSource::Display(Box::new(media::DisplaySource {
        capture,
        lease,
        converter: punktfunk_video::convert::RgbToYuv::new(mode.width, mode.height)?,
        encoder: punktfunk_video::encoder::VideoEncoder::new(codec, mode, kbps)?,
        last_sequence: 0,
        last_encoded: None,
        frames_captured: 0,
        frames_repeated: 0,
    })))
}

/// Reads control messages until the connection ends.
async fn control_loop(
    control: &mut ControlReader,
    send: &mut quinn::SendStream,
    steering: &SessionControl,
    injector: Option<&crate::input::Injector>,
    pads: &mut crate::input::session_pads::SessionPads,
    mode: punktfunk_core::control::Mode,
) -> Result<(), Refusal> {
    // The picture absolute input is measured in: the mode of the last accepted reconfigure.
    let mut picture = mode;
    let mut feedback_tick = tokio::time::interval(crate::input::session_pads::FEEDBACK_POLL);
    feedback_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let next = tokio::select! {
            next = control.next() => next,
            _ = feedback_tick.tick() => {
                send_pad_feedback(send, pads).await?;
                continue;
            }
        };
        let message = match next {
            Ok(Some(m)) => m,
            Ok(None) => return Ok(()),
            // The connection went away (quit, timeout): not a protocol error.
            Err(ControlIoError::Read(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        match message {
            Message::KeyframeRequest | Message::RfiRequest { .. } => {
                // Reference-frame invalidation needs an encoder that can re-reference; a
                // keyframe is the answer that always works.
                steering.keyframe.store(true, Ordering::Relaxed);
            }
            Message::Feedback(f) => {
                steering.loss_ppm.store(f.loss_ppm, Ordering::Relaxed);
                let current = steering.fec_percent.load(Ordering::Relaxed);
                let k = steering.typical_block_shards.load(Ordering::Relaxed);
                let next = adapt_percent(current, f.loss_ppm, k);
                if next != current {
                    tracing::debug!(loss_ppm = f.loss_ppm, from = current, to = next, "FEC");
                    steering.fec_percent.store(next, Ordering::Relaxed);
                }
            }
            Message::SetBitrate { kbps } => {
                let kbps = kbps.clamp(500, 500_000);
                steering.bitrate_kbps.store(kbps, Ordering::Relaxed);
                control_io::send(send, &Message::BitrateChanged { kbps }).await?;
            }
            Message::ClockProbe { t1_ns } => {
                let now = unix_ns();
                control_io::send(
                    send,
                    &Message::ClockEcho {
                        t1_ns,
                        t2_ns: now,
                        t3_ns: unix_ns(),
                    },
                )
                .await?;
            }
            Message::Reconfigure { mode } => {
                // Even dimensions for 4:2:0 video; the answer names the mode actually used.
                let mode = punktfunk_core::control::Mode {
                    width: mode.width & !1,
                    height: mode.height & !1,
                    ..mode
                };
                let accepted = mode.is_valid();
                let epoch = {
                    let mut pending = steering.reconfigure.lock().expect("reconfigure lock");
                    let epoch = steering.epoch.load(Ordering::Relaxed);
                    if accepted {
                        picture = mode;
                        let next = epoch.wrapping_add(1);
                        steering.epoch.store(next, Ordering::Relaxed);
                        *pending = Some((mode, next));
                        next
                    } else {
                        epoch
                    }
                };
                control_io::send(
                    send,
                    &Message::Reconfigured {
                        mode,
                        epoch,
                        accepted,
                    },
                )
                .await?;
            }
            Message::Input(event) => {
                steering.input_events.fetch_add(1, Ordering::Relaxed);
                tracing::trace!(?event, "input");
                if let Some(injector) = injector {
                    // Absolute positions are in the stream's picture (its mode).
                    if let Some(e) =
                        crate::input::from_native(&event, picture.width, picture.height)
                    {
                        injector.send(e);
                    }
                }
            }
            Message::Pad(report) => {
                steering.input_events.fetch_add(1, Ordering::Relaxed);
                pads.native_state(
                    report.index,
                    crate::input::pads::PadKind::from_wire(report.kind),
                    punktfunk_input::gamepad::PadState {
                        buttons: report.buttons,
                        left_trigger: report.left_trigger,
                        right_trigger: report.right_trigger,
                        left_stick: report.left_stick,
                        right_stick: report.right_stick,
                    },
                );
            }
            Message::PadTouch(touch) => {
                steering.input_events.fetch_add(1, Ordering::Relaxed);
                pads.native_touch(&touch);
            }
            Message::PadMotion(motion) => {
                steering.input_events.fetch_add(1, Ordering::Relaxed);
                pads.native_motion(&motion);
            }
            Message::PadRemoved { index } => pads.native_removed(index),
            Message::Text(text) => {
                steering.input_events.fetch_add(1, Ordering::Relaxed);
                if let Some(injector) = injector {
                    injector.send(punktfunk_input::event::Event::Text(text));
                }
            }
            Message::Unknown { kind } => tracing::debug!(kind, "unknown control message skipped"),
            other => tracing::debug!(?other, "control message ignored in this state"),
        }
    }
}

/// What the games asked of the session's pads, to the client.
async fn send_pad_feedback(
    send: &mut quinn::SendStream,
    pads: &mut crate::input::session_pads::SessionPads,
) -> Result<(), Refusal> {
    for feedback in pads.feedback() {
        if let Some(message) = pad_message(feedback) {
            control_io::send(send, &message).await?;
        }
    }
    Ok(())
}

/// A pad's feedback as the native message; `None` for what a native client needs no word of
/// (it sends motion unasked).
fn pad_message(feedback: crate::input::virtual_pads::Feedback) -> Option<Message> {
    use crate::input::virtual_pads::Feedback;
    Some(match feedback {
        Feedback::Rumble { index, low, high } => Message::Rumble { index, low, high },
        Feedback::Lights {
            index,
            rgb,
            player_leds,
        } => Message::PadLights {
            index,
            rgb: rgb.map(|(r, g, b)| [r, g, b]),
            player_leds,
        },
        Feedback::Triggers { index, left, right } => Message::PadTriggers { index, left, right },
        Feedback::ReportMotion { .. } => return None,
    })
}

/// The session's desktop audio (with its channel count) and the virtual microphone (with the
/// client's channel count), each `None` with the reason logged when there is none.
async fn open_audio(
    plane: &Plane,
    hello: &Hello,
) -> (
    Option<(crate::audio::Feed, u8)>,
    Option<(Arc<punktfunk_pipewire::audio::MicSource>, u8)>,
) {
    if plane.args.source == SourceKind::Synthetic {
        return (None, None);
    }
    let channels = if audio_wire::CHANNEL_COUNTS.contains(&hello.audio_channels) {
        hello.audio_channels
    } else {
        2
    };
    let audio = plane.audio.clone();
    let feed = tokio::task::spawn_blocking(move || audio.open(channels))
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
    let feed = match feed {
        Ok(feed) => Some((feed, channels)),
        Err(why) => {
            // Video goes on without it.
            tracing::warn!("audio off: {why}");
            None
        }
    };
    let mic_channels = hello.mic_channels;
    let mic = if (1..=audio_wire::MAX_MIC_CHANNELS).contains(&mic_channels) {
        let audio = plane.audio.clone();
        match tokio::task::spawn_blocking(move || audio.mic())
            .await
            .unwrap_or_else(|e| Err(e.to_string()))
        {
            Ok(source) => Some((source, mic_channels)),
            Err(why) => {
                tracing::warn!("microphone off: {why}");
                None
            }
        }
    } else {
        None
    };
    (feed, mic)
}

fn negotiate(plane: &Plane, hello: &Hello) -> Result<Welcome, Refusal> {
    // What the host can encode (the synthetic source carries any codec's name).
    let host_mask = Codec::ALL
        .into_iter()
        .filter(|c| {
            plane.args.source == SourceKind::Synthetic || punktfunk_video::encoder::available(*c)
        })
        .fold(0, |mask, c| mask | c.bit());
    let shared = hello.codec_mask & host_mask;
    let codec = hello
        .preferred_codec
        .filter(|c| shared & c.bit() != 0)
        .or_else(|| {
            [Codec::Hevc, Codec::Av1, Codec::H264]
                .into_iter()
                .find(|c| shared & c.bit() != 0)
        })
        .ok_or_else(|| Refusal::new(close::SETUP_FAILED, "no codec in common"))?;
    let shard = hello.max_shard_bytes.map_or(DEFAULT_SHARD_BYTES, |m| {
        usize::from(m).min(DEFAULT_SHARD_BYTES)
    }) & !1;
    if shard < 256 {
        return Err(Refusal::new(
            close::SETUP_FAILED,
            "max shard size below 256 bytes",
        ));
    }
    let mut session_id = [0u8; 16];
    SystemRandom::new()
        .fill(&mut session_id)
        .map_err(|_| Refusal::new(close::SETUP_FAILED, "no randomness"))?;
    Ok(Welcome {
        session_id,
        mode: hello.mode,
        codec,
        fec_percent: plane.args.fec_percent,
        shard_bytes: shard as u16,
        bitrate_kbps: match hello.bitrate_kbps {
            0 => plane.args.default_bitrate_kbps,
            kbps => kbps.clamp(500, 500_000),
        },
        clock_origin_unix_ns: unix_ns(),
        features: feature::SYNTHETIC_MEDIA,
        epoch: 0,
        audio_channels: 0,
        mic: false,
    })
}

fn unix_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::pads::MotionSensors;
    use crate::input::virtual_pads::Feedback;

    #[test]
    fn pad_feedback_becomes_native_messages() {
        let effect = [0x21, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        assert_eq!(
            pad_message(Feedback::Lights {
                index: 4,
                rgb: Some((255, 0, 128)),
                player_leds: None
            }),
            Some(Message::PadLights {
                index: 4,
                rgb: Some([255, 0, 128]),
                player_leds: None
            })
        );
        assert_eq!(
            pad_message(Feedback::Triggers {
                index: 0,
                left: Some(effect),
                right: None
            }),
            Some(Message::PadTriggers {
                index: 0,
                left: Some(effect),
                right: None
            })
        );
        assert_eq!(
            pad_message(Feedback::ReportMotion {
                index: 0,
                sensors: MotionSensors {
                    accel: true,
                    gyro: true
                }
            }),
            None
        );
    }
}
