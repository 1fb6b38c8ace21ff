//! Live events for the API's Server-Sent Events stream: sessions, devices, pairing.

use serde::Serialize;
use tokio::sync::broadcast;

/// One event; its SSE name is [`Event::name`], its data the JSON of the fields.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    SessionStarted {
        id: u64,
        fingerprint: String,
        device: String,
        mode: String,
    },
    SessionEnded {
        id: u64,
        fingerprint: String,
    },
    DevicePaired {
        fingerprint: String,
        name: String,
        paired_by: String,
    },
    DeviceUnpaired {
        fingerprint: String,
    },
    DeviceRenamed {
        fingerprint: String,
        name: String,
    },
    PairingArmed {
        remaining_s: u64,
        bound_to: Option<String>,
    },
    PairingCompleted {
        fingerprint: String,
        name: String,
    },
    PairingDisarmed,
}

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Event::SessionStarted { .. } => "session_started",
            Event::SessionEnded { .. } => "session_ended",
            Event::DevicePaired { .. } => "device_paired",
            Event::DeviceUnpaired { .. } => "device_unpaired",
            Event::DeviceRenamed { .. } => "device_renamed",
            Event::PairingArmed { .. } => "pairing_armed",
            Event::PairingCompleted { .. } => "pairing_completed",
            Event::PairingDisarmed => "pairing_disarmed",
        }
    }
}

/// Fans events out to every subscriber; a slow one misses events rather than holding others.
pub struct Events {
    sender: broadcast::Sender<Event>,
}

impl Default for Events {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(256).0,
        }
    }
}

impl Events {
    pub fn emit(&self, event: Event) {
        tracing::debug!(event = event.name(), "event");
        // No subscribers is fine.
        let _ = self.sender.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}
