//! `punktfunk-host`: the streaming host.

mod bench;
mod loopback;
mod native;
mod source;
mod stream;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "punktfunk-host", version, about = "punktfunk streaming host")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve clients: the native (punktfunk/1) plane on UDP 9777.
    Serve(native::NativeArgs),
    /// Standalone native (punktfunk/1) listener, for testing and measurement.
    #[command(name = "punktfunk1-host")]
    Punktfunk1Host(native::NativeArgs),
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
        Command::Serve(args) | Command::Punktfunk1Host(args) => native::run(args).map(|()| true),
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
