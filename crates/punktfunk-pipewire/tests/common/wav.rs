//! Just enough WAV: writing 16-bit PCM (with the channel mask, so players
//! know a 5.1 file's layout) and reading back 16-bit or float data.

use std::path::Path;

/// WAVE_FORMAT_EXTENSIBLE channel masks, in WAVE channel order.
fn channel_mask(channels: u16) -> u32 {
    match channels {
        1 => 0x4,   // FC
        2 => 0x3,   // FL FR
        6 => 0x3f,  // FL FR FC LFE BL BR
        8 => 0x63f, // + SL SR
        _ => 0,
    }
}

/// Writes interleaved `samples` (-1..1) as 16-bit PCM at `rate`.
pub fn write_s16(path: &Path, rate: u32, channels: u16, samples: &[f32]) -> std::io::Result<()> {
    let data: Vec<u8> = samples
        .iter()
        .flat_map(|&s| ((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes())
        .collect();
    let block_align = channels * 2;
    let mut out = Vec::with_capacity(data.len() + 80);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(4 + 8 + 40 + 8 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&40u32.to_le_bytes());
    out.extend_from_slice(&0xfffeu16.to_le_bytes()); // WAVE_FORMAT_EXTENSIBLE
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
    out.extend_from_slice(&block_align.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(&22u16.to_le_bytes()); // extension size
    out.extend_from_slice(&16u16.to_le_bytes()); // valid bits
    out.extend_from_slice(&channel_mask(channels).to_le_bytes());
    // KSDATAFORMAT_SUBTYPE_PCM
    out.extend_from_slice(&[
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b,
        0x71,
    ]);
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    std::fs::write(path, out)
}

/// A WAV file's `(channels, interleaved samples)`, 16-bit or 32-bit float.
/// A data size left unset by a killed recorder reads to the end.
pub fn read(path: &Path) -> Result<(u16, Vec<f32>), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(format!("{} is not a WAV file", path.display()));
    }
    let mut pos = 12;
    let mut format = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().unwrap()) as usize;
        let body = pos + 8;
        if id == b"fmt " && body + 16 <= bytes.len() {
            let channels = u16::from_le_bytes([bytes[body + 2], bytes[body + 3]]);
            let bits = u16::from_le_bytes([bytes[body + 14], bytes[body + 15]]);
            format = Some((channels, bits));
        }
        if id == b"data" {
            let (channels, bits) = format.ok_or("data before fmt")?;
            let end = match body.checked_add(size) {
                Some(end) if size > 0 && end <= bytes.len() => end,
                _ => bytes.len(),
            };
            let data = &bytes[body..end];
            let samples = match bits {
                16 => data
                    .chunks_exact(2)
                    .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
                    .collect(),
                32 => data
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
                other => return Err(format!("{other}-bit samples")),
            };
            return Ok((channels, samples));
        }
        pos = body + size + (size & 1);
    }
    Err(format!("{} has no data chunk", path.display()))
}

/// Raw F32LE samples.
pub fn read_raw_f32(path: &Path) -> std::io::Result<Vec<f32>> {
    Ok(std::fs::read(path)?
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

#[test]
fn a_written_file_reads_back() {
    let path = std::env::temp_dir().join(format!("punktfunk-wav-{}.wav", std::process::id()));
    let samples = [0.0, 0.5, -0.5, 0.25, 1.0, -1.0];
    write_s16(&path, 48_000, 2, &samples).unwrap();
    let (channels, back) = read(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(channels, 2);
    for (a, b) in samples.iter().zip(&back) {
        assert!((a - b).abs() < 1e-3, "{a} vs {b}");
    }
}
