//! GameStream UDP pings (video and audio ports): any datagram parses or is refused, never panics,
//! and what parses has the shape of one of the two ping forms.
#![no_main]

use libfuzzer_sys::fuzz_target;
use punktfunk_gamestream::video::parse_ping;

fuzz_target!(|data: &[u8]| {
    if let Some(ping) = parse_ping(data) {
        match (ping.payload, ping.sequence) {
            (Some(payload), Some(sequence)) => {
                assert!(data.len() >= 20);
                assert_eq!(&data[..16], &payload);
                assert_eq!(data[16..20], sequence.to_be_bytes());
            }
            (None, None) => assert_eq!(data, b"PING"),
            _ => panic!("half a ping"),
        }
    }
});
