//! Virtual displays on the running compositor: one output per client at exactly its mode.
//!
//! A [`DisplayBackend`] makes [`VirtualDisplay`]s; each names the Wayland socket and output a
//! capturer reads. Backends are chosen from the environment ([`detect`]) or `--compositor`.

pub mod detect;
pub mod sway;

use std::path::PathBuf;
use std::sync::Arc;

use punktfunk_core::control::Mode;

pub use detect::Compositor;

/// Where a display's pixels can be captured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureTarget {
    /// A wlroots output, read with wlr-screencopy through this Wayland socket.
    WlrOutput {
        wayland_display: PathBuf,
        output: String,
    },
}

/// One client's output on the compositor. Dropping it releases the output.
pub trait VirtualDisplay: Send {
    /// The compositor's name for it (e.g. `HEADLESS-2`).
    fn name(&self) -> &str;
    fn mode(&self) -> Mode;
    /// Switches the output to another mode.
    fn reconfigure(&mut self, mode: Mode) -> anyhow::Result<()>;
    fn capture_target(&self) -> CaptureTarget;
}

/// Makes virtual displays on one compositor.
pub trait DisplayBackend: Send + Sync {
    fn compositor(&self) -> Compositor;
    /// A new output at exactly `mode`, placed beside the outputs already there.
    fn create(&self, mode: Mode) -> anyhow::Result<Box<dyn VirtualDisplay>>;
    /// A line for logs and `probe-compositor`: version, outputs, capabilities.
    fn describe(&self) -> String;
}

/// The backend for the compositor the environment (or `--compositor`) names.
pub fn backend(override_: Option<Compositor>) -> anyhow::Result<Arc<dyn DisplayBackend>> {
    let compositor = detect::detect(|k| std::env::var(k).ok(), override_)?;
    match compositor {
        Compositor::Sway => Ok(Arc::new(sway::SwayBackend::connect()?)),
        other => anyhow::bail!(
            "the {other} backend is not built yet (only sway is); stream the test picture with \
             --source virtual"
        ),
    }
}
