//! Tones in, frequencies out.

use std::f64::consts::TAU;

/// A sine of `freq` Hz at `amplitude`, `frames` long, at `rate`, starting
/// at sample `start` (so consecutive blocks join without a click).
pub fn sine(freq: f64, amplitude: f32, rate: u32, start: u64, frames: usize) -> Vec<f32> {
    (0..frames as u64)
        .map(|i| {
            let t = (start + i) as f64 / f64::from(rate);
            amplitude * (TAU * freq * t).sin() as f32
        })
        .collect()
}

/// The samples of channel `channel` out of interleaved `samples`.
pub fn channel(samples: &[f32], channels: usize, channel: usize) -> Vec<f32> {
    samples
        .chunks_exact(channels)
        .map(|frame| frame[channel])
        .collect()
}

pub fn rms(samples: &[f32]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len() as f64).sqrt()
}

/// Goertzel: the power of `freq` in `samples`.
pub fn power_at(samples: &[f32], rate: u32, freq: f64) -> f64 {
    let coeff = 2.0 * (TAU * freq / f64::from(rate)).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

/// The strongest frequency in `samples` between 50 Hz and 5 kHz, to 5 Hz.
pub fn peak_frequency(samples: &[f32], rate: u32) -> f64 {
    (10..=1000)
        .map(|step| f64::from(step) * 5.0)
        .map(|freq| (freq, power_at(samples, rate, freq)))
        .fold(
            (0.0, f64::MIN),
            |best, cur| if cur.1 > best.1 { cur } else { best },
        )
        .0
}

/// Where a `len`-sample window starts a little after the first loud sample
/// (skipping the start of the sound); `None` if it never gets loud enough
/// or is too short after that.
pub fn loud_start(samples: &[f32], len: usize) -> Option<usize> {
    let first = samples.iter().position(|s| s.abs() > 0.02)?;
    let start = first + len / 4;
    (start + len <= samples.len()).then_some(start)
}

#[test]
fn the_peak_finder_finds_a_known_tone() {
    let tone = sine(1000.0, 0.5, 48_000, 0, 9600);
    assert_eq!(peak_frequency(&tone, 48_000), 1000.0);
    assert!((rms(&tone) - 0.5 / 2f64.sqrt()).abs() < 1e-3);
    let quiet = vec![0.0; 9600];
    assert!(loud_start(&quiet, 100).is_none());
}
