//! The thread behind a `KwinVirtualOutput`: asks for the stream, reports its
//! node, then keeps the connection (and so the output) alive until stopped.

use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wayland_client::globals::{registry_queue_init, BindError, GlobalListContents};
use wayland_client::protocol::wl_callback::{self, WlCallback};
use wayland_client::protocol::wl_registry::WlRegistry;
use wayland_client::{delegate_noop, Connection, Dispatch, EventQueue, QueueHandle};

use super::protocol::zkde_screencast_stream_unstable_v1::{
    self as stream_v1, ZkdeScreencastStreamUnstableV1,
};
use super::protocol::zkde_screencast_unstable_v1::{Pointer, ZkdeScreencastUnstableV1};
use super::{Shared, VirtualOutputError, SETUP_TIMEOUT};

/// How often the thread looks at the stop flag while waiting for events.
const STOP_CHECK_INTERVAL: Duration = Duration::from_millis(50);
/// How long closing waits for KWin to confirm it has handled the close.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// The stream goes to a remote viewer, which has no cursor of its own there.
const POINTER: Pointer = Pointer::Embedded;

/// A checked `stream_virtual_output` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Request {
    name: String,
    width: i32,
    height: i32,
}

impl Request {
    pub(super) fn new(name: &str, width: u32, height: u32) -> Result<Self, VirtualOutputError> {
        let invalid = |why: String| Err(VirtualOutputError::InvalidRequest(why));
        if name.is_empty() {
            return invalid("the output name is empty".into());
        }
        // Wayland strings are NUL-terminated on the wire.
        if name.contains('\0') {
            return invalid(format!("the output name {name:?} contains NUL"));
        }
        let size = |v: u32| i32::try_from(v).ok().filter(|v| *v > 0);
        match (size(width), size(height)) {
            (Some(width), Some(height)) => Ok(Self {
                name: name.to_owned(),
                width,
                height,
            }),
            _ => invalid(format!("size {width}x{height} is not positive or too big")),
        }
    }
}

#[derive(Default)]
struct State {
    node: Option<u32>,
    failed: Option<String>,
    closed: bool,
    synced: bool,
}

pub(super) fn run(
    display: &Path,
    request: &Request,
    shared: &Shared,
    ready: SyncSender<Result<u32, VirtualOutputError>>,
) {
    let Connected {
        conn,
        mut queue,
        stream,
    } = match connect(display, request) {
        Ok(connected) => connected,
        Err(err) => {
            let _ = ready.send(Err(err));
            return;
        }
    };
    let mut state = State::default();
    let created = wait_for_node(&mut queue, &mut state, shared);
    let ok = created.is_ok();
    let _ = ready.send(created);
    if ok {
        tracing::debug!(name = %request.name, node = ?state.node, "KWin virtual output created");
        let live = pump(&mut queue, &mut state, Some(shared), None, |s| s.closed);
        if !matches!(live, Ok(false)) {
            tracing::warn!(name = %request.name, "KWin ended the virtual output: {live:?}");
            shared.ended.store(true, Ordering::Relaxed);
        }
    }
    close(&conn, &mut queue, &mut state, stream);
}

/// A connection with the stream requested on it.
struct Connected {
    conn: Connection,
    queue: EventQueue<State>,
    stream: ZkdeScreencastStreamUnstableV1,
}

fn connect(display: &Path, request: &Request) -> Result<Connected, VirtualOutputError> {
    let socket = UnixStream::connect(display).map_err(|e| VirtualOutputError::Connect {
        path: display.to_owned(),
        source: Arc::new(e),
    })?;
    let conn = Connection::from_socket(socket).map_err(|e| connection(e.to_string()))?;
    let (globals, queue) =
        registry_queue_init::<State>(&conn).map_err(|e| connection(e.to_string()))?;
    let qh = queue.handle();
    let screencast: ZkdeScreencastUnstableV1 =
        globals.bind(&qh, 2..=3, ()).map_err(|err| match err {
            BindError::UnsupportedVersion => VirtualOutputError::TooOld {
                version: offered_version(&globals),
            },
            BindError::NotPresent => VirtualOutputError::NotOffered,
        })?;
    let stream = screencast.stream_virtual_output(
        request.name.clone(),
        request.width,
        request.height,
        1.0,
        POINTER.into(),
        &qh,
        (),
    );
    // The manager is only a factory; the stream outlives it.
    screencast.destroy();
    Ok(Connected {
        conn,
        queue,
        stream,
    })
}

fn offered_version(globals: &wayland_client::globals::GlobalList) -> u32 {
    globals.contents().with_list(|list| {
        list.iter()
            .find(|g| g.interface == "zkde_screencast_unstable_v1")
            .map_or(0, |g| g.version)
    })
}

fn wait_for_node(
    queue: &mut EventQueue<State>,
    state: &mut State,
    shared: &Shared,
) -> Result<u32, VirtualOutputError> {
    let deadline = Instant::now() + SETUP_TIMEOUT;
    pump(queue, state, Some(shared), Some(deadline), |s| {
        s.node.is_some() || s.failed.is_some() || s.closed
    })?;
    if let Some(err) = state.failed.take() {
        return Err(VirtualOutputError::Failed(err));
    }
    match (state.node, state.closed) {
        (Some(node), false) => Ok(node),
        (_, true) => Err(VirtualOutputError::ClosedEarly),
        (None, false) => Err(VirtualOutputError::Timeout(SETUP_TIMEOUT)),
    }
}

/// Closes the stream and waits (briefly) until KWin has seen it, so the
/// output is gone by the time `KwinVirtualOutput`'s drop returns.
fn close(
    conn: &Connection,
    queue: &mut EventQueue<State>,
    state: &mut State,
    stream: ZkdeScreencastStreamUnstableV1,
) {
    stream.close();
    conn.display().sync(&queue.handle(), ());
    let deadline = Instant::now() + CLOSE_TIMEOUT;
    let _ = pump(queue, state, None, Some(deadline), |s| s.synced);
}

/// Dispatches events until `done` holds (`Ok(true)`), or the stop flag is
/// set or `deadline` passes (`Ok(false)`).
fn pump(
    queue: &mut EventQueue<State>,
    state: &mut State,
    shared: Option<&Shared>,
    deadline: Option<Instant>,
    done: impl Fn(&State) -> bool,
) -> Result<bool, VirtualOutputError> {
    loop {
        queue
            .dispatch_pending(state)
            .map_err(|e| connection(e.to_string()))?;
        if done(state) {
            return Ok(true);
        }
        if shared.is_some_and(|s| s.stop.load(Ordering::Relaxed)) {
            return Ok(false);
        }
        let wait = match deadline {
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => left.min(STOP_CHECK_INTERVAL),
                _ => return Ok(false),
            },
            None => STOP_CHECK_INTERVAL,
        };
        crate::pump::flush_and_read(queue, wait).map_err(connection)?;
    }
}

fn connection(err: String) -> VirtualOutputError {
    VirtualOutputError::Connection(err)
}

impl Dispatch<ZkdeScreencastStreamUnstableV1, ()> for State {
    fn event(
        state: &mut Self,
        _: &ZkdeScreencastStreamUnstableV1,
        event: stream_v1::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        match event {
            stream_v1::Event::Created { node } => state.node = Some(node),
            stream_v1::Event::Failed { error } => state.failed = Some(error),
            stream_v1::Event::Closed => state.closed = true,
        }
    }
}

impl Dispatch<WlCallback, ()> for State {
    fn event(
        state: &mut Self,
        _: &WlCallback,
        event: wl_callback::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        if let wl_callback::Event::Done { .. } = event {
            state.synced = true;
        }
    }
}

impl Dispatch<WlRegistry, GlobalListContents> for State {
    // Output hotplug is none of this thread's business.
    fn event(
        _: &mut Self,
        _: &WlRegistry,
        _: wayland_client::protocol::wl_registry::Event,
        _: &GlobalListContents,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
    }
}

delegate_noop!(State: ZkdeScreencastUnstableV1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_accepts_sane_values() {
        let r = Request::new("punktfunk", 1280, 720).unwrap();
        assert_eq!(
            (r.name.as_str(), r.width, r.height),
            ("punktfunk", 1280, 720)
        );
        assert!(Request::new("x", i32::MAX as u32, 1).is_ok());
    }

    #[test]
    fn request_rejects_what_the_wire_cannot_carry() {
        assert!(Request::new("", 1280, 720).is_err());
        assert!(Request::new("a\0b", 1280, 720).is_err());
        assert!(Request::new("x", 0, 720).is_err());
        assert!(Request::new("x", 1280, 0).is_err());
        assert!(Request::new("x", i32::MAX as u32 + 1, 720).is_err());
    }
}
