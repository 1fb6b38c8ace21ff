//! `punktfunk-host loopback` end to end: the synthetic source over real UDP on loopback to the
//! in-process receiver, with simulated loss that FEC must repair.

use std::process::Command;

fn field(line: &str, key: &str) -> u64 {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key} in {line}"))
        .parse::<f64>()
        .unwrap() as u64
}

fn loopback(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_punktfunk-host"))
        .arg("loopback")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn virtual_source_streams_intact_through_simulated_loss() {
    let (ok, stdout, stderr) = loopback(&[
        "--source",
        "synthetic",
        "--seconds",
        "2",
        "--bitrate-kbps",
        "30000",
        "--fec-percent",
        "20",
        "--simulate-loss",
        "2",
    ]);
    assert!(ok, "loopback failed:\n{stdout}\n{stderr}");
    let sent = stdout.lines().find(|l| l.starts_with("sent ")).unwrap();
    let received = stdout.lines().find(|l| l.starts_with("received ")).unwrap();
    assert_eq!(field(received, "corrupt"), 0);
    assert!(field(sent, "dropped") > 0, "loss was simulated: {sent}");
    assert!(
        field(received, "recovered") > 0,
        "FEC repaired shards: {received}"
    );
    // 2 % loss against 20 % FEC: nearly every frame must survive.
    assert!(
        field(received, "verified") * 100 >= field(sent, "frames") * 95,
        "{sent}\n{received}"
    );
}

#[test]
fn bad_arguments_say_what_is_wrong() {
    let (ok, _, stderr) = loopback(&["--shard-bytes", "1001"]);
    assert!(!ok);
    assert!(stderr.contains("shard size 1001 must be even"), "{stderr}");
    let (ok, _, stderr) = loopback(&["--source", "pipewire"]);
    assert!(!ok);
    assert!(stderr.contains("invalid value 'pipewire'"), "{stderr}");
    let (ok, _, stderr) = loopback(&["--send-to", "127.0.0.1:9", "--secret", "zz"]);
    assert!(!ok);
    assert!(stderr.contains("64 hex digits"), "{stderr}");
}
