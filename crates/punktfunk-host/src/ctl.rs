//! `punktfunk-host ctl`: the operator's commands to the running host.
//!
//! The host listens on a Unix socket in its config dir (a 0700 directory, the socket 0600), so
//! only the owner can reach it; one JSON request line in, one JSON response line out. Exit codes:
//! 0 done, 1 refused by the host, 2 usage error, 3 no host running.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use punktfunk_core::pairing::WindowStatus;
use punktfunk_core::wire::close;
use punktfunk_core::wire::pairing::{DEFAULT_WINDOW_TTL_S, MAX_WINDOW_TTL_S};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

use crate::native::Plane;
use crate::trust::{hex, parse_fingerprint, Trust};

/// The socket's file name in the config dir.
pub const SOCKET: &str = "ctl.sock";
/// Longest request line the host reads.
const MAX_REQUEST: usize = 4096;

pub mod exit {
    pub const OK: u8 = 0;
    pub const REFUSED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const NOT_RUNNING: u8 = 3;
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Request {
    Status,
    Sessions,
    Displays,
    StopSession {
        id: u64,
    },
    Clients,
    Unpair {
        fingerprint: String,
    },
    PairArm {
        ttl_s: u64,
        fingerprint: Option<String>,
    },
    PairStatus,
    PairDisarm,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Response {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default)]
    pub data: Value,
}

/// What the host side needs to answer.
pub struct HostContext {
    pub trust: Arc<Trust>,
    pub native: Arc<Plane>,
    pub native_addr: std::net::SocketAddr,
    pub gamestream_fingerprint: String,
}

fn window_json(status: WindowStatus) -> Value {
    match status {
        WindowStatus::Closed => json!({ "armed": false }),
        WindowStatus::Armed {
            pin,
            remaining,
            bound,
            failures,
        } => json!({
            "armed": true,
            "pin": pin,
            "remaining_s": remaining.as_secs_f64().ceil() as u64,
            "bound_to": bound.map(|b| hex(&b)),
            "failed_attempts": failures,
        }),
    }
}

impl HostContext {
    fn answer(&self, request: Request) -> Result<Value, String> {
        let trust = &self.trust;
        match request {
            Request::Status => Ok(json!({
                "version": env!("CARGO_PKG_VERSION"),
                "fingerprint": hex(&self.native.fingerprint),
                "gamestream_fingerprint": self.gamestream_fingerprint,
                "native_addr": self.native_addr.to_string(),
                "pairing": if trust.open { "optional" } else { "required" },
                "sessions": self.native.sessions.list().len(),
                "paired_devices": trust.list().len(),
                "pairing_window": window_json(trust.window_status()),
            })),
            Request::Sessions => Ok(json!(self.native.sessions.list())),
            Request::Displays => Ok(json!(self
                .native
                .displays
                .as_ref()
                .map(|d| d.list())
                .unwrap_or_default())),
            Request::StopSession { id } => {
                if self
                    .native
                    .sessions
                    .close(id, close::NO_ERROR, "stopped by the operator")
                {
                    Ok(json!({ "stopped": id }))
                } else {
                    Err(format!(
                        "no session {id} (see `punktfunk-host ctl sessions`)"
                    ))
                }
            }
            Request::Clients => Ok(json!(trust.list())),
            Request::Unpair { fingerprint } => {
                let removed = trust.unpair(&fingerprint).map_err(|e| format!("{e:#}"))?;
                let fp = removed[0].fingerprint.clone();
                // An unpaired device keeps nothing: its live sessions end now.
                let ended = self.native.sessions.close_device(
                    &fp,
                    close::NOT_PAIRED,
                    "this device was unpaired by the host's operator",
                );
                tracing::info!(fingerprint = %fp, sessions_ended = ended, "device unpaired");
                Ok(json!({ "unpaired": removed, "sessions_ended": ended }))
            }
            Request::PairArm { ttl_s, fingerprint } => {
                if ttl_s == 0 || ttl_s > MAX_WINDOW_TTL_S {
                    return Err(format!("--ttl must be 1..={MAX_WINDOW_TTL_S} seconds"));
                }
                let bound = match fingerprint.as_deref() {
                    None => None,
                    Some(f) => {
                        Some(parse_fingerprint(&f.to_ascii_lowercase()).ok_or_else(|| {
                            format!("--fingerprint {f:?}: expected 64 hex digits")
                        })?)
                    }
                };
                let pin = trust
                    .arm(Duration::from_secs(ttl_s), bound)
                    .map_err(|e| format!("{e:#}"))?;
                tracing::info!(ttl_s, bound = ?fingerprint, "pairing window armed");
                // The answer carries the PIN just made, even if the window is read a moment later.
                let mut answer = window_json(trust.window_status());
                answer["pin"] = Value::String(pin);
                Ok(answer)
            }
            Request::PairStatus => Ok(window_json(trust.window_status())),
            Request::PairDisarm => {
                trust.disarm();
                Ok(json!({ "armed": false }))
            }
        }
    }
}

/// Binds the socket in `dir`, refusing when another host answers on it.
pub fn bind(dir: &Path) -> anyhow::Result<tokio::net::UnixListener> {
    let path = dir.join(SOCKET);
    if path.exists() {
        if UnixStream::connect(&path).is_ok() {
            anyhow::bail!(
                "another punktfunk-host runs with the config dir {} (its {SOCKET} answers); \
                 stop it or give this one its own PUNKTFUNK_CONFIG_DIR",
                dir.display()
            );
        }
        // Left behind by a host that died.
        std::fs::remove_file(&path)
            .with_context(|| format!("cannot remove the stale {}", path.display()))?;
    }
    punktfunk_net::store::ensure_private_dir(dir)?;
    let listener = tokio::net::UnixListener::bind(&path)
        .with_context(|| format!("cannot listen on {}", path.display()))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// Answers ctl requests until the runtime ends.
pub async fn serve(listener: tokio::net::UnixListener, host: Arc<HostContext>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let host = host.clone();
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut line = String::new();
            let mut reader = tokio::io::BufReader::new(read).take(MAX_REQUEST as u64);
            let response =
                match tokio::time::timeout(Duration::from_secs(5), reader.read_line(&mut line))
                    .await
                {
                    Ok(Ok(_)) => match serde_json::from_str::<Request>(&line) {
                        Ok(request) => match host.answer(request) {
                            Ok(data) => Response {
                                ok: true,
                                error: None,
                                data,
                            },
                            Err(error) => Response {
                                ok: false,
                                error: Some(error),
                                data: Value::Null,
                            },
                        },
                        Err(e) => Response {
                            ok: false,
                            error: Some(format!("bad request: {e}")),
                            data: Value::Null,
                        },
                    },
                    _ => return,
                };
            let mut out = serde_json::to_vec(&response).unwrap_or_default();
            out.push(b'\n');
            let _ = write.write_all(&out).await;
        });
    }
}

// ---- the command-line side -------------------------------------------------------------------

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

fn socket_path() -> anyhow::Result<PathBuf> {
    Ok(punktfunk_net::store::config_dir("punktfunk", "PUNKTFUNK_CONFIG_DIR")?.join(SOCKET))
}

fn call(path: &Path, request: &Request) -> Result<Response, (u8, String)> {
    let not_running = |e: std::io::Error| {
        (
            exit::NOT_RUNNING,
            format!(
                "no punktfunk-host is running for {} ({e}); start one with `punktfunk-host serve`",
                path.display()
            ),
        )
    };
    let mut stream = UnixStream::connect(path).map_err(not_running)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(not_running)?;
    let mut line = serde_json::to_vec(request).expect("requests serialise");
    line.push(b'\n');
    stream.write_all(&line).map_err(not_running)?;
    let mut answer = String::new();
    BufReader::new(stream)
        .read_line(&mut answer)
        .map_err(not_running)?;
    serde_json::from_str(&answer).map_err(|e| {
        (
            exit::REFUSED,
            format!("the host's answer did not parse ({e}): {answer:?}"),
        )
    })
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
    let request = match &args.command {
        CtlCommand::Status => Request::Status,
        CtlCommand::Sessions => Request::Sessions,
        CtlCommand::Displays => Request::Displays,
        CtlCommand::StopSession { id } => Request::StopSession { id: *id },
        CtlCommand::Clients => Request::Clients,
        CtlCommand::Unpair { fingerprint } => Request::Unpair {
            fingerprint: fingerprint.clone(),
        },
        CtlCommand::Pair(PairCommand::Arm { ttl, fingerprint }) => Request::PairArm {
            ttl_s: *ttl,
            fingerprint: fingerprint.clone(),
        },
        CtlCommand::Pair(PairCommand::Status) => Request::PairStatus,
        CtlCommand::Pair(PairCommand::Disarm) => Request::PairDisarm,
    };
    let path = match socket_path() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("punktfunk-host ctl: {e:#}");
            return ExitCode::from(exit::USAGE);
        }
    };
    match call(&path, &request) {
        Err((code, message)) => {
            eprintln!("punktfunk-host ctl: {message}");
            ExitCode::from(code)
        }
        Ok(Response {
            ok: false, error, ..
        }) => {
            if args.json {
                println!("{}", json!({ "ok": false, "error": error }));
            }
            eprintln!("punktfunk-host ctl: refused: {}", error.unwrap_or_default());
            ExitCode::from(exit::REFUSED)
        }
        Ok(Response { data, .. }) => {
            if args.json {
                println!("{data}");
            } else {
                print_human(&args.command, &data);
            }
            ExitCode::from(exit::OK)
        }
    }
}
