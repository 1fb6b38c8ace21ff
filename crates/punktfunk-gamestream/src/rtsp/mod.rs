//! The RTSP handshake (TCP, base port + 21), sans-IO.
//!
//! The client opens one TCP connection per request, sends one request and reads the reply until
//! the host closes. The host's server therefore:
//!
//! 1. reads bytes into a buffer and calls [`parse_request`] (plain) or [`RtspCipher::open`] then
//!    [`parse_sealed_request`] (when `/launch` answered `rtspenc://`) until a request comes out;
//! 2. hands it to the launch's [`Handshake`], which answers and reports [`HandshakeEvent`]s;
//! 3. writes [`Response::encode`] (sealed with [`RtspCipher::seal`] when encrypted) and closes
//!    the connection — the client only parses the reply at EOF.
//!
//! Keep one [`Handshake`] and one [`RtspCipher`] per pending launch, not per connection.

mod cipher;
mod handshake;
mod message;
mod sdp;

pub use cipher::{is_encrypted, RtspCipher};
pub use handshake::{ping_payload_from_random, Handshake, HandshakeConfig, HandshakeEvent};
pub use message::{parse_request, parse_sealed_request, Request, Response};
pub use sdp::{describe_sdp, parse_announce, DescribeOffer, StreamParams, VideoCodec};

/// Why bytes from the client were refused. Every variant means "answer 400 (if possible) and
/// close the connection".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtspError {
    #[error("RTSP header block exceeds {limit} bytes")]
    HeaderTooLarge { limit: usize },
    #[error("RTSP request has more than {limit} headers")]
    TooManyHeaders { limit: usize },
    #[error("RTSP body of {length} bytes exceeds {limit}")]
    BodyTooLarge { length: u64, limit: usize },
    #[error("malformed RTSP request: {0}")]
    Malformed(&'static str),
    #[error("RTSP request without a valid CSeq")]
    InvalidCSeq,
    #[error("RTSP request without a valid Content-Length")]
    InvalidContentLength,
    #[error("RTSP message is incomplete")]
    Truncated,
    #[error("plain RTSP on an encrypted session")]
    NotEncrypted,
    #[error("encrypted RTSP record of {length} bytes exceeds {limit}")]
    RecordTooLarge { length: u32, limit: usize },
    #[error("encrypted RTSP record is empty")]
    EmptyRecord,
    #[error("encrypted RTSP record failed authentication")]
    BadTag,
    #[error("encrypted RTSP sequence {seq} not above the last accepted {last}")]
    Replayed { seq: u32, last: u32 },
    #[error("SDP body exceeds {limit} bytes")]
    SdpTooLarge { limit: usize },
    #[error("ANNOUNCE lacks the required attribute {0}")]
    MissingAttribute(&'static str),
    #[error("ANNOUNCE attribute {0} is not a decimal integer")]
    InvalidAttribute(&'static str),
    #[error("ANNOUNCE attribute {name} = {value} is out of range")]
    AttributeOutOfRange { name: &'static str, value: u64 },
}
