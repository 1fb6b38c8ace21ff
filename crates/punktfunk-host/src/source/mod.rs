//! Where access units come from.
//!
//! - `virtual`: the test picture (moving pattern plus a block code carrying frame number and
//!   capture time) at the client's mode, encoded with the negotiated codec by FFmpeg;
//! - `synthetic`: deterministic bytes standing in for access units, no encoder at all (data-plane
//!   tests and loopback runs).
//!
//! Compositor capture arrives behind the same choice.

pub mod synthetic;

use clap::ValueEnum;

/// The sources `--source` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceKind {
    /// The test picture, encoded with the negotiated codec.
    Virtual,
    /// Synthetic access units (no encoder).
    Synthetic,
}
