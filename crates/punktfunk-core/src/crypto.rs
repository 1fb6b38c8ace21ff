//! AES-128-GCM per media packet, with a deterministic key schedule that rotates keys before the
//! AEAD usage limit.
//!
//! The caller hands in one 32-byte secret per direction (the control plane derives it from the TLS
//! exporter). Key index `i = packet_number >> 23` selects `key_i = HKDF-Expand(secret, KEY_LABEL ‖
//! i)` and `iv_i = HKDF-Expand(secret, IV_LABEL ‖ i)`; the nonce is `iv_i XOR (0u32 ‖ pn BE u64)`,
//! as QUIC does. No packet carries key material and no message announces a rotation.

use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};
use ring::hkdf;

use crate::wire::keys::{IV_LABEL, KEY_INDEX_SHIFT, KEY_LABEL, STREAM_LABEL};
use crate::wire::media::AEAD_TAG_LEN;

/// The per-direction media secret, supplied by the caller.
#[derive(Clone)]
pub struct MediaSecret([u8; 32]);

impl MediaSecret {
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A fresh secret from the system's CSPRNG.
    pub fn random() -> Self {
        use ring::rand::SecureRandom;
        let mut bytes = [0u8; 32];
        ring::rand::SystemRandom::new()
            .fill(&mut bytes)
            .expect("the system random source works");
        Self(bytes)
    }

    /// Parses 64 hex digits.
    pub fn from_hex(hex: &str) -> Result<Self, SecretHexError> {
        let hex = hex.trim();
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SecretHexError(hex.len()));
        }
        let mut bytes = [0u8; 32];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("checked hex digits");
        }
        Ok(Self(bytes))
    }

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The secret of one media stream of this direction: video uses this secret itself, every
    /// other stream `HKDF-Expand(secret, STREAM_LABEL ‖ stream)`, so streams that count packet
    /// numbers independently never share a key.
    pub fn for_stream(&self, stream: u8) -> MediaSecret {
        if stream == crate::wire::media::stream::VIDEO {
            return self.clone();
        }
        let mut out = [0u8; 32];
        prk(self)
            .expand(&[STREAM_LABEL, &[stream]], Len(out.len()))
            .and_then(|okm| okm.fill(&mut out))
            .expect("HKDF output of 32 bytes");
        MediaSecret(out)
    }
}

/// A media secret given as text was not 64 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a media secret is 64 hex digits (32 bytes); got {0} characters or a non-hex digit")]
pub struct SecretHexError(pub usize);

impl std::fmt::Debug for MediaSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MediaSecret(..)")
    }
}

/// Highest packet number either side will use; far beyond any session, it keeps `pn + 1` and the
/// key index arithmetic clear of overflow.
pub const MAX_PACKET_NUMBER: u64 = (1 << 62) - 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("authentication tag mismatch")]
    BadTag,
    #[error("packet number space exhausted; start a new session")]
    Exhausted,
}

struct PacketKey {
    index: u64,
    key: LessSafeKey,
    iv: [u8; 12],
}

impl PacketKey {
    fn derive(secret: &hkdf::Prk, index: u64) -> Self {
        let mut key = [0u8; 16];
        let mut iv = [0u8; 12];
        expand(secret, KEY_LABEL, index, &mut key);
        expand(secret, IV_LABEL, index, &mut iv);
        let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &key).expect("16-byte key"));
        Self { index, key, iv }
    }

    fn nonce(&self, pn: u64) -> Nonce {
        let mut n = self.iv;
        for (b, p) in n[4..].iter_mut().zip(pn.to_be_bytes()) {
            *b ^= p;
        }
        Nonce::assume_unique_for_key(n)
    }
}

struct Len(usize);
impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn expand(secret: &hkdf::Prk, label: &[u8], index: u64, out: &mut [u8]) {
    let idx = index.to_be_bytes();
    let info = [label, &idx[..]];
    secret
        .expand(&info, Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .expect("HKDF output of at most 32 bytes");
}

fn prk(secret: &MediaSecret) -> hkdf::Prk {
    hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, &secret.0)
}

/// Key index of a packet number.
pub fn key_index(pn: u64) -> u64 {
    pn >> KEY_INDEX_SHIFT
}

/// The sending half: hands out packet numbers and seals in place.
pub struct Sealer {
    secret: hkdf::Prk,
    next_pn: u64,
    current: PacketKey,
}

impl Sealer {
    pub fn new(secret: &MediaSecret) -> Self {
        Self::starting_at(secret, 0)
    }

    /// A sealer whose first packet number is `pn` (tests of key rotation, resumed sessions).
    pub fn starting_at(secret: &MediaSecret, pn: u64) -> Self {
        let secret = prk(secret);
        let current = PacketKey::derive(&secret, key_index(pn));
        Self {
            secret,
            next_pn: pn,
            current,
        }
    }

    pub fn next_packet_number(&self) -> u64 {
        self.next_pn
    }

    /// Seals `body` in place with `aad` and the next packet number; returns that number and the
    /// tag to append. Rotates the key when the number enters a new key index.
    pub fn seal(
        &mut self,
        aad: &[u8],
        body: &mut [u8],
    ) -> Result<(u64, [u8; AEAD_TAG_LEN]), CryptoError> {
        let pn = self.take_packet_number()?;
        let tag = self.seal_with(pn, aad, body);
        Ok((pn, tag))
    }

    /// Reserves the next packet number (so the caller can write it into the clear prefix before
    /// sealing with [`Sealer::seal_with`]).
    pub fn take_packet_number(&mut self) -> Result<u64, CryptoError> {
        let pn = self.next_pn;
        if pn > MAX_PACKET_NUMBER {
            return Err(CryptoError::Exhausted);
        }
        self.next_pn += 1;
        Ok(pn)
    }

    /// Seals with a packet number obtained from [`Sealer::take_packet_number`].
    pub fn seal_with(&mut self, pn: u64, aad: &[u8], body: &mut [u8]) -> [u8; AEAD_TAG_LEN] {
        let index = key_index(pn);
        if index != self.current.index {
            self.current = PacketKey::derive(&self.secret, index);
        }
        let tag = self
            .current
            .key
            .seal_in_place_separate_tag(self.current.nonce(pn), Aad::from(aad), body)
            .expect("AES-GCM seal of a bounded packet cannot fail");
        let mut out = [0u8; AEAD_TAG_LEN];
        out.copy_from_slice(tag.as_ref());
        out
    }
}

/// How many key indices the opener keeps derived: the current one and its neighbours, so packets
/// reordered across a rotation still open.
const CACHED_KEYS: usize = 3;

/// The receiving half: opens in place, deriving keys on demand.
pub struct Opener {
    secret: hkdf::Prk,
    keys: Vec<PacketKey>,
}

impl Opener {
    pub fn new(secret: &MediaSecret) -> Self {
        Self {
            secret: prk(secret),
            keys: Vec::with_capacity(CACHED_KEYS),
        }
    }

    /// Opens `sealed` (body followed by the 16-byte tag) in place; returns the plaintext length.
    pub fn open(&mut self, pn: u64, aad: &[u8], sealed: &mut [u8]) -> Result<usize, CryptoError> {
        let index = key_index(pn);
        let slot = match self.keys.iter().position(|k| k.index == index) {
            Some(i) => i,
            None => {
                if self.keys.len() == CACHED_KEYS {
                    // Evict the key index furthest from the one asked for.
                    let far = (0..self.keys.len())
                        .max_by_key(|&i| self.keys[i].index.abs_diff(index))
                        .expect("cache is full");
                    self.keys.swap_remove(far);
                }
                self.keys.push(PacketKey::derive(&self.secret, index));
                self.keys.len() - 1
            }
        };
        let key = &self.keys[slot];
        key.key
            .open_in_place(key.nonce(pn), Aad::from(aad), sealed)
            .map(|plain| plain.len())
            .map_err(|_| CryptoError::BadTag)
    }
}

/// Raw AES-128-GCM with one fixed key: the baseline the benchmarks compare against.
pub fn raw_aes128gcm(key: &[u8; 16]) -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&aead::AES_128_GCM, key).expect("16-byte key"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::keys::PACKETS_PER_KEY;

    fn secret(b: u8) -> MediaSecret {
        MediaSecret::new([b; 32])
    }

    fn seal_one(s: &mut Sealer, aad: &[u8], msg: &[u8]) -> (u64, Vec<u8>) {
        let mut body = msg.to_vec();
        let (pn, tag) = s.seal(aad, &mut body).unwrap();
        body.extend_from_slice(&tag);
        (pn, body)
    }

    #[test]
    fn seal_open_round_trip_and_tamper() {
        let mut s = Sealer::new(&secret(7));
        let mut o = Opener::new(&secret(7));
        let (pn, mut sealed) = seal_one(&mut s, b"aad", b"hello media");
        assert_eq!(pn, 0);
        let n = o.open(pn, b"aad", &mut sealed.clone()).unwrap();
        assert_eq!(n, 11);
        let mut tampered = sealed.clone();
        tampered[3] ^= 1;
        assert_eq!(o.open(pn, b"aad", &mut tampered), Err(CryptoError::BadTag));
        assert_eq!(
            o.open(pn, b"aaD", &mut sealed.clone()),
            Err(CryptoError::BadTag)
        );
        assert_eq!(
            o.open(pn + 1, b"aad", &mut sealed),
            Err(CryptoError::BadTag)
        );
        let mut wrong = Opener::new(&secret(8));
        let (pn, mut sealed) = seal_one(&mut s, b"", b"x");
        assert_eq!(wrong.open(pn, b"", &mut sealed), Err(CryptoError::BadTag));
    }

    #[test]
    fn key_rotates_at_the_usage_limit_and_reorder_across_it_opens() {
        let start = PACKETS_PER_KEY - 2;
        let mut s = Sealer::starting_at(&secret(1), start);
        let packets: Vec<_> = (0..4).map(|_| seal_one(&mut s, b"p", b"payload")).collect();
        assert_eq!(key_index(packets[1].0), 0);
        assert_eq!(key_index(packets[2].0), 1);
        // Same plaintext under two key indices gives unrelated ciphertext.
        assert_ne!(packets[1].1, packets[2].1);
        let mut o = Opener::new(&secret(1));
        for i in [3usize, 0, 2, 1] {
            let (pn, mut sealed) = packets[i].clone();
            assert!(o.open(pn, b"p", &mut sealed).is_ok(), "packet {i}");
        }
        // A packet sealed under index 0 does not open as if it were index 1.
        let (_, mut sealed) = packets[1].clone();
        assert!(o.open(PACKETS_PER_KEY + 5, b"p", &mut sealed).is_err());
    }

    #[test]
    fn secrets_round_trip_through_hex_and_bad_text_is_refused() {
        let s = MediaSecret::random();
        let back = MediaSecret::from_hex(&s.to_hex()).unwrap();
        assert_eq!(back.0, s.0);
        assert_eq!(MediaSecret::from_hex("abc").unwrap_err(), SecretHexError(3));
        assert!(MediaSecret::from_hex(&"g".repeat(64)).is_err());
    }

    #[test]
    fn exhausted_packet_numbers_are_refused() {
        let mut s = Sealer::starting_at(&secret(2), MAX_PACKET_NUMBER);
        assert!(s.seal(b"", &mut [0u8; 4]).is_ok());
        assert_eq!(s.seal(b"", &mut [0u8; 4]), Err(CryptoError::Exhausted));
    }
}
