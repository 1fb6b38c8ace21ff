//! The native plane: punktfunk/1 over QUIC, media on the same UDP port.
//!
//! One tokio runtime runs the control plane (accept, handshake, control messages); each session's
//! per-frame path (source → packetize/FEC/seal → send) runs on a native thread of its own.

pub(crate) mod media;
mod media_routes;
mod pairing;
pub mod registry;
pub(crate) mod session;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use punktfunk_core::pairing::Fingerprint;
use punktfunk_core::wire::ports;
use punktfunk_net::endpoint::{bind, MediaOut};
use punktfunk_net::identity::Identity;
use punktfunk_net::tls::{idle_and_keep_alive, server_config};

use crate::display::DisplayBackend;
use crate::lifecycle::displays::Displays;
use crate::lifecycle::registry::Rules;
use crate::source::SourceKind;
use crate::trust::Trust;
use registry::Registry;

#[derive(Debug, Clone, clap::Args)]
pub struct NativeArgs {
    #[command(flatten)]
    pub input: crate::input::InputArgs,
    /// UDP port of the native plane (QUIC and media).
    #[arg(long, default_value_t = ports::NATIVE_UDP, env = "PUNKTFUNK_NATIVE_PORT")]
    pub native_port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0", env = "PUNKTFUNK_NATIVE_BIND")]
    pub native_bind: std::net::IpAddr,
    /// Where frames come from: a virtual display on the compositor, the encoded test picture,
    /// or synthetic access units; `auto` takes the compositor when one is found.
    #[arg(long, value_enum, default_value = "auto", env = "PUNKTFUNK_SOURCE")]
    pub source: SourceKind,
    /// The compositor to make virtual displays on (default: detected from the environment).
    #[arg(long, value_enum, env = "PUNKTFUNK_COMPOSITOR")]
    pub compositor: Option<crate::display::Compositor>,
    /// Most sessions at once; a client beyond is refused (close code 0x6D).
    #[arg(long, default_value_t = 4)]
    pub max_sessions: usize,
    /// Stop listening after this many seconds (default: run until killed).
    #[arg(long)]
    pub seconds: Option<f64>,
    /// A client silent this long is dropped (≥ 1000; keep-alives go out at a third of it).
    #[arg(long, default_value_t = 8000, env = "PUNKTFUNK_IDLE_TIMEOUT_MS")]
    pub idle_timeout_ms: u64,
    /// Starting FEC percentage (client loss reports move it within 5–50).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub fec_percent: u8,
    /// How long a dropped client's display is kept for it to come back to, ms (0: release at
    /// once). A deliberate quit always releases at once.
    #[arg(long, default_value_t = 10_000, env = "PUNKTFUNK_KEEP_ALIVE_MS")]
    pub keep_alive_ms: u64,
    /// What a client gets while another client's display is live: its own display
    /// (`separate`), the others' sessions ended (`steal`), the live display shared at its mode
    /// (`join`), or a refusal (`reject`, close code 0x42).
    #[arg(
        long,
        value_enum,
        default_value = "separate",
        env = "PUNKTFUNK_MODE_CONFLICT"
    )]
    pub mode_conflict: crate::lifecycle::registry::ConflictPolicy,
    /// Bitrate when the client leaves it to the host, kbit/s.
    #[arg(long, default_value_t = 20_000)]
    pub default_bitrate_kbps: u32,
}

/// What every session of the listener shares.
pub struct Plane {
    pub args: NativeArgs,
    pub media_out: MediaOut,
    pub active: AtomicUsize,
    pub trust: Arc<Trust>,
    /// The host certificate's fingerprint (the SPAKE2 identity of the host).
    pub fingerprint: Fingerprint,
    pub sessions: Arc<Registry>,
    /// Where `--source compositor` sessions get their displays.
    pub displays: Option<Arc<Displays>>,
    /// Desktop audio and the virtual microphone.
    pub audio: Arc<crate::audio::Audio>,
    /// Which session takes the media datagrams (microphone) arriving from each address.
    pub media_routes: Arc<media_routes::MediaRoutes>,
}

/// The bound native plane, ready to serve.
pub struct Listener {
    plane: Arc<Plane>,
    endpoint: quinn::Endpoint,
    socket: Arc<punktfunk_net::demux::DemuxSocket>,
    media_in: std::sync::mpsc::Receiver<punktfunk_net::demux::MediaDatagram>,
    pub local_addr: SocketAddr,
}

impl Listener {
    /// Binds the UDP port; call inside the tokio runtime.
    pub fn bind(
        args: NativeArgs,
        identity: &Identity,
        trust: Arc<Trust>,
        display: Option<Arc<dyn DisplayBackend>>,
        events: Arc<crate::mgmt::events::Events>,
        audio: Arc<crate::audio::Audio>,
    ) -> anyhow::Result<Self> {
        let displays = display.map(|backend| {
            Displays::new(
                backend,
                Rules {
                    keep_alive: Duration::from_millis(args.keep_alive_ms),
                    max_sessions: args.max_sessions,
                    policy: args.mode_conflict,
                },
                args.input.clone(),
            )
        });
        let idle = Duration::from_millis(args.idle_timeout_ms);
        let (idle, keep_alive) = idle_and_keep_alive(idle);
        let addr = SocketAddr::new(args.native_bind, args.native_port);
        let shared = bind(addr, Some(server_config(identity, idle)?))
            .with_context(|| format!("cannot listen on UDP {addr} (--native-port)"))?;
        let local_addr = shared.endpoint.local_addr()?;
        tracing::info!(%local_addr, idle_ms = idle.as_millis() as u64,
            keep_alive_ms = keep_alive.as_millis() as u64, max_sessions = args.max_sessions,
            source = ?args.source, open = trust.open, "native plane up");
        let plane = Arc::new(Plane {
            args,
            media_out: shared.media_out,
            active: AtomicUsize::new(0),
            trust,
            fingerprint: identity.fingerprint().0,
            sessions: Arc::new(Registry::new(events)),
            displays,
            audio,
            media_routes: Arc::default(),
        });
        Ok(Self {
            plane,
            endpoint: shared.endpoint,
            socket: shared.socket,
            media_in: shared.media_in,
            local_addr,
        })
    }

    pub fn plane(&self) -> Arc<Plane> {
        self.plane.clone()
    }

    /// Accepts clients until `--seconds` pass (or forever), then closes every connection.
    pub async fn serve(self) -> anyhow::Result<()> {
        // Media from clients (their microphones) goes to the session of its sender's address.
        let media_in = self.media_in;
        let routes = self.plane.media_routes.clone();
        std::thread::Builder::new()
            .name("media-in".into())
            .spawn(move || {
                while let Ok(d) = media_in.recv() {
                    routes.deliver(d.from, d.bytes);
                }
            })?;
        let endpoint = self.endpoint;
        let plane = self.plane;
        let accept = async {
            while let Some(incoming) = endpoint.accept().await {
                let plane = plane.clone();
                tokio::spawn(async move {
                    match incoming.await {
                        Ok(conn) => session::run(plane, conn).await,
                        Err(e) => tracing::info!("handshake failed: {e}"),
                    }
                });
            }
        };
        match plane.args.seconds {
            Some(s) => {
                let _ = tokio::time::timeout(Duration::from_secs_f64(s), accept).await;
            }
            None => accept.await,
        }
        endpoint.close(
            punktfunk_core::wire::close::NO_ERROR.into(),
            b"host shutting down",
        );
        endpoint.wait_idle().await;
        tracing::info!(
            sessions_left = plane.active.load(Ordering::Relaxed),
            // Media that arrived with nobody to take it: the demux queue was full, or no
            // session knew the sender (or its queue was full).
            media_dropped = self.socket.media_dropped.load(Ordering::Relaxed),
            routes_dropped = plane.media_routes.dropped.load(Ordering::Relaxed),
            "native plane down"
        );
        Ok(())
    }
}
