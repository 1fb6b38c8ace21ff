//! `punktfunk-probe`: the command-line client used by tests and operators.
//!
//! `punktfunk-probe --connect HOST:PORT` runs a punktfunk/1 session, checks every frame, and
//! prints a one-line JSON summary as the last line of standard output.

use std::net::{ToSocketAddrs, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use clap::{Args, Parser, Subcommand};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use punktfunk_client::audio::{spawn_mic_tone, AudioTally};
use punktfunk_client::decode::DecodeOutcome;
use punktfunk_client::known_hosts::KnownHosts;
use punktfunk_client::media::MediaPump;
use punktfunk_client::native::{ClientEvent, ClientOptions, NativeClient};
use punktfunk_client::report::receive_synthetic;
use punktfunk_core::control::{Codec, Mode};
use punktfunk_core::wire::control::feature;
use punktfunk_core::{synthetic, MediaSecret, ReassemblyLimits};
use punktfunk_net::identity::Identity;
use punktfunk_video::picture::read_stamp;

#[derive(Parser)]
#[command(
    name = "punktfunk-probe",
    version,
    about = "punktfunk command-line client",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    connect: ConnectArgs,
}

#[derive(Args)]
struct ConnectArgs {
    /// Host to stream from, HOST:PORT (the native port, 9777 by default).
    #[arg(long, value_name = "HOST:PORT")]
    connect: Option<String>,
    /// Display mode to ask for.
    #[arg(long, default_value = "1280x720@60")]
    mode: Mode,
    /// Codec to ask for (the others stay acceptable).
    #[arg(long)]
    codec: Option<Codec>,
    /// Stream for this many seconds.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Drop this percentage of received media packets, to exercise FEC.
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// Drop `--loss` only for the first this many seconds, then receive everything.
    #[arg(long)]
    loss_seconds: Option<f64>,
    /// End with a deliberate quit (close 0x51) instead of a plain disconnect.
    #[arg(long)]
    quit: bool,
    /// Bitrate to ask for, kbit/s (0: the host's choice).
    #[arg(long, default_value_t = 0)]
    bitrate_kbps: u32,
    #[arg(long, default_value_t = 8000)]
    idle_timeout_ms: u64,
    /// Ask the host to switch to this mode mid-stream (Reconfigure)...
    #[arg(long)]
    reconfigure: Option<Mode>,
    /// ...this many seconds into the stream.
    #[arg(long, default_value_t = 1.0)]
    reconfigure_after: f64,
    /// Write the last decoded picture to this file (binary PPM, RGB).
    #[arg(long)]
    save_frame: Option<std::path::PathBuf>,
    /// Send this many pointer-motion input events, one per received frame from the start.
    #[arg(long, default_value_t = 0)]
    send_input: u32,
    /// Type this text as key presses (Windows virtual keys, shift for capitals; `\n` is
    /// Enter) once the first frame has arrived plus `--type-after` seconds.
    #[arg(long)]
    type_text: Option<String>,
    /// With `--type-text`: then send this as text to type as it is (any Unicode; the host
    /// types it with its input backend's keymap).
    #[arg(long)]
    send_text: Option<String>,
    /// Seconds after the first frame before `--type-text` (and `--pointer-test`) starts.
    #[arg(long, default_value_t = 1.0)]
    type_after: f64,
    /// With `--type-text`: then move the pointer to the middle of the picture, click the left
    /// button, scroll one notch up and one right, and touch at a quarter of the width
    /// (finger 5: down, move 10 px right, up).
    #[arg(long)]
    pointer_test: bool,
    /// Desktop audio channels to ask for: 2 (stereo), 6 (5.1) or 8 (7.1).
    #[arg(long, default_value_t = 2, value_parser = audio_channels)]
    audio_channels: u8,
    /// Fail unless the desktop audio's dominant frequency is this (± 20 Hz).
    #[arg(long, value_name = "HZ")]
    expect_audio_hz: Option<f32>,
    /// Send a sine tone of this frequency as the microphone (mono Opus, 10 ms frames).
    #[arg(long, value_name = "HZ")]
    mic_tone: Option<f32>,
    /// Plug in a virtual Xbox pad (index 0) once frames flow, press A with the left stick
    /// pushed, release, and unplug it a second later; plug in a DualSense (index 1), touch its
    /// touchpad, move it (gyro and accelerometer) and keep it to the end; touch the Xbox pad's
    /// touchpad it has not got.
    #[arg(long)]
    pad_test: bool,
}

/// `--pad-test`'s messages, one per turn once frames flow: pad 0 presses A with the left stick
/// up-right and releases everything; pad 1, a DualSense, gets a finger down in the middle of
/// its touchpad and lifted, a gyro sample of 90 °/s pitch and −45 °/s roll with 1 g on y, then
/// a still gyro; a finger on pad 0 (an Xbox pad, no touchpad) comes last.
fn pad_test_messages() -> Vec<punktfunk_core::control::Message> {
    use punktfunk_core::control::{Message, PadMotion, PadReport, PadTouch};
    use punktfunk_core::wire::control::pad_kind;
    let pressed = PadReport {
        index: 0,
        kind: pad_kind::XBOX,
        buttons: 0x1000, // A
        left_trigger: 0,
        right_trigger: 200,
        left_stick: (12_000, 8_000),
        right_stick: (0, 0),
    };
    let finger = PadTouch {
        index: 1,
        pointer: 7,
        down: true,
        x: 32768,
        y: 32768,
    };
    vec![
        Message::Pad(pressed),
        Message::Pad(PadReport {
            buttons: 0,
            right_trigger: 0,
            left_stick: (0, 0),
            ..pressed
        }),
        Message::Pad(PadReport {
            index: 1,
            kind: pad_kind::DUALSENSE,
            ..PadReport::default()
        }),
        Message::PadTouch(finger),
        Message::PadTouch(PadTouch {
            down: false,
            ..finger
        }),
        Message::PadMotion(PadMotion {
            index: 1,
            gyro: Some([90_000, 0, -45_000]),
            accel: Some([0, 9_807, 0]),
        }),
        Message::PadMotion(PadMotion {
            index: 1,
            gyro: Some([0; 3]),
            accel: None,
        }),
        Message::PadTouch(PadTouch { index: 0, ..finger }),
    ]
}

fn audio_channels(s: &str) -> Result<u8, String> {
    match s.parse::<u8>() {
        Ok(n) if punktfunk_core::wire::audio::CHANNEL_COUNTS.contains(&n) => Ok(n),
        _ => Err(format!(
            "`{s}` is not a channel count the host sends: use 2 (stereo), 6 (5.1) or 8 (7.1)"
        )),
    }
}

/// How far the heard tone may be from `--expect-audio-hz`.
const AUDIO_HZ_TOLERANCE: f32 = 20.0;

/// The key presses that type `text` on a US layout: (virtual key, shift held). Characters
/// without a key here are skipped.
fn key_presses(text: &str) -> Vec<(u32, bool)> {
    text.chars()
        .filter_map(|c| match c {
            'a'..='z' => Some((c.to_ascii_uppercase() as u32, false)),
            'A'..='Z' => Some((c as u32, true)),
            '0'..='9' => Some((c as u32, false)),
            ' ' => Some((0x20, false)),
            '\n' => Some((0x0D, false)),
            _ => None,
        })
        .collect()
}

/// Sends key down/up events typing `text` (shift pressed around capitals).
fn type_text(client: &NativeClient, text: &str) {
    use punktfunk_core::wire::control::input_kind;
    const VK_SHIFT: u32 = 0x10;
    let key = |code: u32, down: bool| {
        client.send_input(punktfunk_core::control::InputEvent {
            kind: if down {
                input_kind::KEY_DOWN
            } else {
                input_kind::KEY_UP
            },
            code,
            ..Default::default()
        })
    };
    for (vk, shift) in key_presses(text) {
        if shift {
            key(VK_SHIFT, true);
        }
        key(vk, true);
        key(vk, false);
        if shift {
            key(VK_SHIFT, false);
        }
    }
}

/// The `--pointer-test` sequence, in the stream's mode.
fn pointer_test(client: &NativeClient, width: u32, height: u32) {
    use punktfunk_core::control::InputEvent;
    use punktfunk_core::wire::control::input_kind as kind;
    let (w, h) = (width as i32, height as i32);
    let event = |kind, code, x, y| InputEvent {
        kind,
        code,
        x,
        y,
        flags: 0,
    };
    for e in [
        event(kind::MOUSE_MOVE_ABS, 0, w / 2, h / 2),
        event(kind::BUTTON_DOWN, 1, 0, 0),
        event(kind::BUTTON_UP, 1, 0, 0),
        event(kind::SCROLL, 0, 0, 120),
        event(kind::SCROLL_HORIZONTAL, 0, 120, 0),
        event(kind::TOUCH_DOWN, 5, w / 4, h / 2),
        event(kind::TOUCH_MOVE, 5, w / 4 + 10, h / 2),
        event(kind::TOUCH_UP, 5, 0, 0),
    ] {
        client.send_input(e);
    }
}

#[derive(Subcommand)]
enum Command {
    /// Pair with a host by the PIN it shows (`punktfunk-host ctl pair arm`), then pin its
    /// certificate for later sessions.
    Pair {
        /// The host, HOST:PORT (the native port).
        host: String,
        #[arg(long)]
        pin: String,
        /// How the host will list this device.
        #[arg(long, default_value = "punktfunk-probe")]
        name: String,
    },
    /// Forget a host's pinned certificate.
    Forget {
        /// The host, HOST:PORT, as it was paired.
        host: String,
    },
    /// List punktfunk hosts found over mDNS, one JSON object per line.
    Discover {
        /// Listen this long.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
    },
    /// Receive a bare media stream on a UDP port and check every frame of a synthetic source
    /// (`punktfunk-host loopback --send-to ADDR --secret HEX`).
    Listen {
        /// Address to receive on.
        #[arg(long, default_value = "127.0.0.1:0")]
        bind: String,
        /// The 32-byte media secret as 64 hex digits.
        #[arg(long, env = "PUNKTFUNK_MEDIA_SECRET")]
        secret: String,
        /// Stop after this many seconds.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Stop once nothing arrived for this long after the first frame.
        #[arg(long, default_value_t = 1000)]
        idle_ms: u64,
    },
}

fn main() -> ExitCode {
    punktfunk_net::init_logging();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Listen {
            bind,
            secret,
            seconds,
            idle_ms,
        }) => listen(&bind, &secret, seconds, idle_ms),
        Some(Command::Pair { host, pin, name }) => pair(&host, &pin, &name),
        Some(Command::Forget { host }) => forget(&host),
        Some(Command::Discover { seconds }) => discover(seconds),
        None => match cli.connect.connect.clone() {
            Some(host) => connect(&host, &cli.connect),
            None => Err(anyhow!(
                "nothing to do: give --connect HOST:PORT to stream from a host, or `listen`"
            )),
        },
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("punktfunk-probe: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn listen(bind: &str, secret: &str, seconds: f64, idle_ms: u64) -> anyhow::Result<bool> {
    let secret = MediaSecret::from_hex(secret)
        .context("--secret: the same 64 hex digits given to `punktfunk-host loopback`")?;
    let socket = UdpSocket::bind(bind).with_context(|| format!("cannot bind UDP {bind}"))?;
    let mut pump = MediaPump::new(socket, &secret, ReassemblyLimits::default());
    // Scripts read the port from this line.
    println!("listening {}", pump.local_addr()?);
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let report = receive_synthetic(&mut pump, deadline, Duration::from_millis(idle_ms))?;
    println!("received {report}");
    Ok(report.corrupt == 0)
}

/// What a session saw, summarised at the end.
#[derive(Default)]
struct Tally {
    decoded: u64,
    corrupt: u64,
    lost: u64,
    out_of_order: u64,
    last_index: Option<u32>,
    first_at: Option<Instant>,
    last_at: Option<Instant>,
    latencies_us: Vec<u64>,
    /// A frame was lost since the last keyframe: a decoder would show corruption until the next.
    chain_broken: bool,
    /// When `--loss-seconds` ended the simulated loss.
    loss_ended: Option<Instant>,
    /// From the end of the loss to the first clean picture.
    recovery: Option<Duration>,
    /// Access units not decoded because the picture was broken until the next keyframe.
    skipped: u64,
    last_stamp: Option<u32>,
    /// Size of the last decoded picture, and the last configuration epoch seen.
    last_picture: Option<(u32, u32)>,
    last_epoch: u8,
}

impl Tally {
    fn percentile_ms(&mut self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        self.latencies_us.sort_unstable();
        let i = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
        self.latencies_us[i] as f64 / 1000.0
    }

    fn fps(&self) -> f64 {
        match (self.first_at, self.last_at) {
            (Some(a), Some(b)) if b > a && self.decoded > 1 => {
                (self.decoded - 1) as f64 / (b - a).as_secs_f64()
            }
            _ => 0.0,
        }
    }
}

fn resolve(host: &str) -> anyhow::Result<std::net::SocketAddr> {
    host.to_socket_addrs()
        .with_context(|| format!("{host}: not HOST:PORT or cannot resolve"))?
        .next()
        .ok_or_else(|| anyhow!("{host}: no address"))
}

/// The probe's config dir: its identity and the hosts it pinned.
fn client_dir() -> anyhow::Result<std::path::PathBuf> {
    punktfunk_net::store::config_dir("punktfunk-probe", "PUNKTFUNK_CLIENT_CONFIG_DIR")
}

/// The client's identity lives in its own config dir: hosts know it by it.
fn client_identity() -> anyhow::Result<Identity> {
    Identity::load_or_create(&client_dir()?.join("identity"), "punktfunk-probe")
}

fn pair(host: &str, pin: &str, name: &str) -> anyhow::Result<bool> {
    let addr = resolve(host)?;
    let identity = client_identity()?;
    let fingerprint = punktfunk_client::native::pair(addr, &identity, pin.trim(), name)?;
    KnownHosts::load(&client_dir()?)?.pin(host, fingerprint)?;
    eprintln!("paired with {host}: host fingerprint {fingerprint} pinned");
    println!(
        "{}",
        serde_json::json!({ "paired": true, "host": host, "host_fingerprint": fingerprint.to_string(),
            "client_fingerprint": identity.fingerprint().to_string() })
    );
    Ok(true)
}

fn forget(host: &str) -> anyhow::Result<bool> {
    if KnownHosts::load(&client_dir()?)?.forget(host)? {
        eprintln!("forgot {host}");
        Ok(true)
    } else {
        Err(anyhow!(
            "{host} was not pinned (hosts are named as they were paired)"
        ))
    }
}

fn discover(seconds: f64) -> anyhow::Result<bool> {
    use punktfunk_core::wire::discovery::{txt, NATIVE_SERVICE};
    let daemon = mdns_sd::ServiceDaemon::new()?;
    let events = daemon.browse(NATIVE_SERVICE)?;
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let mut seen = std::collections::BTreeSet::new();
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        let Ok(event) = events.recv_timeout(left) else {
            break;
        };
        if let mdns_sd::ServiceEvent::ServiceResolved(info) = event {
            if !seen.insert(info.get_fullname().to_owned()) {
                continue;
            }
            let mut addresses: Vec<String> = info
                .get_addresses_v4()
                .iter()
                .map(|a| a.to_string())
                .collect();
            addresses.sort();
            let prop = |k| info.get_property_val_str(k).map(str::to_owned);
            println!(
                "{}",
                serde_json::json!({
                    "instance": info.get_fullname(),
                    "addresses": addresses,
                    "port": info.get_port(),
                    "id": prop(txt::ID),
                    "fingerprint": prop(txt::FINGERPRINT),
                    "pairing": prop(txt::PAIRING),
                    "mgmt": prop(txt::MGMT_PORT),
                    "proto": prop(txt::PROTOCOL),
                    "wire": prop(txt::WIRE),
                })
            );
        }
    }
    let _ = daemon.shutdown();
    eprintln!("{} host(s) found", seen.len());
    Ok(true)
}

fn connect(host: &str, args: &ConnectArgs) -> anyhow::Result<bool> {
    let addr = resolve(host)?;
    let identity = client_identity()?;
    let mut known = KnownHosts::load(&client_dir()?)?;
    let expected_host = known.get(host)?;
    let options = ClientOptions {
        mode: args.mode,
        preferred_codec: args.codec,
        bitrate_kbps: args.bitrate_kbps,
        device_name: "punktfunk-probe".into(),
        idle_timeout: Duration::from_millis(args.idle_timeout_ms),
        simulate_loss_percent: args.loss,
        expected_host,
        audio_channels: args.audio_channels,
        mic_channels: u8::from(args.mic_tone.is_some()),
        ..ClientOptions::default()
    };
    let client = NativeClient::connect(addr, &identity, options)?;
    if expected_host.is_none() {
        // The host let us in without pairing (an open host): pin it from now on.
        known.pin(host, client.host_fingerprint())?;
    }
    let welcome = client.welcome().clone();
    eprintln!(
        "connected to {addr}: host {} mode {} codec {}",
        client.host_fingerprint(),
        welcome.mode,
        welcome.codec.name()
    );
    let synthetic_media = welcome.features & feature::SYNTHETIC_MEDIA != 0;
    // Only the test picture carries frame numbers and capture times to read back.
    let test_picture = welcome.features & feature::TEST_PICTURE != 0;
    let mut saved_frame: Option<Vec<u8>> = None;
    let mut decoder = client.decoder()?;
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(args.seconds);
    let mut loss_on = args.loss > 0.0;
    let mut reconfigure = args.reconfigure;
    let mut inputs_left = args.send_input;
    let mut to_type = args.type_text.clone();
    let mut pad_messages = if args.pad_test {
        pad_test_messages()
    } else {
        Vec::new()
    };
    let mut pad_unplug_at = None;
    let mut tally = Tally::default();
    let mut audio = AudioTally::default();
    let mic_stop = Arc::new(AtomicBool::new(false));
    let mic = match args.mic_tone {
        Some(hz) => match client.mic_sender() {
            Some(sender) => Some(spawn_mic_tone(sender, hz, 1, mic_stop.clone())?),
            None => anyhow::bail!("--mic-tone: the host does not take a microphone"),
        },
        None => None,
    };
    while Instant::now() < end {
        audio.collect(&client);
        if loss_on
            && args
                .loss_seconds
                .is_some_and(|s| start.elapsed().as_secs_f64() >= s)
        {
            client.set_simulated_loss(0.0);
            loss_on = false;
            tally.loss_ended = Some(Instant::now());
        }
        if let Some(mode) =
            reconfigure.filter(|_| start.elapsed().as_secs_f64() >= args.reconfigure_after)
        {
            client.send(punktfunk_core::control::Message::Reconfigure { mode });
            reconfigure = None;
        }
        let Some(event) = client.next_event(Duration::from_millis(50)) else {
            if client.closed().is_some() {
                break;
            }
            continue;
        };
        if let Some(text) = to_type.as_deref() {
            if tally
                .first_at
                .is_some_and(|t| t.elapsed().as_secs_f64() >= args.type_after)
            {
                type_text(&client, text);
                for message in punktfunk_core::control::text_messages(
                    args.send_text.as_deref().unwrap_or_default(),
                ) {
                    client.send(message);
                }
                if args.pointer_test {
                    pointer_test(&client, welcome.mode.width, welcome.mode.height);
                }
                to_type = None;
            }
        }
        if tally.first_at.is_some() && !pad_messages.is_empty() {
            client.send(pad_messages.remove(0));
            if pad_messages.is_empty() {
                pad_unplug_at = Some(Instant::now() + Duration::from_secs(1));
            }
        }
        if pad_unplug_at.is_some_and(|t| Instant::now() >= t) {
            client.send(punktfunk_core::control::Message::PadRemoved { index: 0 });
            pad_unplug_at = None;
        }
        if inputs_left > 0 {
            inputs_left -= 1;
            client.send_input(punktfunk_core::control::InputEvent {
                kind: punktfunk_core::wire::control::input_kind::MOUSE_MOVE,
                x: 3,
                y: -2,
                ..Default::default()
            });
        }
        match event {
            ClientEvent::Frame { frame, latency } => {
                if frame.keyframe {
                    tally.chain_broken = false;
                }
                tally.last_epoch = frame.epoch;
                let now = Instant::now();
                tally.first_at.get_or_insert(now);
                tally.last_at = Some(now);
                if tally.last_index.is_some_and(|last| frame.index <= last) {
                    tally.out_of_order += 1;
                }
                tally.last_index = Some(frame.index);
                match &mut decoder {
                    None => {
                        // Synthetic media: the bytes themselves are checked.
                        if synthetic::verify(frame.index, &frame.data) {
                            tally.decoded += 1;
                            if let Some(l) = latency {
                                tally.latencies_us.push(l.as_micros() as u64);
                            }
                        } else {
                            tally.corrupt += 1;
                        }
                    }
                    Some(decoder) => {
                        let origin = welcome.clock_origin_unix_ns;
                        let mut pictures = Vec::new();
                        let mut size = None;
                        let outcome = decoder.decode(&frame, |p| {
                            size = Some((p.width(), p.height()));
                            if args.save_frame.is_some() {
                                saved_frame = punktfunk_video::convert::to_ppm(p).ok();
                            }
                            pictures.push(if test_picture {
                                read_stamp(p).map(|s| Some((s, unix_ns())))
                            } else {
                                Some(None)
                            })
                        });
                        match outcome {
                            DecodeOutcome::Pictures(_) => {}
                            DecodeOutcome::Skipped => tally.skipped += 1,
                            DecodeOutcome::Failed => client.request_keyframe(),
                        }
                        tally.chain_broken = decoder.is_broken();
                        if size.is_some() {
                            tally.last_picture = size;
                        }
                        for picture in pictures {
                            match picture {
                                Some(None) => tally.decoded += 1,
                                Some(Some((stamp, at))) => {
                                    tally.decoded += 1;
                                    if tally.last_stamp.is_some_and(|l| stamp.frame <= l) {
                                        tally.out_of_order += 1;
                                    }
                                    tally.last_stamp = Some(stamp.frame);
                                    let captured = origin + stamp.capture_us * 1000;
                                    tally.latencies_us.push(at.saturating_sub(captured) / 1000);
                                }
                                None => tally.corrupt += 1,
                            }
                        }
                    }
                }
                if let (Some(ended), None, false) =
                    (tally.loss_ended, tally.recovery, tally.chain_broken)
                {
                    tally.recovery = Some(ended.elapsed());
                }
            }
            ClientEvent::Lost { count, .. } => {
                tally.lost += u64::from(count);
                tally.chain_broken = true;
                if let Some(decoder) = &mut decoder {
                    decoder.on_loss();
                }
            }
        }
    }
    audio.collect(&client);
    mic_stop.store(true, Ordering::Relaxed);
    let mic_packets = match mic {
        Some(thread) => Some(
            thread
                .join()
                .map_err(|_| anyhow!("the microphone thread panicked"))??,
        ),
        None => None,
    };
    let heard = match welcome.audio_channels {
        0 => None,
        channels => Some(audio.summarize(channels)?),
    };
    let audio_ok = match (args.expect_audio_hz, &heard) {
        (None, _) => true,
        (Some(want), Some(h)) => h
            .peak_hz
            .is_some_and(|hz| (hz - want).abs() <= AUDIO_HZ_TOLERANCE),
        (Some(_), None) => false,
    };
    if !audio_ok {
        eprintln!(
            "--expect-audio-hz {}: heard {:?}",
            args.expect_audio_hz.unwrap_or_default(),
            heard.as_ref().map(|h| h.peak_hz)
        );
    }
    let closed = client.closed();
    let stats = client.stats();
    let counters = *stats.counters.lock().expect("stats lock");
    let keyframes_requested = stats
        .keyframes_requested
        .load(std::sync::atomic::Ordering::Relaxed);
    let summary = serde_json::json!({
        "host_fingerprint": client.host_fingerprint().to_string(),
        "mode": welcome.mode.to_string(),
        "codec": welcome.codec.name(),
        "synthetic_media": synthetic_media,
        "frames_decoded": tally.decoded,
        "frames_corrupt": tally.corrupt,
        "frames_lost": tally.lost,
        "frames_skipped": tally.skipped,
        "last_picture": tally.last_picture.map(|(w, h)| format!("{w}x{h}")),
        "last_epoch": tally.last_epoch,
        "frames_out_of_order": tally.out_of_order,
        "shards_recovered": counters.recovered,
        "packets_received": counters.received,
        "keyframes_requested": keyframes_requested,
        "fps": (tally.fps() * 10.0).round() / 10.0,
        "latency_ms_p50": tally.percentile_ms(0.50),
        "latency_ms_p95": tally.percentile_ms(0.95),
        "latency_ms_p99": tally.percentile_ms(0.99),
        "recovery_ms_after_loss": tally.recovery.map(|d| d.as_secs_f64() * 1000.0),
        "closed_by_host": closed,
        "test_picture": test_picture,
        "audio": heard,
        "mic_packets_sent": mic_packets,
    });
    if let Some(path) = &args.save_frame {
        let ppm = saved_frame.context("--save-frame: no picture was decoded")?;
        std::fs::write(path, ppm).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.quit {
        client.disconnect_quit();
    } else {
        client.disconnect();
    }
    println!("{summary}");
    Ok(tally.corrupt == 0 && closed.is_none() && audio_ok)
}

fn unix_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
