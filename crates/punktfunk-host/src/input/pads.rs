//! The pad bank: which virtual pads a GameStream client has, fed its controller packets and
//! answering with what the device layer must do. Sans-IO, so every rule below is unit-tested
//! without `/dev/uinput`.
//!
//! Moonlight's rules (shared/docs/gamestream/04-input.md §4.8, §4.9): an arrival packet creates
//! pad `n` with a model; a state packet with `n`'s bit set in the active mask creates it as an
//! Xbox pad if no arrival came (older clients, hosts that ignore arrivals); the mask is the
//! client's whole set of pads, so a cleared bit removes that pad.

use punktfunk_gamestream::input::{ControllerState, InputEvent};
use punktfunk_gamestream::wire::input::{capability, controller_type};
use punktfunk_input::gamepad::{buttons, PadState};

/// Moonlight numbers controllers 0–15 (the active mask is 16 bits).
pub const MAX_PADS: usize = 16;

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
    Create { index: u8, kind: PadKind },
    Update { index: u8, state: PadState },
    Remove { index: u8 },
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

/// One session's pads by controller number, each with the state it was last moved to.
#[derive(Debug, Default)]
pub struct PadBank {
    pads: [Option<PadState>; MAX_PADS],
}

impl PadBank {
    /// How many pads exist.
    pub fn len(&self) -> usize {
        self.pads.iter().flatten().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Applies one input event; anything but controller arrival and state yields nothing.
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
            _ => Vec::new(),
        }
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
            if *held != state {
                *held = state;
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
        if let Some(state) = self.pads[usize::from(index)].as_mut() {
            if *state != next {
                *state = next;
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
        *slot = Some(PadState::default());
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
    use punktfunk_gamestream::input::{decode_input, encode_input};
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

    fn any_event() -> impl Strategy<Value = InputEvent> {
        prop_oneof![
            (0u16..20, any::<u16>(), any::<u32>(), any::<[i16; 4]>())
                .prop_map(|(n, mask, b, s)| controller(n, mask, b, s)),
            (0u8..20, 0u8..5, any::<u16>(), any::<u32>())
                .prop_map(|(n, t, c, b)| arrival_with(n, t, c, b)),
            Just(wire(InputEvent::EnableHaptics)),
        ]
    }

    proptest! {
        /// Whatever a client sends: at most 16 pads, updates only for created pads, and the
        /// end of the session removes exactly the pads still there.
        #[test]
        fn bank_keeps_its_invariants(events in prop::collection::vec(any_event(), 0..64)) {
            let mut bank = PadBank::default();
            let mut alive = HashSet::new();
            for event in &events {
                for action in bank.handle(event) {
                    match action {
                        PadAction::Create { index, .. } => prop_assert!(alive.insert(index)),
                        PadAction::Update { index, .. } => prop_assert!(alive.contains(&index)),
                        PadAction::Remove { index } => prop_assert!(alive.remove(&index)),
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
