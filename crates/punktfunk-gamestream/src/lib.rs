//! # punktfunk-gamestream
//!
//! The GameStream protocol that stock Moonlight clients speak, as plain functions and state
//! machines: no sockets, no threads, no clocks of its own. The host's `gamestream` module puts
//! these on the network.
//!
//! - [`wire`]: every GameStream wire number (ports, message types, flags, magics).
//! - [`pairing`]: the five-stage PIN pairing (salted PIN key, AES challenges, RSA signatures).
//! - [`nvhttp`]: the XML replies and query parsing of the HTTP(S) plane.
//! - [`rtsp`]: RTSP messages (plain and encrypted), the DESCRIBE answer, ANNOUNCE parameters.
//! - [`control`]: control-stream messages and their AES-GCM framing.
//! - [`input`]: Moonlight input packets decoded into input events.
//! - [`fec`]: Reed–Solomon over GF(2^8), byte-compatible with moonlight-common-c (nanors).
//! - [`video`]: frames cut into RTP video shards with FEC and optional encryption.
//! - [`audio`]: Opus packets in RTP with the 4+2 audio FEC and AES-CBC.

pub mod audio;
pub mod control;
pub mod fec;
pub mod input;
pub mod nvhttp;
pub mod pairing;
pub mod rtsp;
pub mod video;
pub mod wire;
