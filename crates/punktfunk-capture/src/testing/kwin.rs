//! A throwaway headless KWin with its own session bus and PipeWire, for
//! tests of KWin virtual outputs.
//!
//! KWin 5.27 makes virtual outputs only on its DRM and Wayland (nested)
//! backends, so besides the plain virtual backend this can nest a KWin
//! inside a virtual-backend KWin; see [`KwinBackend`].

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use anyhow::{bail, Context};

use super::outputs::{list_outputs, OutputInfo};
use super::procs::Session;

const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);
const TOOLS: [&str; 5] = [
    "kwin_wayland",
    "dbus-daemon",
    "pipewire",
    "wireplumber",
    "pw-dump",
];
/// `kwin_wayland` carries this file capability; see `needs_uncapped_copy`.
const CAP_SYS_RESOURCE: u32 = 24;
/// The one render node KWin 5.27's Wayland backend tries.
const RENDER_NODE: &str = "/dev/dri/renderD128";
/// Runs `"$@"` in a mount namespace (made by `unshare -m`) whose /dev is a
/// copy of the real one plus a `/dev/dri/renderD128` that is `/dev/null`.
/// Mesa's GBM can't find a driver for it and falls back to software, so
/// KWin gets a GBM device whose buffer allocations fail cleanly; without any
/// device it crashes in gbm_bo_create (KWin 5.27) when a stream starts.
const FAKE_RENDER_NODE: &str = r#"set -e
host="$XDG_RUNTIME_DIR/host-dev"
mkdir -p "$host"
mount --rbind /dev "$host"
mount -t tmpfs -o mode=755 dev /dev
for n in null zero full random urandom tty; do
    touch "/dev/$n"
    mount --bind "$host/$n" "/dev/$n"
done
mkdir /dev/pts /dev/shm /dev/dri
mount --rbind "$host/pts" /dev/pts
mount --rbind "$host/shm" /dev/shm
ln -s /proc/self/fd /dev/fd
touch /dev/dri/renderD128
mount --bind "$host/null" /dev/dri/renderD128
umount -l "$host"
exec "$@"
"#;

/// Which KWin backend the KWin under test runs on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum KwinBackend {
    /// `--virtual`. KWin 5.27 answers virtual-output requests on it with
    /// `failed("Could not find output")`; Plasma 6 supports them.
    #[default]
    Virtual,
    /// `--wayland-display`, nested in a second KWin on the virtual backend.
    /// KWin 5.27 creates the PipeWire stream of a virtual output here, but
    /// never adds the output to its workspace (no wl_output, no frames) nor
    /// removes it. Without a real render node this needs root for a private
    /// mount namespace with a fake one (see `FAKE_RENDER_NODE`).
    Nested,
}

/// How to start KWin.
#[derive(Debug, Clone, Default)]
pub struct KwinOptions {
    pub backend: KwinBackend,
    /// Keep KWin's check that only authorised clients see privileged
    /// protocols such as zkde_screencast (off by default).
    pub permission_checks: bool,
    /// Executables to authorise through `.desktop` files with
    /// `X-KDE-Wayland-Interfaces=zkde_screencast_unstable_v1`.
    pub trusted: Vec<PathBuf>,
}

/// A running headless KWin (one 1024x768 output), PipeWire, WirePlumber and
/// a session bus; all stopped, and the runtime directory removed, on drop.
pub struct HeadlessKwin {
    session: Session,
    wayland_socket: PathBuf,
}

impl HeadlessKwin {
    /// Why this machine can't run `backend`, if it can't.
    pub fn unavailable_reason(backend: KwinBackend) -> Option<String> {
        let mut tools = TOOLS.to_vec();
        let fake_node = backend == KwinBackend::Nested && !Path::new(RENDER_NODE).exists();
        if fake_node {
            tools.push("unshare");
        }
        let missing: Vec<&str> = tools
            .into_iter()
            .filter(|t| super::find_in_path(t).is_none())
            .collect();
        if !missing.is_empty() {
            return Some(format!("not installed: {}", missing.join(", ")));
        }
        if fake_node && !rustix::process::geteuid().is_root() {
            return Some(format!(
                "nested KWin 5.27 crashes without {RENDER_NODE}, and faking one needs root"
            ));
        }
        None
    }

    /// Starts KWin on its virtual backend without permission checks.
    pub fn start() -> anyhow::Result<Self> {
        Self::start_with(&KwinOptions::default())
    }

    /// Starts everything and waits until KWin has an output.
    pub fn start_with(options: &KwinOptions) -> anyhow::Result<Self> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "punktfunk-kwin-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let mut kwin = Self {
            wayland_socket: dir.join("wayland-0"),
            session: Session::new(dir)?,
        };
        kwin.start_bus_and_pipewire()?;
        for exe in &options.trusted {
            kwin.trust(exe)?;
        }
        let binary = kwin_binary(kwin.session.dir())?;
        match options.backend {
            KwinBackend::Virtual => kwin.start_kwin("kwin", "wayland-0", &binary, options, None)?,
            KwinBackend::Nested => {
                // The host is only a window system for the nested KWin.
                let host = KwinOptions::default();
                kwin.start_kwin("kwin-host", "wayland-host", &binary, &host, None)?;
                kwin.start_kwin("kwin", "wayland-0", &binary, options, Some("wayland-host"))?;
            }
        }
        Ok(kwin)
    }

    fn start_bus_and_pipewire(&mut self) -> anyhow::Result<()> {
        let dir = self.session.dir().to_owned();
        let bus = dir.join("bus");
        self.session.set_env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", bus.display()),
        );
        let mut dbus = self.session.command("dbus-daemon", "dbus-daemon")?;
        dbus.args(["--session", "--nofork", "--nopidfile"])
            .arg(format!("--address=unix:path={}", bus.display()));
        self.session.spawn("dbus-daemon", dbus)?;
        self.session
            .wait_for("session bus socket", STARTUP_TIMEOUT, || Ok(bus.exists()))?;

        let pipewire = self.session.command("pipewire", "pipewire")?;
        self.session.spawn("pipewire", pipewire)?;
        let socket = dir.join("pipewire-0");
        self.session
            .wait_for("pipewire-0", STARTUP_TIMEOUT, || Ok(socket.exists()))?;
        let wireplumber = self.session.command("wireplumber", "wireplumber")?;
        self.session.spawn("wireplumber", wireplumber)
    }

    /// Starts one KWin listening on `socket`; nested in `host` (a socket of
    /// the same runtime directory) if given, else on the virtual backend.
    fn start_kwin(
        &mut self,
        name: &'static str,
        socket: &str,
        binary: &Path,
        options: &KwinOptions,
        host: Option<&str>,
    ) -> anyhow::Result<()> {
        let fake_node = host.is_some() && !Path::new(RENDER_NODE).exists();
        let mut cmd = if fake_node {
            let mut cmd = self.session.command(name, "unshare")?;
            cmd.args(["--mount", "sh", "-c", FAKE_RENDER_NODE, "sh"])
                .arg(binary);
            cmd
        } else {
            self.session.command(name, binary)?
        };
        match host {
            Some(host) => cmd.args(["--wayland-display", host]),
            None => cmd.arg("--virtual"),
        };
        cmd.args(["--width", "1024", "--height", "768", "--socket", socket])
            .args([
                "--no-lockscreen",
                "--no-global-shortcuts",
                "--no-kactivities",
            ])
            // KWin's QPA plugin refuses binaries not named kwin_wayland unless forced.
            .env("KWIN_FORCE_OWN_QPA", "1");
        if !options.permission_checks {
            cmd.env("KWIN_WAYLAND_NO_PERMISSION_CHECKS", "1");
        }
        self.session.spawn(name, cmd)?;
        let socket = self.session.dir().join(socket);
        self.session
            .wait_for(&format!("{name}'s first output"), STARTUP_TIMEOUT, || {
                Ok(socket.exists() && !list_outputs(&socket)?.is_empty())
            })
    }

    /// Installs a `.desktop` file that authorises `exe` for zkde_screencast.
    fn trust(&self, exe: &Path) -> anyhow::Result<()> {
        let apps = self.session.dir().join(".local/share/applications");
        fs::create_dir_all(&apps)?;
        let stem = exe.file_name().unwrap_or_default().to_string_lossy();
        let entry = format!(
            "[Desktop Entry]\nType=Application\nName={stem}\nExec={}\nNoDisplay=true\n\
             X-KDE-Wayland-Interfaces=zkde_screencast_unstable_v1\n",
            exe.display()
        );
        fs::write(apps.join(format!("punktfunk-test-{stem}.desktop")), entry)?;
        Ok(())
    }

    /// Full path of the Wayland socket of the KWin under test.
    pub fn wayland_socket(&self) -> &Path {
        &self.wayland_socket
    }

    /// The runtime directory (`XDG_RUNTIME_DIR` of everything in this session).
    pub fn runtime_dir(&self) -> &Path {
        self.session.dir()
    }

    /// The last lines of a process's log (`kwin`, `kwin-host`, `pipewire`, …).
    pub fn log_tail(&self, name: &str) -> String {
        self.session.log_tail(name)
    }

    /// The outputs of the KWin under test, as a Wayland client sees them.
    pub fn outputs(&self) -> anyhow::Result<Vec<OutputInfo>> {
        list_outputs(&self.wayland_socket)
    }

    /// The Node objects in `pw-dump` of this session's PipeWire.
    pub fn pipewire_nodes(&self) -> anyhow::Result<Vec<serde_json::Value>> {
        let out = std::process::Command::new("pw-dump")
            .env("XDG_RUNTIME_DIR", self.session.dir())
            .stdin(std::process::Stdio::null())
            .output()
            .context("running pw-dump")?;
        if !out.status.success() {
            bail!(
                "pw-dump failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        nodes(&serde_json::from_slice(&out.stdout).context("parsing pw-dump")?)
    }
}

/// The KWin binary to run; see `needs_uncapped_copy`.
fn kwin_binary(dir: &Path) -> anyhow::Result<PathBuf> {
    let installed = super::find_in_path("kwin_wayland").context("kwin_wayland not found")?;
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    if !needs_uncapped_copy(&status) {
        return Ok(installed);
    }
    // A plain copy leaves the security.capability xattr behind.
    let copy = dir.join("bin/kwin_wayland");
    fs::create_dir_all(dir.join("bin"))?;
    fs::copy(&installed, &copy)
        .with_context(|| format!("copying {} to {}", installed.display(), copy.display()))?;
    Ok(copy)
}

/// Whether `kwin_wayland` must run from a copy without its file capability:
/// exec fails with EPERM when `cap_sys_resource` is missing from our
/// bounding set (`CapBnd` in `/proc/self/status`), as in many containers.
fn needs_uncapped_copy(proc_status: &str) -> bool {
    proc_status
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|bnd| bnd & (1 << CAP_SYS_RESOURCE) == 0)
}

/// The Node objects of a `pw-dump` document.
fn nodes(dump: &serde_json::Value) -> anyhow::Result<Vec<serde_json::Value>> {
    Ok(dump
        .as_array()
        .context("pw-dump: not an array")?
        .iter()
        .filter(|o| o["type"] == "PipeWire:Interface:Node")
        .cloned()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncapped_copy_only_without_cap_sys_resource() {
        assert!(needs_uncapped_copy("Name:\tx\nCapBnd:\t000001fffeffffff\n"));
        assert!(!needs_uncapped_copy("CapBnd:\t000001ffffffffff\n"));
        // Unknown: try the real binary and let exec say what is wrong.
        assert!(!needs_uncapped_copy("Name:\tx\n"));
    }

    #[test]
    fn nodes_keeps_only_nodes() {
        let dump = serde_json::json!([
            {"id": 0, "type": "PipeWire:Interface:Core"},
            {"id": 42, "type": "PipeWire:Interface:Node", "info": {"props": {"node.name": "a"}}},
        ]);
        let found = nodes(&dump).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0]["id"], 42);
        assert!(nodes(&serde_json::json!({})).is_err());
    }
}
