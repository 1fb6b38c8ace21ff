//! `punktfunk-host serve`: identities, trust, the native plane, the ctl socket and mDNS in one
//! process.

use std::sync::Arc;

use clap::Args;
use punktfunk_net::identity::{Identity, KeyKind};
use punktfunk_net::store::config_dir;

use crate::ctl::{self, HostContext};
use crate::native::{Listener, NativeArgs};
use crate::trust::Trust;

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub native: NativeArgs,
    /// Trust on first use: pin any new client at its first connection instead of requiring
    /// PIN pairing (for trusted networks; advertised as `pair=optional`).
    #[arg(long)]
    pub open: bool,
    /// Do not advertise the host over mDNS.
    #[arg(long)]
    pub no_mdns: bool,
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
    let ctl_listener = ctl::bind(&dir)?;
    // Identities live in the config dir, so clients can pin their fingerprints.
    let identity = Identity::load_or_create(&dir.join("native-identity"), "punktfunk-host")?;
    let gamestream = tokio::task::spawn_blocking({
        let dir = dir.join("gamestream-identity");
        move || Identity::load_or_create_kind(&dir, "punktfunk", KeyKind::Rsa2048)
    })
    .await??;
    let trust = Arc::new(Trust::load(&dir, args.open)?);
    let mut native = args.native.clone();
    let display = resolve_source(&mut native)?;
    let listener = Listener::bind(native, &identity, trust.clone(), display)?;
    let fingerprint = identity.fingerprint().to_string();
    // Scripts and tests read the port from this line.
    println!(
        "listening {} fingerprint {fingerprint}",
        listener.local_addr
    );
    tracing::info!(config_dir = %dir.display(), gamestream_fingerprint = %gamestream.fingerprint(),
        pairing = if args.open { "open (trust on first use)" } else { "PIN required" }, "host up");

    let host = Arc::new(HostContext {
        trust,
        native: listener.plane(),
        native_addr: listener.local_addr,
        gamestream_fingerprint: gamestream.fingerprint().to_string(),
    });
    if let Some(displays) = listener.plane().displays.clone() {
        tokio::spawn(displays.run_linger_timer());
    }
    tokio::spawn(ctl::serve(ctl_listener, host));
    let _advertisement = if args.no_mdns {
        None
    } else {
        // Discovery is a convenience: a network without multicast still serves.
        crate::discovery::advertise(&fingerprint, args.open, listener.local_addr.port(), None)
            .inspect_err(|e| tracing::warn!("mDNS advertisement failed: {e:#}"))
            .ok()
    };
    let result = listener.serve().await;
    let _ = std::fs::remove_file(dir.join(ctl::SOCKET));
    result
}
