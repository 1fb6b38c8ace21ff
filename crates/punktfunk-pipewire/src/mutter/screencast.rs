//! The `org.gnome.Mutter.ScreenCast` calls behind a virtual monitor:
//! CreateSession → RecordVirtual → Start → PipeWireStreamAdded(node id).
//! A session linked to a remote desktop session is started through that one.

use std::collections::HashMap;
use std::time::Duration;

use futures_lite::StreamExt;
use zbus::zvariant::{OwnedObjectPath, Value};
use zbus::{Connection, Proxy};

use super::error::call_failed;
use super::MutterError;

pub(crate) const SERVICE: &str = "org.gnome.Mutter.ScreenCast";
const PATH: &str = "/org/gnome/Mutter/ScreenCast";
const IFACE: &str = "org.gnome.Mutter.ScreenCast";
const SESSION_IFACE: &str = "org.gnome.Mutter.ScreenCast.Session";
const STREAM_IFACE: &str = "org.gnome.Mutter.ScreenCast.Stream";

/// Cursor drawn into the frames: CPU consumers get a complete picture.
const CURSOR_EMBEDDED: u32 = 1;

/// A screencast session; stopped on drop.
pub(crate) struct Session {
    proxy: Proxy<'static>,
}

impl Session {
    /// `remote_desktop`: the id of the remote desktop session to link to.
    pub(crate) async fn create(
        connection: &Connection,
        remote_desktop: Option<&str>,
    ) -> Result<Self, MutterError> {
        let screen_cast = Proxy::new(connection, SERVICE, PATH, IFACE)
            .await
            .map_err(call_failed("ScreenCast proxy"))?;
        let version: i32 = screen_cast
            .get_property("Version")
            .await
            .map_err(call_failed("ScreenCast.Version"))?;
        // is-platform (a real monitor rather than "screen shared") came in 3.
        if version < 3 {
            return Err(MutterError::TooOld(version));
        }
        let mut properties = HashMap::<&str, Value<'_>>::new();
        if let Some(id) = remote_desktop {
            properties.insert("remote-desktop-session-id", Value::from(id));
        }
        let path: OwnedObjectPath = screen_cast
            .call("CreateSession", &(properties,))
            .await
            .map_err(call_failed("CreateSession"))?;
        let proxy = Proxy::new(connection, SERVICE, path, SESSION_IFACE)
            .await
            .map_err(call_failed("ScreenCast.Session proxy"))?;
        Ok(Self { proxy })
    }

    /// Asks for a virtual monitor; Mutter creates it once our PipeWire
    /// consumer fixes the size. Returns the node id of its stream and the
    /// stream's object path. `linked`: the remote desktop session this one is
    /// linked to, which Mutter wants started instead of this one.
    pub(crate) async fn record_virtual(
        &self,
        timeout: Duration,
        linked: Option<&Proxy<'_>>,
    ) -> Result<(u32, OwnedObjectPath), MutterError> {
        let properties = HashMap::from([
            ("cursor-mode", Value::U32(CURSOR_EMBEDDED)),
            ("is-platform", Value::Bool(true)),
        ]);
        let stream_path: OwnedObjectPath = self
            .proxy
            .call("RecordVirtual", &(properties,))
            .await
            .map_err(call_failed("RecordVirtual"))?;
        let stream = Proxy::new(
            self.proxy.connection(),
            SERVICE,
            stream_path.clone(),
            STREAM_IFACE,
        )
        .await
        .map_err(call_failed("ScreenCast.Stream proxy"))?;
        // Subscribe before Start: the signal follows it immediately.
        let mut added = stream
            .receive_signal("PipeWireStreamAdded")
            .await
            .map_err(call_failed("subscribing to PipeWireStreamAdded"))?;
        linked
            .unwrap_or(&self.proxy)
            .call::<_, _, ()>("Start", &())
            .await
            .map_err(call_failed("Start"))?;
        let timed_out = async {
            async_io::Timer::after(timeout).await;
            None
        };
        let message = futures_lite::future::or(added.next(), timed_out)
            .await
            .ok_or(MutterError::NoStreamAnnounced(timeout))?;
        let node_id = message
            .body()
            .deserialize::<u32>()
            .map_err(call_failed("PipeWireStreamAdded"))?;
        Ok((node_id, stream_path))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Stop removes the virtual monitor; if the bus is gone, so is the
        // session (Mutter ends sessions whose client vanished).
        let stop = self.proxy.call::<_, _, ()>("Stop", &());
        if let Err(e) = async_io::block_on(stop) {
            tracing::debug!("stopping the Mutter screencast session: {e}");
        }
    }
}
