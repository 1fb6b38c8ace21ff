//! Virtual monitors from GNOME's Mutter through its private
//! `org.gnome.Mutter.ScreenCast` D-Bus API (`RecordVirtual`).
//!
//! Mutter creates the monitor with the size our PipeWire consumer fixes
//! during format negotiation, so [`VirtualMonitor`] offers exactly one size.
//! Asked to, the screencast is linked to an `org.gnome.Mutter.RemoteDesktop`
//! session, whose [`MutterInput`] injects input into the monitor.

mod bus;
mod display_config;
mod error;
mod input;
mod remote_desktop;
mod screencast;

use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use display_config::{MonitorInfo, MonitorMode};
pub use error::MutterError;
pub use input::{Axis, MutterInput, Notify};

use crate::{CapturedFrame, StreamConfig, VideoStream};

/// How long Mutter gets to announce the stream and to agree on a size.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a resized monitor gets to send a frame before we nudge Mutter.
const RESIZE_GRACE: Duration = Duration::from_millis(250);

/// Where the Mutter to talk to lives. The default is this process's session:
/// `DBUS_SESSION_BUS_ADDRESS` and PipeWire's default socket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    /// D-Bus address of the session bus Mutter is on.
    pub session_bus: Option<String>,
    /// Path of the PipeWire socket Mutter publishes its streams on.
    pub pipewire_socket: Option<PathBuf>,
}

impl Endpoints {
    /// A connection to the PipeWire socket, or `None` for the default daemon.
    fn pipewire_fd(&self) -> anyhow::Result<Option<OwnedFd>> {
        let Some(path) = &self.pipewire_socket else {
            return Ok(None);
        };
        let socket = UnixStream::connect(path).map_err(|e| crate::PipeWireError::NoDaemon {
            socket: path.display().to_string(),
            detail: e.to_string(),
        })?;
        Ok(Some(socket.into()))
    }
}

/// A `RecordVirtual` screencast: a virtual monitor of exactly the asked size
/// on the running Mutter, alive while this lives, captured into CPU frames.
/// Dropping it stops the session, which removes the monitor.
pub struct VirtualMonitor {
    // Field order is drop order: stop consuming before stopping the session.
    stream: VideoStream,
    /// Held for its Drop, which stops the session.
    _session: screencast::Session,
    /// The remote desktop session the screencast is linked to, if input was
    /// asked for; stopped after the screencast.
    _remote_desktop: Option<remote_desktop::Session>,
    input: Option<MutterInput>,
    endpoints: Endpoints,
    node_id: u32,
    mode: (u32, u32, u32),
}

impl VirtualMonitor {
    /// A `width`×`height` monitor at `refresh_millihz` on this session's Mutter.
    pub fn create(width: u32, height: u32, refresh_millihz: u32) -> anyhow::Result<Self> {
        Self::create_on(&Endpoints::default(), width, height, refresh_millihz)
    }

    /// Like [`Self::create`], on the Mutter that `endpoints` point at.
    ///
    /// Returns once Mutter agreed on the size, i.e. once the monitor exists.
    pub fn create_on(
        endpoints: &Endpoints,
        width: u32,
        height: u32,
        refresh_millihz: u32,
    ) -> anyhow::Result<Self> {
        Self::make(endpoints, width, height, refresh_millihz, false)
    }

    /// Like [`Self::create_on`], with the screencast linked to a remote
    /// desktop session, so that [`Self::input`] injects into the monitor.
    pub fn create_with_input_on(
        endpoints: &Endpoints,
        width: u32,
        height: u32,
        refresh_millihz: u32,
    ) -> anyhow::Result<Self> {
        Self::make(endpoints, width, height, refresh_millihz, true)
    }

    fn make(
        endpoints: &Endpoints,
        width: u32,
        height: u32,
        refresh_millihz: u32,
        with_input: bool,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            width > 0 && height > 0,
            "a virtual monitor needs a size, got {width}x{height}"
        );
        let (session, remote_desktop, node_id, input) = async_io::block_on(async {
            let connection = bus::connect(endpoints).await?;
            bus::require_service(&connection, screencast::SERVICE).await?;
            let remote_desktop = if with_input {
                bus::require_service(&connection, remote_desktop::SERVICE).await?;
                Some(remote_desktop::Session::create(&connection).await?)
            } else {
                None
            };
            let id = match &remote_desktop {
                Some(rd) => Some(rd.id().await?),
                None => None,
            };
            let session = screencast::Session::create(&connection, id.as_deref()).await?;
            let linked = remote_desktop.as_ref().map(remote_desktop::Session::proxy);
            let (node_id, stream) = session.record_virtual(ANSWER_TIMEOUT, linked).await?;
            let input = remote_desktop
                .as_ref()
                .map(|rd| MutterInput::new(rd.proxy().clone(), stream.to_string(), width, height));
            if let Some(input) = &input {
                input.wake_keyboard().await?;
            }
            Ok::<_, MutterError>((session, remote_desktop, node_id, input))
        })?;
        tracing::debug!(
            node_id,
            width,
            height,
            refresh_millihz,
            "Mutter virtual monitor stream"
        );
        let stream = VideoStream::start(StreamConfig {
            node_id,
            fd: endpoints.pipewire_fd()?,
            width,
            height,
            refresh_millihz,
            fixed_size: true,
        })?;
        let monitor = Self {
            stream,
            _session: session,
            _remote_desktop: remote_desktop,
            input,
            endpoints: endpoints.clone(),
            node_id,
            mode: (width, height, refresh_millihz),
        };
        monitor.wait_size(width, height)?;
        Ok(monitor)
    }

    /// The monitor's input, if it was made with [`Self::create_with_input_on`].
    pub fn input(&self) -> Option<MutterInput> {
        self.input.clone()
    }

    /// The PipeWire node of the monitor's stream.
    pub fn node_id(&self) -> u32 {
        self.node_id
    }

    /// `(width, height, refresh_millihz)` as asked for.
    pub fn mode(&self) -> (u32, u32, u32) {
        self.mode
    }

    /// Where this monitor's Mutter lives.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// See [`VideoStream::next_frame`]. Mutter sends frames when the
    /// monitor's contents change, so an idle desktop may send none for a while.
    pub fn next_frame(
        &self,
        after: u64,
        timeout: Duration,
    ) -> anyhow::Result<Option<Arc<CapturedFrame>>> {
        self.stream.next_frame(after, timeout)
    }

    /// Changes the monitor's mode in place (windows stay on it) by
    /// renegotiating the stream's size; Mutter follows the size, and takes
    /// the rate along with it (Mutter 43 ignores a change of rate alone).
    /// Returns once Mutter agreed on the size.
    pub fn resize(&mut self, width: u32, height: u32, refresh_millihz: u32) -> anyhow::Result<()> {
        anyhow::ensure!(
            width > 0 && height > 0,
            "a virtual monitor needs a size, got {width}x{height}"
        );
        let before = self.stream.stats().0;
        self.stream.renegotiate(width, height, refresh_millihz)?;
        self.wait_size(width, height)?;
        self.mode = (width, height, refresh_millihz);
        if let Some(input) = &self.input {
            input.set_size(width, height);
        }
        self.nudge_after_resize(before, width, height)
    }

    /// Mutter 43 repaints the resized monitor while its stream's buffers are
    /// still being reallocated, fails to dequeue one ("Couldn't dequeue a
    /// buffer"), and sends nothing until the screen changes again. Pausing
    /// and resuming the stream makes it queue a fresh full repaint.
    fn nudge_after_resize(&self, before: u64, width: u32, height: u32) -> anyhow::Result<()> {
        if self
            .stream
            .next_frame_sized(before, width, height, RESIZE_GRACE)?
            .is_some()
        {
            return Ok(());
        }
        tracing::debug!(
            width,
            height,
            "no frame after resizing; pausing and resuming the stream"
        );
        if !self.stream.set_active(false, ANSWER_TIMEOUT)? {
            tracing::warn!("the virtual monitor's stream did not pause");
        }
        if !self.stream.set_active(true, ANSWER_TIMEOUT)? {
            tracing::warn!("the virtual monitor's stream did not resume");
        }
        Ok(())
    }

    /// The underlying stream, e.g. for [`VideoStream::stats`].
    pub fn stream(&self) -> &VideoStream {
        &self.stream
    }

    fn wait_size(&self, width: u32, height: u32) -> anyhow::Result<()> {
        let agreed = self
            .stream
            .wait_negotiated(ANSWER_TIMEOUT, |w, h, _| (w, h) == (width, height))?;
        if agreed.is_none() {
            let negotiated = match self.stream.negotiated() {
                Some((w, h, f)) => format!("{w}x{h} {f:?}"),
                None => "nothing".into(),
            };
            return Err(MutterError::NotNegotiated {
                width,
                height,
                waited: ANSWER_TIMEOUT,
                negotiated,
            }
            .into());
        }
        Ok(())
    }
}

/// The monitors Mutter knows about (`DisplayConfig.GetCurrentState`).
pub fn monitors(endpoints: &Endpoints) -> anyhow::Result<Vec<MonitorInfo>> {
    Ok(async_io::block_on(async {
        let connection = bus::connect(endpoints).await?;
        bus::require_service(&connection, display_config::SERVICE).await?;
        display_config::monitors(&connection).await
    })?)
}
