//! Authenticated-looking shards into the reassembler (what a peer holding the key could send).
//! Input: records of a 29-byte sealed header, a u16 LE payload length and a 1-byte clock step.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use punktfunk_core::header::parse_shard_header;
use punktfunk_core::reassembly::{Event, Reassembler};
use punktfunk_core::wire::media::{CLEAR_PREFIX_LEN, HEADER_LEN};
use punktfunk_core::ReassemblyLimits;

const SEALED: usize = HEADER_LEN - CLEAR_PREFIX_LEN;
const RECORD: usize = SEALED + 3;

fuzz_target!(|data: &[u8]| {
    let limits = ReassemblyLimits {
        min_shard_bytes: 2,
        max_in_flight_bytes: 4 << 20,
        max_frame_bytes: 2 << 20,
        max_block_bytes: 1 << 20,
        ..ReassemblyLimits::default()
    };
    let mut r = Reassembler::new(limits);
    let mut now = Instant::now();
    let mut packet = vec![0u8; HEADER_LEN + 4096];
    for record in data.chunks_exact(RECORD) {
        packet[CLEAR_PREFIX_LEN..HEADER_LEN].copy_from_slice(&record[..SEALED]);
        let len = usize::from(u16::from_le_bytes([record[SEALED], record[SEALED + 1]])) % 4096;
        now += Duration::from_millis(u64::from(record[SEALED + 2]));
        packet[HEADER_LEN..HEADER_LEN + len].fill(record[0]);
        if let Ok(h) = parse_shard_header(&packet[..HEADER_LEN + len]) {
            let _ = r.push(&h, &packet[HEADER_LEN..HEADER_LEN + len], now);
        }
        assert!(r.in_flight_bytes() <= limits.max_in_flight_bytes);
        r.handle_timeout(now);
        while let Some(e) = r.poll_event() {
            if let Event::Frame(f) = e {
                assert!(f.data.len() <= limits.max_frame_bytes);
            }
        }
    }
});
