//! The PipeWire loop thread: every PipeWire object lives and dies here
//! (they are not thread-safe); the outside talks to it through a
//! `pipewire::channel` and the shared slot.

use std::cell::Cell;
use std::os::fd::OwnedFd;
use std::rc::Rc;
use std::sync::{mpsc, Arc};

use pipewire as pw;
use pw::context::ContextRc;
use pw::main_loop::MainLoopRc;
use pw::properties::properties;
use pw::spa::pod::Pod;
use pw::stream::{StreamFlags, StreamRc, StreamState};
use pw::types::ObjectType;

use crate::frames::Frames;
use crate::params::{enum_format, Wanted};
use crate::slot::Shared;
use crate::PipeWireError;

/// Requests from [`crate::VideoStream`] to its loop thread.
pub(crate) enum Command {
    Stop,
    /// Offer a new format; the producer renegotiates (Mutter resizes).
    Renegotiate(Wanted),
    /// Pause (false) or resume (true) the stream; the producer sees it.
    SetActive(bool),
}

pub(crate) struct Setup {
    pub node_id: Option<u32>,
    pub fd: Option<OwnedFd>,
    pub wanted: Wanted,
}

/// Runs the loop until [`Command::Stop`] or a fatal event; reports the
/// outcome of the setup through `ready` first.
pub(crate) fn run(
    setup: Setup,
    shared: Arc<Shared>,
    commands: pw::channel::Receiver<Command>,
    ready: mpsc::SyncSender<Result<(), PipeWireError>>,
) {
    let ready = Cell::new(Some(ready));
    let report = |result: Result<(), PipeWireError>| {
        if let Some(tx) = ready.take() {
            let _ = tx.send(result);
        }
    };
    if let Err(err) = run_loop(setup, &shared, commands, &report) {
        report(Err(err.clone()));
        shared.end(err);
    }
    // Whatever ended the loop first has been recorded; this only fills in
    // the reason for a requested stop.
    shared.end(PipeWireError::Stopped);
}

fn run_loop(
    setup: Setup,
    shared: &Arc<Shared>,
    commands: pw::channel::Receiver<Command>,
    report: &dyn Fn(Result<(), PipeWireError>),
) -> Result<(), PipeWireError> {
    pw::init();
    let setup_err = |what: &str, e: pw::Error| PipeWireError::Setup(format!("{what}: {e}"));
    let mainloop = MainLoopRc::new(None).map_err(|e| setup_err("main loop", e))?;
    let context = ContextRc::new(&mainloop, None).map_err(|e| setup_err("context", e))?;
    let handed_fd = setup.fd.is_some();
    let core = match setup.fd {
        Some(fd) => context.connect_fd_rc(fd, None),
        None => context.connect_rc(None),
    }
    .map_err(|_| PipeWireError::no_daemon(handed_fd, std::io::Error::last_os_error()))?;

    // Only a fatal error on the core object itself ends the connection.
    let _core_listener = core
        .add_listener_local()
        .error({
            let shared = shared.clone();
            let mainloop = mainloop.clone();
            move |id, _seq, res, message| {
                if id == pw::core::PW_ID_CORE {
                    let errno = std::io::Error::from_raw_os_error(-res);
                    shared.end(PipeWireError::Disconnected(format!("{message} ({errno})")));
                    mainloop.quit();
                } else {
                    tracing::debug!(id, res, message, "PipeWire object error");
                }
            }
        })
        .register();

    let stream = StreamRc::new(
        core.clone(),
        "punktfunk-capture",
        properties! {
            *pw::keys::MEDIA_TYPE => "Video",
            *pw::keys::MEDIA_CATEGORY => "Capture",
            *pw::keys::MEDIA_ROLE => "Screen",
        },
    )
    .map_err(|e| setup_err("stream", e))?;
    let stream_listener = stream
        .add_local_listener_with_user_data(Frames::default())
        .state_changed({
            let shared = shared.clone();
            let mainloop = mainloop.clone();
            move |_, _, old, new| {
                tracing::debug!(?old, ?new, "PipeWire stream state");
                let streaming = new == StreamState::Streaming;
                shared.update(|slot| slot.streaming = streaming);
                let why = match new {
                    StreamState::Error(message) => PipeWireError::Stream(message),
                    // Unlinked by the session manager after having run.
                    StreamState::Unconnected
                        if matches!(old, StreamState::Paused | StreamState::Streaming) =>
                    {
                        PipeWireError::Stream("disconnected from its producer".into())
                    }
                    _ => return,
                };
                shared.end(why);
                mainloop.quit();
            }
        })
        .param_changed({
            let shared = shared.clone();
            move |stream, frames, id, param| frames.format_changed(stream, &shared, id, param)
        })
        .process({
            let shared = shared.clone();
            move |stream, frames| frames.process(stream, &shared)
        })
        .register()
        .map_err(|e| setup_err("stream listener", e))?;

    let stopping = Rc::new(Cell::new(false));
    let _commands = commands.attach(mainloop.loop_(), {
        let mainloop = mainloop.clone();
        let stream = stream.clone();
        let stopping = stopping.clone();
        move |command| match command {
            Command::Stop => {
                stopping.set(true);
                mainloop.quit();
            }
            Command::SetActive(active) => {
                if let Err(e) = stream.set_active(active) {
                    tracing::warn!(active, "setting the stream (in)active failed: {e}");
                }
            }
            Command::Renegotiate(wanted) => {
                let bytes = enum_format(wanted);
                let pod = Pod::from_bytes(&bytes).expect("we serialized a valid pod");
                if let Err(e) = stream.update_params(&mut [pod]) {
                    tracing::warn!("offering a new format failed: {e}");
                }
            }
        }
    });

    // A node that does not exist would leave the stream waiting forever:
    // look it up first (one round trip), and watch for it going away.
    let registry = core
        .get_registry_rc()
        .map_err(|e| setup_err("registry", e))?;
    let node_seen = Rc::new(Cell::new(false));
    let _registry_listener = registry
        .add_listener_local()
        .global({
            let node_seen = node_seen.clone();
            let node_id = setup.node_id;
            move |global| {
                if Some(global.id) == node_id && global.type_ == ObjectType::Node {
                    node_seen.set(true);
                }
            }
        })
        .global_remove({
            let shared = shared.clone();
            let mainloop = mainloop.clone();
            let node_id = setup.node_id;
            move |id| {
                if Some(id) == node_id {
                    shared.end(PipeWireError::NodeGone(id));
                    mainloop.quit();
                }
            }
        })
        .register();
    let pending = core.sync(0).map_err(|e| setup_err("sync", e))?;
    let _done_listener = core
        .add_listener_local()
        .done({
            let mainloop = mainloop.clone();
            move |id, seq| {
                if id == pw::core::PW_ID_CORE && seq == pending {
                    mainloop.quit();
                }
            }
        })
        .register();
    mainloop.run();
    if stopping.get() {
        return Ok(());
    }
    if let Some(err) = shared.lock().ended.clone() {
        return Err(err);
    }
    if let Some(node_id) = setup.node_id.filter(|_| !node_seen.get()) {
        return Err(PipeWireError::NodeNotFound(node_id));
    }

    let format = enum_format(setup.wanted);
    let mut params = [Pod::from_bytes(&format).expect("we serialized a valid pod")];
    stream
        .connect(
            pw::spa::utils::Direction::Input,
            setup.node_id,
            StreamFlags::AUTOCONNECT | StreamFlags::MAP_BUFFERS | StreamFlags::DONT_RECONNECT,
            &mut params,
        )
        .map_err(|e| setup_err("connecting the stream", e))?;
    report(Ok(()));
    mainloop.run();
    // Our own disconnect is no news: stop listening first.
    drop(stream_listener);
    let _ = stream.disconnect();
    Ok(())
}
