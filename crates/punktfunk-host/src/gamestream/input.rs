//! Where Moonlight's input goes: every decoded event is logged (target `punktfunk::input`,
//! which the tests read back); controllers go to the stream's virtual pads; pointer and keys,
//! when the stream has its own output on a compositor that allows it, are injected there.

use punktfunk_gamestream::input::decode_input;

use super::session::{lock, Live};

pub fn deliver(live: &Live, payload: &[u8]) {
    match decode_input(payload) {
        Ok(event) => {
            tracing::info!(target: "punktfunk::input", "input {event:?}");
            lock(&live.pads).input(&event);
            if let Some(injector) = lock(&live.injector).as_ref() {
                if let Some(event) = crate::input::from_gamestream(&event) {
                    injector.send(event);
                }
            }
        }
        Err(e) => tracing::debug!(target: "punktfunk::input", "undecodable input packet: {e}"),
    }
}
