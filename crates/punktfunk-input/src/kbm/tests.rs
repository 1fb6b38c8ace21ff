use super::*;
use crate::event::{Modifiers, TouchPhase};
use crate::keymap::vk;
use crate::linux_input::{BTN_MIDDLE, BTN_RIGHT};
use proptest::prelude::*;
use std::collections::HashMap;

const KBM: Target = Target::KeyboardMouse;
const ABS: Target = Target::AbsolutePointer;
const SYN: InputEvent = (EV_SYN, SYN_REPORT, 0);
const KEY_A: u16 = 30;
const KEY_B: u16 = 48;
const KEY_1: u16 = 2;
const LSHIFT: u16 = evdev::KEY_LEFTSHIFT;
const RSHIFT: u16 = evdev::KEY_RIGHTSHIFT;

fn encoder() -> KbmEncoder {
    KbmEncoder::new(1920, 1080)
}

fn on(target: Target, events: &[InputEvent]) -> Emitted {
    events.iter().map(|&e| (target, e)).collect()
}

fn key(vk: u8, pressed: bool) -> Event {
    Event::Key {
        vk: u16::from(vk),
        pressed,
        modifiers: Modifiers::default(),
    }
}

fn move_to(x: i32, y: i32, width: u32, height: u32) -> Event {
    Event::MoveTo {
        x,
        y,
        width,
        height,
    }
}

fn button(button: Button, pressed: bool) -> Event {
    Event::Button { button, pressed }
}

/// A key frame on the keyboard/mouse.
fn k(code: u16, value: i32) -> [(Target, InputEvent); 2] {
    [(KBM, (EV_KEY, code, value)), (KBM, SYN)]
}

fn frames(parts: &[[(Target, InputEvent); 2]]) -> Emitted {
    parts.concat()
}

#[test]
fn relative_motion_is_rel_x_and_y() {
    let mut enc = encoder();
    let out = enc.encode(&Event::MoveBy { dx: 5, dy: -3 }).unwrap();
    assert_eq!(
        out,
        on(KBM, &[(EV_REL, REL_X, 5), (EV_REL, REL_Y, -3), SYN])
    );
    let out = enc.encode(&Event::MoveBy { dx: 0, dy: 7 }).unwrap();
    assert_eq!(out, on(KBM, &[(EV_REL, REL_Y, 7), SYN]));
    assert!(enc
        .encode(&Event::MoveBy { dx: 0, dy: 0 })
        .unwrap()
        .is_empty());
}

#[test]
fn absolute_motion_lands_on_the_pixel() {
    let mut enc = encoder();
    let out = enc.encode(&move_to(640, 360, 1920, 1080)).unwrap();
    assert_eq!(
        out,
        on(ABS, &[(EV_ABS, ABS_X, 640), (EV_ABS, ABS_Y, 360), SYN])
    );
    let out = enc.encode(&move_to(1919, 1079, 1920, 1080)).unwrap();
    assert_eq!(
        out,
        on(ABS, &[(EV_ABS, ABS_X, 1919), (EV_ABS, ABS_Y, 1079), SYN])
    );
}

#[test]
fn absolute_motion_is_clamped_into_the_mode() {
    let mut enc = encoder();
    let out = enc.encode(&move_to(-50, 5000, 1920, 1080)).unwrap();
    assert_eq!(
        out,
        on(ABS, &[(EV_ABS, ABS_X, 0), (EV_ABS, ABS_Y, 1079), SYN])
    );
    let out = enc
        .encode(&move_to(i32::MAX, i32::MIN, 1920, 1080))
        .unwrap();
    assert_eq!(
        out,
        on(ABS, &[(EV_ABS, ABS_X, 1919), (EV_ABS, ABS_Y, 0), SYN])
    );
}

#[test]
fn another_mode_is_scaled_onto_the_device() {
    let mut enc = encoder();
    // 1280×720 → 1920×1080: corners stay corners, the centre stays the centre.
    let out = enc.encode(&move_to(1279, 719, 1280, 720)).unwrap();
    assert_eq!(
        out,
        on(ABS, &[(EV_ABS, ABS_X, 1919), (EV_ABS, ABS_Y, 1079), SYN])
    );
    let out = enc.encode(&move_to(640, 360, 1280, 720)).unwrap();
    // 640 × 1919 / 1279 = 960.25, 360 × 1079 / 719 = 540.25
    assert_eq!(
        out,
        on(ABS, &[(EV_ABS, ABS_X, 960), (EV_ABS, ABS_Y, 540), SYN])
    );
    let out = enc.encode(&move_to(5, 5, 1, 1)).unwrap();
    assert_eq!(out, on(ABS, &[(EV_ABS, ABS_X, 0), (EV_ABS, ABS_Y, 0), SYN]));
}

#[test]
fn no_picture_means_no_motion() {
    let mut enc = encoder();
    assert!(enc.encode(&move_to(10, 10, 0, 1080)).unwrap().is_empty());
    assert!(enc.encode(&move_to(10, 10, 1920, 0)).unwrap().is_empty());
}

#[test]
fn returning_to_the_same_spot_after_relative_motion_still_moves() {
    let mut enc = encoder();
    enc.encode(&move_to(100, 200, 1920, 1080)).unwrap();
    // Unmoved since: the kernel would drop it, and nothing needs to happen.
    let again = enc.encode(&move_to(100, 200, 1920, 1080)).unwrap();
    assert_eq!(
        again,
        on(ABS, &[(EV_ABS, ABS_X, 100), (EV_ABS, ABS_Y, 200), SYN])
    );
    enc.encode(&Event::MoveBy { dx: 30, dy: 0 }).unwrap();
    let back = enc.encode(&move_to(100, 200, 1920, 1080)).unwrap();
    assert_eq!(
        back,
        on(
            ABS,
            &[
                (EV_ABS, ABS_X, 99),
                SYN,
                (EV_ABS, ABS_X, 100),
                (EV_ABS, ABS_Y, 200),
                SYN
            ]
        )
    );
    // A new device reads (0, 0): going there first needs the nudge too.
    let mut enc = encoder();
    let origin = enc.encode(&move_to(0, 0, 1920, 1080)).unwrap();
    assert_eq!(
        origin,
        on(
            ABS,
            &[
                (EV_ABS, ABS_X, 1),
                SYN,
                (EV_ABS, ABS_X, 0),
                (EV_ABS, ABS_Y, 0),
                SYN
            ]
        )
    );
}

#[test]
fn every_button_has_its_code() {
    let expected = [
        (Button::Left, 0x110),
        (Button::Right, 0x111),
        (Button::Middle, 0x112),
        (Button::X1, 0x113),
        (Button::X2, 0x114),
    ];
    let mut enc = encoder();
    for (b, code) in expected {
        let down = enc.encode(&button(b, true)).unwrap();
        assert_eq!(down, on(KBM, &[(EV_KEY, code, 1), SYN]), "{b:?}");
        let up = enc.encode(&button(b, false)).unwrap();
        assert_eq!(up, on(KBM, &[(EV_KEY, code, 0), SYN]), "{b:?}");
    }
}

#[test]
fn buttons_follow_the_device_that_moved_last_and_release_where_pressed() {
    let mut enc = encoder();
    enc.encode(&move_to(10, 10, 1920, 1080)).unwrap();
    let down = enc.encode(&button(Button::Left, true)).unwrap();
    assert_eq!(down, on(ABS, &[(EV_KEY, BTN_LEFT, 1), SYN]));
    // A drag continued by relative motion still releases on the pointer that pressed.
    enc.encode(&Event::MoveBy { dx: 1, dy: 1 }).unwrap();
    let right = enc.encode(&button(Button::Right, true)).unwrap();
    assert_eq!(right, on(KBM, &[(EV_KEY, BTN_RIGHT, 1), SYN]));
    let up = enc.encode(&button(Button::Left, false)).unwrap();
    assert_eq!(up, on(ABS, &[(EV_KEY, BTN_LEFT, 0), SYN]));
}

#[test]
fn buttons_are_neither_pressed_twice_nor_released_unpressed() {
    let mut enc = encoder();
    assert!(enc.encode(&button(Button::Left, false)).unwrap().is_empty());
    enc.encode(&button(Button::Left, true)).unwrap();
    assert!(enc.encode(&button(Button::Left, true)).unwrap().is_empty());
    enc.encode(&button(Button::Left, false)).unwrap();
    assert!(enc.encode(&button(Button::Left, false)).unwrap().is_empty());
}

#[test]
fn a_whole_notch_scrolls_both_axes_at_once() {
    let mut enc = encoder();
    let up = enc.encode(&Event::Scroll { amount: 120 }).unwrap();
    assert_eq!(
        up,
        on(
            KBM,
            &[(EV_REL, REL_WHEEL_HI_RES, 120), (EV_REL, REL_WHEEL, 1), SYN]
        )
    );
    let down = enc.encode(&Event::Scroll { amount: -240 }).unwrap();
    assert_eq!(
        down,
        on(
            KBM,
            &[
                (EV_REL, REL_WHEEL_HI_RES, -240),
                (EV_REL, REL_WHEEL, -2),
                SYN
            ]
        )
    );
    let right = enc
        .encode(&Event::ScrollHorizontal { amount: 120 })
        .unwrap();
    assert_eq!(
        right,
        on(
            KBM,
            &[
                (EV_REL, REL_HWHEEL_HI_RES, 120),
                (EV_REL, REL_HWHEEL, 1),
                SYN
            ]
        )
    );
    assert!(enc.encode(&Event::Scroll { amount: 0 }).unwrap().is_empty());
}

#[test]
fn quarter_notches_click_once_per_four() {
    let mut enc = encoder();
    let quarter = on(KBM, &[(EV_REL, REL_WHEEL_HI_RES, 30), SYN]);
    for _ in 0..3 {
        assert_eq!(enc.encode(&Event::Scroll { amount: 30 }).unwrap(), quarter);
    }
    assert_eq!(
        enc.encode(&Event::Scroll { amount: 30 }).unwrap(),
        on(
            KBM,
            &[(EV_REL, REL_WHEEL_HI_RES, 30), (EV_REL, REL_WHEEL, 1), SYN]
        )
    );
    // The axes keep separate remainders.
    for _ in 0..2 {
        enc.encode(&Event::ScrollHorizontal { amount: -40 })
            .unwrap();
        enc.encode(&Event::Scroll { amount: 20 }).unwrap();
    }
    assert_eq!(
        enc.encode(&Event::ScrollHorizontal { amount: -40 })
            .unwrap(),
        on(
            KBM,
            &[
                (EV_REL, REL_HWHEEL_HI_RES, -40),
                (EV_REL, REL_HWHEEL, -1),
                SYN
            ]
        )
    );
    assert_eq!(
        enc.encode(&Event::Scroll { amount: 20 }).unwrap(),
        on(KBM, &[(EV_REL, REL_WHEEL_HI_RES, 20), SYN])
    );
}

#[test]
fn keys_press_repeat_and_release() {
    let mut enc = encoder();
    assert_eq!(enc.encode(&key(b'A', true)).unwrap(), k(KEY_A, 1).to_vec());
    assert_eq!(enc.encode(&key(b'A', true)).unwrap(), k(KEY_A, 2).to_vec());
    assert_eq!(enc.encode(&key(b'A', false)).unwrap(), k(KEY_A, 0).to_vec());
    assert!(enc.encode(&key(b'A', false)).unwrap().is_empty());
    // Flag bits above the low byte do not matter; generic shift is the left one.
    let shift = Event::Key {
        vk: 0x8000 | u16::from(vk::SHIFT),
        pressed: true,
        modifiers: Modifiers {
            shift: true,
            ..Modifiers::default()
        },
    };
    assert_eq!(enc.encode(&shift).unwrap(), k(LSHIFT, 1).to_vec());
    assert_eq!(
        enc.encode(&key(vk::RSHIFT, true)).unwrap(),
        k(RSHIFT, 1).to_vec()
    );
}

#[test]
fn unmapped_keys_are_an_error_that_changes_nothing() {
    let mut enc = encoder();
    assert_eq!(
        enc.encode(&key(0xFF, true)),
        Err(KbmError::UnmappedKey(0xFF))
    );
    assert_eq!(enc.held_keys().count(), 0);
}

#[test]
fn text_is_typed_with_shift_around_the_shifted() {
    let mut enc = encoder();
    let out = enc.encode(&Event::Text("aA!".into())).unwrap();
    let expected = frames(&[
        k(KEY_A, 1),
        k(KEY_A, 0),
        k(LSHIFT, 1),
        k(KEY_A, 1),
        k(KEY_A, 0),
        k(LSHIFT, 0),
        k(LSHIFT, 1),
        k(KEY_1, 1),
        k(KEY_1, 0),
        k(LSHIFT, 0),
    ]);
    assert_eq!(out, expected);
    assert_eq!(enc.held_keys().count(), 0);
}

#[test]
fn text_lets_go_of_the_clients_shift_meanwhile() {
    let mut enc = encoder();
    enc.encode(&key(vk::LSHIFT, true)).unwrap();
    enc.encode(&key(vk::RSHIFT, true)).unwrap();
    let out = enc.encode(&Event::Text("b".into())).unwrap();
    let expected = frames(&[
        k(LSHIFT, 0),
        k(RSHIFT, 0),
        k(KEY_B, 1),
        k(KEY_B, 0),
        k(LSHIFT, 1),
        k(RSHIFT, 1),
    ]);
    assert_eq!(out, expected);
    assert_eq!(enc.held_keys().collect::<Vec<_>>(), vec![LSHIFT, RSHIFT]);
}

#[test]
fn text_of_a_held_key_releases_it_first() {
    let mut enc = encoder();
    enc.encode(&key(b'A', true)).unwrap();
    let out = enc.encode(&Event::Text("a".into())).unwrap();
    assert_eq!(out, frames(&[k(KEY_A, 0), k(KEY_A, 1), k(KEY_A, 0)]));
    assert!(enc.encode(&key(b'A', false)).unwrap().is_empty());
}

#[test]
fn non_ascii_text_is_refused_whole_and_says_why() {
    let mut enc = encoder();
    let err = enc.encode(&Event::Text("abc é".into())).unwrap_err();
    assert_eq!(err, KbmError::NonAsciiText('é'));
    let message = err.to_string();
    assert!(message.contains("layout"), "{message}");
    assert!(message.contains("ASCII"), "{message}");
    assert_eq!(
        enc.encode(&Event::Text("a\rb".into())),
        Err(KbmError::UntypableText('\r'))
    );
    assert_eq!(enc.held_keys().count(), 0);
    assert!(enc.encode(&Event::Text(String::new())).unwrap().is_empty());
}

#[test]
fn release_all_lets_go_of_everything_once() {
    let mut enc = encoder();
    enc.encode(&key(b'B', true)).unwrap();
    enc.encode(&key(vk::LCONTROL, true)).unwrap();
    enc.encode(&button(Button::Middle, true)).unwrap();
    enc.encode(&move_to(1, 1, 1920, 1080)).unwrap();
    enc.encode(&button(Button::Left, true)).unwrap();
    enc.encode(&Event::Scroll { amount: 100 }).unwrap();
    let out = enc.release_all();
    let mut expected = on(
        KBM,
        &[
            (EV_KEY, evdev::KEY_LEFTCTRL, 0),
            (EV_KEY, KEY_B, 0),
            (EV_KEY, BTN_MIDDLE, 0),
            SYN,
        ],
    );
    expected.extend(on(ABS, &[(EV_KEY, BTN_LEFT, 0), SYN]));
    assert_eq!(out, expected);
    assert!(enc.release_all().is_empty());
    // The partial notch went with it.
    assert_eq!(
        enc.encode(&Event::Scroll { amount: 20 }).unwrap(),
        on(KBM, &[(EV_REL, REL_WHEEL_HI_RES, 20), SYN])
    );
}

fn touch(id: u32, phase: TouchPhase, x: f32, y: f32) -> Event {
    Event::Touch { id, phase, x, y }
}

#[test]
fn one_finger_drives_the_absolute_pointer() {
    let mut enc = KbmEncoder::new(1001, 501);
    let down = enc.encode(&touch(7, TouchPhase::Down, 0.5, 0.25)).unwrap();
    let mut expected = on(ABS, &[(EV_ABS, ABS_X, 500), (EV_ABS, ABS_Y, 125), SYN]);
    expected.extend(on(ABS, &[(EV_KEY, BTN_LEFT, 1), SYN]));
    assert_eq!(down, expected);
    // A second finger is ignored; the first one moves (clamped) and lifts.
    assert!(enc
        .encode(&touch(8, TouchPhase::Down, 0.1, 0.1))
        .unwrap()
        .is_empty());
    let moved = enc
        .encode(&touch(7, TouchPhase::Move, 2.0, f32::NAN))
        .unwrap();
    assert_eq!(
        moved,
        on(ABS, &[(EV_ABS, ABS_X, 1000), (EV_ABS, ABS_Y, 0), SYN])
    );
    assert!(enc
        .encode(&touch(8, TouchPhase::Up, 0.0, 0.0))
        .unwrap()
        .is_empty());
    let up = enc.encode(&touch(7, TouchPhase::Up, 0.0, 0.0)).unwrap();
    assert_eq!(up, on(ABS, &[(EV_KEY, BTN_LEFT, 0), SYN]));
    // A lost touch stream lets go too.
    enc.encode(&touch(9, TouchPhase::Down, 0.5, 0.5)).unwrap();
    assert_eq!(
        enc.encode(&Event::TouchCancelAll).unwrap(),
        on(ABS, &[(EV_KEY, BTN_LEFT, 0), SYN])
    );
    assert!(enc.encode(&Event::TouchCancelAll).unwrap().is_empty());
}

// Property: whatever the clients send, what the devices see is consistent evdev.

fn any_button() -> impl Strategy<Value = Button> {
    prop_oneof![
        Just(Button::Left),
        Just(Button::Middle),
        Just(Button::Right),
        Just(Button::X1),
        Just(Button::X2),
    ]
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{0,6}", "[a-zA-Z!?\n\té\r]{0,4}",]
}

fn any_event() -> impl Strategy<Value = Event> {
    prop_oneof![
        (-50..50i32, -50..50i32).prop_map(|(dx, dy)| Event::MoveBy { dx, dy }),
        (-10..300i32, -10..300i32, 0..300u32, 0..300u32)
            .prop_map(|(x, y, w, h)| move_to(x, y, w, h)),
        (any_button(), any::<bool>()).prop_map(|(b, p)| button(b, p)),
        (-300..300i32).prop_map(|amount| Event::Scroll { amount }),
        (-300..300i32).prop_map(|amount| Event::ScrollHorizontal { amount }),
        // Letters, shifts, ctrl, and anything else (including unmapped codes).
        (
            prop_oneof![
                Just(0x41u16),
                Just(0x42),
                Just(0x10),
                Just(0xA0),
                Just(0xA1),
                Just(0xA2),
                any::<u16>()
            ],
            any::<bool>()
        )
            .prop_map(|(vk, pressed)| Event::Key {
                vk,
                pressed,
                modifiers: Modifiers::default()
            }),
        any_text().prop_map(Event::Text),
        (
            0..3u32,
            prop_oneof![
                Just(TouchPhase::Down),
                Just(TouchPhase::Move),
                Just(TouchPhase::Up),
                Just(TouchPhase::Cancel)
            ],
            -0.5..1.5f32,
            -0.5..1.5f32
        )
            .prop_map(|(id, phase, x, y)| touch(id, phase, x, y)),
        Just(Event::TouchCancelAll),
    ]
}

/// What a reader of the two devices knows: keys down per device, kernel-style.
#[derive(Default)]
struct Reader {
    down: HashMap<Target, BTreeSet<u16>>,
}

impl Reader {
    fn read(&mut self, out: &Emitted, enc: &KbmEncoder) -> Result<(), TestCaseError> {
        for target in Target::ALL {
            let caps = enc.capabilities(target);
            let mine: Vec<InputEvent> = out
                .iter()
                .filter(|(t, _)| *t == target)
                .map(|&(_, e)| e)
                .collect();
            if let Some(last) = mine.last() {
                prop_assert_eq!(*last, SYN, "an unfinished frame on {:?}", target);
            }
            let down = self.down.entry(target).or_default();
            for (kind, code, value) in mine {
                match kind {
                    EV_SYN => prop_assert_eq!((code, value), (SYN_REPORT, 0)),
                    EV_KEY => {
                        prop_assert!(caps.keys.contains(&code), "{} undeclared", code);
                        match value {
                            KEY_PRESSED => {
                                prop_assert!(down.insert(code), "{} pressed twice", code)
                            }
                            KEY_RELEASED => {
                                prop_assert!(down.remove(&code), "{} released unpressed", code)
                            }
                            KEY_REPEATED => prop_assert!(down.contains(&code)),
                            other => prop_assert!(false, "key value {}", other),
                        }
                    }
                    EV_REL => {
                        prop_assert!(caps.relative_axes.contains(&code));
                        prop_assert_ne!(value, 0);
                    }
                    EV_ABS => {
                        let axis = caps.absolute_axes.iter().find(|a| a.code == code);
                        let axis = axis.ok_or_else(|| TestCaseError::fail("undeclared axis"))?;
                        prop_assert!((axis.min..=axis.max).contains(&value));
                    }
                    other => prop_assert!(false, "event type {}", other),
                }
            }
        }
        Ok(())
    }

    fn matches(&self, enc: &KbmEncoder) -> bool {
        let mut tracked: HashMap<Target, BTreeSet<u16>> = HashMap::new();
        tracked.entry(KBM).or_default().extend(enc.held_keys());
        for (b, t) in enc.held_buttons() {
            tracked.entry(t).or_default().insert(b);
        }
        Target::ALL.iter().all(|t| {
            self.down.get(t).cloned().unwrap_or_default()
                == tracked.get(t).cloned().unwrap_or_default()
        })
    }
}

proptest! {
    #[test]
    fn any_sequence_then_release_all_leaves_nothing_held(
        events in prop::collection::vec(any_event(), 0..40),
        width in 1..4000u32,
        height in 1..4000u32,
    ) {
        let mut enc = KbmEncoder::new(width, height);
        let mut reader = Reader::default();
        for event in &events {
            let before: Vec<u16> = enc.held_keys().collect();
            match enc.encode(event) {
                Ok(out) => reader.read(&out, &enc)?,
                // A refused event changes nothing.
                Err(_) => prop_assert_eq!(enc.held_keys().collect::<Vec<_>>(), before),
            }
            prop_assert!(reader.matches(&enc), "tracking diverged after {:?}", event);
        }
        let out = enc.release_all();
        reader.read(&out, &enc)?;
        prop_assert!(reader.down.values().all(BTreeSet::is_empty), "still held: {:?}", reader.down);
        prop_assert_eq!(enc.held_keys().count() + enc.held_buttons().count(), 0);
    }
}
