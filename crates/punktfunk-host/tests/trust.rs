//! Trust end to end: PIN pairing (SPAKE2) with real host and probe processes, pinning on both
//! sides, open (TOFU) mode, unpairing, the device store surviving kill -9, and mDNS discovery.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// Runs a probe sub-command with the identity in `client`; (success, stdout JSON, stderr).
fn probe_run(client: &Path, args: &[&str]) -> (bool, Value, String) {
    let (json, ok, stderr) = summary(probe_tool(client).args(args).output().unwrap());
    (ok, json, stderr)
}

fn stream(host: &Host, client: &Path) -> (bool, Value, String) {
    let addr = host.addr.to_string();
    probe_run(
        client,
        &["--connect", &addr, "--seconds", "1", "--mode", "640x360@30"],
    )
}

fn pair(host: &Host, client: &Path, pin: &str) -> (bool, Value, String) {
    probe_run(client, &["pair", &host.addr.to_string(), "--pin", pin])
}

fn arm(host: &Host, extra: &[&str]) -> String {
    let mut args = vec!["pair", "arm"];
    args.extend_from_slice(extra);
    let (code, answer, err) = ctl(host, &args);
    assert_eq!(code, 0, "ctl pair arm: {err}");
    let pin = answer["pin"].as_str().expect("the PIN").to_owned();
    assert_eq!(pin.len(), 4, "{answer}");
    assert!(pin.bytes().all(|b| b.is_ascii_digit()), "{pin}");
    pin
}

fn other_pin(pin: &str) -> String {
    let n: u32 = pin.parse().unwrap();
    format!("{:04}", (n + 1) % 10_000)
}

fn clients(host: &Host) -> Vec<Value> {
    let (code, answer, err) = ctl(host, &["clients"]);
    assert_eq!(code, 0, "{err}");
    answer.as_array().cloned().unwrap_or_default()
}

fn client_fingerprint(client: &Path) -> String {
    // The probe made its identity on first use; the fingerprint is SHA-256 of cert.der.
    let der = std::fs::read(client.join("identity/cert.der")).unwrap();
    let out = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(&der)?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

#[test]
fn a_probe_pairs_with_the_pin_then_streams_without_it() {
    let host = Host::launch(&scratch("pin-host"), &[]);
    let client = scratch("pin-client");
    let (ok, _, err) = stream(&host, &client);
    assert!(!ok, "an unpaired probe is refused");
    assert!(err.contains("not paired") && err.contains("0x63"), "{err}");
    assert!(
        err.contains("pair arm"),
        "the refusal says how to pair: {err}"
    );

    let pin = arm(&host, &[]);
    let (ok, answer, err) = pair(&host, &client, &pin);
    assert!(ok, "pairing with the right PIN: {err}");
    assert_eq!(answer["host_fingerprint"], host.fingerprint.as_str());
    let devices = clients(&host);
    assert_eq!(devices.len(), 1, "{devices:?}");
    assert_eq!(
        devices[0]["fingerprint"],
        client_fingerprint(&client).as_str()
    );
    assert_eq!(devices[0]["paired_by"], "pin");
    assert_eq!(devices[0]["plane"], "native");
    // The window closed with the success.
    assert_eq!(ctl(&host, &["pair", "status"]).1["armed"], false);

    for attempt in 0..2 {
        let (ok, summary, err) = stream(&host, &client);
        assert!(ok, "paired session {attempt}: {err}");
        assert!(num(&summary, "frames_decoded") > 0.0, "{summary}");
    }
    assert!(clients(&host)[0]["last_seen"].as_u64().is_some());
}

#[test]
fn a_wrong_pin_stores_nothing_and_the_window_cools_down_then_expires() {
    let host = Host::launch(&scratch("wrong-host"), &[]);
    let client = scratch("wrong-client");
    let pin = arm(&host, &[]);
    let (ok, _, err) = pair(&host, &client, &other_pin(&pin));
    assert!(!ok);
    assert!(err.contains("wrong PIN"), "{err}");
    assert!(clients(&host).is_empty(), "nothing stored");
    let status = ctl(&host, &["pair", "status"]).1;
    assert_eq!(
        status["armed"], true,
        "one wrong guess leaves the window open"
    );
    assert_eq!(status["failed_attempts"], 1);

    // Straight away, even the right PIN meets the cooldown.
    let (ok, _, err) = pair(&host, &client, &pin);
    assert!(!ok);
    assert!(
        err.contains("rate-limited") && err.contains("0x62"),
        "{err}"
    );
    std::thread::sleep(Duration::from_millis(2100));
    let (ok, _, err) = pair(&host, &client, &pin);
    assert!(ok, "after the cooldown the right PIN pairs: {err}");

    // A window that ran out refuses.
    let other = scratch("wrong-client-2");
    let pin = arm(&host, &["--ttl", "1"]);
    std::thread::sleep(Duration::from_millis(1300));
    let (ok, _, err) = pair(&host, &other, &pin);
    assert!(!ok);
    assert!(err.contains("0x60") && err.contains("expired"), "{err}");
    assert_eq!(clients(&host).len(), 1);

    // Usage mistakes are told apart from refusals.
    let (code, _, err) = ctl(&host, &["pair", "arm", "--ttl", "0"]);
    assert_eq!(code, 2, "a usage mistake: {err}");
    assert!(err.contains("--ttl"), "{err}");
    let (code, _, _) = ctl(&host, &["pair", "frobnicate"]);
    assert_eq!(code, 2);
}

#[test]
fn other_certificates_are_refused_on_both_sides() {
    let config = scratch("cert-host");
    let host = Host::launch(&config, &[]);
    let client = scratch("cert-client");
    let intruder = scratch("cert-intruder");
    let pin = arm(&host, &[]);
    assert!(pair(&host, &client, &pin).0);

    // Another identity is not the paired device, whatever it calls itself.
    let (ok, _, err) = stream(&host, &intruder);
    assert!(!ok && err.contains("not paired"), "{err}");

    // A window bound to one device refuses any other.
    stream(&host, &client); // make sure the client identity exists (it does: it paired)
    let fp = client_fingerprint(&client);
    let pin = arm(&host, &["--fingerprint", &fp]);
    let (ok, _, err) = pair(&host, &intruder, &pin);
    assert!(!ok && err.contains("0x61"), "{err}");
    ctl(&host, &["pair", "disarm"]);

    // The host gets a new certificate (same address, same device store): the probe refuses it.
    let addr = host.addr;
    drop(host);
    std::fs::remove_dir_all(config.join("native-identity")).unwrap();
    let port = addr.port().to_string();
    let host = Host::launch(&config, &["--native-port", &port]);
    assert_eq!(host.addr, addr, "same address");
    let (ok, _, err) = stream(&host, &client);
    assert!(!ok);
    assert!(err.contains("certificate changed"), "{err}");
    assert!(
        !host.log_shows("welcome", Duration::from_millis(300)),
        "nothing was sent to it"
    );
}

#[test]
fn an_open_host_pins_a_new_client_on_first_use() {
    let host = Host::launch(&scratch("open-host"), &["--open"]);
    let client = scratch("open-client");
    let (ok, summary, err) = stream(&host, &client);
    assert!(ok, "{err}");
    assert!(num(&summary, "frames_decoded") > 0.0);
    let devices = clients(&host);
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0]["paired_by"], "tofu");
    assert_eq!(
        devices[0]["fingerprint"],
        client_fingerprint(&client).as_str()
    );
    // The probe pinned the host too.
    let known = std::fs::read_to_string(client.join("known-hosts.json")).unwrap();
    assert!(known.contains(&host.fingerprint), "{known}");
    assert_eq!(ctl(&host, &["status"]).1["pairing"], "optional");
}

#[test]
fn unpairing_ends_the_devices_live_session() {
    let host = Host::launch(&scratch("unpair-host"), &[]);
    let client = scratch("unpair-client");
    let pin = arm(&host, &[]);
    assert!(pair(&host, &client, &pin).0);
    let fp = client_fingerprint(&client);
    let addr = host.addr.to_string();
    let session = probe_tool(&client)
        .args([
            "--connect",
            &addr,
            "--seconds",
            "20",
            "--mode",
            "640x360@30",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(host.log_shows("welcome", Duration::from_secs(10)));
    let sessions = ctl(&host, &["sessions"]).1;
    assert_eq!(sessions.as_array().map(Vec::len), Some(1), "{sessions}");
    assert_eq!(sessions[0]["fingerprint"], fp.as_str());

    let started = Instant::now();
    let (code, answer, err) = ctl(&host, &["unpair", &fp[..12]]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(answer["sessions_ended"], 1, "{answer}");
    let (report, _, _) = summary(session.wait_with_output().unwrap());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the session ended at once"
    );
    let why = report["closed_by_host"].as_str().unwrap_or_default();
    assert!(
        why.contains("0x63") && why.contains("unpaired"),
        "the probe is told why: {report}"
    );
    assert!(clients(&host).is_empty());
    let (ok, _, err) = stream(&host, &client);
    assert!(!ok && err.contains("not paired"), "{err}");
    let (code, _, err) = ctl(&host, &["unpair", &fp[..12]]);
    assert_eq!(code, 1);
    assert!(err.contains("no paired device"), "{err}");
}

#[test]
fn the_device_store_survives_kill_9_mid_write() {
    let config = scratch("kill-host");
    std::fs::create_dir_all(&config).unwrap();
    // A big store makes every write take a while, so the kills land inside writes too.
    let devices: Vec<Value> = (0..3000)
        .map(|i| {
            serde_json::json!({ "name": format!("device {i}"), "fingerprint": format!("{i:064x}"),
                "plane": "native", "paired_by": "pin", "paired_at": 1, "last_seen": null })
        })
        .collect();
    let store = config.join("devices.json");
    std::fs::write(
        &store,
        serde_json::to_vec_pretty(&serde_json::json!({ "version": 1, "devices": devices }))
            .unwrap(),
    )
    .unwrap();
    let client = scratch("kill-client");
    let mut kills = 0;
    for round in 0..3u64 {
        let host = Host::launch(&config, &[]);
        let stop = Instant::now() + Duration::from_millis(600 + 450 * round);
        let mut writes = 0;
        while Instant::now() < stop {
            let pin = arm(&host, &[]);
            if pair(&host, &client, &pin).0 {
                writes += 1;
                let fp = client_fingerprint(&client);
                if ctl(&host, &["unpair", &fp]).0 == 0 {
                    writes += 1;
                }
            }
        }
        assert!(writes > 0, "round {round}: the loop wrote the store");
        let mut host = host;
        // SIGKILL, no chance to clean up; a probe pairing at that moment may be mid-write.
        let pin = arm(&host, &[]);
        let racing = probe_tool(&client)
            .args(["pair", &host.addr.to_string(), "--pin", &pin])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(20 * round));
        host.child.kill().unwrap();
        kills += 1;
        let _ = racing.wait_with_output();
        let bytes = std::fs::read(&store).unwrap();
        let parsed: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("round {round}: the store parses after kill -9: {e}"));
        let n = parsed["devices"].as_array().unwrap().len();
        assert!(
            n == 3000 || n == 3001,
            "round {round}: old or new content, got {n} devices"
        );
    }
    assert_eq!(kills, 3);
}

#[test]
fn the_probe_discovers_the_host_over_mdns() {
    let host = Host::launch(&scratch("mdns-host"), &["--mdns"]);
    let out = probe_tool(&scratch("mdns-client"))
        .args(["discover", "--seconds", "4"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let found: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &Value| v["fingerprint"] == host.fingerprint.as_str())
        .collect();
    assert_eq!(found.len(), 1, "the host is discovered once: {stdout}");
    let h = &found[0];
    assert_eq!(h["port"], host.addr.port());
    assert_eq!(h["pairing"], "required");
    assert_eq!(h["proto"], "punktfunk/1");
    assert_eq!(h["id"], &host.fingerprint[..16]);
    let mgmt_port = host.mgmt_url.rsplit(':').next().unwrap();
    assert_eq!(h["mgmt"], mgmt_port, "the management port is advertised");
}
