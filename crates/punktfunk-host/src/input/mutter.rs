//! Input into a Mutter virtual monitor through the RemoteDesktop session its screencast is linked
//! to (Mutter 43 has no EIS): the EIS planner's actions, as Mutter's `Notify*` calls.

use punktfunk_input::ei::{Action, Planner};
use punktfunk_input::event::Event;
use punktfunk_pipewire::mutter::{Axis, MutterInput, Notify};

/// One wheel notch in the protocols' 1/120 units.
const NOTCH: i32 = 120;
/// One notch in `NotifyPointerAxis`'s units.
const AXIS_NOTCH: f64 = 10.0;

pub struct MutterBackend {
    input: MutterInput,
    planner: Planner,
    slots: TouchSlots,
}

impl MutterBackend {
    pub fn new(input: MutterInput) -> Self {
        Self {
            input,
            planner: Planner::default(),
            slots: TouchSlots::default(),
        }
    }

    fn send(&mut self, actions: Vec<Action>) -> Result<(), String> {
        let size = self.input.size();
        for action in actions {
            let Some(action) = self.slots.slotted(action) else {
                continue;
            };
            for call in calls(&action, size) {
                self.input.notify(&call).map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }
}

impl super::Backend for MutterBackend {
    fn inject(&mut self, event: &Event) -> Result<(), String> {
        let actions = self.planner.plan(event, None).map_err(|e| e.to_string())?;
        self.send(actions)
    }

    fn release_all(&mut self) -> Result<(), String> {
        let actions = self.planner.release_all();
        self.send(actions)
    }
}

/// Mutter's virtual touchscreen takes slots below this (`CLUTTER_VIRTUAL_INPUT_DEVICE_MAX_TOUCH_SLOTS`);
/// clients' finger ids are arbitrary (the pen's is `u32::MAX`).
const MAX_TOUCH_SLOTS: u32 = 64;

/// Which slot each finger that is down holds: the lowest free one, from its down to its up.
#[derive(Debug, Default)]
struct TouchSlots {
    fingers: std::collections::BTreeMap<u32, u32>,
}

impl TouchSlots {
    /// `action` with its finger id as a slot; `None` for a finger beyond the slots (dropped).
    fn slotted(&mut self, action: Action) -> Option<Action> {
        Some(match action {
            Action::TouchDown { id, x, y } => {
                let slot = (0..MAX_TOUCH_SLOTS).find(|s| !self.fingers.values().any(|v| v == s))?;
                self.fingers.insert(id, slot);
                Action::TouchDown { id: slot, x, y }
            }
            Action::TouchMotion { id, x, y } => Action::TouchMotion {
                id: *self.fingers.get(&id)?,
                x,
                y,
            },
            Action::TouchUp { id } => Action::TouchUp {
                id: self.fingers.remove(&id)?,
            },
            other => other,
        })
    }
}

/// The calls for one action on a monitor of `(width, height)` pixels.
pub fn calls(action: &Action, (width, height): (u32, u32)) -> Vec<Notify> {
    match action {
        Action::Motion { dx, dy } => vec![Notify::PointerMotionRelative {
            dx: f64::from(*dx),
            dy: f64::from(*dy),
        }],
        // The monitor is the client's picture, maybe resized since: scale into it.
        Action::Absolute {
            x,
            y,
            width: w,
            height: h,
        } => vec![Notify::PointerMotionAbsolute {
            x: f64::from(*x) * f64::from(width) / f64::from((*w).max(1)),
            y: f64::from(*y) * f64::from(height) / f64::from((*h).max(1)),
        }],
        Action::Button { code, pressed } => vec![Notify::PointerButton {
            button: i32::try_from(*code).unwrap_or(i32::MAX),
            pressed: *pressed,
        }],
        Action::ScrollDiscrete { x, y } => {
            let mut out = Vec::new();
            for (axis, amount) in [(Axis::Vertical, *y), (Axis::Horizontal, *x)] {
                if amount == 0 {
                    continue;
                }
                // Whole notches as notches; high-resolution wheels smoothly.
                if amount % NOTCH == 0 {
                    out.push(Notify::PointerAxisDiscrete {
                        axis,
                        steps: amount / NOTCH,
                    });
                } else {
                    let delta = f64::from(amount) * AXIS_NOTCH / f64::from(NOTCH);
                    out.push(match axis {
                        Axis::Vertical => Notify::PointerAxis { dx: 0.0, dy: delta },
                        Axis::Horizontal => Notify::PointerAxis { dx: delta, dy: 0.0 },
                    });
                }
            }
            out
        }
        Action::Key { code, pressed } => vec![Notify::KeyboardKeycode {
            code: u32::from(*code),
            pressed: *pressed,
        }],
        Action::TouchDown { id, x, y } => vec![Notify::TouchDown {
            slot: *id,
            x: f64::from(*x) * f64::from(width),
            y: f64::from(*y) * f64::from(height),
        }],
        Action::TouchMotion { id, x, y } => vec![Notify::TouchMotion {
            slot: *id,
            x: f64::from(*x) * f64::from(width),
            y: f64::from(*y) * f64::from(height),
        }],
        Action::TouchUp { id } => vec![Notify::TouchUp { slot: *id }],
        Action::Utf8(text) => text
            .chars()
            .filter_map(keysym)
            .flat_map(|keysym| {
                [true, false].map(|pressed| Notify::KeyboardKeysym { keysym, pressed })
            })
            .collect(),
    }
}

/// The X keysym that types `c`; `None` for control characters without a key.
pub fn keysym(c: char) -> Option<u32> {
    let cp = u32::from(c);
    Some(match c {
        '\n' | '\r' => 0xff0d, // Return
        '\t' => 0xff09,        // Tab
        '\u{8}' => 0xff08,     // BackSpace
        '\u{1b}' => 0xff1b,    // Escape
        '\u{7f}' => 0xffff,    // Delete
        _ if c.is_control() => return None,
        // Latin-1's printable characters are their own keysyms.
        ' '..='~' | '\u{a0}'..='\u{ff}' => cp,
        // Everything else: the Unicode keysym range.
        _ => 0x0100_0000 | cp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingers_get_the_lowest_free_slot_and_the_pen_one_too() {
        let mut slots = TouchSlots::default();
        let down = |id| Action::TouchDown { id, x: 0.5, y: 0.5 };
        assert_eq!(slots.slotted(down(u32::MAX)), Some(down(0)), "the pen's id");
        assert_eq!(slots.slotted(down(7)), Some(down(1)));
        assert_eq!(
            slots.slotted(Action::TouchUp { id: u32::MAX }),
            Some(Action::TouchUp { id: 0 })
        );
        assert_eq!(
            slots.slotted(down(9)),
            Some(down(0)),
            "a freed slot is reused"
        );
        assert_eq!(slots.slotted(Action::TouchUp { id: 3 }), None, "never down");
        for id in 100..162 {
            assert!(slots.slotted(down(id)).is_some());
        }
        assert_eq!(slots.slotted(down(500)), None, "all 64 slots are taken");
    }
    use proptest::prelude::*;

    #[test]
    fn characters_become_keysyms() {
        assert_eq!(keysym('a'), Some(0x61));
        assert_eq!(keysym('A'), Some(0x41));
        assert_eq!(keysym('é'), Some(0xe9));
        assert_eq!(keysym('€'), Some(0x0100_20ac));
        assert_eq!(keysym('\n'), Some(0xff0d));
        assert_eq!(keysym('\u{1}'), None);
        assert_eq!(keysym('\u{85}'), None, "a C1 control");
    }

    #[test]
    fn text_taps_each_keysym() {
        let sym = |keysym, pressed| Notify::KeyboardKeysym { keysym, pressed };
        assert_eq!(
            calls(&Action::Utf8("é\u{1}€".into()), (1, 1)),
            vec![
                sym(0xe9, true),
                sym(0xe9, false),
                sym(0x0100_20ac, true),
                sym(0x0100_20ac, false),
            ]
        );
    }

    #[test]
    fn absolute_points_and_touches_scale_onto_the_monitor() {
        let abs = Action::Absolute {
            x: 640.0,
            y: 360.0,
            width: 1280,
            height: 720,
        };
        assert_eq!(
            calls(&abs, (1280, 720)),
            vec![Notify::PointerMotionAbsolute { x: 640.0, y: 360.0 }]
        );
        assert_eq!(
            calls(&abs, (2560, 1440)),
            vec![Notify::PointerMotionAbsolute {
                x: 1280.0,
                y: 720.0
            }],
            "a monitor resized since the picture"
        );
        assert_eq!(
            calls(
                &Action::TouchDown {
                    id: 2,
                    x: 0.25,
                    y: 1.0
                },
                (1920, 1080)
            ),
            vec![Notify::TouchDown {
                slot: 2,
                x: 480.0,
                y: 1080.0
            }]
        );
    }

    #[test]
    fn whole_notches_scroll_discretely_and_fractions_smoothly() {
        assert_eq!(
            calls(&Action::ScrollDiscrete { x: 0, y: -240 }, (1, 1)),
            vec![Notify::PointerAxisDiscrete {
                axis: Axis::Vertical,
                steps: -2
            }]
        );
        assert_eq!(
            calls(&Action::ScrollDiscrete { x: 60, y: 0 }, (1, 1)),
            vec![Notify::PointerAxis { dx: 5.0, dy: 0.0 }]
        );
    }

    #[test]
    fn keys_and_buttons_keep_their_evdev_codes() {
        assert_eq!(
            calls(
                &Action::Key {
                    code: 30,
                    pressed: true
                },
                (1, 1)
            ),
            vec![Notify::KeyboardKeycode {
                code: 30,
                pressed: true
            }]
        );
        assert_eq!(
            calls(
                &Action::Button {
                    code: 0x111,
                    pressed: false
                },
                (1, 1)
            ),
            vec![Notify::PointerButton {
                button: 0x111,
                pressed: false
            }]
        );
    }

    proptest! {
        /// Every absolute point of the picture lands on the monitor.
        #[test]
        fn absolute_points_stay_on_the_monitor(
            w in 1u32..8000, h in 1u32..8000, mw in 1u32..8000, mh in 1u32..8000,
            fx in 0.0f32..1.0, fy in 0.0f32..1.0,
        ) {
            let x = (fx * (w - 1) as f32).floor();
            let y = (fy * (h - 1) as f32).floor();
            let out = calls(&Action::Absolute { x, y, width: w, height: h }, (mw, mh));
            let [Notify::PointerMotionAbsolute { x, y }] = out[..] else {
                return Err(TestCaseError::fail("one absolute motion"));
            };
            prop_assert!((0.0..f64::from(mw)).contains(&x) && (0.0..f64::from(mh)).contains(&y));
        }

        /// Every character gives at most one keysym, tapped.
        #[test]
        fn text_is_press_release_pairs(text in ".{0,8}") {
            let out = calls(&Action::Utf8(text), (1, 1));
            prop_assert!(out.len().is_multiple_of(2));
            for pair in out.chunks(2) {
                let ok = matches!(pair, [Notify::KeyboardKeysym { keysym: a, pressed: true },
                                         Notify::KeyboardKeysym { keysym: b, pressed: false }] if a == b);
                prop_assert!(ok);
            }
        }
    }
}
