//! Where Moonlight's input goes. Until input injection lands, every decoded event is logged
//! (target `punktfunk::input`), which is also what the tests read back.

use punktfunk_gamestream::input::decode_input;

pub fn deliver(payload: &[u8]) {
    match decode_input(payload) {
        Ok(event) => tracing::info!(target: "punktfunk::input", "input {event:?}"),
        Err(e) => tracing::debug!(target: "punktfunk::input", "undecodable input packet: {e}"),
    }
}
