//! Synthetic access units: deterministic bytes that stand in for encoded video where no encoder
//! runs (the virtual source, loopback runs, benchmarks). Each frame's bytes follow from its index
//! alone, so a receiver can check every byte without being told what was sent.

/// Bytes of frame `index`, `len` long.
pub fn frame(index: u32, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    fill(index, &mut out);
    out
}

/// Whether `data` is exactly what [`frame`] makes for `index`.
pub fn verify(index: u32, data: &[u8]) -> bool {
    let mut x = seed(index);
    data.chunks(8).all(|chunk| {
        let word = next(&mut x).to_le_bytes();
        chunk == &word[..chunk.len()]
    })
}

fn fill(index: u32, out: &mut [u8]) {
    let mut x = seed(index);
    for chunk in out.chunks_mut(8) {
        let word = next(&mut x).to_le_bytes();
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
}

fn seed(index: u32) -> u64 {
    (u64::from(index) ^ 0x5EED_F00D_CAFE_BABE).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1
}

/// xorshift64: fast, deterministic, good enough to make every frame's bytes distinct.
fn next(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_verify_and_differ() {
        let a = frame(7, 1001);
        assert!(verify(7, &a));
        assert!(!verify(8, &a));
        let mut b = a.clone();
        b[1000] ^= 1;
        assert!(!verify(7, &b));
        assert_ne!(frame(1, 64), frame(2, 64));
    }
}
