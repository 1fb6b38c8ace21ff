//! A GameStream session's pads: Moonlight's controller packets through the pad bank to virtual
//! devices, and the games' rumble and lightbar back as control-stream messages.

use punktfunk_gamestream::control;
use punktfunk_gamestream::input::InputEvent;

use crate::input::pads::{PadAction, PadBank};
use crate::input::virtual_pads::{Feedback, VirtualPads};

#[derive(Default)]
pub struct SessionPads {
    bank: PadBank,
    devices: VirtualPads,
}

impl SessionPads {
    /// Feeds one decoded input event (non-controller events do nothing).
    pub fn input(&mut self, event: &InputEvent) {
        for action in self.bank.handle(event) {
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

    /// Control messages (type, payload) for what games asked of the pads since the last call.
    pub fn feedback(&mut self) -> Vec<(u16, Vec<u8>)> {
        self.devices
            .poll_feedback()
            .into_iter()
            .map(|feedback| match feedback {
                Feedback::Rumble { index, low, high } => {
                    control::rumble(u16::from(index), low, high)
                }
                Feedback::Lightbar {
                    index,
                    rgb: (r, g, b),
                } => control::set_rgb_led(u16::from(index), r, g, b),
            })
            .collect()
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
