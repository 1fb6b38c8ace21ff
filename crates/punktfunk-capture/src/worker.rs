//! The capture thread: connects, then runs the Wayland event loop until told
//! to stop or the output/connection goes away.

use std::collections::HashMap;
use std::os::unix::net::UnixStream;
use std::sync::atomic::Ordering;
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::time::Duration;

use wayland_client::globals::registry_queue_init;
use wayland_client::protocol::wl_shm::WlShm;
use wayland_client::{Connection, DispatchError, EventQueue, Proxy};
use wayland_protocols_wlr::screencopy::v1::client::zwlr_screencopy_manager_v1::ZwlrScreencopyManagerV1;

use crate::error::CaptureError;
use crate::output::find_output;
use crate::screencopy::Screencopy;
use crate::{CaptureConfig, Shared};

/// How often the thread looks at the stop flag while waiting for events.
const STOP_CHECK_INTERVAL: Duration = Duration::from_millis(50);

/// Everything Wayland events are dispatched into.
#[derive(Default)]
pub(crate) struct State {
    /// xdg-output (or wl_output v4) names by registry name, from setup.
    pub(crate) output_names: HashMap<u32, String>,
    pub(crate) output_global: Option<u32>,
    pub(crate) output_gone: bool,
    pub(crate) capture: Option<Screencopy>,
}

pub(crate) fn run(
    config: CaptureConfig,
    shared: Arc<Shared>,
    ready: SyncSender<Result<(), CaptureError>>,
) {
    let (mut queue, mut state) = match connect(&config, &shared) {
        Ok(connected) => connected,
        Err(err) => {
            let _ = ready.send(Err(err));
            return;
        }
    };
    let _ = ready.send(Ok(()));
    tracing::debug!(output = %config.output_name, "capture started");
    if let Err(err) = event_loop(&mut queue, &mut state, &shared, &config.output_name) {
        tracing::warn!(output = %config.output_name, "capture ended: {err}");
        shared.lock().ended = Some(err);
        shared.cond.notify_all();
    }
}

fn connect(
    config: &CaptureConfig,
    shared: &Arc<Shared>,
) -> Result<(EventQueue<State>, State), CaptureError> {
    let stream =
        UnixStream::connect(&config.wayland_display).map_err(|e| CaptureError::Connect {
            path: config.wayland_display.clone(),
            source: Arc::new(e),
        })?;
    let conn =
        Connection::from_socket(stream).map_err(|e| CaptureError::Connection(e.to_string()))?;
    let (globals, mut queue) =
        registry_queue_init::<State>(&conn).map_err(|e| CaptureError::Connection(e.to_string()))?;
    let qh = queue.handle();
    // Checked before the output lookup: without screencopy, names don't matter.
    let manager: ZwlrScreencopyManagerV1 =
        globals
            .bind(&qh, 1..=3, ())
            .map_err(|_| CaptureError::MissingGlobal {
                interface: "zwlr_screencopy_manager_v1",
                purpose: "screen capture",
            })?;
    if config.with_damage && manager.version() < 2 {
        return Err(CaptureError::DamageUnsupported {
            version: manager.version(),
        });
    }
    let shm: WlShm = globals
        .bind(&qh, 1..=1, ())
        .map_err(|_| CaptureError::MissingGlobal {
            interface: "wl_shm",
            purpose: "capture buffers",
        })?;
    let mut state = State::default();
    let found = find_output(&globals, &mut queue, &mut state, &config.output_name)?;
    state.output_global = Some(found.global);
    state.capture = Some(Screencopy::new(
        manager,
        found.output,
        shm,
        config,
        shared.clone(),
    ));
    Ok((queue, state))
}

/// Runs until stopped (`Ok`) or until capture can't go on (`Err`).
fn event_loop(
    queue: &mut EventQueue<State>,
    state: &mut State,
    shared: &Shared,
    output_name: &str,
) -> Result<(), CaptureError> {
    let qh = queue.handle();
    loop {
        if shared.stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        if state.output_gone {
            return Err(CaptureError::OutputGone {
                name: output_name.to_owned(),
            });
        }
        let Some(capture) = state.capture.as_mut() else {
            return Ok(());
        };
        if let Some(err) = capture.take_fatal() {
            return Err(err);
        }
        capture.request_if_idle(&qh);
        let wait = capture
            .retry_in()
            .map_or(STOP_CHECK_INTERVAL, |d| d.min(STOP_CHECK_INTERVAL));

        crate::pump::flush_and_read(queue, wait).map_err(CaptureError::Connection)?;
        queue.dispatch_pending(state).map_err(connection_error)?;
    }
}

pub(crate) fn connection_error(err: DispatchError) -> CaptureError {
    CaptureError::Connection(err.to_string())
}
