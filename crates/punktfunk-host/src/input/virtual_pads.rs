//! The device edge of the pad bank: one session's [`PadAction`]s become kernel devices (an Xbox
//! pad over uinput, a DualSense or DualShock 4 over UHID), and what games ask of those devices
//! (rumble, lightbar) comes back as [`Feedback`] for the client.
//!
//! A host without `/dev/uinput` (containers, CI) still streams: the first device that cannot be
//! made turns pads off for the session with one warning, and later actions are only counted.

use std::sync::atomic::{AtomicU32, Ordering};

use punktfunk_input::device::uhid::{SonyFeedback, SonyKind, SonyPad};
use punktfunk_input::device::uinput::XboxPad;
use punktfunk_input::device::DeviceError;
use punktfunk_input::gamepad::PadState;

use super::pads::{PadAction, PadKind, MAX_PADS};

/// Something a game asked of pad `index`, to pass on to the client's real pad.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feedback {
    /// Motor strengths, 0 (off) … 65535, as Moonlight's rumble message takes them.
    Rumble {
        index: u8,
        low: u16,
        high: u16,
    },
    Lightbar {
        index: u8,
        rgb: (u8, u8, u8),
    },
}

enum Device {
    Xbox(XboxPad),
    Sony(SonyPad),
}

/// Feedback reads per device per poll: a game flooding effects cannot stall the caller.
const FEEDBACK_READS_MAX: usize = 32;

/// One session's virtual pads. Dropping it removes every device.
#[derive(Default)]
pub struct VirtualPads {
    devices: [Option<Device>; MAX_PADS],
    /// Why pads are off for this session, once a device could not be made.
    off: Option<String>,
    /// Actions not carried out because pads are off.
    skipped: u64,
}

impl VirtualPads {
    /// Why pads are off for this session, if they are.
    pub fn off_reason(&self) -> Option<&str> {
        self.off.as_deref()
    }

    /// Actions not carried out since pads went off.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// How many devices exist.
    pub fn devices(&self) -> usize {
        self.devices.iter().flatten().count()
    }

    /// Carries out one bank action. Never fails: a device error is logged, not returned.
    pub fn apply(&mut self, action: &PadAction) {
        if self.off.is_some() {
            self.skipped += 1;
            return;
        }
        match *action {
            PadAction::Create { index, kind } => self.create(index, kind),
            PadAction::Update { index, state } => self.update(index, &state),
            PadAction::Remove { index } => {
                if let Some(slot) = self.devices.get_mut(usize::from(index)) {
                    *slot = None; // Drop destroys the kernel device.
                }
            }
        }
    }

    /// Everything the games asked of the pads since the last call.
    pub fn poll_feedback(&mut self) -> Vec<Feedback> {
        let mut out = Vec::new();
        for (index, device) in (0u8..).zip(self.devices.iter_mut()) {
            let Some(device) = device else { continue };
            for _ in 0..FEEDBACK_READS_MAX {
                match device {
                    Device::Xbox(pad) => match pad.poll_feedback() {
                        Some((low, high)) => out.push(Feedback::Rumble { index, low, high }),
                        None => break,
                    },
                    Device::Sony(pad) => match pad.poll() {
                        Some(feedback) => out.extend(sony_feedback(index, &feedback)),
                        None => break,
                    },
                }
            }
        }
        out
    }

    fn create(&mut self, index: u8, kind: PadKind) {
        let Some(slot) = self.devices.get_mut(usize::from(index)) else {
            return;
        };
        let made = match kind {
            PadKind::Xbox => XboxPad::new().map(Device::Xbox),
            PadKind::DualSense => sony_or_xbox(SonyKind::DualSense),
            PadKind::DualShock4 => sony_or_xbox(SonyKind::DualShock4),
        };
        match made {
            Ok(device) => {
                tracing::info!(target: "punktfunk::input", "pad {index}: {} device made", kind.name());
                *slot = Some(device);
            }
            Err(e) => {
                tracing::warn!(target: "punktfunk::input", "virtual pads off: {e}");
                self.off = Some(e.to_string());
                self.skipped += 1;
                // Pads are all or nothing for a session: the client sees consistent behaviour.
                self.devices = Default::default();
            }
        }
    }

    fn update(&mut self, index: u8, state: &PadState) {
        let Some(Some(device)) = self.devices.get_mut(usize::from(index)) else {
            return;
        };
        let result = match device {
            Device::Xbox(pad) => pad.update(state),
            Device::Sony(pad) => pad.update(state, None, None, None),
        };
        if let Err(e) = result {
            tracing::debug!(target: "punktfunk::input", "pad {index} update: {e}");
        }
    }
}

/// A Sony pad over UHID, or an Xbox pad when UHID cannot make one (games still get a pad).
fn sony_or_xbox(kind: SonyKind) -> Result<Device, DeviceError> {
    match SonyPad::new(kind, next_mac()) {
        Ok(pad) => Ok(Device::Sony(pad)),
        Err(e) => {
            tracing::info!(target: "punktfunk::input", "{kind:?} over UHID impossible ({e}); an Xbox pad instead");
            XboxPad::new().map(Device::Xbox)
        }
    }
}

/// A MAC for the next Sony pad: the driver refuses two live pads with the same one. Locally
/// administered (0x02), then the process id and a counter, so neither another host process
/// nor an earlier pad of this one collides.
fn next_mac() -> [u8; 6] {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed).to_be_bytes();
    let pid = (std::process::id() as u16).to_be_bytes();
    [0x02, pid[0], pid[1], n[1], n[2], n[3]]
}

/// A Sony output report as client feedback. Motors run 0–255 there and 0–65535 for Moonlight.
fn sony_feedback(index: u8, feedback: &SonyFeedback) -> Vec<Feedback> {
    let (rumble, lightbar) = match feedback {
        SonyFeedback::DualSense(f) => (f.rumble, f.lightbar),
        SonyFeedback::DualShock4(f) => (f.rumble, f.lightbar),
    };
    let widen = |v: u8| u16::from(v) * 257;
    let mut out = Vec::new();
    if let Some((left, right)) = rumble {
        out.push(Feedback::Rumble {
            index,
            low: widen(left),
            high: widen(right),
        });
    }
    if let Some(rgb) = lightbar {
        out.push(Feedback::Lightbar { index, rgb });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use punktfunk_input::gamepad::ds4::Ds4Feedback;
    use punktfunk_input::gamepad::dualsense::DualSenseFeedback;

    #[test]
    fn sony_motors_widen_to_the_full_range() {
        let ds = SonyFeedback::DualSense(DualSenseFeedback {
            rumble: Some((255, 1)),
            lightbar: Some((1, 2, 3)),
            ..Default::default()
        });
        assert_eq!(
            sony_feedback(3, &ds),
            [
                Feedback::Rumble {
                    index: 3,
                    low: 65535,
                    high: 257
                },
                Feedback::Lightbar {
                    index: 3,
                    rgb: (1, 2, 3)
                }
            ]
        );
        let ds4 = SonyFeedback::DualShock4(Ds4Feedback {
            rumble: Some((0, 0)),
            lightbar: None,
        });
        assert_eq!(
            sony_feedback(0, &ds4),
            [Feedback::Rumble {
                index: 0,
                low: 0,
                high: 0
            }]
        );
    }

    #[test]
    fn macs_differ() {
        assert_ne!(next_mac(), next_mac());
    }

    /// With the real device nodes: created, fed and removed; without them, off with a reason
    /// naming the node, and later actions only counted.
    #[test]
    fn a_pad_is_made_or_pads_go_off_with_the_reason() {
        let mut pads = VirtualPads::default();
        pads.apply(&PadAction::Create {
            index: 0,
            kind: PadKind::Xbox,
        });
        let state = PadState {
            buttons: punktfunk_input::gamepad::buttons::A,
            ..PadState::default()
        };
        pads.apply(&PadAction::Update { index: 0, state });
        match pads.off_reason() {
            None => {
                assert!(std::path::Path::new("/dev/uinput").exists());
                assert_eq!(pads.devices(), 1);
                pads.apply(&PadAction::Remove { index: 0 });
                assert_eq!(pads.devices(), 0);
            }
            Some(reason) => {
                assert!(reason.contains("/dev/uinput"), "{reason}");
                assert_eq!(pads.devices(), 0);
                assert_eq!(pads.skipped(), 2);
                assert!(pads.poll_feedback().is_empty());
            }
        }
    }
}
