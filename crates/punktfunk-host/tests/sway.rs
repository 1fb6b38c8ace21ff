//! Virtual displays on a real headless Sway: each client gets its own output at exactly its
//! mode, sees only what is on it, and the output is released when the session ends.

mod common;

use std::time::{Duration, Instant};

use common::*;
use punktfunk_capture::testing::HeadlessSway;

/// The sessions' outputs on the desktop (not HEADLESS-1, not parked), as (name, WxH@mHz).
fn session_outputs(sway: &HeadlessSway) -> Vec<(String, String)> {
    sway.outputs()
        .unwrap()
        .iter()
        .filter(|o| {
            o["active"] == true
                && o["name"] != "HEADLESS-1"
                && o["rect"]["x"].as_i64().unwrap_or(0) < 1 << 20
        })
        .map(|o| {
            let m = &o["current_mode"];
            let mode = format!("{}x{}@{}", m["width"], m["height"], m["refresh"]);
            (o["name"].as_str().unwrap_or_default().to_owned(), mode)
        })
        .collect()
}

/// Waits up to `within` until `check` holds for the sessions' outputs; returns the last seen.
fn wait_outputs(
    sway: &HeadlessSway,
    within: Duration,
    check: impl Fn(&[(String, String)]) -> bool,
) -> Vec<(String, String)> {
    let end = Instant::now() + within;
    loop {
        let outputs = session_outputs(sway);
        if check(&outputs) || Instant::now() >= end {
            return outputs;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts sway and an open host streaming from it; `None` (after saying why, loudly) when sway
/// cannot run here.
fn setup(name: &str) -> Option<(HeadlessSway, Host)> {
    if !HeadlessSway::is_installed() {
        eprintln!("SKIPPED: sway is not installed (scripts/install-deps.sh installs it)");
        return None;
    }
    let sway = HeadlessSway::start().expect("headless sway starts");
    let host = Host::launch_env(
        &scratch(&format!("{name}-host")),
        // No keep-alive: these tests are about making and releasing outputs (lingering and
        // reuse on reconnect are the lifecycle tests' business).
        &["--open", "--source", "compositor", "--keep-alive-ms", "0"],
        &sway.env(),
    );
    Some((sway, host))
}

fn ppm_pixel(ppm: &[u8], x: usize, y: usize) -> [u8; 3] {
    // "P6\nW H\n255\n" then RGB rows.
    let text = String::from_utf8_lossy(&ppm[..32]).into_owned();
    let mut parts = text.split_ascii_whitespace();
    assert_eq!(parts.next(), Some("P6"));
    let w: usize = parts.next().unwrap().parse().unwrap();
    let header = format!("P6\n{w} {}\n255\n", parts.next().unwrap()).len();
    let i = header + (y * w + x) * 3;
    [ppm[i], ppm[i + 1], ppm[i + 2]]
}

fn is_magenta(p: [u8; 3]) -> bool {
    p[0] > 200 && p[1] < 60 && p[2] > 200
}

#[test]
fn two_clients_get_their_own_outputs_at_their_exact_modes_and_release_them() {
    let Some((sway, host)) = setup("modes") else {
        return;
    };
    let a = probe_command(
        &host,
        &["--mode", "1280x720@60", "--codec", "h264", "--seconds", "4"],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let b = probe_command(
        &host,
        &[
            "--mode",
            "1920x1080@120",
            "--codec",
            "h264",
            "--seconds",
            "4",
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    // The output appears first and takes its mode a moment later: wait for both.
    let sorted_modes = |o: &[(String, String)]| {
        let mut modes: Vec<String> = o.iter().map(|(_, m)| m.clone()).collect();
        modes.sort();
        modes
    };
    let live = wait_outputs(&sway, Duration::from_secs(20), |o| {
        sorted_modes(o) == ["1280x720@60000", "1920x1080@120000"]
    });
    let mut modes: Vec<&str> = live.iter().map(|(_, m)| m.as_str()).collect();
    modes.sort();
    assert_eq!(modes, ["1280x720@60000", "1920x1080@120000"], "{live:?}");
    for (child, mode) in [(a, "1280x720"), (b, "1920x1080")] {
        let (summary, ok, err) = summary(child.wait_with_output().unwrap());
        assert!(ok, "{mode}: {err}\n{summary}");
        assert_eq!(summary["last_picture"], mode, "{summary}");
        assert!(num(&summary, "frames_decoded") > 0.0, "{summary}");
        assert_eq!(
            summary["test_picture"], false,
            "desktop pixels, not the test picture"
        );
    }
    // Sessions over: both outputs leave the desktop (unplugged on sway ≥ 1.8; sway 1.7 can
    // neither unplug nor disable a headless output, so there they are parked off the desktop).
    let left = wait_outputs(&sway, Duration::from_secs(5), |o| o.is_empty());
    assert!(
        left.is_empty(),
        "outputs still active: {left:?}\n{}",
        host.log.lock().unwrap()
    );
    let total = sway.outputs().unwrap().len();
    // A new session reuses a released output instead of making another.
    let (summary, ok, err) = probe(
        &host,
        &["--mode", "800x600@30", "--codec", "h264", "--seconds", "1"],
    );
    assert!(ok, "{err}");
    assert_eq!(summary["last_picture"], "800x600");
    assert_eq!(sway.outputs().unwrap().len(), total, "no output piles up");
    assert!(host.log_shows("virtual output released", Duration::from_secs(3)));
}

#[test]
fn a_window_on_one_clients_output_shows_only_in_that_clients_stream() {
    // Generous waits below: they return as soon as the outputs are there; a loaded CI machine
    // may take a while to make them.
    let Some((sway, host)) = setup("content") else {
        return;
    };
    let frames = scratch("content-frames");
    std::fs::create_dir_all(&frames).unwrap();
    let (a_png, b_png) = (frames.join("a.ppm"), frames.join("b.ppm"));
    let a_path = a_png.to_str().unwrap().to_owned();
    let b_path = b_png.to_str().unwrap().to_owned();
    let a = probe_command(
        &host,
        &[
            "--mode",
            "1280x720@60",
            "--codec",
            "h264",
            "--seconds",
            "8",
            "--save-frame",
            &a_path,
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let live = wait_outputs(&sway, Duration::from_secs(20), |o| {
        o.len() == 1 && o[0].1.starts_with("1280x720")
    });
    let b = probe_command(
        &host,
        &[
            "--mode",
            "640x480@30",
            "--codec",
            "h264",
            "--seconds",
            "4",
            "--save-frame",
            &b_path,
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let (a_output, _) = live
        .iter()
        .find(|(_, m)| m.starts_with("1280x720"))
        .expect("A's output")
        .clone();
    // A magenta terminal on A's output only.
    sway.exec_on(&a_output, "foot -o colors.background=ff00ff sleep 60")
        .unwrap();
    let (_, ok, err) = summary(a.wait_with_output().unwrap());
    assert!(ok, "{err}");
    let (_, ok, err) = summary(b.wait_with_output().unwrap());
    assert!(ok, "{err}");
    let a = std::fs::read(&a_png).unwrap();
    let b = std::fs::read(&b_png).unwrap();
    for (x, y) in [(640, 360), (300, 200), (1000, 600)] {
        assert!(
            is_magenta(ppm_pixel(&a, x, y)),
            "A at ({x},{y}): {:?}",
            ppm_pixel(&a, x, y)
        );
    }
    for (x, y) in [(320, 240), (100, 100), (600, 400)] {
        assert!(
            !is_magenta(ppm_pixel(&b, x, y)),
            "B at ({x},{y}) shows A's window"
        );
    }
}

/// gamescope nested in the session: where it can start (a GPU with DRM format modifiers) a
/// session output is made; where it cannot, the host says exactly why, in gamescope's words.
#[test]
fn gamescope_makes_an_output_or_says_why_not() {
    let gamescope = ["/usr/games/gamescope", "/usr/bin/gamescope"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    if gamescope.is_none() || !HeadlessSway::is_installed() {
        eprintln!(
            "SKIPPED: gamescope or sway is not installed (scripts/install-deps.sh installs them)"
        );
        return;
    }
    let sway = HeadlessSway::start().expect("headless sway starts");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_punktfunk-host"))
        .args(["probe-compositor", "--compositor", "gamescope"])
        .envs(sway.env())
        .env("PUNKTFUNK_GAMESCOPE_APP", "sleep 30")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        assert!(
            stdout.contains("made gamescope-") && stdout.contains("released"),
            "{stdout}"
        );
    } else {
        assert!(
            stderr.contains("gamescope exited") || stderr.contains("no PipeWire node"),
            "{stderr}"
        );
        eprintln!("SKIPPED (gamescope cannot run here): {}", stderr.trim());
    }
}
