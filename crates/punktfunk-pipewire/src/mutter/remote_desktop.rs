//! The `org.gnome.Mutter.RemoteDesktop` session a screencast can be linked to,
//! so input can be injected into the virtual monitor it records (the way
//! gnome-remote-desktop does on Mutter before EIS).

use zbus::{Connection, Proxy};

use super::error::call_failed;
use super::MutterError;

pub(crate) const SERVICE: &str = "org.gnome.Mutter.RemoteDesktop";
const PATH: &str = "/org/gnome/Mutter/RemoteDesktop";
const IFACE: &str = "org.gnome.Mutter.RemoteDesktop";
pub(crate) const SESSION_IFACE: &str = "org.gnome.Mutter.RemoteDesktop.Session";

/// A remote desktop session; stopped on drop, which also stops the
/// screencast linked to it.
pub(crate) struct Session {
    proxy: Proxy<'static>,
}

impl Session {
    pub(crate) async fn create(connection: &Connection) -> Result<Self, MutterError> {
        let remote_desktop = Proxy::new(connection, SERVICE, PATH, IFACE)
            .await
            .map_err(call_failed("RemoteDesktop proxy"))?;
        let path: zbus::zvariant::OwnedObjectPath = remote_desktop
            .call("CreateSession", &())
            .await
            .map_err(call_failed("RemoteDesktop.CreateSession"))?;
        let proxy = Proxy::new(connection, SERVICE, path, SESSION_IFACE)
            .await
            .map_err(call_failed("RemoteDesktop.Session proxy"))?;
        Ok(Self { proxy })
    }

    /// What ScreenCast.CreateSession takes as `remote-desktop-session-id`.
    pub(crate) async fn id(&self) -> Result<String, MutterError> {
        self.proxy
            .get_property("SessionId")
            .await
            .map_err(call_failed("RemoteDesktop.Session.SessionId"))
    }

    pub(crate) fn proxy(&self) -> &Proxy<'static> {
        &self.proxy
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let stop = self.proxy.call::<_, _, ()>("Stop", &());
        if let Err(e) = async_io::block_on(stop) {
            tracing::debug!("stopping the Mutter remote desktop session: {e}");
        }
    }
}
