//! Where access units come from. Today: the virtual source. Compositor capture plus a real
//! encoder arrive behind the same shape.

pub mod virtual_source;

use clap::ValueEnum;

/// The sources `serve --source` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SourceKind {
    /// Synthetic access units at the configured bitrate and frame rate (no compositor needed).
    Virtual,
}
