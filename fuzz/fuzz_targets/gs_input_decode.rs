//! GameStream input packets: `decode_input` on arbitrary bytes; whatever decodes re-encodes to a
//! packet that decodes to the same event.
#![no_main]

use libfuzzer_sys::fuzz_target;
use punktfunk_gamestream::input::{decode_input, encode_input};

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = decode_input(data) {
        let again = encode_input(&event);
        assert_eq!(decode_input(&again), Ok(event));
    }
});
