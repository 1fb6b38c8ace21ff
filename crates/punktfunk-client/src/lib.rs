//! # punktfunk-client
//!
//! The client side of punktfunk: today the media receive loop ([`media::MediaPump`]) around the
//! sans-IO receiver of `punktfunk-core`; the `NativeClient` (QUIC control plane, pairing) builds
//! on it. The `punktfunk-probe` binary is the command-line client used by tests and operators.

pub mod media;
pub mod report;
