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
        let mut args = vec![
            "stream",
            "--codec",
            "h264",
            "--width",
            "1280",
            "--height",
            "720",
            "--fps",
            "30",
            "--seconds",
            "6",
            "--input-delay",
            "4",
        ];
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
    assert_eq!(read(&native), "Native 7\n", "{}", host.log.lock().unwrap());
}
