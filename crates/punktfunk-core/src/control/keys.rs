//! Media secrets from the QUIC connection's TLS exporter: no key material ever crosses the wire.
//!
//! Both ends call the exporter with [`EXPORTER_LABEL`] and the 16-byte session id as context
//! (32 bytes out), then expand one secret per direction with HKDF-Expand-SHA256.

use ring::hkdf;

use crate::crypto::MediaSecret;
pub use crate::wire::control::EXPORTER_LABEL;
use crate::wire::control::{MEDIA_INFO_C2H, MEDIA_INFO_H2C};

/// The two directions' media secrets of one session.
pub struct MediaSecrets {
    pub host_to_client: MediaSecret,
    pub client_to_host: MediaSecret,
}

struct Len32;
impl hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

/// Expands the exporter output into the per-direction secrets.
pub fn media_secrets(exporter: &[u8; 32]) -> MediaSecrets {
    let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, exporter);
    let expand = |info: &[u8]| {
        let mut out = [0u8; 32];
        prk.expand(&[info], Len32)
            .and_then(|okm| okm.fill(&mut out))
            .expect("32 bytes of HKDF output");
        MediaSecret::new(out)
    };
    MediaSecrets {
        host_to_client: expand(MEDIA_INFO_H2C),
        client_to_host: expand(MEDIA_INFO_C2H),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_differ_and_depend_on_the_exporter() {
        let a = media_secrets(&[1; 32]);
        let b = media_secrets(&[2; 32]);
        assert_ne!(a.host_to_client.to_hex(), a.client_to_host.to_hex());
        assert_ne!(a.host_to_client.to_hex(), b.host_to_client.to_hex());
        assert_eq!(
            a.host_to_client.to_hex(),
            media_secrets(&[1; 32]).host_to_client.to_hex()
        );
    }
}
