/// Why talking to Mutter failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MutterError {
    #[error("cannot connect to the D-Bus session bus {address}: {detail} (is DBUS_SESSION_BUS_ADDRESS set and the bus running?)")]
    NoSessionBus { address: String, detail: String },
    #[error("no {service} service on the session bus: is GNOME Shell/Mutter running (as a Wayland compositor) on this bus?")]
    NoService { service: &'static str },
    #[error("Mutter's ScreenCast API is version {0}; RecordVirtual with is-platform needs version 3 or later")]
    TooOld(i32),
    #[error("Mutter {method} failed: {detail}")]
    Call {
        method: &'static str,
        detail: String,
    },
    #[error("Mutter announced no PipeWire stream within {0:?} after Start")]
    NoStreamAnnounced(std::time::Duration),
    #[error("Mutter did not accept {width}x{height} within {waited:?} (negotiated: {negotiated})")]
    NotNegotiated {
        width: u32,
        height: u32,
        waited: std::time::Duration,
        negotiated: String,
    },
}

/// Maps a failed D-Bus call to [`MutterError::Call`].
pub(crate) fn call_failed(method: &'static str) -> impl FnOnce(zbus::Error) -> MutterError {
    move |e| MutterError::Call {
        method,
        detail: e.to_string(),
    }
}
