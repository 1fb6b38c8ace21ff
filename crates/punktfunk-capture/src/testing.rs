//! Throwaway headless compositors for tests and benchmarks (feature `testing`).
//!
//! Sway refuses to run as root, so when we are root it runs as `nobody` with
//! a private runtime directory; root can still use its sockets. KWin (in
//! [`HeadlessKwin`]) runs as whoever we are.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rustix::fs::{Gid, Uid};
use rustix::process::{kill_process, Pid, Signal};

mod kwin;
mod outputs;
mod procs;

pub use kwin::{HeadlessKwin, KwinBackend, KwinOptions};
pub use outputs::{list_outputs, OutputInfo};

const NOBODY: u32 = 65534;
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
const CONFIG: &str = "\
# Nothing may redraw on its own: damage tests rely on idle outputs.
xwayland disable
default_border none
focus_follows_mouse no
";

/// A running `sway` on the headless backend; killed (and its runtime
/// directory removed) on drop.
pub struct HeadlessSway {
    child: Child,
    dir: PathBuf,
    wayland_socket: PathBuf,
    ipc_socket: PathBuf,
}

impl HeadlessSway {
    /// Whether a `sway` binary is on `PATH`.
    pub fn is_installed() -> bool {
        find_in_path("sway").is_some()
    }

    /// Starts sway with one output, `HEADLESS-1`, and waits for its sockets.
    pub fn start() -> anyhow::Result<Self> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "punktfunk-sway-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let as_root = rustix::process::geteuid().is_root();
        if as_root {
            rustix::fs::chown(
                &dir,
                Some(Uid::from_raw(NOBODY)),
                Some(Gid::from_raw(NOBODY)),
            )
            .with_context(|| format!("chown nobody {}", dir.display()))?;
        }
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))?;
        let config = dir.join("sway.config");
        fs::write(&config, CONFIG)?;
        fs::set_permissions(&config, fs::Permissions::from_mode(0o644))?;
        let log_path = dir.join("sway.log");
        let log = fs::File::create(&log_path)?;

        let mut cmd = Command::new("sway");
        cmd.arg("-c")
            .arg(&config)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("XDG_RUNTIME_DIR", &dir)
            .env("HOME", &dir)
            .env("WLR_BACKENDS", "headless")
            .env("WLR_LIBINPUT_NO_DEVICES", "1")
            .env("WLR_RENDERER", "pixman")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        if as_root {
            // std also drops supplementary groups when switching away from root.
            cmd.uid(NOBODY).gid(NOBODY);
        }
        let child = cmd.spawn().context("spawning sway")?;
        let mut sway = Self {
            child,
            dir,
            wayland_socket: PathBuf::new(),
            ipc_socket: PathBuf::new(),
        };
        sway.wait_for_sockets().with_context(|| {
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(20).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            format!("sway did not come up; log tail:\n{}", tail.join("\n"))
        })?;
        Ok(sway)
    }

    fn wait_for_sockets(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("sway exited with {status}");
            }
            for entry in fs::read_dir(&self.dir)? {
                let path = entry?.path();
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                if name.starts_with("wayland-") && !name.ends_with(".lock") {
                    self.wayland_socket = path.clone();
                } else if name.starts_with("sway-ipc.") && name.ends_with(".sock") {
                    self.ipc_socket = path.clone();
                }
            }
            // The IPC socket comes after the Wayland one; once it answers, sway is up.
            if !self.ipc_socket.as_os_str().is_empty()
                && !self.wayland_socket.as_os_str().is_empty()
                && self.swaymsg(&["-t", "get_version"]).is_ok()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("no sockets after {STARTUP_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Full path of the Wayland socket, for `CaptureConfig::wayland_display`.
    pub fn wayland_socket(&self) -> &Path {
        &self.wayland_socket
    }

    /// Sway's IPC socket (`SWAYSOCK` for its clients).
    pub fn ipc_socket(&self) -> &Path {
        &self.ipc_socket
    }

    /// The environment a process needs to be a client of this sway.
    pub fn env(&self) -> Vec<(&'static str, &Path)> {
        vec![
            ("SWAYSOCK", self.ipc_socket.as_path()),
            ("WAYLAND_DISPLAY", self.wayland_socket.as_path()),
            ("XDG_RUNTIME_DIR", self.dir.as_path()),
        ]
    }

    /// `swaymsg -t get_outputs`, parsed.
    pub fn outputs(&self) -> anyhow::Result<Vec<serde_json::Value>> {
        let json: serde_json::Value =
            serde_json::from_str(&self.swaymsg(&["-r", "-t", "get_outputs"])?)?;
        Ok(json
            .as_array()
            .context("get_outputs: not an array")?
            .clone())
    }

    /// The runtime directory (`XDG_RUNTIME_DIR` of sway and its clients).
    pub fn runtime_dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `swaymsg ARGS…` against this sway and returns its stdout.
    pub fn swaymsg(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = Command::new("swaymsg")
            .args(args)
            .env("SWAYSOCK", &self.ipc_socket)
            .stdin(Stdio::null())
            .output()
            .context("running swaymsg")?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            bail!(
                "swaymsg {args:?} failed ({}): {stdout}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(stdout)
    }

    /// Names of the outputs sway knows, enabled or not.
    pub fn output_names(&self) -> anyhow::Result<Vec<String>> {
        Ok(self
            .outputs()?
            .iter()
            .filter_map(|o| o["name"].as_str().map(str::to_owned))
            .collect())
    }

    /// Adds a headless output with an exact mode at (`x`, `y`) and returns its name.
    pub fn create_output(
        &self,
        width: u32,
        height: u32,
        refresh_hz: u32,
        x: i32,
        y: i32,
    ) -> anyhow::Result<String> {
        let before = self.output_names()?;
        self.swaymsg(&["create_output"])?;
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let name = loop {
            if let Some(new) = self
                .output_names()?
                .into_iter()
                .find(|n| !before.contains(n))
            {
                break new;
            }
            if Instant::now() > deadline {
                bail!("create_output added no output");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.swaymsg(&[
            "output",
            &name,
            "mode",
            &format!("{width}x{height}@{refresh_hz}Hz"),
            "pos",
            &x.to_string(),
            &y.to_string(),
        ])?;
        Ok(name)
    }

    /// Runs a shell command as a sway client whose windows open on `output`.
    pub fn exec_on(&self, output: &str, command: &str) -> anyhow::Result<()> {
        self.swaymsg(&["focus", "output", output])?;
        self.swaymsg(&["exec", command])?;
        Ok(())
    }
}

impl Drop for HeadlessSway {
    fn drop(&mut self) {
        // SIGTERM first so sway disconnects its clients (foot, …) cleanly.
        if let Some(pid) = Pid::from_raw(self.child.id() as i32) {
            let _ = kill_process(pid, Signal::TERM);
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn find_in_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_else(|| vec!["/usr/bin".into(), "/bin".into()])
        .into_iter()
        .map(|dir| dir.join(program))
        .find(|path| {
            path.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}
