//! The native plane's live sessions: listed by `ctl sessions`, closed by `ctl unpair`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use punktfunk_core::control::{Codec, Mode};
use punktfunk_core::pairing::Fingerprint;
use serde::Serialize;

pub struct LiveSession {
    pub fingerprint: Fingerprint,
    pub device: String,
    pub mode: Mode,
    pub codec: Codec,
    pub remote: SocketAddr,
    pub started_unix: u64,
    pub conn: quinn::Connection,
}

/// What `ctl sessions` shows of one.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SessionInfo {
    pub id: u64,
    pub fingerprint: String,
    pub device: String,
    pub mode: String,
    pub codec: String,
    pub remote: String,
    pub started_unix: u64,
}

#[derive(Default)]
pub struct Registry {
    next_id: AtomicU64,
    live: Mutex<BTreeMap<u64, LiveSession>>,
}

/// Removes its session from the registry when dropped.
pub struct Registration {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.id);
    }
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, LiveSession>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn register(self: &Arc<Self>, session: LiveSession) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        self.lock().insert(id, session);
        Registration {
            registry: self.clone(),
            id,
        }
    }

    pub fn list(&self) -> Vec<SessionInfo> {
        self.lock()
            .iter()
            .map(|(&id, s)| SessionInfo {
                id,
                fingerprint: crate::trust::hex(&s.fingerprint),
                device: s.device.clone(),
                mode: s.mode.to_string(),
                codec: s.codec.name().to_owned(),
                remote: s.remote.to_string(),
                started_unix: s.started_unix,
            })
            .collect()
    }

    /// Closes every session of a device; returns how many there were.
    pub fn close_device(&self, fingerprint: &str, code: u32, reason: &str) -> usize {
        let live = self.lock();
        let mut closed = 0;
        for s in live.values() {
            if crate::trust::hex(&s.fingerprint) == fingerprint {
                s.conn.close(code.into(), reason.as_bytes());
                closed += 1;
            }
        }
        closed
    }

    /// Closes one session by id; whether it existed.
    pub fn close(&self, id: u64, code: u32, reason: &str) -> bool {
        self.lock()
            .get(&id)
            .map(|s| s.conn.close(code.into(), reason.as_bytes()))
            .is_some()
    }
}
