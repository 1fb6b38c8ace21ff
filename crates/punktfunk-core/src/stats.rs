//! Receive-side counters.

/// What the receiver saw. All counts are cumulative since the receiver was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MediaCounters {
    /// Packets that authenticated and were handed to reassembly.
    pub received: u64,
    /// Packet numbers spanned from the first to the largest authenticated one: what the sender
    /// sent in that time, so `1 - received / expected` is the packet loss.
    pub expected: u64,
    /// Data shards rebuilt from recovery shards.
    pub recovered: u64,
    /// Frames delivered whole.
    pub frames: u64,
    /// Frames reported lost (too many shards missing, timed out, or skipped over).
    pub lost: u64,
    /// Packets for a frame delivered without them (recovery shards it did not need).
    pub surplus: u64,
    /// Packets for a frame already given up, or older than the replay window.
    pub late: u64,
    /// Packets whose packet number was already accepted.
    pub replayed: u64,
    /// Packets that failed authentication.
    pub bad_tag: u64,
    /// Packets that break the format or the receiver's bounds.
    pub malformed: u64,
    /// Packets dropped because the in-flight memory budget was spent.
    pub over_budget: u64,
}
