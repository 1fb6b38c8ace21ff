//! # punktfunk-core
//!
//! The sans-IO heart of punktfunk: no sockets, no threads, no async, no platform calls. Time comes
//! in as an argument; bytes come in and go out as buffers.
//!
//! - [`wire`]: the one registry of wire numbers.
//! - [`control`]: control-plane messages (TLV over QUIC varints) and media key derivation.
//! - [`header`]: the media packet header.
//! - [`fec`]: block geometry for GF(2^16) Reed–Solomon.
//! - [`crypto`]: AES-128-GCM with a rotating key schedule.
//! - [`replay`]: packet-number recovery and the anti-replay window.
//! - [`pairing`]: the SPAKE2 PIN ceremony and the host's pairing window.
//! - [`packetize`]: the send path (frame → sealed packets).
//! - [`reassembly`] and [`receiver`]: the receive path (packets → frames or losses).
//! - [`jitter`]: the adaptive playout buffer for the client's microphone packets.
//! - [`synthetic`]: deterministic stand-in access units for tests and loopback runs.
//! - [`testpicture`]: the virtual source's picture, carrying frame number and capture time.

pub mod control;
pub mod crypto;
pub mod fec;
pub mod header;
pub mod jitter;
pub mod packetize;
pub mod pairing;
pub mod reassembly;
pub mod receiver;
pub mod replay;
pub mod stats;
pub mod synthetic;
pub mod testpicture;
pub mod wire;

pub use crypto::MediaSecret;
pub use fec::FecParams;
pub use jitter::{JitterBuffer, JitterConfig, JitterStats, Playout, Push};
pub use packetize::{single_packet_params, FrameInfo, MediaSender, PacketBatch};
pub use reassembly::{Event, Frame, ReassemblyLimits};
pub use receiver::{MediaReceiver, Outcome};
pub use stats::MediaCounters;
