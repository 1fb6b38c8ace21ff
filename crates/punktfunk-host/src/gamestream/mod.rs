//! The GameStream plane: what stock Moonlight clients speak. Off unless `serve --gamestream`.
//!
//! - [`http`]: nvhttp on the HTTP port and, with client certificates, on the HTTPS port;
//! - [`pins`]: pairing attempts waiting for the PIN the user hands in through `ctl pin` or the
//!   management API (never through an nvhttp route);
//! - [`rtsp`]: the RTSP handshake on TCP;
//! - [`control`]: the ENet control stream (encrypted control messages, input, termination);
//! - [`media`]: the per-stream video and audio threads;
//! - [`input`]: where decoded input goes (a logging sink until the input issue lands).
//!
//! The protocol itself (pairing crypto, XML, RTSP, packets, FEC) is the sans-IO
//! `punktfunk-gamestream` crate; this module is the sockets, threads and state around it.

mod control;
mod http;
mod input;
mod media;
pub mod pins;
mod rtsp;
mod session;

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use punktfunk_gamestream::pairing::HostKeys;
use punktfunk_gamestream::wire::{codec_mode, Ports, DEFAULT_BASE_PORT};
use punktfunk_net::identity::{Fingerprint, Identity};

use crate::trust::Trust;
pub use session::Session;

#[derive(Debug, Clone, clap::Args)]
pub struct GameStreamArgs {
    /// Serve stock Moonlight clients (GameStream: nvhttp, RTSP, ENet control, RTP media).
    #[arg(long)]
    pub gamestream: bool,
    /// GameStream's HTTP port; the others are fixed offsets from it (HTTPS −5, RTSP +21, video
    /// +9, control +10, audio +11), as Moonlight expects.
    #[arg(long, default_value_t = DEFAULT_BASE_PORT, env = "PUNKTFUNK_GAMESTREAM_PORT")]
    pub gamestream_port: u16,
    /// Address the GameStream ports listen on.
    #[arg(long, default_value = "0.0.0.0", env = "PUNKTFUNK_GAMESTREAM_BIND")]
    pub gamestream_bind: IpAddr,
    /// Video FEC percentage (parity shards per data shard), raised to what the client requires.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u8).range(0..=200))]
    pub gamestream_fec_percent: u8,
    /// How long a Moonlight pairing waits for its PIN, seconds.
    #[arg(long, default_value_t = 90)]
    pub gamestream_pin_timeout_s: u64,
    /// Testing: drop this percentage of video packets at random before they are sent.
    #[arg(long, default_value_t = 0.0, hide = true)]
    pub gamestream_drop_video_percent: f64,
}

/// What every GameStream request and stream shares.
pub struct GameStream {
    pub args: GameStreamArgs,
    pub ports: Ports,
    pub identity: Identity,
    pub keys: HostKeys,
    pub trust: Arc<Trust>,
    pub pins: pins::PinBoard,
    /// The host's stable GameStream id (`uniqueid`), derived from its certificate.
    pub unique_id: String,
    pub hostname: String,
    /// `ServerCodecModeSupport`: only what the encoders here really produce.
    pub codec_modes: u32,
    /// The running app and its stream, if any (GameStream runs one at a time).
    pub session: Mutex<Option<Arc<Session>>>,
    pub sockets: Sockets,
    pub control: control::ControlHandle,
    /// Where streams get their virtual display when the host streams the compositor (shared
    /// with the native plane, so linger, reuse and admission work across both).
    pub displays: Option<Arc<crate::lifecycle::displays::Displays>>,
    /// Where a stream's audio comes from (desktop audio, the test tone, or none).
    pub audio: Arc<crate::audio::Audio>,
}

/// The UDP sockets, bound once for the plane's lifetime.
pub struct Sockets {
    pub video: Arc<UdpSocket>,
    pub audio: Arc<UdpSocket>,
}

/// The codecs this host can encode, as GameStream codec-mode bits.
fn codec_modes() -> u32 {
    use punktfunk_core::control::Codec;
    let mut modes = 0;
    if punktfunk_video::encoder::available(Codec::H264) {
        modes |= codec_mode::H264;
    }
    if punktfunk_video::encoder::available(Codec::Hevc) {
        modes |= codec_mode::HEVC;
    }
    if punktfunk_video::encoder::available(Codec::Av1) {
        modes |= codec_mode::AV1_MAIN8;
    }
    modes
}

/// A stable 16-byte id in the UUID text form Moonlight shows, from the host certificate.
fn unique_id(identity: &Identity) -> String {
    let fp = identity.fingerprint().0;
    let h =
        |r: std::ops::Range<usize>| fp[r].iter().map(|b| format!("{b:02X}")).collect::<String>();
    format!(
        "{}-{}-{}-{}-{}",
        h(0..4),
        h(4..6),
        h(6..8),
        h(8..10),
        h(10..16)
    )
}

impl GameStream {
    /// Binds every GameStream port and starts the servers; fails with the port that was taken.
    pub async fn start(
        args: GameStreamArgs,
        identity: Identity,
        trust: Arc<Trust>,
        displays: Option<Arc<crate::lifecycle::displays::Displays>>,
        audio: Arc<crate::audio::Audio>,
    ) -> anyhow::Result<Arc<Self>> {
        let ports = Ports::from_base(args.gamestream_port).with_context(|| {
            format!(
                "--gamestream-port {} leaves no room for its offsets (−5 … +21)",
                args.gamestream_port
            )
        })?;
        let bind = |port: u16, what: &str| -> anyhow::Result<UdpSocket> {
            UdpSocket::bind(SocketAddr::new(args.gamestream_bind, port))
                .with_context(|| format!("cannot listen on UDP {port} (GameStream {what})"))
        };
        let sockets = Sockets {
            video: Arc::new(bind(ports.video, "video")?),
            audio: Arc::new(bind(ports.audio, "audio")?),
        };
        let control_socket = bind(ports.control, "control")?;
        let keys = HostKeys::from_der(identity.cert.as_ref(), identity.key().secret_der())
            .context("the GameStream identity cannot be used for pairing")?;
        let http = http::Listeners::bind(args.gamestream_bind, ports).await?;
        let rtsp = tokio::net::TcpListener::bind(SocketAddr::new(args.gamestream_bind, ports.rtsp))
            .await
            .with_context(|| format!("cannot listen on TCP {} (GameStream RTSP)", ports.rtsp))?;
        let (control, control_rx) = control::ControlHandle::new();
        let plane = Arc::new(Self {
            pins: pins::PinBoard::new(std::time::Duration::from_secs(
                args.gamestream_pin_timeout_s.max(1),
            )),
            args,
            ports,
            unique_id: unique_id(&identity),
            identity,
            keys,
            trust,
            hostname: crate::discovery::hostname(),
            codec_modes: codec_modes(),
            session: Mutex::new(None),
            sockets,
            control,
            displays,
            audio,
        });
        control::spawn(control_socket, plane.clone(), control_rx)?;
        media::spawn_ping_listeners(&plane)?;
        http.serve(plane.clone())?;
        tokio::spawn(rtsp::serve(rtsp, plane.clone()));
        tracing::info!(
            http = ports.http,
            https = ports.https,
            rtsp = ports.rtsp,
            video = ports.video,
            control = ports.control,
            audio = ports.audio,
            codecs = format!("{:#x}", plane.codec_modes),
            "GameStream plane up"
        );
        Ok(plane)
    }

    /// The running session, if any.
    pub fn current(&self) -> Option<Arc<Session>> {
        self.session
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether this certificate belongs to a paired GameStream client.
    pub fn is_paired(&self, fp: &Fingerprint) -> bool {
        self.trust
            .knows(&fp.0, crate::trust::devices::PlaneKind::Gamestream)
    }

    /// Ends the running app and its stream at once (Quit App, or the host going away).
    pub fn quit(&self) -> bool {
        let taken = self
            .session
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        match taken {
            Some(session) => {
                session.end_stream(&self.control, true);
                tracing::info!(app = session.app_id, "GameStream app quit");
                true
            }
            None => false,
        }
    }
}
