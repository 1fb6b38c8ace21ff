//! Virtual outputs on KWin (Plasma ≥ 5.25) through `zkde_screencast_unstable_v1`.
//!
//! KWin makes the output and streams it into a PipeWire node; this module
//! owns only the Wayland side, on its own thread, so the stream (and with it
//! the output) lives exactly as long as a [`KwinVirtualOutput`].
//!
//! KWin advertises the protocol only to authorised clients: either KWin runs
//! with `KWIN_WAYLAND_NO_PERMISSION_CHECKS=1`, or an installed `.desktop` file
//! whose `Exec` is this executable lists `zkde_screencast_unstable_v1` in
//! `X-KDE-Wayland-Interfaces`.
//!
//! KWin 5.27 makes virtual outputs properly only on its DRM backend; its
//! virtual (headless) backend answers `failed` (see `tests/kwin.rs`).

mod protocol;
mod stream;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long [`KwinVirtualOutput::create`] waits for KWin's PipeWire node.
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a virtual output could not be made.
#[derive(Debug, Clone, thiserror::Error)]
pub enum VirtualOutputError {
    #[error("invalid virtual output request: {0}")]
    InvalidRequest(String),
    #[error("cannot connect to the Wayland socket {}: {source}", path.display())]
    Connect {
        path: PathBuf,
        #[source]
        source: Arc<std::io::Error>,
    },
    #[error(
        "the compositor does not offer zkde_screencast_unstable_v1 to this client: it is not \
         KWin, or KWin did not authorise this executable (run KWin with \
         KWIN_WAYLAND_NO_PERMISSION_CHECKS=1, or install a .desktop file whose Exec is this \
         executable with X-KDE-Wayland-Interfaces=zkde_screencast_unstable_v1)"
    )]
    NotOffered,
    #[error("zkde_screencast_unstable_v1 version {version} has no virtual outputs (needs 2, Plasma 5.25)")]
    TooOld { version: u32 },
    #[error("KWin refused the virtual output: {0}")]
    Failed(String),
    #[error("KWin closed the stream before announcing its PipeWire node")]
    ClosedEarly,
    #[error("KWin announced no PipeWire node within {0:?}")]
    Timeout(Duration),
    #[error("lost the Wayland connection to KWin: {0}")]
    Connection(String),
}

/// A virtual output on the running KWin, made with
/// `zkde_screencast_unstable_v1.stream_virtual_output`. Dropping it closes
/// the stream, and KWin removes the output.
pub struct KwinVirtualOutput {
    node_id: u32,
    name: String,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// Flags between a [`KwinVirtualOutput`] and its thread.
#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    /// KWin ended the stream on its own (`closed` event or lost connection).
    ended: AtomicBool,
}

impl KwinVirtualOutput {
    /// Asks the KWin listening on `wayland_display` (full socket path) for a
    /// `width`×`height` output at scale 1, and waits for its PipeWire node.
    ///
    /// Errors are [`VirtualOutputError`]s inside the `anyhow::Error`.
    pub fn create(
        wayland_display: &Path,
        name: &str,
        width: u32,
        height: u32,
    ) -> anyhow::Result<Self> {
        let request = stream::Request::new(name, width, height)?;
        let shared = Arc::new(Shared::default());
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name(format!("kwin output {name}"))
            .spawn({
                let shared = shared.clone();
                let display = wayland_display.to_owned();
                move || stream::run(&display, &request, &shared, ready_tx)
            })?;
        // The thread keeps its own deadline; the margin covers connecting.
        match ready_rx.recv_timeout(SETUP_TIMEOUT + Duration::from_secs(2)) {
            Ok(Ok(node_id)) => Ok(Self {
                node_id,
                name: name.to_owned(),
                shared,
                thread: Some(thread),
            }),
            Ok(Err(err)) => {
                let _ = thread.join();
                Err(err.into())
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // Stuck in the first roundtrip; it exits once KWin answers or hangs up.
                shared.stop.store(true, Ordering::Relaxed);
                Err(VirtualOutputError::Timeout(SETUP_TIMEOUT).into())
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let _ = thread.join();
                anyhow::bail!("virtual output thread exited during setup")
            }
        }
    }

    /// The PipeWire node id KWin announced (the stream's `created` event).
    pub fn node_id(&self) -> u32 {
        self.node_id
    }

    /// The name it was created with (KWin may decorate it for the output).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether KWin has ended the stream (and so removed the output) by itself.
    pub fn is_ended(&self) -> bool {
        self.shared.ended.load(Ordering::Relaxed)
    }
}

impl Drop for KwinVirtualOutput {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for KwinVirtualOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KwinVirtualOutput")
            .field("name", &self.name)
            .field("node_id", &self.node_id)
            .field("ended", &self.is_ended())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_output_can_move_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<KwinVirtualOutput>();
        send_sync::<VirtualOutputError>();
    }

    #[test]
    fn missing_socket_is_a_connect_error() {
        let path = std::env::temp_dir().join("punktfunk-no-such-kwin-socket");
        let err = KwinVirtualOutput::create(&path, "x", 640, 480).unwrap_err();
        assert!(
            matches!(
                err.downcast_ref::<VirtualOutputError>(),
                Some(VirtualOutputError::Connect { .. })
            ),
            "{err:#}"
        );
    }

    #[test]
    fn invalid_request_fails_before_connecting() {
        let path = Path::new("/nonexistent");
        for (name, w, h) in [("", 640, 480), ("a\0b", 640, 480), ("x", 0, 480)] {
            let err = KwinVirtualOutput::create(path, name, w, h).unwrap_err();
            assert!(
                matches!(
                    err.downcast_ref::<VirtualOutputError>(),
                    Some(VirtualOutputError::InvalidRequest(_))
                ),
                "{name:?} {w}x{h}: {err:#}"
            );
        }
    }
}
