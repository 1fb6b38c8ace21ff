//! The control plane's messages, sans-IO: varints, framing, the message set, and the media
//! secrets both ends derive from the TLS exporter.

pub mod codec;
pub mod keys;
pub mod messages;
pub mod varint;

pub use codec::{ControlError, FrameReader};
pub use messages::{
    text_messages, Codec, Feedback, Hello, InputEvent, Message, Mode, PadMotion, PadReport,
    PadTouch, Welcome,
};
