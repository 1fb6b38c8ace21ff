//! Driving the real Moonlight core: `tests/gamestream/ml_probe.py` on moonlight-python (which
//! wraps moonlight-common-c), one JSON line per run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{ctl, scratch, summary, Host};

/// GameStream's HTTP port in these tests (Moonlight's default; the tests run one host at a time).
pub const BASE: u16 = 47989;

pub fn venv_python() -> Option<PathBuf> {
    let venv = std::env::var_os("PUNKTFUNK_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/punktfunk/venv")
        });
    let python = venv.join("bin/python");
    let ok = Command::new(&python)
        .args(["-c", "import moonlight_python"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    let why = format!(
        "moonlight-python is not installed in {} (scripts/install-deps.sh installs it)",
        venv.display()
    );
    if std::env::var_os("PUNKTFUNK_REQUIRE_TOOLS").is_some_and(|v| v == "1") {
        panic!("{why}");
    }
    eprintln!("SKIPPED: {why}");
    None
}

pub fn driver() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/gamestream/ml_probe.py"
    ))
}

/// The Moonlight driver as client `client` (its identity lives in that directory).
pub fn moonlight(python: &Path, client: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(python);
    cmd.arg(driver())
        .args(["--host", "127.0.0.1", "--port", &BASE.to_string()])
        .arg("--config")
        .arg(client)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// The driver's `stream` arguments for a 1280×720 stream of `codec` at `fps` lasting `seconds`,
/// then `extra`.
pub fn stream_args<'a>(
    codec: &'a str,
    fps: &'a str,
    seconds: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "stream",
        "--codec",
        codec,
        "--width",
        "1280",
        "--height",
        "720",
        "--fps",
        fps,
        "--seconds",
        seconds,
    ];
    args.extend_from_slice(extra);
    args
}

/// Runs the driver to the end; its JSON answer (and its stderr, for messages).
pub fn run(python: &Path, client: &Path, args: &[&str]) -> (Value, String) {
    let out = moonlight(python, client, args).output().unwrap();
    let (json, ok, stderr) = summary(out);
    assert!(ok, "ml_probe {args:?} failed:\n{stderr}");
    (json, stderr)
}

/// Pairs `client` the way a user does: Moonlight waits with its PIN, the user types `typed`
/// into `ctl pin`. Returns the driver's answer.
pub fn pair(host: &Host, python: &Path, client: &Path, pin: &str, typed: &str) -> Value {
    let child = moonlight(python, client, &["pair", "--pin", pin])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, _, stderr) = ctl(host, &["pin", typed]);
        if code == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no pairing ever waited for a PIN: {stderr}\n{}",
            host.log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (json, ok, stderr) = summary(child.wait_with_output().unwrap());
    assert!(ok, "ml_probe pair failed:\n{stderr}");
    json
}

pub fn paired_client(host: &Host, python: &Path, name: &str) -> PathBuf {
    let client = scratch(name);
    let answer = pair(host, python, &client, "4711", "4711");
    assert_eq!(
        answer["paired"],
        true,
        "{answer}\n{}",
        host.log.lock().unwrap()
    );
    client
}
