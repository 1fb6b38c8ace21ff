//! Receive summaries: what a run of the media pump saw, for people and for scripts.

use std::fmt;
use std::time::{Duration, Instant};

use punktfunk_core::{synthetic, Event, MediaCounters};

use crate::media::MediaPump;

/// Frames checked against the synthetic source, and the receiver's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceiveReport {
    pub verified: u64,
    pub corrupt: u64,
    pub bytes: u64,
    pub elapsed: Duration,
    pub counters: MediaCounters,
}

impl ReceiveReport {
    pub fn mbit_per_s(&self) -> f64 {
        self.bytes as f64 * 8.0 / self.elapsed.as_secs_f64().max(1e-9) / 1e6
    }

    /// One line of `key=value` pairs; stable for scripts.
    pub fn to_kv(&self) -> String {
        let c = &self.counters;
        format!(
            "frames={} verified={} corrupt={} lost={} recovered={} received={} surplus={} late={} replayed={} bad_tag={} malformed={} over_budget={} mbit_s={:.1}",
            c.frames, self.verified, self.corrupt, c.lost, c.recovered, c.received, c.surplus,
            c.late, c.replayed, c.bad_tag, c.malformed, c.over_budget, self.mbit_per_s()
        )
    }
}

impl fmt::Display for ReceiveReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_kv())
    }
}

/// Receives until `deadline`, or until `idle` passes with nothing delivered after the first
/// frame, checking every frame against the synthetic source.
pub fn receive_synthetic(
    pump: &mut MediaPump,
    deadline: Instant,
    idle: Duration,
) -> std::io::Result<ReceiveReport> {
    let start = Instant::now();
    let mut report = ReceiveReport::default();
    let mut last_event = None::<Instant>;
    loop {
        let until = last_event.map_or(deadline, |t: Instant| (t + idle).min(deadline));
        let Some(event) = pump.next_event(until)? else {
            break;
        };
        last_event = Some(Instant::now());
        match event {
            Event::Frame(frame) => {
                if synthetic::verify(frame.index, &frame.data) {
                    report.verified += 1;
                } else {
                    report.corrupt += 1;
                    tracing::error!(frame = frame.index, "frame bytes differ from what was sent");
                }
                report.bytes += frame.data.len() as u64;
                pump.recycle(frame.data);
            }
            Event::Lost { first, count } => {
                tracing::debug!(first, count, "frames lost");
            }
        }
    }
    report.elapsed = start.elapsed();
    report.counters = pump.counters();
    Ok(report)
}
