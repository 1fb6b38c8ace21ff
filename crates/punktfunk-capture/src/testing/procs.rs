//! The processes of one throwaway test session: a private runtime directory,
//! a log file per process, and one process group so that anything they start
//! (D-Bus activation, …) is stopped with them.

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rustix::process::{kill_process, kill_process_group, Pid, Signal};

/// How long each process gets to exit after SIGTERM before SIGKILL.
const GRACE: Duration = Duration::from_secs(3);

pub(super) struct Session {
    dir: PathBuf,
    env: Vec<(&'static str, OsString)>,
    /// Stopped in reverse order; the first is the process-group leader.
    children: Vec<(&'static str, Child)>,
}

impl Session {
    /// Creates `dir` (mode 0700) as `HOME` and `XDG_RUNTIME_DIR` of everything started.
    pub(super) fn new(dir: PathBuf) -> anyhow::Result<Self> {
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))?;
        let env = vec![
            ("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/games".into()),
            ("HOME", dir.clone().into()),
            ("XDG_RUNTIME_DIR", dir.clone().into()),
        ];
        Ok(Self {
            dir,
            env,
            children: Vec::new(),
        })
    }

    pub(super) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Adds a variable to the environment of processes started from now on.
    pub(super) fn set_env(&mut self, key: &'static str, value: impl Into<OsString>) {
        self.env.push((key, value.into()));
    }

    /// A command with only this session's environment, logging to `<name>.log`.
    pub(super) fn command(
        &self,
        name: &str,
        program: impl AsRef<std::ffi::OsStr>,
    ) -> anyhow::Result<Command> {
        let log = fs::File::create(self.dir.join(format!("{name}.log")))?;
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let group = self.children.first().map_or(0, |(_, c)| c.id() as i32);
        cmd.process_group(group);
        Ok(cmd)
    }

    pub(super) fn spawn(&mut self, name: &'static str, mut cmd: Command) -> anyhow::Result<()> {
        let child = cmd.spawn().with_context(|| format!("spawning {name}"))?;
        self.children.push((name, child));
        Ok(())
    }

    /// Polls `ready` until it says yes; fails early if any process exits.
    pub(super) fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        ready: impl Fn() -> anyhow::Result<bool>,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        let mut last_err = None;
        loop {
            for (name, child) in &mut self.children {
                if let Some(status) = child.try_wait()? {
                    let tail = log_tail(&self.dir, name);
                    bail!("{name} exited with {status} while waiting for {what}; {tail}");
                }
            }
            match ready() {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(err) => last_err = Some(err),
            }
            if Instant::now() > deadline {
                let (name, _) = self.children.last().context("nothing was started")?;
                let tail = log_tail(&self.dir, name);
                bail!("no {what} after {timeout:?} (last error: {last_err:?}); {tail}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The last lines of `<name>.log`, for error messages.
    pub(super) fn log_tail(&self, name: &str) -> String {
        log_tail(&self.dir, name)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Reverse order: clients of a server go before it (and compositors
        // close their streams while PipeWire is still there).
        for (_, child) in self.children.iter_mut().skip(1).rev() {
            terminate(child);
        }
        // Strays (D-Bus activated services). The leader is still unreaped
        // here, so its process-group id can't have been reused.
        if let Some((_, leader)) = self.children.first_mut() {
            if let Some(group) = Pid::from_raw(leader.id() as i32) {
                let _ = kill_process_group(group, Signal::KILL);
            }
            let _ = leader.wait();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn terminate(child: &mut Child) {
    if let Some(pid) = Pid::from_raw(child.id() as i32) {
        let _ = kill_process(pid, Signal::TERM);
    }
    let deadline = Instant::now() + GRACE;
    while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn log_tail(dir: &Path, name: &str) -> String {
    let log = fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    let tail = lines[lines.len().saturating_sub(20)..].join("\n");
    format!("{name}.log tail:\n{tail}")
}
