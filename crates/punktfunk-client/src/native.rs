//! `NativeClient`: a punktfunk/1 session from the client side.
//!
//! Connect (QUIC, our certificate as identity), say Hello, take the Welcome, derive the media
//! secrets from the TLS exporter, and receive media on the same UDP socket on a native thread.
//! The application pulls [`ClientEvent`]s; a lost frame makes it ask for a keyframe, again every
//! 100 ms until one arrives; loss reports go back every 750 ms and drive the host's adaptive FEC.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context};
use punktfunk_core::control::{Codec, Feedback, Hello, Message, Mode, Welcome};
use punktfunk_core::header::parse_clear_prefix;
use punktfunk_core::wire::close;
use punktfunk_core::wire::control::codec as codec_bit;
use punktfunk_core::wire::media::stream;
use punktfunk_core::{
    single_packet_params, Event, Frame, FrameInfo, MediaCounters, MediaReceiver, MediaSecret,
    MediaSender, PacketBatch, ReassemblyLimits,
};
use punktfunk_net::control_io::{self, ControlReader};
use punktfunk_net::demux::MediaDatagram;
use punktfunk_net::endpoint::{bind, MediaOut};
use punktfunk_net::identity::{Fingerprint, Identity};
use punktfunk_net::tls::{client_config, peer_fingerprint, DEFAULT_IDLE_TIMEOUT};
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};

/// At most one keyframe request per this interval.
const KEYFRAME_REQUEST_INTERVAL: Duration = Duration::from_millis(100);
/// Loss reports go out this often.
const FEEDBACK_WINDOW: Duration = Duration::from_millis(750);
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Events buffered for the application before they are dropped (and counted).
const EVENT_QUEUE: usize = 1024;

#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub mode: Mode,
    pub codec_mask: u64,
    pub preferred_codec: Option<Codec>,
    /// 0 lets the host choose.
    pub bitrate_kbps: u32,
    pub device_name: String,
    pub idle_timeout: Duration,
    /// Drop this share of received media packets on purpose (to exercise FEC), percent.
    pub simulate_loss_percent: f64,
    pub limits: ReassemblyLimits,
    /// The host fingerprint pinned for this host (after pairing): a host presenting another
    /// certificate is refused before anything is sent to it.
    pub expected_host: Option<Fingerprint>,
    /// Desktop audio channels to ask for (2, 6 or 8).
    pub audio_channels: u8,
    /// Microphone channels this client will send (0: none).
    pub mic_channels: u8,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            mode: Mode::new(1280, 720, 60),
            codec_mask: codec_bit::H264 | codec_bit::HEVC | codec_bit::AV1,
            preferred_codec: None,
            bitrate_kbps: 0,
            device_name: "punktfunk-client".into(),
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            simulate_loss_percent: 0.0,
            limits: ReassemblyLimits::default(),
            expected_host: None,
            audio_channels: 2,
            mic_channels: 0,
        }
    }
}

/// The host's certificate is not the one pinned for it.
#[derive(Debug, thiserror::Error)]
#[error(
    "the host's certificate changed: pinned {expected}, presented {presented}. This may be a \
     man in the middle; if the host was really reinstalled, forget it and pair again"
)]
pub struct HostChanged {
    pub expected: Fingerprint,
    pub presented: Fingerprint,
}

/// Checks the host's certificate against the pinned one.
fn check_pin(
    conn: &quinn::Connection,
    expected: Option<Fingerprint>,
) -> anyhow::Result<Fingerprint> {
    let presented =
        peer_fingerprint(conn).ok_or_else(|| anyhow!("host presented no certificate"))?;
    if let Some(expected) = expected.filter(|e| *e != presented) {
        conn.close(
            close::NO_ERROR.into(),
            b"host certificate not the pinned one",
        );
        return Err(HostChanged {
            expected,
            presented,
        }
        .into());
    }
    Ok(presented)
}

fn client_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .thread_name("punktfunk-client")
        .build()?)
}

fn any_local(host: SocketAddr) -> SocketAddr {
    if host.is_ipv4() {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    }
}

fn refused(conn: &quinn::Connection, e: &dyn std::fmt::Display) -> anyhow::Error {
    let why = conn
        .close_reason()
        .map_or_else(|| e.to_string(), |r| describe_close(&r));
    anyhow!("host refused: {why}")
}

/// Runs a PIN pairing ceremony with the host; returns the host's fingerprint, to pin. The host
/// must have a pairing window armed (`punktfunk-host ctl pair arm` shows the PIN).
pub fn pair(
    host: SocketAddr,
    identity: &Identity,
    pin: &str,
    device_name: &str,
) -> anyhow::Result<Fingerprint> {
    use punktfunk_core::pairing::ClientCeremony;
    let runtime = client_runtime()?;
    runtime.block_on(async {
        let shared = bind(any_local(host), None)?;
        let config = client_config(identity, DEFAULT_IDLE_TIMEOUT)?;
        let conn = shared
            .endpoint
            .connect_with(config, host, "punktfunk")?
            .await
            .with_context(|| format!("cannot reach a punktfunk host at {host}"))?;
        let host_fp = check_pin(&conn, None)?;
        let (ceremony, spake) = ClientCeremony::start(pin, identity.fingerprint().0, host_fp.0);
        let (mut send, recv) = conn.open_bi().await.map_err(|e| refused(&conn, &e))?;
        let mut reader = ControlReader::new(recv);
        control_io::send(
            &mut send,
            &Message::PairRequest {
                device_name: device_name.to_owned(),
                spake,
            },
        )
        .await
        .map_err(|e| refused(&conn, &e))?;
        let (host_spake, confirm) =
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, reader.next()).await {
                Ok(Ok(Some(Message::PairChallenge { spake, confirm }))) => (spake, confirm),
                Ok(Ok(other)) => bail!("host answered {other:?} instead of PairChallenge"),
                Ok(Err(e)) => return Err(refused(&conn, &e)),
                Err(_) => bail!("no PairChallenge within {HANDSHAKE_TIMEOUT:?}"),
            };
        let proof = match ceremony.answer(&host_spake, &confirm) {
            Ok(proof) => proof,
            Err(e) => {
                conn.close(close::PAIRING_DENIED.into(), b"wrong PIN");
                shared.endpoint.wait_idle().await;
                bail!("pairing failed: {e} (check the PIN the host shows)");
            }
        };
        control_io::send(&mut send, &Message::PairProof { confirm: proof })
            .await
            .map_err(|e| refused(&conn, &e))?;
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, reader.next()).await {
            Ok(Ok(Some(Message::PairResult { ok: true }))) => {}
            Ok(Ok(other)) => bail!("host answered {other:?} instead of PairResult"),
            Ok(Err(e)) => return Err(refused(&conn, &e)),
            Err(_) => bail!("no PairResult within {HANDSHAKE_TIMEOUT:?}"),
        }
        conn.close(close::NO_ERROR.into(), b"paired");
        shared.endpoint.wait_idle().await;
        Ok(host_fp)
    })
}

/// What the media thread hands the application.
#[derive(Debug)]
pub enum ClientEvent {
    /// A whole access unit and how long it took from capture on the host to arrival here.
    Frame {
        frame: Frame,
        latency: Option<Duration>,
    },
    Lost {
        first: u32,
        count: u32,
    },
}

/// One desktop audio packet (an Opus frame of `wire::audio::FRAME_MS`).
#[derive(Debug)]
pub struct AudioPacket {
    pub sequence: u32,
    pub pts_us: u64,
    pub opus: Vec<u8>,
    /// Capture on the host to arrival here.
    pub latency: Option<Duration>,
}

/// Sends microphone packets (Opus frames of `wire::audio::MIC_FRAME_MS`) on the mic stream.
pub struct MicSender {
    sender: MediaSender,
    batch: PacketBatch,
    out: MediaOut,
    host: SocketAddr,
    sequence: u32,
    clock_origin_unix_ns: u64,
}

impl MicSender {
    /// Seals and sends one Opus packet, stamped with the session's media clock.
    pub fn send(&mut self, opus: &[u8]) -> anyhow::Result<()> {
        let pts_us = unix_now_ns().saturating_sub(self.clock_origin_unix_ns) / 1000;
        let info = FrameInfo {
            frame_index: self.sequence,
            pts_us,
            ..FrameInfo::default()
        };
        self.sender.packetize(
            opus,
            info,
            &single_packet_params(opus.len(), false),
            &mut self.batch,
        )?;
        for packet in self.batch.iter() {
            self.out.send(packet, self.host)?;
        }
        self.sequence = self.sequence.wrapping_add(1);
        Ok(())
    }
}

fn unix_now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Audio packets buffered for the application before they are dropped (and counted): 2 s.
const AUDIO_QUEUE: usize = 400;

/// Counters shared between the media thread and the application.
#[derive(Debug, Default)]
pub struct ClientStats {
    pub keyframes_requested: AtomicU64,
    pub events_dropped: AtomicU64,
    pub packets_dropped_on_purpose: AtomicU64,
    /// Share of received media packets to drop on purpose, per mille.
    pub loss_per_mille: AtomicU64,
    pub counters: Mutex<MediaCounters>,
    /// The audio stream's counters.
    pub audio_counters: Mutex<MediaCounters>,
}

pub struct NativeClient {
    runtime: tokio::runtime::Runtime,
    endpoint: quinn::Endpoint,
    conn: quinn::Connection,
    welcome: Welcome,
    host_fingerprint: Fingerprint,
    commands: UnboundedSender<Message>,
    events: Receiver<ClientEvent>,
    audio: Receiver<AudioPacket>,
    stop: Arc<AtomicBool>,
    media: Option<JoinHandle<()>>,
    stats: Arc<ClientStats>,
    media_out: MediaOut,
    host: SocketAddr,
    mic_secret: MediaSecret,
}

impl NativeClient {
    /// Connects and completes the handshake; media starts flowing when this returns.
    pub fn connect(
        host: SocketAddr,
        identity: &Identity,
        options: ClientOptions,
    ) -> anyhow::Result<Self> {
        let runtime = client_runtime()?;
        let shared = runtime.block_on(async { bind(any_local(host), None) })?;
        let config = client_config(identity, options.idle_timeout)?;
        let endpoint = shared.endpoint.clone();
        let (conn, send, reader, welcome) = runtime.block_on(async {
            let conn = endpoint
                .connect_with(config, host, "punktfunk")?
                .await
                .with_context(|| format!("cannot reach a punktfunk host at {host}"))?;
            check_pin(&conn, options.expected_host)?;
            let (mut send, recv) = conn.open_bi().await.map_err(|e| refused(&conn, &e))?;
            let hello = Hello {
                resume_id: None,
                mode: options.mode,
                codec_mask: options.codec_mask,
                preferred_codec: options.preferred_codec,
                bitrate_kbps: options.bitrate_kbps,
                audio_channels: options.audio_channels,
                device_name: options.device_name.clone(),
                features: 0,
                max_shard_bytes: None,
                mic_channels: options.mic_channels,
            };
            control_io::send(&mut send, &Message::Hello(hello))
                .await
                .map_err(|e| refused(&conn, &e))?;
            let mut reader = ControlReader::new(recv);
            let welcome = match tokio::time::timeout(HANDSHAKE_TIMEOUT, reader.next()).await {
                Ok(Ok(Some(Message::Welcome(w)))) => w,
                Ok(Ok(other)) => bail!("host answered {other:?} instead of Welcome"),
                Ok(Err(e)) => return Err(refused(&conn, &e)),
                Err(_) => bail!("no Welcome within {HANDSHAKE_TIMEOUT:?}"),
            };
            anyhow::Ok((conn, send, reader, welcome))
        })?;
        let host_fingerprint =
            peer_fingerprint(&conn).ok_or_else(|| anyhow!("host presented no certificate"))?;
        let secrets = control_io::session_media_secrets(&conn, &welcome.session_id)?;

        let (commands, command_rx) = unbounded_channel();
        runtime.spawn(control_task(send, reader, command_rx));
        let (event_tx, events) = sync_channel(EVENT_QUEUE);
        let (audio_tx, audio) = sync_channel(AUDIO_QUEUE);
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(ClientStats::default());
        stats.loss_per_mille.store(
            (options.simulate_loss_percent.clamp(0.0, 100.0) * 10.0) as u64,
            Ordering::Relaxed,
        );
        let media = MediaThread {
            media_in: shared.media_in,
            host,
            receiver: MediaReceiver::new(&secrets.host_to_client, options.limits),
            audio_receiver: MediaReceiver::for_stream(
                &secrets.host_to_client,
                stream::AUDIO,
                ReassemblyLimits::audio(),
            ),
            events: event_tx,
            audio: audio_tx,
            commands: commands.clone(),
            stop: stop.clone(),
            stats: stats.clone(),
            clock_origin_unix_ns: welcome.clock_origin_unix_ns,
        };
        let media = std::thread::Builder::new()
            .name("client-media".into())
            .spawn(move || media.run())?;
        commands
            .send(Message::Ready)
            .map_err(|_| anyhow!("control task ended before Ready"))?;
        Ok(Self {
            runtime,
            endpoint: shared.endpoint,
            conn,
            welcome,
            host_fingerprint,
            commands,
            events,
            audio,
            stop,
            media: Some(media),
            stats,
            media_out: shared.media_out,
            host,
            mic_secret: secrets.client_to_host,
        })
    }

    /// The next desktop audio packet, if one is waiting.
    pub fn next_audio(&self) -> Option<AudioPacket> {
        self.audio.try_recv().ok()
    }

    /// A sender for the microphone, when the host takes it (the Welcome says so).
    pub fn mic_sender(&self) -> Option<MicSender> {
        self.welcome.mic.then(|| MicSender {
            sender: MediaSender::for_stream(&self.mic_secret, stream::MIC),
            batch: PacketBatch::new(),
            out: self.media_out.clone(),
            host: self.host,
            sequence: 0,
            clock_origin_unix_ns: self.welcome.clock_origin_unix_ns,
        })
    }

    /// A decoder for the session's codec, or `None` when the stream is synthetic media (bytes
    /// to check, not a bitstream). Hand it every frame and loss, in order.
    pub fn decoder(&self) -> anyhow::Result<Option<crate::decode::StreamDecoder>> {
        if self.welcome.features & punktfunk_core::wire::control::feature::SYNTHETIC_MEDIA != 0 {
            return Ok(None);
        }
        Ok(Some(crate::decode::StreamDecoder::new(self.welcome.codec)?))
    }

    pub fn welcome(&self) -> &Welcome {
        &self.welcome
    }

    pub fn host_fingerprint(&self) -> Fingerprint {
        self.host_fingerprint
    }

    pub fn stats(&self) -> &ClientStats {
        &self.stats
    }

    /// The next frame or loss, waiting at most `timeout`.
    pub fn next_event(&self, timeout: Duration) -> Option<ClientEvent> {
        self.events.recv_timeout(timeout).ok()
    }

    /// Why the connection ended, if it did.
    pub fn closed(&self) -> Option<String> {
        self.conn.close_reason().map(|r| describe_close(&r))
    }

    /// Changes the share of received media packets dropped on purpose.
    pub fn set_simulated_loss(&self, percent: f64) {
        self.stats
            .loss_per_mille
            .store((percent.clamp(0.0, 100.0) * 10.0) as u64, Ordering::Relaxed);
    }

    /// Sends one input event (reliable and in order, on the control stream).
    pub fn send_input(&self, event: punktfunk_core::control::InputEvent) {
        let _ = self.commands.send(Message::Input(event));
    }

    pub fn request_keyframe(&self) {
        let _ = self.commands.send(Message::KeyframeRequest);
    }

    pub fn send(&self, message: Message) {
        let _ = self.commands.send(message);
    }

    /// Ends the session deliberately (close code 0x51): the host tears the display down at once.
    pub fn disconnect_quit(self) {
        self.close(close::CLIENT_QUIT, b"client quit");
    }

    /// Ends the connection without quitting: the host keeps the display for a while.
    pub fn disconnect(self) {
        self.close(close::NO_ERROR, b"disconnect");
    }

    fn close(mut self, code: u32, reason: &[u8]) {
        self.conn.close(code.into(), reason);
        let endpoint = self.endpoint.clone();
        self.runtime.block_on(async {
            let _ = tokio::time::timeout(Duration::from_secs(1), endpoint.wait_idle()).await;
        });
        self.stop.store(true, Ordering::Relaxed);
        if let Some(media) = self.media.take() {
            let _ = media.join();
        }
    }
}

impl Drop for NativeClient {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Sends queued control messages and logs what the host says.
async fn control_task(
    mut send: quinn::SendStream,
    mut reader: ControlReader,
    mut commands: tokio::sync::mpsc::UnboundedReceiver<Message>,
) {
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                Some(m) => if control_io::send(&mut send, &m).await.is_err() { return },
                None => return,
            },
            incoming = reader.next() => match incoming {
                Ok(Some(m)) => tracing::debug!(?m, "host says"),
                Ok(None) | Err(_) => return,
            },
        }
    }
}

struct MediaThread {
    media_in: Receiver<MediaDatagram>,
    host: SocketAddr,
    receiver: MediaReceiver,
    audio_receiver: MediaReceiver,
    events: SyncSender<ClientEvent>,
    audio: SyncSender<AudioPacket>,
    commands: UnboundedSender<Message>,
    stop: Arc<AtomicBool>,
    stats: Arc<ClientStats>,
    clock_origin_unix_ns: u64,
}

impl MediaThread {
    fn run(mut self) {
        let mut last_keyframe_request: Option<Instant> = None;
        let mut awaiting_keyframe = false;
        let mut window = (Instant::now(), 1u64, MediaCounters::default());
        let mut rng = 0x2545_F491_4F6C_DD1Du64;
        while !self.stop.load(Ordering::Relaxed) {
            let wait = self
                .receiver
                .poll_timeout()
                .map_or(Duration::from_millis(50), |t| {
                    t.saturating_duration_since(Instant::now())
                })
                .clamp(Duration::from_millis(1), Duration::from_millis(50));
            let mut idle = false;
            match self.media_in.recv_timeout(wait) {
                Ok(mut d) if d.from == self.host => {
                    let loss = self.stats.loss_per_mille.load(Ordering::Relaxed);
                    if loss > 0 {
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        if rng % 1000 < loss {
                            self.stats
                                .packets_dropped_on_purpose
                                .fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                    }
                    if stream_of(&d.bytes) == Some(stream::AUDIO) {
                        self.audio_receiver
                            .handle_datagram(&mut d.bytes, Instant::now());
                        self.drain_audio();
                        continue;
                    }
                    self.receiver.handle_datagram(&mut d.bytes, Instant::now());
                }
                Ok(_) => {} // media from an address that is not our host
                Err(RecvTimeoutError::Timeout) => {
                    idle = true;
                    self.receiver.handle_timeout(Instant::now());
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
            let mut produced = false;
            while let Some(event) = self.receiver.poll_event() {
                produced = true;
                let event = match event {
                    Event::Frame(frame) => {
                        if frame.keyframe {
                            awaiting_keyframe = false;
                        }
                        let latency = self.latency_of(frame.pts_us);
                        ClientEvent::Frame { frame, latency }
                    }
                    Event::Lost { first, count } => {
                        awaiting_keyframe = true;
                        ClientEvent::Lost { first, count }
                    }
                };
                if self.events.try_send(event).is_err() {
                    self.stats.events_dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
            // After a loss the picture stays broken until a keyframe: keep asking, at most
            // once per interval, until one arrives (a request or its answer may be lost too).
            let due =
                last_keyframe_request.is_none_or(|t| t.elapsed() >= KEYFRAME_REQUEST_INTERVAL);
            if awaiting_keyframe && due {
                last_keyframe_request = Some(Instant::now());
                self.stats
                    .keyframes_requested
                    .fetch_add(1, Ordering::Relaxed);
                let _ = self.commands.send(Message::KeyframeRequest);
            }
            // Publish the counters per frame or idle tick, not per packet (a lock each time).
            let report_due = window.0.elapsed() >= FEEDBACK_WINDOW;
            if !(produced || idle || report_due) {
                continue;
            }
            let counters = self.receiver.counters();
            *self.stats.counters.lock().expect("stats lock") = counters;
            *self.stats.audio_counters.lock().expect("stats lock") = self.audio_receiver.counters();
            if report_due {
                let _ = self
                    .commands
                    .send(Message::Feedback(feedback(window.1, &window.2, &counters)));
                window = (Instant::now(), window.1 + 1, counters);
            }
        }
    }

    /// Hands whole audio packets to the application; losses are counted, not reported (the
    /// decoder conceals a gap by sequence number).
    fn drain_audio(&mut self) {
        while let Some(event) = self.audio_receiver.poll_event() {
            if let Event::Frame(frame) = event {
                let packet = AudioPacket {
                    sequence: frame.index,
                    pts_us: frame.pts_us,
                    latency: self.latency_of(frame.pts_us),
                    opus: frame.data,
                };
                if self.audio.try_send(packet).is_err() {
                    self.stats.events_dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    fn latency_of(&self, pts_us: u64) -> Option<Duration> {
        let captured = self
            .clock_origin_unix_ns
            .checked_add(pts_us.checked_mul(1000)?)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_nanos() as u64;
        now.checked_sub(captured).map(Duration::from_nanos)
    }
}

/// The media stream a datagram claims to belong to (checked again when it is opened).
fn stream_of(datagram: &[u8]) -> Option<u8> {
    parse_clear_prefix(datagram).ok().map(|p| p.stream)
}

/// The loss report of one window: packets that never arrived, from the packet-number span.
fn feedback(window: u64, before: &MediaCounters, now: &MediaCounters) -> Feedback {
    let received = now.received.saturating_sub(before.received);
    let expected = now.expected.saturating_sub(before.expected);
    let missing = expected.saturating_sub(received);
    let loss_ppm = (missing * 1_000_000)
        .checked_div(expected)
        .unwrap_or(0)
        .min(1_000_000) as u32;
    Feedback {
        window,
        loss_ppm,
        packets_received: now.received,
        frames_lost: now.lost.saturating_sub(before.lost),
    }
}

/// A close reason in words, naming the registry's codes.
pub fn describe_close(reason: &quinn::ConnectionError) -> String {
    match reason {
        quinn::ConnectionError::ApplicationClosed(c) => {
            let code = c.error_code.into_inner();
            let name = match u32::try_from(code).unwrap_or(u32::MAX) {
                close::NO_ERROR => "closed",
                close::CLIENT_QUIT => "client quit",
                close::TOO_MANY_SESSIONS => "too many sessions",
                close::PROTOCOL_VIOLATION => "protocol violation",
                close::SETUP_FAILED => "setup failed",
                close::NOT_PAIRED => "not paired",
                close::PAIRING_NOT_ARMED => "no pairing window",
                close::PAIRING_WRONG_DEVICE => "pairing window bound to another device",
                close::PAIRING_RATE_LIMITED => "pairing rate-limited",
                close::PAIRING_DENIED => "pairing denied",
                close::BUSY => "busy",
                close::WIRE_VERSION => "wire version mismatch",
                _ => "closed",
            };
            format!(
                "{name} (code {code:#x}): {}",
                String::from_utf8_lossy(&c.reason)
            )
        }
        other => other.to_string(),
    }
}
