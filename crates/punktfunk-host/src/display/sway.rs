//! Sway (wlroots): headless outputs made over the sway IPC, captured with wlr-screencopy.
//!
//! `create_output` adds a `HEADLESS-n` output; `output NAME mode WxH@RHz pos X 0` gives it the
//! client's exact mode to the right of everything else. Sway ≥ 1.8 removes it again with
//! `unplug`. Older sway has no unplug, and wlroots 0.15 (sway 1.7) refuses to disable a headless
//! output at all ("Failed to commit output"), so there a released output is *parked*: switched
//! to a tiny 1 Hz mode far off the desktop, where the pointer cannot reach it, and reused by the
//! next create instead of piling up.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context};
use punktfunk_core::control::Mode;
use swayipc::Connection;

use super::{Capturer, Compositor, DisplayBackend, VirtualDisplay};

/// Parked outputs sit at this x: not adjacent to any desktop, so the pointer never wanders in.
pub const PARK_X: i32 = 1 << 20;
/// A parked output's mode: as cheap to keep as sway allows.
const PARK_MODE: &str = "640x480@1Hz";

pub struct SwayBackend {
    inner: Arc<Inner>,
}

struct Inner {
    wayland_display: PathBuf,
    version: (i32, i32, i32),
    /// One IPC conversation at a time: creating two outputs at once must not mix up their names.
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Disabled outputs of ours, to reuse where `unplug` does not exist.
    spare: Vec<String>,
}

fn ipc() -> anyhow::Result<Connection> {
    Connection::new().context("cannot reach sway's IPC socket (SWAYSOCK)")
}

/// Runs sway commands, failing with sway's own message when one fails.
fn run(conn: &mut Connection, command: &str) -> anyhow::Result<()> {
    for outcome in conn.run_command(command)? {
        outcome.with_context(|| format!("sway refused `{command}`"))?;
    }
    Ok(())
}

/// The sway `mode` argument for a mode: refresh in Hz with millihertz precision.
pub fn mode_argument(mode: Mode) -> String {
    format!(
        "{}x{}@{}.{:03}Hz",
        mode.width,
        mode.height,
        mode.refresh_millihz / 1000,
        mode.refresh_millihz % 1000
    )
}

/// The x where a new output goes: right of every active output.
pub fn right_edge(outputs: &[swayipc::Output], except: &str) -> i32 {
    outputs
        .iter()
        .filter(|o| o.active && o.name != except && o.rect.x < PARK_X)
        .map(|o| o.rect.x + o.rect.width)
        .max()
        .unwrap_or(0)
}

/// The Wayland socket of the session: `$WAYLAND_DISPLAY` (relative to `$XDG_RUNTIME_DIR`), else
/// `wayland-1` beside sway's IPC socket.
fn wayland_socket() -> anyhow::Result<PathBuf> {
    if let Some(display) = std::env::var_os("WAYLAND_DISPLAY").filter(|v| !v.is_empty()) {
        let display = PathBuf::from(display);
        if display.is_absolute() {
            return Ok(display);
        }
        let runtime = std::env::var_os("XDG_RUNTIME_DIR")
            .context("WAYLAND_DISPLAY is relative but XDG_RUNTIME_DIR is not set")?;
        return Ok(PathBuf::from(runtime).join(display));
    }
    let sock = std::env::var_os("SWAYSOCK")
        .context("set WAYLAND_DISPLAY to the sway session's Wayland socket")?;
    let guess = PathBuf::from(sock)
        .parent()
        .map(|d| d.join("wayland-1"))
        .filter(|p| p.exists())
        .context("set WAYLAND_DISPLAY to the sway session's Wayland socket")?;
    Ok(guess)
}

impl SwayBackend {
    pub fn connect() -> anyhow::Result<Self> {
        let mut conn = ipc()?;
        let v = conn.get_version()?;
        let wayland_display = wayland_socket()?;
        Ok(Self {
            inner: Arc::new(Inner {
                wayland_display,
                version: (v.major, v.minor, v.patch),
                state: Mutex::new(State::default()),
            }),
        })
    }

    fn can_unplug(&self) -> bool {
        self.inner.version >= (1, 8, 0)
    }
}

impl DisplayBackend for SwayBackend {
    fn compositor(&self) -> Compositor {
        Compositor::Sway
    }

    fn describe(&self) -> String {
        let outputs = ipc()
            .and_then(|mut c| Ok(c.get_outputs()?))
            .map(|o| {
                o.iter()
                    .map(|o| format!("{}{}", o.name, if o.active { "" } else { " (off)" }))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_else(|e| format!("outputs unknown: {e:#}"));
        let (a, b, c) = self.inner.version;
        format!(
            "sway {a}.{b}.{c}, Wayland socket {}, outputs: {outputs}, release by {}",
            self.inner.wayland_display.display(),
            if self.can_unplug() {
                "unplug"
            } else {
                "disable and reuse (sway < 1.8)"
            }
        )
    }

    fn create(&self, mode: Mode) -> anyhow::Result<Box<dyn VirtualDisplay>> {
        let mut state = self.inner.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut conn = ipc()?;
        let name = match state.spare.pop() {
            Some(name) => name,
            None => {
                let before: Vec<String> = conn.get_outputs()?.into_iter().map(|o| o.name).collect();
                run(&mut conn, "create_output")?;
                let after = conn.get_outputs()?;
                after
                    .into_iter()
                    .map(|o| o.name)
                    .find(|n| !before.contains(n))
                    .context("sway made no new output on create_output")?
            }
        };
        let mut made = SwayOutput {
            backend: self.inner.clone(),
            unplug: self.can_unplug(),
            name,
            mode,
        };
        // On failure the output goes back to the spares (or is unplugged) by Drop.
        made.apply(&mut conn, mode)?;
        tracing::info!(output = %made.name, %mode, "virtual output made");
        Ok(Box::new(made))
    }
}

pub struct SwayOutput {
    backend: Arc<Inner>,
    unplug: bool,
    name: String,
    mode: Mode,
}

impl SwayOutput {
    /// Enables the output at `mode` beside the others and checks sway took the mode exactly.
    fn apply(&mut self, conn: &mut Connection, mode: Mode) -> anyhow::Result<()> {
        let x = right_edge(&conn.get_outputs()?, &self.name);
        run(
            conn,
            &format!(
                "output {} enable mode {} pos {x} 0",
                self.name,
                mode_argument(mode)
            ),
        )?;
        let output = conn
            .get_outputs()?
            .into_iter()
            .find(|o| o.name == self.name)
            .with_context(|| format!("output {} vanished", self.name))?;
        let current = output.current_mode.context("the output has no mode")?;
        let got = Mode {
            width: current.width as u32,
            height: current.height as u32,
            refresh_millihz: current.refresh as u32,
        };
        if got != mode {
            bail!("sway set {} to {got} instead of {mode}", self.name);
        }
        self.mode = mode;
        Ok(())
    }
}

impl VirtualDisplay for SwayOutput {
    fn name(&self) -> &str {
        &self.name
    }

    fn mode(&self) -> Mode {
        self.mode
    }

    fn reconfigure(&mut self, mode: Mode) -> anyhow::Result<()> {
        let backend = self.backend.clone();
        let _state = backend.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut conn = ipc()?;
        self.apply(&mut conn, mode)
    }

    fn start_capture(&self) -> anyhow::Result<Box<dyn Capturer>> {
        Ok(Box::new(punktfunk_capture::OutputCapture::start(
            punktfunk_capture::CaptureConfig {
                wayland_display: self.backend.wayland_display.clone(),
                output_name: self.name.clone(),
                // Frames only when the desktop changes; the host repeats the last one.
                with_damage: true,
                overlay_cursor: true,
            },
        )?))
    }
}

impl SwayOutput {
    /// Takes the output off the desktop: unplug where sway can, else disable, else park.
    fn release(&self, conn: &mut Connection) -> anyhow::Result<&'static str> {
        if self.unplug {
            run(conn, &format!("output {} unplug", self.name))?;
            return Ok("unplugged");
        }
        // Sway answers success even when wlroots refused the commit: look at the result.
        run(conn, &format!("output {} disable", self.name))?;
        let still_active = conn
            .get_outputs()?
            .iter()
            .any(|o| o.name == self.name && o.active);
        if !still_active {
            return Ok("disabled");
        }
        // `enable` again: sway merges this into the stored `disable`, which would fail once more.
        run(
            conn,
            &format!(
                "output {} enable mode {PARK_MODE} pos {PARK_X} 0",
                self.name
            ),
        )?;
        let parked = conn
            .get_outputs()?
            .iter()
            .any(|o| o.name == self.name && o.rect.x >= PARK_X);
        if !parked {
            bail!("sway neither disabled nor moved the output");
        }
        Ok("parked (this sway can neither unplug nor disable headless outputs)")
    }
}

impl Drop for SwayOutput {
    fn drop(&mut self) {
        let mut state = self.backend.state.lock().unwrap_or_else(|e| e.into_inner());
        match ipc().and_then(|mut c| self.release(&mut c)) {
            Ok(how) => {
                tracing::info!(output = %self.name, how, "virtual output released");
                if !self.unplug {
                    state.spare.push(self.name.clone());
                }
            }
            Err(e) => tracing::warn!(output = %self.name, "cannot release the output: {e:#}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_spelled_for_sway_exactly() {
        assert_eq!(
            mode_argument(Mode::new(1920, 1080, 120)),
            "1920x1080@120.000Hz"
        );
        let ntsc = Mode {
            width: 1280,
            height: 720,
            refresh_millihz: 59_940,
        };
        assert_eq!(mode_argument(ntsc), "1280x720@59.940Hz");
    }
}
