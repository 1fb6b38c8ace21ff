//! GameStream PIN pairing: the host side of the five `/pair` requests, as a state machine per
//! client attempt. Randomness comes in as arguments; nothing here touches the network.
//!
//! The ceremony (H = SHA-256, E/D = AES-128-ECB without padding under K):
//! 1. `getservercert`: salt S and the client certificate; once the user types the PIN on the
//!    host, K = H(S ‖ PIN)[..16] and the host answers with its certificate PEM.
//! 2. `clientchallenge` E(C): the host answers E(H(C ‖ hostsig ‖ SS) ‖ SC).
//! 3. `serverchallengeresp` E(hc): the host keeps hc and answers SS ‖ sign(SS).
//! 4. `clientpairingsecret` CS ‖ sign(CS): the host checks hc = H(SC ‖ clientsig ‖ CS) (a
//!    different PIN gives a different K, so this fails) and the client's signature.
//!
//! "sig" of a certificate is its own signatureValue. Only the SHA-256 generation exists:
//! clients pick SHA-1 solely for hosts whose `appversion` major is below 7, and this host
//! reports 7 ([`crate::wire::pairing::APP_VERSION`]). The RSA signature uses the `rsa` crate
//! without blinding (PKCS#1 v1.5 signing is deterministic, so no randomness is needed); each
//! signature needs a PIN typed on the host, which leaves a timing attacker nothing to collect.

use aes::cipher::{generic_array::GenericArray, BlockDecrypt, BlockEncrypt, KeyInit};
use aes::Aes128;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};

use crate::nvhttp::HexError;
use crate::wire::pairing::{
    AES_BLOCK_LEN, AES_KEY_LEN, CLIENT_CHALLENGE_LEN, CLIENT_HASH_CIPHERTEXT_LEN,
    CLIENT_SECRET_LEN, HASH_LEN, MAX_CLIENT_CERT_PEM_LEN, MAX_CLIENT_SIGNATURE_LEN,
    PEM_CERTIFICATE_LABEL, PIN_LEN, SALT_LEN, SERVER_CHALLENGE_LEN, SERVER_SECRET_LEN,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PairingError {
    /// Step 4: the client's hash does not match: the PIN differs (or someone is in between).
    #[error("the client's pairing hash does not match (wrong PIN?)")]
    WrongPin,
    /// Step 4: the client's secret is not signed by its certificate's key.
    #[error("the client's pairing secret is not signed by its certificate")]
    BadSignature,
    /// A step came before the one it follows, twice, or after the attempt failed.
    #[error("pairing step out of order")]
    OutOfOrder,
    /// Bytes of the wrong length or shape (hex, sizes, certificate).
    #[error("malformed pairing data: {0}")]
    Malformed(&'static str),
    /// The PIN typed on the host is not four digits; the attempt still waits for one.
    #[error("the PIN must be {PIN_LEN} digits")]
    BadPin,
    /// The host's own certificate or key cannot be used.
    #[error("unusable host keys: {0}")]
    HostKeys(&'static str),
}

impl From<HexError> for PairingError {
    fn from(_: HexError) -> Self {
        Self::Malformed("not hex")
    }
}

/// The host's GameStream identity as pairing needs it: the certificate PEM (sent as
/// `plaincert`; it must be byte-for-byte the TLS certificate), its signature value, and the
/// RSA key that signs the server secret.
pub struct HostKeys {
    cert_pem: Vec<u8>,
    cert_signature: Vec<u8>,
    signing_key: SigningKey<Sha256>,
}

impl std::fmt::Debug for HostKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostKeys").finish_non_exhaustive()
    }
}

impl HostKeys {
    /// Checks that `cert_pem` holds `cert_der`, that the key is RSA in PKCS#8 DER, and that it
    /// is the certificate's key.
    pub fn new(
        cert_der: &[u8],
        cert_pem: &[u8],
        key_pkcs8_der: &[u8],
    ) -> Result<Self, PairingError> {
        let pem_der = pem_certificate_der(cert_pem)
            .map_err(|_| PairingError::HostKeys("certificate PEM does not parse"))?;
        if pem_der != cert_der {
            return Err(PairingError::HostKeys(
                "PEM and DER are different certificates",
            ));
        }
        let cert = ParsedCert::from_der(cert_der)
            .map_err(|_| PairingError::HostKeys("certificate is not an RSA certificate"))?;
        let key = RsaPrivateKey::from_pkcs8_der(key_pkcs8_der)
            .map_err(|_| PairingError::HostKeys("key is not RSA PKCS#8 DER"))?;
        if key.to_public_key() != cert.public_key {
            return Err(PairingError::HostKeys(
                "key does not belong to the certificate",
            ));
        }
        Ok(Self {
            cert_pem: cert_pem.to_vec(),
            cert_signature: cert.signature,
            signing_key: SigningKey::new(key),
        })
    }

    /// [`Self::new`] with the PEM made from the DER (what `punktfunk-net`'s identity stores).
    pub fn from_der(cert_der: &[u8], key_pkcs8_der: &[u8]) -> Result<Self, PairingError> {
        Self::new(cert_der, &certificate_pem(cert_der), key_pkcs8_der)
    }

    /// The `plaincert` of step 1 (PEM text; hex-encode it for the reply).
    pub fn cert_pem(&self) -> &[u8] {
        &self.cert_pem
    }
}

/// A client certificate that finished pairing: store it; on the HTTPS port a client is paired
/// iff the DER it presents is a stored one (compare [`Self::fingerprint`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairedClient {
    pub cert_der: Vec<u8>,
    /// SHA-256 of `cert_der`.
    pub fingerprint: [u8; 32],
}

/// One client's pairing attempt (keep one per `uniqueid`). Every method checks that its step
/// comes next; any error leaves the attempt failed (later steps answer
/// [`PairingError::OutOfOrder`]), except [`PairingError::BadPin`], which leaves it waiting for
/// a PIN. The host should drop the attempt on any other error and answer `paired=0`.
pub struct PairingAttempt {
    salt: [u8; SALT_LEN],
    client: ParsedCert,
    phase: Phase,
}

enum Phase {
    /// Step 1 arrived; the user has not typed the PIN yet.
    AwaitingPin,
    /// Waiting for step 2.
    AwaitingClientChallenge {
        key: [u8; AES_KEY_LEN],
    },
    /// Waiting for step 3.
    AwaitingServerChallengeResp {
        key: [u8; AES_KEY_LEN],
        server_challenge: [u8; SERVER_CHALLENGE_LEN],
        server_secret: [u8; SERVER_SECRET_LEN],
    },
    /// Waiting for step 4.
    AwaitingClientPairingSecret {
        server_challenge: [u8; SERVER_CHALLENGE_LEN],
        client_hash: [u8; HASH_LEN],
    },
    Failed,
}

impl Phase {
    fn name(&self) -> &'static str {
        match self {
            Phase::AwaitingPin => "awaiting PIN",
            Phase::AwaitingClientChallenge { .. } => "awaiting clientchallenge",
            Phase::AwaitingServerChallengeResp { .. } => "awaiting serverchallengeresp",
            Phase::AwaitingClientPairingSecret { .. } => "awaiting clientpairingsecret",
            Phase::Failed => "failed",
        }
    }
}

impl std::fmt::Debug for PairingAttempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PairingAttempt")
            .field("phase", &self.phase.name())
            .finish_non_exhaustive()
    }
}

impl PairingAttempt {
    /// Step 1 (`phrase=getservercert`): `client_cert_pem` is the hex-decoded `clientcert`.
    /// The reply waits for [`Self::accept_pin`].
    pub fn begin(salt: [u8; SALT_LEN], client_cert_pem: &[u8]) -> Result<Self, PairingError> {
        if client_cert_pem.len() > MAX_CLIENT_CERT_PEM_LEN {
            return Err(PairingError::Malformed("client certificate too long"));
        }
        let der = pem_certificate_der(client_cert_pem)?;
        Ok(Self {
            salt,
            client: ParsedCert::from_der(&der)?,
            phase: Phase::AwaitingPin,
        })
    }

    /// Whether step 1 still waits for the user's PIN.
    pub fn awaiting_pin(&self) -> bool {
        matches!(self.phase, Phase::AwaitingPin)
    }

    /// The user typed `pin` on the host: derive the key and return the `plaincert` of the
    /// step-1 reply (the host certificate PEM). The PIN cannot be checked yet: a wrong one
    /// shows at step 4 ([`PairingError::WrongPin`]).
    pub fn accept_pin(&mut self, pin: &str, host: &HostKeys) -> Result<Vec<u8>, PairingError> {
        if pin.len() != PIN_LEN || !pin.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PairingError::BadPin);
        }
        let Phase::AwaitingPin = self.take_phase() else {
            return Err(PairingError::OutOfOrder);
        };
        self.phase = Phase::AwaitingClientChallenge {
            key: pin_key(&self.salt, pin),
        };
        Ok(host.cert_pem.clone())
    }

    /// Step 2 (`clientchallenge`, 16 encrypted bytes). `random` is fresh randomness: the server
    /// challenge (first 16 bytes) and the server secret (last 16). Returns the
    /// `challengeresponse` bytes (48).
    pub fn client_challenge(
        &mut self,
        encrypted: &[u8],
        host: &HostKeys,
        random: [u8; SERVER_CHALLENGE_LEN + SERVER_SECRET_LEN],
    ) -> Result<Vec<u8>, PairingError> {
        let Phase::AwaitingClientChallenge { key } = self.take_phase() else {
            return Err(PairingError::OutOfOrder);
        };
        if encrypted.len() != CLIENT_CHALLENGE_LEN {
            return Err(PairingError::Malformed("clientchallenge is not 16 bytes"));
        }
        let client_challenge = aes_ecb_decrypt(&key, encrypted);
        let (server_challenge, server_secret) = split_random(random);
        let hash = sha256(&[&client_challenge, &host.cert_signature, &server_secret]);
        let plaintext = [hash.as_slice(), &server_challenge].concat();
        self.phase = Phase::AwaitingServerChallengeResp {
            key,
            server_challenge,
            server_secret,
        };
        Ok(aes_ecb_encrypt(&key, &plaintext))
    }

    /// Step 3 (`serverchallengeresp`, 32 encrypted bytes: the client's hash, checked at step
    /// 4). Returns the `pairingsecret` bytes: server secret ‖ its RSA-SHA256 signature.
    pub fn server_challenge_response(
        &mut self,
        encrypted: &[u8],
        host: &HostKeys,
    ) -> Result<Vec<u8>, PairingError> {
        let Phase::AwaitingServerChallengeResp {
            key,
            server_challenge,
            server_secret,
        } = self.take_phase()
        else {
            return Err(PairingError::OutOfOrder);
        };
        if encrypted.len() != CLIENT_HASH_CIPHERTEXT_LEN {
            return Err(PairingError::Malformed(
                "serverchallengeresp is not 32 bytes",
            ));
        }
        let mut client_hash = [0u8; HASH_LEN];
        client_hash.copy_from_slice(&aes_ecb_decrypt(&key, encrypted));
        let signature = host.signing_key.sign(&server_secret).to_vec();
        self.phase = Phase::AwaitingClientPairingSecret {
            server_challenge,
            client_hash,
        };
        Ok([server_secret.as_slice(), &signature].concat())
    }

    /// Step 4 (`clientpairingsecret`: client secret ‖ its signature). On success the client
    /// is paired: store the returned certificate and answer `paired=1`.
    pub fn client_pairing_secret(mut self, secret: &[u8]) -> Result<PairedClient, PairingError> {
        let Phase::AwaitingClientPairingSecret {
            server_challenge,
            client_hash,
        } = self.take_phase()
        else {
            return Err(PairingError::OutOfOrder);
        };
        if secret.len() <= CLIENT_SECRET_LEN {
            return Err(PairingError::Malformed("clientpairingsecret too short"));
        }
        if secret.len() > CLIENT_SECRET_LEN + MAX_CLIENT_SIGNATURE_LEN {
            return Err(PairingError::Malformed("clientpairingsecret too long"));
        }
        let (client_secret, signature) = secret.split_at(CLIENT_SECRET_LEN);
        let expected = sha256(&[&server_challenge, &self.client.signature, client_secret]);
        if !constant_time_eq(&expected, &client_hash) {
            return Err(PairingError::WrongPin);
        }
        let signature = Signature::try_from(signature).map_err(|_| PairingError::BadSignature)?;
        VerifyingKey::<Sha256>::new(self.client.public_key.clone())
            .verify(client_secret, &signature)
            .map_err(|_| PairingError::BadSignature)?;
        let fingerprint = sha256(&[&self.client.der]);
        Ok(PairedClient {
            cert_der: std::mem::take(&mut self.client.der),
            fingerprint,
        })
    }

    /// The current phase, leaving `Failed` behind: a step that returns early stays failed.
    fn take_phase(&mut self) -> Phase {
        std::mem::replace(&mut self.phase, Phase::Failed)
    }
}

/// `salt` of step 1: exactly 32 hex digits.
pub fn salt_from_hex(hex: &str) -> Result<[u8; SALT_LEN], PairingError> {
    crate::nvhttp::decode_hex(hex)?
        .try_into()
        .map_err(|_| PairingError::Malformed("salt is not 16 bytes"))
}

/// K = the first 16 bytes of SHA-256(salt ‖ PIN digits).
fn pin_key(salt: &[u8; SALT_LEN], pin: &str) -> [u8; AES_KEY_LEN] {
    let hash = sha256(&[salt, pin.as_bytes()]);
    let mut key = [0u8; AES_KEY_LEN];
    key.copy_from_slice(&hash[..AES_KEY_LEN]);
    key
}

fn split_random(
    random: [u8; SERVER_CHALLENGE_LEN + SERVER_SECRET_LEN],
) -> ([u8; SERVER_CHALLENGE_LEN], [u8; SERVER_SECRET_LEN]) {
    let mut challenge = [0u8; SERVER_CHALLENGE_LEN];
    let mut secret = [0u8; SERVER_SECRET_LEN];
    challenge.copy_from_slice(&random[..SERVER_CHALLENGE_LEN]);
    secret.copy_from_slice(&random[SERVER_CHALLENGE_LEN..]);
    (challenge, secret)
}

fn sha256(parts: &[&[u8]]) -> [u8; HASH_LEN] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// AES-128-ECB over whole blocks (callers pass multiples of 16 bytes).
fn aes_ecb_encrypt(key: &[u8; AES_KEY_LEN], data: &[u8]) -> Vec<u8> {
    debug_assert!(data.len().is_multiple_of(AES_BLOCK_LEN));
    let cipher = Aes128::new(&GenericArray::from(*key));
    let mut out = data.to_vec();
    for block in out.chunks_exact_mut(AES_BLOCK_LEN) {
        cipher.encrypt_block(GenericArray::from_mut_slice(block));
    }
    out
}

fn aes_ecb_decrypt(key: &[u8; AES_KEY_LEN], data: &[u8]) -> Vec<u8> {
    debug_assert!(data.len().is_multiple_of(AES_BLOCK_LEN));
    let cipher = Aes128::new(&GenericArray::from(*key));
    let mut out = data.to_vec();
    for block in out.chunks_exact_mut(AES_BLOCK_LEN) {
        cipher.decrypt_block(GenericArray::from_mut_slice(block));
    }
    out
}

/// What pairing needs from a certificate.
struct ParsedCert {
    der: Vec<u8>,
    /// The certificate's own signatureValue bytes (OpenSSL's `X509_get0_signature`).
    signature: Vec<u8>,
    public_key: RsaPublicKey,
}

impl ParsedCert {
    fn from_der(der: &[u8]) -> Result<Self, PairingError> {
        let (rest, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|_| PairingError::Malformed("certificate does not parse"))?;
        let der = &der[..der.len() - rest.len()];
        let public_key = RsaPublicKey::from_public_key_der(cert.public_key().raw)
            .map_err(|_| PairingError::Malformed("certificate key is not RSA"))?;
        Ok(Self {
            der: der.to_vec(),
            signature: cert.signature_value.data.to_vec(),
            public_key,
        })
    }
}

/// The DER inside the first `CERTIFICATE` PEM block of `pem`.
fn pem_certificate_der(pem: &[u8]) -> Result<Vec<u8>, PairingError> {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem)
        .map_err(|_| PairingError::Malformed("certificate is not PEM"))?;
    if block.label != PEM_CERTIFICATE_LABEL {
        return Err(PairingError::Malformed("PEM block is not a certificate"));
    }
    Ok(block.contents)
}

/// PEM text of a DER certificate: base64 in lines of 64, as OpenSSL writes it.
fn certificate_pem(der: &[u8]) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut base64 = Vec::with_capacity(der.len().div_ceil(3) * 4);
    for chunk in der.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from_be_bytes([0, b[0], b[1], b[2]]);
        for i in 0..4 {
            if i <= chunk.len() {
                base64.push(ALPHABET[(n >> (18 - 6 * i) & 0x3F) as usize]);
            } else {
                base64.push(b'=');
            }
        }
    }
    let mut pem = format!("-----BEGIN {PEM_CERTIFICATE_LABEL}-----\n").into_bytes();
    for line in base64.chunks(64) {
        pem.extend_from_slice(line);
        pem.push(b'\n');
    }
    pem.extend_from_slice(format!("-----END {PEM_CERTIFICATE_LABEL}-----\n").as_bytes());
    pem
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rsa::rand_core::{CryptoRng, RngCore};
    use std::sync::OnceLock;

    /// Deterministic randomness for key generation: SHA-256 of a seed and a counter.
    struct TestRng {
        seed: u8,
        counter: u64,
    }

    impl RngCore for TestRng {
        fn next_u32(&mut self) -> u32 {
            let mut b = [0u8; 4];
            self.fill_bytes(&mut b);
            u32::from_le_bytes(b)
        }
        fn next_u64(&mut self) -> u64 {
            let mut b = [0u8; 8];
            self.fill_bytes(&mut b);
            u64::from_le_bytes(b)
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            for chunk in dest.chunks_mut(HASH_LEN) {
                self.counter += 1;
                let block = sha256(&[&[self.seed], &self.counter.to_le_bytes()]);
                chunk.copy_from_slice(&block[..chunk.len()]);
            }
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }
    impl CryptoRng for TestRng {}

    /// An RSA-2048 key and a self-signed certificate for it (made with rcgen, as the host's
    /// identity is).
    struct Party {
        key: RsaPrivateKey,
        key_der: Vec<u8>,
        cert_der: Vec<u8>,
    }

    fn make_party(seed: u8, name: &str) -> Party {
        use rsa::pkcs8::EncodePrivateKey;
        let key = RsaPrivateKey::new(&mut TestRng { seed, counter: 0 }, 2048).unwrap();
        let key_der = key.to_pkcs8_der().unwrap().as_bytes().to_vec();
        let signer = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
            &key_der.as_slice().into(),
            &rcgen::PKCS_RSA_SHA256,
        )
        .unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let cert = params.self_signed(&signer).unwrap();
        Party {
            key,
            key_der,
            cert_der: cert.der().to_vec(),
        }
    }

    fn host() -> &'static Party {
        static HOST: OnceLock<Party> = OnceLock::new();
        HOST.get_or_init(|| make_party(1, "punktfunk GameStream host"))
    }

    fn client() -> &'static Party {
        static CLIENT: OnceLock<Party> = OnceLock::new();
        CLIENT.get_or_init(|| make_party(2, "NVIDIA GameStream Client"))
    }

    fn mallory() -> &'static Party {
        static MALLORY: OnceLock<Party> = OnceLock::new();
        MALLORY.get_or_init(|| make_party(3, "NVIDIA GameStream Client"))
    }

    fn host_keys() -> HostKeys {
        HostKeys::from_der(&host().cert_der, &host().key_der).unwrap()
    }

    /// The client side of the ceremony, written from moonlight-qt's `NvPairingManager::pair`
    /// (SHA-256 generation).
    struct TestClient<'a> {
        me: &'a Party,
        key: [u8; AES_KEY_LEN],
        challenge: [u8; 16],
        secret: [u8; 16],
        server_cert_pem: Vec<u8>,
        server_response: Vec<u8>,
    }

    impl<'a> TestClient<'a> {
        fn new(me: &'a Party, salt: &[u8; 16], pin: &str) -> Self {
            Self {
                me,
                key: pin_key(salt, pin),
                challenge: *b"client challenge",
                secret: *b"client secret 16",
                server_cert_pem: Vec::new(),
                server_response: Vec::new(),
            }
        }

        fn cert_pem(&self) -> Vec<u8> {
            certificate_pem(&self.me.cert_der)
        }

        fn got_plaincert(&mut self, pem: Vec<u8>) {
            self.server_cert_pem = pem;
        }

        fn step2(&self) -> Vec<u8> {
            aes_ecb_encrypt(&self.key, &self.challenge)
        }

        /// Decrypts the challenge response and returns E(H(SC ‖ my sig ‖ CS)).
        fn step3(&mut self, challenge_response: &[u8]) -> Vec<u8> {
            let plain = aes_ecb_decrypt(&self.key, challenge_response);
            assert_eq!(plain.len(), HASH_LEN + SERVER_CHALLENGE_LEN);
            self.server_response = plain[..HASH_LEN].to_vec();
            let my_sig = client_cert_signature(&self.me.cert_der);
            let hash = sha256(&[&plain[HASH_LEN..], &my_sig, &self.secret]);
            aes_ecb_encrypt(&self.key, &hash)
        }

        /// The client's own checks of `pairingsecret`: the MITM check, then the PIN check.
        fn check_pairing_secret(&self, pairing_secret: &[u8]) -> Result<(), &'static str> {
            let (server_secret, signature) = pairing_secret.split_at(SERVER_SECRET_LEN);
            let der = pem_certificate_der(&self.server_cert_pem).unwrap();
            let cert = ParsedCert::from_der(&der).unwrap();
            VerifyingKey::<Sha256>::new(cert.public_key)
                .verify(server_secret, &Signature::try_from(signature).unwrap())
                .map_err(|_| "MITM")?;
            let expected = sha256(&[&self.challenge, &cert.signature, server_secret]);
            if expected.as_slice() != self.server_response {
                return Err("incorrect PIN");
            }
            Ok(())
        }

        fn step4(&self) -> Vec<u8> {
            let key = SigningKey::<Sha256>::new(self.me.key.clone());
            [self.secret.as_slice(), &key.sign(&self.secret).to_vec()].concat()
        }
    }

    fn client_cert_signature(der: &[u8]) -> Vec<u8> {
        ParsedCert::from_der(der).unwrap().signature
    }

    const SALT: [u8; 16] = *b"0123456789abcdef";
    const RANDOM: [u8; 32] = *b"server challengeserver secret 16";

    /// Runs steps 1–3 and returns the attempt ready for step 4, plus the client.
    fn through_step3<'a>(
        host_pin: &str,
        client_pin: &str,
        me: &'a Party,
    ) -> (PairingAttempt, TestClient<'a>, HostKeys, Vec<u8>) {
        let keys = host_keys();
        let mut c = TestClient::new(me, &SALT, client_pin);
        let mut attempt = PairingAttempt::begin(SALT, &c.cert_pem()).unwrap();
        assert!(attempt.awaiting_pin());
        c.got_plaincert(attempt.accept_pin(host_pin, &keys).unwrap());
        assert!(!attempt.awaiting_pin());
        let response = attempt.client_challenge(&c.step2(), &keys, RANDOM).unwrap();
        assert_eq!(response.len(), 48);
        let secret = attempt
            .server_challenge_response(&c.step3(&response), &keys)
            .unwrap();
        assert_eq!(secret.len(), 16 + 256);
        (attempt, c, keys, secret)
    }

    #[test]
    fn right_pin_pairs_with_the_clients_fingerprint() {
        let (attempt, c, keys, secret) = through_step3("4711", "4711", client());
        assert_eq!(c.server_cert_pem, keys.cert_pem());
        assert_eq!(
            pem_certificate_der(&c.server_cert_pem).unwrap(),
            host().cert_der
        );
        assert_eq!(c.check_pairing_secret(&secret), Ok(()));
        assert_eq!(
            &secret[..16],
            &RANDOM[16..],
            "the server secret is revealed"
        );
        let paired = attempt.client_pairing_secret(&c.step4()).unwrap();
        assert_eq!(paired.cert_der, client().cert_der);
        assert_eq!(paired.fingerprint, sha256(&[&client().cert_der]));
    }

    #[test]
    fn wrong_pin_fails_at_step_4() {
        let (attempt, c, _, secret) = through_step3("4711", "4712", client());
        // A real client stops here ("incorrect PIN"); one that goes on is refused too.
        assert_eq!(c.check_pairing_secret(&secret), Err("incorrect PIN"));
        assert_eq!(
            attempt.client_pairing_secret(&c.step4()).unwrap_err(),
            PairingError::WrongPin
        );
    }

    #[test]
    fn tampered_or_foreign_signature_is_refused() {
        let (attempt, c, _, _) = through_step3("0000", "0000", client());
        let mut tampered = c.step4();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(
            attempt.client_pairing_secret(&tampered).unwrap_err(),
            PairingError::BadSignature
        );

        // The right hash, but the secret signed by a key other than the certificate's.
        let (attempt, c, _, _) = through_step3("0000", "0000", client());
        let foreign = SigningKey::<Sha256>::new(mallory().key.clone());
        let secret = [c.secret.as_slice(), &foreign.sign(&c.secret).to_vec()].concat();
        assert_eq!(
            attempt.client_pairing_secret(&secret).unwrap_err(),
            PairingError::BadSignature
        );

        // A signature of the wrong length.
        let (attempt, c, _, _) = through_step3("0000", "0000", client());
        let short = c.step4()[..16 + 255].to_vec();
        assert_eq!(
            attempt.client_pairing_secret(&short).unwrap_err(),
            PairingError::BadSignature
        );
    }

    #[test]
    fn steps_out_of_order_are_refused_and_fail_the_attempt() {
        let keys = host_keys();
        let pem = certificate_pem(&client().cert_der);
        let c = TestClient::new(client(), &SALT, "1234");

        // Step 2 before the PIN.
        let mut a = PairingAttempt::begin(SALT, &pem).unwrap();
        assert_eq!(
            a.client_challenge(&c.step2(), &keys, RANDOM),
            Err(PairingError::OutOfOrder)
        );
        assert_eq!(a.accept_pin("1234", &keys), Err(PairingError::OutOfOrder));

        // PIN twice.
        let mut a = PairingAttempt::begin(SALT, &pem).unwrap();
        a.accept_pin("1234", &keys).unwrap();
        assert_eq!(a.accept_pin("1234", &keys), Err(PairingError::OutOfOrder));
        assert_eq!(
            a.client_challenge(&c.step2(), &keys, RANDOM),
            Err(PairingError::OutOfOrder)
        );

        // Step 3 before step 2, step 4 before step 3.
        let mut a = PairingAttempt::begin(SALT, &pem).unwrap();
        a.accept_pin("1234", &keys).unwrap();
        assert_eq!(
            a.server_challenge_response(&[0; 32], &keys),
            Err(PairingError::OutOfOrder)
        );
        let mut a = PairingAttempt::begin(SALT, &pem).unwrap();
        a.accept_pin("1234", &keys).unwrap();
        a.client_challenge(&c.step2(), &keys, RANDOM).unwrap();
        assert_eq!(
            a.client_challenge(&c.step2(), &keys, RANDOM),
            Err(PairingError::OutOfOrder)
        );
        let a = PairingAttempt::begin(SALT, &pem).unwrap();
        assert_eq!(
            a.client_pairing_secret(&[0; 272]).unwrap_err(),
            PairingError::OutOfOrder
        );

        // A malformed step fails the attempt as well.
        let mut a = PairingAttempt::begin(SALT, &pem).unwrap();
        a.accept_pin("1234", &keys).unwrap();
        assert!(matches!(
            a.client_challenge(&[0; 15], &keys, RANDOM),
            Err(PairingError::Malformed(_))
        ));
        assert_eq!(
            a.client_challenge(&c.step2(), &keys, RANDOM),
            Err(PairingError::OutOfOrder)
        );
    }

    #[test]
    fn a_pin_that_is_not_four_digits_keeps_the_attempt_waiting() {
        let keys = host_keys();
        let mut a = PairingAttempt::begin(SALT, &certificate_pem(&client().cert_der)).unwrap();
        for bad in ["", "123", "12345", "12a4", "１２３４", "12 4"] {
            assert_eq!(
                a.accept_pin(bad, &keys),
                Err(PairingError::BadPin),
                "{bad:?}"
            );
            assert!(a.awaiting_pin());
        }
        assert!(a.accept_pin("0042", &keys).is_ok());
    }

    #[test]
    fn malformed_input_is_refused() {
        let keys = host_keys();
        let pem = certificate_pem(&client().cert_der);
        let malformed =
            |r: Result<PairingAttempt, PairingError>| matches!(r, Err(PairingError::Malformed(_)));
        assert!(malformed(PairingAttempt::begin(SALT, b"garbage")));
        assert!(malformed(PairingAttempt::begin(SALT, b"")));
        let not_a_cert = String::from_utf8(pem.clone())
            .unwrap()
            .replace("CERTIFICATE", "PRIVATE KEY");
        assert!(malformed(PairingAttempt::begin(
            SALT,
            not_a_cert.as_bytes()
        )));
        let mut broken = pem.clone();
        broken[40] = b'!';
        assert!(malformed(PairingAttempt::begin(SALT, &broken)));
        let huge = [pem.as_slice(), &vec![b'\n'; MAX_CLIENT_CERT_PEM_LEN]].concat();
        assert!(malformed(PairingAttempt::begin(SALT, &huge)));

        assert_eq!(salt_from_hex("30313233343536373839616263646566"), Ok(SALT));
        for bad in [
            "",
            "3031",
            "3031323334353637383961626364656630",
            "zz31323334353637383961626364656",
            "0",
        ] {
            assert!(
                matches!(salt_from_hex(bad), Err(PairingError::Malformed(_))),
                "{bad}"
            );
        }
        assert_eq!(
            PairingError::from(crate::nvhttp::decode_hex("xyz").unwrap_err()),
            PairingError::Malformed("not hex")
        );

        let c = TestClient::new(client(), &SALT, "1234");
        for len in [0, 15, 17, 32] {
            let mut a = PairingAttempt::begin(SALT, &pem).unwrap();
            a.accept_pin("1234", &keys).unwrap();
            assert!(
                matches!(
                    a.client_challenge(&vec![7; len], &keys, RANDOM),
                    Err(PairingError::Malformed(_))
                ),
                "{len}"
            );
        }
        for len in [0, 16, 31, 33, 48] {
            let mut a = PairingAttempt::begin(SALT, &pem).unwrap();
            a.accept_pin("1234", &keys).unwrap();
            a.client_challenge(&c.step2(), &keys, RANDOM).unwrap();
            assert!(
                matches!(
                    a.server_challenge_response(&vec![7; len], &keys),
                    Err(PairingError::Malformed(_))
                ),
                "{len}"
            );
        }
        for len in [0, 1, 16, 16 + MAX_CLIENT_SIGNATURE_LEN + 1] {
            let (a, _, _, _) = through_step3("1234", "1234", client());
            assert!(
                matches!(
                    a.client_pairing_secret(&vec![7; len]),
                    Err(PairingError::Malformed(_))
                ),
                "{len}"
            );
        }
    }

    #[test]
    fn host_keys_are_checked() {
        let h = host();
        let pem = certificate_pem(&h.cert_der);
        assert!(HostKeys::new(&h.cert_der, &pem, &h.key_der).is_ok());
        let other = certificate_pem(&client().cert_der);
        assert!(matches!(
            HostKeys::new(&h.cert_der, &other, &h.key_der),
            Err(PairingError::HostKeys(_))
        ));
        assert!(matches!(
            HostKeys::from_der(&h.cert_der, &client().key_der),
            Err(PairingError::HostKeys(_))
        ));
        assert!(matches!(
            HostKeys::from_der(&h.cert_der, b"not a key"),
            Err(PairingError::HostKeys(_))
        ));
        // An ECDSA certificate (the native plane's kind) is no GameStream host certificate.
        let ec = rcgen::KeyPair::generate().unwrap();
        let ec_cert = rcgen::CertificateParams::new(vec!["x".to_owned()])
            .unwrap()
            .self_signed(&ec)
            .unwrap();
        assert!(matches!(
            HostKeys::from_der(ec_cert.der(), &ec.serialize_der()),
            Err(PairingError::HostKeys(_))
        ));
    }

    #[test]
    fn pem_encoding_matches_the_parser() {
        for len in [0usize, 1, 2, 3, 4, 47, 48, 49, 100] {
            let data: Vec<u8> = (0..len).map(|i| (i * 37) as u8).collect();
            let pem = certificate_pem(&data);
            let (_, block) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
            assert_eq!(block.contents, data, "{len}");
        }
        // A known answer: RFC 4648's "foobar" test vector.
        let pem = String::from_utf8(certificate_pem(b"foobar")).unwrap();
        assert!(pem.contains("\nZm9vYmFy\n"));
        let pem = String::from_utf8(certificate_pem(b"fo")).unwrap();
        assert!(pem.contains("\nZm8=\n"));
    }

    /// Values computed independently (Python: hashlib.sha256 and the `cryptography` package's
    /// AES-ECB) so that a shared misunderstanding of the test client cannot hide here.
    #[test]
    fn key_derivation_and_ecb_known_answers() {
        let key = pin_key(&SALT, "1234");
        assert_eq!(crate::nvhttp::encode_hex(&key), KAT_KEY,);
        let block = aes_ecb_encrypt(&key, b"client challenge");
        assert_eq!(crate::nvhttp::encode_hex(&block), KAT_ECB);
        assert_eq!(aes_ecb_decrypt(&key, &block), b"client challenge");
    }

    /// A certificate made by OpenSSL the way moonlight-qt makes its own (serial 0, v3,
    /// SHA-256, 20 years). The expected values come from Python's `cryptography` package.
    const OPENSSL_SERIAL_0_CERT: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIDFDCCAfygAwIBAgIBADANBgkqhkiG9w0BAQsFADAjMSEwHwYDVQQDDBhOVklE\n\
SUEgR2FtZVN0cmVhbSBDbGllbnQwHhcNMjYxMTI1MjAxNzU2WhcNNDYxMTIwMjAx\n\
NzU2WjAjMSEwHwYDVQQDDBhOVklESUEgR2FtZVN0cmVhbSBDbGllbnQwggEiMA0G\n\
CSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQDDPC57Aw9RrA5KkeOOf2VVBMAZG5lT\n\
a8lOczvfpdkiBN+919OektTWN91g3X+n1w0Mi/zPYemS6fBR6J1zCjy6DhE5u8Yi\n\
99F5S15N7RAoV33gb3evT0J57ass6aRAc7nAtZIciGNwIbGflDl2kn4PyRQEupPE\n\
byZrNUksmXD8clP1mbkcPeQJIDYzjxhTesIUPg/G5w2t80obNAiBa9VWy3qMCiTG\n\
tYFU+CMwR6pOvlh4oNUbr0i0kd/BKBFY8fF53wzaqexy1JisUxP6Oht//p0lkUID\n\
CnNcmQUVMLoE4ZSxggCMVZETNhePMeY75NxgV2iDEnTP+yYaA2KhZzb3AgMBAAGj\n\
UzBRMB0GA1UdDgQWBBQUefOMKkDGebXDG4BKXMyMdpXMeDAfBgNVHSMEGDAWgBQU\n\
efOMKkDGebXDG4BKXMyMdpXMeDAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEB\n\
CwUAA4IBAQAipsSE1a27Iv7xiGzH0ZVE9j7GDhQfZQoKwZtJkrhoK3uopFn/WR0t\n\
X2tPpkq3QrOoAkJu7mr34F2LUonFk27Am7vq+XKNK8po6TSR+jO4j0Q0Hb3MTbn6\n\
tECHOYcdxArGhz0WuoTWxfw72v63I5B//VDhhhYDMGuE7QFxg/J87jmzL7E3//Iv\n\
mnyqG6mYM21UX2kzsez3H9opzn5wPt7in/5/fiumtMp69SOPVF/EQK9N2iwztAYH\n\
4WoaSPCKbQcIcSvPpgxEm9WptgCINZAMEX6RsyxWVIJcPZMn+gbgerjX+H4/9/Wy\n\
MgyH3nVbpwsDajg5ldfHpjnE7FEdJR1m\n\
-----END CERTIFICATE-----\n";

    #[test]
    fn reads_an_openssl_client_certificate_with_serial_0() {
        let attempt = PairingAttempt::begin(SALT, OPENSSL_SERIAL_0_CERT.as_bytes()).unwrap();
        let sig = crate::nvhttp::encode_hex(&attempt.client.signature);
        assert_eq!(attempt.client.signature.len(), 256);
        assert!(sig.starts_with("22A6C484D5ADBB22") && sig.ends_with("39C4EC511D251D66"));
        assert_eq!(
            crate::nvhttp::encode_hex(&sha256(&[&attempt.client.der])),
            "B843861496260EDB25161F975BCD9B5F8ACF21B86637D260EF2FCF7FBBAF6F26"
        );
    }

    const KAT_KEY: &str = "E3B463436940C31A5D2C444C01D67F23";
    const KAT_ECB: &str = "86356EB501B68A267E7A770FD8B3D904";

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn arbitrary_step_bytes_never_panic(
            pem in proptest::collection::vec(any::<u8>(), 0..2048),
            step2 in proptest::collection::vec(any::<u8>(), 0..64),
            step3 in proptest::collection::vec(any::<u8>(), 0..64),
            step4 in proptest::collection::vec(any::<u8>(), 0..600),
        ) {
            let _ = PairingAttempt::begin(SALT, &pem);
            let keys = host_keys();
            let mut a = PairingAttempt::begin(SALT, &certificate_pem(&client().cert_der)).unwrap();
            a.accept_pin("9999", &keys).unwrap();
            if a.client_challenge(&step2, &keys, RANDOM).is_ok()
                && a.server_challenge_response(&step3, &keys).is_ok()
            {
                prop_assert!(a.client_pairing_secret(&step4).is_err());
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]

        /// Pairing succeeds exactly when both sides typed the same PIN, whatever the salt and
        /// randomness.
        #[test]
        fn pairs_iff_the_pins_match(
            host_pin in "[0-9]{4}", client_pin in "[0-9]{4}", same in any::<bool>(),
            salt in any::<[u8; 16]>(), random in any::<[u8; 32]>(),
            challenge in any::<[u8; 16]>(), secret in any::<[u8; 16]>(),
        ) {
            let client_pin = if same { host_pin.clone() } else { client_pin };
            let keys = host_keys();
            let mut c = TestClient::new(client(), &salt, &client_pin);
            c.challenge = challenge;
            c.secret = secret;
            let mut a = PairingAttempt::begin(salt, &c.cert_pem()).unwrap();
            c.got_plaincert(a.accept_pin(&host_pin, &keys).unwrap());
            let response = a.client_challenge(&c.step2(), &keys, random).unwrap();
            let pairing_secret = a.server_challenge_response(&c.step3(&response), &keys).unwrap();
            let client_ok = c.check_pairing_secret(&pairing_secret).is_ok();
            let result = a.client_pairing_secret(&c.step4());
            prop_assert_eq!(client_ok, host_pin == client_pin);
            if host_pin == client_pin {
                prop_assert_eq!(result.unwrap().fingerprint, sha256(&[&client().cert_der]));
            } else {
                prop_assert_eq!(result.unwrap_err(), PairingError::WrongPin);
            }
        }
    }
}
