//! Helpers for the audio tests: test tones, WAV files, and finding a tone's
//! frequency in recorded samples.

pub mod signal;
pub mod wav;
