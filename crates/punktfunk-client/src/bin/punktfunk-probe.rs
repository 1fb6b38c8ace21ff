//! `punktfunk-probe`: the command-line client used by tests and operators.

use std::net::UdpSocket;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand};
use punktfunk_client::media::MediaPump;
use punktfunk_client::report::receive_synthetic;
use punktfunk_core::{MediaSecret, ReassemblyLimits};

#[derive(Parser)]
#[command(
    name = "punktfunk-probe",
    version,
    about = "punktfunk command-line client"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Receive a media stream on a UDP port and check every frame of a synthetic source
    /// (`punktfunk-host serve --source virtual --send-to ADDR --secret HEX`).
    Listen {
        /// Address to receive on.
        #[arg(long, default_value = "127.0.0.1:0")]
        bind: String,
        /// The 32-byte media secret as 64 hex digits (until the control plane derives it).
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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("punktfunk-probe: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Listen {
            bind,
            secret,
            seconds,
            idle_ms,
        } => {
            let secret = MediaSecret::from_hex(&secret)
                .context("--secret: use the value `punktfunk-host serve` printed")?;
            let socket =
                UdpSocket::bind(&bind).with_context(|| format!("cannot bind UDP {bind}"))?;
            let mut pump = MediaPump::new(socket, &secret, ReassemblyLimits::default());
            // Scripts read the port from this line.
            println!("listening {}", pump.local_addr()?);
            let deadline = Instant::now() + Duration::from_secs_f64(seconds);
            let report = receive_synthetic(&mut pump, deadline, Duration::from_millis(idle_ms))?;
            println!("received {report}");
            Ok(if report.corrupt > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}
