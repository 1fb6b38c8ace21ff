//! GNOME's Mutter: a virtual monitor per client through the ScreenCast D-Bus API
//! (`RecordVirtual`), read from the PipeWire stream Mutter returns. Mutter sizes the monitor
//! from the video size the consumer fixes, so the monitor is exactly the client's mode; dropping
//! the screencast session removes it. For input, the screencast is linked to a RemoteDesktop
//! session whose `Notify*` calls inject into the monitor.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use punktfunk_core::control::Mode;
use punktfunk_pipewire::mutter::{monitors, Endpoints, VirtualMonitor};

use super::{Capturer, Compositor, DisplayBackend, DisplayInput, Frame, VirtualDisplay};

pub struct MutterBackend {
    endpoints: Endpoints,
}

impl MutterBackend {
    /// Checks that Mutter's display services answer on the session bus.
    pub fn connect() -> anyhow::Result<Self> {
        let endpoints = Endpoints::default();
        monitors(&endpoints)?;
        Ok(Self { endpoints })
    }
}

impl DisplayBackend for MutterBackend {
    fn compositor(&self) -> Compositor {
        Compositor::Mutter
    }

    fn describe(&self) -> String {
        let list = monitors(&self.endpoints)
            .map(|m| {
                m.iter()
                    .map(|m| m.connector.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_else(|e| format!("unknown: {e:#}"));
        format!("mutter (ScreenCast RecordVirtual over PipeWire), monitors: {list}")
    }

    fn create(&self, mode: Mode) -> anyhow::Result<Box<dyn VirtualDisplay>> {
        self.make(mode, false)
    }

    fn create_with_input(&self, mode: Mode) -> anyhow::Result<Box<dyn VirtualDisplay>> {
        self.make(mode, true)
    }
}

impl MutterBackend {
    fn make(&self, mode: Mode, with_input: bool) -> anyhow::Result<Box<dyn VirtualDisplay>> {
        let make = if with_input {
            VirtualMonitor::create_with_input_on
        } else {
            VirtualMonitor::create_on
        };
        let monitor = make(
            &self.endpoints,
            mode.width,
            mode.height,
            mode.refresh_millihz,
        )?;
        let input = monitor.input();
        let name = format!("mutter-virtual-{}", monitor.node_id());
        tracing::info!(output = %name, %mode, with_input, "virtual monitor made");
        Ok(Box::new(MutterMonitor {
            monitor: Arc::new(Mutex::new(monitor)),
            input,
            name,
            mode,
        }))
    }
}

pub struct MutterMonitor {
    monitor: Arc<Mutex<VirtualMonitor>>,
    /// Kept outside the lock: capture holds it while waiting for frames.
    input: Option<punktfunk_pipewire::mutter::MutterInput>,
    name: String,
    mode: Mode,
}

impl Drop for MutterMonitor {
    fn drop(&mut self) {
        tracing::info!(output = %self.name, how = "screencast stopped", "virtual output released");
    }
}

fn lock(m: &Mutex<VirtualMonitor>) -> std::sync::MutexGuard<'_, VirtualMonitor> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl VirtualDisplay for MutterMonitor {
    fn name(&self) -> &str {
        &self.name
    }

    fn mode(&self) -> Mode {
        self.mode
    }

    fn reconfigure(&mut self, mode: Mode) -> anyhow::Result<()> {
        lock(&self.monitor).resize(mode.width, mode.height, mode.refresh_millihz)?;
        self.mode = mode;
        Ok(())
    }

    fn start_capture(&self) -> anyhow::Result<Box<dyn Capturer>> {
        // The monitor's own stream is the one consumer Mutter feeds: share it.
        Ok(Box::new(MonitorFrames(self.monitor.clone())))
    }

    fn input(&self) -> Option<DisplayInput> {
        self.input.clone().map(DisplayInput::Mutter)
    }
}

struct MonitorFrames(Arc<Mutex<VirtualMonitor>>);

impl Capturer for MonitorFrames {
    fn next_frame(&self, after: u64, timeout: Duration) -> anyhow::Result<Option<Frame>> {
        Ok(lock(&self.0)
            .next_frame(after, timeout)?
            .map(Frame::PipeWire))
    }
}
