//! `punktfunk-host`: the streaming host.

mod native;
mod serve;
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
    /// Stream a source over the punktfunk/1 data plane and report what arrived.
    Serve(serve::ServeArgs),
    /// Standalone native (punktfunk/1) listener, for testing and measurement.
    #[command(name = "punktfunk1-host")]
    Punktfunk1Host(native::NativeArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Punktfunk1Host(args) => native::run(args).map(|()| true),
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
