//! Session audio against a real PipeWire + WirePlumber: what a player
//! sends to the default output lands in our capture, what we push into the
//! virtual microphone reaches a recorder.
//!
//! Each check runs twice: with PulseAudio clients (`paplay`, `parecord`,
//! `pactl` through `pipewire-pulse`, what most apps and games use) and with
//! PipeWire's own (`pw-play`, `pw-record`, `pw-metadata`). A missing tool
//! skips loudly, unless `PUNKTFUNK_REQUIRE_TOOLS=1` makes it a failure.

mod common;

use std::path::PathBuf;
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{signal, wav};
use punktfunk_pipewire::audio::{Remote, MIC_NODE_NAME, SAMPLE_RATE, SINK_NODE_NAME};
use punktfunk_pipewire::testing::Desktop;
use punktfunk_pipewire::{AudioChunk, AudioServer, CaptureOrigin, PipeWireError};

const WAIT: Duration = Duration::from_secs(10);
/// The sink that is the default before ours comes, and after it goes.
const PREVIOUS: &str = "previous";
/// 200 ms windows: 5 Hz bins.
const WINDOW: usize = SAMPLE_RATE as usize / 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clients {
    Pulse,
    Native,
}

impl Clients {
    fn tools(self) -> &'static [&'static str] {
        match self {
            Clients::Pulse => &[
                "pipewire",
                "wireplumber",
                "pw-cli",
                "pw-dump",
                "pipewire-pulse",
                "paplay",
                "parecord",
                "pactl",
            ],
            Clients::Native => &[
                "pipewire",
                "wireplumber",
                "pw-cli",
                "pw-dump",
                "pw-metadata",
                "pw-play",
                "pw-record",
            ],
        }
    }

    /// The desktop with what these clients need, or `None` (after saying
    /// why) when a tool is missing and that is allowed.
    fn desktop(self) -> Option<Desktop> {
        let missing: Vec<&str> = self
            .tools()
            .iter()
            .copied()
            .filter(|tool| !on_path(tool))
            .collect();
        if !missing.is_empty() {
            let message = format!("{missing:?} not installed: skipping the {self:?} audio test");
            if std::env::var_os("PUNKTFUNK_REQUIRE_TOOLS").is_some_and(|v| v == "1") {
                panic!("{message}, but PUNKTFUNK_REQUIRE_TOOLS=1");
            }
            eprintln!("SKIPPED: {message}");
            return None;
        }
        let mut desktop = Desktop::start_pipewire().unwrap();
        if self == Clients::Pulse {
            desktop.start_pipewire_pulse().unwrap();
        }
        Some(desktop)
    }

    /// The sink the daemon currently routes new playback to.
    fn default_sink(self, desktop: &Desktop) -> Option<String> {
        match self {
            Clients::Pulse => {
                let out = run(desktop, "pactl", &["get-default-sink"]);
                Some(out.trim().to_string()).filter(|s| !s.is_empty())
            }
            Clients::Native => metadata_name(desktop, "default.audio.sink"),
        }
    }

    fn set_default_sink(self, desktop: &Desktop, name: &str) {
        match self {
            Clients::Pulse => {
                run(desktop, "pactl", &["set-default-sink", name]);
            }
            Clients::Native => {
                let value = format!("{{\"name\":\"{name}\"}}");
                run(
                    desktop,
                    "pw-metadata",
                    &[
                        "-n",
                        "default",
                        "0",
                        "default.configured.audio.sink",
                        &value,
                        "Spa:String:JSON",
                    ],
                );
            }
        }
    }

    /// Plays a WAV file to the default output and waits until it is done.
    fn play(self, desktop: &Desktop, file: &std::path::Path) {
        let player = match self {
            Clients::Pulse => "paplay",
            Clients::Native => "pw-play",
        };
        run(desktop, player, &[file.to_str().unwrap()]);
    }

    /// Records 2 s of mono F32 from `source` and returns the samples.
    fn record(self, desktop: &Desktop, source: &str, dir: &std::path::Path) -> Vec<f32> {
        let (file, recorder): (PathBuf, Vec<String>) = match self {
            Clients::Pulse => {
                let file = dir.join("mic.raw");
                let args = [
                    "parecord",
                    // Small fragments, so data reaches the file before the interrupt.
                    "--latency-msec=20",
                    &format!("--device={source}"),
                    "--raw",
                    "--format=float32le",
                    "--rate=48000",
                    "--channels=1",
                ];
                (file, args.iter().map(|s| s.to_string()).collect())
            }
            Clients::Native => {
                let file = dir.join("mic.wav");
                let args = [
                    "pw-record",
                    "--target",
                    source,
                    "--format",
                    "f32",
                    "--rate",
                    "48000",
                    "--channels",
                    "1",
                ];
                (file, args.iter().map(|s| s.to_string()).collect())
            }
        };
        // Interrupted like Ctrl-C, so the recorder finishes its file.
        let mut args = vec!["-s".to_string(), "INT".into(), "2".into()];
        args.extend(recorder);
        args.push(file.to_str().unwrap().into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = output(desktop, "timeout", &args);
        // timeout exits 124 when it had to stop the recorder: expected.
        assert!(
            matches!(output.status.code(), Some(0 | 124)),
            "recording failed: {}\n{}",
            String::from_utf8_lossy(&output.stderr),
            desktop.logs()
        );
        match self {
            Clients::Pulse => wav::read_raw_f32(&file).unwrap(),
            Clients::Native => {
                let (channels, samples) = wav::read(&file).unwrap();
                assert_eq!(channels, 1);
                samples
            }
        }
    }
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}

fn output(desktop: &Desktop, program: &str, args: &[&str]) -> Output {
    desktop
        .command(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"))
}

/// Runs a tool to completion against the desktop; its stdout.
fn run(desktop: &Desktop, program: &str, args: &[&str]) -> String {
    let output = output(desktop, program, args);
    assert!(
        output.status.success(),
        "{program} {args:?} failed ({}): {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        desktop.logs()
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The `name` in the "default" metadata's `key`, as `pw-metadata` shows it:
/// `update: id:0 key:'…' value:'{"name":"…"}' type:'…'`.
fn metadata_name(desktop: &Desktop, key: &str) -> Option<String> {
    let out = run(desktop, "pw-metadata", &["-n", "default", "0", key]);
    let line = out.lines().find(|l| l.contains(&format!("key:'{key}'")))?;
    let value = line.split("value:'").nth(1)?.split("' type:").next()?;
    let json: serde_json::Value = serde_json::from_str(value).ok()?;
    json["name"].as_str().map(str::to_owned)
}

/// Whether a node named `name` exists. `pw-dump` now and then fails while
/// objects come and go under it: ask again then.
fn node_exists(desktop: &Desktop, name: &str) -> bool {
    let mut tries = 0;
    loop {
        match desktop.find_node(name) {
            Ok(found) => return found.is_some(),
            Err(e) if tries < 5 => {
                eprintln!("pw-dump failed ({e}); asking again");
                tries += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("pw-dump keeps failing: {e:#}"),
        }
    }
}

/// Polls `check` until it holds; fails with `what` and the logs after WAIT.
fn wait_for(desktop: &Desktop, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\n{}",
            desktop.logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_for_default(clients: Clients, desktop: &Desktop, want: &str) {
    let mut seen = None;
    wait_for(desktop, &format!("the default sink to be {want}"), || {
        seen = clients.default_sink(desktop);
        seen.as_deref() == Some(want)
    });
}

/// A stereo null sink "previous", made the default the way these clients
/// would; it outlives the command that made it.
fn make_previous_default(clients: Clients, desktop: &mut Desktop) {
    let props = format!(
        "{{ factory.name=support.null-audio-sink node.name={PREVIOUS} \
         media.class=Audio/Sink object.linger=true audio.position=[FL FR] }}"
    );
    run(desktop, "pw-cli", &["create-node", "adapter", &props]);
    desktop
        .wait_until("the previous sink", |d| {
            d.find_node(PREVIOUS).ok().flatten().is_some()
        })
        .unwrap();
    clients.set_default_sink(desktop, PREVIOUS);
    wait_for_default(clients, desktop, PREVIOUS);
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("punktfunk-audio-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Collects chunks from `capture` while `during` runs, and a little after.
fn collect_while(
    capture: &punktfunk_pipewire::AudioCapture,
    during: impl FnOnce(),
) -> Vec<AudioChunk> {
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let collector = scope.spawn(|| {
            let mut chunks = Vec::new();
            let mut drain_until = None;
            loop {
                if let Some(chunk) = capture.recv_timeout(Duration::from_millis(100)) {
                    chunks.push(chunk);
                }
                if done.load(Ordering::Relaxed) {
                    let until = *drain_until
                        .get_or_insert_with(|| Instant::now() + Duration::from_millis(300));
                    if Instant::now() > until {
                        return chunks;
                    }
                }
            }
        });
        during();
        done.store(true, Ordering::Relaxed);
        collector.join().unwrap()
    })
}

/// A WAV file with one tone per channel (`freqs`, in WAVE order), 1.5 s.
fn tone_file(dir: &std::path::Path, freqs: &[f64]) -> PathBuf {
    let file = dir.join("tone.wav");
    let frames = SAMPLE_RATE as usize * 3 / 2;
    let per_channel: Vec<Vec<f32>> = freqs
        .iter()
        .map(|&f| signal::sine(f, 0.3, SAMPLE_RATE, 0, frames))
        .collect();
    let interleaved: Vec<f32> = (0..frames)
        .flat_map(|i| per_channel.iter().map(move |ch| ch[i]))
        .collect();
    wav::write_s16(&file, SAMPLE_RATE, freqs.len() as u16, &interleaved).unwrap();
    file
}

/// Checks that each channel of the captured `chunks` carries its tone of
/// `freqs`, loud, over the same window.
fn assert_tones(desktop: &Desktop, chunks: &[AudioChunk], freqs: &[f64]) {
    let channels = freqs.len();
    assert!(chunks
        .iter()
        .all(|c| usize::from(c.channels) == channels && c.samples.len() % channels == 0));
    let samples: Vec<f32> = chunks
        .iter()
        .flat_map(|c| c.samples.iter().copied())
        .collect();
    eprintln!(
        "{} chunks, {} frames",
        chunks.len(),
        samples.len() / channels
    );
    // The same frames for every channel, from where the sound starts.
    let loudest: Vec<f32> = samples
        .chunks_exact(channels)
        .map(|frame| frame.iter().fold(0.0f32, |m, s| m.max(s.abs())))
        .collect();
    let start = signal::loud_start(&loudest, WINDOW).unwrap_or_else(|| {
        panic!(
            "the capture stayed silent ({} frames)\n{}",
            loudest.len(),
            desktop.logs()
        )
    });
    for (c, &want) in freqs.iter().enumerate() {
        let channel = signal::channel(&samples, channels, c);
        let window = &channel[start..start + WINDOW];
        let peak = signal::peak_frequency(window, SAMPLE_RATE);
        let rms = signal::rms(window);
        eprintln!("channel {c}: peak {peak} Hz (want {want}), rms {rms:.3}");
        assert!(
            (peak - want).abs() <= 20.0,
            "channel {c}: peak at {peak} Hz, want {want}"
        );
        assert!(rms > 0.05, "channel {c}: rms {rms}");
    }
}

/// Plays one tone per channel (`freqs`) to the default output and checks
/// each arrives in its own channel of a `freqs.len()`-channel capture of our
/// sink, which is the default while the capture lasts.
fn session_sink_carries_the_default_output(clients: Clients, freqs: &[f64]) {
    let Some(mut desktop) = clients.desktop() else {
        return;
    };
    make_previous_default(clients, &mut desktop);
    let channels = freqs.len();
    let dir = scratch_dir(&format!("{clients:?}-{channels}"));
    let file = tone_file(&dir, freqs);

    let server = AudioServer::connect(Remote::Fd(desktop.connect_pipewire().unwrap())).unwrap();
    let capture = server.capture_session_sink(channels as u8).unwrap();
    assert_eq!(capture.origin(), CaptureOrigin::SessionSink);
    assert_eq!(capture.channels() as usize, channels);
    assert!(
        node_exists(&desktop, SINK_NODE_NAME),
        "no sink node\n{}",
        desktop.logs()
    );
    wait_for_default(clients, &desktop, SINK_NODE_NAME);
    if clients == Clients::Native {
        assert_eq!(
            metadata_name(&desktop, "default.configured.audio.sink").as_deref(),
            Some(SINK_NODE_NAME)
        );
    }

    let chunks = collect_while(&capture, || clients.play(&desktop, &file));
    assert_tones(&desktop, &chunks, freqs);
    assert_eq!(capture.dropped(), 0, "the test reads all the time");

    drop(capture);
    wait_for(&desktop, "our sink to go", || {
        !node_exists(&desktop, SINK_NODE_NAME)
    });
    wait_for_default(clients, &desktop, PREVIOUS);
    if clients == Clients::Native {
        assert_eq!(
            metadata_name(&desktop, "default.configured.audio.sink").as_deref(),
            Some(PREVIOUS)
        );
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The id of the first object in `pw-dump` of `type_` whose `key` prop is `value`.
fn object_id(desktop: &Desktop, type_: &str, key: &str, value: &str) -> Option<u64> {
    let dump: Vec<serde_json::Value> = serde_json::from_str(&run(desktop, "pw-dump", &[])).unwrap();
    dump.iter()
        .find(|o| {
            o["type"] == type_
                && (o["info"]["props"][key] == value
                    || o["info"]["props"][key]
                        .as_u64()
                        .map(|v| v.to_string())
                        .as_deref()
                        == Some(value))
        })
        .and_then(|o| o["id"].as_u64())
}

/// When the daemon refuses to make our sink (here: our client may not see
/// the `adapter` factory), the capture records the default sink's monitor.
#[test]
fn without_our_sink_the_default_sinks_monitor_is_captured() {
    let clients = Clients::Native;
    let Some(mut desktop) = clients.desktop() else {
        return;
    };
    make_previous_default(clients, &mut desktop);
    let dir = scratch_dir("fallback");
    let file = tone_file(&dir, &[1000.0, 1000.0]);
    let server = AudioServer::connect(Remote::Fd(desktop.connect_pipewire().unwrap())).unwrap();

    let pid = std::process::id().to_string();
    let client = object_id(
        &desktop,
        "PipeWire:Interface:Client",
        "pipewire.sec.pid",
        &pid,
    )
    .expect("our client");
    let factory = object_id(
        &desktop,
        "PipeWire:Interface:Factory",
        "factory.name",
        "adapter",
    )
    .expect("the adapter factory");
    run(
        &desktop,
        "pw-cli",
        &[
            "permissions",
            &client.to_string(),
            &factory.to_string(),
            "0",
        ],
    );

    let capture = server.capture_session_sink(2).unwrap();
    assert_eq!(capture.origin(), CaptureOrigin::DefaultSinkMonitor);
    assert!(!node_exists(&desktop, SINK_NODE_NAME));
    assert_eq!(clients.default_sink(&desktop).as_deref(), Some(PREVIOUS));
    let chunks = collect_while(&capture, || clients.play(&desktop, &file));
    assert_tones(&desktop, &chunks, &[1000.0, 1000.0]);
    drop(capture);
    assert_eq!(clients.default_sink(&desktop).as_deref(), Some(PREVIOUS));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stereo_capture_of_what_paplay_plays() {
    session_sink_carries_the_default_output(Clients::Pulse, &[1000.0, 1000.0]);
}

#[test]
fn stereo_capture_of_what_pw_play_plays() {
    session_sink_carries_the_default_output(Clients::Native, &[1000.0, 1000.0]);
}

/// FL FR FC LFE RL RR, each its own tone.
const SURROUND: [f64; 6] = [1000.0, 1500.0, 2000.0, 250.0, 3000.0, 3500.0];

#[test]
fn surround_capture_keeps_each_channel_in_place_with_paplay() {
    session_sink_carries_the_default_output(Clients::Pulse, &SURROUND);
}

#[test]
fn surround_capture_keeps_each_channel_in_place_with_pw_play() {
    session_sink_carries_the_default_output(Clients::Native, &SURROUND);
}

/// Pushes a 440 Hz tone into a mono virtual microphone in real time while
/// a recorder records it.
fn virtual_mic_is_heard_by_a_recorder(clients: Clients) {
    let Some(desktop) = clients.desktop() else {
        return;
    };
    let dir = scratch_dir(&format!("{clients:?}-mic"));
    let server = AudioServer::connect(Remote::Fd(desktop.connect_pipewire().unwrap())).unwrap();
    let mic = server.virtual_mic(1).unwrap();
    assert_eq!(mic.node_name(), MIC_NODE_NAME);
    assert!(
        node_exists(&desktop, MIC_NODE_NAME),
        "no mic node\n{}",
        desktop.logs()
    );
    if clients == Clients::Pulse {
        let sources = run(&desktop, "pactl", &["list", "short", "sources"]);
        assert!(
            sources.contains(MIC_NODE_NAME),
            "pactl does not list the mic: {sources}"
        );
    }

    let stop = AtomicBool::new(false);
    let recorded = std::thread::scope(|scope| {
        scope.spawn(|| {
            // Real time, 10 ms blocks, kept about 40 ms ahead.
            let started = Instant::now();
            let mut pushed = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let due = (started.elapsed().as_secs_f64() * f64::from(SAMPLE_RATE)) as u64 + 1920;
                while pushed < due {
                    let block = signal::sine(440.0, 0.5, SAMPLE_RATE, pushed, 480);
                    mic.push(&block);
                    pushed += 480;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let recorded = clients.record(&desktop, mic.node_name(), &dir);
        stop.store(true, Ordering::Relaxed);
        recorded
    });
    eprintln!(
        "{clients:?}: recorded {} samples; {} underruns, {} frames dropped",
        recorded.len(),
        mic.underruns(),
        mic.dropped_frames()
    );
    let start = signal::loud_start(&recorded, WINDOW).unwrap_or_else(|| {
        panic!(
            "the recording is silent ({} samples)\n{}",
            recorded.len(),
            desktop.logs()
        )
    });
    let window = &recorded[start..start + WINDOW];
    let peak = signal::peak_frequency(window, SAMPLE_RATE);
    let rms = signal::rms(window);
    eprintln!("peak {peak} Hz, rms {rms:.3}");
    assert!((peak - 440.0).abs() <= 10.0, "peak at {peak} Hz");
    assert!(rms > 0.1, "rms {rms}");

    drop(mic);
    wait_for(&desktop, "the mic to go", || {
        !node_exists(&desktop, MIC_NODE_NAME)
    });
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn virtual_mic_is_heard_by_parecord() {
    virtual_mic_is_heard_by_a_recorder(Clients::Pulse);
}

#[test]
fn virtual_mic_is_heard_by_pw_record() {
    virtual_mic_is_heard_by_a_recorder(Clients::Native);
}

/// Two captures share the sink: it stays until the last one goes, and a
/// capture with another channel count gets converted audio.
#[test]
fn captures_share_the_sink_until_the_last_goes() {
    let clients = Clients::Native;
    let Some(mut desktop) = clients.desktop() else {
        return;
    };
    make_previous_default(clients, &mut desktop);
    let server = AudioServer::connect(Remote::Fd(desktop.connect_pipewire().unwrap())).unwrap();
    let stereo = server.capture_session_sink(2).unwrap();
    let mono = server.capture_session_sink(1).unwrap();
    assert_eq!(mono.origin(), CaptureOrigin::SessionSink);
    wait_for_default(clients, &desktop, SINK_NODE_NAME);
    let chunk = mono
        .recv_timeout(WAIT)
        .expect("a chunk of the mono capture");
    assert_eq!(chunk.channels, 1);
    assert!(chunk.frames() > 0);

    drop(stereo);
    // Still ours while the mono capture runs.
    assert!(node_exists(&desktop, SINK_NODE_NAME));
    assert_eq!(
        clients.default_sink(&desktop).as_deref(),
        Some(SINK_NODE_NAME)
    );
    assert!(mono.recv_timeout(WAIT).is_some());
    drop(mono);
    wait_for(&desktop, "our sink to go", || {
        !node_exists(&desktop, SINK_NODE_NAME)
    });
    wait_for_default(clients, &desktop, PREVIOUS);
}

/// One server serves session after session: a sink made, captured, removed, made again. (The
/// daemon's "unknown resource" notice about the removed sink once ended the whole connection.)
#[test]
fn one_server_captures_again_after_its_sink_went() {
    let clients = Clients::Native;
    let Some(mut desktop) = clients.desktop() else {
        return;
    };
    make_previous_default(clients, &mut desktop);
    let server = AudioServer::connect(Remote::Fd(desktop.connect_pipewire().unwrap())).unwrap();
    for channels in [2, 6, 2] {
        let capture = server.capture_session_sink(channels).unwrap();
        assert_eq!(capture.origin(), CaptureOrigin::SessionSink);
        wait_for_default(clients, &desktop, SINK_NODE_NAME);
        let chunk = capture
            .recv_timeout(WAIT)
            .unwrap_or_else(|| panic!("no chunk from capture {channels}: {:?}", capture.ended()));
        assert_eq!(chunk.channels, channels);
        drop(capture);
        wait_for(&desktop, "our sink to go", || {
            !node_exists(&desktop, SINK_NODE_NAME)
        });
        wait_for_default(clients, &desktop, PREVIOUS);
    }
}

/// Dropping the server ends its captures and puts the old default back.
#[test]
fn dropping_the_server_ends_captures_and_restores_the_default() {
    let clients = Clients::Native;
    let Some(mut desktop) = clients.desktop() else {
        return;
    };
    make_previous_default(clients, &mut desktop);
    let server = AudioServer::connect(Remote::Fd(desktop.connect_pipewire().unwrap())).unwrap();
    let capture = server.capture_session_sink(2).unwrap();
    let mic = server.virtual_mic(2).unwrap();
    wait_for_default(clients, &desktop, SINK_NODE_NAME);
    drop(server);
    assert_eq!(capture.ended(), Some(PipeWireError::Stopped));
    while capture.recv_timeout(Duration::ZERO).is_some() {}
    assert!(capture.recv_timeout(WAIT).is_none());
    mic.push(&[0.0; 96]); // harmless after the end
    wait_for(&desktop, "our nodes to go", || {
        !node_exists(&desktop, SINK_NODE_NAME) && !node_exists(&desktop, MIC_NODE_NAME)
    });
    wait_for_default(clients, &desktop, PREVIOUS);
}

#[test]
fn a_bad_channel_count_is_refused() {
    let Some(desktop) = Clients::Native.desktop() else {
        return;
    };
    let server = AudioServer::connect(Remote::Fd(desktop.connect_pipewire().unwrap())).unwrap();
    for channels in [0, 9] {
        assert_eq!(
            server.capture_session_sink(channels).err(),
            Some(PipeWireError::Channels(channels))
        );
        assert_eq!(
            server.virtual_mic(channels).err(),
            Some(PipeWireError::Channels(channels))
        );
    }
}

/// A socket with no PipeWire behind it fails the connect instead of hanging.
#[test]
fn a_socket_that_hangs_up_is_no_daemon() {
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    drop(theirs);
    let err = AudioServer::connect(Remote::Fd(ours.into()))
        .err()
        .expect("nobody to talk to");
    eprintln!("the error reads: {err}");
    assert!(
        matches!(
            err,
            PipeWireError::Disconnected(_) | PipeWireError::NoDaemon { .. }
        ),
        "{err:?}"
    );
}

#[test]
fn a_socket_that_never_answers_times_out() {
    let (ours, _silent) = std::os::unix::net::UnixStream::pair().unwrap();
    let err = AudioServer::connect(Remote::Fd(ours.into()))
        .err()
        .expect("nobody answers");
    eprintln!("the error reads: {err}");
    assert!(
        // The daemon's own timeout, not the wait for the audio thread.
        matches!(&err, PipeWireError::Setup(m) if m.contains("the PipeWire daemon did not answer")),
        "{err:?}"
    );
}

/// A daemon that dies ends the captures with a clear error, and later
/// requests say the connection is lost.
#[test]
fn a_dying_daemon_ends_the_captures() {
    let Some(mut desktop) = Clients::Native.desktop() else {
        return;
    };
    let server = AudioServer::connect(Remote::Fd(desktop.connect_pipewire().unwrap())).unwrap();
    let capture = server.capture_session_sink(2).unwrap();
    assert!(capture.recv_timeout(WAIT).is_some(), "a first chunk");
    desktop.kill("pipewire").unwrap();
    let deadline = Instant::now() + WAIT;
    while capture.ended().is_none() {
        assert!(Instant::now() < deadline, "the capture did not notice");
        let _ = capture.recv_timeout(Duration::from_millis(100));
    }
    let err = capture.ended().unwrap();
    assert!(matches!(err, PipeWireError::Disconnected(_)), "{err:?}");
    eprintln!("the capture ended with: {err}");
    let err = server
        .capture_session_sink(2)
        .err()
        .expect("no daemon any more");
    assert!(matches!(err, PipeWireError::Disconnected(_)), "{err:?}");
}
