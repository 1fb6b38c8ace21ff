//! Connecting to the session bus that Mutter is on.

use std::time::Duration;

use zbus::Connection;

use super::{Endpoints, MutterError};

/// Bounds every method call: a wedged compositor must not hang us.
const METHOD_TIMEOUT: Duration = Duration::from_secs(10);

/// A private connection: Mutter ties each screencast session to the
/// connection that created it and ends it when that connection closes.
pub(crate) async fn connect(endpoints: &Endpoints) -> Result<Connection, MutterError> {
    let address = endpoints
        .session_bus
        .clone()
        .or_else(|| std::env::var("DBUS_SESSION_BUS_ADDRESS").ok());
    let no_bus = |detail: String| MutterError::NoSessionBus {
        address: address
            .clone()
            .unwrap_or_else(|| "(DBUS_SESSION_BUS_ADDRESS unset)".into()),
        detail,
    };
    let builder = match &address {
        Some(address) => zbus::connection::Builder::address(address.as_str()),
        None => zbus::connection::Builder::session(),
    }
    .map_err(|e| no_bus(e.to_string()))?;
    builder
        .method_timeout(METHOD_TIMEOUT)
        .build()
        .await
        .map_err(|e| no_bus(e.to_string()))
}

/// Fails with [`MutterError::NoService`] unless `service` has an owner.
pub(crate) async fn require_service(
    connection: &Connection,
    service: &'static str,
) -> Result<(), MutterError> {
    let dbus = zbus::fdo::DBusProxy::new(connection)
        .await
        .map_err(|e| MutterError::Call {
            method: "org.freedesktop.DBus",
            detail: e.to_string(),
        })?;
    let name = zbus::names::BusName::try_from(service).expect("a valid well-known name");
    match dbus.name_has_owner(name).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(MutterError::NoService { service }),
        Err(e) => Err(MutterError::Call {
            method: "NameHasOwner",
            detail: e.to_string(),
        }),
    }
}
