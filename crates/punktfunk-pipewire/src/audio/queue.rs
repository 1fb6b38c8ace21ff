//! The two hand-overs between the PipeWire thread and the host: captured
//! chunks going out, microphone samples coming in. Both are bounded and drop
//! the oldest audio when the other side falls behind: for live streaming
//! fresh audio matters more than complete audio.
//!
//! The PipeWire side only ever holds a lock for a copy of at most
//! [`MAX_QUEUED`] of audio, never waits on the host.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::layout::RATE;
use super::AudioChunk;
use crate::PipeWireError;

/// How much audio either queue holds at most.
pub(crate) const MAX_QUEUED: Duration = Duration::from_millis(200);

/// Frames in [`MAX_QUEUED`] at [`RATE`].
pub(crate) const MAX_QUEUED_FRAMES: usize =
    (RATE as usize) * (MAX_QUEUED.as_millis() as usize) / 1000;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while holding these locks; if something did, the data
    // is still plain samples.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Captured chunks on their way to the host.
#[derive(Default)]
pub(crate) struct ChunkQueue {
    state: Mutex<Chunks>,
    arrived: Condvar,
}

#[derive(Default)]
struct Chunks {
    chunks: VecDeque<AudioChunk>,
    frames: usize,
    dropped: u64,
    ended: Option<PipeWireError>,
}

impl ChunkQueue {
    /// Queues `chunk`, dropping the oldest chunks beyond [`MAX_QUEUED`]
    /// (the newest chunk always stays). Empty chunks are ignored.
    pub(crate) fn push(&self, chunk: AudioChunk) {
        let frames = chunk.frames();
        if frames == 0 {
            return;
        }
        let mut state = lock(&self.state);
        state.frames += frames;
        state.chunks.push_back(chunk);
        while state.frames > MAX_QUEUED_FRAMES && state.chunks.len() > 1 {
            if let Some(old) = state.chunks.pop_front() {
                state.frames -= old.frames();
                state.dropped += 1;
            }
        }
        drop(state);
        self.arrived.notify_one();
    }

    /// The oldest queued chunk, waiting at most `timeout` for one; `None` on
    /// timeout, or at once when the queue is empty and has ended.
    pub(crate) fn pop_timeout(&self, timeout: Duration) -> Option<AudioChunk> {
        let deadline = Instant::now().checked_add(timeout);
        let mut state = lock(&self.state);
        loop {
            if let Some(chunk) = state.chunks.pop_front() {
                state.frames -= chunk.frames();
                return Some(chunk);
            }
            if state.ended.is_some() {
                return None;
            }
            // A timeout too large for an Instant waits for good.
            let left = match deadline {
                Some(deadline) => deadline.checked_duration_since(Instant::now())?,
                None => Duration::from_secs(3600),
            };
            state = self
                .arrived
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Marks the end of the capture. The first reason sticks, except that
    /// a lost connection replaces it: the stream may notice that it is cut
    /// off before the core says why.
    pub(crate) fn end(&self, why: PipeWireError) {
        let mut state = lock(&self.state);
        if state.ended.is_none() || matches!(why, PipeWireError::Disconnected(_)) {
            state.ended = Some(why);
        }
        drop(state);
        self.arrived.notify_all();
    }

    pub(crate) fn ended(&self) -> Option<PipeWireError> {
        lock(&self.state).ended.clone()
    }

    /// Chunks dropped because the host did not take them in time.
    pub(crate) fn dropped(&self) -> u64 {
        lock(&self.state).dropped
    }
}

/// Interleaved microphone samples from the host, waiting for PipeWire to
/// ask for them.
pub(crate) struct SampleQueue {
    channels: usize,
    samples: Mutex<VecDeque<f32>>,
    underruns: AtomicU64,
    dropped_frames: AtomicU64,
}

impl SampleQueue {
    pub(crate) fn new(channels: u8) -> Self {
        let channels = usize::from(channels.max(1));
        Self {
            channels,
            samples: Mutex::new(VecDeque::with_capacity(MAX_QUEUED_FRAMES * channels)),
            underruns: AtomicU64::new(0),
            dropped_frames: AtomicU64::new(0),
        }
    }

    fn max_samples(&self) -> usize {
        MAX_QUEUED_FRAMES * self.channels
    }

    /// Appends the whole frames of `interleaved` (a trailing partial frame
    /// is ignored), dropping the oldest frames beyond [`MAX_QUEUED`].
    pub(crate) fn push(&self, interleaved: &[f32]) {
        let whole = interleaved.len() - interleaved.len() % self.channels;
        let max = self.max_samples();
        // Of a push larger than the queue only its newest part can stay.
        let skipped = whole.saturating_sub(max);
        let incoming = &interleaved[skipped..whole];
        let mut samples = lock(&self.samples);
        let overflow = (samples.len() + incoming.len()).saturating_sub(max);
        samples.drain(..overflow);
        samples.extend(incoming);
        drop(samples);
        let dropped = (skipped + overflow) / self.channels;
        if dropped > 0 {
            self.dropped_frames
                .fetch_add(dropped as u64, Ordering::Relaxed);
        }
    }

    /// Fills `out` (F32LE bytes, whole frames) from the queue, with silence
    /// for whatever is missing; a short fill counts as one underrun.
    pub(crate) fn fill(&self, out: &mut [u8]) {
        let mut samples = lock(&self.samples);
        let mut slots = out.chunks_exact_mut(4);
        let mut short = false;
        for slot in &mut slots {
            let sample = samples.pop_front().unwrap_or_else(|| {
                short = true;
                0.0
            });
            slot.copy_from_slice(&sample.to_le_bytes());
        }
        drop(samples);
        if short {
            self.underruns.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn underruns(&self) -> u64 {
        self.underruns.load(Ordering::Relaxed)
    }

    pub(crate) fn dropped_frames(&self) -> u64 {
        self.dropped_frames.load(Ordering::Relaxed)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        lock(&self.samples).len()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn chunk(frames: usize, channels: u8, first: f32) -> AudioChunk {
        AudioChunk {
            samples: (0..frames * usize::from(channels))
                .map(|i| first + i as f32)
                .collect(),
            channels,
            captured_at: Instant::now(),
        }
    }

    fn floats(bytes: &[u8]) -> Vec<f32> {
        bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    }

    #[test]
    fn chunks_come_out_in_order_and_the_oldest_go_when_full() {
        let queue = ChunkQueue::default();
        let per_chunk = MAX_QUEUED_FRAMES / 4;
        for i in 0..6 {
            queue.push(chunk(per_chunk, 2, i as f32 * 1000.0));
        }
        assert_eq!(queue.dropped(), 2);
        for i in 2..6 {
            let got = queue.pop_timeout(Duration::ZERO).expect("a chunk");
            assert_eq!(got.samples[0], i as f32 * 1000.0);
        }
        assert!(queue.pop_timeout(Duration::from_millis(1)).is_none());
    }

    #[test]
    fn an_ended_queue_still_hands_out_what_it_holds() {
        let queue = ChunkQueue::default();
        queue.push(chunk(10, 1, 0.0));
        queue.end(PipeWireError::Stream("cut off".into()));
        queue.end(PipeWireError::Stopped);
        assert_eq!(queue.ended(), Some(PipeWireError::Stream("cut off".into())));
        // A lost connection explains whatever came before.
        queue.end(PipeWireError::Disconnected("daemon gone".into()));
        queue.end(PipeWireError::Stopped);
        assert_eq!(
            queue.ended(),
            Some(PipeWireError::Disconnected("daemon gone".into()))
        );
        assert!(queue.pop_timeout(Duration::ZERO).is_some());
        // Ended and empty: no waiting.
        assert!(queue.pop_timeout(Duration::from_secs(3600)).is_none());
    }

    #[test]
    fn a_waiting_reader_wakes_for_a_chunk() {
        let queue = std::sync::Arc::new(ChunkQueue::default());
        let writer = std::thread::spawn({
            let queue = queue.clone();
            move || queue.push(chunk(4, 2, 7.0))
        });
        let got = queue.pop_timeout(Duration::from_secs(30)).expect("a chunk");
        assert_eq!(got.samples[0], 7.0);
        writer.join().unwrap();
    }

    #[test]
    fn the_mic_plays_what_was_pushed_then_silence() {
        let queue = SampleQueue::new(2);
        queue.push(&[1.0, 2.0, 3.0, 4.0, 5.0]); // the lone 5.0 is half a frame
        let mut out = [0xffu8; 4 * 6];
        queue.fill(&mut out);
        assert_eq!(floats(&out), [1.0, 2.0, 3.0, 4.0, 0.0, 0.0]);
        assert_eq!(queue.underruns(), 1);
        queue.push(&[6.0, 7.0]);
        let mut out = [0u8; 4 * 2];
        queue.fill(&mut out);
        assert_eq!(floats(&out), [6.0, 7.0]);
        assert_eq!(queue.underruns(), 1);
    }

    proptest! {
        /// Whatever the pushes, the queue stays bounded, holds whole frames,
        /// and keeps the newest samples in order.
        #[test]
        fn the_mic_queue_keeps_the_newest_whole_frames(
            channels in 1u8..=8,
            pushes in proptest::collection::vec(0usize..30_000, 0..12),
        ) {
            let queue = SampleQueue::new(channels);
            let ch = usize::from(channels);
            let mut next = 0u32;
            let mut kept: Vec<f32> = Vec::new();
            for len in pushes {
                let data: Vec<f32> = (0..len).map(|i| (next + i as u32) as f32).collect();
                next += len as u32;
                kept.extend_from_slice(&data[..len - len % ch]);
                queue.push(&data);
                prop_assert!(queue.len() <= MAX_QUEUED_FRAMES * ch);
                prop_assert_eq!(queue.len() % ch, 0);
            }
            let start = kept.len().saturating_sub(MAX_QUEUED_FRAMES * ch);
            let expected = &kept[start..];
            let mut out = vec![0u8; expected.len() * 4];
            queue.fill(&mut out);
            prop_assert_eq!(floats(&out), expected);
            prop_assert_eq!(queue.dropped_frames() as usize, start / ch);
        }
    }
}
