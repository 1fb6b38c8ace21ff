//! A session's PCM, cut into the fixed frames Opus takes, each with the instant its first sample
//! was captured (the same clock the video timestamps use, so a client can sync them).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use punktfunk_core::wire::audio::SAMPLE_RATE;
use punktfunk_pipewire::audio::{AudioCapture, CaptureOrigin};
use punktfunk_video::audio::Tone;

/// The test tone's pitch: what clients and tests listen for.
pub const TONE_HZ: f32 = 1000.0;
/// Captured audio kept waiting for the encoder at most; older samples are dropped (the encoder
/// fell behind, and late audio is worse than a gap).
const MAX_BACKLOG: Duration = Duration::from_millis(200);
/// How long one wait for captured audio lasts, so a stop is noticed.
const POLL: Duration = Duration::from_millis(50);

/// One frame of interleaved PCM and when its first sample was captured.
pub struct PcmFrame {
    pub samples: Vec<f32>,
    pub captured: Instant,
}

/// Interleaved samples in, fixed frames out; pure, so the timing arithmetic is tested alone.
pub struct Framer {
    channels: usize,
    fifo: VecDeque<f32>,
    /// When the newest sample in `fifo` was captured.
    newest_at: Option<Instant>,
    /// Samples dropped because the consumer lagged.
    pub dropped: u64,
}

impl Framer {
    pub fn new(channels: u8) -> Self {
        Self {
            channels: usize::from(channels.max(1)),
            fifo: VecDeque::new(),
            newest_at: None,
            dropped: 0,
        }
    }

    fn per_channel(samples: usize, channels: usize) -> Duration {
        Duration::from_secs_f64((samples / channels) as f64 / f64::from(SAMPLE_RATE))
    }

    /// Appends a chunk whose last sample was captured at `at`.
    pub fn push(&mut self, interleaved: &[f32], at: Instant) {
        // Whole sample frames only: a torn chunk would swap channels from here on.
        let whole = interleaved.len() - interleaved.len() % self.channels;
        self.fifo.extend(&interleaved[..whole]);
        self.newest_at = Some(at);
        let max = (MAX_BACKLOG.as_secs_f64() * f64::from(SAMPLE_RATE)) as usize * self.channels;
        if self.fifo.len() > max {
            let excess = self.fifo.len() - max;
            let excess = excess + (self.channels - excess % self.channels) % self.channels;
            self.fifo.drain(..excess);
            self.dropped += excess as u64;
        }
    }

    /// The next frame of `samples_per_channel`, once that much is buffered.
    pub fn pop(&mut self, samples_per_channel: usize) -> Option<PcmFrame> {
        let want = samples_per_channel * self.channels;
        if self.fifo.len() < want {
            return None;
        }
        let newest = self.newest_at?;
        let captured = newest
            .checked_sub(Self::per_channel(self.fifo.len(), self.channels))
            .unwrap_or(newest);
        Some(PcmFrame {
            samples: self.fifo.drain(..want).collect(),
            captured,
        })
    }
}

/// Where a session's audio comes from.
pub enum Feed {
    /// The test tone, paced by the clock.
    Tone { tone: Tone, next: Option<Instant> },
    /// The session sink's monitor (or the default sink's), paced by PipeWire.
    Desktop {
        capture: AudioCapture,
        framer: Framer,
    },
}

impl Feed {
    pub fn tone(channels: u8) -> Self {
        Feed::Tone {
            tone: Tone::new(TONE_HZ, SAMPLE_RATE, channels),
            next: None,
        }
    }

    pub fn desktop(capture: AudioCapture) -> Self {
        let framer = Framer::new(capture.channels());
        Feed::Desktop { capture, framer }
    }

    /// What the feed is, for the log.
    pub fn describe(&self) -> &'static str {
        match self {
            Feed::Tone { .. } => "test tone",
            Feed::Desktop { capture, .. } => match capture.origin() {
                CaptureOrigin::SessionSink => "desktop audio (session sink \"punktfunk\")",
                CaptureOrigin::DefaultSinkMonitor => "desktop audio (the default sink's monitor)",
            },
        }
    }

    /// The next frame, waiting for it; `None` when `stop` says so first.
    pub fn next_frame(
        &mut self,
        samples_per_channel: usize,
        stop: &dyn Fn() -> bool,
    ) -> Option<PcmFrame> {
        match self {
            Feed::Tone { tone, next } => {
                let interval =
                    Duration::from_secs_f64(samples_per_channel as f64 / f64::from(SAMPLE_RATE));
                let due = *next.get_or_insert_with(Instant::now);
                match due.checked_duration_since(Instant::now()) {
                    Some(wait) => std::thread::sleep(wait),
                    // Behind: audio must not burst; start the clock again.
                    None => *next = Some(Instant::now()),
                }
                *next = next.map(|n| n + interval);
                if stop() {
                    return None;
                }
                Some(PcmFrame {
                    samples: tone.next(samples_per_channel),
                    captured: Instant::now(),
                })
            }
            Feed::Desktop { capture, framer } => loop {
                if let Some(frame) = framer.pop(samples_per_channel) {
                    return Some(frame);
                }
                if stop() {
                    return None;
                }
                match capture.recv_timeout(POLL) {
                    Some(chunk) => framer.push(&chunk.samples, chunk.captured_at),
                    None => {
                        if let Some(why) = capture.ended() {
                            tracing::warn!("desktop audio capture ended: {why}");
                            return None;
                        }
                    }
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_cut_in_order_with_their_capture_time() {
        let mut f = Framer::new(2);
        let t0 = Instant::now() + Duration::from_secs(1);
        // 480 sample frames (10 ms) whose last sample was captured at t0.
        let chunk: Vec<f32> = (0..960).map(|i| i as f32).collect();
        f.push(&chunk, t0);
        let a = f.pop(240).unwrap();
        assert_eq!(a.samples, chunk[..480]);
        assert_eq!(t0 - a.captured, Duration::from_millis(10));
        let b = f.pop(240).unwrap();
        assert_eq!(b.samples, chunk[480..]);
        assert_eq!(t0 - b.captured, Duration::from_millis(5));
        assert!(f.pop(240).is_none());
    }

    #[test]
    fn a_lagging_consumer_loses_the_oldest_samples_never_a_channel() {
        let mut f = Framer::new(2);
        let now = Instant::now();
        // One second of stereo with a torn last sample frame.
        let chunk: Vec<f32> = (0..96_001).map(|i| (i % 2) as f32).collect();
        f.push(&chunk, now);
        assert!(f.dropped > 0);
        let frame = f.pop(240).unwrap();
        // Left stays left: even positions hold channel 0's value.
        assert!(frame.samples.chunks(2).all(|s| s == [0.0, 1.0]));
        // What is left is at most the backlog bound.
        let left = 1 + (0..).take_while(|_| f.pop(240).is_some()).count();
        assert!(left * 5 <= MAX_BACKLOG.as_millis() as usize);
    }
}
