//! What the host's end-to-end tests share: a host process, probe processes, scratch dirs.
#![allow(dead_code)] // each test binary uses its own part

pub mod moonlight;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A host process; killed when dropped. Its stderr (the log) is collected.
pub struct Host {
    pub child: Child,
    /// `https://127.0.0.1:PORT` of the management API and of the console.
    pub mgmt_url: String,
    pub console_url: String,
    pub addr: SocketAddr,
    pub fingerprint: String,
    pub config: PathBuf,
    pub log: Arc<Mutex<String>>,
    _serial: std::sync::MutexGuard<'static, ()>,
}

/// A number per probe started, so each keeps its identity in a directory of its own.
pub fn next_probe() -> usize {
    static PROBES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// A fresh scratch directory for one test's state (identities).
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pf-native-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// These tests measure frame rates and timeouts: run them one at a time, so two sessions of
/// different tests don't compete for the machine's two cores.
static SERIAL: Mutex<()> = Mutex::new(());

impl Host {
    /// An open host (trust on first use: these tests are about streaming, not pairing).
    pub fn start(extra: &[&str]) -> Host {
        // A directory per host: tests of one binary run side by side until the serial lock
        // holds them, and a shared directory would be wiped under a running host.
        Self::start_in(&scratch(&format!("host-{}", next_probe())), extra)
    }

    /// An open host keeping its state in `config`.
    pub fn start_in(config: &std::path::Path, extra: &[&str]) -> Host {
        let mut args = vec!["--open"];
        args.extend_from_slice(extra);
        Self::launch(config, &args)
    }

    /// A host as `serve` starts it (PIN pairing required unless `extra` says `--open`), with
    /// its state in `config`; no mDNS unless `extra` asks for it with `--mdns`.
    pub fn launch(config: &std::path::Path, extra: &[&str]) -> Host {
        Self::launch_env(config, extra, &[])
    }

    /// [`Self::launch`] with extra environment (e.g. a compositor's sockets).
    pub fn launch_env(
        config: &std::path::Path,
        extra: &[&str],
        env: &[(&str, &std::path::Path)],
    ) -> Host {
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        // Find (or build) the probe before the host's clock starts.
        probe_bin();
        let port = if extra.contains(&"--native-port") {
            &[][..]
        } else {
            &["--native-port", "0"][..]
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_punktfunk-host"))
            .args(["punktfunk1-host", "--native-bind", "127.0.0.1"])
            .args(port)
            .args(if extra.contains(&"--source") {
                &[][..]
            } else {
                &["--source", "virtual"][..]
            })
            .args(["--seconds", "120"])
            // Ports of their own, so two test runs on one machine never reach each other's host.
            .args(if extra.contains(&"--mgmt-bind") {
                &[][..]
            } else {
                &["--mgmt-bind", "127.0.0.1:0"][..]
            })
            .args(if extra.contains(&"--console-bind") {
                &[][..]
            } else {
                &["--console-bind", "127.0.0.1:0"][..]
            })
            .args(if extra.contains(&"--mdns") {
                &[][..]
            } else {
                &["--no-mdns"][..]
            })
            .args(extra.iter().filter(|a| **a != "--mdns"))
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .env("PUNKTFUNK_CONFIG_DIR", config)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = stdout.next().unwrap().unwrap();
        let second = stdout.next().unwrap().unwrap();
        let urls: Vec<&str> = second.split_whitespace().collect();
        let ["management", mgmt_url, "console", console_url] = urls.as_slice() else {
            panic!("second line: management URL console URL, got {second}");
        };
        let (mgmt_url, console_url) = (mgmt_url.to_string(), console_url.to_string());
        let words: Vec<&str> = first.split_whitespace().collect();
        let ["listening", addr, "fingerprint", fingerprint] = words.as_slice() else {
            panic!("first line: listening ADDR fingerprint FP, got {first}");
        };
        let addr = addr.parse().unwrap();
        let fingerprint = fingerprint.to_string();
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        Host {
            child,
            mgmt_url,
            console_url,
            addr,
            fingerprint,
            config: config.to_path_buf(),
            log,
            _serial: serial,
        }
    }

    /// The web console password the host logged (once) at first start.
    pub fn console_password(&self) -> String {
        assert!(self.log_shows("web console password", Duration::from_secs(5)));
        let log = self.log.lock().unwrap().clone();
        let line = log
            .lines()
            .find(|l| l.contains("web console password"))
            .unwrap();
        let tail = line.rsplit("): ").next().unwrap();
        tail.trim().trim_end_matches("\u{1b}[0m").to_owned()
    }

    /// Waits up to `within` for `needle` to show in the log.
    pub fn log_shows(&self, needle: &str, within: Duration) -> bool {
        let end = Instant::now() + within;
        loop {
            if self.log.lock().unwrap().contains(needle) {
                return true;
            }
            if Instant::now() >= end {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The probe binary. `cargo test --workspace` (the test command) builds it; when this package's
/// tests run alone and it is missing, build it here.
pub fn probe_bin() -> PathBuf {
    let probe = PathBuf::from(env!("CARGO_BIN_EXE_punktfunk-host"))
        .parent()
        .unwrap()
        .join("punktfunk-probe");
    if !probe.exists() {
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "-p",
                "punktfunk-client",
                "--bin",
                "punktfunk-probe",
            ])
            .status()
            .unwrap();
        assert!(status.success(), "building punktfunk-probe");
    }
    probe
}

/// A probe session with a fresh identity of its own.
pub fn probe_command(host: &Host, args: &[&str]) -> Command {
    let mut cmd = probe_tool(&scratch(&format!("probe-{}", next_probe())));
    cmd.arg("--connect").arg(host.addr.to_string()).args(args);
    cmd
}

/// A probe invocation keeping its identity and pinned hosts in `client_dir`.
pub fn probe_tool(client_dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(probe_bin());
    cmd.env("RUST_LOG", "warn")
        .env("PUNKTFUNK_CLIENT_CONFIG_DIR", client_dir);
    cmd
}

/// Runs `punktfunk-host ctl --json ARGS` against the host; its exit code and parsed answer.
pub fn ctl(host: &Host, args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_punktfunk-host"))
        .arg("ctl")
        .arg("--json")
        .args(args)
        .env("PUNKTFUNK_CONFIG_DIR", &host.config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json =
        serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs a probe to the end; its JSON summary (last stdout line) and whether it succeeded.
pub fn probe(host: &Host, args: &[&str]) -> (Value, bool, String) {
    summary(probe_command(host, args).output().unwrap())
}

/// A finished probe's JSON summary (its last stdout line; Null if none), success, and stderr.
pub fn summary(out: std::process::Output) -> (Value, bool, String) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let last = stdout.lines().last().unwrap_or_default();
    let json = serde_json::from_str(last).unwrap_or(Value::Null);
    (json, out.status.success(), stderr)
}

pub fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("no {key} in {v}"))
}

/// After a session with pads on `log`: with `/dev/uinput` the Xbox pad was made (or the node
/// refused us, said loudly); without it, exactly one loud warning and no device.
pub fn assert_pads_made_or_off_loudly(log: &str) {
    if std::path::Path::new("/dev/uinput").exists() {
        assert!(
            log.contains("pad 0: xbox device made")
                || log.contains("virtual pads off: /dev/uinput is not"),
            "{log}"
        );
    } else {
        assert!(
            log.contains("virtual pads off: /dev/uinput is missing"),
            "no loud warning without /dev/uinput:\n{log}"
        );
        assert!(!log.contains("device made"), "{log}");
        // One warning for the session, not one per pad or packet.
        assert_eq!(log.matches("virtual pads off").count(), 1, "{log}");
    }
}
