//! The hosts a client trusts: host address → pinned certificate fingerprint, kept in the
//! client's config dir and written atomically. A host is pinned when pairing succeeds (or at the
//! first session with an open host); afterwards a different certificate is refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use punktfunk_net::identity::Fingerprint;
use serde::{Deserialize, Serialize};

pub const FILE: &str = "known-hosts.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownHost {
    /// SHA-256 of the host certificate, hex.
    pub fingerprint: String,
    /// Unix seconds.
    pub pinned_at: u64,
}

#[derive(Debug)]
pub struct KnownHosts {
    path: PathBuf,
    hosts: BTreeMap<String, KnownHost>,
}

impl KnownHosts {
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(FILE);
        let hosts = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "{} is damaged; fix or move it away (hosts will have to pair again)",
                    path.display()
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        Ok(Self { path, hosts })
    }

    /// The fingerprint pinned for `host` (as the user names it, e.g. `10.0.0.2:9777`).
    pub fn get(&self, host: &str) -> anyhow::Result<Option<Fingerprint>> {
        self.hosts
            .get(host)
            .map(|k| {
                Fingerprint::from_hex(&k.fingerprint)
                    .with_context(|| format!("{}: bad fingerprint for {host}", self.path.display()))
            })
            .transpose()
    }

    pub fn pin(&mut self, host: &str, fingerprint: Fingerprint) -> anyhow::Result<()> {
        let pinned_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.hosts.insert(
            host.to_owned(),
            KnownHost {
                fingerprint: fingerprint.to_string(),
                pinned_at,
            },
        );
        self.save()
    }

    /// Forgets a host; whether it was known.
    pub fn forget(&mut self, host: &str) -> anyhow::Result<bool> {
        let known = self.hosts.remove(host).is_some();
        if known {
            self.save()?;
        }
        Ok(known)
    }

    fn save(&self) -> anyhow::Result<()> {
        let mut bytes = serde_json::to_vec_pretty(&self.hosts)?;
        bytes.push(b'\n');
        punktfunk_net::store::write_private(&self.path, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_persist_and_forget() {
        let dir = std::env::temp_dir().join(format!("pf-known-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut known = KnownHosts::load(&dir).unwrap();
        assert_eq!(known.get("h:1").unwrap(), None);
        known.pin("h:1", Fingerprint([7; 32])).unwrap();
        let again = KnownHosts::load(&dir).unwrap();
        assert_eq!(again.get("h:1").unwrap(), Some(Fingerprint([7; 32])));
        assert!(known.forget("h:1").unwrap());
        assert!(!known.forget("h:1").unwrap());
        assert_eq!(KnownHosts::load(&dir).unwrap().get("h:1").unwrap(), None);
    }
}
