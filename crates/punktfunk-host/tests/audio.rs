//! Audio both ways against a real PipeWire (daemon, WirePlumber and the Pulse server started by
//! the test): desktop audio played into the session sink reaches `punktfunk-probe` and a real
//! Moonlight client; the probe's microphone tone records from "punktfunk mic"; a host without
//! PipeWire streams video and says why audio is off.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::moonlight::{self, venv_python};
use common::*;
use punktfunk_pipewire::testing::Desktop;
use serde_json::Value;

const TONE_HZ: f64 = 1000.0;
const TOLERANCE_HZ: f64 = 20.0;

/// PipeWire, WirePlumber and pipewire-pulse, or `None` (skipped loudly) when they are missing
/// and the run does not require every tool.
fn pipewire() -> Option<Desktop> {
    let missing: Vec<&str> = [
        "pipewire",
        "wireplumber",
        "pipewire-pulse",
        "paplay",
        "parecord",
    ]
    .into_iter()
    .filter(|tool| {
        Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| !o.status.success())
    })
    .collect();
    if !missing.is_empty() {
        let why = format!("{missing:?} not installed (scripts/install-deps.sh installs them)");
        if std::env::var_os("PUNKTFUNK_REQUIRE_TOOLS").is_some_and(|v| v == "1") {
            panic!("{why}");
        }
        eprintln!("SKIPPED: {why}");
        return None;
    }
    let mut desktop = Desktop::start_pipewire().expect("PipeWire and WirePlumber start");
    desktop
        .start_pipewire_pulse()
        .expect("pipewire-pulse starts");
    Some(desktop)
}

/// A Pulse tool (paplay, parecord, pactl) talking to this desktop's server.
fn pulse_tool(desktop: &Desktop, tool: &str) -> Command {
    desktop.command(tool)
}

/// A host whose PipeWire is this desktop's, keeping its state in a directory named for the
/// test (tests run side by side until the host lock serialises them: never share a directory).
fn host_on(desktop: &Desktop, name: &str, extra: &[&str]) -> Host {
    Host::launch_env(
        &scratch(name),
        extra,
        &[
            ("PIPEWIRE_RUNTIME_DIR", desktop.runtime_dir()),
            ("XDG_RUNTIME_DIR", desktop.runtime_dir()),
        ],
    )
}

/// A 16-bit 48 kHz WAV of a sine tone on every channel.
fn tone_wav(dir: &Path, hz: f64, channels: u16, seconds: f64) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(format!("tone-{hz}-{channels}.wav"));
    let rate = 48_000u32;
    let frames = (f64::from(rate) * seconds) as u32;
    let data_len = frames * u32::from(channels) * 2;
    let mut wav = Vec::with_capacity(44 + data_len as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&channels.to_le_bytes());
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
    wav.extend_from_slice(&(channels * 2).to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames {
        let v = (0.4
            * (std::f64::consts::TAU * hz * f64::from(i) / f64::from(rate)).sin()
            * f64::from(i16::MAX)) as i16;
        for _ in 0..channels {
            wav.extend_from_slice(&v.to_le_bytes());
        }
    }
    std::fs::write(&path, wav).unwrap();
    path
}

/// Waits until the session sink "punktfunk" is (or, with `present` false, is no longer) the
/// default output.
fn wait_for_session_sink(desktop: &Desktop, host: &Host, present: bool) {
    let end = Instant::now() + Duration::from_secs(15);
    loop {
        let out = pulse_tool(desktop, "pactl")
            .arg("get-default-sink")
            .output()
            .unwrap();
        if (String::from_utf8_lossy(&out.stdout).trim() == "punktfunk") == present {
            return;
        }
        assert!(
            Instant::now() < end,
            "the session sink default = {present} never held ({}); host log:\n{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            host.log.lock().unwrap(),
            desktop.logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Plays `wav` into the default output (no device named: it must be the session sink), each
/// channel on its speaker (a plain WAV names no speakers; Pulse would guess a map that is not 5.1).
fn play(desktop: &Desktop, wav: &Path, channels: u16) -> Child {
    let map = match channels {
        6 => "front-left,front-right,front-center,lfe,rear-left,rear-right",
        _ => "front-left,front-right",
    };
    pulse_tool(desktop, "paplay")
        .arg(format!("--channel-map={map}"))
        .arg(wav)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn hz_of(audio: &Value) -> f64 {
    audio["peak_hz"].as_f64().unwrap_or(0.0)
}

#[test]
fn desktop_audio_played_into_the_session_sink_reaches_the_probe_in_stereo_and_5_1() {
    let Some(desktop) = pipewire() else { return };
    let dir = scratch("audio-wavs");
    for channels in [2u16, 6] {
        let host = host_on(
            &desktop,
            "audio-probe-host",
            &["--open", "--audio", "desktop"],
        );
        let probe = probe_command(
            &host,
            &[
                "--seconds",
                "5",
                "--audio-channels",
                &channels.to_string(),
                "--expect-audio-hz",
                &TONE_HZ.to_string(),
            ],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        wait_for_session_sink(&desktop, &host, true);
        let mut player = play(&desktop, &tone_wav(&dir, TONE_HZ, channels, 8.0), channels);
        let (answer, ok, stderr) = summary(probe.wait_with_output().unwrap());
        let _ = player.kill();
        let _ = player.wait();
        // The session's end takes the sink away and gives the default back.
        wait_for_session_sink(&desktop, &host, false);
        let audio = &answer["audio"];
        assert!(
            ok,
            "{channels} ch: probe failed: {stderr}\n{answer}\nhost:\n{}",
            host.log.lock().unwrap()
        );
        assert_eq!(audio["channels"], u64::from(channels), "{answer}");
        assert!(
            (hz_of(audio) - TONE_HZ).abs() <= TOLERANCE_HZ,
            "{channels} ch: heard {audio}"
        );
        assert!(audio["packets"].as_u64().unwrap_or(0) > 200, "{audio}");
        eprintln!(
            "{channels} ch: peak {} Hz, capture→client latency p50 {} ms p95 {} ms",
            audio["peak_hz"], audio["latency_ms_p50"], audio["latency_ms_p95"]
        );
        assert!(host.log_shows("session sink", Duration::from_secs(1)));
    }
}

#[test]
fn the_probes_microphone_tone_records_from_the_punktfunk_mic() {
    let Some(desktop) = pipewire() else { return };
    let host = host_on(
        &desktop,
        "audio-mic-host",
        &["--open", "--audio", "desktop"],
    );
    let probe = probe_command(&host, &["--seconds", "6", "--mic-tone", "440"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        host.log_shows("microphone live", Duration::from_secs(10)),
        "{}",
        host.log.lock().unwrap()
    );
    // Let the jitter buffer settle, then record what apps would hear.
    std::thread::sleep(Duration::from_millis(700));
    let raw = scratch("mic-recording");
    std::fs::create_dir_all(&raw).unwrap();
    let file = raw.join("mic.raw");
    let mut rec = pulse_tool(&desktop, "parecord")
        .args([
            "--device=punktfunk_mic",
            "--raw",
            // parecord writes its file once per fragment: keep them small.
            "--latency-msec=20",
            "--format=float32le",
            "--rate=48000",
            "--channels=1",
        ])
        .arg(&file)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let _ = rec.kill();
    let _ = rec.wait();
    let (answer, ok, stderr) = summary(probe.wait_with_output().unwrap());
    assert!(ok, "probe failed: {stderr}\n{answer}");
    assert!(
        answer["mic_packets_sent"].as_u64().unwrap_or(0) > 300,
        "{answer}"
    );
    let bytes = std::fs::read(&file).unwrap();
    let samples: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let peak = punktfunk_video::audio::peak_frequency(&samples, 1, None, 48_000);
    let (hz, rms) = peak.unwrap_or_else(|| {
        panic!(
            "nothing recorded from punktfunk mic ({} samples); host:\n{}",
            samples.len(),
            host.log.lock().unwrap()
        )
    });
    assert!(
        (hz - 440.0).abs() <= 10.0 && rms > 0.05,
        "recorded peak {hz} Hz rms {rms}"
    );
}

#[test]
fn without_pipewire_the_session_streams_video_and_the_log_says_why_audio_is_off() {
    // A runtime dir with no daemon in it.
    let empty = scratch("no-pipewire");
    std::fs::create_dir_all(&empty).unwrap();
    let host = Host::launch_env(
        &scratch("audio-host-nopw"),
        &["--open", "--audio", "desktop"],
        &[
            ("PIPEWIRE_RUNTIME_DIR", &empty),
            ("XDG_RUNTIME_DIR", &empty),
        ],
    );
    let (answer, ok, stderr) = probe(&host, &["--seconds", "2"]);
    assert!(ok, "probe failed: {stderr}\n{answer}");
    assert!(num(&answer, "frames_decoded") > 30.0, "{answer}");
    assert!(answer["audio"].is_null(), "{answer}");
    assert!(
        host.log_shows("audio off", Duration::from_secs(2)),
        "{}",
        host.log.lock().unwrap()
    );
    let log = host.log.lock().unwrap().clone();
    let line = log.lines().find(|l| l.contains("audio off")).unwrap();
    assert!(
        line.contains("PipeWire"),
        "the reason names PipeWire: {line}"
    );
}

#[test]
fn moonlight_hears_desktop_audio_in_stereo_and_5_1() {
    let Some(python) = venv_python() else { return };
    let Some(desktop) = pipewire() else { return };
    let dir = scratch("ml-audio-wavs");
    let host = host_on(
        &desktop,
        "audio-moonlight-host",
        &[
            "--gamestream",
            "--gamestream-port",
            &moonlight::BASE.to_string(),
            "--audio",
            "desktop",
        ],
    );
    let client = moonlight::paired_client(&host, &python, "ml-audio");
    for channels in [2u16, 6] {
        let ml = moonlight::moonlight(
            &python,
            &client,
            // (60 fps: the driver's default, which this test always streamed at.)
            &moonlight::stream_args(
                "h264",
                "60",
                "4",
                &[
                    "--audio",
                    "--audio-channels",
                    &channels.to_string(),
                    "--quit",
                ],
            ),
        )
        .spawn()
        .unwrap();
        wait_for_session_sink(&desktop, &host, true);
        let mut player = play(&desktop, &tone_wav(&dir, TONE_HZ, channels, 10.0), channels);
        let (answer, ok, stderr) = summary(ml.wait_with_output().unwrap());
        let _ = player.kill();
        let _ = player.wait();
        wait_for_session_sink(&desktop, &host, false);
        assert!(ok, "ml_probe failed: {stderr}");
        let audio = &answer["audio"];
        assert_eq!(audio["channels"], u64::from(channels), "{answer}");
        assert!(
            (hz_of(audio) - TONE_HZ).abs() <= TOLERANCE_HZ,
            "{channels} ch: Moonlight heard {audio}\nhost:\n{}",
            host.log.lock().unwrap()
        );
        // Every speaker carries the tone (the WAV has it on each).
        let rms = audio["channel_rms"].as_array().cloned().unwrap_or_default();
        assert_eq!(rms.len(), usize::from(channels), "{audio}");
        assert!(
            rms.iter().all(|r| r.as_f64().unwrap_or(0.0) > 0.1),
            "{channels} ch: a speaker is silent: {audio}"
        );
    }
}
