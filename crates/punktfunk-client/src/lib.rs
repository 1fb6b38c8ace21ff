//! # punktfunk-client
//!
//! The client side of punktfunk: [`native::NativeClient`] (a punktfunk/1 session over QUIC, media
//! on the same socket) and [`media::MediaPump`] (a bare media receive loop on a UDP socket). The `punktfunk-probe` binary is the command-line client used by tests and operators.

pub mod audio;
pub mod decode;
pub mod known_hosts;
pub mod media;
pub mod native;
pub mod report;
