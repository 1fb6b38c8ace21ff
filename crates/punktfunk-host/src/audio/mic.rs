//! The native plane's microphone: the client's Opus packets (mic stream) → replay window and
//! reassembly → adaptive jitter buffer → decoder (concealing losses) → the virtual source.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use punktfunk_core::jitter::{JitterBuffer, JitterConfig, Playout};
use punktfunk_core::wire::audio::{MIC_FRAME_MS, SAMPLE_RATE};
use punktfunk_core::wire::media::stream;
use punktfunk_core::{Event, MediaReceiver, MediaSecret, ReassemblyLimits};
use punktfunk_pipewire::audio::MicSource;
use punktfunk_video::audio::OpusDecoder;

use crate::native::media::SessionControl;

/// Longest wait for a datagram, so a stop is noticed.
const POLL: Duration = Duration::from_millis(50);

pub struct MicPlan {
    /// The client → host media secret; the mic stream derives its own from it.
    pub secret: MediaSecret,
    pub channels: u8,
}

pub fn spawn(
    datagrams: Receiver<Vec<u8>>,
    plan: MicPlan,
    source: Arc<MicSource>,
    control: Arc<SessionControl>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("session-mic".into())
        .spawn(move || {
            if let Err(e) = run(&datagrams, &plan, &source, &control) {
                tracing::warn!("microphone stopped: {e:#}");
            }
        })
}

fn run(
    datagrams: &Receiver<Vec<u8>>,
    plan: &MicPlan,
    source: &MicSource,
    control: &SessionControl,
) -> anyhow::Result<()> {
    let mut decoder = OpusDecoder::native(plan.channels)?;
    let frame_samples = SAMPLE_RATE as usize * usize::from(MIC_FRAME_MS) / 1000;
    let mut receiver =
        MediaReceiver::for_stream(&plan.secret, stream::MIC, ReassemblyLimits::audio());
    let mut jitter = JitterBuffer::new(JitterConfig {
        frame: Duration::from_millis(MIC_FRAME_MS.into()),
        ..JitterConfig::default()
    });
    let (mut packets, mut concealed) = (0u64, 0u64);
    tracing::info!(
        channels = plan.channels,
        node = source.node_name(),
        "microphone live"
    );
    while !control.stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        let wait = jitter
            .poll_timeout()
            .map_or(POLL, |t| t.saturating_duration_since(now))
            .min(POLL);
        match datagrams.recv_timeout(wait) {
            Ok(mut d) => {
                receiver.handle_datagram(&mut d, Instant::now());
            }
            Err(RecvTimeoutError::Timeout) => receiver.handle_timeout(Instant::now()),
            Err(RecvTimeoutError::Disconnected) => break,
        }
        while let Some(event) = receiver.poll_event() {
            // Losses need no word here: the jitter buffer plays their slots as missing.
            if let Event::Frame(frame) = event {
                packets += 1;
                jitter.push(frame.index, frame.data, Instant::now());
            }
        }
        while let Some(slot) = jitter.poll(Instant::now()) {
            let pcm = match slot {
                Playout::Packet { payload, .. } => decoder.decode(Some(&payload), frame_samples),
                Playout::Missing { .. } => {
                    concealed += 1;
                    decoder.decode(None, frame_samples)
                }
            };
            match pcm {
                Ok(pcm) => source.push(&remix(&pcm, plan.channels, source.channels())),
                // One bad packet is a gap, not the end of the microphone.
                Err(e) => tracing::debug!("microphone packet undecodable: {e}"),
            }
        }
    }
    let stats = jitter.stats();
    tracing::info!(
        packets,
        concealed,
        underruns = source.underruns(),
        dropped_frames = source.dropped_frames(),
        late = stats.late,
        target_delay_ms = stats.target_delay.as_millis() as u64,
        "microphone stopped"
    );
    Ok(())
}

/// Interleaved `pcm` of `from` channels as `to` channels: each output channel takes the input
/// channel of its index, or the last one when there are fewer (mono fills both of stereo).
fn remix(pcm: &[f32], from: u8, to: u8) -> std::borrow::Cow<'_, [f32]> {
    if from == to || from == 0 || to == 0 {
        return pcm.into();
    }
    let (from, to) = (usize::from(from), usize::from(to));
    pcm.chunks_exact(from)
        .flat_map(|frame| (0..to).map(move |c| frame[c.min(from - 1)]))
        .collect::<Vec<f32>>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::remix;

    #[test]
    fn mono_fills_both_stereo_channels_and_stereo_passes() {
        assert_eq!(&*remix(&[0.1, 0.2], 1, 2), &[0.1, 0.1, 0.2, 0.2]);
        assert_eq!(&*remix(&[0.1, 0.2], 2, 2), &[0.1, 0.2]);
        assert_eq!(&*remix(&[0.1, 0.2, 0.3, 0.4], 2, 1), &[0.1, 0.3]);
    }
}
