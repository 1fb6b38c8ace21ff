//! The client's audio: collect the host's desktop audio packets, decode them in sequence order
//! (concealing gaps) and summarise what was heard; send a tone as the microphone.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use punktfunk_core::wire::audio::{self, FRAME_MS, MIC_FRAME_MS, SAMPLE_RATE};
use punktfunk_video::audio::{peak_frequency, OpusDecoder, OpusEncoder, Tone};

use crate::native::{AudioPacket, MicSender, NativeClient};

/// Desktop audio received during a session.
#[derive(Default)]
pub struct AudioTally {
    /// (sequence, Opus packet), in arrival order.
    packets: Vec<(u32, Vec<u8>)>,
    latencies_us: Vec<u64>,
}

/// What was heard.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AudioSummary {
    pub channels: u8,
    pub packets: usize,
    /// Sequence numbers never received (concealed by the decoder).
    pub lost: u64,
    /// Dominant frequency of the channel mix, Hz, and its RMS level.
    pub peak_hz: Option<f32>,
    pub rms: Option<f32>,
    /// Capture on the host to arrival here.
    pub latency_ms_p50: Option<f64>,
    pub latency_ms_p95: Option<f64>,
}

impl AudioTally {
    /// Takes every packet the client has waiting.
    pub fn collect(&mut self, client: &NativeClient) {
        while let Some(AudioPacket {
            sequence,
            opus,
            latency,
            ..
        }) = client.next_audio()
        {
            if let Some(l) = latency {
                self.latencies_us.push(l.as_micros() as u64);
            }
            self.packets.push((sequence, opus));
        }
    }

    fn percentile_ms(&self, p: f64) -> Option<f64> {
        let mut v = self.latencies_us.clone();
        v.sort_unstable();
        let i = ((v.len().checked_sub(1)?) as f64 * p).round() as usize;
        Some(v[i] as f64 / 1000.0)
    }

    /// Decodes everything in sequence order and reports what it sounds like.
    pub fn summarize(&self, channels: u8) -> anyhow::Result<AudioSummary> {
        let mut decoder = OpusDecoder::native(channels)?;
        let frame = SAMPLE_RATE as usize * usize::from(FRAME_MS) / 1000;
        let mut packets: Vec<&(u32, Vec<u8>)> = self.packets.iter().collect();
        // Sequence numbers of one session stay far from wrapping.
        packets.sort_by_key(|(seq, _)| *seq);
        packets.dedup_by_key(|(seq, _)| *seq);
        let mut pcm = Vec::new();
        let mut lost = 0u64;
        let mut expected = packets.first().map(|(seq, _)| *seq);
        for (seq, opus) in packets {
            while let Some(e) = expected.filter(|e| e < seq) {
                pcm.extend(decoder.decode(None, frame)?);
                lost += 1;
                expected = Some(e + 1);
            }
            pcm.extend(decoder.decode(Some(opus), frame)?);
            expected = Some(seq + 1);
        }
        let peak = peak_frequency(&pcm, channels, None, SAMPLE_RATE);
        Ok(AudioSummary {
            channels,
            packets: self.packets.len(),
            lost,
            peak_hz: peak.map(|(hz, _)| hz),
            rms: peak.map(|(_, rms)| rms),
            latency_ms_p50: self.percentile_ms(0.50),
            latency_ms_p95: self.percentile_ms(0.95),
        })
    }
}

/// Sends a sine tone as the microphone, one Opus frame per [`MIC_FRAME_MS`], until `stop`.
pub fn spawn_mic_tone(
    mut sender: MicSender,
    hz: f32,
    channels: u8,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<JoinHandle<anyhow::Result<u64>>> {
    let mut encoder = OpusEncoder::native(
        channels,
        MIC_FRAME_MS,
        audio::bitrate_bps(channels, audio::Tier::Standard),
    )?;
    let mut tone = Tone::new(hz, SAMPLE_RATE, channels);
    Ok(std::thread::Builder::new()
        .name("mic-tone".into())
        .spawn(move || {
            let interval = Duration::from_millis(MIC_FRAME_MS.into());
            let mut next = Instant::now();
            let mut sent = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let opus = encoder.encode(&tone.next(encoder.samples_per_frame()))?;
                sender.send(&opus)?;
                sent += 1;
                next += interval;
                match next.checked_duration_since(Instant::now()) {
                    Some(wait) => std::thread::sleep(wait),
                    None => next = Instant::now(),
                }
            }
            Ok(sent)
        })?)
}
