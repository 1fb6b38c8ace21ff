//! Control-stream bytes: the frame reader (bounded before buffering) and every message decoder.
//! The first byte says how to chunk the stream, to exercise frames split across reads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use punktfunk_core::control::{FrameReader, Message};
use punktfunk_core::wire::control::body_bound;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, stream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let mut reader = FrameReader::new();
    for piece in stream.chunks(chunk) {
        reader.push(piece);
        loop {
            match reader.next_frame() {
                Ok(Some((kind, body))) => {
                    assert!(body.len() <= body_bound(kind));
                    if let Ok(m) = Message::decode(kind, &body) {
                        // What decodes re-encodes to something that decodes the same.
                        let again = m.encode();
                        let mut r = FrameReader::new();
                        r.push(&again);
                        let (k, b) = r.next_frame().unwrap().unwrap();
                        assert_eq!(Message::decode(k, &b).unwrap(), m);
                    }
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
