//! Session audio over PipeWire: what apps play, captured for the client,
//! and a virtual microphone the client's voice is played into.
//!
//! One [`AudioServer`] is one connection to the PipeWire daemon, served by
//! its own thread ("pw-audio"). From it:
//!
//! - [`AudioServer::capture_session_sink`] makes a sink "punktfunk", makes
//!   it the default output so apps play into it, and records its monitor as
//!   interleaved `f32` at 48 kHz ([`AudioCapture`]). The old default comes
//!   back when the last capture is dropped.
//! - [`AudioServer::virtual_mic`] makes a source "punktfunk mic" that apps
//!   can record from, playing what the host [`MicSource::push`]es.
//!
//! Channels are in WAVE order (FL FR FC LFE RL RR SL SR), the order Opus's
//! surround layouts expect.

mod capture;
mod command;
mod defaults;
mod engine;
mod format;
mod layout;
mod link;
mod metadata;
mod mic;
mod queue;
mod server;
mod sink;
mod streams;

use std::os::fd::OwnedFd;
use std::time::Instant;

pub use capture::AudioCapture;
pub use mic::MicSource;
pub use server::AudioServer;

/// The sample rate of everything here.
pub const SAMPLE_RATE: u32 = layout::RATE;

/// The `node.name` of our sink (its description is the same).
pub const SINK_NODE_NAME: &str = sink::SINK_NAME;

/// The `node.name` of the first virtual microphone (`node.description` is
/// "punktfunk mic"); later ones at the same time get `_2`, `_3`, ….
pub const MIC_NODE_NAME: &str = "punktfunk_mic";

/// Where to find the PipeWire daemon.
#[derive(Debug)]
pub enum Remote {
    /// The environment's default: `$PIPEWIRE_REMOTE` (default `pipewire-0`)
    /// in `$PIPEWIRE_RUNTIME_DIR`, else `$XDG_RUNTIME_DIR`.
    Default,
    /// An already connected socket, e.g. from a portal or, in tests,
    /// `Desktop::connect_pipewire()`.
    Fd(OwnedFd),
}

/// Which sink an [`AudioCapture`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureOrigin {
    /// Our own sink "punktfunk", made the default output.
    SessionSink,
    /// Making our sink failed (the reason was logged): the monitor of
    /// whatever sink is the default, following it when it changes.
    DefaultSinkMonitor,
}

/// One period of captured audio.
#[derive(Debug, Clone)]
pub struct AudioChunk {
    /// Interleaved samples, `channels` per frame, whole frames only.
    pub samples: Vec<f32>,
    /// Channels per frame.
    pub channels: u8,
    /// When PipeWire handed the period to us (roughly when its last sample
    /// left the sink).
    pub captured_at: Instant,
}

impl AudioChunk {
    /// Frames (samples per channel) in this chunk.
    pub fn frames(&self) -> usize {
        self.samples.len() / usize::from(self.channels.max(1))
    }
}
