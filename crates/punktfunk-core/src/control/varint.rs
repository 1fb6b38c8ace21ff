//! QUIC variable-length integers (RFC 9000 §16): 1, 2, 4 or 8 bytes, the top two bits of the
//! first byte giving the length. Values up to 2^62 − 1.

/// Largest encodable value.
pub const MAX: u64 = (1 << 62) - 1;

/// Appends `v` (which must be at most [`MAX`]) in its shortest form.
pub fn put(out: &mut Vec<u8>, v: u64) {
    debug_assert!(v <= MAX, "varint out of range");
    if v < 1 << 6 {
        out.push(v as u8);
    } else if v < 1 << 14 {
        out.extend_from_slice(&(v as u16 | 0x4000).to_be_bytes());
    } else if v < 1 << 30 {
        out.extend_from_slice(&(v as u32 | 0x8000_0000).to_be_bytes());
    } else {
        out.extend_from_slice(&(v.min(MAX) | 0xC000_0000_0000_0000).to_be_bytes());
    }
}

/// Reads one varint from the front of `buf`: the value and the bytes it took, or `None` when
/// `buf` ends first.
pub fn get(buf: &[u8]) -> Option<(u64, usize)> {
    let first = *buf.first()?;
    let len = 1usize << (first >> 6);
    let bytes = buf.get(..len)?;
    let mut v = u64::from(first & 0x3F);
    for b in &bytes[1..] {
        v = (v << 8) | u64::from(*b);
    }
    Some((v, len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc_examples() {
        // RFC 9000 appendix A.1.
        assert_eq!(
            get(&[0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c]),
            Some((151_288_809_941_952_652, 8))
        );
        assert_eq!(get(&[0x9d, 0x7f, 0x3e, 0x7d]), Some((494_878_333, 4)));
        assert_eq!(get(&[0x7b, 0xbd]), Some((15_293, 2)));
        assert_eq!(get(&[0x25]), Some((37, 1)));
        assert_eq!(get(&[0x40, 0x25]), Some((37, 2)));
        assert_eq!(get(&[0x80, 0x01]), None);
        assert_eq!(get(&[]), None);
    }

    proptest! {
        #[test]
        fn round_trip_in_shortest_form(v in 0..=MAX) {
            let mut out = Vec::new();
            put(&mut out, v);
            let expect = match v { 0..=63 => 1, 64..=16383 => 2, 16384..=1_073_741_823 => 4, _ => 8 };
            prop_assert_eq!(out.len(), expect);
            prop_assert_eq!(get(&out), Some((v, expect)));
        }
    }
}
