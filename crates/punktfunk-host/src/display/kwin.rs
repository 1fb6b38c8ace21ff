//! KDE's KWin: a virtual output per client through `zkde_screencast_unstable_v1`
//! (`stream_virtual_output`), read from the PipeWire stream KWin announces. The host's binary
//! must be authorised for that protocol (a `.desktop` file with
//! `X-KDE-Wayland-Interfaces=zkde_screencast_unstable_v1`). KWin 5.27 makes such outputs only on
//! its DRM and nested-Wayland backends, so a GPU-less headless KWin answers "Could not find
//! output"; the error says so.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use punktfunk_capture::kwin::KwinVirtualOutput;
use punktfunk_core::control::Mode;
use punktfunk_pipewire::{StreamConfig, VideoStream};

use super::{Capturer, Compositor, DisplayBackend, Frame, VirtualDisplay};

pub struct KwinBackend {
    wayland_display: PathBuf,
}

/// The session's Wayland socket from `WAYLAND_DISPLAY` (relative to `XDG_RUNTIME_DIR`).
pub fn wayland_socket(display: Option<&str>, runtime_dir: Option<&str>) -> anyhow::Result<PathBuf> {
    let display = display
        .filter(|d| !d.is_empty())
        .context("WAYLAND_DISPLAY is not set: run the host inside the KDE session")?;
    let path = PathBuf::from(display);
    if path.is_absolute() {
        return Ok(path);
    }
    let runtime = runtime_dir
        .filter(|d| !d.is_empty())
        .context("WAYLAND_DISPLAY is relative but XDG_RUNTIME_DIR is not set")?;
    Ok(PathBuf::from(runtime).join(path))
}

impl KwinBackend {
    pub fn connect() -> anyhow::Result<Self> {
        let wayland_display = wayland_socket(
            std::env::var("WAYLAND_DISPLAY").ok().as_deref(),
            std::env::var("XDG_RUNTIME_DIR").ok().as_deref(),
        )?;
        Ok(Self { wayland_display })
    }
}

impl DisplayBackend for KwinBackend {
    fn compositor(&self) -> Compositor {
        Compositor::Kwin
    }

    fn describe(&self) -> String {
        format!(
            "kwin (zkde_screencast virtual outputs over PipeWire), Wayland socket {}",
            self.wayland_display.display()
        )
    }

    fn create(&self, mode: Mode) -> anyhow::Result<Box<dyn VirtualDisplay>> {
        let name = format!("punktfunk-{}x{}", mode.width, mode.height);
        let output =
            KwinVirtualOutput::create(&self.wayland_display, &name, mode.width, mode.height)?;
        let stream = VideoStream::start(StreamConfig {
            node_id: output.node_id(),
            fd: None,
            width: mode.width,
            height: mode.height,
            refresh_millihz: mode.refresh_millihz,
            fixed_size: false,
        })?;
        tracing::info!(output = %name, node = output.node_id(), %mode, "KWin virtual output made");
        Ok(Box::new(KwinOutput {
            stream: Arc::new(stream),
            _output: output,
            name,
            mode,
        }))
    }
}

/// Field order is drop order: stop reading before closing the virtual output.
pub struct KwinOutput {
    stream: Arc<VideoStream>,
    _output: KwinVirtualOutput,
    name: String,
    mode: Mode,
}

impl VirtualDisplay for KwinOutput {
    fn name(&self) -> &str {
        &self.name
    }

    fn mode(&self) -> Mode {
        self.mode
    }

    fn reconfigure(&mut self, mode: Mode) -> anyhow::Result<()> {
        anyhow::bail!(
            "KWin virtual outputs keep the size they were made with; reconnect at {mode} instead"
        )
    }

    fn start_capture(&self) -> anyhow::Result<Box<dyn Capturer>> {
        Ok(Box::new(StreamFrames(self.stream.clone())))
    }
}

/// Frames of a PipeWire stream another object owns.
pub struct StreamFrames(pub Arc<VideoStream>);

impl Capturer for StreamFrames {
    fn next_frame(&self, after: u64, timeout: Duration) -> anyhow::Result<Option<Frame>> {
        Ok(self.0.next_frame(after, timeout)?.map(Frame::PipeWire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wayland_socket_follows_the_session() {
        assert_eq!(
            wayland_socket(Some("wayland-0"), Some("/run/user/1000")).unwrap(),
            PathBuf::from("/run/user/1000/wayland-0")
        );
        assert_eq!(
            wayland_socket(Some("/tmp/w"), None).unwrap(),
            PathBuf::from("/tmp/w")
        );
        assert!(wayland_socket(None, Some("/run"))
            .unwrap_err()
            .to_string()
            .contains("WAYLAND_DISPLAY"));
        assert!(wayland_socket(Some("w"), None)
            .unwrap_err()
            .to_string()
            .contains("XDG_RUNTIME_DIR"));
    }
}
