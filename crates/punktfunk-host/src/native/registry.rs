//! The native plane's live sessions: admitted up to `--max-sessions`, listed by `ctl sessions`,
//! closed by `ctl unpair`, a same-client reconnect (preempt) or a `steal`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

impl Registration {
    /// The session's id (also its id in the display registry).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The session streams at another mode than it asked for (it joined a live display).
    pub fn set_mode(&mut self, mode: Mode) {
        if let Some(s) = self.registry.lock().get_mut(&self.id) {
            s.mode = mode;
        }
    }
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

    /// Admits a session unless `max` sessions already live.
    pub fn try_register(
        self: &Arc<Self>,
        max: usize,
        session: LiveSession,
    ) -> Option<Registration> {
        let mut live = self.lock();
        if live.len() >= max {
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        live.insert(id, session);
        Some(Registration {
            registry: self.clone(),
            id,
        })
    }

    /// Every live session and its client.
    pub fn owners(&self) -> Vec<(u64, Fingerprint)> {
        self.lock()
            .iter()
            .map(|(id, s)| (*id, s.fingerprint))
            .collect()
    }

    /// Closes these sessions' connections.
    pub fn close_ids(&self, ids: &[u64], code: u32, reason: &str) {
        let live = self.lock();
        for id in ids {
            if let Some(s) = live.get(id) {
                s.conn.close(code.into(), reason.as_bytes());
            }
        }
    }

    /// Waits until these sessions have ended (their teardown done), at most `grace`.
    pub async fn wait_gone(&self, ids: &[u64], grace: Duration) -> bool {
        let end = Instant::now() + grace;
        while {
            let live = self.lock();
            ids.iter().any(|id| live.contains_key(id))
        } {
            if Instant::now() >= end {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
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
