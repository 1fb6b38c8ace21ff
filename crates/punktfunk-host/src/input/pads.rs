//! The pad bank: which virtual pads a GameStream client has, fed its controller packets and
//! answering with what the device layer must do. Sans-IO, so every rule below is unit-tested
//! without `/dev/uinput`.
//!
//! Moonlight's rules (shared/docs/gamestream/04-input.md §4.8–§4.11, §4.15): an arrival packet
//! creates pad `n` with a model; a state packet with `n`'s bit set in the active mask creates it
//! as an Xbox pad if no arrival came (older clients, hosts that ignore arrivals); the mask is the
//! client's whole set of pads, so a cleared bit removes that pad. Touchpad, motion and battery
//! packets reach Sony pads only; for any other pad they are counted and dropped.

use punktfunk_gamestream::input::{ControllerState, InputEvent, MotionType, TouchEventType};
use punktfunk_gamestream::wire::input::{capability, controller_type};
use punktfunk_input::gamepad::{buttons, ds4, dualsense, Battery, Motion, PadState, Touchpad};

use super::sony_extras::{battery_from_moonlight, SonyExtras};

/// Moonlight numbers controllers 0–15 (the active mask is 16 bits).
pub const MAX_PADS: usize = punktfunk_core::wire::control::MAX_PADS as usize;

/// Which pad the host emulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PadKind {
    Xbox,
    DualSense,
    DualShock4,
}

impl PadKind {
    /// The model for an arrival. Moonlight says only "PlayStation", not which one; the
    /// DualSense has a mic button (Moonlight's `MISC` flag) and the DualShock 4 has none, so
    /// that tells them apart. An unknown pad with a touchpad or motion sensors becomes a
    /// DualSense (Sunshine's choice), everything else an Xbox pad.
    pub fn for_arrival(kind: u8, capabilities: u16, supported_buttons: u32) -> Self {
        let sony_only = capability::TOUCHPAD | capability::ACCELEROMETER | capability::GYROSCOPE;
        match kind {
            controller_type::PLAYSTATION if supported_buttons & buttons::MISC == 0 => {
                Self::DualShock4
            }
            controller_type::PLAYSTATION => Self::DualSense,
            controller_type::UNKNOWN if capabilities & sony_only != 0 => Self::DualSense,
            _ => Self::Xbox,
        }
    }

    /// The model a native client names (`wire::control::pad_kind`); unknown ones get Xbox.
    pub fn from_wire(kind: u8) -> Self {
        use punktfunk_core::wire::control::pad_kind;
        match kind {
            pad_kind::DUALSENSE => PadKind::DualSense,
            pad_kind::DUALSHOCK4 => PadKind::DualShock4,
            _ => PadKind::Xbox,
        }
    }

    /// A Sony pad's touchpad size; `None` for a pad without touchpad, sensors and battery.
    pub fn touchpad_size(self) -> Option<(u16, u16)> {
        match self {
            Self::Xbox => None,
            Self::DualSense => Some((dualsense::TOUCHPAD_WIDTH, dualsense::TOUCHPAD_HEIGHT)),
            Self::DualShock4 => Some((ds4::TOUCHPAD_WIDTH, ds4::TOUCHPAD_HEIGHT)),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Xbox => "xbox",
            Self::DualSense => "dualsense",
            Self::DualShock4 => "dualshock4",
        }
    }
}

/// What the device layer must do, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PadAction {
    Create {
        index: u8,
        kind: PadKind,
    },
    Update {
        index: u8,
        state: PadState,
    },
    /// Sony pad `index`'s touchpad now holds these fingers.
    Touch {
        index: u8,
        touchpad: Touchpad,
    },
    /// Sony pad `index`'s sensors now read this (raw units; the device stamps the time).
    Motion {
        index: u8,
        motion: Motion,
    },
    Battery {
        index: u8,
        battery: Battery,
    },
    Remove {
        index: u8,
    },
}

impl PadAction {
    /// The pad it is about.
    pub fn index(&self) -> u8 {
        match *self {
            Self::Create { index, .. }
            | Self::Update { index, .. }
            | Self::Touch { index, .. }
            | Self::Motion { index, .. }
            | Self::Battery { index, .. }
            | Self::Remove { index } => index,
        }
    }
}

/// Which motion sensors to ask a Moonlight client to report, which it only does when asked
/// (chapter 03 §5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MotionSensors {
    pub accel: bool,
    pub gyro: bool,
}

/// After pad `kind` arrived with `capabilities`: a Sony pad has both sensors, so ask for
/// those the client's controller has. (Sunshine asks for both whenever its virtual pad has
/// sensors, at 100 Hz each; a client without them ignores the request.)
pub fn motion_to_ask(kind: PadKind, capabilities: u16) -> MotionSensors {
    if kind.touchpad_size().is_none() {
        return MotionSensors::default();
    }
    MotionSensors {
        accel: capabilities & capability::ACCELEROMETER != 0,
        gyro: capabilities & capability::GYROSCOPE != 0,
    }
}

/// Every button flag [`PadState`] knows; the others (0x0800, bits above `MISC`) are dropped.
const KNOWN_BUTTONS: u32 = buttons::UP
    | buttons::DOWN
    | buttons::LEFT
    | buttons::RIGHT
    | buttons::START
    | buttons::BACK
    | buttons::LS_CLK
    | buttons::RS_CLK
    | buttons::LB
    | buttons::RB
    | buttons::HOME
    | buttons::A
    | buttons::B
    | buttons::X
    | buttons::Y
    | buttons::PADDLE1
    | buttons::PADDLE2
    | buttons::PADDLE3
    | buttons::PADDLE4
    | buttons::TOUCHPAD
    | buttons::MISC;

/// The one place Moonlight's controller state becomes a [`PadState`]. Both use the same button
/// bits, 0–255 triggers and XInput's sticks (+y up), so the values pass through unchanged.
pub fn pad_state(c: &ControllerState) -> PadState {
    PadState {
        buttons: c.buttons & KNOWN_BUTTONS,
        left_trigger: c.left_trigger,
        right_trigger: c.right_trigger,
        left_stick: (c.left_stick_x, c.left_stick_y),
        right_stick: (c.right_stick_x, c.right_stick_y),
    }
}

/// One pad the bank holds: its last state and, for a Sony pad, the rest.
#[derive(Debug, Clone, Copy)]
struct Pad {
    state: PadState,
    extras: Option<SonyExtras>,
}

/// One session's pads by controller number, each with the state it was last moved to.
#[derive(Debug, Default)]
pub struct PadBank {
    pads: [Option<Pad>; MAX_PADS],
    /// Touch, motion and battery reports dropped: for no pad, a pad without them, or a
    /// touchpad the pad does not have.
    ignored: u64,
}

impl PadBank {
    /// How many pads exist.
    pub fn len(&self) -> usize {
        self.pads.iter().flatten().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Touch, motion and battery reports dropped so far.
    pub fn ignored(&self) -> u64 {
        self.ignored
    }

    /// Applies one input event; anything but controller packets yields nothing.
    pub fn handle(&mut self, event: &InputEvent) -> Vec<PadAction> {
        match event {
            InputEvent::ControllerArrival {
                controller_number,
                controller_type,
                capabilities,
                supported_buttons,
            } => self
                .create(
                    *controller_number,
                    PadKind::for_arrival(*controller_type, *capabilities, *supported_buttons),
                )
                .into_iter()
                .collect(),
            InputEvent::Controller(state) => self.state(state),
            InputEvent::ControllerTouch {
                controller_number,
                event,
                touchpad_index,
                pointer_id,
                x,
                y,
                ..
            } => {
                // Both Sony pads have one touchpad (Moonlight's second is a Steam controller's).
                if *touchpad_index != 0 {
                    self.ignored += 1;
                    return Vec::new();
                }
                let index = *controller_number;
                let (pointer, at) = (*pointer_id, Some((*x, *y)));
                self.extras(index, |e| match event {
                    TouchEventType::Down | TouchEventType::Move => e.finger(pointer, at),
                    TouchEventType::Up | TouchEventType::Cancel => e.finger(pointer, None),
                    TouchEventType::CancelAll => e.lift_all(),
                    // Hovering and pen buttons mean nothing on a touchpad.
                    TouchEventType::Hover
                    | TouchEventType::HoverLeave
                    | TouchEventType::ButtonOnly => false,
                })
                .map(|e| PadAction::Touch {
                    index,
                    touchpad: e.touchpad(),
                })
                .into_iter()
                .collect()
            }
            InputEvent::ControllerMotion {
                controller_number,
                motion,
                x,
                y,
                z,
            } => {
                let sample = [*x, *y, *z];
                self.motion(*controller_number, |e| match motion {
                    MotionType::Gyroscope => e.gyro(sample),
                    MotionType::Accelerometer => e.accel(sample),
                })
            }
            InputEvent::ControllerBattery {
                controller_number,
                state,
                percentage,
            } => {
                let battery = battery_from_moonlight(*state, *percentage);
                let index = *controller_number;
                self.extras(index, |e| e.set_battery(battery))
                    .map(|e| PadAction::Battery {
                        index,
                        battery: e.battery(),
                    })
                    .into_iter()
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// A native client's finger `pointer` on pad `index`'s touchpad: down at `(x, y)`
    /// (0–65535 across the pad, left/top to right/bottom) or lifted.
    pub fn native_touch(&mut self, touch: &punktfunk_core::control::PadTouch) -> Vec<PadAction> {
        let scale = |v: u16| f32::from(v) / f32::from(u16::MAX);
        let at = touch.down.then(|| (scale(touch.x), scale(touch.y)));
        let index = touch.index;
        self.extras(index, |e| e.finger(touch.pointer, at))
            .map(|e| PadAction::Touch {
                index,
                touchpad: e.touchpad(),
            })
            .into_iter()
            .collect()
    }

    /// A native client's motion sample: gyro in millidegrees/s, accelerometer in mm/s², each
    /// absent when unchanged.
    pub fn native_motion(&mut self, motion: &punktfunk_core::control::PadMotion) -> Vec<PadAction> {
        let milli = |v: [i32; 3]| v.map(|c| c as f32 / 1000.0);
        let (gyro, accel) = (motion.gyro.map(milli), motion.accel.map(milli));
        self.motion(motion.index, |e| {
            let g = gyro.is_some_and(|g| e.gyro(g));
            let a = accel.is_some_and(|a| e.accel(a));
            g | a
        })
    }

    /// Runs `change` on Sony pad `index`'s extras; the extras if that changed them. Counts the
    /// report as ignored when there is no such Sony pad.
    fn extras(
        &mut self,
        index: u8,
        change: impl FnOnce(&mut SonyExtras) -> bool,
    ) -> Option<&SonyExtras> {
        let extras = self
            .pads
            .get_mut(usize::from(index))
            .and_then(Option::as_mut)
            .and_then(|pad| pad.extras.as_mut());
        let Some(extras) = extras else {
            self.ignored += 1;
            return None;
        };
        change(extras).then_some(&*extras)
    }

    fn motion(
        &mut self,
        index: u8,
        change: impl FnOnce(&mut SonyExtras) -> bool,
    ) -> Vec<PadAction> {
        self.extras(index, change)
            .map(|e| PadAction::Motion {
                index,
                motion: e.motion(),
            })
            .into_iter()
            .collect()
    }

    /// A native client's pad `index` (of `kind`) is now in `state`: created on first word,
    /// updated when the state changed. Out-of-range indices are ignored.
    pub fn native_state(&mut self, index: u8, kind: PadKind, state: PadState) -> Vec<PadAction> {
        let mut actions: Vec<PadAction> = self.create(index, kind).into_iter().collect();
        if let Some(held) = self
            .pads
            .get_mut(usize::from(index))
            .and_then(Option::as_mut)
        {
            if held.state != state {
                held.state = state;
                actions.push(PadAction::Update { index, state });
            }
        }
        actions
    }

    /// A native client's pad `index` went away.
    pub fn native_removed(&mut self, index: u8) -> Vec<PadAction> {
        self.remove(index).into_iter().collect()
    }

    /// The session ended: every pad goes.
    pub fn end(&mut self) -> Vec<PadAction> {
        (0..MAX_PADS as u8)
            .filter_map(|index| self.remove(index))
            .collect()
    }

    fn state(&mut self, c: &ControllerState) -> Vec<PadAction> {
        // The mask is the client's set of pads: every cleared bit removes its pad.
        let mut actions: Vec<PadAction> = (0..MAX_PADS as u8)
            .filter(|&i| c.active_gamepad_mask & (1 << i) == 0)
            .filter_map(|i| self.remove(i))
            .collect();
        let Ok(index) = u8::try_from(c.controller_number) else {
            return actions;
        };
        if usize::from(index) >= MAX_PADS || c.active_gamepad_mask & (1 << index) == 0 {
            return actions;
        }
        actions.extend(self.create(index, PadKind::Xbox));
        let next = pad_state(c);
        if let Some(pad) = self.pads[usize::from(index)].as_mut() {
            if pad.state != next {
                pad.state = next;
                actions.push(PadAction::Update { index, state: next });
            }
        }
        actions
    }

    /// Creates pad `index` unless it exists (a second arrival is ignored) or is out of range.
    fn create(&mut self, index: u8, kind: PadKind) -> Option<PadAction> {
        let slot = self.pads.get_mut(usize::from(index))?;
        if slot.is_some() {
            return None;
        }
        *slot = Some(Pad {
            state: PadState::default(),
            extras: kind.touchpad_size().map(|(w, h)| SonyExtras::new(w, h)),
        });
        Some(PadAction::Create { index, kind })
    }

    fn remove(&mut self, index: u8) -> Option<PadAction> {
        self.pads
            .get_mut(usize::from(index))?
            .take()
            .map(|_| PadAction::Remove { index })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use punktfunk_gamestream::input::{decode_input, encode_input, BatteryState};
    use punktfunk_input::gamepad::{Charge, TouchPoint};
    use std::collections::HashSet;

    /// Through Moonlight's byte layout and back, as the host receives it.
    fn wire(event: InputEvent) -> InputEvent {
        decode_input(&encode_input(&event)).expect("own encoding decodes")
    }

    fn controller(number: u16, mask: u16, buttons: u32, sticks: [i16; 4]) -> InputEvent {
        wire(InputEvent::Controller(ControllerState {
            controller_number: number,
            active_gamepad_mask: mask,
            buttons,
            left_trigger: 10,
            right_trigger: 255,
            left_stick_x: sticks[0],
            left_stick_y: sticks[1],
            right_stick_x: sticks[2],
            right_stick_y: sticks[3],
        }))
    }

    fn arrival(number: u8, kind: u8, capabilities: u16) -> InputEvent {
        arrival_with(number, kind, capabilities, 0xFFFF | buttons::MISC)
    }

    fn arrival_with(number: u8, kind: u8, capabilities: u16, supported: u32) -> InputEvent {
        wire(InputEvent::ControllerArrival {
            controller_number: number,
            controller_type: kind,
            capabilities,
            supported_buttons: supported,
        })
    }

    #[test]
    fn state_maps_buttons_triggers_and_sticks_unchanged() {
        let mut bank = PadBank::default();
        let a_and_up = buttons::A | buttons::UP | buttons::MISC;
        let actions = bank.handle(&controller(
            0,
            0b1,
            a_and_up | 0x0800,
            [-32768, 32767, 5, -5],
        ));
        let state = PadState {
            buttons: a_and_up,
            left_trigger: 10,
            right_trigger: 255,
            left_stick: (-32768, 32767),
            right_stick: (5, -5),
        };
        assert_eq!(
            actions,
            [
                PadAction::Create {
                    index: 0,
                    kind: PadKind::Xbox
                },
                PadAction::Update { index: 0, state }
            ]
        );
        // Moonlight's +y up is PadState's +y up: pushing the stick up reads as up.
        assert!(state.left_stick.1 > 0);
        // The same state again changes nothing.
        assert!(bank
            .handle(&controller(0, 0b1, a_and_up, [-32768, 32767, 5, -5]))
            .is_empty());
    }

    #[test]
    fn arrival_picks_the_model_and_a_second_arrival_is_ignored() {
        let mut bank = PadBank::default();
        let ps = arrival(2, controller_type::PLAYSTATION, capability::TOUCHPAD);
        assert_eq!(
            bank.handle(&ps),
            [PadAction::Create {
                index: 2,
                kind: PadKind::DualSense
            }]
        );
        assert!(bank
            .handle(&arrival(2, controller_type::XBOX, 0))
            .is_empty());
        // The zero state that follows an arrival creates nothing new.
        assert_eq!(
            bank.handle(&controller(2, 0b100, 0, [0; 4])),
            [PadAction::Update {
                index: 2,
                state: PadState {
                    left_trigger: 10,
                    right_trigger: 255,
                    ..PadState::default()
                }
            }]
        );
        let kind = PadKind::for_arrival;
        assert_eq!(
            kind(controller_type::PLAYSTATION, 0, buttons::TOUCHPAD),
            PadKind::DualShock4
        );
        assert_eq!(
            kind(controller_type::UNKNOWN, capability::GYROSCOPE, 0),
            PadKind::DualSense
        );
        assert_eq!(
            kind(controller_type::NINTENDO, capability::GYROSCOPE, 0),
            PadKind::Xbox
        );
        assert_eq!(kind(controller_type::XBOX, 0, u32::MAX), PadKind::Xbox);
    }

    #[test]
    fn native_pads_are_created_updated_and_removed_by_index() {
        let mut bank = PadBank::default();
        let state = PadState {
            buttons: 0x1000,
            left_trigger: 9,
            ..PadState::default()
        };
        assert_eq!(
            bank.native_state(2, PadKind::DualSense, state),
            vec![
                PadAction::Create {
                    index: 2,
                    kind: PadKind::DualSense
                },
                PadAction::Update { index: 2, state }
            ]
        );
        // The same state again changes nothing; another kind for a live pad keeps the first.
        assert!(bank.native_state(2, PadKind::Xbox, state).is_empty());
        assert!(bank.native_state(16, PadKind::Xbox, state).is_empty());
        assert_eq!(bank.native_removed(2), vec![PadAction::Remove { index: 2 }]);
        assert!(bank.native_removed(2).is_empty());
        assert!(bank.is_empty());
    }

    #[test]
    fn mask_removes_dropped_pads_and_out_of_range_numbers_are_ignored() {
        let mut bank = PadBank::default();
        bank.handle(&controller(0, 0b11, 0, [0; 4]));
        bank.handle(&controller(1, 0b11, buttons::B, [0; 4]));
        assert_eq!(bank.len(), 2);
        // Pad 1 unplugged: its own packet with its bit cleared.
        assert_eq!(
            bank.handle(&controller(1, 0b01, buttons::B, [0; 4])),
            [PadAction::Remove { index: 1 }]
        );
        assert_eq!(bank.len(), 1);
        assert!(bank.handle(&controller(16, 0xFFFF, 0, [0; 4])).is_empty());
        assert!(bank.handle(&arrival(16, 0, 0)).is_empty());
        assert_eq!(bank.end(), [PadAction::Remove { index: 0 }]);
        assert!(bank.is_empty());
    }

    fn touch(number: u8, event: TouchEventType, pointer: u32, x: f32, y: f32) -> InputEvent {
        wire(InputEvent::ControllerTouch {
            controller_number: number,
            event,
            touchpad_index: 0,
            pointer_id: pointer,
            x,
            y,
            pressure: 0.5,
        })
    }

    fn motion(number: u8, motion: MotionType, v: [f32; 3]) -> InputEvent {
        wire(InputEvent::ControllerMotion {
            controller_number: number,
            motion,
            x: v[0],
            y: v[1],
            z: v[2],
        })
    }

    fn battery(number: u8, state: BatteryState, percentage: u8) -> InputEvent {
        wire(InputEvent::ControllerBattery {
            controller_number: number,
            state,
            percentage,
        })
    }

    #[test]
    fn moonlight_touch_lands_on_the_sony_touchpad_in_its_coordinates() {
        let mut bank = PadBank::default();
        bank.handle(&arrival(
            0,
            controller_type::PLAYSTATION,
            capability::TOUCHPAD,
        ));
        bank.handle(&arrival_with(1, controller_type::PLAYSTATION, 0, 0xFFFF));
        let down = bank.handle(&touch(0, TouchEventType::Down, 42, 0.5, 1.0));
        let point = |id, x, y| Some(TouchPoint { id, x, y });
        assert_eq!(
            down,
            [PadAction::Touch {
                index: 0,
                touchpad: Touchpad {
                    points: [point(0, 960, 1079), None]
                }
            }]
        );
        // The DualShock 4's touchpad is 942 high; out-of-range coordinates clamp.
        let ds4 = bank.handle(&touch(1, TouchEventType::Move, 7, 1.5, -0.5));
        assert_eq!(
            ds4,
            [PadAction::Touch {
                index: 1,
                touchpad: Touchpad {
                    points: [point(0, 1919, 0), None]
                }
            }]
        );
        // Hover means nothing on a touchpad; up lifts the finger.
        assert!(bank
            .handle(&touch(0, TouchEventType::Hover, 42, 0.1, 0.1))
            .is_empty());
        assert_eq!(
            bank.handle(&touch(0, TouchEventType::Up, 42, 0.0, 0.0)),
            [PadAction::Touch {
                index: 0,
                touchpad: Touchpad::default()
            }]
        );
        bank.handle(&touch(1, TouchEventType::Down, 8, 0.0, 0.0));
        assert_eq!(
            bank.handle(&touch(1, TouchEventType::CancelAll, 0, 0.0, 0.0)),
            [PadAction::Touch {
                index: 1,
                touchpad: Touchpad::default()
            }]
        );
        assert_eq!(bank.ignored(), 0);
        // The second touchpad is not a DualSense's.
        let mut second = touch(0, TouchEventType::Down, 1, 0.5, 0.5);
        if let InputEvent::ControllerTouch { touchpad_index, .. } = &mut second {
            *touchpad_index = 1;
        }
        assert!(bank.handle(&second).is_empty());
        assert_eq!(bank.ignored(), 1);
    }

    #[test]
    fn moonlight_motion_and_battery_become_raw_units_on_sony_pads_only() {
        let mut bank = PadBank::default();
        bank.handle(&arrival(
            0,
            controller_type::PLAYSTATION,
            capability::GYROSCOPE,
        ));
        let gyro = bank.handle(&motion(0, MotionType::Gyroscope, [10.0, -2.5, 0.0]));
        assert_eq!(
            gyro,
            [PadAction::Motion {
                index: 0,
                motion: Motion {
                    gyro: [160, -40, 0],
                    ..Motion::default()
                }
            }]
        );
        let g = punktfunk_input::gamepad::STANDARD_GRAVITY;
        let accel = bank.handle(&motion(0, MotionType::Accelerometer, [0.0, -g, 2.0 * g]));
        assert_eq!(
            accel,
            [PadAction::Motion {
                index: 0,
                motion: Motion {
                    gyro: [160, -40, 0],
                    accel: [0, -8192, 16384],
                    timestamp: 0,
                }
            }]
        );
        // The same sample again changes nothing.
        assert!(bank
            .handle(&motion(0, MotionType::Accelerometer, [0.0, -g, 2.0 * g]))
            .is_empty());
        assert_eq!(
            bank.handle(&battery(0, BatteryState::Charging, 61)),
            [PadAction::Battery {
                index: 0,
                battery: Battery {
                    charge: Charge::Charging,
                    percent: 61
                }
            }]
        );
        // An Xbox pad, and a pad that does not exist, drop all three (counted).
        bank.handle(&arrival(1, controller_type::XBOX, capability::GYROSCOPE));
        for event in [
            motion(1, MotionType::Gyroscope, [1.0; 3]),
            touch(1, TouchEventType::Down, 1, 0.5, 0.5),
            battery(1, BatteryState::Full, 100),
            motion(9, MotionType::Gyroscope, [1.0; 3]),
        ] {
            assert!(bank.handle(&event).is_empty(), "{event:?}");
        }
        assert_eq!(bank.ignored(), 4);
    }

    #[test]
    fn motion_is_asked_of_sony_pads_for_the_sensors_the_client_has() {
        let both = capability::ACCELEROMETER | capability::GYROSCOPE;
        let ask = |accel, gyro| MotionSensors { accel, gyro };
        assert_eq!(motion_to_ask(PadKind::DualSense, both), ask(true, true));
        assert_eq!(
            motion_to_ask(PadKind::DualShock4, capability::GYROSCOPE),
            ask(false, true)
        );
        assert_eq!(
            motion_to_ask(PadKind::DualSense, capability::TOUCHPAD),
            ask(false, false)
        );
        assert_eq!(motion_to_ask(PadKind::Xbox, both), ask(false, false));
    }

    #[test]
    fn native_touch_and_motion_use_their_own_units() {
        use punktfunk_core::control::{PadMotion, PadTouch};
        let mut bank = PadBank::default();
        bank.native_state(3, PadKind::DualSense, PadState::default());
        let touch = |down, x, y| PadTouch {
            index: 3,
            pointer: 5,
            down,
            x,
            y,
        };
        assert_eq!(
            bank.native_touch(&touch(true, u16::MAX, 0)),
            [PadAction::Touch {
                index: 3,
                touchpad: Touchpad {
                    points: [
                        Some(TouchPoint {
                            id: 0,
                            x: 1919,
                            y: 0
                        }),
                        None
                    ]
                }
            }]
        );
        assert_eq!(
            bank.native_touch(&touch(false, 0, 0)),
            [PadAction::Touch {
                index: 3,
                touchpad: Touchpad::default()
            }]
        );
        // Millidegrees per second and mm/s²; an absent sensor keeps its reading.
        let m = bank.native_motion(&PadMotion {
            index: 3,
            gyro: Some([1000, -500, 3_000_000]),
            accel: None,
        });
        let gyro = [16, -8, i16::MAX];
        assert_eq!(
            m,
            [PadAction::Motion {
                index: 3,
                motion: Motion {
                    gyro,
                    ..Motion::default()
                }
            }]
        );
        let m = bank.native_motion(&PadMotion {
            index: 3,
            gyro: None,
            accel: Some([0, 9807, 0]),
        });
        assert_eq!(
            m,
            [PadAction::Motion {
                index: 3,
                motion: Motion {
                    gyro,
                    accel: [0, 8192, 0],
                    timestamp: 0
                }
            }]
        );
        // An Xbox pad has neither.
        bank.native_state(4, PadKind::Xbox, PadState::default());
        assert!(bank
            .native_touch(&PadTouch {
                index: 4,
                ..touch(true, 1, 1)
            })
            .is_empty());
        assert_eq!(bank.ignored(), 1);
    }

    fn any_event() -> impl Strategy<Value = InputEvent> {
        let touch_event = prop_oneof![
            Just(TouchEventType::Down),
            Just(TouchEventType::Move),
            Just(TouchEventType::Up),
            Just(TouchEventType::Cancel),
            Just(TouchEventType::CancelAll),
            Just(TouchEventType::Hover),
        ];
        prop_oneof![
            (0u16..20, any::<u16>(), any::<u32>(), any::<[i16; 4]>())
                .prop_map(|(n, mask, b, s)| controller(n, mask, b, s)),
            (0u8..20, 0u8..5, any::<u16>(), any::<u32>())
                .prop_map(|(n, t, c, b)| arrival_with(n, t, c, b)),
            Just(wire(InputEvent::EnableHaptics)),
            (0u8..20, touch_event, 0u32..4, -1.0f32..2.0, -1.0f32..2.0)
                .prop_map(|(n, e, p, x, y)| touch(n, e, p, x, y)),
            (0u8..20, any::<bool>(), any::<[i16; 3]>()).prop_map(|(n, gyro, v)| {
                let kind = if gyro {
                    MotionType::Gyroscope
                } else {
                    MotionType::Accelerometer
                };
                motion(n, kind, v.map(|c| f32::from(c) / 10.0))
            }),
            (0u8..20, 0u8..=100).prop_map(|(n, p)| battery(n, BatteryState::Discharging, p)),
        ]
    }

    proptest! {
        /// Whatever a client sends: at most 16 pads, updates only for created pads, and the
        /// end of the session removes exactly the pads still there.
        #[test]
        fn bank_keeps_its_invariants(events in prop::collection::vec(any_event(), 0..64)) {
            let mut bank = PadBank::default();
            let mut alive = HashSet::new();
            let mut sony = HashSet::new();
            for event in &events {
                for action in bank.handle(event) {
                    match action {
                        PadAction::Create { index, kind } => {
                            prop_assert!(alive.insert(index));
                            if kind != PadKind::Xbox {
                                sony.insert(index);
                            }
                        }
                        PadAction::Update { index, .. } => prop_assert!(alive.contains(&index)),
                        PadAction::Touch { index, .. }
                        | PadAction::Motion { index, .. }
                        | PadAction::Battery { index, .. } => {
                            prop_assert!(alive.contains(&index) && sony.contains(&index));
                        }
                        PadAction::Remove { index } => {
                            prop_assert!(alive.remove(&index));
                            sony.remove(&index);
                        }
                    }
                }
                prop_assert!(alive.len() <= MAX_PADS);
                prop_assert_eq!(alive.len(), bank.len());
            }
            for action in bank.end() {
                let PadAction::Remove { index } = action else {
                    return Err(TestCaseError::fail("end did more than remove"));
                };
                prop_assert!(alive.remove(&index));
            }
            prop_assert!(alive.is_empty());
            prop_assert!(bank.is_empty());
        }
    }
}
