//! Encrypted RTSP (`rtspenc://`): one AES-128-GCM record per message.
//!
//! Record: `0x80000000 | L` (u32 BE) ‖ sequence (u32 BE) ‖ 16-byte tag ‖ L bytes ciphertext, no
//! AAD. Nonce: sequence as 4 **little-endian** bytes ‖ 6 zeros ‖ `'C'` (client→host) or `'H'`
//! (host→client) ‖ `'R'`. Key: the launch's `rikey`.

use ring::aead::{Aad, LessSafeKey, Nonce, Tag, UnboundKey, AES_128_GCM, NONCE_LEN};

use super::RtspError;
use crate::wire::rtsp::{
    ENCRYPTED_BIT, ENC_HEADER_LEN, ENC_SEQUENCE_OFFSET, ENC_TAG_LEN, ENC_TAG_OFFSET,
    ENC_TYPE_AND_LENGTH_OFFSET, MAX_MESSAGE, NONCE_DIRECTION_INDEX, NONCE_FROM_CLIENT,
    NONCE_FROM_HOST, NONCE_RTSP_STREAM, NONCE_STREAM_INDEX,
};

/// Whether a connection's first bytes are an encrypted record (plain RTSP starts with an ASCII
/// method name, records with the top bit set). `false` while no byte has arrived.
pub fn is_encrypted(first_bytes: &[u8]) -> bool {
    first_bytes
        .first()
        .is_some_and(|b| (u32::from(*b) << 24) & ENCRYPTED_BIT != 0)
}

/// The RTSP cipher of one launch: keep it for the whole handshake (all seven connections), so
/// host sequence numbers never repeat and replayed client records are refused.
pub struct RtspCipher {
    key: LessSafeKey,
    /// Highest client sequence accepted so far (the client's counter only goes up).
    last_client_seq: Option<u32>,
    /// Sequence of the last sealed reply; Sunshine's first reply carries 1.
    host_seq: u32,
}

impl std::fmt::Debug for RtspCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtspCipher")
            .field("last_client_seq", &self.last_client_seq)
            .field("host_seq", &self.host_seq)
            .finish_non_exhaustive()
    }
}

impl RtspCipher {
    pub fn new(key: [u8; 16]) -> Self {
        let key = UnboundKey::new(&AES_128_GCM, &key).expect("AES-128 takes a 16-byte key");
        Self {
            key: LessSafeKey::new(key),
            last_client_seq: None,
            host_seq: 0,
        }
    }

    /// Opens one client record from the start of `buf`.
    ///
    /// `Ok(None)`: more bytes needed. `Ok(Some((plaintext, consumed)))`: the record occupied
    /// `buf[..consumed]`; parse the plaintext with [`super::parse_sealed_request`]. The length
    /// field is checked against [`MAX_MESSAGE`] as soon as its 4 bytes are in, so a host can
    /// stop reading at once.
    pub fn open(&mut self, buf: &[u8]) -> Result<Option<(Vec<u8>, usize)>, RtspError> {
        if !buf.is_empty() && !is_encrypted(buf) {
            return Err(RtspError::NotEncrypted);
        }
        let Some(type_and_length) = read_u32_be(buf, ENC_TYPE_AND_LENGTH_OFFSET) else {
            return Ok(None);
        };
        let length = type_and_length & !ENCRYPTED_BIT;
        let plaintext_len = checked_record_len(length)?;
        let Some(record) = buf.get(..ENC_HEADER_LEN + plaintext_len) else {
            return Ok(None);
        };
        let seq = read_u32_be(record, ENC_SEQUENCE_OFFSET).ok_or(RtspError::Truncated)?;
        let tag = read_tag(record).ok_or(RtspError::Truncated)?;
        let mut plaintext = record[ENC_HEADER_LEN..].to_vec();
        self.key
            .open_in_place_separate_tag(
                nonce(seq, NONCE_FROM_CLIENT),
                Aad::empty(),
                tag,
                &mut plaintext,
                0..,
            )
            .map_err(|_| RtspError::BadTag)?;
        self.accept_client_seq(seq)?;
        Ok(Some((plaintext, record.len())))
    }

    /// Seals one host reply with the next host sequence number (1, 2, …).
    ///
    /// Returns an empty vector — send nothing and close — only if the reply cannot be framed
    /// (over 2 GiB) or after 2³²−1 replies, where a nonce would repeat; neither happens in a
    /// seven-message handshake.
    pub fn seal(&mut self, plaintext: &[u8]) -> Vec<u8> {
        let Ok(length) = u32::try_from(plaintext.len()) else {
            return Vec::new();
        };
        if length & ENCRYPTED_BIT != 0 {
            return Vec::new();
        }
        let Some(seq) = self.host_seq.checked_add(1) else {
            return Vec::new();
        };
        self.host_seq = seq;
        let mut record = vec![0u8; ENC_HEADER_LEN];
        record.extend_from_slice(plaintext);
        let Ok(tag) = self.key.seal_in_place_separate_tag(
            nonce(seq, NONCE_FROM_HOST),
            Aad::empty(),
            &mut record[ENC_HEADER_LEN..],
        ) else {
            return Vec::new();
        };
        write_u32_be(
            &mut record,
            ENC_TYPE_AND_LENGTH_OFFSET,
            ENCRYPTED_BIT | length,
        );
        write_u32_be(&mut record, ENC_SEQUENCE_OFFSET, seq);
        record[ENC_TAG_OFFSET..ENC_TAG_OFFSET + ENC_TAG_LEN].copy_from_slice(tag.as_ref());
        record
    }

    fn accept_client_seq(&mut self, seq: u32) -> Result<(), RtspError> {
        if let Some(last) = self.last_client_seq.filter(|last| seq <= *last) {
            return Err(RtspError::Replayed { seq, last });
        }
        self.last_client_seq = Some(seq);
        Ok(())
    }
}

fn checked_record_len(length: u32) -> Result<usize, RtspError> {
    match usize::try_from(length) {
        Ok(0) => Err(RtspError::EmptyRecord),
        Ok(n) if n <= MAX_MESSAGE => Ok(n),
        _ => Err(RtspError::RecordTooLarge {
            length,
            limit: MAX_MESSAGE,
        }),
    }
}

/// Sequence LE ‖ zeros ‖ direction ‖ `'R'` (the header carries the sequence big-endian).
fn nonce(seq: u32, direction: u8) -> Nonce {
    let mut iv = [0u8; NONCE_LEN];
    iv[..4].copy_from_slice(&seq.to_le_bytes());
    iv[NONCE_DIRECTION_INDEX] = direction;
    iv[NONCE_STREAM_INDEX] = NONCE_RTSP_STREAM;
    Nonce::assume_unique_for_key(iv)
}

fn read_u32_be(buf: &[u8], offset: usize) -> Option<u32> {
    let bytes = buf.get(offset..offset + 4)?;
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

fn write_u32_be(buf: &mut [u8], offset: usize, value: u32) {
    buf[offset..offset + 4].copy_from_slice(&value.to_be_bytes());
}

fn read_tag(record: &[u8]) -> Option<Tag> {
    let bytes: [u8; ENC_TAG_LEN] = record
        .get(ENC_TAG_OFFSET..ENC_TAG_OFFSET + ENC_TAG_LEN)?
        .try_into()
        .ok()?;
    Some(Tag::from(bytes))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: [u8; 16] = *b"0123456789abcdef";

    /// The nonce spelled out byte by byte, independent of `nonce()` above.
    fn spelled_nonce(seq: u32, direction: u8) -> Nonce {
        Nonce::assume_unique_for_key([
            seq as u8,
            (seq >> 8) as u8,
            (seq >> 16) as u8,
            (seq >> 24) as u8,
            0,
            0,
            0,
            0,
            0,
            0,
            direction,
            b'R',
        ])
    }

    fn test_key() -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &KEY).unwrap())
    }

    /// A record as moonlight-common-c's `sealRtspMessage` builds it.
    pub(crate) fn client_seal(key: [u8; 16], seq: u32, plaintext: &[u8]) -> Vec<u8> {
        let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &key).unwrap());
        let mut ct = plaintext.to_vec();
        let tag = key
            .seal_in_place_separate_tag(spelled_nonce(seq, b'C'), Aad::empty(), &mut ct)
            .unwrap();
        let mut out = (0x8000_0000u32 | plaintext.len() as u32)
            .to_be_bytes()
            .to_vec();
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(tag.as_ref());
        out.extend_from_slice(&ct);
        out
    }

    /// The client's `unsealRtspMessage`: exact length, top bit, `'H'` nonce.
    fn client_open(record: &[u8]) -> Option<(u32, Vec<u8>)> {
        let tl = u32::from_be_bytes(record.get(0..4)?.try_into().ok()?);
        if tl & 0x8000_0000 == 0 || (tl & 0x7fff_ffff) as usize + 24 != record.len() {
            return None;
        }
        let seq = u32::from_be_bytes(record[4..8].try_into().unwrap());
        let tag: [u8; 16] = record[8..24].try_into().unwrap();
        let mut pt = record[24..].to_vec();
        test_key()
            .open_in_place_separate_tag(
                spelled_nonce(seq, b'H'),
                Aad::empty(),
                Tag::from(tag),
                &mut pt,
                0..,
            )
            .ok()?;
        Some((seq, pt))
    }

    const OPTIONS: &[u8] = b"OPTIONS rtspenc://10.0.0.2:48010 RTSP/1.0\r\nCSeq: 1\r\n\
X-GS-ClientVersion: 14\r\nHost: 10.0.0.2\r\n\r\n";

    #[test]
    fn opens_a_client_record_and_reports_its_length() {
        let mut cipher = RtspCipher::new(KEY);
        let mut record = client_seal(KEY, 7, OPTIONS);
        let len = record.len();
        record.extend_from_slice(b"next");
        let (pt, used) = cipher.open(&record).unwrap().unwrap();
        assert_eq!((pt.as_slice(), used), (OPTIONS, len));
        let req = crate::rtsp::parse_sealed_request(&pt).unwrap();
        assert_eq!(req.method, "OPTIONS");
    }

    #[test]
    fn partial_records_need_more_bytes() {
        let record = client_seal(KEY, 1, OPTIONS);
        for cut in 0..record.len() {
            assert_eq!(
                RtspCipher::new(KEY).open(&record[..cut]),
                Ok(None),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn seals_replies_the_client_can_open_with_sequence_from_one() {
        let mut cipher = RtspCipher::new(KEY);
        let reply = b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n";
        let first = cipher.seal(reply);
        let second = cipher.seal(reply);
        assert_eq!(client_open(&first), Some((1, reply.to_vec())));
        assert_eq!(client_open(&second), Some((2, reply.to_vec())));
        assert_ne!(first[24..], second[24..], "fresh nonce per reply");
    }

    #[test]
    fn tampering_anywhere_is_rejected() {
        let record = client_seal(KEY, 3, OPTIONS);
        let mut tag = record.clone();
        tag[ENC_TAG_OFFSET] ^= 1;
        assert_eq!(RtspCipher::new(KEY).open(&tag), Err(RtspError::BadTag));
        let mut body = record.clone();
        *body.last_mut().unwrap() ^= 0x80;
        assert_eq!(RtspCipher::new(KEY).open(&body), Err(RtspError::BadTag));
        let mut seq = record.clone();
        seq[ENC_SEQUENCE_OFFSET + 3] ^= 1;
        assert_eq!(RtspCipher::new(KEY).open(&seq), Err(RtspError::BadTag));
        assert_eq!(
            RtspCipher::new(*b"another key 16 b").open(&record),
            Err(RtspError::BadTag)
        );
        // A host reply fed back as a client record fails: the direction byte differs.
        let reply = RtspCipher::new(KEY).seal(OPTIONS);
        assert_eq!(RtspCipher::new(KEY).open(&reply), Err(RtspError::BadTag));
    }

    #[test]
    fn plain_oversized_empty_and_replayed_records_are_refused() {
        assert!(!is_encrypted(b""));
        assert!(!is_encrypted(b"OPTIONS"));
        assert!(is_encrypted(&[0x80]));
        assert_eq!(
            RtspCipher::new(KEY).open(b"O"),
            Err(RtspError::NotEncrypted)
        );
        let huge = (0x8000_0000u32 | (MAX_MESSAGE as u32 + 1)).to_be_bytes();
        assert_eq!(
            RtspCipher::new(KEY).open(&huge),
            Err(RtspError::RecordTooLarge {
                length: MAX_MESSAGE as u32 + 1,
                limit: MAX_MESSAGE
            })
        );
        assert_eq!(
            RtspCipher::new(KEY).open(&0x8000_0000u32.to_be_bytes()),
            Err(RtspError::EmptyRecord)
        );
        let mut cipher = RtspCipher::new(KEY);
        assert!(cipher
            .open(&client_seal(KEY, 5, OPTIONS))
            .unwrap()
            .is_some());
        assert_eq!(
            cipher.open(&client_seal(KEY, 5, OPTIONS)),
            Err(RtspError::Replayed { seq: 5, last: 5 })
        );
        assert_eq!(
            cipher.open(&client_seal(KEY, 4, OPTIONS)),
            Err(RtspError::Replayed { seq: 4, last: 5 })
        );
        assert!(cipher
            .open(&client_seal(KEY, 6, OPTIONS))
            .unwrap()
            .is_some());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_and_respect_bounds(buf in proptest::collection::vec(any::<u8>(), 0..2048)) {
            if let Ok(Some((pt, used))) = RtspCipher::new(KEY).open(&buf) {
                prop_assert!(used <= buf.len());
                prop_assert_eq!(used, pt.len() + ENC_HEADER_LEN);
                prop_assert!(pt.len() <= MAX_MESSAGE);
            }
        }

        #[test]
        fn round_trips_and_any_bit_flip_is_caught(
            pt in proptest::collection::vec(any::<u8>(), 1..600),
            seq in any::<u32>(),
            flip in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let record = client_seal(KEY, seq, &pt);
            prop_assert_eq!(RtspCipher::new(KEY).open(&record), Ok(Some((pt.clone(), record.len()))));
            let mut bad = record.clone();
            bad[flip.index(record.len())] ^= 1 << bit;
            prop_assert!(!matches!(RtspCipher::new(KEY).open(&bad), Ok(Some(_))));
            let sealed = RtspCipher::new(KEY).seal(&pt);
            prop_assert_eq!(client_open(&sealed), Some((1, pt)));
        }
    }
}
