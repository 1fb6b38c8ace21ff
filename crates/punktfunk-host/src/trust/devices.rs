//! The paired-device store: one JSON file in the config dir, shared by both planes, written
//! atomically (temp file, fsync, rename) so a crash mid-write leaves the old or the new file.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// File name of the store in the config dir.
pub const FILE: &str = "devices.json";
const VERSION: u32 = 1;

/// Which plane a device paired through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PlaneKind {
    Native,
    Gamestream,
}

/// How a device came to be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PairedBy {
    /// SPAKE2 PIN ceremony (native) or the GameStream PIN exchange.
    Pin,
    /// `serve --open`: pinned on first use.
    Tofu,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Device {
    pub name: String,
    /// SHA-256 of the device's certificate, lower-case hex.
    pub fingerprint: String,
    pub plane: PlaneKind,
    pub paired_by: PairedBy,
    /// Unix seconds.
    pub paired_at: u64,
    pub last_seen: Option<u64>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct OnDisk {
    version: u32,
    devices: Vec<Device>,
}

#[derive(Debug)]
pub struct DeviceStore {
    path: PathBuf,
    devices: Vec<Device>,
}

/// Why an unpair found nothing to remove.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LookupError {
    #[error(
        "no paired device has a fingerprint starting with {0:?} (see `punktfunk-host ctl clients`)"
    )]
    NotFound(String),
    #[error("{0:?} matches several devices: give more digits of the fingerprint")]
    Ambiguous(String),
    #[error("{0:?} is not a fingerprint: give at least 8 hex digits")]
    TooShort(String),
}

impl DeviceStore {
    /// Loads the store in `dir` (empty when there is none). A file that does not parse is an
    /// error with advice, never silently replaced: it holds every pairing.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(FILE);
        let devices = match std::fs::read(&path) {
            Ok(bytes) => {
                let disk: OnDisk = serde_json::from_slice(&bytes).with_context(|| {
                    format!(
                        "{} is damaged; fix or move it away (devices will have to pair again)",
                        path.display()
                    )
                })?;
                anyhow::ensure!(
                    disk.version == VERSION,
                    "{} has version {}; this host reads version {VERSION}",
                    path.display(),
                    disk.version
                );
                disk.devices
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        Ok(Self { path, devices })
    }

    fn save(&self) -> anyhow::Result<()> {
        let disk = OnDisk {
            version: VERSION,
            devices: self.devices.clone(),
        };
        let mut bytes = serde_json::to_vec_pretty(&disk)?;
        bytes.push(b'\n');
        punktfunk_net::store::write_private(&self.path, &bytes)
    }

    pub fn devices(&self) -> &[Device] {
        &self.devices
    }

    pub fn find(&self, fingerprint: &str, plane: PlaneKind) -> Option<&Device> {
        self.devices
            .iter()
            .find(|d| d.fingerprint == fingerprint && d.plane == plane)
    }

    /// Stores a device (replacing one with the same fingerprint and plane) and saves. On a
    /// failed save the store in memory is left as it was.
    pub fn pair(&mut self, device: Device) -> anyhow::Result<()> {
        let before = self.devices.clone();
        self.devices
            .retain(|d| !(d.fingerprint == device.fingerprint && d.plane == device.plane));
        self.devices.push(device);
        self.save().inspect_err(|_| self.devices = before)
    }

    /// Records that a device connected now.
    pub fn touch(&mut self, fingerprint: &str, plane: PlaneKind, now: u64) -> anyhow::Result<()> {
        let before = self.devices.clone();
        if let Some(d) = self
            .devices
            .iter_mut()
            .find(|d| d.fingerprint == fingerprint && d.plane == plane)
        {
            d.last_seen = Some(now);
            return self.save().inspect_err(|_| self.devices = before);
        }
        Ok(())
    }

    /// The one device whose fingerprint starts with `prefix` (≥ 8 hex digits).
    pub fn lookup(&self, prefix: &str) -> Result<&Device, LookupError> {
        let prefix_lc = prefix.to_ascii_lowercase();
        if prefix_lc.len() < 8 || !prefix_lc.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(LookupError::TooShort(prefix.into()));
        }
        let mut hits = self
            .devices
            .iter()
            .filter(|d| d.fingerprint.starts_with(&prefix_lc));
        match (hits.next(), hits.next()) {
            (Some(d), None) => Ok(d),
            (None, _) => Err(LookupError::NotFound(prefix.into())),
            (Some(a), Some(b)) if a.fingerprint == b.fingerprint && hits.next().is_none() => {
                // The same device paired on both planes: one fingerprint.
                Ok(a)
            }
            _ => Err(LookupError::Ambiguous(prefix.into())),
        }
    }

    /// Renames the device `prefix` names (on every plane) and saves; returns it renamed.
    pub fn rename(&mut self, prefix: &str, name: &str) -> anyhow::Result<Device> {
        let fingerprint = self.lookup(prefix)?.fingerprint.clone();
        let before = self.devices.clone();
        for d in self
            .devices
            .iter_mut()
            .filter(|d| d.fingerprint == fingerprint)
        {
            d.name = name.to_owned();
        }
        self.save().inspect_err(|_| self.devices = before)?;
        Ok(self.lookup(&fingerprint)?.clone())
    }

    /// Removes every pairing of the device `prefix` names and saves; returns what was removed.
    pub fn unpair(&mut self, prefix: &str) -> anyhow::Result<Vec<Device>> {
        let fingerprint = self.lookup(prefix)?.fingerprint.clone();
        let before = self.devices.clone();
        let (removed, kept) = before
            .iter()
            .cloned()
            .partition(|d| d.fingerprint == fingerprint);
        self.devices = kept;
        self.save().inspect_err(|_| self.devices = before)?;
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(fp: &str, plane: PlaneKind) -> Device {
        Device {
            name: "dev".into(),
            fingerprint: fp.into(),
            plane,
            paired_by: PairedBy::Pin,
            paired_at: 1,
            last_seen: None,
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pf-devices-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn pairs_persist_and_unpair_by_prefix() {
        let dir = scratch("persist");
        let mut store = DeviceStore::load(&dir).unwrap();
        assert!(store.devices().is_empty());
        store.pair(device("aaaaaaaa11", PlaneKind::Native)).unwrap();
        store.pair(device("aaaaaaaa22", PlaneKind::Native)).unwrap();
        store
            .pair(device("aaaaaaaa22", PlaneKind::Gamestream))
            .unwrap();
        // Re-pairing replaces, never duplicates.
        store.pair(device("aaaaaaaa11", PlaneKind::Native)).unwrap();
        assert_eq!(store.devices().len(), 3);
        store.touch("aaaaaaaa11", PlaneKind::Native, 99).unwrap();
        let again = DeviceStore::load(&dir).unwrap();
        assert_eq!(again.devices(), store.devices());
        assert_eq!(
            again
                .find("aaaaaaaa11", PlaneKind::Native)
                .unwrap()
                .last_seen,
            Some(99)
        );
        assert!(punktfunk_net::store::is_private(&dir.join(FILE)));

        assert_eq!(
            store.lookup("aaaaaaaa").unwrap_err(),
            LookupError::Ambiguous("aaaaaaaa".into())
        );
        assert_eq!(
            store.lookup("aaaa").unwrap_err(),
            LookupError::TooShort("aaaa".into())
        );
        assert_eq!(
            store.lookup("bbbbbbbb").unwrap_err(),
            LookupError::NotFound("bbbbbbbb".into())
        );
        let removed = store.unpair("AAAAAAAA2").unwrap();
        assert_eq!(removed.len(), 2, "both planes of that device");
        assert_eq!(DeviceStore::load(&dir).unwrap().devices().len(), 1);
    }

    #[test]
    fn a_damaged_store_is_refused_not_replaced() {
        let dir = scratch("damaged");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(FILE), b"{\"version\":1,\"devi").unwrap();
        let e = format!("{:#}", DeviceStore::load(&dir).unwrap_err());
        assert!(e.contains("damaged"), "{e}");
        assert_eq!(
            std::fs::read(dir.join(FILE)).unwrap(),
            b"{\"version\":1,\"devi"
        );
    }
}
