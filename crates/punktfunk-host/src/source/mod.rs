//! Where access units come from.
//!
//! - `virtual`: the test picture (moving pattern plus a block code carrying frame number and
//!   capture time) at the client's mode, encoded with the negotiated codec by FFmpeg;
//! - `synthetic`: deterministic bytes standing in for access units, no encoder at all (data-plane
//!   tests and loopback runs).
//!
//! - `compositor`: a virtual display on the running compositor at the client's mode, captured and
//!   encoded;
//! - `auto`: the compositor when one is found, else the test picture (with a warning).

pub mod synthetic;

use clap::ValueEnum;

/// The sources `--source` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceKind {
    /// The compositor if one is found, else the test picture.
    Auto,
    /// A virtual display per client on the running compositor (an error when none is found).
    Compositor,
    /// The test picture, encoded with the negotiated codec.
    Virtual,
    /// Synthetic access units (no encoder).
    Synthetic,
}
