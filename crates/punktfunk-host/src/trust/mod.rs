//! Who may stream: the paired-device store, the PIN pairing window, and open (TOFU) mode.

pub mod devices;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use punktfunk_core::pairing::{
    pin_from_random, CeremonyOutcome, Fingerprint, PairingWindow, WindowRefusal, WindowStatus,
};
use ring::rand::{SecureRandom, SystemRandom};

pub use devices::{Device, DeviceStore, PairedBy, PlaneKind};

use crate::mgmt::events::{Event, Events};

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub fn hex(fp: &Fingerprint) -> String {
    punktfunk_net::identity::Fingerprint(*fp).to_string()
}

/// Parses 64 hex digits.
pub fn parse_fingerprint(s: &str) -> Option<Fingerprint> {
    punktfunk_net::identity::Fingerprint::from_hex(s).map(|f| f.0)
}

/// Whether a client may start a session.
#[derive(Debug, PartialEq, Eq)]
pub enum Admit {
    Paired,
    /// Open mode pinned it just now.
    PinnedOnFirstUse,
    NotPaired,
}

pub struct Trust {
    devices: Mutex<DeviceStore>,
    window: Mutex<PairingWindow>,
    /// `serve --open`: pin unknown clients on first use.
    pub open: bool,
    events: Arc<Events>,
}

impl Trust {
    pub fn load(config_dir: &Path, open: bool, events: Arc<Events>) -> anyhow::Result<Self> {
        Ok(Self {
            devices: Mutex::new(DeviceStore::load(config_dir)?),
            window: Mutex::new(PairingWindow::default()),
            open,
            events,
        })
    }

    fn devices(&self) -> std::sync::MutexGuard<'_, DeviceStore> {
        self.devices.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn window(&self) -> std::sync::MutexGuard<'_, PairingWindow> {
        self.window.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Decides on a client that says Hello; a paired one's last-seen time is updated.
    pub fn admit(&self, fp: &Fingerprint, plane: PlaneKind, name: &str) -> anyhow::Result<Admit> {
        let fp = hex(fp);
        let mut devices = self.devices();
        if devices.find(&fp, plane).is_some() {
            devices.touch(&fp, plane, unix_now())?;
            return Ok(Admit::Paired);
        }
        if !self.open {
            return Ok(Admit::NotPaired);
        }
        let now = unix_now();
        devices.pair(Device {
            name: name.to_owned(),
            fingerprint: fp.clone(),
            plane,
            paired_by: PairedBy::Tofu,
            paired_at: now,
            last_seen: Some(now),
        })?;
        self.events.emit(Event::DevicePaired {
            fingerprint: fp,
            name: name.to_owned(),
            paired_by: "tofu".into(),
        });
        Ok(Admit::PinnedOnFirstUse)
    }

    /// Opens the pairing window with a fresh PIN, which it returns.
    pub fn arm(&self, ttl: Duration, bound: Option<Fingerprint>) -> anyhow::Result<String> {
        let rng = SystemRandom::new();
        let mut failed = None;
        let pin = pin_from_random(|| {
            let mut b = [0u8; 2];
            if let Err(e) = rng.fill(&mut b) {
                failed = Some(e);
            }
            u16::from_le_bytes(b)
        });
        if failed.is_some() {
            anyhow::bail!("the system random generator failed");
        }
        self.window().arm(Instant::now(), ttl, pin.clone(), bound);
        self.events.emit(Event::PairingArmed {
            remaining_s: ttl.as_secs(),
            bound_to: bound.map(|b| hex(&b)),
        });
        Ok(pin)
    }

    pub fn disarm(&self) {
        self.window().disarm();
        self.events.emit(Event::PairingDisarmed);
    }

    pub fn window_status(&self) -> WindowStatus {
        self.window().status(Instant::now())
    }

    /// A client asks to pair: the PIN to run the ceremony with, or why not.
    pub fn begin_ceremony(&self, client: &Fingerprint) -> Result<String, WindowRefusal> {
        self.window().begin(Instant::now(), client)
    }

    pub fn end_ceremony(&self, outcome: CeremonyOutcome) {
        self.window().finish(Instant::now(), outcome);
    }

    /// Stores a device that completed a PIN ceremony.
    pub fn pin_device(&self, fp: &Fingerprint, plane: PlaneKind, name: &str) -> anyhow::Result<()> {
        self.devices().pair(Device {
            name: name.to_owned(),
            fingerprint: hex(fp),
            plane,
            paired_by: PairedBy::Pin,
            paired_at: unix_now(),
            last_seen: None,
        })?;
        self.events.emit(Event::DevicePaired {
            fingerprint: hex(fp),
            name: name.to_owned(),
            paired_by: "pin".into(),
        });
        self.events.emit(Event::PairingCompleted {
            fingerprint: hex(fp),
            name: name.to_owned(),
        });
        Ok(())
    }

    /// Whether a device with this fingerprint paired through `plane` (no side effects).
    pub fn knows(&self, fp: &Fingerprint, plane: PlaneKind) -> bool {
        self.devices().find(&hex(fp), plane).is_some()
    }

    pub fn list(&self) -> Vec<Device> {
        self.devices().devices().to_vec()
    }

    /// Removes the device `prefix` names (every plane); returns what was removed.
    pub fn unpair(&self, prefix: &str) -> anyhow::Result<Vec<Device>> {
        let removed = self.devices().unpair(prefix)?;
        if let Some(d) = removed.first() {
            self.events.emit(Event::DeviceUnpaired {
                fingerprint: d.fingerprint.clone(),
            });
        }
        Ok(removed)
    }

    /// Renames the device `prefix` names.
    pub fn rename(&self, prefix: &str, name: &str) -> anyhow::Result<Device> {
        let device = self.devices().rename(prefix, name)?;
        self.events.emit(Event::DeviceRenamed {
            fingerprint: device.fingerprint.clone(),
            name: device.name.clone(),
        });
        Ok(device)
    }
}
