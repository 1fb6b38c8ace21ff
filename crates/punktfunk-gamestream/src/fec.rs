//! Reed–Solomon erasure code over GF(2^8), byte-compatible with nanors, the library
//! moonlight-common-c recovers lost video shards with.
//!
//! The code is systematic: data shards go out unchanged and parity shard `j` is
//! `Σ_i P[j][i] · data_i` with the Cauchy matrix `P[j][i] = 1 / ((p + i) XOR j)`, `p` being the
//! parity count. The field uses the polynomial 0x11D. The matrix depends on `p`, so sender and
//! client must agree on the parity count of every block (the video packetizer sees to that).
//! Any other matrix (e.g. the Vandermonde one of `reed-solomon-erasure`) gives parity the client
//! cannot use.
//!
//! Encoding is a matrix product over bytes: per coefficient, a 16-entry table for each nibble
//! (the `pshufb` technique), with an AVX2 kernel where the CPU has it and a table loop elsewhere.

use crate::wire::video::{GF_POLYNOMIAL, RS_MAX_SHARDS};

/// Why a Reed–Solomon operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FecError {
    #[error("unsupported shard counts: {data} data + {parity} parity (need at least 1 data shard and at most 255 in all)")]
    ShardCounts { data: usize, parity: usize },
    #[error("expected {expected} shards, got {got}")]
    WrongShardCount { expected: usize, got: usize },
    #[error("shards differ in length")]
    UnequalLengths,
    #[error("{present} shards present, at least {needed} needed")]
    TooFewShards { present: usize, needed: usize },
    #[error("a parity matrix needs data × parity entries")]
    MatrixShape,
    #[error("the shards present do not determine the data (singular matrix)")]
    Singular,
}

// --- GF(2^8) ------------------------------------------------------------------------------------

/// Powers of the generator 2 (twice over, so a sum of two logs indexes without a modulo) and
/// their logarithms.
struct LogTables {
    exp: [u8; 510],
    log: [u8; 256],
}

const fn log_tables() -> LogTables {
    let mut exp = [0u8; 510];
    let mut log = [0u8; 256];
    let mut x: u16 = 1;
    let mut i = 0;
    while i < 255 {
        exp[i] = x as u8;
        exp[i + 255] = x as u8;
        log[x as usize] = i as u8;
        x <<= 1;
        if x & 0x100 != 0 {
            x ^= GF_POLYNOMIAL;
        }
        i += 1;
    }
    LogTables { exp, log }
}

static LOG_TABLES: LogTables = log_tables();

/// Product in GF(2^8) with polynomial 0x11D.
pub fn gf_mul(a: u8, b: u8) -> u8 {
    if a == 0 || b == 0 {
        return 0;
    }
    let t = &LOG_TABLES;
    t.exp[usize::from(t.log[usize::from(a)]) + usize::from(t.log[usize::from(b)])]
}

/// Multiplicative inverse in GF(2^8); `None` for 0.
pub fn gf_inv(a: u8) -> Option<u8> {
    (a != 0).then(|| LOG_TABLES.exp[255 - usize::from(LOG_TABLES.log[usize::from(a)])])
}

/// Full product table: `MUL[c][x] = c · x`, for the byte-at-a-time path.
static MUL: [[u8; 256]; 256] = mul_table();

const fn mul_table() -> [[u8; 256]; 256] {
    let t = log_tables();
    let mut m = [[0u8; 256]; 256];
    let mut a = 1;
    while a < 256 {
        let mut b = 1;
        while b < 256 {
            m[a][b] = t.exp[t.log[a] as usize + t.log[b] as usize];
            b += 1;
        }
        a += 1;
    }
    m
}

/// Per coefficient `c`, its two nibble tables: `c · n` for the 16 low nibbles `n`, then
/// `c · (n << 4)` for the high ones.
static NIBBLES: [[u8; 32]; 256] = nibble_table();

const fn nibble_table() -> [[u8; 32]; 256] {
    let m = mul_table();
    let mut t = [[0u8; 32]; 256];
    let mut c = 0;
    while c < 256 {
        let mut n = 0;
        while n < 16 {
            t[c][n] = m[c][n];
            t[c][16 + n] = m[c][n << 4];
            n += 1;
        }
        c += 1;
    }
    t
}

// --- coefficient matrices applied to shards ---------------------------------------------------------

/// How many output rows one pass computes: each input chunk is loaded once per pass.
const ROWS_PER_PASS: usize = 8;

/// Which byte-multiplication kernel this CPU runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kernel {
    Table,
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

impl Kernel {
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            return Kernel::Avx2;
        }
        Kernel::Table
    }
}

/// Up to [`ROWS_PER_PASS`] rows of a coefficient matrix, prepared for the kernels.
#[derive(Debug, Clone)]
struct RowGroup {
    first_row: usize,
    rows: usize,
    /// Nibble tables, column-major inside the group: entry `col * rows + r`.
    tables: Vec<[u8; 32]>,
}

/// A `rows × cols` GF(2^8) matrix that maps `cols` input shards to `rows` output shards.
#[derive(Debug, Clone)]
struct CoefMatrix {
    rows: usize,
    cols: usize,
    /// Row-major coefficients.
    coefs: Vec<u8>,
    groups: Vec<RowGroup>,
    kernel: Kernel,
}

impl CoefMatrix {
    fn new(rows: usize, cols: usize, coefs: Vec<u8>, kernel: Kernel) -> Self {
        debug_assert_eq!(coefs.len(), rows * cols);
        let groups = (0..rows)
            .step_by(ROWS_PER_PASS)
            .map(|first_row| {
                let n = ROWS_PER_PASS.min(rows - first_row);
                let tables = (0..cols)
                    .flat_map(|col| (0..n).map(move |r| (first_row + r) * cols + col))
                    .map(|at| NIBBLES[usize::from(coefs[at])])
                    .collect();
                RowGroup {
                    first_row,
                    rows: n,
                    tables,
                }
            })
            .collect();
        Self {
            rows,
            cols,
            coefs,
            groups,
            kernel,
        }
    }

    fn coef(&self, row: usize, col: usize) -> u8 {
        self.coefs[row * self.cols + col]
    }

    /// `outs[r] = Σ_c coef(r, c) · ins[c]`. The caller has checked the counts and that every
    /// slice has the same length.
    fn apply(&self, ins: &[&[u8]], outs: &mut [&mut [u8]]) {
        debug_assert_eq!(ins.len(), self.cols);
        debug_assert_eq!(outs.len(), self.rows);
        let len = outs.first().map_or(0, |o| o.len());
        debug_assert!(ins.iter().all(|s| s.len() == len));
        debug_assert!(outs.iter().all(|s| s.len() == len));
        let done = match self.kernel {
            Kernel::Table => 0,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => self.apply_avx2(ins, outs, len),
        };
        self.apply_table(ins, outs, done);
    }

    /// The byte-at-a-time path for the bytes from `start` on.
    fn apply_table(&self, ins: &[&[u8]], outs: &mut [&mut [u8]], start: usize) {
        for (r, out) in outs.iter_mut().enumerate() {
            let out = &mut out[start..];
            out.fill(0);
            for (c, input) in ins.iter().enumerate() {
                let coef = self.coef(r, c);
                let row = &MUL[usize::from(coef)];
                let input = &input[start..];
                match coef {
                    0 => {}
                    1 => out.iter_mut().zip(input).for_each(|(o, i)| *o ^= *i),
                    _ => out
                        .iter_mut()
                        .zip(input)
                        .for_each(|(o, i)| *o ^= row[usize::from(*i)]),
                }
            }
        }
    }

    /// Runs the AVX2 kernel over the whole 32-byte chunks; returns how many bytes it did.
    #[cfg(target_arch = "x86_64")]
    fn apply_avx2(&self, ins: &[&[u8]], outs: &mut [&mut [u8]], len: usize) -> usize {
        let chunks = len / avx2::CHUNK;
        if chunks == 0 {
            return 0;
        }
        // The kernel's memory safety rests on these; cheap next to the work.
        assert!(ins.len() == self.cols && outs.len() == self.rows);
        assert!(ins.iter().all(|s| s.len() >= len) && outs.iter().all(|s| s.len() >= len));
        let srcs: Vec<*const u8> = ins.iter().map(|s| s.as_ptr()).collect();
        for g in &self.groups {
            let mut dst = [std::ptr::null_mut(); ROWS_PER_PASS];
            for (d, out) in dst
                .iter_mut()
                .zip(&mut outs[g.first_row..g.first_row + g.rows])
            {
                *d = out.as_mut_ptr();
            }
            // SAFETY: this kernel is chosen only when the CPU reported AVX2; every input and
            // output slice is at least `len` bytes long (asserted above) and the kernel touches
            // only the first `chunks * CHUNK <= len` bytes of each; the outputs are distinct
            // `&mut` slices, so they neither alias each other nor the inputs; the group holds
            // `rows * srcs.len()` tables.
            unsafe {
                match g.rows {
                    1 => avx2::dot::<1>(&g.tables, &srcs, first(dst), chunks),
                    2 => avx2::dot::<2>(&g.tables, &srcs, first(dst), chunks),
                    3 => avx2::dot::<3>(&g.tables, &srcs, first(dst), chunks),
                    4 => avx2::dot::<4>(&g.tables, &srcs, first(dst), chunks),
                    5 => avx2::dot::<5>(&g.tables, &srcs, first(dst), chunks),
                    6 => avx2::dot::<6>(&g.tables, &srcs, first(dst), chunks),
                    7 => avx2::dot::<7>(&g.tables, &srcs, first(dst), chunks),
                    _ => avx2::dot::<8>(&g.tables, &srcs, dst, chunks),
                }
            }
        }
        chunks * avx2::CHUNK
    }
}

/// The first `N` entries of `a`.
#[cfg(target_arch = "x86_64")]
fn first<const N: usize>(a: [*mut u8; ROWS_PER_PASS]) -> [*mut u8; N] {
    std::array::from_fn(|k| a[k])
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// Bytes per step of the kernel.
    pub(super) const CHUNK: usize = 32;

    /// For `chunks` 32-byte chunks: `outs[r] = Σ_c tables[c * R + r] ⊗ srcs[c]`, where each table
    /// holds the products of one coefficient with every low and every high nibble.
    ///
    /// # Safety
    /// The CPU supports AVX2; `tables.len() == R * srcs.len()`; every pointer in `srcs` is valid
    /// for reads and every pointer in `outs` for writes of `chunks * CHUNK` bytes; the outputs
    /// overlap neither each other nor the inputs.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn dot<const R: usize>(
        tables: &[[u8; 32]],
        srcs: &[*const u8],
        outs: [*mut u8; R],
        chunks: usize,
    ) {
        debug_assert_eq!(tables.len(), R * srcs.len());
        let low_nibbles = _mm256_set1_epi8(0x0f);
        for chunk in 0..chunks {
            let at = chunk * CHUNK;
            let mut acc = [_mm256_setzero_si256(); R];
            for (&src, coefs) in srcs.iter().zip(tables.chunks_exact(R)) {
                // SAFETY: `at + CHUNK <= chunks * CHUNK`, within the readable length.
                let v = unsafe { _mm256_loadu_si256(src.add(at).cast()) };
                let lo = _mm256_and_si256(v, low_nibbles);
                let hi = _mm256_and_si256(_mm256_srli_epi64::<4>(v), low_nibbles);
                for (a, t) in acc.iter_mut().zip(coefs) {
                    // SAFETY: each table is 32 bytes: two 16-byte halves.
                    let (tl, th) = unsafe {
                        (
                            _mm_loadu_si128(t.as_ptr().cast()),
                            _mm_loadu_si128(t.as_ptr().add(16).cast()),
                        )
                    };
                    let pl = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(tl), lo);
                    let ph = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(th), hi);
                    *a = _mm256_xor_si256(*a, _mm256_xor_si256(pl, ph));
                }
            }
            for (out, a) in outs.iter().zip(acc) {
                // SAFETY: as for the loads; outputs are writable and do not alias the inputs.
                unsafe { _mm256_storeu_si256(out.add(at).cast(), a) };
            }
        }
    }
}

// --- Gauss-Jordan inversion ---------------------------------------------------------------------

/// Inverse of the `n × n` row-major matrix `m`, or `None` when it is singular.
fn invert(mut m: Vec<u8>, n: usize) -> Option<Vec<u8>> {
    let mut inv = vec![0u8; n * n];
    for i in 0..n {
        inv[i * n + i] = 1;
    }
    for col in 0..n {
        let pivot = (col..n).find(|&r| m[r * n + col] != 0)?;
        if pivot != col {
            for k in 0..n {
                m.swap(pivot * n + k, col * n + k);
                inv.swap(pivot * n + k, col * n + k);
            }
        }
        let scale = gf_inv(m[col * n + col])?;
        for k in 0..n {
            m[col * n + k] = gf_mul(m[col * n + k], scale);
            inv[col * n + k] = gf_mul(inv[col * n + k], scale);
        }
        for r in (0..n).filter(|&r| r != col) {
            let f = m[r * n + col];
            if f == 0 {
                continue;
            }
            for k in 0..n {
                m[r * n + k] ^= gf_mul(f, m[col * n + k]);
                inv[r * n + k] ^= gf_mul(f, inv[col * n + k]);
            }
        }
    }
    Some(inv)
}

// --- the code --------------------------------------------------------------------------------------

/// A systematic Reed–Solomon code with nanors' Cauchy parity matrix (or one given explicitly).
#[derive(Debug, Clone)]
pub struct ReedSolomon {
    data_shards: usize,
    parity_shards: usize,
    parity: CoefMatrix,
}

impl ReedSolomon {
    /// The code moonlight-common-c uses for `data_shards` + `parity_shards` (at least one data
    /// shard, at most 255 shards in all; zero parity shards make `encode` a no-op).
    pub fn new(data_shards: usize, parity_shards: usize) -> Result<Self, FecError> {
        check_counts(data_shards, parity_shards)?;
        let coefs = (0..parity_shards)
            .flat_map(|j| (0..data_shards).map(move |i| cauchy(parity_shards, j, i)))
            .collect();
        Ok(Self::from_parts(data_shards, parity_shards, coefs))
    }

    /// A code with an explicit parity matrix (`parity_shards` rows of `data_shards` entries,
    /// row-major), for GameStream's audio FEC, whose 4 + 2 matrix is fixed by the protocol.
    pub fn with_parity_matrix(
        data_shards: usize,
        parity_shards: usize,
        matrix: &[u8],
    ) -> Result<Self, FecError> {
        check_counts(data_shards, parity_shards)?;
        if matrix.len() != data_shards * parity_shards {
            return Err(FecError::MatrixShape);
        }
        Ok(Self::from_parts(
            data_shards,
            parity_shards,
            matrix.to_vec(),
        ))
    }

    fn from_parts(data_shards: usize, parity_shards: usize, coefs: Vec<u8>) -> Self {
        Self {
            data_shards,
            parity_shards,
            parity: CoefMatrix::new(parity_shards, data_shards, coefs, Kernel::detect()),
        }
    }

    pub fn data_shards(&self) -> usize {
        self.data_shards
    }

    pub fn parity_shards(&self) -> usize {
        self.parity_shards
    }

    /// Parity matrix entry for parity row `j`, data column `i`.
    pub fn coefficient(&self, j: usize, i: usize) -> u8 {
        self.parity.coef(j, i)
    }

    /// Writes the parity of `data` into `parity`; all shards must have the same length.
    pub fn encode(&self, data: &[&[u8]], parity: &mut [&mut [u8]]) -> Result<(), FecError> {
        if data.len() != self.data_shards {
            return Err(FecError::WrongShardCount {
                expected: self.data_shards,
                got: data.len(),
            });
        }
        if parity.len() != self.parity_shards {
            return Err(FecError::WrongShardCount {
                expected: self.parity_shards,
                got: parity.len(),
            });
        }
        let len = data[0].len();
        if data.iter().any(|s| s.len() != len) || parity.iter().any(|s| s.len() != len) {
            return Err(FecError::UnequalLengths);
        }
        self.parity.apply(data, parity);
        Ok(())
    }

    /// Fills in the missing data shards (`None`) from any `data_shards` present ones. Slots are
    /// data shards first, then parity; missing parity shards stay `None`.
    pub fn reconstruct(&self, shards: &mut [Option<Vec<u8>>]) -> Result<(), FecError> {
        let total = self.data_shards + self.parity_shards;
        if shards.len() != total {
            return Err(FecError::WrongShardCount {
                expected: total,
                got: shards.len(),
            });
        }
        let present: Vec<usize> = (0..total).filter(|&k| shards[k].is_some()).collect();
        let len = match present.first() {
            Some(&k) => shards[k].as_ref().map_or(0, Vec::len),
            None => 0,
        };
        if present
            .iter()
            .any(|&k| shards[k].as_ref().is_some_and(|s| s.len() != len))
        {
            return Err(FecError::UnequalLengths);
        }
        if present.len() < self.data_shards {
            return Err(FecError::TooFewShards {
                present: present.len(),
                needed: self.data_shards,
            });
        }
        let missing: Vec<usize> = (0..self.data_shards)
            .filter(|&i| shards[i].is_none())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let chosen = &present[..self.data_shards];
        let recovered = self.recover(shards, chosen, &missing, len)?;
        for (i, shard) in missing.into_iter().zip(recovered) {
            shards[i] = Some(shard);
        }
        Ok(())
    }

    /// Solves for the `missing` data shards from the `chosen` present shards.
    fn recover(
        &self,
        shards: &[Option<Vec<u8>>],
        chosen: &[usize],
        missing: &[usize],
        len: usize,
    ) -> Result<Vec<Vec<u8>>, FecError> {
        let d = self.data_shards;
        // The rows of the full generator matrix (identity over parity) that produced the chosen
        // shards; inverting them maps those shards back to the data.
        let mut sub = vec![0u8; d * d];
        for (row, &k) in chosen.iter().enumerate() {
            for i in 0..d {
                sub[row * d + i] = if k < d {
                    u8::from(k == i)
                } else {
                    self.parity.coef(k - d, i)
                };
            }
        }
        let inv = invert(sub, d).ok_or(FecError::Singular)?;
        let coefs = missing
            .iter()
            .flat_map(|&m| inv[m * d..(m + 1) * d].iter().copied())
            .collect();
        let decode = CoefMatrix::new(missing.len(), d, coefs, self.parity.kernel);
        let ins: Vec<&[u8]> = chosen
            .iter()
            .map(|&k| shards[k].as_deref().unwrap_or(&[]))
            .collect();
        let mut out = vec![vec![0u8; len]; missing.len()];
        let mut outs: Vec<&mut [u8]> = out.iter_mut().map(Vec::as_mut_slice).collect();
        decode.apply(&ins, &mut outs);
        Ok(out)
    }
}

fn check_counts(data: usize, parity: usize) -> Result<(), FecError> {
    if data == 0 || data + parity > RS_MAX_SHARDS {
        return Err(FecError::ShardCounts { data, parity });
    }
    Ok(())
}

/// nanors' parity coefficient: `1 / ((p + i) XOR j)`. The two point sets `{p + i}` and `{j}`
/// are disjoint and below 256, so the XOR is never 0.
fn cauchy(parity_shards: usize, j: usize, i: usize) -> u8 {
    let x = ((parity_shards + i) ^ j) as u8;
    gf_inv(x).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|k| u8::from_str_radix(&s[k..k + 2], 16).unwrap())
            .collect()
    }

    fn encode_vecs(rs: &ReedSolomon, data: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let ins: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
        let mut parity = vec![vec![0u8; data[0].len()]; rs.parity_shards()];
        let mut outs: Vec<&mut [u8]> = parity.iter_mut().map(Vec::as_mut_slice).collect();
        rs.encode(&ins, &mut outs).unwrap();
        parity
    }

    /// Reference encoder: the definition, one byte at a time through log/exp.
    fn naive_parity(data: &[Vec<u8>], p: usize) -> Vec<Vec<u8>> {
        (0..p)
            .map(|j| {
                (0..data[0].len())
                    .map(|b| {
                        data.iter().enumerate().fold(0u8, |acc, (i, s)| {
                            let x = ((p + i) ^ j) as u8;
                            acc ^ gf_mul(gf_inv(x).unwrap(), s[b])
                        })
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn field_basics() {
        assert_eq!(gf_inv(2), Some(0x8E));
        assert_eq!(gf_inv(3), Some(0xF4));
        assert_eq!(gf_inv(1), Some(1));
        assert_eq!(gf_inv(0), None);
        // 2^8 = x^4 + x^3 + x^2 + 1 under 0x11D.
        assert_eq!(gf_mul(0x80, 2), 0x1D);
        for a in 1..=255u8 {
            assert_eq!(gf_mul(a, gf_inv(a).unwrap()), 1, "a = {a}");
        }
        for a in 0..=255u8 {
            for b in [0u8, 1, 2, 0x53, 0xCA, 0xFF] {
                assert_eq!(MUL[usize::from(a)][usize::from(b)], gf_mul(a, b));
            }
        }
    }

    #[test]
    fn cauchy_rows_by_hand() {
        // d = 3, p = 2: row 0 = 1/2, 1/3, 1/4; row 1 = 1/3, 1/2, 1/5.
        let rs = ReedSolomon::new(3, 2).unwrap();
        let rows: Vec<u8> = (0..2)
            .flat_map(|j| (0..3).map(move |i| (j, i)))
            .map(|(j, i)| rs.coefficient(j, i))
            .collect();
        assert_eq!(rows, [0x8E, 0xF4, 0x47, 0xF4, 0x8E, 0xA7]);
        let rs = ReedSolomon::new(4, 2).unwrap();
        assert_eq!(
            (0..4).map(|i| rs.coefficient(1, i)).collect::<Vec<_>>(),
            [0xF4, 0x8E, 0xA7, 0x47]
        );
    }

    #[test]
    fn one_data_one_parity_scales_by_inverse_of_one() {
        // d = 1, p = 1: the only coefficient is 1 / (1 XOR 0) = 1, parity = data.
        let rs = ReedSolomon::new(1, 1).unwrap();
        assert_eq!(rs.coefficient(0, 0), 1);
        assert_eq!(encode_vecs(&rs, &[hex("00017F80FF")]), [hex("00017F80FF")]);
    }

    #[test]
    fn known_vectors() {
        let rs = ReedSolomon::new(3, 2).unwrap();
        let data = [hex("01020304"), hex("11121314"), hex("21222324")];
        assert_eq!(encode_vecs(&rs, &data), [hex("CE89B407"), hex("8CF62B02")]);

        let rs = ReedSolomon::new(1, 2).unwrap();
        assert_eq!(
            encode_vecs(&rs, &[hex("11223344")]),
            [hex("86119722"), hex("0F1E113C")]
        );

        // 2 + 2 by hand: rows [1/2, 1/3] = [8E, F4] and [1/3, 1/2] = [F4, 8E].
        let rs = ReedSolomon::new(2, 2).unwrap();
        let data = [hex("0102"), hex("0100")];
        // Byte 0: 8E ^ F4 = 7A in both rows. Byte 1: 8E·2 = 1 (8E = 1/2); F4·2 = 1E8 ^ 11D = F5.
        assert_eq!(encode_vecs(&rs, &data), [hex("7A01"), hex("7AF5")]);
    }

    #[test]
    fn shapes_are_checked() {
        assert!(ReedSolomon::new(0, 1).is_err());
        assert!(ReedSolomon::new(200, 56).is_err());
        assert!(ReedSolomon::new(200, 55).is_ok());
        assert!(ReedSolomon::new(255, 0).is_ok());
        let rs = ReedSolomon::new(2, 1).unwrap();
        let a = [1u8; 4];
        let b = [2u8; 3];
        let mut p = [0u8; 4];
        assert_eq!(
            rs.encode(&[&a, &b], &mut [&mut p]),
            Err(FecError::UnequalLengths)
        );
        assert!(matches!(
            rs.encode(&[&a], &mut [&mut p]),
            Err(FecError::WrongShardCount { .. })
        ));
        let mut shards = vec![None, None, Some(vec![1, 2])];
        assert!(matches!(
            rs.reconstruct(&mut shards),
            Err(FecError::TooFewShards { .. })
        ));
        assert_eq!(
            ReedSolomon::with_parity_matrix(2, 1, &[1]).err(),
            Some(FecError::MatrixShape)
        );
    }

    #[test]
    fn explicit_matrix_encodes_with_it() {
        let rs = ReedSolomon::with_parity_matrix(2, 1, &[2, 3]).unwrap();
        let parity = encode_vecs(&rs, &[vec![5, 0], vec![0, 7]]);
        assert_eq!(parity, [vec![gf_mul(2, 5), gf_mul(3, 7)]]);
    }

    #[test]
    fn singular_explicit_matrix_is_reported() {
        let rs = ReedSolomon::with_parity_matrix(2, 2, &[1, 1, 1, 1]).unwrap();
        let mut shards = vec![None, None, Some(vec![1]), Some(vec![1])];
        assert_eq!(rs.reconstruct(&mut shards), Err(FecError::Singular));
    }

    fn shapes() -> impl Strategy<Value = (usize, usize, usize)> {
        (1usize..=64, 0usize..=32, 0usize..=200).prop_filter("total", |(d, p, _)| d + p <= 255)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The fast kernels agree with the definition for every length (SIMD body and tail).
        #[test]
        fn encode_matches_definition((d, p, len) in shapes(), seed in any::<u64>()) {
            let data: Vec<Vec<u8>> = (0..d)
                .map(|i| (0..len).map(|b| (seed.wrapping_mul(i as u64 * 977 + b as u64 + 1) >> 29) as u8).collect())
                .collect();
            let rs = ReedSolomon::new(d, p).unwrap();
            let got = if p == 0 { Vec::new() } else { encode_vecs(&rs, &data) };
            prop_assert_eq!(got, naive_parity(&data, p));
        }

        /// Dropping any `p` or fewer shards still gives the data back exactly.
        #[test]
        fn drop_up_to_parity_and_reconstruct(
            (d, p, len) in shapes(),
            bytes in proptest::collection::vec(any::<u8>(), 1..4096),
            drops in proptest::collection::vec(any::<prop::sample::Index>(), 0..32),
        ) {
            let data: Vec<Vec<u8>> = (0..d)
                .map(|i| (0..len).map(|b| bytes[(i * len + b) % bytes.len()]).collect())
                .collect();
            let rs = ReedSolomon::new(d, p).unwrap();
            let parity = if p == 0 { Vec::new() } else { encode_vecs(&rs, &data) };
            let mut shards: Vec<Option<Vec<u8>>> =
                data.iter().chain(&parity).cloned().map(Some).collect();
            for ix in drops.iter().take(p) {
                let k = ix.index(d + p);
                shards[k] = None;
            }
            rs.reconstruct(&mut shards).unwrap();
            for (i, want) in data.iter().enumerate() {
                prop_assert_eq!(shards[i].as_ref(), Some(want));
            }
        }
    }

    /// The portable path alone gives what the detected kernel gives (on CPUs with AVX2 the
    /// other tests run the portable path only on tails).
    #[test]
    fn table_kernel_matches_detected_kernel() {
        let (d, p, len) = (20, 7, 1408 + 5);
        let data: Vec<Vec<u8>> = (0..d)
            .map(|i| (0..len).map(|b| (i * 31 + b * 7 + b / 3) as u8).collect())
            .collect();
        let rs = ReedSolomon::new(d, p).unwrap();
        let table = CoefMatrix::new(p, d, rs.parity.coefs.clone(), Kernel::Table);
        let ins: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
        let mut parity = vec![vec![0xEEu8; len]; p];
        let mut outs: Vec<&mut [u8]> = parity.iter_mut().map(Vec::as_mut_slice).collect();
        table.apply(&ins, &mut outs);
        assert_eq!(parity, encode_vecs(&rs, &data));
    }

    #[test]
    fn large_block_recovers_many_losses() {
        let (d, p, len) = (200, 55, 1408);
        let data: Vec<Vec<u8>> = (0..d)
            .map(|i| (0..len).map(|b| (i * 7 + b * 13 + i * b) as u8).collect())
            .collect();
        let rs = ReedSolomon::new(d, p).unwrap();
        let parity = encode_vecs(&rs, &data);
        assert_eq!(parity, naive_parity(&data, p));
        let mut shards: Vec<Option<Vec<u8>>> =
            data.iter().chain(&parity).cloned().map(Some).collect();
        for k in (0..d).step_by(4).take(p) {
            shards[k] = None;
        }
        rs.reconstruct(&mut shards).unwrap();
        for (i, want) in data.iter().enumerate() {
            assert_eq!(shards[i].as_ref(), Some(want));
        }
    }
}
