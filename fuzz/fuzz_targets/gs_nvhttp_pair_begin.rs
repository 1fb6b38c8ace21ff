//! Pairing step 1 from the network: the hex salt and the client certificate PEM (bounded,
//! then parsed as X.509 with an RSA key). The first byte splits the input between the two.
#![no_main]

use libfuzzer_sys::fuzz_target;
use punktfunk_gamestream::nvhttp::decode_hex;
use punktfunk_gamestream::pairing::{salt_from_hex, PairingAttempt};

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let (salt_text, cert) = rest.split_at(usize::from(split).min(rest.len()));
    let salt = std::str::from_utf8(salt_text)
        .ok()
        .and_then(|s| salt_from_hex(s).ok())
        .unwrap_or([0; 16]);
    let _ = PairingAttempt::begin(salt, cert);
    // The same bytes as the hex `clientcert` of a query.
    if let Ok(hex) = std::str::from_utf8(cert) {
        if let Ok(pem) = decode_hex(hex) {
            let _ = PairingAttempt::begin(salt, &pem);
        }
    }
});
