//! The display registry run against the compositor: makes outputs, hands sessions leases on
//! them, releases them when the registry says so (at once, or when the keep-alive window ends).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use punktfunk_core::control::Mode;

use super::registry::{
    Decision, DisplayId, DisplayState, Linger, Owner, Refusal, Registry, Rules, SessionId,
};
use crate::display::{Capturer, DisplayBackend, VirtualDisplay};

/// What `ctl displays` shows of one.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DisplayInfo {
    pub id: DisplayId,
    pub output: String,
    pub owner: String,
    pub mode: String,
    pub state: &'static str,
    pub sessions: Vec<SessionId>,
    /// Milliseconds until a lingering display is released.
    pub linger_ms_left: Option<u64>,
}

/// Why a session got no display.
#[derive(Debug, thiserror::Error)]
pub enum AcquireError {
    #[error("refused: {0:?}")]
    Refused(Refusal),
    /// `steal`: these sessions must end first; ask again once they did.
    #[error("other sessions must end first")]
    MustStop(Vec<SessionId>),
    #[error("{0:#}")]
    Failed(anyhow::Error),
}

pub struct Displays {
    backend: Arc<dyn DisplayBackend>,
    /// Where the input of streams on these displays goes.
    input: crate::input::InputArgs,
    registry: Mutex<Registry>,
    outputs: Mutex<HashMap<DisplayId, Box<dyn VirtualDisplay>>>,
    /// Wakes the linger timer when deadlines change.
    pub changed: tokio::sync::Notify,
}

/// A session's hold on its display. Dropping it detaches the session: the display lingers, or
/// goes at once when the session [`Lease::quit`].
pub struct Lease {
    displays: Arc<Displays>,
    pub display: DisplayId,
    pub session: SessionId,
    pub mode: Mode,
    pub name: String,
    /// Whether the display was the client's lingering one.
    pub reused: bool,
    quit: Arc<AtomicBool>,
}

impl Lease {
    /// Switches the display to another mode (mid-session reconfigure).
    pub fn reconfigure(&mut self, mode: Mode) -> anyhow::Result<()> {
        let mut outputs = self.displays.outputs();
        let output = outputs
            .get_mut(&self.display)
            .ok_or_else(|| anyhow::anyhow!("the display is gone"))?;
        output.reconfigure(mode)?;
        self.displays.registry().set_mode(self.display, mode);
        self.mode = mode;
        Ok(())
    }

    /// Starts reading the display's pictures.
    pub fn start_capture(&self) -> anyhow::Result<Box<dyn Capturer>> {
        let outputs = self.displays.outputs();
        outputs
            .get(&self.display)
            .ok_or_else(|| anyhow::anyhow!("the display is gone"))?
            .start_capture()
    }

    /// The flag that makes dropping the lease release the display at once (a deliberate quit).
    pub fn quit_flag(&self) -> Arc<AtomicBool> {
        self.quit.clone()
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let linger = if self.quit.load(Ordering::Relaxed) {
            Linger::Immediate
        } else {
            Linger::Window
        };
        self.displays.detach(self.session, linger);
    }
}

impl Displays {
    pub fn new(
        backend: Arc<dyn DisplayBackend>,
        rules: Rules,
        input: crate::input::InputArgs,
    ) -> Arc<Self> {
        Arc::new(Self {
            backend,
            input,
            registry: Mutex::new(Registry::new(rules)),
            outputs: Mutex::new(HashMap::new()),
            changed: tokio::sync::Notify::new(),
        })
    }

    /// An injector for a stream shown on `display` (`target` names its output and mode; see
    /// [`crate::input::Injector::open`]).
    pub fn injector(
        &self,
        display: DisplayId,
        target: &crate::input::Target,
    ) -> anyhow::Result<Option<crate::input::Injector>> {
        let display_input = self.outputs().get(&display).and_then(|o| o.input());
        crate::input::Injector::open(&self.input, self.compositor(), target, display_input)
    }

    /// Whether new outputs should come with their own way in (Mutter's RemoteDesktop session).
    fn wants_display_input(&self) -> bool {
        crate::input::choose_backend(&self.input, self.compositor())
            == Some(crate::input::InputChoice::Mutter)
    }

    /// The compositor the displays live on.
    pub fn compositor(&self) -> crate::display::Compositor {
        self.backend.compositor()
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn outputs(&self) -> MutexGuard<'_, HashMap<DisplayId, Box<dyn VirtualDisplay>>> {
        self.outputs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Finds or makes the display for a new session (blocking: it talks to the compositor).
    pub fn acquire(
        self: &Arc<Self>,
        session: SessionId,
        owner: Owner,
        mode: Mode,
    ) -> Result<Lease, AcquireError> {
        // One acquisition at a time: two clients must not both make "the" new output.
        let mut outputs = self.outputs();
        let decision = self.registry().decide(&owner, mode);
        let (display, mode, reused) = match decision {
            Decision::Refuse(why) => return Err(AcquireError::Refused(why)),
            Decision::Create { stop } if !stop.is_empty() => {
                return Err(AcquireError::MustStop(stop))
            }
            Decision::Reuse(id) | Decision::Join(id) => {
                let joined = matches!(decision, Decision::Join(_));
                let output = outputs.get_mut(&id).ok_or_else(|| {
                    AcquireError::Failed(anyhow::anyhow!("display {id} has no output"))
                })?;
                // A joiner takes the display as it is; the owner may change the refresh.
                let mode = if joined { output.mode() } else { mode };
                if output.mode() != mode {
                    output.reconfigure(mode).map_err(AcquireError::Failed)?;
                }
                if !self.registry().attach(id, session, mode) {
                    return Err(AcquireError::Failed(anyhow::anyhow!(
                        "display {id} vanished"
                    )));
                }
                (id, mode, !joined)
            }
            Decision::Create { .. } => {
                let output = if self.wants_display_input() {
                    self.backend.create_with_input(mode)
                } else {
                    self.backend.create(mode)
                }
                .map_err(AcquireError::Failed)?;
                let mode = output.mode();
                let id = self.registry().created(owner, mode, session);
                outputs.insert(id, output);
                (id, mode, false)
            }
        };
        let output = &outputs[&display];
        let lease = Lease {
            displays: self.clone(),
            display,
            session,
            mode,
            name: output.name().to_owned(),
            reused,
            quit: Arc::new(AtomicBool::new(false)),
        };
        drop(outputs);
        self.changed.notify_one();
        Ok(lease)
    }

    fn detach(&self, session: SessionId, linger: Linger) {
        let due = self.registry().detach(Instant::now(), session, linger);
        self.release(due);
        self.changed.notify_one();
    }

    /// Releases displays now, whatever their state (a stolen client's).
    pub fn release_now(&self, ids: &[DisplayId]) {
        let gone: Vec<DisplayId> = {
            let mut registry = self.registry();
            ids.iter()
                .copied()
                .filter(|id| registry.remove(*id))
                .collect()
        };
        self.release(gone);
    }

    /// The displays that hold these sessions.
    pub fn displays_of(&self, sessions: &[SessionId]) -> Vec<DisplayId> {
        self.registry()
            .displays()
            .filter(|d| d.sessions.iter().any(|s| sessions.contains(s)))
            .map(|d| d.id)
            .collect()
    }

    fn release(&self, ids: Vec<DisplayId>) {
        if ids.is_empty() {
            return;
        }
        let released: Vec<_> = {
            let mut outputs = self.outputs();
            ids.iter().filter_map(|id| outputs.remove(id)).collect()
        };
        // Dropping an output releases it on the compositor.
        drop(released);
    }

    /// Releases lingering displays as their windows end; runs for the host's lifetime.
    pub async fn run_linger_timer(self: Arc<Self>) {
        loop {
            let deadline = self.registry().next_deadline();
            let wait = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            match wait {
                Some(wait) => {
                    let _ = tokio::time::timeout(wait, self.changed.notified()).await;
                }
                None => self.changed.notified().await,
            }
            let due = self.registry().expire(Instant::now());
            if !due.is_empty() {
                tracing::info!(displays = ?due, "keep-alive window over: releasing");
                let this = self.clone();
                let _ = tokio::task::spawn_blocking(move || this.release(due)).await;
            }
        }
    }

    pub fn list(&self) -> Vec<DisplayInfo> {
        let outputs = self.outputs();
        let now = Instant::now();
        self.registry()
            .displays()
            .map(|d| DisplayInfo {
                id: d.id,
                output: outputs
                    .get(&d.id)
                    .map_or_else(String::new, |o| o.name().to_owned()),
                owner: crate::trust::hex(&d.owner),
                mode: d.mode.to_string(),
                state: match d.state {
                    DisplayState::Active => "active",
                    DisplayState::Lingering { .. } => "lingering",
                },
                sessions: d.sessions.clone(),
                linger_ms_left: match d.state {
                    DisplayState::Lingering { until } => {
                        Some(until.saturating_duration_since(now).as_millis() as u64)
                    }
                    DisplayState::Active => None,
                },
            })
            .collect()
    }
}
