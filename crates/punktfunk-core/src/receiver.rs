//! The receiving half of the media data plane: bounds → replay window → open → reassemble.

use std::time::Instant;

use crate::crypto::{key_index, MediaSecret, Opener};
use crate::header::{parse_clear_prefix, parse_shard_header};
use crate::reassembly::{Event, Reassembler, ReassemblyLimits, Rejection};
use crate::replay::{reconstruct_packet_number, ReplayCheck, ReplayWindow};
use crate::stats::MediaCounters;
use crate::wire::media::{AEAD_TAG_LEN, CLEAR_PREFIX_LEN, HEADER_LEN};

/// What became of one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    /// Authentic, but its frame was already delivered without it.
    Surplus,
    Late,
    Replayed,
    BadTag,
    Malformed,
    OverBudget,
}

/// Receiver of one media direction. Feed it datagrams and time; poll it for frames and losses.
pub struct MediaReceiver {
    opener: Opener,
    window: ReplayWindow,
    reassembler: Reassembler,
    counters: MediaCounters,
    /// First packet number authenticated: with the window's largest, the span the sender sent.
    first_packet_number: Option<u64>,
    /// The media stream taken (`wire::media::stream`); others are malformed here.
    stream: u8,
}

impl MediaReceiver {
    /// The receiver of the video stream.
    pub fn new(secret: &MediaSecret, limits: ReassemblyLimits) -> Self {
        Self::for_stream(secret, crate::wire::media::stream::VIDEO, limits)
    }

    /// The receiver of one media stream, keyed as [`crate::MediaSender::for_stream`] seals it.
    pub fn for_stream(secret: &MediaSecret, stream: u8, limits: ReassemblyLimits) -> Self {
        Self {
            stream,
            opener: Opener::new(&secret.for_stream(stream)),
            window: ReplayWindow::new(ReplayWindow::DEFAULT_SIZE),
            reassembler: Reassembler::new(limits),
            counters: MediaCounters::default(),
            first_packet_number: None,
        }
    }

    /// Takes one datagram. It is decrypted in place, so the buffer is scratch afterwards.
    pub fn handle_datagram(&mut self, datagram: &mut [u8], now: Instant) -> Outcome {
        let outcome = self.process(datagram, now);
        let c = &mut self.counters;
        match outcome {
            Outcome::Accepted => {}
            Outcome::Surplus => c.surplus += 1,
            Outcome::Late => c.late += 1,
            Outcome::Replayed => c.replayed += 1,
            Outcome::BadTag => c.bad_tag += 1,
            Outcome::Malformed => c.malformed += 1,
            Outcome::OverBudget => c.over_budget += 1,
        }
        outcome
    }

    fn process(&mut self, datagram: &mut [u8], now: Instant) -> Outcome {
        let prefix = match parse_clear_prefix(datagram) {
            Ok(p) if p.stream == self.stream => p,
            _ => return Outcome::Malformed,
        };
        let largest = self.window.largest();
        let pn = reconstruct_packet_number(largest, prefix.packet_number_low);
        match self.window.check(pn) {
            ReplayCheck::Fresh => {}
            ReplayCheck::Replayed => return Outcome::Replayed,
            ReplayCheck::TooOld => return Outcome::Late,
        }
        // Never derive keys for a packet claiming to be more than one key index ahead.
        if let Some(l) = largest {
            if key_index(pn) > key_index(l) + 1 {
                return Outcome::BadTag;
            }
        }
        let (clear, sealed) = datagram.split_at_mut(CLEAR_PREFIX_LEN);
        let Ok(plain_len) = self.opener.open(pn, clear, sealed) else {
            return Outcome::BadTag;
        };
        debug_assert_eq!(plain_len + AEAD_TAG_LEN, sealed.len());
        self.window.accept(pn);
        self.counters.received += 1;
        self.first_packet_number = Some(self.first_packet_number.map_or(pn, |f| f.min(pn)));
        let packet = &datagram[..CLEAR_PREFIX_LEN + plain_len];
        let Ok(header) = parse_shard_header(packet) else {
            return Outcome::Malformed;
        };
        match self.reassembler.push(&header, &packet[HEADER_LEN..], now) {
            Ok(()) => Outcome::Accepted,
            Err(Rejection::Surplus) => Outcome::Surplus,
            Err(Rejection::Late) => Outcome::Late,
            Err(Rejection::Malformed) => Outcome::Malformed,
            Err(Rejection::OverBudget) => Outcome::OverBudget,
        }
    }

    /// Hands a delivered frame's buffer back for reuse (optional; saves an allocation and the
    /// page faults of a fresh buffer per frame).
    pub fn recycle(&mut self, buffer: Vec<u8>) {
        self.reassembler.recycle(buffer);
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.reassembler.poll_event()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.reassembler.poll_timeout()
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.reassembler.handle_timeout(now);
    }

    pub fn in_flight_bytes(&self) -> usize {
        self.reassembler.in_flight_bytes()
    }

    pub fn limits(&self) -> &ReassemblyLimits {
        self.reassembler.limits()
    }

    /// Packet-level counters joined with the reassembler's frame-level ones.
    pub fn counters(&self) -> MediaCounters {
        let r = self.reassembler.counters();
        let expected = match (self.first_packet_number, self.window.largest()) {
            (Some(first), Some(largest)) => largest - first + 1,
            _ => 0,
        };
        MediaCounters {
            expected,
            recovered: r.recovered,
            frames: r.frames,
            lost: r.lost,
            ..self.counters
        }
    }
}
