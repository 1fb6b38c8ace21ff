//! # punktfunk-net
//!
//! The network edge host and client share, around the sans-IO core:
//! - [`demux`]: one UDP socket for QUIC and media packets, told apart by the first byte;
//! - [`identity`]: self-signed TLS identities and their fingerprints, kept in a config dir;
//! - [`store`]: config directories and atomic, owner-only state files;
//! - [`tls`]: rustls/quinn configuration (ALPN, client certificates, transport timers);
//! - [`endpoint`]: a quinn endpoint on the shared socket, plus the media send/receive handles;
//! - [`control_io`]: control messages over a QUIC stream, and the exporter-derived media keys.

pub mod control_io;
pub mod demux;
pub mod endpoint;
pub mod identity;
pub mod store;
pub mod tls;

/// Logging for the binaries: to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
}
