//! `punktfunk-host`: the streaming host.

mod audio;
mod bench;
mod ctl;
mod discovery;
mod display;
mod gamestream;
mod input;
mod lifecycle;
mod loopback;
mod mgmt;
mod native;
mod serve;
mod source;
mod stream;
mod trust;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "punktfunk-host", version, about = "punktfunk streaming host")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum WebCommand {
    /// Make a new random console password, store its hash and print it (signed-in consoles
    /// stay signed in).
    Password,
}

#[derive(Subcommand)]
enum Command {
    /// Serve clients: the native (punktfunk/1) plane on UDP 9777, PIN pairing, mDNS.
    Serve(serve::ServeArgs),
    /// The same host under the name of its protocol (kept for scripts).
    #[command(name = "punktfunk1-host")]
    Punktfunk1Host(serve::ServeArgs),
    /// Check that a virtual output can be made on the running compositor: makes one at
    /// 1280x720@60, reports what it found, releases it. Exit 0 when it worked.
    ProbeCompositor {
        #[arg(long, value_enum, env = "PUNKTFUNK_COMPOSITOR")]
        compositor: Option<display::Compositor>,
    },
    /// Print the management API's OpenAPI document (as checked in at api/openapi.json).
    Openapi,
    /// The web console.
    #[command(subcommand)]
    Web(WebCommand),
    /// Operate the running host: status, sessions, paired devices, the pairing window.
    Ctl(ctl::CtlArgs),
    /// Stream synthetic frames through the data plane to an in-process receiver over loopback
    /// UDP (or to `punktfunk-probe listen`) and report what arrived.
    Loopback(loopback::LoopbackArgs),
    /// Measure per-frame host latency: frame ready → last packet sent, next to encode alone.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    punktfunk_net::init_logging();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) | Command::Punktfunk1Host(args) => serve::run(args).map(|()| true),
        Command::Ctl(args) => return ctl::run(args),
        Command::Openapi => {
            print!("{}", mgmt::api::openapi_json());
            Ok(true)
        }
        Command::Web(WebCommand::Password) => web_password().map(|()| true),
        Command::ProbeCompositor { compositor } => probe_compositor(compositor).map(|()| true),
        Command::Loopback(args) => loopback::run(args),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("punktfunk-host: the stream did not arrive intact (see the lines above)");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("punktfunk-host: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn probe_compositor(compositor: Option<display::Compositor>) -> anyhow::Result<()> {
    let backend = display::backend(compositor)?;
    println!("{}: {}", backend.compositor(), backend.describe());
    let mode = punktfunk_core::control::Mode::new(1280, 720, 60);
    let output = backend.create(mode)?;
    println!("made {} at {}", output.name(), output.mode());
    drop(output);
    println!("released it");
    Ok(())
}

fn web_password() -> anyhow::Result<()> {
    let dir = punktfunk_net::store::config_dir("punktfunk", "PUNKTFUNK_CONFIG_DIR")?;
    let password = mgmt::auth::reset_password(&dir)?;
    println!("{password}");
    eprintln!(
        "new web console password stored in {}",
        dir.join(mgmt::auth::PASSWORD_FILE).display()
    );
    Ok(())
}
