//! A session's pads, either plane: the client's controllers through the pad bank to virtual
//! devices, and what games ask of the pads (rumble, lights, trigger effects) back for the plane
//! to send, with the requests for motion reports a Moonlight client needs.

use punktfunk_gamestream::input::InputEvent;
use punktfunk_input::gamepad::PadState;

use crate::input::pads::{motion_to_ask, PadAction, PadBank, PadKind};
use crate::input::virtual_pads::{Feedback, VirtualPads};

/// How often a session's pads are asked for feedback (rumble, lights): often enough that a
/// game's rumble starts within a frame, rarely enough not to poll devices every loop turn.
pub const FEEDBACK_POLL: std::time::Duration = std::time::Duration::from_millis(10);

/// Touch, motion and battery updates that reached the pad bank's Sony pads, per kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    touch: u64,
    motion: u64,
    battery: u64,
}

#[derive(Default)]
pub struct SessionPads {
    bank: PadBank,
    devices: VirtualPads,
    counts: Counts,
    /// Feedback of the host's own (motion requests) waiting for the next [`Self::feedback`].
    pending: Vec<Feedback>,
}

impl SessionPads {
    /// Feeds one decoded Moonlight input event (non-controller events do nothing).
    pub fn input(&mut self, event: &InputEvent) {
        for action in self.bank.handle(event) {
            self.apply(&action);
            // A Sony pad that is really there gets the motion its client can send.
            if let (
                PadAction::Create { index, kind },
                InputEvent::ControllerArrival { capabilities, .. },
            ) = (action, event)
            {
                let sensors = motion_to_ask(kind, *capabilities);
                if (sensors.accel || sensors.gyro) && self.devices.is_sony(index) {
                    tracing::info!(target: "punktfunk::input", "pad {index}: motion asked for ({sensors:?})");
                    self.pending.push(Feedback::ReportMotion { index, sensors });
                }
            }
        }
    }

    /// A native client's pad `index` (of `kind`) is now in `state`.
    pub fn native_state(&mut self, index: u8, kind: PadKind, state: PadState) {
        for action in self.bank.native_state(index, kind, state) {
            self.apply(&action);
        }
    }

    /// A native client's finger on a pad's touchpad.
    pub fn native_touch(&mut self, touch: &punktfunk_core::control::PadTouch) {
        for action in self.bank.native_touch(touch) {
            self.apply(&action);
        }
    }

    /// A native client's motion sample.
    pub fn native_motion(&mut self, motion: &punktfunk_core::control::PadMotion) {
        for action in self.bank.native_motion(motion) {
            self.apply(&action);
        }
    }

    /// A native client's pad `index` went away.
    pub fn native_removed(&mut self, index: u8) {
        for action in self.bank.native_removed(index) {
            self.apply(&action);
        }
    }

    /// The stream ended: every pad goes.
    pub fn end(&mut self) {
        if self.bank.is_empty() {
            return;
        }
        let (pads, devices) = (self.bank.len(), self.devices.devices());
        for action in self.bank.end() {
            self.apply(&action);
        }
        let Counts {
            touch,
            motion,
            battery,
        } = self.counts;
        let ignored = self.bank.ignored();
        match self.devices.off_reason() {
            None => tracing::info!(
                target: "punktfunk::input",
                pads, devices, touch, motion, battery, ignored,
                "pads ended"
            ),
            Some(reason) => tracing::info!(
                target: "punktfunk::input",
                pads, touch, motion, battery, ignored,
                dropped_actions = self.devices.skipped(),
                "pads ended; virtual pads were off: {reason}"
            ),
        }
    }

    /// What games asked of the pads since the last call, after the host's own requests.
    pub fn feedback(&mut self) -> Vec<Feedback> {
        let mut out = std::mem::take(&mut self.pending);
        out.extend(self.devices.poll_feedback());
        out
    }

    fn apply(&mut self, action: &PadAction) {
        match action {
            PadAction::Create { index, kind } => {
                tracing::info!(target: "punktfunk::input", "pad {index} arrived ({})", kind.name());
            }
            PadAction::Update { index, state } => {
                tracing::info!(target: "punktfunk::input", "pad {index} {state:?}");
            }
            PadAction::Touch { index, touchpad } => {
                self.counts.touch += 1;
                tracing::info!(target: "punktfunk::input", "pad {index} {touchpad:?}");
            }
            PadAction::Motion { index, motion } => {
                // Up to hundreds a second: counted, and logged only when asked for.
                self.counts.motion += 1;
                tracing::debug!(target: "punktfunk::input", "pad {index} {motion:?}");
            }
            PadAction::Battery { index, battery } => {
                self.counts.battery += 1;
                tracing::info!(target: "punktfunk::input", "pad {index} {battery:?}");
            }
            PadAction::Remove { index } => {
                tracing::info!(target: "punktfunk::input", "pad {index} removed");
            }
        }
        self.devices.apply(action);
    }
}
