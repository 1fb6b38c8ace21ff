//! The "pw-audio" thread: one PipeWire connection and main loop that owns
//! every audio object we make (PipeWire objects are not thread-safe). The
//! public handles talk to it with [`Command`]s over a `pipewire::channel`
//! and get answers over std channels they wait on with a timeout.
//!
//! All state lives in one [`State`] behind `Rc<RefCell<_>>`; PipeWire
//! callbacks reach it through a `Weak` and never while it is borrowed (the
//! stream callbacks, which can fire inside our own calls, only touch their
//! queues).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::sync::{mpsc, Arc, OnceLock};
use std::time::{Duration, Instant};

use pipewire as pw;
use pw::context::ContextRc;
use pw::core::CoreRc;
use pw::main_loop::MainLoopRc;
use pw::registry::{GlobalObject, RegistryRc};
use pw::spa::utils::dict::DictRef;

use super::command::{Command, OnceReply, PendingCapture, Reply};
use super::defaults::Defaults;
use super::layout::Layout;
use super::metadata::BoundMetadata;
use super::queue::{ChunkQueue, SampleQueue};
use super::sink::SinkSlot;
use super::streams::{self, Capture, LiveStream, Mic};
use super::{CaptureOrigin, Remote};
use crate::PipeWireError;

/// `EPIPE`: what the daemon's core reports when the connection broke.
const EPIPE: i32 = 32;

/// How long setup may wait for the daemon's answers.
const SETUP_ROUNDTRIP: Duration = Duration::from_secs(5);
/// How long shutdown waits for our last messages to be handled.
const SHUTDOWN_ROUNDTRIP: Duration = Duration::from_secs(1);

/// What to do once the daemon has answered a sync.
type AfterRoundtrip = Box<dyn FnOnce(&mut State)>;

struct CaptureEntry {
    stream: Option<LiveStream<Capture>>,
    queue: Arc<ChunkQueue>,
    /// The sink generation it records, if it records our sink.
    sink: Option<u64>,
}

struct MicEntry {
    _stream: LiveStream<Mic>,
    name: String,
}

pub(crate) struct State {
    pub(super) me: Weak<RefCell<State>>,
    mainloop: MainLoopRc,
    pub(super) core: CoreRc,
    pub(super) registry: RegistryRc,
    pub(super) metadata: Option<BoundMetadata>,
    pub(super) defaults: Defaults,
    pub(super) sink: SinkSlot,
    /// Counts the sinks we made, so a capture of an old one is told apart.
    pub(super) sink_generation: u64,
    captures: HashMap<u64, CaptureEntry>,
    mics: HashMap<u64, MicEntry>,
    roundtrips: HashMap<i32, AfterRoundtrip>,
    /// Why the loop ended, for the queues.
    ended: Option<PipeWireError>,
}

/// Runs `f` on the state unless it is gone or (which would be our bug)
/// already borrowed.
pub(super) fn with_state(weak: &Weak<RefCell<State>>, f: impl FnOnce(&mut State)) {
    let Some(state) = weak.upgrade() else {
        return;
    };
    let Ok(mut state) = state.try_borrow_mut() else {
        tracing::error!("PipeWire audio callback re-entered the loop state; event ignored");
        return;
    };
    f(&mut state);
}

/// Runs the loop until [`Command::Stop`] or a lost connection; tells
/// `ready` first whether setup worked, and leaves why it ended in `ended`.
pub(crate) fn run(
    remote: Remote,
    commands: pw::channel::Receiver<Command>,
    ready: mpsc::SyncSender<Result<(), PipeWireError>>,
    ended: Arc<OnceLock<PipeWireError>>,
) {
    let why = match run_loop(remote, commands, &ready) {
        Ok(why) => why,
        Err(err) => {
            let _ = ready.try_send(Err(err.clone()));
            err
        }
    };
    let _ = ended.set(why);
}

fn run_loop(
    remote: Remote,
    commands: pw::channel::Receiver<Command>,
    ready: &mpsc::SyncSender<Result<(), PipeWireError>>,
) -> Result<PipeWireError, PipeWireError> {
    pw::init();
    let setup_err = |what: &str, e: pw::Error| PipeWireError::Setup(format!("{what}: {e}"));
    let mainloop = MainLoopRc::new(None).map_err(|e| setup_err("main loop", e))?;
    let context = ContextRc::new(&mainloop, None).map_err(|e| setup_err("context", e))?;
    let handed_fd = matches!(remote, Remote::Fd(_));
    let core = match remote {
        Remote::Fd(fd) => context.connect_fd_rc(fd, None),
        Remote::Default => context.connect_rc(None),
    }
    .map_err(|_| PipeWireError::no_daemon(handed_fd, std::io::Error::last_os_error()))?;
    let registry = core
        .get_registry_rc()
        .map_err(|e| setup_err("registry", e))?;

    let state = Rc::new_cyclic(|me| {
        RefCell::new(State {
            me: me.clone(),
            mainloop: mainloop.clone(),
            core: core.clone(),
            registry: registry.clone(),
            metadata: None,
            defaults: Defaults::default(),
            sink: SinkSlot::Absent,
            sink_generation: 0,
            captures: HashMap::new(),
            mics: HashMap::new(),
            roundtrips: HashMap::new(),
            ended: None,
        })
    });
    let weak = Rc::downgrade(&state);

    let _core_listener = core
        .add_listener_local()
        .done({
            let weak = weak.clone();
            move |id, seq| {
                if id != pw::core::PW_ID_CORE {
                    return;
                }
                let mut action = None;
                with_state(&weak, |s| action = s.roundtrips.remove(&seq.seq()));
                if let Some(action) = action {
                    with_state(&weak, action);
                }
            }
        })
        .error({
            let weak = weak.clone();
            move |id, _seq, res, message| {
                // Only a broken connection ends everything. The daemon also reports, on the
                // core, a message that raced an object's removal ("unknown resource N"):
                // harmless, the object is gone either way.
                if id == pw::core::PW_ID_CORE && res == -EPIPE {
                    let errno = std::io::Error::from_raw_os_error(-res);
                    let why = PipeWireError::Disconnected(format!("{message} ({errno})"));
                    with_state(&weak, |s| s.fail(why));
                } else if id == pw::core::PW_ID_CORE {
                    tracing::debug!(res, message, "PipeWire core error (not a disconnect)");
                } else {
                    // Errors of our own proxies reach their own listeners.
                    tracing::debug!(id, res, message, "PipeWire object error");
                }
            }
        })
        .register();
    let _registry_listener = registry
        .add_listener_local()
        .global({
            let weak = weak.clone();
            move |global| with_state(&weak, |s| s.on_global(global))
        })
        .global_remove({
            let weak = weak.clone();
            move |id| with_state(&weak, |s| s.on_global_remove(id))
        })
        .register();

    // First the globals (and the metadata bound on the way), then the
    // metadata's current values.
    for _ in 0..2 {
        if !roundtrip(&state, &mainloop, SETUP_ROUNDTRIP) {
            let why = state.borrow().ended.clone();
            return Err(why.unwrap_or_else(|| {
                PipeWireError::Setup(format!(
                    "the PipeWire daemon did not answer within {SETUP_ROUNDTRIP:?}"
                ))
            }));
        }
    }
    if state.borrow().metadata.is_none() {
        tracing::warn!(
            "PipeWire has no \"default\" metadata (is a session manager such as WirePlumber \
             running?): the punktfunk sink cannot be made the default output"
        );
    }

    let _commands = commands.attach(mainloop.loop_(), {
        let weak = weak.clone();
        move |command| with_state(&weak, |s| s.on_command(command))
    });
    let _ = ready.try_send(Ok(()));
    mainloop.run();

    // Put the defaults back and remove our nodes while still connected.
    let why = state
        .borrow()
        .ended
        .clone()
        .unwrap_or(PipeWireError::Stopped);
    state.borrow_mut().teardown(why.clone());
    roundtrip(&state, &mainloop, SHUTDOWN_ROUNDTRIP);
    state.borrow_mut().roundtrips.clear();
    Ok(why)
}

/// Iterates the loop until the daemon has handled everything sent so far,
/// or `timeout` passed, or the connection failed; true if it answered.
fn roundtrip(state: &Rc<RefCell<State>>, mainloop: &MainLoopRc, timeout: Duration) -> bool {
    let answered = Rc::new(Cell::new(false));
    state.borrow_mut().after_roundtrip({
        let answered = answered.clone();
        move |_| answered.set(true)
    });
    let deadline = Instant::now() + timeout;
    while !answered.get() && state.borrow().ended.is_none() {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return false;
        };
        mainloop
            .loop_()
            .iterate(left.min(Duration::from_millis(100)));
    }
    answered.get()
}

impl State {
    /// Runs `action` once the daemon has handled everything sent so far.
    pub(super) fn after_roundtrip(&mut self, action: impl FnOnce(&mut State) + 'static) {
        match self.core.sync(0) {
            Ok(seq) => {
                self.roundtrips.insert(seq.seq(), Box::new(action));
            }
            Err(e) => {
                tracing::warn!("PipeWire sync failed: {e}");
                action(self);
            }
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Capture(pending) => self.request_capture(pending),
            Command::StopCapture { id, done } => {
                self.stop_capture(id);
                self.after_roundtrip(move |_| {
                    let _ = done.try_send(());
                });
            }
            Command::Mic {
                id,
                layout,
                queue,
                reply,
            } => self.start_mic(id, layout, queue, reply),
            Command::StopMic { id, done } => {
                self.mics.remove(&id);
                self.after_roundtrip(move |_| {
                    let _ = done.try_send(());
                });
            }
            Command::Stop => self.mainloop.quit(),
        }
    }

    /// Starts a capture stream for `pending` on `origin`'s monitor.
    pub(super) fn start_capture(
        &mut self,
        pending: PendingCapture,
        origin: CaptureOrigin,
        sink: Option<(u64, &str)>,
    ) {
        let reply = OnceReply::new(pending.reply);
        let monitor = match sink {
            Some((_, name)) => streams::Monitor::Of(name),
            None => streams::Monitor::Default,
        };
        let on_ready = reply.on_ready(move || origin);
        match streams::capture(
            &self.core,
            monitor,
            pending.layout,
            pending.queue.clone(),
            on_ready,
        ) {
            Ok(stream) => {
                self.captures.insert(
                    pending.id,
                    CaptureEntry {
                        stream: Some(stream),
                        queue: pending.queue,
                        sink: sink.map(|(generation, _)| generation),
                    },
                );
            }
            Err(err) => {
                pending.queue.end(err.clone());
                reply.send(Err(err));
            }
        }
    }

    fn stop_capture(&mut self, id: u64) {
        self.sink.forget_waiter(id);
        if let Some(entry) = self.captures.remove(&id) {
            entry.queue.end(PipeWireError::Stopped);
        }
        self.release_unused_sink();
    }

    /// How many captures record our sink of `generation`.
    pub(super) fn sink_users(&self, generation: u64) -> usize {
        self.captures
            .values()
            .filter(|c| c.sink == Some(generation) && c.stream.is_some())
            .count()
    }

    /// Ends the captures of our sink of `generation`, which went away.
    pub(super) fn end_sink_captures(&mut self, generation: u64, why: PipeWireError) {
        for capture in self.captures.values_mut() {
            if capture.sink == Some(generation) {
                capture.stream = None;
                capture.queue.end(why.clone());
            }
        }
    }

    fn start_mic(
        &mut self,
        id: u64,
        layout: Layout,
        queue: Arc<SampleQueue>,
        reply: Reply<String>,
    ) {
        let name = (1..)
            .map(|n| match n {
                1 => super::MIC_NODE_NAME.to_string(),
                n => format!("{}_{n}", super::MIC_NODE_NAME),
            })
            .find(|name| self.mics.values().all(|m| &m.name != name))
            .unwrap_or_default();
        let reply = OnceReply::new(reply);
        let on_ready = reply.on_ready({
            let name = name.clone();
            move || name
        });
        match streams::mic(&self.core, &name, layout, queue, on_ready) {
            Ok(stream) => {
                self.mics.insert(
                    id,
                    MicEntry {
                        _stream: stream,
                        name,
                    },
                );
            }
            Err(err) => reply.send(Err(err)),
        }
    }

    fn on_global(&mut self, global: &GlobalObject<&DictRef>) {
        self.maybe_bind_metadata(global);
    }

    fn on_global_remove(&mut self, id: u32) {
        self.metadata_removed(id);
        self.sink_removed(id);
    }

    /// The connection broke: end everything and leave the loop.
    fn fail(&mut self, why: PipeWireError) {
        self.ended.get_or_insert(why);
        self.mainloop.quit();
    }

    /// Ends every capture with `why` and removes what we made, restoring
    /// the default sink first.
    fn teardown(&mut self, why: PipeWireError) {
        for capture in self.captures.values() {
            capture.queue.end(why.clone());
        }
        self.captures.clear();
        self.mics.clear();
        self.sink.fail_waiters(&why);
        self.release_sink();
    }
}
