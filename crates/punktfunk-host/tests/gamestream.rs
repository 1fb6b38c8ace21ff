//! The GameStream plane against the real Moonlight core: `moonlight-python` wraps
//! moonlight-common-c, the library every Moonlight client is built on. Each test drives it
//! through `tests/gamestream/ml_probe.py` (one JSON line per run) against a host started with
//! `--gamestream`.
//!
//! moonlight-python comes from `scripts/install-deps.sh` (a Python venv). Without it the tests
//! skip loudly, unless `PUNKTFUNK_REQUIRE_TOOLS=1` (set by `scripts/test.sh`) makes it a failure.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::time::Duration;

use common::moonlight::*;
use common::*;
use serde_json::Value;

fn gamestream_host(config: &Path, extra: &[&str]) -> Host {
    let mut args = vec!["--gamestream", "--gamestream-port", "47989"];
    args.extend_from_slice(extra);
    let host = Host::launch(config, &args);
    assert!(
        host.log_shows("GameStream plane up", Duration::from_secs(20)),
        "{}",
        host.log.lock().unwrap()
    );
    host
}

fn stream(python: &Path, client: &Path, codec: &str, extra: &[&str]) -> Value {
    run(python, client, &stream_args(codec, "60", "3", extra)).0
}

fn assert_streamed(answer: &Value, host: &Host) {
    let log = || host.log.lock().unwrap().clone();
    assert_eq!(answer["started"], true, "{answer}\n{}", log());
    assert!(num(answer, "frames") >= 100.0, "{answer}\n{}", log());
    assert!(
        num(answer, "stamped") >= 100.0,
        "frame numbers unreadable: {answer}"
    );
    assert_eq!(answer["increasing"], true, "{answer}");
    assert_eq!(
        (num(answer, "width"), num(answer, "height")),
        (1280.0, 720.0)
    );
}

#[test]
fn moonlight_pairs_with_the_right_pin_and_stays_unpaired_with_a_wrong_one() {
    let Some(python) = venv_python() else { return };
    let host = gamestream_host(&scratch("gs-pair"), &[]);

    let stranger = scratch("gs-stranger");
    let (before, _) = run(&python, &stranger, &["applist"]);
    assert_eq!(
        before["ok"], false,
        "an unpaired client got the app list: {before}"
    );

    let wrong = pair(&host, &python, &stranger, "1234", "9999");
    assert_eq!(wrong["paired"], false, "{wrong}");
    let (after, _) = run(&python, &stranger, &["applist"]);
    assert_eq!(after["ok"], false, "a wrong PIN paired the client: {after}");

    let client = scratch("gs-friend");
    let right = pair(&host, &python, &client, "4711", "4711");
    assert_eq!(
        right["paired"],
        true,
        "{right}\n{}",
        host.log.lock().unwrap()
    );
    assert_eq!(right["applist"], serde_json::json!(["Desktop"]), "{right}");
    let (list, _) = run(&python, &client, &["applist"]);
    assert_eq!(list["ok"], true, "{list}");

    // The paired client is a device like any other: listed, with its plane.
    let (code, devices, _) = ctl(&host, &["clients"]);
    assert_eq!(code, 0);
    let planes: Vec<_> = devices
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["plane"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(planes, ["gamestream"], "{devices}");
}

#[test]
fn desktop_streams_h264_and_hevc_with_everything_encrypted_and_the_tone_and_input_arrive() {
    let Some(python) = venv_python() else { return };
    let host = gamestream_host(&scratch("gs-stream"), &[]);
    let client = paired_client(&host, &python, "gs-streamer");

    let h264 = stream(&python, &client, "h264", &["--audio", "--input"]);
    assert_streamed(&h264, &host);
    // moonlight-common-c asks for every encryption the host supports.
    assert!(
        host.log_shows("encryption=\"0x7\"", Duration::from_secs(1)),
        "not everything was encrypted:\n{}",
        host.log.lock().unwrap()
    );
    let peak = h264["audio"]["peak_hz"].as_f64().unwrap_or(0.0);
    assert!(
        (980.0..=1020.0).contains(&peak),
        "audio peak at {peak} Hz: {h264}"
    );
    for event in [
        "MouseMove { dx: 12, dy: -7 }",
        "MouseButton { button: Left, pressed: true }",
        "MouseButton { button: Left, pressed: false }",
        "Key { code: 65, pressed: true",
        "Key { code: 65, pressed: false",
        "Scroll { amount: 120 }",
    ] {
        assert!(
            host.log_shows(event, Duration::from_secs(2)),
            "the input sink never got {event}; sent {}\n{}",
            h264["input_sent"],
            host.log.lock().unwrap()
        );
    }

    let hevc = stream(&python, &client, "hevc", &[]);
    assert_streamed(&hevc, &host);
}

#[test]
fn quit_app_ends_the_session_at_once_and_a_relaunch_streams_again() {
    let Some(python) = venv_python() else { return };
    let host = gamestream_host(&scratch("gs-quit"), &[]);
    let client = paired_client(&host, &python, "gs-quitter");

    let first = stream(&python, &client, "h264", &["--quit"]);
    assert_streamed(&first, &host);
    assert_eq!(first["quit"]["ok"], true, "{first}");
    let took = num(&first["quit"], "seconds");
    assert!(took < 1.0, "Quit App took {took} s");
    assert!(host.log_shows("GameStream app quit", Duration::from_secs(1)));

    let again = stream(&python, &client, "h264", &[]);
    assert_streamed(&again, &host);
}

#[test]
fn ten_percent_video_loss_with_twenty_percent_fec_still_decodes_nearly_every_frame() {
    let Some(python) = venv_python() else { return };
    let host = gamestream_host(
        &scratch("gs-loss"),
        &[
            "--gamestream-drop-video-percent",
            "10",
            "--gamestream-fec-percent",
            "20",
        ],
    );
    let client = paired_client(&host, &python, "gs-lossy");
    // Six seconds (~360 frames): in a 3 s run (~182 frames) two unlucky frames already broke
    // the 99 % bar once; a longer run weighs each lost frame half as much.
    let answer = stream(&python, &client, "h264", &["--seconds", "6"]);
    assert_eq!(answer["started"], true, "{answer}");
    let span = num(&answer, "last_stamp") - num(&answer, "first_stamp") + 1.0;
    let clean = num(&answer, "distinct_stamps");
    assert!(
        clean / span >= 0.99,
        "{clean} of {span} frames decoded clean: {answer}"
    );
    // The loss was real: the host says how many packets it dropped on purpose.
    assert!(host.log_shows("GameStream video stopped", Duration::from_secs(10)));
    let log = host.log.lock().unwrap().clone();
    let dropped: u64 = log
        .lines()
        .find(|l| l.contains("GameStream video stopped"))
        .and_then(|l| l.split("dropped=").nth(1))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(dropped > 50, "only {dropped} packets dropped");
}

#[test]
fn garbage_on_every_gamestream_port_is_refused_and_the_host_keeps_serving() {
    let Some(python) = venv_python() else { return };
    let host = gamestream_host(&scratch("gs-garbage"), &[]);
    let junk: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    let local = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));

    // TCP: nvhttp (plain and TLS) and RTSP get junk and a request line that is far too long.
    for port in [BASE, BASE - 5, BASE + 21] {
        let mut tcp = TcpStream::connect(local(port)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let _ = tcp.write_all(&junk);
        let _ = tcp.write_all(&[b'A'; 100_000]);
        let mut reply = Vec::new();
        // Either an error reply or a closed connection: never a hang past the timeout.
        let _ = tcp.read_to_end(&mut reply);
    }
    // UDP: the control (ENet), video and audio ports.
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    for port in [BASE + 10, BASE + 9, BASE + 11] {
        for size in [1, 4, 20, 1400] {
            udp.send_to(&junk[..size], local(port)).unwrap();
        }
    }
    // Still serving: a client pairs and streams.
    let client = paired_client(&host, &python, "gs-after-garbage");
    let answer = stream(&python, &client, "h264", &[]);
    assert_streamed(&answer, &host);
}

#[test]
fn moonlight_controllers_become_virtual_pads_or_pads_go_off_loudly() {
    let Some(python) = venv_python() else { return };
    let host = gamestream_host(&scratch("gs-pads"), &[]);
    let client = paired_client(&host, &python, "gs-gamer");

    let answer = stream(&python, &client, "h264", &["--pads"]);
    assert_streamed(&answer, &host);
    let sent = answer["input_sent"].as_array().cloned().unwrap_or_default();
    assert_eq!(sent.len(), 12, "{answer}");
    assert!(sent.iter().all(|e| e["rc"] == 0), "{answer}");
    let shows = |text: &str| host.log_shows(text, Duration::from_secs(5));
    let log = || host.log.lock().unwrap().clone();
    for line in [
        // The arrivals pick the models.
        "pad 0 arrived (xbox)",
        "pad 1 arrived (dualsense)",
        // Moonlight's packet as decoded, and the pad state made of it (stick +y up both).
        "input Controller(ControllerState { controller_number: 0, active_gamepad_mask: 3, \
         buttons: 4096, left_trigger: 0, right_trigger: 200, left_stick_x: 1000, \
         left_stick_y: 32767, right_stick_x: -5, right_stick_y: -32768 })",
        "pad 0 PadState { buttons: 4096, left_trigger: 0, right_trigger: 200, \
         left_stick: (1000, 32767), right_stick: (-5, -32768) }",
        "pad 0 PadState { buttons: 0, left_trigger: 0, right_trigger: 0, left_stick: (0, 0), \
         right_stick: (0, 0) }",
        // The DualSense's touchpad (1920 × 1080): down at (0.25, 0.75), lifted.
        "pad 1 Touchpad { points: [Some(TouchPoint { id: 0, x: 480, y: 809 }), None] }",
        "pad 1 Touchpad { points: [None, None] }",
        "pad 1 Battery { charge: Discharging, percent: 42 }",
        // Unplugged by the mask, then the rest when the stream ends.
        "pad 1 removed",
        "pad 0 removed",
        "pads ended",
    ] {
        assert!(shows(line), "never logged {line}; sent {answer}\n{}", log());
    }
    // What reached the DualSense: down, (move,) up; the motion samples (unreliable on the
    // wire, so at least one); the battery. The touch on the Xbox pad was dropped.
    let ended = log()
        .lines()
        .find(|l| l.contains("pads ended"))
        .map(str::to_owned)
        .unwrap_or_default();
    let count = |key: &str| -> u64 {
        ended
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{key}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {key}= in {ended}"))
    };
    assert!(count("touch") >= 2, "{ended}");
    assert!(count("motion") >= 1, "{ended}");
    assert_eq!((count("battery"), count("ignored")), (1, 1), "{ended}");
    // Motion is asked of a client only for a DualSense that exists, accelerometer and gyro at
    // 100 Hz, as moonlight-common-c hands it to the client.
    let motion_asked: Vec<_> = answer["pad_feedback"]
        .as_array()
        .expect("pad_feedback recorded")
        .iter()
        .filter(|f| f["kind"] == "motion")
        .map(|f| ["number", "type", "rate_hz"].map(|k| f[k].as_u64().unwrap_or(u64::MAX)))
        .collect();
    if log().contains("pad 1: dualsense device made") {
        assert_eq!(motion_asked, [[1, 1, 100], [1, 2, 100]], "{answer}");
    } else {
        assert!(motion_asked.is_empty(), "{answer}");
        assert!(!log().contains("motion asked for"), "{}", log());
    }
    assert_pads_made_or_off_loudly(&log());
}
