//! Identities persist in their directory, owner-only, and a damaged one is refused, not replaced.

use std::path::PathBuf;

use punktfunk_net::identity::Identity;
use punktfunk_net::store::{config_dir, is_private};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pf-identity-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn an_identity_is_made_once_then_loaded() {
    let dir = scratch("persist").join("native-identity");
    let first = Identity::load_or_create(&dir, "host").unwrap();
    let again = Identity::load_or_create(&dir, "host").unwrap();
    assert_eq!(first.fingerprint(), again.fingerprint());
    for file in ["cert.der", "key.der"] {
        assert!(is_private(&dir.join(file)), "{file} is owner-only");
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "the directory is owner-only");
    // No temp files left behind.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn a_damaged_or_half_identity_is_refused_with_advice() {
    let dir = scratch("damaged");
    Identity::load_or_create(&dir, "host").unwrap();
    std::fs::write(dir.join("key.der"), b"not a key").unwrap();
    let e = format!("{:#}", Identity::load_or_create(&dir, "host").unwrap_err());
    assert!(e.contains("damaged") && e.contains("move it away"), "{e}");
    std::fs::remove_file(dir.join("key.der")).unwrap();
    let e = format!("{:#}", Identity::load_or_create(&dir, "host").unwrap_err());
    assert!(e.contains("half an identity"), "{e}");
    assert!(dir.join("cert.der").exists(), "nothing was replaced");
}

#[test]
fn the_config_dir_follows_the_override_then_xdg() {
    // One test touches the environment, so no other test races it.
    std::env::set_var("PF_TEST_DIR_OVERRIDE", "/tmp/pf-override");
    assert_eq!(
        config_dir("punktfunk", "PF_TEST_DIR_OVERRIDE").unwrap(),
        PathBuf::from("/tmp/pf-override")
    );
    std::env::remove_var("PF_TEST_DIR_OVERRIDE");
    std::env::set_var("XDG_CONFIG_HOME", "/tmp/pf-xdg");
    assert_eq!(
        config_dir("punktfunk", "PF_TEST_DIR_OVERRIDE").unwrap(),
        PathBuf::from("/tmp/pf-xdg/punktfunk")
    );
}

#[test]
fn the_gamestream_identity_is_rsa_2048_and_persists() {
    use punktfunk_net::identity::KeyKind;
    let dir = scratch("rsa").join("gamestream-identity");
    let first = Identity::load_or_create_kind(&dir, "punktfunk", KeyKind::Rsa2048).unwrap();
    let again = Identity::load_or_create_kind(&dir, "punktfunk", KeyKind::Rsa2048).unwrap();
    assert_eq!(first.fingerprint(), again.fingerprint());
    let key = rcgen::KeyPair::try_from(match &first.key() {
        rustls::pki_types::PrivateKeyDer::Pkcs8(k) => k.secret_pkcs8_der(),
        _ => panic!("PKCS#8 expected"),
    })
    .unwrap();
    assert!(key.is_compatible(&rcgen::PKCS_RSA_SHA256), "an RSA key");
    // 2048-bit modulus: the PKCS#1 RSAPublicKey of RSA-2048 (e = 65537) is 270 bytes.
    assert_eq!(key.public_key_raw().len(), 270);
}
