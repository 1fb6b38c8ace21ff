//! Virtual displays on a real headless GNOME Mutter (with D-Bus, PipeWire and WirePlumber
//! started by the test): a client gets a virtual monitor at exactly its mode, streamed from
//! Mutter's PipeWire stream; a quit removes it.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use punktfunk_pipewire::mutter::monitors;
use punktfunk_pipewire::testing::Desktop;

fn installed(program: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn a_client_gets_a_mutter_virtual_monitor_at_its_mode() {
    if !installed("mutter") || !installed("pipewire") {
        let why = "mutter or pipewire is not installed (scripts/install-deps.sh installs them)";
        assert!(
            std::env::var_os("PUNKTFUNK_REQUIRE_TOOLS").is_none_or(|v| v != "1"),
            "{why}"
        );
        eprintln!("SKIPPED: {why}");
        return;
    }
    let desktop = Desktop::start().expect("headless mutter with pipewire starts");
    let runtime: &Path = desktop.runtime_dir();
    let host = Host::launch_env(
        &scratch("mutter-host"),
        &["--open", "--source", "compositor", "--keep-alive-ms", "0"],
        &[
            (
                "DBUS_SESSION_BUS_ADDRESS",
                Path::new(desktop.dbus_address()),
            ),
            ("XDG_RUNTIME_DIR", runtime),
            ("PIPEWIRE_RUNTIME_DIR", runtime),
            ("XDG_CURRENT_DESKTOP", Path::new("GNOME")),
        ],
    );
    let virtual_monitors = || {
        monitors(&desktop.endpoints())
            .unwrap()
            .into_iter()
            .filter(|m| m.active)
            .filter_map(|m| m.current_mode.map(|mode| (mode.width, mode.height)))
            .collect::<Vec<_>>()
    };
    assert!(
        virtual_monitors().is_empty(),
        "a fresh headless mutter has no monitors"
    );
    let probe = probe_command(
        &host,
        &[
            "--mode",
            "1280x720@60",
            "--codec",
            "h264",
            "--seconds",
            "3",
            "--quit",
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    while virtual_monitors().is_empty() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        virtual_monitors(),
        [(1280, 720)],
        "{}",
        host.log.lock().unwrap()
    );
    let (summary, ok, err) = summary(probe.wait_with_output().unwrap());
    assert!(ok, "{err}\n{summary}\n{}", host.log.lock().unwrap());
    assert_eq!(summary["last_picture"], "1280x720");
    assert!(num(&summary, "frames_decoded") > 0.0, "{summary}");
    // The quit removed the monitor.
    let end = Instant::now() + Duration::from_secs(5);
    while !virtual_monitors().is_empty() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        virtual_monitors().is_empty(),
        "monitor left after quit: {:?}",
        virtual_monitors()
    );
    assert!(
        host.log_shows("compositor=mutter", Duration::ZERO),
        "{}",
        host.log.lock().unwrap()
    );
    // Input went to the monitor's own RemoteDesktop session (auto on Mutter).
    assert!(
        host.log_shows("Mutter RemoteDesktop session", Duration::ZERO),
        "{}",
        host.log.lock().unwrap()
    );
}
