//! Session lifecycle on a real headless Sway: a dropped client comes back to its own display,
//! a reconnect preempts the client's stale session, a quit releases at once, admission and the
//! mode-conflict policies.

mod common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;
use punktfunk_capture::testing::HeadlessSway;
use serde_json::Value;

/// Parked outputs (sway 1.7 cannot remove headless outputs) sit at this x or beyond.
const PARKED_X: i64 = 1 << 20;

fn sway() -> Option<HeadlessSway> {
    if !HeadlessSway::is_installed() {
        eprintln!("SKIPPED: sway is not installed (scripts/install-deps.sh installs it)");
        return None;
    }
    Some(HeadlessSway::start().expect("headless sway starts"))
}

fn host(sway: &HeadlessSway, name: &str, extra: &[&str]) -> Host {
    let mut args = vec!["--open", "--source", "compositor"];
    args.extend_from_slice(extra);
    Host::launch_env(&scratch(name), &args, &sway.env())
}

/// Names of the outputs on the desktop made for sessions (not HEADLESS-1, not parked).
fn desktop_outputs(sway: &HeadlessSway) -> Vec<String> {
    sway.outputs()
        .unwrap()
        .iter()
        .filter(|o| {
            o["active"] == true
                && o["name"] != "HEADLESS-1"
                && o["rect"]["x"].as_i64().unwrap_or(0) < PARKED_X
        })
        .map(|o| o["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn wait_for(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + within;
    while Instant::now() < end {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    check()
}

/// A probe streaming for `seconds` with its identity in `client`.
fn spawn_probe(host: &Host, client: &Path, args: &[&str]) -> Child {
    probe_tool(client)
        .arg("--connect")
        .arg(host.addr.to_string())
        .args(["--codec", "h264"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn displays(host: &Host) -> Vec<Value> {
    ctl(host, &["displays"])
        .1
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn a_dropped_client_comes_back_to_its_lingering_display() {
    let Some(sway) = sway() else { return };
    // A short idle timeout so the host notices the drop quickly and the display lingers.
    let host = host(
        &sway,
        "linger-host",
        &["--idle-timeout-ms", "1000", "--keep-alive-ms", "20000"],
    );
    let client = scratch("linger-client");
    let mut first = spawn_probe(
        &host,
        &client,
        &[
            "--mode",
            "1280x720@60",
            "--seconds",
            "30",
            "--idle-timeout-ms",
            "1000",
        ],
    );
    assert!(wait_for(Duration::from_secs(10), || desktop_outputs(&sway)
        .len()
        == 1));
    let output = desktop_outputs(&sway)[0].clone();
    first.kill().unwrap(); // no quit, no close: the network just went away
    first.wait().unwrap();
    assert!(
        wait_for(Duration::from_secs(5), || displays(&host)
            .first()
            .is_some_and(|d| d["state"] == "lingering")),
        "the display lingers: {:?}",
        displays(&host)
    );
    assert!(displays(&host)[0]["linger_ms_left"].as_u64().unwrap() > 10_000);
    assert_eq!(
        desktop_outputs(&sway),
        std::slice::from_ref(&output),
        "still there while lingering"
    );
    let total = sway.outputs().unwrap().len();

    let (summary, ok, err) = summary(
        spawn_probe(&host, &client, &["--mode", "1280x720@60", "--seconds", "1"])
            .wait_with_output()
            .unwrap(),
    );
    assert!(ok, "{err}");
    assert_eq!(summary["last_picture"], "1280x720");
    assert_eq!(
        sway.outputs().unwrap().len(),
        total,
        "no second output was made"
    );
    assert!(host.log_shows(
        &format!("output={output} reused=true"),
        Duration::from_secs(1)
    ));
}

#[test]
fn a_reconnect_preempts_the_clients_stale_session_and_reuses_its_display() {
    let Some(sway) = sway() else { return };
    // The default 8 s idle timeout: the host still thinks the old session is alive.
    let host = host(&sway, "preempt-host", &[]);
    let client = scratch("preempt-client");
    let mut first = spawn_probe(
        &host,
        &client,
        &["--mode", "1280x720@60", "--seconds", "30"],
    );
    assert!(wait_for(Duration::from_secs(10), || desktop_outputs(&sway)
        .len()
        == 1));
    let output = desktop_outputs(&sway)[0].clone();
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(
        displays(&host)[0]["state"],
        "active",
        "the host has not noticed the drop"
    );
    let total = sway.outputs().unwrap().len();

    let started = Instant::now();
    let (summary, ok, err) = summary(
        spawn_probe(&host, &client, &["--mode", "1280x720@60", "--seconds", "1"])
            .wait_with_output()
            .unwrap(),
    );
    assert!(ok, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "no wait for the idle timeout"
    );
    assert_eq!(summary["last_picture"], "1280x720");
    assert!(
        host.log_shows(
            "preempting this client's older session",
            Duration::from_secs(1)
        ),
        "{}",
        host.log.lock().unwrap()
    );
    assert!(
        host.log_shows(
            &format!("output={output} reused=true"),
            Duration::from_secs(1)
        ),
        "{}",
        host.log.lock().unwrap()
    );
    assert_eq!(
        sway.outputs().unwrap().len(),
        total,
        "only one output for this client"
    );
}

#[test]
fn quit_releases_at_once_and_a_plain_disconnect_after_the_window() {
    let Some(sway) = sway() else { return };
    let host = host(&sway, "quit-host", &["--keep-alive-ms", "2000"]);
    let client = scratch("quit-client");
    let quitter = spawn_probe(
        &host,
        &client,
        &["--mode", "1280x720@60", "--seconds", "1", "--quit"],
    );
    let (_, ok, err) = summary(quitter.wait_with_output().unwrap());
    assert!(ok, "{err}");
    let exited = Instant::now();
    assert!(
        wait_for(Duration::from_millis(500), || desktop_outputs(&sway)
            .is_empty()),
        "gone within 500 ms of the quit"
    );
    eprintln!(
        "released {} ms after the quitting probe exited",
        exited.elapsed().as_millis()
    );
    assert!(displays(&host).is_empty());

    let (_, ok, err) = summary(
        spawn_probe(&host, &client, &["--mode", "1280x720@60", "--seconds", "1"])
            .wait_with_output()
            .unwrap(),
    );
    assert!(ok, "{err}");
    let left = Instant::now();
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(
        desktop_outputs(&sway).len(),
        1,
        "kept during the keep-alive window"
    );
    assert!(
        wait_for(Duration::from_secs(3), || desktop_outputs(&sway).is_empty()),
        "released after it"
    );
    assert!(left.elapsed() >= Duration::from_millis(1900));
}

#[test]
fn admission_and_mode_conflict_policies() {
    if sway().is_none() {
        return;
    }
    let (a, b) = (scratch("policy-a"), scratch("policy-b"));

    // One session at most: the second client is refused with its reason.
    {
        // A compositor per case: a killed host leaves its outputs behind.
        let sway = sway().unwrap();
        let host = host(&sway, "policy-max", &["--max-sessions", "1"]);
        let first = spawn_probe(&host, &a, &["--mode", "1280x720@60", "--seconds", "3"]);
        assert!(wait_for(Duration::from_secs(10), || desktop_outputs(&sway)
            .len()
            == 1));
        let (_, ok, err) = summary(
            spawn_probe(&host, &b, &["--mode", "640x480@30", "--seconds", "1"])
                .wait_with_output()
                .unwrap(),
        );
        assert!(!ok && err.contains("0x6d"), "{err}");
        assert!(summary(first.wait_with_output().unwrap()).1);
    }
    // reject: refused while another client's display is live.
    {
        let sway = sway().unwrap();
        let host = host(
            &sway,
            "policy-reject",
            &["--mode-conflict", "reject", "--keep-alive-ms", "0"],
        );
        let first = spawn_probe(&host, &a, &["--mode", "1280x720@60", "--seconds", "3"]);
        assert!(wait_for(Duration::from_secs(10), || desktop_outputs(&sway)
            .len()
            == 1));
        let (_, ok, err) = summary(
            spawn_probe(&host, &b, &["--mode", "640x480@30", "--seconds", "1"])
                .wait_with_output()
                .unwrap(),
        );
        assert!(!ok && err.contains("busy") && err.contains("0x42"), "{err}");
        assert!(summary(first.wait_with_output().unwrap()).1);
    }
    // join: the second client shares the live display at its mode.
    {
        let sway = sway().unwrap();
        let host = host(
            &sway,
            "policy-join",
            &["--mode-conflict", "join", "--keep-alive-ms", "0"],
        );
        let first = spawn_probe(&host, &a, &["--mode", "1280x720@60", "--seconds", "4"]);
        assert!(wait_for(Duration::from_secs(10), || desktop_outputs(&sway)
            .len()
            == 1));
        let (summary_b, ok, err) = summary(
            spawn_probe(&host, &b, &["--mode", "640x480@30", "--seconds", "1"])
                .wait_with_output()
                .unwrap(),
        );
        assert!(ok, "{err}");
        assert_eq!(
            summary_b["last_picture"], "1280x720",
            "the live display's mode"
        );
        assert_eq!(
            desktop_outputs(&sway).len(),
            1,
            "shared, not a second output"
        );
        assert!(
            summary(first.wait_with_output().unwrap()).1,
            "the first client kept streaming"
        );
    }
    // steal: the newcomer ends the other client's session and gets its own display.
    {
        let sway = sway().unwrap();
        let host = host(
            &sway,
            "policy-steal",
            &["--mode-conflict", "steal", "--keep-alive-ms", "0"],
        );
        let first = spawn_probe(&host, &a, &["--mode", "1280x720@60", "--seconds", "20"]);
        assert!(wait_for(Duration::from_secs(10), || desktop_outputs(&sway)
            .len()
            == 1));
        let started = Instant::now();
        let second = spawn_probe(&host, &b, &["--mode", "640x480@30", "--seconds", "2"]);
        let (summary_a, _, _) = summary(first.wait_with_output().unwrap());
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the first session was ended"
        );
        let why = summary_a["closed_by_host"].as_str().unwrap_or_default();
        assert!(why.contains("took over"), "{summary_a}");
        let (summary_b, ok, err) = summary(second.wait_with_output().unwrap());
        assert!(ok, "{err}");
        assert_eq!(summary_b["last_picture"], "640x480");
    }
}

/// Acceptance 5: the same reuse and quit behaviour for a stock Moonlight client (moonlight-python
/// on moonlight-common-c) on the GameStream plane. A dropped stream's display lingers and the
/// next stream of that client lands on it; Quit App takes it away at once.
#[test]
fn a_moonlight_client_comes_back_to_its_display_and_quit_app_releases_it() {
    use common::moonlight::*;
    let Some(python) = venv_python() else { return };
    let Some(sway) = sway() else { return };
    // Moonlight waits for a picture that is not black before it calls the stream started.
    sway.swaymsg(&["output * bg #305080 solid_color"]).unwrap();
    let host = Host::launch_env(
        &scratch("lifecycle-gs"),
        &[
            "--source",
            "compositor",
            "--gamestream",
            "--gamestream-port",
            &BASE.to_string(),
        ],
        &sway.env(),
    );
    assert!(host.log_shows("GameStream plane up", Duration::from_secs(20)));
    let client = paired_client(&host, &python, "lifecycle-gs-client");
    let stream = |extra: &[&str]| {
        let (answer, _) = run(&python, &client, &stream_args("h264", "30", "2", extra));
        assert_eq!(
            answer["started"],
            true,
            "{answer}\n{}",
            host.log.lock().unwrap()
        );
        assert!(num(&answer, "frames") >= 10.0, "{answer}");
        assert_eq!(
            (num(&answer, "width"), num(&answer, "height")),
            (1280.0, 720.0)
        );
        answer
    };

    stream(&[]);
    // The stream ended without a quit: its display lingers for the client.
    let first = desktop_outputs(&sway);
    assert_eq!(first.len(), 1, "{first:?}");
    stream(&[]);
    assert!(
        host.log_shows("reused=true", Duration::from_secs(1)),
        "the second stream got a new display:\n{}",
        host.log.lock().unwrap()
    );
    assert_eq!(desktop_outputs(&sway), first, "a second output appeared");

    let quit = stream(&["--quit"]);
    assert_eq!(quit["quit"]["ok"], true, "{quit}");
    assert!(
        wait_for(Duration::from_millis(500), || desktop_outputs(&sway)
            .is_empty()),
        "Quit App left {:?}",
        desktop_outputs(&sway)
    );
}
