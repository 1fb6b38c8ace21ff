//! The management plane: the REST API (`/api/v1`, HTTPS with the host certificate) on the
//! management port and, with the web console's files, on the console port.

pub mod api;
pub mod auth;
pub mod events;
mod server;
pub mod throttle;
mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

pub use server::{serve, Bound};

use crate::native::Plane;
use crate::trust::Trust;

/// Everything the API reads and changes.
pub struct HostState {
    pub trust: Arc<Trust>,
    pub native: Arc<Plane>,
    pub events: Arc<events::Events>,
    pub native_addr: SocketAddr,
    pub gamestream_fingerprint: String,
    /// The GameStream plane, when `serve --gamestream` runs it.
    pub gamestream: Option<Arc<crate::gamestream::GameStream>>,
    pub compositor: Option<String>,
    pub config_dir: PathBuf,
    /// The effective configuration, as `GET /config` shows it.
    pub config: serde_json::Value,
    pub admin_token: String,
    pub console: auth::ConsoleSessions,
    pub login_throttle: Mutex<throttle::LoginThrottle>,
}

impl HostState {
    pub fn throttle(&self) -> MutexGuard<'_, throttle::LoginThrottle> {
        self.login_throttle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

/// The file `ctl` reads to find the running host's management port.
pub const RUNTIME_FILE: &str = "runtime.json";
