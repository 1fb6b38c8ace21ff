//! A throwaway desktop for tests: a private D-Bus session bus, PipeWire,
//! WirePlumber and (optionally) pipewire-pulse and a headless Mutter, all in
//! one process group under a private runtime directory, torn down on drop.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use rustix::process::{kill_process_group, Pid, Signal};

use crate::mutter::Endpoints;

const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The running parts; see the module docs. Dropping it kills them all.
pub struct Desktop {
    runtime_dir: PathBuf,
    dbus_address: String,
    /// Process group of every child (the bus daemon leads it).
    group: Option<Pid>,
    children: Vec<(String, Child)>,
}

impl Desktop {
    /// D-Bus, PipeWire, WirePlumber and `mutter --headless`, ready for
    /// ScreenCast calls.
    pub fn start() -> anyhow::Result<Self> {
        let mut desktop = Self::start_pipewire()?;
        desktop.spawn(
            "mutter",
            Command::new("mutter").args(["--headless", "--wayland", "--no-x11"]),
        )?;
        for service in [
            "org.gnome.Mutter.ScreenCast",
            "org.gnome.Mutter.DisplayConfig",
            "org.gnome.Mutter.RemoteDesktop",
        ] {
            desktop.wait_until(&format!("Mutter to own {service}"), |d| d.bus_has(service))?;
        }
        Ok(desktop)
    }

    /// D-Bus, PipeWire and WirePlumber only.
    pub fn start_pipewire() -> anyhow::Result<Self> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let runtime_dir = std::env::temp_dir().join(format!(
            "punktfunk-desktop-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&runtime_dir);
        for dir in ["", "home", "logs"] {
            std::fs::create_dir_all(runtime_dir.join(dir))?;
        }
        // PipeWire and Wayland insist on a private runtime dir.
        std::fs::set_permissions(
            &runtime_dir,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )?;
        let mut desktop = Self {
            runtime_dir,
            dbus_address: String::new(),
            group: None,
            children: Vec::new(),
        };
        desktop.start_bus()?;
        desktop.spawn("pipewire", &mut Command::new("pipewire"))?;
        desktop.wait_until("the PipeWire socket", |d| {
            UnixStream::connect(d.pipewire_socket()).is_ok()
        })?;
        desktop.spawn("wireplumber", &mut Command::new("wireplumber"))?;
        // Streams only get linked once the session manager is up.
        desktop.wait_until("WirePlumber to connect to PipeWire", |d| {
            d.pw_dump().is_ok_and(|objects| {
                objects.iter().any(|o| {
                    o["type"] == "PipeWire:Interface:Client"
                        && o["info"]["props"]["application.name"] == "WirePlumber"
                })
            })
        })?;
        Ok(desktop)
    }

    /// Adds `pipewire-pulse`, the PulseAudio server on top of PipeWire, so
    /// pulse clients (`paplay`, `parecord`, `pactl`) from [`Self::command`]
    /// reach this desktop.
    pub fn start_pipewire_pulse(&mut self) -> anyhow::Result<()> {
        self.spawn("pipewire-pulse", &mut Command::new("pipewire-pulse"))?;
        self.wait_until("the pipewire-pulse socket", |d| {
            UnixStream::connect(d.pulse_socket()).is_ok()
        })
    }

    /// Where pulse clients find this desktop's `pipewire-pulse`.
    pub fn pulse_socket(&self) -> PathBuf {
        self.runtime_dir.join("pulse/native")
    }

    /// A command (e.g. `pw-play`, `pactl`) set up to talk to this desktop
    /// only; to run to completion, unlike [`Self::spawn`].
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        self.env(&mut command);
        command
    }

    pub fn runtime_dir(&self) -> &Path {
        &self.runtime_dir
    }

    pub fn dbus_address(&self) -> &str {
        &self.dbus_address
    }

    pub fn pipewire_socket(&self) -> PathBuf {
        self.runtime_dir.join("pipewire-0")
    }

    /// Where a [`crate::mutter::VirtualMonitor`] finds this desktop.
    pub fn endpoints(&self) -> Endpoints {
        Endpoints {
            session_bus: Some(self.dbus_address.clone()),
            pipewire_socket: Some(self.pipewire_socket()),
        }
    }

    /// A fresh connection to this PipeWire, for [`crate::StreamConfig::fd`].
    pub fn connect_pipewire(&self) -> std::io::Result<OwnedFd> {
        Ok(UnixStream::connect(self.pipewire_socket())?.into())
    }

    /// Runs a client (e.g. a test producer) in this desktop's environment and
    /// process group; it is killed with the rest.
    pub fn spawn(&mut self, name: &str, command: &mut Command) -> anyhow::Result<()> {
        let log = File::create(self.runtime_dir.join("logs").join(format!("{name}.log")))?;
        self.env(command);
        command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(self.group.map_or(0, |g| g.as_raw_nonzero().get()));
        let child = command
            .spawn()
            .with_context(|| format!("starting {name} (is it installed?)"))?;
        self.group.get_or_insert_with(|| Pid::from_child(&child));
        self.children.push((name.to_string(), child));
        Ok(())
    }

    /// Kills the child started as `name` (e.g. to make a producer vanish).
    pub fn kill(&mut self, name: &str) -> anyhow::Result<()> {
        let (_, child) = self
            .children
            .iter_mut()
            .find(|(n, _)| n == name)
            .with_context(|| format!("no child named {name}"))?;
        child.kill()?;
        child.wait()?;
        Ok(())
    }

    /// The id of the PipeWire node whose `node.name` is `name`, if it exists.
    pub fn find_node(&self, name: &str) -> anyhow::Result<Option<u32>> {
        Ok(self.pw_dump()?.iter().find_map(|o| {
            (o["type"] == "PipeWire:Interface:Node" && o["info"]["props"]["node.name"] == name)
                .then(|| o["id"].as_u64())
                .flatten()
                .map(|id| id as u32)
        }))
    }

    /// Polls `ready` until it holds, failing with the logs if a child died or
    /// `START_TIMEOUT` passed.
    pub fn wait_until(
        &mut self,
        what: &str,
        mut ready: impl FnMut(&Self) -> bool,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if ready(self) {
                return Ok(());
            }
            let mut exited = None;
            for (name, child) in &mut self.children {
                if let Some(status) = child.try_wait()? {
                    exited = Some(format!("{name} exited ({status})"));
                }
            }
            if let Some(exited) = exited {
                anyhow::bail!("waiting for {what}: {exited}\n{}", self.logs());
            }
            if Instant::now() > deadline {
                anyhow::bail!("timed out waiting for {what}\n{}", self.logs());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every child's log, for failure messages.
    pub fn logs(&self) -> String {
        let mut all = String::new();
        for (name, _) in &self.children {
            let path = self.runtime_dir.join("logs").join(format!("{name}.log"));
            let text = std::fs::read_to_string(path).unwrap_or_default();
            all += &format!("--- {name} ---\n{text}\n");
        }
        all
    }

    fn start_bus(&mut self) -> anyhow::Result<()> {
        let mut command = Command::new("dbus-daemon");
        command.args(["--session", "--nofork", "--nopidfile", "--print-address=1"]);
        self.env(&mut command);
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(self.runtime_dir.join("logs/dbus.log"))?)
            .process_group(0)
            .spawn()
            .context("starting dbus-daemon (is the dbus package installed?)")?;
        self.group = Some(Pid::from_child(&child));
        let stdout = child.stdout.take().expect("piped");
        self.children.push(("dbus".into(), child));
        // The daemon prints its address once it listens.
        let mut address = String::new();
        BufReader::new(stdout).read_line(&mut address)?;
        anyhow::ensure!(
            !address.trim().is_empty(),
            "dbus-daemon printed no address\n{}",
            self.logs()
        );
        self.dbus_address = address.trim().to_string();
        Ok(())
    }

    /// A clean environment pointing at this desktop only.
    fn env(&self, command: &mut Command) {
        let dir = &self.runtime_dir;
        command.env_clear().envs([
            ("PATH", std::env::var_os("PATH").unwrap_or_default()),
            ("HOME", dir.join("home").into()),
            ("XDG_RUNTIME_DIR", dir.into()),
            ("PIPEWIRE_RUNTIME_DIR", dir.into()),
            // pipewire-pulse listens in $XDG_RUNTIME_DIR/pulse.
            ("PULSE_RUNTIME_PATH", dir.join("pulse").into()),
            ("XDG_CONFIG_HOME", dir.join("home/.config").into()),
            ("XDG_DATA_HOME", dir.join("home/.local/share").into()),
            ("XDG_CACHE_HOME", dir.join("home/.cache").into()),
            // No dconf: settings stay in memory and vanish with the desktop.
            ("GSETTINGS_BACKEND", "memory".into()),
            ("LANG", "C.UTF-8".into()),
            // Mutter's Wayland socket in the fresh runtime dir, for clients.
            ("WAYLAND_DISPLAY", "wayland-0".into()),
        ]);
        // Debug switches pass through, for diagnosing a failing test.
        for var in [
            "MUTTER_DEBUG",
            "PIPEWIRE_DEBUG",
            "WIREPLUMBER_DEBUG",
            "G_MESSAGES_DEBUG",
        ] {
            if let Some(value) = std::env::var_os(var) {
                command.env(var, value);
            }
        }
        if !self.dbus_address.is_empty() {
            command.env("DBUS_SESSION_BUS_ADDRESS", &self.dbus_address);
        }
    }

    fn bus_has(&self, service: &str) -> bool {
        let Ok(output) = Command::new("dbus-send")
            .args([
                &format!("--bus={}", self.dbus_address),
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                &format!("string:{service}"),
            ])
            .output()
        else {
            return false;
        };
        String::from_utf8_lossy(&output.stdout).contains("boolean true")
    }

    fn pw_dump(&self) -> anyhow::Result<Vec<serde_json::Value>> {
        let mut command = Command::new("pw-dump");
        self.env(&mut command);
        let output = command
            .stderr(Stdio::null())
            .output()
            .context("running pw-dump")?;
        anyhow::ensure!(output.status.success(), "pw-dump failed: {}", output.status);
        Ok(serde_json::from_slice(&output.stdout)?)
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        if let Some(group) = self.group {
            let _ = kill_process_group(group, Signal::TERM);
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline
                && self
                    .children
                    .iter_mut()
                    .any(|(_, c)| matches!(c.try_wait(), Ok(None)))
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = kill_process_group(group, Signal::KILL);
        }
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.runtime_dir);
    }
}
