//! Network bytes into the media receivers (video, desktop audio, microphone): the clear-prefix and
//! sealed-header parsers, the replay window and the AEAD. Input: datagrams, each prefixed by a
//! u16 LE length.
#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use punktfunk_core::header::{parse_clear_prefix, parse_shard_header};
use punktfunk_core::wire::media::stream;
use punktfunk_core::{MediaReceiver, MediaSecret, ReassemblyLimits};

fuzz_target!(|data: &[u8]| {
    // The parsers on the raw bytes, as if already opened.
    let _ = parse_clear_prefix(data);
    let _ = parse_shard_header(data);

    let secret = MediaSecret::new([1; 32]);
    let mut receivers: Vec<MediaReceiver> = stream::KNOWN
        .iter()
        .map(|s| MediaReceiver::for_stream(&secret, *s, ReassemblyLimits::default()))
        .collect();
    let now = Instant::now();
    let mut rest = data;
    while rest.len() >= 2 {
        let len = usize::from(u16::from_le_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        for rx in &mut receivers {
            let mut datagram = rest[2..2 + len].to_vec();
            rx.handle_datagram(&mut datagram, now);
        }
        rest = &rest[2 + len..];
    }
    for rx in &receivers {
        assert!(rx.in_flight_bytes() <= rx.limits().max_in_flight_bytes);
    }
});
