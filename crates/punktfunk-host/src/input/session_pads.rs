//! A session's pads, either plane: the client's controllers through the pad bank to virtual
//! devices, and what games ask of the pads (rumble, lightbar) back for the plane to send.

use punktfunk_gamestream::input::InputEvent;
use punktfunk_input::gamepad::PadState;

use crate::input::pads::{PadAction, PadBank, PadKind};
use crate::input::virtual_pads::{Feedback, VirtualPads};

#[derive(Default)]
pub struct SessionPads {
    bank: PadBank,
    devices: VirtualPads,
}

impl SessionPads {
    /// Feeds one decoded Moonlight input event (non-controller events do nothing).
    pub fn input(&mut self, event: &InputEvent) {
        for action in self.bank.handle(event) {
            self.apply(&action);
        }
    }

    /// A native client's pad `index` (of `kind`) is now in `state`.
    pub fn native_state(&mut self, index: u8, kind: PadKind, state: PadState) {
        for action in self.bank.native_state(index, kind, state) {
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
        match self.devices.off_reason() {
            None => tracing::info!(target: "punktfunk::input", pads, devices, "pads ended"),
            Some(reason) => tracing::info!(
                target: "punktfunk::input",
                pads,
                dropped_actions = self.devices.skipped(),
                "pads ended; virtual pads were off: {reason}"
            ),
        }
    }

    /// What games asked of the pads since the last call.
    pub fn feedback(&mut self) -> Vec<Feedback> {
        self.devices.poll_feedback()
    }

    fn apply(&mut self, action: &PadAction) {
        match action {
            PadAction::Create { index, kind } => {
                tracing::info!(target: "punktfunk::input", "pad {index} arrived ({})", kind.name());
            }
            PadAction::Update { index, state } => {
                tracing::info!(target: "punktfunk::input", "pad {index} {state:?}");
            }
            PadAction::Remove { index } => {
                tracing::info!(target: "punktfunk::input", "pad {index} removed");
            }
        }
        self.devices.apply(action);
    }
}
