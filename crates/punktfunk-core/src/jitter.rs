//! An adaptive jitter buffer for fixed-duration audio packets (the client's microphone as Opus):
//! packets in, in any order and with any delay; one playout decision per frame out, in sequence
//! order. No I/O; time comes in as an argument.
//!
//! Playout starts the target delay after the first packet arrives, then moves one slot per frame:
//! a slot plays its packet if it came in time, otherwise it is reported missing (the decoder
//! conceals it). A packet numbered before the first one still gets a slot if it comes before that
//! slot would have been due and before anything was played.
//!
//! The target delay follows the network. Each arrival gives a sample of its transit time up to a
//! constant: arrival time minus the sequence number's nominal send time. The spread of those
//! samples over a sliding window (plus half a frame of margin) is the delay that would have caught
//! every packet in it. When a packet arrives later than the target allows, the target rises at
//! once and playout pauses by the difference; once the window is calm, the target falls by one
//! frame per half second. When the fastest arrivals wait two frames or more beyond the target (the
//! target fell, the first packets were slow, the sender's clock runs fast), the oldest slots are
//! skipped to catch up, so the played sequence numbers are consecutive except for those counted
//! skips. After a silence of `max_delay` plus five frames with nothing held, the buffer goes idle
//! and the next packet starts playout afresh (so a sender that restarts its numbering recovers).
//!
//! Sequence numbers are compared in serial-number order (they wrap), and at most `max_packets`
//! payloads are held: a packet further ahead of the playout point is refused.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The buffer's fixed parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterConfig {
    /// Audio duration of one packet (Opus frame length: 10 ms or 5 ms for GameStream).
    pub frame: Duration,
    /// The target delay never falls below this.
    pub min_delay: Duration,
    /// The target delay never rises above this (nor above what `max_packets` can hold).
    pub max_delay: Duration,
    /// Most payloads held at once; also how far ahead of the playout point a packet may be.
    pub max_packets: usize,
}

impl Default for JitterConfig {
    fn default() -> Self {
        Self {
            frame: Duration::from_millis(10),
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            max_packets: 64,
        }
    }
}

/// What became of a pushed packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    /// Held for its slot.
    Queued,
    /// This sequence number is held already, or its slot already had its packet.
    Duplicate,
    /// Its slot was already played (as missing) or skipped.
    Late,
    /// `max_packets` or more slots ahead of the playout point: refused, nothing held.
    TooFarAhead,
}

/// One slot's playout decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playout {
    /// The packet for this slot: decode it.
    Packet { seq: u32, payload: Vec<u8> },
    /// No packet came in time: conceal one frame.
    Missing { seq: u32 },
}

impl Playout {
    pub fn seq(&self) -> u32 {
        match self {
            Playout::Packet { seq, .. } | Playout::Missing { seq } => *seq,
        }
    }
}

/// Counters since the buffer was made, and the current target delay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Slots played with their packet.
    pub played: u64,
    /// Slots played as missing.
    pub concealed: u64,
    /// Packets whose slot had already been played or skipped.
    pub late: u64,
    /// Packets held or played already.
    pub duplicates: u64,
    /// Packets refused for being too far ahead.
    pub too_far_ahead: u64,
    /// Slots skipped to bring the delay back to the target, whether or not their packet had
    /// arrived (a skipped packet is never played; a skipped empty slot is never reported).
    pub dropped_to_catch_up: u64,
    /// Times playout stopped after a silence and restarted with the next packet.
    pub resets: u64,
    pub target_delay: Duration,
}

/// Length of the window the jitter is measured over.
const JITTER_WINDOW: Duration = Duration::from_secs(2);
/// Bounds on the window in packets, whatever the frame length.
const MIN_WINDOW_PACKETS: usize = 8;
const MAX_WINDOW_PACKETS: usize = 1024;
/// In a calm window, the target falls by one frame per this much playout.
const DECAY_INTERVAL: Duration = Duration::from_millis(500);
/// The buffer is "clearly" over the target from this many frames of excess delay.
const CATCH_UP_FRAMES: i64 = 2;
/// Silence that ends a run: `max_delay` plus this many frames without a packet queued.
const RESET_FRAMES: u32 = 5;
/// Bounds on the frame length (a zero frame would make every slot due at once).
const MIN_FRAME: Duration = Duration::from_micros(100);
const MAX_FRAME: Duration = Duration::from_secs(1);

/// Serial-number distance from `from` to `to`: positive when `to` is ahead.
fn distance(from: u32, to: u32) -> i32 {
    to.wrapping_sub(from) as i32
}

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// `a - b` in nanoseconds, negative when `a` is earlier.
fn signed_nanos(a: Instant, b: Instant) -> i64 {
    match a.checked_duration_since(b) {
        Some(d) => nanos(d),
        None => -nanos(b.duration_since(a)),
    }
}

fn duration(nanos: i64) -> Duration {
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(0))
}

/// Playout state from the first packet after (re)start until the next silence.
struct Run {
    /// Arrival of the run's first packet: the zero of the transit samples.
    origin: Instant,
    /// Next slot to play, and its index counted from the run's first packet (never wraps).
    next_seq: u32,
    next_index: i64,
    next_due: Instant,
    /// `slots[i]`: the packet for `next_seq + i`, if held. Never longer than `max_packets`.
    slots: VecDeque<Option<Vec<u8>>>,
    queued: usize,
    /// Whether a slot was played or skipped yet (before that, earlier slots may be added).
    started: bool,
    /// Bit `i`: slot `next_seq - 1 - i` had its packet (played or skipped).
    had_packet: u64,
    last_queued: Instant,
}

impl Run {
    /// Moves past the next slot, returning its packet if held.
    fn advance(&mut self, frame: Duration) -> Option<Vec<u8>> {
        let payload = self.slots.pop_front().flatten();
        if payload.is_some() {
            self.queued -= 1;
        }
        self.had_packet = self.had_packet << 1 | u64::from(payload.is_some());
        self.next_seq = self.next_seq.wrapping_add(1);
        self.next_index += 1;
        self.next_due += frame;
        self.started = true;
        payload
    }

    /// Nominal time of the next slot relative to the origin, less its due time: how long a
    /// packet with transit sample 0 waits for its slot.
    fn scheduled_delay(&self, frame_ns: i64) -> i64 {
        signed_nanos(self.next_due, self.origin) - self.next_index.saturating_mul(frame_ns)
    }
}

/// Packets in, playout decisions out. See the module documentation.
pub struct JitterBuffer {
    config: JitterConfig,
    frame_ns: i64,
    /// Highest target: `max_delay`, or less when `max_packets` could not hold it.
    ceiling: Duration,
    reset_after: Duration,
    window_packets: usize,
    decay_slots: u32,
    target: Duration,
    /// Transit samples (ns, relative to the run's origin) of the latest arrivals.
    window: VecDeque<i64>,
    /// Smallest and largest sample in `window`.
    fastest: i64,
    slowest: i64,
    /// Slots played since the last raise or decay check.
    calm_slots: u32,
    run: Option<Run>,
    stats: JitterStats,
}

impl JitterBuffer {
    /// A buffer waiting for its first packet. Out-of-range settings are brought into range: the
    /// frame to 0.1 ms…1 s, `max_packets` to at least 1, `max_delay` to at least `min_delay`.
    pub fn new(config: JitterConfig) -> Self {
        let frame = config.frame.clamp(MIN_FRAME, MAX_FRAME);
        let max_packets = config.max_packets.max(1);
        let max_delay = config.max_delay.max(config.min_delay);
        let config = JitterConfig {
            frame,
            max_delay,
            max_packets,
            ..config
        };
        // Running at the target plus the catch-up margin needs that many slots ahead.
        let holdable = (max_packets as u64).saturating_sub(CATCH_UP_FRAMES as u64 + 1);
        let holdable = frame.saturating_mul(u32::try_from(holdable).unwrap_or(u32::MAX));
        let ceiling = max_delay.min(holdable);
        let slots_in = |span: Duration| (span.as_nanos() / frame.as_nanos()).max(1);
        let window_packets =
            (slots_in(JITTER_WINDOW) as usize).clamp(MIN_WINDOW_PACKETS, MAX_WINDOW_PACKETS);
        let target = config.min_delay.min(ceiling);
        Self {
            config,
            frame_ns: nanos(frame),
            ceiling,
            reset_after: max_delay.saturating_add(frame * RESET_FRAMES),
            window_packets,
            decay_slots: u32::try_from(slots_in(DECAY_INTERVAL)).unwrap_or(u32::MAX),
            target,
            window: VecDeque::with_capacity(window_packets),
            fastest: 0,
            slowest: 0,
            calm_slots: 0,
            run: None,
            stats: JitterStats {
                target_delay: target,
                ..JitterStats::default()
            },
        }
    }

    /// The settings in force (after [`JitterBuffer::new`] brought them into range).
    pub fn config(&self) -> &JitterConfig {
        &self.config
    }

    /// Takes one packet that arrived at `now`.
    pub fn push(&mut self, seq: u32, payload: Vec<u8>, now: Instant) -> Push {
        self.reset_if_silent(now);
        let max_packets = self.config.max_packets;
        let Some(run) = self.run.as_mut() else {
            self.start(seq, payload, now);
            return Push::Queued;
        };
        let ahead = distance(run.next_seq, seq);
        if ahead < 0 {
            let back = ahead.unsigned_abs();
            if back <= 64 && run.had_packet & (1 << (back - 1)) != 0 {
                self.stats.duplicates += 1;
                return Push::Duplicate;
            }
            // Numbered before the first packet, yet in time for where its slot would be: give
            // it (and the gap) slots in front.
            let room = !run.started && back as usize + run.slots.len() <= max_packets;
            let due = room
                .then(|| self.config.frame.checked_mul(back))
                .flatten()
                .and_then(|span| run.next_due.checked_sub(span))
                .filter(|&due| due > now);
            if let Some(due) = due {
                for _ in 1..back {
                    run.slots.push_front(None);
                }
                run.slots.push_front(Some(payload));
                run.next_seq = seq;
                run.next_index -= i64::from(back);
                run.next_due = due;
                return self.book(now, 0);
            }
            let back = back as usize;
            self.stats.late += 1;
            // Its lateness is jitter to cover; a packet from long ago says nothing about it.
            if back <= max_packets {
                let index = run.next_index - back as i64;
                self.sample(index, now);
                self.rebalance();
            }
            return Push::Late;
        }
        let ahead = ahead as usize;
        if ahead >= max_packets {
            self.stats.too_far_ahead += 1;
            return Push::TooFarAhead;
        }
        if run.slots.len() <= ahead {
            run.slots.resize(ahead + 1, None);
        }
        let slot = &mut run.slots[ahead];
        if slot.is_some() {
            self.stats.duplicates += 1;
            return Push::Duplicate;
        }
        *slot = Some(payload);
        self.book(now, ahead)
    }

    /// The next slot's playout once it is due at `now`, else `None`. Call it until `None`
    /// whenever [`JitterBuffer::poll_timeout`] passes.
    pub fn poll(&mut self, now: Instant) -> Option<Playout> {
        self.reset_if_silent(now);
        let run = self.run.as_mut()?;
        if now < run.next_due {
            return None;
        }
        let seq = run.next_seq;
        let playout = match run.advance(self.config.frame) {
            Some(payload) => {
                self.stats.played += 1;
                Playout::Packet { seq, payload }
            }
            None => {
                self.stats.concealed += 1;
                Playout::Missing { seq }
            }
        };
        self.decay();
        Some(playout)
    }

    /// When the next slot is due; `None` while idle (before the first packet or after a
    /// silence).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.run.as_ref().map(|run| run.next_due)
    }

    /// The delay playout currently aims for between the fastest arrivals and their slots.
    pub fn target_delay(&self) -> Duration {
        self.target
    }

    /// Payloads held now (never more than `max_packets`).
    pub fn queued_packets(&self) -> usize {
        self.run.as_ref().map_or(0, |run| run.queued)
    }

    pub fn stats(&self) -> JitterStats {
        JitterStats {
            target_delay: self.target,
            ..self.stats
        }
    }

    fn start(&mut self, seq: u32, payload: Vec<u8>, now: Instant) {
        let mut slots = VecDeque::with_capacity(self.config.max_packets.min(64));
        slots.push_back(Some(payload));
        self.window.clear();
        self.run = Some(Run {
            origin: now,
            next_seq: seq,
            next_index: 0,
            next_due: now + self.target,
            slots,
            queued: 1,
            started: false,
            had_packet: 0,
            last_queued: now,
        });
        self.sample(0, now);
    }

    /// Books a payload just stored `ahead` slots from the playout point.
    fn book(&mut self, now: Instant, ahead: usize) -> Push {
        let run = self.run.as_mut().expect("a run holds the payload");
        run.queued += 1;
        run.last_queued = now;
        let index = run.next_index + ahead as i64;
        self.sample(index, now);
        self.rebalance();
        Push::Queued
    }

    /// Ends the run when nothing is held and nothing was queued for `reset_after`.
    fn reset_if_silent(&mut self, now: Instant) {
        let silent = self.run.as_ref().is_some_and(|run| {
            run.queued == 0 && now.saturating_duration_since(run.last_queued) >= self.reset_after
        });
        if silent {
            self.run = None;
            self.window.clear();
            self.stats.resets += 1;
        }
    }

    /// Records the transit sample of slot `index` arriving at `now` and raises the target at
    /// once if the window's spread needs more.
    fn sample(&mut self, index: i64, now: Instant) {
        let Some(run) = self.run.as_ref() else {
            return;
        };
        let transit = signed_nanos(now, run.origin) - index.saturating_mul(self.frame_ns);
        if self.window.len() >= self.window_packets {
            self.window.pop_front();
        }
        self.window.push_back(transit);
        self.fastest = self.window.iter().copied().min().unwrap_or(0);
        self.slowest = self.window.iter().copied().max().unwrap_or(0);
        let needed = self.needed();
        if needed > self.target {
            self.target = needed;
            self.calm_slots = 0;
        }
    }

    /// The target the window asks for: its spread plus half a frame, within the bounds.
    fn needed(&self) -> Duration {
        let spread = self.slowest.saturating_sub(self.fastest) + self.frame_ns / 2;
        duration(spread).clamp(self.config.min_delay.min(self.ceiling), self.ceiling)
    }

    /// After a calm stretch of playout, lowers the target by up to a frame toward what the
    /// window needs.
    fn decay(&mut self) {
        self.calm_slots = self.calm_slots.saturating_add(1);
        if self.calm_slots < self.decay_slots {
            return;
        }
        self.calm_slots = 0;
        let needed = self.needed();
        if needed < self.target {
            self.target = self.target.saturating_sub(self.config.frame).max(needed);
            self.rebalance();
        }
    }

    /// Brings the buffer's delay back to the target: pauses playout when it is short, skips the
    /// oldest slots when it is clearly over.
    fn rebalance(&mut self) {
        let Some(run) = self.run.as_mut() else {
            return;
        };
        // How long the fastest arrivals in the window wait for their slot.
        let delay = run
            .scheduled_delay(self.frame_ns)
            .saturating_sub(self.fastest);
        let target = nanos(self.target);
        if delay < target {
            let pause = duration(target.saturating_sub(delay));
            run.next_due = run.next_due.checked_add(pause).unwrap_or(run.next_due);
            return;
        }
        let excess_frames = (delay - target) / self.frame_ns;
        if excess_frames < CATCH_UP_FRAMES {
            return;
        }
        // Land one frame over the target, keeping the schedule: skip at most a buffer's worth
        // per call (a later call skips the rest).
        let skip = (excess_frames - 1).min(self.config.max_packets as i64);
        for _ in 0..skip {
            run.advance(Duration::ZERO);
        }
        self.stats.dropped_to_catch_up += skip as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Playouts with their times relative to the start.
    type Timeline = Vec<(Duration, Playout)>;

    /// Drives the buffer like an event loop: before each arrival, plays every slot due at or
    /// before it, then pushes (a packet arriving exactly at its slot's due time is late). After
    /// the last arrival, plays on until the buffer goes idle. Returns the pushes' results and the
    /// playouts with their times relative to `t0`.
    fn drive(
        jb: &mut JitterBuffer,
        t0: Instant,
        arrivals: &[(u32, Duration)],
    ) -> (Vec<(u32, Push)>, Timeline) {
        let mut pushes = Vec::new();
        let mut out = Vec::new();
        let mut arrivals = arrivals.to_vec();
        arrivals.sort_by_key(|&(_, at)| at);
        let mut play_until = |jb: &mut JitterBuffer, until: Option<Instant>| {
            let mut steps = 0;
            while let Some(due) = jb.poll_timeout() {
                if until.is_some_and(|u| due > u) {
                    break;
                }
                steps += 1;
                assert!(steps < 100_000, "playout never went idle");
                while let Some(p) = jb.poll(due) {
                    out.push((due - t0, p));
                }
            }
        };
        for (seq, at) in arrivals {
            play_until(jb, Some(t0 + at));
            pushes.push((seq, jb.push(seq, seq.to_le_bytes().to_vec(), t0 + at)));
        }
        play_until(jb, None);
        (pushes, out)
    }

    fn seqs(out: &[(Duration, Playout)]) -> Vec<u32> {
        out.iter().map(|(_, p)| p.seq()).collect()
    }

    fn played(out: &[(Duration, Playout)]) -> Vec<u32> {
        out.iter()
            .filter_map(|(_, p)| match p {
                Playout::Packet { seq, payload } => {
                    assert_eq!(payload, &seq.to_le_bytes(), "payload under another seq");
                    Some(*seq)
                }
                Playout::Missing { .. } => None,
            })
            .collect()
    }

    fn missing(out: &[(Duration, Playout)]) -> Vec<u32> {
        out.iter()
            .filter_map(|(_, p)| match p {
                Playout::Missing { seq } => Some(*seq),
                Playout::Packet { .. } => None,
            })
            .collect()
    }

    fn fixed(delay: Duration) -> JitterConfig {
        JitterConfig {
            min_delay: delay,
            max_delay: delay,
            ..JitterConfig::default()
        }
    }

    /// Packets `first, first + 1, …` (`n` of them), one per 10 ms from `t = 0`.
    fn steady(first: u32, n: u32) -> Vec<(u32, Duration)> {
        (0..n)
            .map(|i| (first.wrapping_add(i), ms(10) * i))
            .collect()
    }

    #[test]
    fn in_order_packets_play_one_per_frame_after_the_target_delay() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig::default());
        assert_eq!(jb.poll_timeout(), None);
        assert_eq!(jb.poll(t0), None);
        assert_eq!(jb.push(100, vec![1], t0), Push::Queued);
        assert_eq!(jb.poll_timeout(), Some(t0 + ms(20)));
        assert_eq!(jb.poll(t0 + ms(19)), None);
        assert_eq!(
            jb.poll(t0 + ms(20)),
            Some(Playout::Packet {
                seq: 100,
                payload: vec![1]
            })
        );
        assert_eq!(jb.poll(t0 + ms(20)), None);
        assert_eq!(jb.poll_timeout(), Some(t0 + ms(30)));

        let mut jb = JitterBuffer::new(JitterConfig::default());
        let (pushes, out) = drive(&mut jb, t0, &steady(100, 50));
        assert!(pushes.iter().all(|(_, p)| *p == Push::Queued));
        // Every packet plays 20 ms after it came; then the buffer conceals until it gives up.
        assert_eq!(played(&out), (100..150).collect::<Vec<_>>());
        for (i, (at, _)) in out.iter().take(50).enumerate() {
            assert_eq!(*at, ms(10) * i as u32 + ms(20));
        }
        assert!(seqs(&out).windows(2).all(|w| w[1] == w[0] + 1));
        let stats = jb.stats();
        assert_eq!(stats.played, 50);
        assert_eq!(stats.concealed, out.len() as u64 - 50);
        assert_eq!(stats.target_delay, ms(20));
        assert_eq!(
            (stats.late, stats.duplicates, stats.dropped_to_catch_up),
            (0, 0, 0)
        );
        assert_eq!(stats.resets, 1);
        assert_eq!(jb.poll_timeout(), None);
    }

    #[test]
    fn lost_packets_are_reported_missing_in_their_slot() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(fixed(ms(30)));
        let arrivals: Vec<_> = steady(0, 20)
            .into_iter()
            .filter(|(seq, _)| ![3, 7, 8].contains(seq))
            .collect();
        let (_, out) = drive(&mut jb, t0, &arrivals);
        assert_eq!(&seqs(&out)[..20], (0..20).collect::<Vec<_>>());
        let lost: Vec<_> = missing(&out).into_iter().filter(|&s| s < 20).collect();
        assert_eq!(lost, [3, 7, 8]);
        assert_eq!(jb.stats().played, 17);
    }

    #[test]
    fn reordered_packets_within_the_delay_play_in_order() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(fixed(ms(40)));
        // Pairs swapped: each even packet 15 ms late, after its odd successor. Seq 1 arrives
        // first and starts playout; seq 0 still gets its slot in front.
        let mut arrivals = steady(0, 20);
        for pair in arrivals.chunks_mut(2) {
            pair[0].1 += ms(15);
        }
        let (pushes, out) = drive(&mut jb, t0, &arrivals);
        assert!(pushes.iter().all(|(_, p)| *p == Push::Queued), "{pushes:?}");
        assert_eq!(played(&out), (0..20).collect::<Vec<_>>());
        assert_eq!(&seqs(&out)[..20], (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn duplicates_are_refused_whether_held_or_played() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig::default());
        assert_eq!(jb.push(5, vec![5], t0), Push::Queued);
        assert_eq!(jb.push(6, vec![6], t0 + ms(10)), Push::Queued);
        assert_eq!(jb.push(6, vec![66], t0 + ms(11)), Push::Duplicate);
        assert_eq!(jb.queued_packets(), 2);
        assert!(matches!(
            jb.poll(t0 + ms(20)),
            Some(Playout::Packet { seq: 5, .. })
        ));
        assert_eq!(jb.push(5, vec![55], t0 + ms(21)), Push::Duplicate);
        assert_eq!(
            jb.poll(t0 + ms(30)),
            Some(Playout::Packet {
                seq: 6,
                payload: vec![6]
            })
        );
        assert_eq!(jb.stats().duplicates, 2);
        assert_eq!(jb.queued_packets(), 0);
    }

    #[test]
    fn a_packet_after_its_slot_played_is_late() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(fixed(ms(20)));
        assert_eq!(jb.push(0, vec![0], t0), Push::Queued);
        assert_eq!(jb.poll(t0 + ms(20)).map(|p| p.seq()), Some(0));
        assert_eq!(jb.poll(t0 + ms(30)), Some(Playout::Missing { seq: 1 }));
        assert_eq!(jb.push(1, vec![1], t0 + ms(31)), Push::Late);
        assert_eq!(jb.stats().late, 1);
        assert_eq!(jb.queued_packets(), 0);
        // Far behind is late too (not a duplicate, not a wrap to the front).
        assert_eq!(
            jb.push(0u32.wrapping_sub(1000), vec![], t0 + ms(32)),
            Push::Late
        );
        // Before anything played, an earlier packet whose slot would already be due is late.
        let mut jb = JitterBuffer::new(fixed(ms(20)));
        assert_eq!(jb.push(10, vec![], t0), Push::Queued);
        assert_eq!(jb.push(8, vec![], t0 + ms(1)), Push::Late);
        assert_eq!(jb.push(9, vec![], t0 + ms(1)), Push::Queued);
        assert_eq!(jb.poll_timeout(), Some(t0 + ms(10)));
    }

    #[test]
    fn packets_beyond_max_packets_are_refused() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig {
            max_packets: 8,
            ..JitterConfig::default()
        });
        // Arriving on time (seq 10 at 0 ms, seq 17 at 70 ms), before anything plays.
        assert_eq!(jb.push(10, vec![], t0), Push::Queued);
        assert_eq!(jb.push(17, vec![], t0 + ms(70)), Push::Queued);
        assert_eq!(jb.push(18, vec![], t0 + ms(70)), Push::TooFarAhead);
        assert_eq!(
            jb.push(10 + (1 << 30), vec![], t0 + ms(70)),
            Push::TooFarAhead
        );
        assert_eq!(jb.queued_packets(), 2);
        assert_eq!(jb.stats().too_far_ahead, 2);
    }

    #[test]
    fn sequence_numbers_wrap_at_u32_max() {
        let t0 = Instant::now();
        let first = u32::MAX - 4;
        let mut jb = JitterBuffer::new(JitterConfig::default());
        let mut arrivals = steady(first, 10);
        // u32::MAX a little late, 0 a little early: 0 arrives first.
        arrivals[4].1 = ms(45);
        arrivals[5].1 = ms(44);
        let (pushes, out) = drive(&mut jb, t0, &arrivals);
        assert!(pushes.iter().all(|(_, p)| *p == Push::Queued), "{pushes:?}");
        let expected: Vec<u32> = (0..10).map(|i| first.wrapping_add(i)).collect();
        assert_eq!(&seqs(&out)[..10], expected);
        assert_eq!(played(&out), expected);
        // Duplicates across the wrap are still recognised, held or played.
        let mut jb = JitterBuffer::new(JitterConfig::default());
        jb.push(u32::MAX, vec![], t0);
        jb.push(0, vec![], t0 + ms(10));
        assert_eq!(jb.poll(t0 + ms(20)).map(|p| p.seq()), Some(u32::MAX));
        assert_eq!(jb.push(u32::MAX, vec![], t0 + ms(21)), Push::Duplicate);
        assert_eq!(jb.push(0, vec![], t0 + ms(21)), Push::Duplicate);
    }

    #[test]
    fn the_target_grows_under_jitter_and_shrinks_when_calm() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig::default());
        // 1 s calm, then one packet 80 ms late, then 10 s calm.
        let mut arrivals = steady(0, 1100);
        arrivals[100].1 += ms(80);
        arrivals.sort_by_key(|&(_, at)| at);
        let mut targets = vec![Duration::ZERO; 1100];
        let mut pushes = vec![Push::Queued; 1100];
        for (seq, at) in arrivals {
            while let Some(due) = jb.poll_timeout().filter(|&d| d <= t0 + at) {
                while jb.poll(due).is_some() {}
            }
            pushes[seq as usize] = jb.push(seq, vec![], t0 + at);
            targets[seq as usize] = jb.target_delay();
        }
        assert_eq!(targets[99], ms(20), "a calm start stays at min_delay");
        // The late packet lost its slot but raised the target at once, to its lateness plus the
        // margin.
        assert_eq!(pushes[100], Push::Late);
        assert_eq!(targets[100], ms(85));
        // Held while the late packet is in the window (2 s), then lowered step by step.
        assert_eq!(targets[290], ms(85));
        assert!(
            targets[450] < ms(85) && targets[450] > ms(20),
            "{:?}",
            targets[450]
        );
        assert_eq!(targets[1099], ms(20));
        // (Seqs 101…107 arrived before 100, still at 20 ms.)
        assert!(targets.windows(2).skip(108).all(|w| w[1] <= w[0]));
        // The raise paused playout (no later packet was late); the lowering skipped slots
        // instead of keeping the buffer deep.
        let stats = jb.stats();
        assert_eq!(stats.late, 1, "{pushes:?}");
        assert_eq!(pushes.iter().filter(|p| **p == Push::Queued).count(), 1099);
        assert!(stats.dropped_to_catch_up >= 5, "{stats:?}");
    }

    #[test]
    fn after_one_late_arrival_later_ones_like_it_are_on_time() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig::default());
        // Every 20th packet 50 ms late: only the first of them misses its slot.
        let mut arrivals = steady(0, 200);
        for a in arrivals.iter_mut().skip(20).step_by(20) {
            a.1 += ms(50);
        }
        let (pushes, _) = drive(&mut jb, t0, &arrivals);
        let late: Vec<u32> = pushes
            .iter()
            .filter(|(_, p)| *p == Push::Late)
            .map(|(seq, _)| *seq)
            .collect();
        assert_eq!(late, [20]);
        assert_eq!(jb.stats().target_delay, ms(55));
    }

    #[test]
    fn a_long_silence_resets_and_the_next_packet_restarts_playout() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig::default());
        let mut arrivals = steady(0, 10);
        // Silence of 2 s, then the stream goes on at seq 500.
        arrivals.extend(
            steady(500, 10)
                .into_iter()
                .map(|(s, at)| (s, at + ms(2000))),
        );
        let (pushes, out) = drive(&mut jb, t0, &arrivals);
        assert!(pushes.iter().all(|(_, p)| *p == Push::Queued));
        // Concealment after the first burst stops after max_delay plus a few frames.
        let concealed_between = missing(&out).iter().filter(|&&s| s < 500).count();
        assert!(concealed_between <= 25, "{concealed_between}");
        // The second run starts 20 ms after seq 500 arrived.
        let (at, first) = out.iter().find(|(_, p)| p.seq() == 500).unwrap();
        assert_eq!(*at, ms(2020));
        assert!(matches!(first, Playout::Packet { .. }));
        assert_eq!(jb.stats().played, 20);
        assert_eq!(jb.stats().resets, 2);
    }

    #[test]
    fn a_jump_in_sequence_numbers_recovers_through_a_reset() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig::default());
        // The sender restarts with unrelated sequence numbers and no pause.
        let mut arrivals = steady(0, 10);
        arrivals.extend(
            steady(1_000_000_000, 100)
                .into_iter()
                .map(|(s, at)| (s, at + ms(100))),
        );
        let (pushes, out) = drive(&mut jb, t0, &arrivals);
        // The new stream's packets are refused until the old run gives up, then played.
        assert_eq!(pushes[10], (1_000_000_000, Push::TooFarAhead));
        assert_eq!(jb.stats().resets, 2);
        let played_new = played(&out).iter().filter(|&&s| s >= 1_000_000_000).count();
        assert!(played_new >= 60, "{played_new}");
    }

    #[test]
    fn slow_first_packets_are_caught_up() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(fixed(ms(20)));
        // The first five packets arrive together 50 ms late, then the stream runs on time.
        let arrivals: Vec<_> = steady(0, 50)
            .into_iter()
            .map(|(s, at)| (s, if s < 5 { ms(50) } else { at }))
            .collect();
        let (_, out) = drive(&mut jb, t0, &arrivals);
        let stats = jb.stats();
        assert!(stats.dropped_to_catch_up >= 3, "{stats:?}");
        // Afterwards the buffer is back near its target: seq 40 (arrived at 400 ms) waits at
        // most two frames more than 20 ms.
        let (at, _) = out.iter().find(|(_, p)| p.seq() == 40).unwrap();
        assert!(*at < ms(440), "{at:?}");
        // Skipped slots are not reported; nothing before the end of the stream was concealed.
        assert!(missing(&out).iter().all(|&s| s >= 50));
        assert_eq!(played(&out).last(), Some(&49));
    }

    #[test]
    fn a_fast_sender_clock_is_caught_up_and_a_slow_one_paused_for() {
        let t0 = Instant::now();
        for (period_us, expect_skips) in [(9_900u64, true), (10_100, false)] {
            let mut jb = JitterBuffer::new(JitterConfig::default());
            let arrivals: Vec<_> = (0..1000u32)
                .map(|i| (i, Duration::from_micros(period_us * u64::from(i))))
                .collect();
            let (pushes, out) = drive(&mut jb, t0, &arrivals);
            assert!(pushes.iter().all(|(_, p)| *p == Push::Queued));
            let stats = jb.stats();
            assert_eq!(stats.dropped_to_catch_up > 0, expect_skips, "{stats:?}");
            // Either way the delay stays bounded: the last packet plays soon after it came.
            let (at, _) = out.iter().find(|(_, p)| p.seq() == 999).unwrap();
            let waited = *at - arrivals[999].1;
            assert!(waited <= ms(50), "{period_us} µs: waited {waited:?}");
            assert!(missing(&out).iter().all(|&s| s >= 1000));
        }
    }

    #[test]
    fn config_out_of_range_is_brought_into_range() {
        let t0 = Instant::now();
        let mut jb = JitterBuffer::new(JitterConfig {
            frame: Duration::ZERO,
            min_delay: ms(50),
            max_delay: ms(10),
            max_packets: 0,
        });
        assert!(jb.config().frame > Duration::ZERO);
        assert_eq!(jb.config().max_packets, 1);
        assert_eq!(jb.push(0, vec![], t0), Push::Queued);
        assert_eq!(jb.push(1, vec![], t0), Push::TooFarAhead);
        let due = jb.poll_timeout().unwrap();
        assert!(jb.poll(due).is_some());
        assert_eq!(jb.poll(due), None);
        // A target max_packets cannot hold is not aimed for.
        let jb = JitterBuffer::new(JitterConfig {
            max_packets: 10,
            min_delay: ms(500),
            max_delay: ms(500),
            ..JitterConfig::default()
        });
        assert!(jb.target_delay() <= ms(70));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;
        use std::collections::HashMap;

        /// The test's view of a run: what it pushed, what came out, checked as it goes.
        struct Observer<'a> {
            /// (seq, arrival µs) by payload id.
            arrivals: &'a [(u32, u64)],
            queued_ids: Vec<usize>,
            played_ids: Vec<usize>,
            /// Queued packets not yet played, by seq.
            pending: HashMap<u32, usize>,
            /// Queued packets that playout moved past without playing.
            skipped: u64,
            /// Seq, skip count and reset count before the poll of the last playout.
            last: Option<(u32, u64, u64)>,
            resets: u64,
        }

        impl Observer<'_> {
            /// A run only ends with nothing held: what the test still holds was skipped.
            fn sync_resets(&mut self, stats: JitterStats) {
                if stats.resets != self.resets {
                    self.resets = stats.resets;
                    self.skipped += self.pending.len() as u64;
                    self.pending.clear();
                }
            }

            fn pushed(&mut self, id: usize, push: Push, stats: JitterStats) {
                self.sync_resets(stats);
                if push == Push::Queued {
                    self.queued_ids.push(id);
                    let seq = self.arrivals[id].0;
                    assert_eq!(
                        self.pending.insert(seq, id),
                        None,
                        "two packets in one slot"
                    );
                }
            }

            fn played(&mut self, p: Playout, stats: JitterStats) {
                self.sync_resets(stats);
                let seq = p.seq();
                if let Some((prev, dropped, resets)) = self.last {
                    if resets == stats.resets {
                        let gap = seq.wrapping_sub(prev).wrapping_sub(1);
                        assert_eq!(
                            u64::from(gap),
                            stats.dropped_to_catch_up - dropped,
                            "playout went from {prev} to {seq} without catching up"
                        );
                    }
                }
                self.last = Some((seq, stats.dropped_to_catch_up, stats.resets));
                // Held packets behind this slot were skipped.
                let before = self.pending.len();
                self.pending.retain(|&k, _| distance(seq, k) >= 0);
                self.skipped += (before - self.pending.len()) as u64;
                match p {
                    Playout::Packet { seq, payload } => {
                        let id = usize::from_le_bytes(payload.try_into().unwrap());
                        assert_eq!(self.arrivals[id].0, seq, "payload played under another seq");
                        assert!(!self.played_ids.contains(&id), "payload {id} played twice");
                        assert_eq!(self.pending.remove(&seq), Some(id));
                        self.played_ids.push(id);
                    }
                    Playout::Missing { seq } => {
                        assert!(
                            !self.pending.contains_key(&seq),
                            "held packet {seq} concealed"
                        );
                    }
                }
            }

            fn after_step(&mut self, jb: &JitterBuffer) {
                self.sync_resets(jb.stats());
                assert!(jb.queued_packets() <= jb.config().max_packets);
                assert!(jb.queued_packets() <= self.pending.len());
            }
        }

        /// Runs `arrivals` (seq, arrival µs), each with its index as payload, like an event
        /// loop (slots due at an arrival's time play first), until the buffer goes idle.
        fn run(config: JitterConfig, arrivals: &[(u32, u64)]) -> (Observer<'_>, JitterStats) {
            let t0 = Instant::now();
            let mut jb = JitterBuffer::new(config);
            let mut order: Vec<usize> = (0..arrivals.len()).collect();
            order.sort_by_key(|&i| arrivals[i].1);
            let mut order = order.into_iter().peekable();
            let mut seen = Observer {
                arrivals,
                queued_ids: Vec::new(),
                played_ids: Vec::new(),
                pending: HashMap::new(),
                skipped: 0,
                last: None,
                resets: 0,
            };
            let at = |id: usize| t0 + Duration::from_micros(arrivals[id].1);
            for _ in 0..1_000_000 {
                let next = order.peek().map(|&id| at(id));
                match jb.poll_timeout() {
                    Some(due) if next.is_none_or(|next| due <= next) => {
                        // Skips made while playing a slot come after it: count them from
                        // the stats before each poll.
                        let mut before = jb.stats();
                        while let Some(p) = jb.poll(due) {
                            seen.played(p, before);
                            before = jb.stats();
                        }
                    }
                    _ => match order.next() {
                        Some(id) => {
                            let push = jb.push(arrivals[id].0, id.to_le_bytes().to_vec(), at(id));
                            seen.pushed(id, push, jb.stats());
                        }
                        None => break,
                    },
                }
                seen.after_step(&jb);
            }
            assert_eq!(jb.poll_timeout(), None, "playout never went idle");
            assert!(seen.pending.is_empty());
            (seen, jb.stats())
        }

        fn config() -> impl Strategy<Value = JitterConfig> {
            (
                prop_oneof![Just(5u64), Just(10)],
                0u64..60,
                0u64..250,
                1usize..80,
            )
                .prop_map(|(frame, min, extra, max_packets)| JitterConfig {
                    frame: ms(frame),
                    min_delay: ms(min),
                    max_delay: ms(min + extra),
                    max_packets,
                })
        }

        /// Any schedule: sequence numbers near a random base (so some wrap), any arrival
        /// times, duplicates and all.
        fn schedule() -> impl Strategy<Value = Vec<(u32, u64)>> {
            (
                prop_oneof![any::<u32>(), Just(u32::MAX - 100)],
                prop::collection::vec((0u32..300, 0u64..4_000_000), 0..300),
            )
                .prop_map(|(base, v)| {
                    v.into_iter()
                        .map(|(s, at)| (base.wrapping_add(s), at))
                        .collect()
                })
        }

        proptest! {
            #[test]
            fn any_schedule_keeps_the_promises(config in config(), arrivals in schedule()) {
                let (seen, stats) = run(config, &arrivals);
                // Every queued packet was played or skipped to catch up, nothing else played,
                // and playout only jumped where it caught up (checked as it ran).
                prop_assert_eq!(seen.played_ids.len() as u64, stats.played);
                prop_assert_eq!(
                    seen.queued_ids.len() as u64,
                    stats.played + seen.skipped
                );
                prop_assert!(seen.skipped <= stats.dropped_to_catch_up);
                prop_assert!(stats.target_delay <= config.max_delay.max(config.min_delay));
            }

            /// A sender at one packet per 10 ms with under 15 ms of jitter and a fixed target
            /// above that: every packet arrives before its slot, so every one is played.
            #[test]
            fn with_a_fixed_target_every_packet_before_its_slot_plays(
                base in prop_oneof![any::<u32>(), Just(u32::MAX - 50)],
                jitter in prop::collection::vec(0u64..15_000, 1..400),
                delay in 40u64..100,
            ) {
                let arrivals: Vec<(u32, u64)> = jitter
                    .iter()
                    .enumerate()
                    .map(|(i, j)| (base.wrapping_add(i as u32), i as u64 * 10_000 + j))
                    .collect();
                let (seen, stats) = run(fixed(ms(delay)), &arrivals);
                let mut played = seen.played_ids.clone();
                played.sort_unstable();
                prop_assert_eq!(played, (0..arrivals.len()).collect::<Vec<_>>());
                prop_assert_eq!(stats.late, 0);
                prop_assert_eq!(stats.dropped_to_catch_up, 0);
            }
        }
    }
}
