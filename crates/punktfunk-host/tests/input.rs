//! Input injection on a real headless Sway: keys from Moonlight (moonlight-common-c's keyboard
//! calls through moonlight-python) and from `punktfunk-probe` type into a terminal on the
//! client's own output; an absolute click lands where it was aimed; a session killed with a key
//! held leaves nothing held.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::moonlight::*;
use common::*;
use punktfunk_capture::testing::HeadlessSway;
use serde_json::Value;

fn sway() -> Option<HeadlessSway> {
    if !HeadlessSway::is_installed() {
        if std::env::var_os("PUNKTFUNK_REQUIRE_TOOLS").is_some_and(|v| v == "1") {
            panic!("sway is not installed (scripts/install-deps.sh installs it)");
        }
        eprintln!("SKIPPED: sway is not installed (scripts/install-deps.sh installs it)");
        return None;
    }
    let sway = HeadlessSway::start().expect("headless sway starts");
    // Moonlight calls a stream started once a picture is not black.
    sway.swaymsg(&["output * bg #305080 solid_color"]).unwrap();
    Some(sway)
}

fn wait_for<T>(within: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let end = Instant::now() + within;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if Instant::now() >= end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Session outputs (not HEADLESS-1, not parked far away) by name.
fn session_output(sway: &HeadlessSway) -> Option<String> {
    sway.outputs().ok()?.iter().find_map(|o| {
        let name = o["name"].as_str()?;
        (o["active"] == true && name != "HEADLESS-1" && o["rect"]["x"].as_i64()? < 1 << 20)
            .then(|| name.to_owned())
    })
}

/// Every window (app_id, focused, rect x) on `output`.
fn windows_on(sway: &HeadlessSway, output: &str) -> Vec<(bool, i64)> {
    fn walk(node: &Value, out: &mut Vec<(bool, i64)>) {
        if node["app_id"].is_string() {
            out.push((
                node["focused"] == true,
                node["rect"]["x"].as_i64().unwrap_or(0),
            ));
        }
        for child in node["nodes"].as_array().into_iter().flatten() {
            walk(child, out);
        }
    }
    let tree: Value = serde_json::from_str(&sway.swaymsg(&["-t", "get_tree"]).unwrap_or_default())
        .unwrap_or_default();
    let mut out = Vec::new();
    for o in tree["nodes"].as_array().into_iter().flatten() {
        if o["name"] == output {
            walk(o, &mut out);
        }
    }
    out
}

/// A terminal on `output` writing each typed line into `file`; returns once it is mapped.
fn terminal_into(sway: &HeadlessSway, output: &str, file: &Path, windows_before: usize) {
    // A script, so no quoting has to survive sway's command parser.
    let script = file.with_extension("sh");
    std::fs::write(&script, format!("exec cat > '{}'\n", file.display())).unwrap();
    sway.exec_on(output, &format!("foot sh {}", script.display()))
        .unwrap();
    assert!(
        wait_for(Duration::from_secs(15), || (windows_on(sway, output).len()
            > windows_before)
            .then_some(()))
        .is_some(),
        "the terminal never appeared on {output}: {:?}\n{}",
        windows_on(sway, output),
        sway.swaymsg(&["-t", "get_tree"]).unwrap_or_default()
    );
    // The terminal asks for the keyboard once it is mapped; give it a moment.
    std::thread::sleep(Duration::from_millis(500));
}

fn read(file: &Path) -> String {
    std::fs::read_to_string(file).unwrap_or_default()
}

#[test]
fn keys_and_clicks_reach_the_clients_output_and_a_killed_session_holds_no_key() {
    let Some(python) = venv_python() else { return };
    let Some(sway) = sway() else { return };
    let host = Host::launch_env(
        &scratch("input"),
        &[
            "--open",
            "--source",
            "compositor",
            "--gamestream",
            "--gamestream-port",
            &BASE.to_string(),
        ],
        &sway.env(),
    );
    assert!(host.log_shows("GameStream plane up", Duration::from_secs(20)));
    let client = paired_client(&host, &python, "input-moonlight");
    let files = scratch("input-files");
    std::fs::create_dir_all(&files).unwrap();
    // Sway and its clients run as an unprivileged user: the terminals write here.
    std::fs::set_permissions(
        &files,
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o777),
    )
    .unwrap();
    let stream = |extra: &[&str]| {
        let mut args = stream_args("h264", "30", "6", &["--input-delay", "4"]);
        args.extend_from_slice(extra);
        moonlight(&python, &client, &args).spawn().unwrap()
    };
    let finish = |child: std::process::Child| {
        let (answer, ok, err) = summary(child.wait_with_output().unwrap());
        assert!(ok, "{err}");
        assert_eq!(
            answer["started"],
            true,
            "{answer}\n{}",
            host.log.lock().unwrap()
        );
        answer
    };

    // 1. Moonlight types into a terminal on its own output, capitals through shift.
    let typed = files.join("moonlight.txt");
    let first = stream(&["--type-text", "Hello World 42\n"]);
    let output = wait_for(Duration::from_secs(20), || session_output(&sway))
        .expect("the client's output appears");
    terminal_into(&sway, &output, &typed, 0);
    finish(first);
    assert_eq!(
        read(&typed),
        "Hello World 42\n",
        "{}",
        host.log.lock().unwrap()
    );

    // 2. An absolute click at three quarters of the picture focuses the right-hand window.
    let right = files.join("right.txt");
    terminal_into(&sway, &output, &right, 1);
    sway.swaymsg(&["focus left"]).unwrap();
    let click = stream(&["--click-at", "960,360"]);
    finish(click);
    let windows = windows_on(&sway, &output);
    let focused_x = windows.iter().find(|w| w.0).map(|w| w.1);
    let rightmost = windows.iter().map(|w| w.1).max();
    assert_eq!(focused_x, rightmost, "{windows:?}");

    // 3. A session killed with a key held leaves it released: after the host drops the
    //    stream, the next line typed holds nothing but itself.
    sway.swaymsg(&["focus left"]).unwrap();
    let mut holder = stream(&["--hold-key", "0x58", "--seconds", "60"]);
    assert!(
        host.log_shows(
            "input Key { code: 88, pressed: true",
            Duration::from_secs(30)
        ),
        "the key never went down:\n{}",
        host.log.lock().unwrap()
    );
    holder.kill().unwrap();
    let _ = holder.wait();
    assert!(
        host.log_shows("GameStream stream ended", Duration::from_secs(20)),
        "{}",
        host.log.lock().unwrap()
    );
    let after = stream(&["--type-text", "\nok\n"]);
    finish(after);
    let text = read(&typed);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 3, "{text:?}");
    assert!(
        lines[1].chars().all(|c| c == 'x') && !lines[1].is_empty(),
        "{text:?}"
    );
    assert_eq!(
        lines[2], "ok",
        "the key kept repeating after the session was gone: {text:?}"
    );

    // The native plane types through the same backend.
    let native = files.join("native.txt");
    let probe_client = scratch("input-probe");
    let probe = probe_tool(&probe_client)
        .arg("--connect")
        .arg(host.addr.to_string())
        .args([
            "--mode",
            "1280x720@30",
            "--codec",
            "h264",
            "--seconds",
            "8",
            "--type-after",
            "4",
            "--type-text",
            "Native 7\n",
            "--send-text",
            "Grüße ✓\n",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let probe_output = wait_for(Duration::from_secs(20), || {
        sway.outputs().ok()?.iter().find_map(|o| {
            let name = o["name"].as_str()?;
            (o["active"] == true
                && name != "HEADLESS-1"
                && name != output
                && o["rect"]["x"].as_i64()? < 1 << 20)
                .then(|| name.to_owned())
        })
    })
    .expect("the probe's output appears");
    terminal_into(&sway, &probe_output, &native, 0);
    let (summary_json, ok, err) = summary(probe.wait_with_output().unwrap());
    assert!(ok, "{err}\n{summary_json}");
    assert_eq!(
        read(&native),
        "Native 7\nGrüße ✓\n",
        "{}",
        host.log.lock().unwrap()
    );
}

/// A libeis server playing the compositor's EIS side (crates/punktfunk-input/tests/eis), with
/// a 1920×1080 screen and a 1280×720 one right of it, and a German keymap.
struct EisServer {
    child: std::process::Child,
    log: std::path::PathBuf,
    socket: std::path::PathBuf,
}

impl EisServer {
    fn start(dir: &Path) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../punktfunk-input/tests/eis/eis_server.py");
        let (socket, log) = (dir.join("eis-0"), dir.join("eis-events.jsonl"));
        let child = std::process::Command::new("python3")
            .arg(script)
            .arg("--socket")
            .arg(&socket)
            .arg("--log")
            .arg(&log)
            .args(["--region", "1920x1080@0,0", "--region", "1280x720@1920,0"])
            .args(["--layout", "de"])
            .spawn()
            .expect("python3 runs");
        let server = Self { child, log, socket };
        assert!(
            wait_for(Duration::from_secs(10), || server
                .events()
                .iter()
                .any(|e| e["type"] == "listening")
                .then_some(()))
            .is_some(),
            "the EIS server did not start (is libeis1 installed? scripts/install-deps.sh)"
        );
        server
    }

    fn events(&self) -> Vec<Value> {
        read(&self.log)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl Drop for EisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The key events in `events`, as (evdev code, pressed).
fn eis_keys(events: &[Value]) -> Vec<(u64, bool)> {
    events
        .iter()
        .filter(|e| e["type"] == "key")
        .map(|e| (e["key"].as_u64().unwrap_or(0), e["press"] == true))
        .collect()
}

fn eis_of<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

#[test]
fn with_input_ei_both_planes_reach_an_eis_server() {
    let Some(python) = venv_python() else { return };
    let Some(sway) = sway() else { return };
    let eis = EisServer::start(&scratch("input-eis"));
    let host = Host::launch_env(
        &scratch("input-ei-host"),
        &[
            "--open",
            "--source",
            "compositor",
            "--gamestream",
            "--gamestream-port",
            &BASE.to_string(),
            "--input",
            "ei",
            "--ei-socket",
            eis.socket.to_str().unwrap(),
        ],
        &sway.env(),
    );
    assert!(host.log_shows("GameStream plane up", Duration::from_secs(20)));
    let client = paired_client(&host, &python, "input-ei-moonlight");

    // Moonlight's fixed input sequence (motion, a left click, key A, one scroll notch) and
    // UTF-8 text, which the host types with the keys of the server's German keymap.
    let stream = moonlight(
        &python,
        &client,
        &stream_args(
            "h264",
            "30",
            "5",
            &[
                "--input",
                "--input-delay",
                "2",
                "--text",
                "zä€",
                "--touch",
                "0.25,0.5",
            ],
        ),
    )
    .output()
    .unwrap();
    let (answer, ok, err) = summary(stream);
    assert!(ok && answer["started"] == true, "{err}\n{answer}");
    let log = host.log.lock().unwrap().clone();
    assert!(
        log.contains("input goes to the client's output (EIS"),
        "{log}"
    );
    let events = eis.events();
    const KEY_A: u64 = 30;
    const KEY_Y: u64 = 21;
    const KEY_E: u64 = 18;
    const KEY_APOSTROPHE: u64 = 40;
    const KEY_RIGHTALT: u64 = 100;
    assert_eq!(
        eis_keys(&events),
        vec![
            (KEY_A, true),
            (KEY_A, false),
            (KEY_Y, true),
            (KEY_Y, false),
            (KEY_APOSTROPHE, true),
            (KEY_APOSTROPHE, false),
            (KEY_RIGHTALT, true),
            (KEY_E, true),
            (KEY_E, false),
            (KEY_RIGHTALT, false),
        ],
        "{events:#?}"
    );
    // (Moonlight nudges the pointer ±10 px as the stream starts; the sequence's own move is
    // 12, −7.)
    let moved = eis_of(&events, "motion")
        .iter()
        .any(|m| m["dx"] == 12.0 && m["dy"] == -7.0);
    assert!(moved, "{events:#?}");
    assert_eq!(eis_of(&events, "button").len(), 2, "{events:#?}");
    let scroll = eis_of(&events, "scroll_discrete");
    assert_eq!(scroll[0]["dy"], -120, "one notch away from the user");
    // Moonlight's screen touch at (0.25, 0.5) lands a quarter into the client's region.
    let down = eis_of(&events, "touch_down");
    assert_eq!(
        (down.len(), down[0]["x"].as_f64(), down[0]["y"].as_f64()),
        (1, Some(2240.0), Some(360.0)),
        "{events:#?}"
    );
    assert_eq!(eis_of(&events, "touch_up").len(), 1, "{events:#?}");
    let seen = events.len();

    // The native plane: key presses, then pointer and touch on the client's own region.
    let probe = probe_tool(&scratch("input-ei-probe"))
        .arg("--connect")
        .arg(host.addr.to_string())
        .args([
            "--mode",
            "1280x720@30",
            "--codec",
            "h264",
            "--seconds",
            "4",
            "--type-after",
            "1",
            "--type-text",
            "Ab\n",
            "--send-text",
            "z",
            "--pointer-test",
        ])
        .output()
        .unwrap();
    let (summary_json, ok, err) = summary(probe);
    assert!(ok, "{err}\n{summary_json}");
    let events = eis.events().split_off(seen);
    const KEY_LEFTSHIFT: u64 = 42;
    const KEY_B: u64 = 48;
    const KEY_ENTER: u64 = 28;
    assert_eq!(
        eis_keys(&events),
        vec![
            (KEY_LEFTSHIFT, true),
            (KEY_A, true),
            (KEY_A, false),
            (KEY_LEFTSHIFT, false),
            (KEY_B, true),
            (KEY_B, false),
            (KEY_ENTER, true),
            (KEY_ENTER, false),
            // The text message's "z", on the German keymap's own key.
            (KEY_Y, true),
            (KEY_Y, false),
        ],
        "{events:#?}"
    );
    // The middle of the client's 1280×720 picture is the middle of its region at x 1920.
    let absolute = eis_of(&events, "absolute");
    assert_eq!(
        (absolute[0]["x"].as_f64(), absolute[0]["y"].as_f64()),
        (Some(2560.0), Some(360.0)),
        "{events:#?}"
    );
    let scrolls: Vec<(i64, i64)> = eis_of(&events, "scroll_discrete")
        .iter()
        .map(|e| (e["dx"].as_i64().unwrap(), e["dy"].as_i64().unwrap()))
        .collect();
    assert_eq!(scrolls, vec![(0, -120), (120, 0)], "{events:#?}");
    let down = eis_of(&events, "touch_down");
    assert_eq!(
        (
            down[0]["id"].as_u64(),
            down[0]["x"].as_f64(),
            down[0]["y"].as_f64()
        ),
        (Some(5), Some(2240.0), Some(360.0)),
        "{events:#?}"
    );
    assert_eq!(eis_of(&events, "touch_motion")[0]["x"], 2250.0);
    assert_eq!(eis_of(&events, "touch_up").len(), 1, "{events:#?}");
}

#[test]
fn with_input_uinput_the_host_makes_kernel_devices_or_says_why_not() {
    let Some(sway) = sway() else { return };
    let host = Host::launch_env(
        &scratch("input-uinput-host"),
        &["--open", "--source", "compositor", "--input", "uinput"],
        &sway.env(),
    );
    let probe = probe_tool(&scratch("input-uinput-probe"))
        .arg("--connect")
        .arg(host.addr.to_string())
        .args(["--mode", "1280x720@30", "--codec", "h264", "--seconds", "2"])
        .output()
        .unwrap();
    let (summary_json, ok, err) = summary(probe);
    assert!(ok, "{err}\n{summary_json}");
    let log = host.log.lock().unwrap().clone();
    let usable = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/uinput")
        .is_ok();
    if usable {
        assert!(
            log.contains("input goes to the client's output (uinput"),
            "{log}"
        );
    } else {
        // The stream goes on without input, and the log says what is missing.
        eprintln!("SKIPPED (device part): /dev/uinput cannot be opened here");
        assert!(
            log.contains("input stays counted only: uinput keyboard and mouse:"),
            "{log}"
        );
    }
}
