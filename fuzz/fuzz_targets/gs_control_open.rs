//! GameStream control stream: `ControlCipher::open` on raw bytes, and on envelopes sealed with the
//! right key (so the fuzzer also reaches the plaintext parser and the input decoder).
//! The first byte picks the mode; in sealed mode the next two bytes are the inner message type.
#![no_main]

use libfuzzer_sys::fuzz_target;
use punktfunk_gamestream::control::{parse_client_message, ClientMessage, ControlCipher};
use punktfunk_gamestream::input::decode_input;

const KEY: [u8; 16] = *b"punktfunk-fuzzer";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut host = ControlCipher::new(KEY);
    let opened = if mode & 1 == 0 {
        host.open(rest)
    } else {
        let Some((ty, payload)) = rest.split_first_chunk::<2>() else {
            return;
        };
        let message_type = u16::from_le_bytes(*ty);
        let mut client = ControlCipher::new_client(KEY);
        let sealed = client.seal(message_type, payload);
        let opened = host.open(&sealed);
        if message_type != 0x0001 {
            // What the client seals, the host opens unchanged.
            let msg = opened.clone().expect("a sealed message opens");
            assert_eq!(msg.message_type, message_type);
            assert_eq!(msg.payload, payload);
        }
        opened
    };
    if let Ok(msg) = opened {
        if let Ok(ClientMessage::Input(input)) = parse_client_message(&msg) {
            let _ = decode_input(&input);
        }
    }
});
