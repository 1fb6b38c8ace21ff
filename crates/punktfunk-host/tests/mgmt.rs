//! The management API over real HTTPS against a running host: every route, every kind of
//! refusal, the console sign-in with its cookie, CSRF and throttle, live events, and `ctl`.

mod common;

use std::io::{BufRead, BufReader};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

/// An HTTPS client that accepts exactly the host's certificate.
fn agent(host: &Host) -> ureq::Agent {
    let fp = punktfunk_net::identity::Fingerprint::from_hex(&host.fingerprint).unwrap();
    let tls = punktfunk_net::tls::pinned_https_client(fp).unwrap();
    ureq::AgentBuilder::new()
        .tls_config(Arc::new(tls))
        .timeout(Duration::from_secs(15))
        .build()
}

fn token(host: &Host) -> String {
    std::fs::read_to_string(host.config.join("admin-token"))
        .unwrap()
        .trim()
        .to_owned()
}

/// (status, JSON body or Null).
fn send(request: ureq::Request, body: Option<Value>) -> (u16, Value) {
    let result = match body {
        Some(b) => request.send_json(b),
        None => request.call(),
    };
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport error: {e}"),
    };
    let status = response.status();
    let text = response.into_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

struct Api<'a> {
    host: &'a Host,
    agent: ureq::Agent,
    base: String,
}

impl<'a> Api<'a> {
    fn new(host: &'a Host, base: &str) -> Self {
        Self {
            host,
            agent: agent(host),
            base: format!("{base}/api/v1"),
        }
    }
    fn req(&self, method: &str, path: &str) -> ureq::Request {
        self.agent.request(method, &format!("{}{path}", self.base))
    }
    fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        send(
            self.req(method, path)
                .set("Authorization", &format!("Bearer {}", token(self.host))),
            body,
        )
    }
}

/// Signs in; (cookie header value, CSRF token).
fn sign_in(api: &Api, password: &str) -> (String, String) {
    let response = api
        .req("POST", "/console/login")
        .send_json(json!({ "password": password }))
        .expect("sign-in");
    let cookie = response.header("set-cookie").unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("Secure")
            && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let csrf = response.into_json::<Value>().unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    (cookie.split(';').next().unwrap().to_owned(), csrf)
}

/// Every documented operation, with a path that names a real-looking resource.
fn operations() -> Vec<(String, String)> {
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../api/openapi.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let concrete = path
                .trim_start_matches("/api/v1")
                .replace("{id}", "1")
                .replace("{fingerprint}", &"ab".repeat(32));
            ops.push((method.to_uppercase(), concrete));
        }
    }
    ops
}

#[test]
fn every_route_refuses_missing_or_wrong_credentials() {
    let host = Host::launch(&scratch("mgmt-auth"), &[]);
    let api = Api::new(&host, &host.mgmt_url);
    let ops = operations();
    assert!(ops.len() >= 19, "{ops:?}");
    for (method, path) in &ops {
        let public = path.ends_with("/health") || path.ends_with("/console/login");
        let (status, body) = send(
            api.req(method, path),
            if method == "GET" || method == "DELETE" {
                None
            } else {
                Some(json!({}))
            },
        );
        if public {
            assert_ne!(status, 401, "{method} {path} is public");
        } else {
            assert_eq!(status, 401, "{method} {path} without credentials: {body}");
            assert!(body["error"].is_string(), "{method} {path}: {body}");
            let (status, _) = send(
                api.req(method, path).set("Authorization", "Bearer 0000"),
                None,
            );
            assert_eq!(status, 401, "{method} {path} with a wrong token");
        }
    }
    // A cookie that is not a session is no session.
    let (status, _) = send(
        api.req("GET", "/status").set("Cookie", "pf_session=forged"),
        None,
    );
    assert_eq!(status, 401);
    // The admin token from another address than loopback is refused even when right (a host
    // listening on every address; one host at a time).
    drop(api);
    drop(host);
    let lan_ip = std::process::Command::new("sh")
        .args([
            "-c",
            "ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | head -1",
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    if lan_ip.is_empty() {
        eprintln!("SKIPPED (non-loopback token check): this machine has no global IPv4 address");
    } else {
        let config = scratch("mgmt-lan");
        let lan = Host::launch(&config, &["--mgmt-bind", "0.0.0.0:0"]);
        let port = lan.mgmt_url.rsplit(':').next().unwrap().to_owned();
        let api = Api::new(&lan, &format!("https://{lan_ip}:{port}"));
        let (status, body) = api.admin("GET", "/status", None);
        assert_eq!(status, 403, "token from {lan_ip}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains("loopback"),
            "{body}"
        );
    }
}

#[test]
fn every_route_works_for_the_operator() {
    let host = Host::launch(&scratch("mgmt-routes"), &[]);
    let api = Api::new(&host, &host.mgmt_url);
    let (s, health) = send(api.req("GET", "/health"), None);
    assert_eq!((s, health["ok"].as_bool()), (200, Some(true)));
    let (s, status) = api.admin("GET", "/status", None);
    assert_eq!(s, 200);
    assert_eq!(status["fingerprint"], host.fingerprint.as_str());
    assert_eq!(status["pairing"], "required");
    assert!(
        status["encoders"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "h264"),
        "{status}"
    );
    let (s, config) = api.admin("GET", "/config", None);
    assert_eq!(s, 200);
    assert_eq!(config["max_sessions"], 4);
    assert_eq!(api.admin("GET", "/displays", None), (200, json!([])));
    assert_eq!(
        api.admin("GET", "/gamestream/pending", None),
        (200, json!([]))
    );
    let (s, body) = api.admin("POST", "/gamestream/pin", Some(json!({ "pin": "1234" })));
    assert_eq!(s, 409, "GameStream is off: {body}");
    assert_eq!(
        api.admin("POST", "/gamestream/pin", Some(json!({ "pin": "12a4" })))
            .0,
        400
    );

    // Live events: subscribe before anything happens.
    let events = api
        .req("GET", "/events")
        .set("Authorization", &format!("Bearer {}", token(&host)))
        .call()
        .unwrap();
    assert!(events
        .header("content-type")
        .unwrap()
        .starts_with("text/event-stream"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(events.into_reader())
            .lines()
            .map_while(Result::ok)
        {
            if let Some(name) = line.strip_prefix("event: ") {
                let _ = tx.send(name.to_owned());
            }
        }
    });
    let expect_event = |name: &str| {
        let end = Instant::now() + Duration::from_secs(5);
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            if rx.recv_timeout(left).ok().as_deref() == Some(name) {
                return;
            }
        }
        panic!("no {name} event");
    };

    // Pairing: arm (bad TTL refused), status, pair a probe, devices, rename, stream, sessions.
    assert_eq!(
        api.admin("POST", "/pairing/arm", Some(json!({ "ttl_s": 0 })))
            .0,
        400
    );
    assert_eq!(
        api.admin(
            "POST",
            "/pairing/arm",
            Some(json!({ "fingerprint": "xyz" }))
        )
        .0,
        400
    );
    let (s, window) = api.admin("POST", "/pairing/arm", Some(json!({ "ttl_s": 60 })));
    assert_eq!(s, 200);
    expect_event("pairing_armed");
    let pin = window["pin"].as_str().unwrap().to_owned();
    assert_eq!(api.admin("GET", "/pairing", None).1["armed"], true);
    let client = scratch("mgmt-routes-client");
    let out = probe_tool(&client)
        .args([
            "pair",
            &host.addr.to_string(),
            "--pin",
            &pin,
            "--name",
            "api test",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    expect_event("device_paired");
    let (_, devices) = api.admin("GET", "/devices", None);
    let fp = devices[0]["fingerprint"].as_str().unwrap().to_owned();
    assert_eq!(devices[0]["name"], "api test");
    let (s, renamed) = api.admin(
        "PATCH",
        &format!("/devices/{}", &fp[..12]),
        Some(json!({ "name": "renamed" })),
    );
    assert_eq!((s, renamed["name"].as_str()), (200, Some("renamed")));
    expect_event("device_renamed");
    assert_eq!(
        api.admin(
            "PATCH",
            &format!("/devices/{fp}"),
            Some(json!({ "name": "" }))
        )
        .0,
        400
    );
    assert_eq!(
        api.admin(
            "PATCH",
            &format!("/devices/{}", "cd".repeat(32)),
            Some(json!({ "name": "x" }))
        )
        .0,
        404
    );

    let session = probe_tool(&client)
        .args([
            "--connect",
            &host.addr.to_string(),
            "--seconds",
            "20",
            "--mode",
            "640x360@30",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    expect_event("session_started");
    std::thread::sleep(Duration::from_millis(700));
    let (_, sessions) = api.admin("GET", "/sessions", None);
    let id = sessions[0]["id"].as_u64().unwrap();
    assert_eq!(sessions[0]["fingerprint"], fp.as_str());
    assert!(
        sessions[0]["frames_sent"].as_u64().unwrap() > 0,
        "{sessions}"
    );
    assert_eq!(
        api.admin("POST", &format!("/sessions/{id}/keyframe"), None)
            .0,
        204
    );
    assert_eq!(api.admin("POST", "/sessions/999/keyframe", None).0, 404);
    assert_eq!(api.admin("DELETE", &format!("/sessions/{id}"), None).0, 204);
    expect_event("session_ended");
    assert_eq!(api.admin("DELETE", "/sessions/999", None).0, 404);
    let mut session = session;
    let _ = session.kill();

    let (s, gone) = api.admin("DELETE", &format!("/devices/{fp}"), None);
    assert_eq!(s, 200);
    assert_eq!(gone["unpaired"][0]["fingerprint"], fp.as_str());
    expect_event("device_unpaired");
    assert_eq!(api.admin("DELETE", &format!("/devices/{fp}"), None).0, 404);
    assert_eq!(
        api.admin("DELETE", "/pairing", None),
        (200, json!({ "armed": false }))
    );
    expect_event("pairing_disarmed");

    // `ctl` goes through the same API with the token.
    let (code, answer, err) = ctl(&host, &["status"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(answer["fingerprint"], host.fingerprint.as_str());
}

#[test]
fn the_console_signs_in_and_needs_csrf_for_changes() {
    let host = Host::launch(&scratch("mgmt-console"), &[]);
    let api = Api::new(&host, &host.console_url);
    let password = host.console_password();
    let (cookie, csrf) = sign_in(&api, &password);
    let (s, status) = send(api.req("GET", "/status").set("Cookie", &cookie), None);
    assert_eq!(
        (s, status["fingerprint"].as_str()),
        (200, Some(host.fingerprint.as_str()))
    );
    assert_eq!(
        send(
            api.req("GET", "/console/session").set("Cookie", &cookie),
            None
        )
        .1["csrf_token"],
        csrf.as_str()
    );
    // A change without the CSRF header (or with a wrong one) is refused; with it, done.
    let (s, body) = send(
        api.req("POST", "/pairing/arm").set("Cookie", &cookie),
        Some(json!({})),
    );
    assert_eq!(s, 403, "{body}");
    assert!(body["error"].as_str().unwrap().contains("CSRF"));
    let (s, _) = send(
        api.req("POST", "/pairing/arm")
            .set("Cookie", &cookie)
            .set("X-CSRF-Token", "nope"),
        Some(json!({})),
    );
    assert_eq!(s, 403);
    let (s, window) = send(
        api.req("POST", "/pairing/arm")
            .set("Cookie", &cookie)
            .set("X-CSRF-Token", &csrf),
        Some(json!({})),
    );
    assert_eq!((s, window["armed"].as_bool()), (200, Some(true)));
    // The console page itself, with a policy that allows nothing from elsewhere.
    let page = api
        .agent
        .get(&format!("{}/", host.console_url))
        .call()
        .unwrap();
    assert!(page
        .header("content-security-policy")
        .unwrap()
        .contains("default-src 'self'"));
    assert!(page.into_string().unwrap().contains("<html"));
    // Sign-out ends the session.
    assert_eq!(
        send(
            api.req("POST", "/console/logout")
                .set("Cookie", &cookie)
                .set("X-CSRF-Token", &csrf),
            None
        )
        .0,
        204
    );
    assert_eq!(
        send(api.req("GET", "/status").set("Cookie", &cookie), None).0,
        401
    );
    // Console-only routes are not for the token.
    assert_eq!(api.admin("GET", "/console/session", None).0, 403);
}

#[test]
fn wrong_passwords_are_throttled_per_address_then_the_right_one_works() {
    let host = Host::launch(&scratch("mgmt-throttle"), &[]);
    let api = Api::new(&host, &host.console_url);
    let password = host.console_password();
    for attempt in 0..5 {
        let (s, _) = send(
            api.req("POST", "/console/login"),
            Some(json!({ "password": format!("wrong{attempt}") })),
        );
        assert_eq!(s, 401, "attempt {attempt}");
    }
    let (s, body) = send(
        api.req("POST", "/console/login"),
        Some(json!({ "password": password })),
    );
    assert_eq!(s, 429, "throttled even with the right password: {body}");
    let wait = body["retry_after_s"].as_u64().unwrap();
    assert!((1..=11).contains(&wait), "{body}");
    std::thread::sleep(Duration::from_secs(wait));
    sign_in(&api, &password);
    // `web password` makes a new one; the old no longer works.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_punktfunk-host"))
        .args(["web", "password"])
        .env("PUNKTFUNK_CONFIG_DIR", &host.config)
        .output()
        .unwrap();
    let fresh = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(
        send(
            api.req("POST", "/console/login"),
            Some(json!({ "password": password }))
        )
        .0,
        401
    );
    sign_in(&api, &fresh);
}
