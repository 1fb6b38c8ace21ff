//! The device edge of the pad bank: one session's [`PadAction`]s become kernel devices (an Xbox
//! pad over uinput, a DualSense or DualShock 4 over UHID), and what games ask of those devices
//! (rumble, lightbar, player LEDs, trigger effects) comes back as [`Feedback`] for the client.
//!
//! A host without `/dev/uinput` (containers, CI) still streams: the first device that cannot be
//! made turns pads off for the session with one warning, and later actions are only counted.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use punktfunk_input::device::uhid::{SonyFeedback, SonyKind, SonyPad};
use punktfunk_input::device::uinput::XboxPad;
use punktfunk_input::device::DeviceError;
use punktfunk_input::gamepad::dualsense::TRIGGER_EFFECT_LEN;
use punktfunk_input::gamepad::{Battery, Motion, PadState, Touchpad};

use super::pads::{MotionSensors, PadAction, PadKind, MAX_PADS};

/// Something for the client about its pad `index`: mostly what a game asked of the virtual
/// pad, to pass on to the client's real one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feedback {
    /// Motor strengths, 0 (off) … 65535, as Moonlight's rumble message takes them.
    Rumble { index: u8, low: u16, high: u16 },
    /// Lightbar colour and (DualSense) player LEDs, each `None` when the game left it alone.
    Lights {
        index: u8,
        rgb: Option<(u8, u8, u8)>,
        player_leds: Option<u8>,
    },
    /// DualSense adaptive-trigger effect blocks (mode byte, 10 parameters) as the game wrote
    /// them, each `None` when the game left that trigger alone.
    Triggers {
        index: u8,
        left: Option<[u8; TRIGGER_EFFECT_LEN]>,
        right: Option<[u8; TRIGGER_EFFECT_LEN]>,
    },
    /// Ask the client to report these motion sensors of the pad (a Moonlight client only sends
    /// motion when asked).
    ReportMotion { index: u8, sensors: MotionSensors },
}

/// A Sony pad and everything its next input report carries: each report is the whole pad.
struct Sony {
    pad: SonyPad,
    state: PadState,
    touch: Touchpad,
    /// `None` until the client reported motion: a still pad at rest until then.
    motion: Option<Motion>,
    battery: Battery,
    /// The sensor clock starts with the device.
    born: Instant,
}

impl Sony {
    fn new(pad: SonyPad) -> Self {
        Self {
            pad,
            state: PadState::default(),
            touch: Touchpad::default(),
            motion: None,
            battery: Battery::default(),
            born: Instant::now(),
        }
    }

    fn send(&mut self) -> Result<(), DeviceError> {
        let elapsed_us = u64::try_from(self.born.elapsed().as_micros()).unwrap_or(u64::MAX);
        let motion = self.motion.map(|m| Motion {
            timestamp: self.pad.kind().sensor_ticks(elapsed_us),
            ..m
        });
        self.pad.update(
            &self.state,
            Some(&self.touch),
            motion.as_ref(),
            Some(&self.battery),
        )
    }
}

enum Device {
    Xbox(XboxPad),
    Sony(Box<Sony>),
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

    /// Whether pad `index` is a Sony device (not an Xbox pad standing in for one).
    pub fn is_sony(&self, index: u8) -> bool {
        matches!(
            self.devices.get(usize::from(index)),
            Some(Some(Device::Sony(_)))
        )
    }

    /// Carries out one bank action. Never fails: a device error is logged, not returned.
    pub fn apply(&mut self, action: &PadAction) {
        if self.off.is_some() {
            self.skipped += 1;
            return;
        }
        match *action {
            PadAction::Create { index, kind } => self.create(index, kind),
            PadAction::Remove { index } => {
                if let Some(slot) = self.devices.get_mut(usize::from(index)) {
                    *slot = None; // Drop destroys the kernel device.
                }
            }
            _ => self.update(action),
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
                    Device::Sony(sony) => match sony.pad.poll() {
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

    /// Moves a pad. An Xbox pad standing in for a Sony one takes the buttons and sticks; touch,
    /// motion and battery it has no place for.
    fn update(&mut self, action: &PadAction) {
        let index = action.index();
        let Some(Some(device)) = self.devices.get_mut(usize::from(index)) else {
            return;
        };
        let result = match (device, *action) {
            (Device::Xbox(pad), PadAction::Update { state, .. }) => pad.update(&state),
            (Device::Xbox(_), _) => return,
            (Device::Sony(sony), action) => {
                match action {
                    PadAction::Update { state, .. } => sony.state = state,
                    PadAction::Touch { touchpad, .. } => sony.touch = touchpad,
                    PadAction::Motion { motion, .. } => sony.motion = Some(motion),
                    PadAction::Battery { battery, .. } => sony.battery = battery,
                    PadAction::Create { .. } | PadAction::Remove { .. } => return,
                }
                sony.send()
            }
        };
        if let Err(e) = result {
            tracing::debug!(target: "punktfunk::input", "pad {index} update: {e}");
        }
    }
}

/// A Sony pad over UHID, or an Xbox pad when UHID cannot make one (games still get a pad).
fn sony_or_xbox(kind: SonyKind) -> Result<Device, DeviceError> {
    match SonyPad::new(kind, next_mac()) {
        Ok(pad) => Ok(Device::Sony(Box::new(Sony::new(pad)))),
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
    let (rumble, rgb, player_leds, (left, right)) = match feedback {
        SonyFeedback::DualSense(f) => (
            f.rumble,
            f.lightbar,
            f.player_leds,
            (f.left_trigger_effect, f.right_trigger_effect),
        ),
        SonyFeedback::DualShock4(f) => (f.rumble, f.lightbar, None, (None, None)),
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
    if rgb.is_some() || player_leds.is_some() {
        out.push(Feedback::Lights {
            index,
            rgb,
            player_leds,
        });
    }
    if left.is_some() || right.is_some() {
        out.push(Feedback::Triggers { index, left, right });
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
                Feedback::Lights {
                    index: 3,
                    rgb: Some((1, 2, 3)),
                    player_leds: None
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
    fn dualsense_leds_and_trigger_effects_pass_through_raw() {
        let effect = [0x21, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        let ds = SonyFeedback::DualSense(DualSenseFeedback {
            player_leds: Some(0b0_0100),
            right_trigger_effect: Some(effect),
            ..Default::default()
        });
        assert_eq!(
            sony_feedback(1, &ds),
            [
                Feedback::Lights {
                    index: 1,
                    rgb: None,
                    player_leds: Some(0b0_0100)
                },
                Feedback::Triggers {
                    index: 1,
                    left: None,
                    right: Some(effect)
                }
            ]
        );
        // A report that sets nothing the client replays gives nothing.
        let quiet = SonyFeedback::DualSense(DualSenseFeedback::default());
        assert!(sony_feedback(0, &quiet).is_empty());
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
