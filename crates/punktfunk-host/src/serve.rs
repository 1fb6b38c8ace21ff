//! `punktfunk-host serve`: identities, trust, the native plane, the ctl socket and mDNS in one
//! process.

use std::sync::Arc;

use clap::Args;
use punktfunk_net::identity::{Identity, KeyKind};
use punktfunk_net::store::config_dir;

use crate::mgmt::{self, events::Events};
use crate::native::{Listener, NativeArgs};
use crate::trust::Trust;

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub native: NativeArgs,
    #[command(flatten)]
    pub gamestream: crate::gamestream::GameStreamArgs,
    #[command(flatten)]
    pub audio: crate::audio::AudioArgs,
    /// Trust on first use: pin any new client at its first connection instead of requiring
    /// PIN pairing (for trusted networks; advertised as `pair=optional`).
    #[arg(long)]
    pub open: bool,
    /// Do not advertise the host over mDNS.
    #[arg(long)]
    pub no_mdns: bool,
    /// Where the management API listens (HTTPS; the admin token works from loopback only).
    #[arg(long, default_value = "0.0.0.0:47990", env = "PUNKTFUNK_MGMT_BIND")]
    pub mgmt_bind: std::net::SocketAddr,
    /// Where the web console listens (HTTPS).
    #[arg(long, default_value = "0.0.0.0:47992", env = "PUNKTFUNK_CONSOLE_BIND")]
    pub console_bind: std::net::SocketAddr,
}

/// `host.lock` in the config dir: one host per config dir.
fn lock_config_dir(dir: &std::path::Path) -> anyhow::Result<std::fs::File> {
    let path = dir.join("host.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(_) => anyhow::bail!(
            "another punktfunk-host runs with the config dir {} (it holds {}); stop it or give \
             this one its own PUNKTFUNK_CONFIG_DIR",
            dir.display(),
            path.display()
        ),
    }
}

/// Settles `auto` and connects to the compositor when sessions will need it.
fn resolve_source(
    args: &mut crate::native::NativeArgs,
) -> anyhow::Result<Option<Arc<dyn crate::display::DisplayBackend>>> {
    use crate::source::SourceKind;
    let found = match args.source {
        SourceKind::Virtual | SourceKind::Synthetic => return Ok(None),
        SourceKind::Compositor => crate::display::backend(args.compositor)?,
        SourceKind::Auto => match crate::display::backend(args.compositor) {
            Ok(backend) => backend,
            Err(e) => {
                tracing::warn!("{e:#}; streaming the test picture instead");
                args.source = SourceKind::Virtual;
                return Ok(None);
            }
        },
    };
    args.source = SourceKind::Compositor;
    tracing::info!(compositor = %found.compositor(), "{}", found.describe());
    Ok(Some(found))
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("punktfunk-control")
        .build()?;
    runtime.block_on(serve(args))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let dir = config_dir("punktfunk", "PUNKTFUNK_CONFIG_DIR")?;
    punktfunk_net::store::ensure_private_dir(&dir)?;
    // Refuse early when another host owns this config dir.
    let _lock = lock_config_dir(&dir)?;
    let events = Arc::new(Events::default());
    // Identities live in the config dir, so clients can pin their fingerprints.
    let identity = Identity::load_or_create(&dir.join("native-identity"), "punktfunk-host")?;
    let gamestream = tokio::task::spawn_blocking({
        let dir = dir.join("gamestream-identity");
        move || Identity::load_or_create_kind(&dir, "punktfunk", KeyKind::Rsa2048)
    })
    .await??;
    let trust = Arc::new(Trust::load(&dir, args.open, events.clone())?);
    let mut native = args.native.clone();
    let display = resolve_source(&mut native)?;
    let compositor = display.as_ref().map(|d| d.describe());
    let audio = crate::audio::Audio::new(&args.audio, display.is_some());
    let listener = Listener::bind(
        native.clone(),
        &identity,
        trust.clone(),
        display,
        events.clone(),
        audio.clone(),
    )?;
    let gamestream_plane = if args.gamestream.gamestream {
        Some(
            crate::gamestream::GameStream::start(
                args.gamestream.clone(),
                gamestream.clone(),
                trust.clone(),
                listener.plane().displays.clone(),
                audio.clone(),
            )
            .await?,
        )
    } else {
        None
    };
    let bound = mgmt::Bound::bind(args.mgmt_bind, args.console_bind).await?;
    let (mgmt_addr, console_addr) = (bound.mgmt.local_addr()?, bound.console.local_addr()?);
    let fingerprint = identity.fingerprint().to_string();
    let admin_token = mgmt::auth::load_or_create_token(&dir)?;
    if let Some(password) = mgmt::auth::ensure_password(&dir)? {
        tracing::warn!(
            "web console password (shown once; `punktfunk-host web password` makes a new one): {password}"
        );
    }
    // `ctl` finds the management port here.
    let loopback = std::net::SocketAddr::new(
        if mgmt_addr.ip().is_unspecified() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            mgmt_addr.ip()
        },
        mgmt_addr.port(),
    );
    punktfunk_net::store::write_private(
        &dir.join(mgmt::RUNTIME_FILE),
        serde_json::json!({ "mgmt": loopback.to_string(), "pid": std::process::id() })
            .to_string()
            .as_bytes(),
    )?;
    // Scripts and tests read the ports from these lines (printed once the token and the
    // runtime file exist, so whoever reads them can use `ctl` at once).
    println!(
        "listening {} fingerprint {fingerprint}",
        listener.local_addr
    );
    println!("management https://{mgmt_addr} console https://{console_addr}");
    tracing::info!(config_dir = %dir.display(), gamestream_fingerprint = %gamestream.fingerprint(),
        pairing = if args.open { "open (trust on first use)" } else { "PIN required" }, "host up");

    let config = serde_json::json!({
        "config_dir": dir.display().to_string(),
        "native_bind": native.native_bind.to_string(),
        "native_port": listener.local_addr.port(),
        "source": format!("{:?}", native.source).to_lowercase(),
        "compositor": compositor,
        "max_sessions": native.max_sessions,
        "keep_alive_ms": native.keep_alive_ms,
        "mode_conflict": native.mode_conflict,
        "idle_timeout_ms": native.idle_timeout_ms,
        "fec_percent": native.fec_percent,
        "default_bitrate_kbps": native.default_bitrate_kbps,
        "audio": format!("{:?}", audio.source).to_lowercase(),
        "mic": audio.mic_enabled,
        "pairing": if args.open { "optional" } else { "required" },
        "mdns": !args.no_mdns,
        "mgmt_bind": mgmt_addr.to_string(),
        "console_bind": console_addr.to_string(),
        "gamestream": gamestream_plane.as_ref().map(|g| serde_json::json!({
            "http_port": g.ports.http,
            "https_port": g.ports.https,
            "rtsp_port": g.ports.rtsp,
            "fec_percent": g.args.gamestream_fec_percent,
        })),
    });
    let state = Arc::new(mgmt::HostState {
        trust,
        native: listener.plane(),
        events,
        native_addr: listener.local_addr,
        gamestream_fingerprint: gamestream.fingerprint().to_string(),
        gamestream: gamestream_plane.clone(),
        compositor,
        config_dir: dir.clone(),
        config,
        admin_token,
        console: Default::default(),
        login_throttle: Default::default(),
    });
    if let Some(displays) = listener.plane().displays.clone() {
        tokio::spawn(displays.run_linger_timer());
    }
    mgmt::serve(
        bound,
        punktfunk_net::tls::https_server_config(&identity)?,
        state,
    )
    .await?;
    let _advertisement = if args.no_mdns {
        None
    } else {
        // Discovery is a convenience: a network without multicast still serves.
        crate::discovery::advertise(
            &fingerprint,
            args.open,
            listener.local_addr.port(),
            Some(mgmt_addr.port()),
            gamestream_plane.as_ref().map(|g| g.ports.http),
        )
        .inspect_err(|e| tracing::warn!("mDNS advertisement failed: {e:#}"))
        .ok()
    };
    let result = listener.serve().await;
    let _ = std::fs::remove_file(dir.join(mgmt::RUNTIME_FILE));
    result
}
