//! An Xbox 360 pad through uinput, shaped the way the kernel's `xpad` driver presents a wired
//! 360 controller: same identity, buttons, axis ranges and value conventions, so games and SDL
//! treat it as the real thing.

use super::{buttons, DeviceIdentity, PadState};

/// evdev event types and codes used here (`linux/input-event-codes.h`).
pub mod codes {
    pub use crate::linux_input::{ABS_X, ABS_Y, EV_ABS, EV_FF, EV_KEY, EV_SYN, SYN_REPORT};
    pub const FF_RUMBLE: u16 = 0x50;

    /// `BTN_A` / `BTN_SOUTH`.
    pub const BTN_A: u16 = 0x130;
    /// `BTN_B` / `BTN_EAST`.
    pub const BTN_B: u16 = 0x131;
    /// `BTN_X` (alias `BTN_NORTH`; `xpad` reports the X button with it all the same).
    pub const BTN_X: u16 = 0x133;
    /// `BTN_Y` (alias `BTN_WEST`).
    pub const BTN_Y: u16 = 0x134;
    pub const BTN_TL: u16 = 0x136;
    pub const BTN_TR: u16 = 0x137;
    pub const BTN_SELECT: u16 = 0x13a;
    pub const BTN_START: u16 = 0x13b;
    pub const BTN_MODE: u16 = 0x13c;
    pub const BTN_THUMBL: u16 = 0x13d;
    pub const BTN_THUMBR: u16 = 0x13e;

    pub const ABS_Z: u16 = 0x02;
    pub const ABS_RX: u16 = 0x03;
    pub const ABS_RY: u16 = 0x04;
    pub const ABS_RZ: u16 = 0x05;
    pub const ABS_HAT0X: u16 = 0x10;
    pub const ABS_HAT0Y: u16 = 0x11;
}

use codes::*;

/// A wired Microsoft Xbox 360 controller: `xpad` names it so and copies the version from the
/// USB device's `bcdDevice` (1.14 on the original pad).
pub const XBOX360_IDENTITY: DeviceIdentity = DeviceIdentity {
    bustype: super::BUS_USB,
    vendor: 0x045e,
    product: 0x028e,
    version: 0x0114,
    name: "Microsoft X-Box 360 pad",
};

/// Moonlight button flag → evdev key, for every button a 360 pad has. The d-pad is not here:
/// `xpad` reports it as the hat axes. Paddles, touchpad and misc have no 360 counterpart and
/// are dropped.
pub const XBOX360_BUTTONS: [(u32, u16); 11] = [
    (buttons::A, BTN_A),
    (buttons::B, BTN_B),
    (buttons::X, BTN_X),
    (buttons::Y, BTN_Y),
    (buttons::LB, BTN_TL),
    (buttons::RB, BTN_TR),
    (buttons::BACK, BTN_SELECT),
    (buttons::START, BTN_START),
    (buttons::HOME, BTN_MODE),
    (buttons::LS_CLK, BTN_THUMBL),
    (buttons::RS_CLK, BTN_THUMBR),
];

pub use crate::linux_input::AbsAxis;

const fn stick(code: u16) -> AbsAxis {
    AbsAxis {
        code,
        min: -32768,
        max: 32767,
        fuzz: 16,
        flat: 128,
    }
}

const fn ranged(code: u16, min: i32, max: i32) -> AbsAxis {
    AbsAxis {
        code,
        min,
        max,
        fuzz: 0,
        flat: 0,
    }
}

/// The axes with the ranges `xpad` gives a 360 pad (sticks with fuzz 16 and a 128 dead zone,
/// triggers 0..255, the d-pad as a −1..1 hat).
pub const XBOX360_AXES: [AbsAxis; 8] = [
    stick(ABS_X),
    stick(ABS_Y),
    stick(ABS_RX),
    stick(ABS_RY),
    ranged(ABS_Z, 0, 255),
    ranged(ABS_RZ, 0, 255),
    ranged(ABS_HAT0X, -1, 1),
    ranged(ABS_HAT0Y, -1, 1),
];

/// The force-feedback effects the device advertises (rumble only, like `xpad`).
pub const XBOX360_FF_EFFECTS: [u16; 1] = [FF_RUMBLE];

pub use crate::linux_input::InputEvent;

/// The evdev events that move a 360 pad from `prev` to `next`: a key event per changed button,
/// an abs event per changed axis, then `SYN_REPORT`. Nothing at all when nothing changed.
///
/// Stick Y is inverted as `xpad` does it (bitwise NOT of the XInput value, so up is negative;
/// a centred stick reads −1, which a fresh device's 0 differs from by far less than the flat).
pub fn xbox_events(prev: &PadState, next: &PadState) -> Vec<InputEvent> {
    let mut events = Vec::new();
    for (flag, key) in XBOX360_BUTTONS {
        if prev.held(flag) != next.held(flag) {
            events.push((EV_KEY, key, i32::from(next.held(flag))));
        }
    }
    let before = axis_values(prev);
    let after = axis_values(next);
    for ((code, old), (_, new)) in before.into_iter().zip(after) {
        if old != new {
            events.push((EV_ABS, code, new));
        }
    }
    if !events.is_empty() {
        events.push((EV_SYN, SYN_REPORT, 0));
    }
    events
}

/// Every axis's evdev value for `state`.
fn axis_values(state: &PadState) -> [(u16, i32); 8] {
    let (hat_x, hat_y) = state.dpad();
    [
        (ABS_X, i32::from(state.left_stick.0)),
        (ABS_Y, i32::from(!state.left_stick.1)),
        (ABS_RX, i32::from(state.right_stick.0)),
        (ABS_RY, i32::from(!state.right_stick.1)),
        (ABS_Z, i32::from(state.left_trigger)),
        (ABS_RZ, i32::from(state.right_trigger)),
        (ABS_HAT0X, i32::from(hat_x)),
        (ABS_HAT0Y, i32::from(hat_y)),
    ]
}

/// Rumble for the client from an `FF_RUMBLE` effect the game uploaded: the strong magnitude
/// drives the large low-frequency motor and the weak one the small high-frequency motor,
/// which is exactly Moonlight's (low, high) pair, so the values pass through unchanged.
pub fn rumble_from_ff(strong: u16, weak: u16) -> (u16, u16) {
    (strong, weak)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pad(buttons: u32) -> PadState {
        PadState {
            buttons,
            ..PadState::default()
        }
    }

    #[test]
    fn nothing_changed_means_no_events() {
        let state = PadState {
            buttons: buttons::A | buttons::UP,
            left_trigger: 9,
            right_trigger: 200,
            left_stick: (5, -7),
            right_stick: (-32768, 32767),
        };
        assert!(xbox_events(&state, &state).is_empty());
    }

    #[test]
    fn press_and_release_a_button() {
        let down = xbox_events(&pad(0), &pad(buttons::A));
        assert_eq!(down, vec![(EV_KEY, BTN_A, 1), (EV_SYN, SYN_REPORT, 0)]);
        let up = xbox_events(&pad(buttons::A), &pad(0));
        assert_eq!(up, vec![(EV_KEY, BTN_A, 0), (EV_SYN, SYN_REPORT, 0)]);
    }

    #[test]
    fn every_button_maps_to_its_xpad_key() {
        let expected = [
            (buttons::A, 0x130),
            (buttons::B, 0x131),
            (buttons::X, 0x133),
            (buttons::Y, 0x134),
            (buttons::LB, 0x136),
            (buttons::RB, 0x137),
            (buttons::BACK, 0x13a),
            (buttons::START, 0x13b),
            (buttons::HOME, 0x13c),
            (buttons::LS_CLK, 0x13d),
            (buttons::RS_CLK, 0x13e),
        ];
        for (flag, key) in expected {
            assert_eq!(
                xbox_events(&pad(0), &pad(flag)),
                vec![(EV_KEY, key, 1), (EV_SYN, SYN_REPORT, 0)],
                "flag {flag:#x}"
            );
        }
    }

    #[test]
    fn dpad_is_the_hat() {
        let events = xbox_events(&pad(0), &pad(buttons::UP | buttons::LEFT));
        assert_eq!(
            events,
            vec![
                (EV_ABS, ABS_HAT0X, -1),
                (EV_ABS, ABS_HAT0Y, -1),
                (EV_SYN, SYN_REPORT, 0)
            ]
        );
        let events = xbox_events(&pad(buttons::UP), &pad(buttons::DOWN));
        assert_eq!(
            events,
            vec![(EV_ABS, ABS_HAT0Y, 1), (EV_SYN, SYN_REPORT, 0)]
        );
    }

    #[test]
    fn extension_buttons_are_ignored() {
        let extras = buttons::PADDLE1
            | buttons::PADDLE2
            | buttons::PADDLE3
            | buttons::PADDLE4
            | buttons::TOUCHPAD
            | buttons::MISC;
        assert!(xbox_events(&pad(0), &pad(extras)).is_empty());
    }

    #[test]
    fn stick_y_is_inverted_like_xpad() {
        let up = PadState {
            left_stick: (0, 32767),
            right_stick: (0, -32768),
            ..PadState::default()
        };
        let events = xbox_events(&PadState::default(), &up);
        assert_eq!(
            events,
            vec![
                (EV_ABS, ABS_Y, -32768),
                (EV_ABS, ABS_RY, 32767),
                (EV_SYN, SYN_REPORT, 0)
            ]
        );
    }

    #[test]
    fn sticks_and_triggers() {
        let next = PadState {
            left_trigger: 255,
            right_trigger: 1,
            left_stick: (-32768, 0),
            right_stick: (12345, 0),
            ..PadState::default()
        };
        let events = xbox_events(&PadState::default(), &next);
        assert_eq!(
            events,
            vec![
                (EV_ABS, ABS_X, -32768),
                (EV_ABS, ABS_RX, 12345),
                (EV_ABS, ABS_Z, 255),
                (EV_ABS, ABS_RZ, 1),
                (EV_SYN, SYN_REPORT, 0)
            ]
        );
    }

    #[test]
    fn identity_and_axes_match_xpad() {
        assert_eq!(XBOX360_IDENTITY.vendor, 0x045e);
        assert_eq!(XBOX360_IDENTITY.product, 0x028e);
        assert_eq!(XBOX360_IDENTITY.name, "Microsoft X-Box 360 pad");
        for axis in XBOX360_AXES {
            let (min, max, fuzz, flat) = match axis.code {
                ABS_X | ABS_Y | ABS_RX | ABS_RY => (-32768, 32767, 16, 128),
                ABS_Z | ABS_RZ => (0, 255, 0, 0),
                ABS_HAT0X | ABS_HAT0Y => (-1, 1, 0, 0),
                other => panic!("unexpected axis {other}"),
            };
            assert_eq!(
                (axis.min, axis.max, axis.fuzz, axis.flat),
                (min, max, fuzz, flat)
            );
        }
    }

    #[test]
    fn rumble_passes_through() {
        assert_eq!(rumble_from_ff(0xFFFF, 0x1234), (0xFFFF, 0x1234));
    }

    fn any_pad() -> impl Strategy<Value = PadState> {
        (
            any::<u32>(),
            any::<u8>(),
            any::<u8>(),
            any::<(i16, i16)>(),
            any::<(i16, i16)>(),
        )
            .prop_map(|(buttons, lt, rt, ls, rs)| PadState {
                buttons,
                left_trigger: lt,
                right_trigger: rt,
                left_stick: ls,
                right_stick: rs,
            })
    }

    /// Replays events onto a model of the device's current values.
    fn apply(device: &mut std::collections::HashMap<(u16, u16), i32>, events: &[InputEvent]) {
        for &(ty, code, value) in events {
            if ty != EV_SYN {
                device.insert((ty, code), value);
            }
        }
    }

    proptest! {
        /// Replaying the deltas for a -> b on top of a's full state gives b's full state, every
        /// value stays inside its declared range, and a report ends with exactly one SYN.
        #[test]
        fn deltas_reach_the_next_state(a in any_pad(), b in any_pad()) {
            let mut via_a = std::collections::HashMap::new();
            apply(&mut via_a, &full_state(&a));
            let delta = xbox_events(&a, &b);
            apply(&mut via_a, &delta);
            let mut direct = std::collections::HashMap::new();
            apply(&mut direct, &full_state(&b));
            prop_assert_eq!(via_a, direct);

            let syns = delta.iter().filter(|e| e.0 == EV_SYN).count();
            prop_assert_eq!(syns, usize::from(!delta.is_empty()));
            if let Some(last) = delta.last() {
                prop_assert_eq!(*last, (EV_SYN, SYN_REPORT, 0));
            }
            for &(ty, code, value) in &delta {
                if ty == EV_ABS {
                    let axis = XBOX360_AXES.iter().find(|a| a.code == code).unwrap();
                    prop_assert!((axis.min..=axis.max).contains(&value));
                } else if ty == EV_KEY {
                    prop_assert!(value == 0 || value == 1);
                }
            }
        }
    }

    /// Every key and axis value of `state`, as events.
    fn full_state(state: &PadState) -> Vec<InputEvent> {
        let mut events: Vec<InputEvent> = XBOX360_BUTTONS
            .iter()
            .map(|&(flag, key)| (EV_KEY, key, i32::from(state.held(flag))))
            .collect();
        events.extend(axis_values(state).map(|(code, v)| (EV_ABS, code, v)));
        events
    }
}
