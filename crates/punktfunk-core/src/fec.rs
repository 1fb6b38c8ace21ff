//! FEC parameters and the split of a frame into blocks of equal-size shards.
//!
//! The code itself is GF(2^16) Reed–Solomon from `reed-solomon-simd`; this module only decides
//! geometry. Every packet carries its block's `k` and `m`, so any of these parameters may change
//! from one frame to the next without a message.

use reed_solomon_simd::ReedSolomonEncoder;

use crate::wire::media::MAX_SHARD_BYTES;

/// While FEC is on, every block gets at least this many recovery shards.
pub const MIN_RECOVERY_SHARDS: u16 = 2;
/// Highest FEC percentage accepted (recovery shards may equal data shards).
pub const MAX_FEC_PERCENT: u8 = 100;
/// Default cap on data shards per block (~360 KB at 1408-byte shards). Measured trade-off
/// (`docs/performance.md`): encoding costs about `log2(m)` per byte, so smaller blocks encode
/// faster, and every damaged block pays the decoder's fixed ~150 µs, so fewer blocks decode
/// cheaper; 256 keeps 1 MiB frames at three blocks and the send path above 2 GB/s.
pub const DEFAULT_MAX_DATA_SHARDS: u16 = 256;
/// Hard cap on data shards per block: `reed-solomon-simd` takes up to 32768 originals.
pub const MAX_DATA_SHARDS: u16 = 32768;

/// Per-frame FEC and sharding parameters chosen by the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FecParams {
    /// Recovery shards per block as a percentage of its data shards; 0 turns FEC off.
    pub percent: u8,
    /// Bytes per shard; even, at most [`MAX_SHARD_BYTES`].
    pub shard_bytes: usize,
    /// Largest number of data shards in one block.
    pub max_data_shards: u16,
}

impl Default for FecParams {
    fn default() -> Self {
        Self {
            percent: 10,
            shard_bytes: crate::wire::media::DEFAULT_SHARD_BYTES,
            max_data_shards: DEFAULT_MAX_DATA_SHARDS,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FecError {
    #[error("shard size {0} must be even and between 2 and {max}", max = MAX_SHARD_BYTES)]
    ShardSize(usize),
    #[error("FEC percent {0} is above {max}", max = MAX_FEC_PERCENT)]
    Percent(u8),
    #[error("max data shards {0} must be between 1 and {max}", max = MAX_DATA_SHARDS)]
    MaxDataShards(u16),
    #[error("an empty frame has nothing to send")]
    EmptyFrame,
    #[error("a frame of {0} bytes needs more than 65535 blocks at these parameters")]
    FrameTooLarge(usize),
    #[error("the GF(2^16) code does not support {k} data + {m} recovery shards")]
    Unsupported { k: u16, m: u16 },
}

impl FecParams {
    pub fn validate(&self) -> Result<(), FecError> {
        if self.shard_bytes < 2
            || !self.shard_bytes.is_multiple_of(2)
            || self.shard_bytes > MAX_SHARD_BYTES
        {
            return Err(FecError::ShardSize(self.shard_bytes));
        }
        if self.percent > MAX_FEC_PERCENT {
            return Err(FecError::Percent(self.percent));
        }
        if self.max_data_shards == 0 || self.max_data_shards > MAX_DATA_SHARDS {
            return Err(FecError::MaxDataShards(self.max_data_shards));
        }
        Ok(())
    }
}

/// Band the adaptive FEC moves in, percent.
pub const ADAPTIVE_MIN_PERCENT: u8 = 5;
pub const ADAPTIVE_MAX_PERCENT: u8 = 50;

/// A block may fail to recover at most this often (probability per block).
const TARGET_BLOCK_FAILURE: f64 = 1e-3;

/// Recovery shards that keep a block of `k` data shards recoverable under independent packet
/// loss `loss_ppm`: the smallest `m` ≤ `max_m` with P(more than `m` of `k + m` packets lost)
/// ≤ 10^-3 (`max_m` when even that is not enough; 0 without loss).
pub fn recovery_for_loss(k: u32, loss_ppm: u32, max_m: u32) -> u32 {
    let p = f64::from(loss_ppm.min(999_999)) / 1e6;
    if p <= 0.0 {
        return 0;
    }
    let k = k.max(1);
    (0..=max_m)
        .find(|&m| binomial_tail_above(k + m, m, p) <= TARGET_BLOCK_FAILURE)
        .unwrap_or(max_m)
}

/// The FEC percentage that keeps a block of `k` data shards recoverable under independent packet
/// loss `loss_ppm` ([`recovery_for_loss`]), as a percentage of `k`, within 5–50 %.
pub fn percent_for_loss(loss_ppm: u32, k: u16) -> u8 {
    let k = u32::from(k.max(1));
    if loss_ppm == 0 {
        return ADAPTIVE_MIN_PERCENT;
    }
    let max_m = k * u32::from(ADAPTIVE_MAX_PERCENT) / 100 + 1;
    let m = recovery_for_loss(k, loss_ppm, max_m);
    ((m * 100).div_ceil(k)).clamp(
        u32::from(ADAPTIVE_MIN_PERCENT),
        u32::from(ADAPTIVE_MAX_PERCENT),
    ) as u8
}

/// P(X > m) for X ~ Binomial(n, p).
fn binomial_tail_above(n: u32, m: u32, p: f64) -> f64 {
    // Sum the pmf from 0 to m and take the complement; the pmf is built term by term.
    let q = 1.0 - p;
    let mut pmf = q.powi(n as i32);
    let mut cdf = pmf;
    for i in 0..m.min(n) {
        pmf *= f64::from(n - i) / f64::from(i + 1) * p / q;
        cdf += pmf;
    }
    (1.0 - cdf).max(0.0)
}

/// Adaptive FEC: the next percentage after a loss report, for blocks of about `k` data shards.
/// Rises at once to what the loss needs, falls by at most one point a report.
pub fn adapt_percent(current: u8, loss_ppm: u32, k: u16) -> u8 {
    let target = percent_for_loss(loss_ppm, k);
    if target >= current {
        target
    } else {
        current.saturating_sub(1).max(target)
    }
}

/// Recovery shards for a block of `k` data shards: `ceil(k * pct / 100)`, at least
/// [`MIN_RECOVERY_SHARDS`] while FEC is on.
pub fn recovery_shards(k: u16, percent: u8) -> u16 {
    if percent == 0 {
        return 0;
    }
    let m = (u32::from(k) * u32::from(percent)).div_ceil(100);
    (m as u16).max(MIN_RECOVERY_SHARDS)
}

/// Whether the GF(2^16) code can protect `k` data shards with `m` recovery shards.
pub fn supports(k: u16, m: u16) -> bool {
    m == 0 || ReedSolomonEncoder::supports(usize::from(k), usize::from(m))
}

/// One FEC block of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockPlan {
    pub index: u16,
    /// Frame-wide index of the block's first data shard.
    pub base: u32,
    pub data_shards: u16,
    pub recovery_shards: u16,
}

/// How a frame of `len` bytes is cut: equal-size shards, the last zero-padded, spread over as few
/// blocks as `max_data_shards` allows, the blocks' sizes differing by at most one shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramePlan {
    pub shard_bytes: usize,
    pub total_data_shards: u32,
    pub blocks: u16,
    pub padding: u16,
    percent: u8,
}

impl FramePlan {
    pub fn new(len: usize, params: &FecParams) -> Result<Self, FecError> {
        params.validate()?;
        if len == 0 {
            return Err(FecError::EmptyFrame);
        }
        let total = len.div_ceil(params.shard_bytes);
        let blocks = total.div_ceil(usize::from(params.max_data_shards));
        if blocks > usize::from(u16::MAX) || total > u32::MAX as usize {
            return Err(FecError::FrameTooLarge(len));
        }
        let plan = Self {
            shard_bytes: params.shard_bytes,
            total_data_shards: total as u32,
            blocks: blocks as u16,
            padding: (total * params.shard_bytes - len) as u16,
            percent: params.percent,
        };
        for b in plan.iter() {
            if !supports(b.data_shards, b.recovery_shards) {
                return Err(FecError::Unsupported {
                    k: b.data_shards,
                    m: b.recovery_shards,
                });
            }
        }
        Ok(plan)
    }

    /// The blocks in order.
    pub fn iter(&self) -> impl Iterator<Item = BlockPlan> + '_ {
        let blocks = u32::from(self.blocks);
        let small = self.total_data_shards / blocks;
        let bigger = self.total_data_shards % blocks;
        (0..blocks).map(move |i| {
            let k = small + u32::from(i < bigger);
            let base = i * small + i.min(bigger);
            BlockPlan {
                index: i as u16,
                base,
                data_shards: k as u16,
                recovery_shards: recovery_shards(k as u16, self.percent),
            }
        })
    }

    /// Packets the frame takes on the wire, recovery included.
    pub fn packet_count(&self) -> usize {
        self.iter()
            .map(|b| usize::from(b.data_shards) + usize::from(b.recovery_shards))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_count_follows_the_formula_with_a_floor() {
        assert_eq!(recovery_shards(10, 0), 0);
        assert_eq!(recovery_shards(10, 10), 2);
        assert_eq!(recovery_shards(72, 20), 15);
        assert_eq!(recovery_shards(100, 5), 5);
        assert_eq!(recovery_shards(101, 5), 6);
        assert_eq!(recovery_shards(1, 50), 2);
    }

    #[test]
    fn adaptive_fec_covers_the_binomial_tail_rises_at_once_and_falls_slowly() {
        assert_eq!(percent_for_loss(0, 50), ADAPTIVE_MIN_PERCENT);
        // 10 % loss on 45-shard blocks: 12 recovery shards keep failures under 1e-3.
        let p = percent_for_loss(100_000, 45);
        let m = (u32::from(p) * 45).div_ceil(100);
        assert!(binomial_tail_above(45 + m, m, 0.1) <= 1e-3, "{p}%");
        assert!(
            binomial_tail_above(45 + m - 2, m - 2, 0.1) > 1e-3,
            "{p}% is not minimal"
        );
        assert_eq!(percent_for_loss(400_000, 45), ADAPTIVE_MAX_PERCENT);
        assert_eq!(adapt_percent(10, 0, 45), 9);
        assert_eq!(adapt_percent(5, 0, 45), 5);
        assert_eq!(adapt_percent(10, 100_000, 45), p);
        assert_eq!(adapt_percent(50, 0, 45), 49);
    }

    #[test]
    fn binomial_tail_matches_a_hand_computed_case() {
        // n = 3, p = 0.5: P(X > 1) = P(2) + P(3) = 3/8 + 1/8.
        assert!((binomial_tail_above(3, 1, 0.5) - 0.5).abs() < 1e-12);
        assert!(binomial_tail_above(10, 10, 0.3).abs() < 1e-12);
    }

    #[test]
    fn blocks_tile_the_frame_and_differ_by_at_most_one() {
        let params = FecParams {
            percent: 20,
            shard_bytes: 100,
            max_data_shards: 7,
        };
        let plan = FramePlan::new(2_050, &params).unwrap();
        assert_eq!(plan.total_data_shards, 21);
        assert_eq!(plan.blocks, 3);
        assert_eq!(plan.padding, 50);
        let blocks: Vec<_> = plan.iter().collect();
        let mut next = 0;
        for b in &blocks {
            assert_eq!(b.base, next);
            next += u32::from(b.data_shards);
            assert!(b.data_shards <= 7);
        }
        assert_eq!(next, 21);
        let plan = FramePlan::new(
            1_401,
            &FecParams {
                max_data_shards: 4,
                ..params
            },
        )
        .unwrap();
        let ks: Vec<_> = plan.iter().map(|b| b.data_shards).collect();
        assert_eq!(ks, vec![4, 4, 4, 3]);
    }

    #[test]
    fn bad_parameters_are_named() {
        let ok = FecParams::default();
        assert_eq!(
            FramePlan::new(
                10,
                &FecParams {
                    shard_bytes: 101,
                    ..ok
                }
            ),
            Err(FecError::ShardSize(101))
        );
        assert_eq!(
            FramePlan::new(10, &FecParams { percent: 101, ..ok }),
            Err(FecError::Percent(101))
        );
        assert_eq!(
            FramePlan::new(
                10,
                &FecParams {
                    max_data_shards: 0,
                    ..ok
                }
            ),
            Err(FecError::MaxDataShards(0))
        );
    }
}
