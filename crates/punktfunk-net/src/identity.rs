//! TLS identities: a self-signed certificate and its key. The identity of a peer is the SHA-256
//! of its certificate's DER (its fingerprint).

use ring::digest;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

#[derive(Debug)]
pub struct Identity {
    pub cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Self {
            cert: self.cert.clone(),
            key: self.key.clone_key(),
        }
    }
}

/// The key behind an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// The native plane's (modern, small, fast).
    EcdsaP256,
    /// GameStream's: Moonlight clients expect RSA-2048 with SHA-256 signatures.
    Rsa2048,
}

/// File names of an identity in its directory.
const CERT_FILE: &str = "cert.der";
const KEY_FILE: &str = "key.der";

impl Identity {
    /// The identity kept in `dir` (`cert.der`, `key.der`), made and saved on first use. A file
    /// that exists but cannot be used is an error, never silently replaced: the fingerprint is
    /// what peers have pinned.
    pub fn load_or_create(dir: &std::path::Path, name: &str) -> anyhow::Result<Self> {
        Self::load_or_create_kind(dir, name, KeyKind::EcdsaP256)
    }

    /// [`Self::load_or_create`] with the key kind to make when there is none yet.
    pub fn load_or_create_kind(
        dir: &std::path::Path,
        name: &str,
        kind: KeyKind,
    ) -> anyhow::Result<Self> {
        use anyhow::Context;
        let (cert_path, key_path) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
        match (cert_path.exists(), key_path.exists()) {
            (true, true) => {
                let cert = std::fs::read(&cert_path)
                    .with_context(|| format!("cannot read {}", cert_path.display()))?;
                let key = std::fs::read(&key_path)
                    .with_context(|| format!("cannot read {}", key_path.display()))?;
                let identity = Self {
                    cert: CertificateDer::from(cert),
                    key: PrivatePkcs8KeyDer::from(key),
                };
                identity.check().with_context(|| {
                    format!(
                        "the identity in {} is damaged; move it away to make a new one \
                         (paired devices will have to pair again)",
                        dir.display()
                    )
                })?;
                Ok(identity)
            }
            (false, false) => {
                let identity = Self::generate_kind(name, kind)?;
                crate::store::write_private(&key_path, identity.key.secret_pkcs8_der())?;
                crate::store::write_private(&cert_path, identity.cert.as_ref())?;
                tracing::info!(dir = %dir.display(), fingerprint = %identity.fingerprint(),
                    "made a new identity");
                Ok(identity)
            }
            _ => anyhow::bail!(
                "{} holds only half an identity ({} and {} go together); move it away to make a new one",
                dir.display(),
                CERT_FILE,
                KEY_FILE
            ),
        }
    }

    /// Whether the key parses and the certificate is one.
    fn check(&self) -> anyhow::Result<()> {
        rcgen::KeyPair::try_from(self.key.secret_pkcs8_der())?;
        rustls::server::ParsedCertificate::try_from(&self.cert)?;
        Ok(())
    }

    /// A fresh ECDSA P-256 identity named `name`.
    pub fn generate(name: &str) -> anyhow::Result<Self> {
        Self::generate_kind(name, KeyKind::EcdsaP256)
    }

    /// A fresh identity of the given key kind named `name`.
    pub fn generate_kind(name: &str, kind: KeyKind) -> anyhow::Result<Self> {
        let key = match kind {
            KeyKind::EcdsaP256 => rcgen::KeyPair::generate()?,
            KeyKind::Rsa2048 => {
                use rsa::pkcs8::EncodePrivateKey;
                let rsa = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)?;
                let der = rsa.to_pkcs8_der()?;
                rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
                    &PrivatePkcs8KeyDer::from(der.as_bytes().to_vec()),
                    &rcgen::PKCS_RSA_SHA256,
                )?
            }
        };
        let mut params = rcgen::CertificateParams::new(vec![name.to_owned()])?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let cert = params.self_signed(&key)?;
        Ok(Self {
            cert: cert.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }

    pub fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key.clone_key())
    }

    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(&self.cert)
    }
}

/// SHA-256 of a certificate's DER.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// Parses 64 hex digits (either case).
    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(out))
    }

    pub fn of(cert: &[u8]) -> Self {
        let d = digest::digest(&digest::SHA256, cert);
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        Self(out)
    }
}

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}
