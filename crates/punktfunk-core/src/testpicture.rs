//! The virtual source's test picture: a moving pattern, with the frame number and the capture
//! time drawn as a block code that survives lossy video compression. The client reads both back
//! from the decoded picture, so it can tell a clean frame from a corrupt one and measure
//! capture-to-decode latency without any side channel.
//!
//! The code is a grid of square cells in the picture's top-left corner, dark (bit 0) or bright
//! (bit 1): a 4-cell marker, 32 bits of frame number, 40 bits of capture time (µs from the
//! session's clock origin), 8 check bits. Only the luma plane carries it.

/// Cells per row of the code.
const COLUMNS: usize = 24;
const MARKER: [bool; 4] = [true, false, true, false];
const PAYLOAD_BITS: usize = 32 + 40 + 8;
const ROWS: usize = (MARKER.len() + PAYLOAD_BITS).div_ceil(COLUMNS);
const DARK: u8 = 32;
const BRIGHT: u8 = 224;

/// What the picture says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub frame: u32,
    /// Capture time in µs from the session's clock origin (40 bits kept: 12.7 days).
    pub capture_us: u64,
}

/// Side of one cell for a picture of this size: the code takes at most half the width and a
/// quarter of the height. `None` when the picture is too small to carry it.
pub fn cell_size(width: usize, height: usize) -> Option<usize> {
    let cell = (width / 2 / COLUMNS).min(height / 4 / ROWS);
    (cell >= 4).then_some(cell)
}

fn check(stamp: &Stamp) -> u8 {
    let mut c = 0x5Au8;
    for b in stamp
        .frame
        .to_le_bytes()
        .into_iter()
        .chain(stamp.capture_us.to_le_bytes().into_iter().take(5))
    {
        c = c.rotate_left(3) ^ b;
    }
    c
}

fn bits(stamp: &Stamp) -> impl Iterator<Item = bool> {
    let check = check(stamp);
    let frame = stamp.frame;
    let time = stamp.capture_us & ((1 << 40) - 1);
    MARKER
        .into_iter()
        .chain((0..32).map(move |i| frame >> i & 1 == 1))
        .chain((0..40).map(move |i| time >> i & 1 == 1))
        .chain((0..8).map(move |i| check >> i & 1 == 1))
}

/// Draws the whole luma plane: a diagonal gradient that moves with the frame number, a bar that
/// sweeps across, and the code. `luma` has `stride` bytes per row.
pub fn draw(luma: &mut [u8], stride: usize, width: usize, height: usize, stamp: Stamp) {
    let shift = (stamp.frame as usize).wrapping_mul(4);
    let bar = (stamp.frame as usize * 8) % width.max(1);
    for y in 0..height {
        let row = &mut luma[y * stride..y * stride + width];
        for (x, px) in row.iter_mut().enumerate() {
            *px = ((x + y + shift) & 0xFF) as u8;
        }
        let end = (bar + width / 32 + 1).min(width);
        row[bar..end].fill(235);
    }
    let Some(cell) = cell_size(width, height) else {
        return;
    };
    for (i, bit) in bits(&stamp).enumerate() {
        let (cx, cy) = (i % COLUMNS, i / COLUMNS);
        let value = if bit { BRIGHT } else { DARK };
        for y in cy * cell..(cy + 1) * cell {
            luma[y * stride + cx * cell..y * stride + (cx + 1) * cell].fill(value);
        }
    }
}

/// Reads the code back from a (decoded) luma plane; `None` if the marker or the check bits do
/// not match: the picture is not a clean frame of the test source.
pub fn read(luma: &[u8], stride: usize, width: usize, height: usize) -> Option<Stamp> {
    let cell = cell_size(width, height)?;
    let margin = cell / 4;
    let bit_at = |i: usize| -> Option<bool> {
        let (cx, cy) = (i % COLUMNS, i / COLUMNS);
        let (mut sum, mut n) = (0u32, 0u32);
        for y in cy * cell + margin..(cy + 1) * cell - margin {
            let row =
                luma.get(y * stride + cx * cell + margin..y * stride + (cx + 1) * cell - margin)?;
            sum += row.iter().map(|&p| u32::from(p)).sum::<u32>();
            n += row.len() as u32;
        }
        Some(sum / n.max(1) >= 128)
    };
    for (i, want) in MARKER.iter().enumerate() {
        if bit_at(i)? != *want {
            return None;
        }
    }
    let value = |from: usize, count: usize| -> Option<u64> {
        let mut v = 0u64;
        for i in 0..count {
            if bit_at(MARKER.len() + from + i)? {
                v |= 1 << i;
            }
        }
        Some(v)
    };
    let stamp = Stamp {
        frame: value(0, 32)? as u32,
        capture_us: value(32, 40)?,
    };
    (value(72, 8)? as u8 == check(&stamp)).then_some(stamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drawn_stamp_reads_back_even_with_noise() {
        let (w, h) = (1280, 720);
        let mut luma = vec![0u8; w * h];
        let stamp = Stamp {
            frame: 0xDEAD_BEEF,
            capture_us: 0x12_3456_789A,
        };
        draw(&mut luma, w, w, h, stamp);
        assert_eq!(read(&luma, w, w, h), Some(stamp));
        // Compression noise: ±40 on every pixel does not flip a cell.
        for (i, p) in luma.iter_mut().enumerate() {
            *p = p.saturating_add((i % 41) as u8).saturating_sub(20);
        }
        assert_eq!(read(&luma, w, w, h), Some(stamp));
        // A picture without the code is refused.
        let blank = vec![128u8; w * h];
        assert_eq!(read(&blank, w, w, h), None);
    }

    #[test]
    fn tiny_pictures_carry_no_code() {
        assert_eq!(cell_size(100, 100), None);
        assert!(cell_size(320, 240).is_some());
    }
}
