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

use super::media::SessionControl;
use crate::mgmt::events::{Event, Events};

pub struct LiveSession {
    /// What the media thread counts and the control plane steers.
    pub control: Arc<SessionControl>,
    pub fingerprint: Fingerprint,
    pub device: String,
    pub mode: Mode,
    pub codec: Codec,
    pub remote: SocketAddr,
    pub started_unix: u64,
    pub started: Instant,
    pub conn: quinn::Connection,
}

/// What the API and `ctl sessions` show of one.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SessionInfo {
    pub id: u64,
    pub fingerprint: String,
    pub device: String,
    pub mode: String,
    pub codec: String,
    pub remote: String,
    pub started_unix: u64,
    pub frames_sent: u64,
    /// Mean frame rate since the session started.
    pub fps: f64,
    pub bitrate_kbps: u32,
    pub fec_percent: u8,
    /// Packet loss the client reported in its last window, parts per million.
    pub loss_ppm: u32,
    /// Capture-to-sent time of the last frame on the host, microseconds.
    pub host_latency_us: u64,
}

pub struct Registry {
    next_id: AtomicU64,
    live: Mutex<BTreeMap<u64, LiveSession>>,
    events: Arc<Events>,
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
        if let Some(s) = self.registry.lock().remove(&self.id) {
            self.registry.events.emit(Event::SessionEnded {
                id: self.id,
                fingerprint: crate::trust::hex(&s.fingerprint),
            });
        }
    }
}

impl Registry {
    pub fn new(events: Arc<Events>) -> Self {
        Self {
            next_id: AtomicU64::new(0),
            live: Mutex::new(BTreeMap::new()),
            events,
        }
    }

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
        self.events.emit(Event::SessionStarted {
            id,
            fingerprint: crate::trust::hex(&session.fingerprint),
            device: session.device.clone(),
            mode: session.mode.to_string(),
        });
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
            .map(|(&id, s)| {
                let c = &s.control;
                let frames_sent = c.frames_sent.load(Ordering::Relaxed);
                let secs = s.started.elapsed().as_secs_f64().max(1e-3);
                SessionInfo {
                    id,
                    fingerprint: crate::trust::hex(&s.fingerprint),
                    device: s.device.clone(),
                    mode: s.mode.to_string(),
                    codec: s.codec.name().to_owned(),
                    remote: s.remote.to_string(),
                    started_unix: s.started_unix,
                    frames_sent,
                    fps: (frames_sent as f64 / secs * 10.0).round() / 10.0,
                    bitrate_kbps: c.bitrate_kbps.load(Ordering::Relaxed),
                    fec_percent: c.fec_percent.load(Ordering::Relaxed),
                    loss_ppm: c.loss_ppm.load(Ordering::Relaxed),
                    host_latency_us: c.host_latency_us.load(Ordering::Relaxed),
                }
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

    /// Asks one session for a keyframe; whether it exists.
    pub fn request_keyframe(&self, id: u64) -> bool {
        self.lock()
            .get(&id)
            .map(|s| s.control.keyframe.store(true, Ordering::Relaxed))
            .is_some()
    }

    /// Closes one session by id; whether it existed.
    pub fn close(&self, id: u64, code: u32, reason: &str) -> bool {
        self.lock()
            .get(&id)
            .map(|s| s.conn.close(code.into(), reason.as_bytes()))
            .is_some()
    }
}
