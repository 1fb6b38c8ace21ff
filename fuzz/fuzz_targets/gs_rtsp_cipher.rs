//! Encrypted GameStream RTSP records (`rtspenc://`): opening arbitrary bytes never panics,
//! respects the record bound, and what opens under a fixed key re-seals to a record of the
//! same size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use punktfunk_gamestream::rtsp::{is_encrypted, parse_sealed_request, RtspCipher};
use punktfunk_gamestream::wire::rtsp::{ENC_HEADER_LEN, MAX_MESSAGE};

fuzz_target!(|data: &[u8]| {
    let mut cipher = RtspCipher::new(*b"fuzzing rtsp key");
    let mut rest = data;
    while !rest.is_empty() {
        match cipher.open(rest) {
            Ok(Some((plaintext, used))) => {
                assert!(is_encrypted(rest));
                assert_eq!(used, ENC_HEADER_LEN + plaintext.len());
                assert!(plaintext.len() <= MAX_MESSAGE && used <= rest.len());
                let _ = parse_sealed_request(&plaintext);
                assert_eq!(cipher.seal(&plaintext).len(), used);
                rest = &rest[used..];
            }
            Ok(None) | Err(_) => break,
        }
    }
});
