//! Copies one frame out of a mapped PipeWire data block, trusting nothing the
//! producer wrote into the chunk without checking it against the mapping.

/// The producer's description of where the frame lies in the data block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkInfo {
    pub offset: u32,
    pub size: u32,
    /// 0 means "tightly packed"; negative (bottom-up) is not supported.
    pub stride: i32,
}

/// Why a buffer was skipped rather than copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Skip {
    /// No payload, e.g. a cursor-only update.
    Empty,
    BadStride(i32),
    TooSmall {
        need: usize,
        have: usize,
    },
}

/// Copies `height` rows of `width * 4` bytes into `out`, packed (stride =
/// `width * 4`), replacing what `out` held.
pub(crate) fn copy_packed(
    mapped: &[u8],
    chunk: ChunkInfo,
    width: u32,
    height: u32,
    out: &mut Vec<u8>,
) -> Result<(), Skip> {
    if chunk.size == 0 || mapped.is_empty() || width == 0 || height == 0 {
        return Err(Skip::Empty);
    }
    let row = width as usize * 4;
    let stride = match chunk.stride {
        0 => row,
        s if s > 0 && s as usize >= row => s as usize,
        s => return Err(Skip::BadStride(s)),
    };
    // SPA: the offset is to be taken modulo the block size.
    let offset = chunk.offset as usize % mapped.len();
    let end = offset.saturating_add(chunk.size as usize).min(mapped.len());
    let region = &mapped[offset..end];
    let need = stride * (height as usize - 1) + row;
    if region.len() < need {
        return Err(Skip::TooSmall {
            need,
            have: region.len(),
        });
    }
    out.clear();
    if stride == row {
        out.extend_from_slice(&region[..row * height as usize]);
    } else {
        out.reserve(row * height as usize);
        for line in region.chunks(stride).take(height as usize) {
            out.extend_from_slice(&line[..row]);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(offset: u32, size: u32, stride: i32) -> ChunkInfo {
        ChunkInfo {
            offset,
            size,
            stride,
        }
    }

    #[test]
    fn packed_block_is_copied_whole() {
        let mapped: Vec<u8> = (0..32).collect();
        let mut out = Vec::new();
        copy_packed(&mapped, chunk(0, 32, 8), 2, 4, &mut out).unwrap();
        assert_eq!(out, mapped);
    }

    #[test]
    fn padding_and_offset_are_dropped() {
        // Two rows of one pixel, stride 8, starting 4 bytes into the block.
        let mut mapped = vec![0xee; 4];
        mapped.extend([1, 2, 3, 4, 0, 0, 0, 0, 5, 6, 7, 8]);
        let mut out = vec![9; 100];
        copy_packed(&mapped, chunk(4, 12, 8), 1, 2, &mut out).unwrap();
        assert_eq!(out, [1, 2, 3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn offset_wraps_at_block_size() {
        let mapped = [1, 2, 3, 4];
        let mut out = Vec::new();
        copy_packed(&mapped, chunk(4, 4, 0), 1, 1, &mut out).unwrap();
        assert_eq!(out, [1, 2, 3, 4]);
    }

    #[test]
    fn bad_chunks_are_skipped() {
        let mapped = [0u8; 64];
        let mut out = Vec::new();
        assert_eq!(
            copy_packed(&mapped, chunk(0, 0, 8), 2, 2, &mut out),
            Err(Skip::Empty)
        );
        assert_eq!(
            copy_packed(&mapped, chunk(0, 64, 4), 2, 2, &mut out),
            Err(Skip::BadStride(4))
        );
        assert_eq!(
            copy_packed(&mapped, chunk(0, 64, -8), 2, 2, &mut out),
            Err(Skip::BadStride(-8))
        );
        // The chunk claims less than a frame.
        assert_eq!(
            copy_packed(&mapped, chunk(0, 12, 8), 2, 2, &mut out),
            Err(Skip::TooSmall { need: 16, have: 12 })
        );
        // The chunk claims more than the mapping holds.
        assert_eq!(
            copy_packed(&mapped, chunk(56, 64, 8), 2, 2, &mut out),
            Err(Skip::TooSmall { need: 16, have: 8 })
        );
        assert!(out.is_empty());
    }
}
