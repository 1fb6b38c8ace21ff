//! `punktfunk-host ctl`: the operator's commands to the running host, over its management API.
//!
//! It finds the API in the config dir (`runtime.json`), authenticates with the admin token kept
//! there (accepted from loopback only), and accepts only the host's own certificate (pinned by
//! the fingerprint of `native-identity/cert.der`). Exit codes: 0 done, 1 refused by the host,
//! 2 usage error, 3 no host running.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use punktfunk_core::wire::pairing::DEFAULT_WINDOW_TTL_S;
use serde_json::{json, Value};

use crate::mgmt::{auth, RUNTIME_FILE};

pub mod exit {
    pub const OK: u8 = 0;
    pub const REFUSED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const NOT_RUNNING: u8 = 3;
}

#[derive(Debug, Args)]
pub struct CtlArgs {
    /// Print the host's answer as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: CtlCommand,
}

#[derive(Debug, Subcommand)]
enum CtlCommand {
    /// Host identity, planes, sessions and the pairing window.
    Status,
    /// Live sessions.
    Sessions,
    /// Virtual displays: active or lingering (with the time left before release).
    Displays,
    /// End one live session (its id from `sessions`).
    StopSession { id: u64 },
    /// Paired devices.
    Clients,
    /// Forget a paired device (64 hex digits, or a unique prefix of ≥ 8); its sessions end.
    Unpair { fingerprint: String },
    /// The PIN pairing window.
    #[command(subcommand)]
    Pair(PairCommand),
    /// Hand a Moonlight client's PIN to the waiting GameStream pairing.
    Pin { pin: String },
}

#[derive(Debug, Subcommand)]
enum PairCommand {
    /// Open a pairing window with a fresh PIN for the client to enter.
    Arm {
        /// How long the window stays open, seconds.
        #[arg(long, default_value_t = DEFAULT_WINDOW_TTL_S)]
        ttl: u64,
        /// Only this device (its certificate fingerprint, 64 hex digits) may use the window.
        #[arg(long)]
        fingerprint: Option<String>,
    },
    /// Whether a window is open, its PIN and time left.
    Status,
    /// Close the window now.
    Disarm,
}

/// How to reach the running host's API.
struct Endpoint {
    base: String,
    token: String,
    agent: ureq::Agent,
}

fn endpoint(dir: &Path) -> Result<Endpoint, (u8, String)> {
    let not_running = |why: String| {
        (
            exit::NOT_RUNNING,
            format!("no punktfunk-host is running for {} ({why}); start one with `punktfunk-host serve`", dir.display()),
        )
    };
    let runtime: Value = std::fs::read(dir.join(RUNTIME_FILE))
        .map_err(|e| not_running(format!("{RUNTIME_FILE}: {e}")))
        .and_then(|b| {
            serde_json::from_slice(&b).map_err(|e| not_running(format!("{RUNTIME_FILE}: {e}")))
        })?;
    let mgmt = runtime["mgmt"]
        .as_str()
        .ok_or_else(|| not_running(format!("{RUNTIME_FILE} names no port")))?;
    let token = std::fs::read_to_string(dir.join(auth::TOKEN_FILE))
        .map_err(|e| not_running(format!("{}: {e}", auth::TOKEN_FILE)))?
        .trim()
        .to_owned();
    let cert = std::fs::read(dir.join("native-identity").join("cert.der"))
        .map_err(|e| not_running(format!("the host certificate: {e}")))?;
    let fingerprint = punktfunk_net::identity::Fingerprint::of(&cert);
    let tls = punktfunk_net::tls::pinned_https_client(fingerprint)
        .map_err(|e| (exit::USAGE, format!("TLS setup: {e:#}")))?;
    let agent = ureq::AgentBuilder::new()
        .tls_config(Arc::new(tls))
        .timeout(Duration::from_secs(15))
        .build();
    Ok(Endpoint {
        base: format!("https://{mgmt}/api/v1"),
        token,
        agent,
    })
}

/// One API call; the parsed answer (`null` for an empty one), or an exit code and message.
fn call(
    endpoint: &Endpoint,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Result<Value, (u8, String)> {
    let request = endpoint
        .agent
        .request(method, &format!("{}{path}", endpoint.base))
        .set("Authorization", &format!("Bearer {}", endpoint.token));
    let answer = match body {
        Some(b) => request.send_json(b),
        None => request.call(),
    };
    let parse = |r: ureq::Response| -> Value {
        let text = r.into_string().unwrap_or_default();
        if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        }
    };
    match answer {
        Ok(r) => Ok(parse(r)),
        Err(ureq::Error::Status(code, r)) => {
            let v = parse(r);
            let message = v["error"]
                .as_str()
                .map_or_else(|| v.to_string(), str::to_owned);
            let code = if code == 400 || code == 422 {
                exit::USAGE
            } else {
                exit::REFUSED
            };
            Err((code, message))
        }
        Err(e) => Err((
            exit::NOT_RUNNING,
            format!("cannot reach the host's management API: {e}"),
        )),
    }
}

fn print_human(command: &CtlCommand, data: &Value) {
    let s = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    match command {
        CtlCommand::Pair(PairCommand::Arm { .. }) => {
            println!("PIN {}", s(&data["pin"]));
            println!(
                "valid for {} s{}",
                data["remaining_s"],
                data["bound_to"]
                    .as_str()
                    .map_or(String::new(), |b| format!(", only for device {b}"))
            );
        }
        CtlCommand::Pair(PairCommand::Status) => {
            if data["armed"].as_bool() == Some(true) {
                println!(
                    "armed: PIN {}, {} s left, {} failed attempts",
                    s(&data["pin"]),
                    data["remaining_s"],
                    data["failed_attempts"]
                );
            } else {
                println!("no pairing window is armed");
            }
        }
        CtlCommand::Clients => {
            let list = data.as_array().cloned().unwrap_or_default();
            if list.is_empty() {
                println!("no paired devices");
            }
            for d in list {
                println!(
                    "{}  {:<10} {:<4} {}",
                    s(&d["fingerprint"]),
                    s(&d["plane"]),
                    s(&d["paired_by"]),
                    s(&d["name"])
                );
            }
        }
        CtlCommand::Sessions => {
            let list = data.as_array().cloned().unwrap_or_default();
            if list.is_empty() {
                println!("no live sessions");
            }
            for x in list {
                println!(
                    "{}  {} {} {} {} {}",
                    x["id"],
                    &s(&x["fingerprint"])[..16],
                    s(&x["mode"]),
                    s(&x["codec"]),
                    s(&x["remote"]),
                    s(&x["device"])
                );
            }
        }
        _ => println!("{}", serde_json::to_string_pretty(data).unwrap_or_default()),
    }
}

/// Runs one `ctl` command against the host; the exit code follows the table above.
pub fn run(args: CtlArgs) -> ExitCode {
    let dir: PathBuf = match punktfunk_net::store::config_dir("punktfunk", "PUNKTFUNK_CONFIG_DIR") {
        Ok(d) => d,
        Err(e) => {
            eprintln!("punktfunk-host ctl: {e:#}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let result = endpoint(&dir).and_then(|e| {
        let enc = |s: &str| s.replace(|c: char| !c.is_ascii_alphanumeric(), "");
        match &args.command {
            CtlCommand::Status => call(&e, "GET", "/status", None),
            CtlCommand::Sessions => call(&e, "GET", "/sessions", None),
            CtlCommand::Displays => call(&e, "GET", "/displays", None),
            CtlCommand::StopSession { id } => call(&e, "DELETE", &format!("/sessions/{id}"), None)
                .map(|_| json!({ "stopped": id })),
            CtlCommand::Clients => call(&e, "GET", "/devices", None),
            CtlCommand::Unpair { fingerprint } => call(
                &e,
                "DELETE",
                &format!("/devices/{}", enc(fingerprint)),
                None,
            ),
            CtlCommand::Pin { pin } => {
                call(&e, "POST", "/gamestream/pin", Some(json!({ "pin": pin })))
                    .map(|_| json!({ "accepted": true }))
            }
            CtlCommand::Pair(PairCommand::Arm { ttl, fingerprint }) => call(
                &e,
                "POST",
                "/pairing/arm",
                Some(json!({ "ttl_s": ttl, "fingerprint": fingerprint })),
            ),
            CtlCommand::Pair(PairCommand::Status) => call(&e, "GET", "/pairing", None),
            CtlCommand::Pair(PairCommand::Disarm) => call(&e, "DELETE", "/pairing", None),
        }
    });
    match result {
        Err((code, message)) => {
            if args.json {
                println!("{}", json!({ "ok": false, "error": message }));
            }
            let what = if code == exit::REFUSED {
                "refused: "
            } else {
                ""
            };
            eprintln!("punktfunk-host ctl: {what}{message}");
            ExitCode::from(code)
        }
        Ok(data) => {
            if args.json {
                println!("{data}");
            } else {
                print_human(&args.command, &data);
            }
            ExitCode::from(exit::OK)
        }
    }
}
