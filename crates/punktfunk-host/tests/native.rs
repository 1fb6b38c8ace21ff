//! The native plane end to end on loopback: `punktfunk-host punktfunk1-host` and real
//! `punktfunk-probe` processes (plus a hand-made QUIC client for hostile input).

mod common;

use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

#[test]
fn a_720p60_h264_session_decodes_every_frame_in_order() {
    let host = Host::start(&[]);
    let (s, ok, err) = probe(
        &host,
        &[
            "--mode",
            "1280x720@60",
            "--codec",
            "h264",
            "--seconds",
            "5",
            "--quit",
        ],
    );
    assert!(ok, "{s}\n{err}");
    assert_eq!(s["mode"], "1280x720@60");
    assert_eq!(s["codec"], "h264");
    assert_eq!(s["synthetic_media"], false, "a real encoder ran");
    assert!(num(&s, "frames_decoded") >= 295.0, "{s}");
    assert_eq!(num(&s, "frames_corrupt"), 0.0);
    assert_eq!(num(&s, "frames_out_of_order"), 0.0);
    assert!(num(&s, "latency_ms_p50") > 0.0, "{s}");
    assert!(
        host.log_shows("client quit", Duration::from_secs(3)),
        "0x51 seen as a quit"
    );
}

#[test]
fn the_host_keeps_its_identity_across_restarts() {
    let config = scratch("restart");
    let first = Host::start_in(&config, &["--source", "synthetic"]);
    let fingerprint = first.fingerprint.clone();
    let (s, ok, err) = probe(&first, &["--seconds", "1"]);
    assert!(ok, "{s}\n{err}");
    assert_eq!(s["host_fingerprint"], fingerprint.as_str());
    drop(first);
    let second = Host::start_in(&config, &["--source", "synthetic"]);
    assert_eq!(second.fingerprint, fingerprint);
}

#[test]
fn hevc_and_av1_sessions_decode_correctly() {
    let host = Host::start(&[]);
    for codec in ["hevc", "av1"] {
        let (s, ok, err) = probe(
            &host,
            &["--mode", "640x360@30", "--codec", codec, "--seconds", "2"],
        );
        assert!(ok, "{s}\n{err}");
        assert_eq!(s["codec"], codec);
        assert!(num(&s, "frames_decoded") >= 50.0, "{s}");
        assert_eq!(num(&s, "frames_corrupt"), 0.0, "{s}");
        assert_eq!(num(&s, "frames_out_of_order"), 0.0, "{s}");
    }
}

#[test]
fn fec_and_keyframe_requests_repair_loss() {
    // Video alone: the probe's simulated loss draws from one random sequence for every media
    // datagram, and audio packets would change which video packets it takes from run to run.
    let host = Host::start(&["--fec-percent", "20", "--audio", "off"]);
    let (s, ok, err) = probe(
        &host,
        &["--codec", "h264", "--seconds", "5", "--loss", "10"],
    );
    assert!(ok, "{s}\n{err}");
    let decoded = num(&s, "frames_decoded");
    let lost = num(&s, "frames_lost");
    assert!(decoded / (decoded + lost) >= 0.99, "{s}");
    assert!(
        num(&s, "shards_recovered") > 30.0,
        "FEC did the repairs: {s}"
    );

    let (s, ok, err) = probe(
        &host,
        &[
            "--codec",
            "h264",
            "--seconds",
            "3",
            "--loss",
            "40",
            "--loss-seconds",
            "1",
        ],
    );
    assert!(ok, "{s}\n{err}");
    assert!(num(&s, "keyframes_requested") >= 1.0, "{s}");
    assert_eq!(num(&s, "frames_corrupt"), 0.0);
    let recovery = num(&s, "recovery_ms_after_loss");
    assert!(
        recovery <= 200.0,
        "clean picture {recovery} ms after the loss ended: {s}"
    );
}

#[test]
fn a_mode_change_mid_stream_starts_a_new_epoch_at_the_new_size() {
    let host = Host::start(&[]);
    let (s, ok, err) = probe(
        &host,
        &[
            "--mode",
            "1280x720@60",
            "--codec",
            "h264",
            "--seconds",
            "3",
            "--reconfigure",
            "640x360@30",
            "--reconfigure-after",
            "1",
        ],
    );
    assert!(ok, "{s}\n{err}");
    assert_eq!(s["last_picture"], "640x360", "{s}");
    assert_eq!(num(&s, "last_epoch"), 1.0, "{s}");
    assert_eq!(num(&s, "frames_corrupt"), 0.0, "{s}");
    assert_eq!(num(&s, "frames_out_of_order"), 0.0, "{s}");
    assert!(host.log_shows("mode changed", Duration::from_secs(2)));
}

#[test]
fn two_probes_at_once_each_get_their_own_mode() {
    let host = Host::start(&[]);
    let a = probe_command(&host, &["--mode", "1280x720@60", "--seconds", "3"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let b = probe_command(&host, &["--mode", "640x360@30", "--seconds", "3"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Frame rates are a benchmark matter (docs/performance.md); here each stream must carry
    // pictures of its own size, whole and in order.
    for (child, mode, size) in [(a, "1280x720@60", "1280x720"), (b, "640x360@30", "640x360")] {
        let (s, ok, err) = summary(child.wait_with_output().unwrap());
        assert!(ok, "{s}\n{err}");
        assert_eq!(s["mode"], mode);
        assert_eq!(s["last_picture"], size, "{s}");
        assert!(num(&s, "frames_decoded") >= 10.0, "{s}");
        assert_eq!(num(&s, "frames_corrupt"), 0.0);
        assert_eq!(num(&s, "frames_out_of_order"), 0.0);
    }
}

#[test]
fn a_silent_client_is_dropped_after_the_idle_timeout() {
    let host = Host::start(&["--idle-timeout-ms", "1000", "--source", "synthetic"]);
    let mut child = probe_command(&host, &["--seconds", "20", "--idle-timeout-ms", "60000"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(host.log_shows("welcome", Duration::from_secs(5)));
    // Freeze the client: it stops answering without closing anything.
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .unwrap()
        .success());
    let dropped = host.log_shows("idle timeout", Duration::from_secs(4));
    let _ = Command::new("kill").args(["-CONT", &pid]).status();
    let _ = child.kill();
    let _ = child.wait();
    assert!(dropped, "host log:\n{}", host.log.lock().unwrap());
}

#[test]
fn sessions_beyond_the_limit_are_refused_with_a_reason() {
    let host = Host::start(&["--max-sessions", "1", "--source", "synthetic"]);
    let mut first = probe_command(&host, &["--seconds", "4"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(host.log_shows("welcome", Duration::from_secs(5)));
    let (_, ok, err) = probe(&host, &["--seconds", "1"]);
    assert!(!ok);
    assert!(err.contains("maximum number of sessions"), "{err}");
    assert!(first.wait().unwrap().success());
}

#[test]
fn garbage_is_refused_and_other_sessions_keep_streaming() {
    let host = Host::start(&["--source", "synthetic"]);
    let good = probe_command(&host, &["--seconds", "3"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(host.log_shows("welcome", Duration::from_secs(5)));

    // Datagrams that look like media and like QUIC, from a stranger.
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..200u32 {
        let mut junk = vec![(i % 256) as u8; 64 + (i as usize * 7) % 1200];
        junk[0] = if i % 2 == 0 { 0x00 } else { 0xC3 };
        udp.send_to(&junk, host.addr).unwrap();
    }

    // A real QUIC client that sends garbage on its control stream is closed with a typed code.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let code = runtime.block_on(async {
        let id = punktfunk_net::identity::Identity::generate("rogue").unwrap();
        let ep = punktfunk_net::endpoint::bind("127.0.0.1:0".parse().unwrap(), None).unwrap();
        let cfg = punktfunk_net::tls::client_config(&id, Duration::from_secs(5)).unwrap();
        let conn = ep
            .endpoint
            .connect_with(cfg, host.addr, "punktfunk")
            .unwrap()
            .await
            .unwrap();
        let (mut send, _recv) = conn.open_bi().await.unwrap();
        // A frame header claiming a 1 MiB Hello.
        send.write_all(&[0x01, 0x80, 0x10, 0x00, 0x00])
            .await
            .unwrap();
        match conn.closed().await {
            quinn::ConnectionError::ApplicationClosed(c) => c.error_code.into_inner(),
            other => panic!("expected an application close, got {other}"),
        }
    });
    assert_eq!(
        code,
        u64::from(punktfunk_core::wire::close::PROTOCOL_VIOLATION)
    );

    let (s, ok, err) = summary(good.wait_with_output().unwrap());
    assert!(ok, "{s}\n{err}");
    assert!(num(&s, "frames_decoded") >= 170.0, "{s}");
    assert_eq!(num(&s, "frames_corrupt"), 0.0);
}

/// A native client's pads: an Xbox pad plugged in, pressed, released and unplugged through the
/// control stream; a DualSense touched and moved. The host makes (or, without the device nodes,
/// loudly cannot make) the virtual pads; touch and motion reach the DualSense in its own units,
/// and a touch on the Xbox pad is dropped.
#[test]
fn a_native_clients_pad_becomes_a_virtual_pad_or_pads_go_off_loudly() {
    let host = Host::start(&[]);
    let (answer, ok, stderr) = probe(&host, &["--seconds", "3", "--pad-test"]);
    assert!(ok, "probe failed: {stderr}\n{answer}");
    let log = || host.log.lock().unwrap().clone();
    for line in [
        "pad 0 arrived (xbox)",
        "pad 0 PadState { buttons: 4096, left_trigger: 0, right_trigger: 200, \
         left_stick: (12000, 8000), right_stick: (0, 0) }",
        "pad 0 PadState { buttons: 0, left_trigger: 0, right_trigger: 0, left_stick: (0, 0), \
         right_stick: (0, 0) }",
        "pad 0 removed",
        "pad 1 arrived (dualsense)",
        // The middle of the touchpad (32768 of 65535) in the DualSense's 1920 × 1080.
        "pad 1 Touchpad { points: [Some(TouchPoint { id: 0, x: 960, y: 540 }), None] }",
        "pad 1 Touchpad { points: [None, None] }",
        // Two touches and two motion samples reached the DualSense; the Xbox pad's touch did not.
        "touch=2 motion=2 battery=0 ignored=1",
    ] {
        assert!(
            host.log_shows(line, Duration::from_secs(5)),
            "never logged {line}:\n{}",
            log()
        );
    }
    // The pads' line comes before "pads ended", which was waited for above.
    assert_pads_made_or_off_loudly(&log());
}
