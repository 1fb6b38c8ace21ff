//! What the EIS backend sends for each event, without a connection: input events become
//! emulated-device actions, keys typed for text follow the server's keymap, absolute points land
//! in the region that shows the client's output, and everything held is tracked so the end of a
//! session lets go of it.

use std::collections::BTreeSet;

use crate::event::{Event, TouchPhase};
use crate::text_keys::{lifted_modifiers, tap_sequence, Stroke, TextKeys};

/// The device capability an action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Need {
    Pointer,
    PointerAbsolute,
    Button,
    Scroll,
    Keyboard,
    Touch,
    Text,
}

/// One request to an emulated device.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Motion {
        dx: f32,
        dy: f32,
    },
    /// A point of the client's `width` × `height` picture; the edge maps it into a region.
    Absolute {
        x: f32,
        y: f32,
        width: u32,
        height: u32,
    },
    Button {
        code: u32,
        pressed: bool,
    },
    /// In 1/120 of a wheel notch; positive `y` scrolls down, positive `x` right (EIS's axes).
    ScrollDiscrete {
        x: i32,
        y: i32,
    },
    /// An evdev key code, which the server reads through its own keymap.
    Key {
        code: u16,
        pressed: bool,
    },
    /// A finger at a fraction (0…1) of the picture.
    TouchDown {
        id: u32,
        x: f32,
        y: f32,
    },
    TouchMotion {
        id: u32,
        x: f32,
        y: f32,
    },
    TouchUp {
        id: u32,
    },
    Utf8(String),
}

impl Action {
    pub fn need(&self) -> Need {
        match self {
            Action::Motion { .. } => Need::Pointer,
            Action::Absolute { .. } => Need::PointerAbsolute,
            Action::Button { .. } => Need::Button,
            Action::ScrollDiscrete { .. } => Need::Scroll,
            Action::Key { .. } => Need::Keyboard,
            Action::TouchDown { .. } | Action::TouchMotion { .. } | Action::TouchUp { .. } => {
                Need::Touch
            }
            Action::Utf8(_) => Need::Text,
        }
    }
}

/// Why an event cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("no evdev key for virtual-key code {0:#04x}")]
    UnmappedKey(u16),
    #[error("cannot type {0:?}: the compositor's keymap has no key for it")]
    UntypableText(char),
}

/// Turns events into actions and remembers what is held.
#[derive(Debug, Default)]
pub struct Planner {
    held_keys: BTreeSet<u16>,
    held_buttons: BTreeSet<u32>,
    touches: BTreeSet<u32>,
}

impl Planner {
    /// The actions for `event`. `text_keys` is how the server's keymap types characters;
    /// `None` when the server takes text as it is (ei_text, Mutter's keysyms).
    pub fn plan(
        &mut self,
        event: &Event,
        text_keys: Option<&TextKeys>,
    ) -> Result<Vec<Action>, PlanError> {
        Ok(match event {
            Event::MoveBy { dx, dy } => vec![Action::Motion {
                dx: *dx as f32,
                dy: *dy as f32,
            }],
            Event::MoveTo {
                x,
                y,
                width,
                height,
            } => {
                if *width == 0 || *height == 0 {
                    return Ok(Vec::new());
                }
                // In i64: a width past i32::MAX must not make the bound negative.
                let at = |v: i32, extent: u32| i64::from(v).clamp(0, i64::from(extent) - 1) as f32;
                vec![Action::Absolute {
                    x: at(*x, *width),
                    y: at(*y, *height),
                    width: *width,
                    height: *height,
                }]
            }
            Event::Button { button, pressed } => {
                let code = u32::from(button.evdev_code());
                // A second press of a held button, or a release of one not held, changes nothing.
                let changed = if *pressed {
                    self.held_buttons.insert(code)
                } else {
                    self.held_buttons.remove(&code)
                };
                if !changed {
                    return Ok(Vec::new());
                }
                vec![Action::Button {
                    code,
                    pressed: *pressed,
                }]
            }
            // The protocols' vertical axis grows away from the user, EIS's downwards.
            Event::Scroll { amount } if *amount != 0 => vec![Action::ScrollDiscrete {
                x: 0,
                y: amount.saturating_neg(),
            }],
            Event::ScrollHorizontal { amount } if *amount != 0 => {
                vec![Action::ScrollDiscrete { x: *amount, y: 0 }]
            }
            Event::Scroll { .. } | Event::ScrollHorizontal { .. } => Vec::new(),
            Event::Key { vk, pressed, .. } => {
                let code = crate::keymap::evdev_from_vk(*vk).ok_or(PlanError::UnmappedKey(*vk))?;
                // Clients repeat a held key's press; the compositor repeats keys itself.
                let changed = if *pressed {
                    self.held_keys.insert(code)
                } else {
                    self.held_keys.remove(&code)
                };
                if !changed {
                    return Ok(Vec::new());
                }
                vec![Action::Key {
                    code,
                    pressed: *pressed,
                }]
            }
            Event::Text(text) => match text_keys {
                Some(keys) => self.type_text(text, keys)?,
                None => {
                    // Held modifiers would turn the text into shortcuts: up meanwhile.
                    let held = lifted_modifiers(&self.held_keys);
                    let key = |code, pressed| Action::Key { code, pressed };
                    let mut actions: Vec<Action> = held.iter().map(|&k| key(k, false)).collect();
                    actions.push(Action::Utf8(text.clone()));
                    actions.extend(held.iter().map(|&k| key(k, true)));
                    actions
                }
            },
            Event::Touch { id, phase, x, y } => {
                let (x, y) = (x.clamp(0.0, 1.0), y.clamp(0.0, 1.0));
                match phase {
                    TouchPhase::Down if self.touches.insert(*id) => {
                        vec![Action::TouchDown { id: *id, x, y }]
                    }
                    // A second down for a finger already down moves it.
                    TouchPhase::Down | TouchPhase::Move if self.touches.contains(id) => {
                        vec![Action::TouchMotion { id: *id, x, y }]
                    }
                    TouchPhase::Up | TouchPhase::Cancel if self.touches.remove(id) => {
                        vec![Action::TouchUp { id: *id }]
                    }
                    _ => Vec::new(),
                }
            }
            Event::TouchCancelAll => std::mem::take(&mut self.touches)
                .into_iter()
                .map(|id| Action::TouchUp { id })
                .collect(),
        })
    }

    /// Actions that let go of every key, button and finger still down.
    pub fn release_all(&mut self) -> Vec<Action> {
        let buttons = std::mem::take(&mut self.held_buttons)
            .into_iter()
            .map(|code| Action::Button {
                code,
                pressed: false,
            });
        let keys = std::mem::take(&mut self.held_keys)
            .into_iter()
            .map(|code| Action::Key {
                code,
                pressed: false,
            });
        let touches = std::mem::take(&mut self.touches)
            .into_iter()
            .map(|id| Action::TouchUp { id });
        buttons.chain(keys).chain(touches).collect()
    }

    /// Key taps for `text` ([`tap_sequence`]), following them in what is held.
    fn type_text(&mut self, text: &str, keys: &TextKeys) -> Result<Vec<Action>, PlanError> {
        let strokes: Vec<Stroke> = text
            .chars()
            .map(|c| keys.stroke(c).cloned().ok_or(PlanError::UntypableText(c)))
            .collect::<Result<_, _>>()?;
        Ok(tap_sequence(&strokes, &self.held_keys)
            .into_iter()
            .map(|(code, pressed)| {
                if pressed {
                    self.held_keys.insert(code);
                } else {
                    self.held_keys.remove(&code);
                }
                Action::Key { code, pressed }
            })
            .collect())
    }
}

/// A region of an absolute device, in the server's logical pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    pub scale: f32,
    pub mapping_id: Option<String>,
}

/// The region showing the client's output: the one whose mapping id names it, else the one
/// whose size in physical pixels is the client's mode, else the first.
pub fn choose_region<'a>(
    regions: &'a [Region],
    output: Option<&str>,
    width: u32,
    height: u32,
) -> Option<&'a Region> {
    let named = output.and_then(|name| {
        regions
            .iter()
            .find(|r| r.mapping_id.as_deref() == Some(name))
    });
    let physical = |r: &Region| {
        let scale = if r.scale > 0.0 { r.scale } else { 1.0 };
        (
            (r.width as f32 * scale).round() as u32,
            (r.height as f32 * scale).round() as u32,
        )
    };
    named
        .or_else(|| regions.iter().find(|r| physical(r) == (width, height)))
        .or_else(|| regions.first())
}

/// `(x, y)` of a `width` × `height` picture, scaled into `region`.
pub fn point_in(region: &Region, x: f32, y: f32, width: u32, height: u32) -> (f32, f32) {
    let fx = x / width.max(1) as f32;
    let fy = y / height.max(1) as f32;
    (
        region.x as f32 + fx * region.width as f32,
        region.y as f32 + fy * region.height as f32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Button, Modifiers};
    use crate::keymap::evdev as code;
    use proptest::prelude::*;

    const KEY_A: u16 = 30;
    const KEY_Y: u16 = 21;
    const KEY_Q: u16 = 16;

    fn keys(layout: &str) -> TextKeys {
        TextKeys::from_keymap(&crate::text_keys::layout_keymap(layout).unwrap())
    }

    fn key_event(vk: u16, pressed: bool) -> Event {
        Event::Key {
            vk,
            pressed,
            modifiers: Modifiers::default(),
        }
    }

    fn region(x: u32, y: u32, width: u32, height: u32, mapping: Option<&str>) -> Region {
        Region {
            x,
            y,
            width,
            height,
            scale: 1.0,
            mapping_id: mapping.map(str::to_owned),
        }
    }

    #[test]
    fn german_text_types_through_the_german_keymap() {
        let mut p = Planner::default();
        let actions = p
            .plan(&Event::Text("z@".into()), Some(&keys("de")))
            .unwrap();
        let key = |code, pressed| Action::Key { code, pressed };
        assert_eq!(
            actions,
            vec![
                key(KEY_Y, true),
                key(KEY_Y, false),
                key(code::KEY_RIGHTALT, true),
                key(KEY_Q, true),
                key(KEY_Q, false),
                key(code::KEY_RIGHTALT, false),
            ]
        );
        assert!(p.release_all().is_empty(), "text leaves nothing held");
    }

    #[test]
    fn text_lets_go_of_a_held_shift_meanwhile_and_fails_whole() {
        let mut p = Planner::default();
        let us = keys("us");
        p.plan(&key_event(0xA0, true), Some(&us)).unwrap(); // VK_LSHIFT
        let actions = p.plan(&Event::Text("a".into()), Some(&us)).unwrap();
        let key = |code, pressed| Action::Key { code, pressed };
        assert_eq!(
            actions,
            vec![
                key(code::KEY_LEFTSHIFT, false),
                key(KEY_A, true),
                key(KEY_A, false),
                key(code::KEY_LEFTSHIFT, true),
            ]
        );
        assert_eq!(
            p.plan(&Event::Text("aé".into()), Some(&us)),
            Err(PlanError::UntypableText('é'))
        );
        assert_eq!(
            p.plan(&Event::Text("é".into()), None).unwrap(),
            vec![
                key(code::KEY_LEFTSHIFT, false),
                Action::Utf8("é".into()),
                key(code::KEY_LEFTSHIFT, true),
            ],
            "text as it is goes without the held shift too"
        );
    }

    #[test]
    fn scroll_flips_vertical_and_keeps_horizontal() {
        let mut p = Planner::default();
        let k = TextKeys::default();
        assert_eq!(
            p.plan(&Event::Scroll { amount: 120 }, Some(&k)).unwrap(),
            vec![Action::ScrollDiscrete { x: 0, y: -120 }]
        );
        assert_eq!(
            p.plan(&Event::ScrollHorizontal { amount: -60 }, Some(&k))
                .unwrap(),
            vec![Action::ScrollDiscrete { x: -60, y: 0 }]
        );
        assert!(p
            .plan(&Event::Scroll { amount: 0 }, Some(&k))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn absolute_points_clamp_into_the_picture() {
        let mut p = Planner::default();
        let e = Event::MoveTo {
            x: 5000,
            y: -3,
            width: 1280,
            height: 720,
        };
        assert_eq!(
            p.plan(&e, Some(&TextKeys::default())).unwrap(),
            vec![Action::Absolute {
                x: 1279.0,
                y: 0.0,
                width: 1280,
                height: 720
            }]
        );
    }

    #[test]
    fn the_region_named_or_sized_like_the_output_wins() {
        let regions = [
            region(0, 0, 1920, 1080, None),
            region(1920, 0, 1280, 720, None),
            region(3200, 0, 1280, 720, Some("HEADLESS-2")),
        ];
        let chosen = |name| choose_region(&regions, name, 1280, 720).unwrap().x;
        assert_eq!(chosen(Some("HEADLESS-2")), 3200);
        assert_eq!(chosen(Some("other")), 1920);
        assert_eq!(choose_region(&regions, None, 800, 600).unwrap().x, 0);
        assert_eq!(choose_region(&[], None, 800, 600), None);
        let hidpi = [Region {
            scale: 2.0,
            ..region(0, 0, 1280, 720, None)
        }];
        assert_eq!(
            choose_region(&hidpi, None, 2560, 1440),
            Some(&hidpi[0]),
            "a scaled region matches its physical size"
        );
        assert_eq!(
            point_in(&regions[1], 640.0, 360.0, 1280, 720),
            (2560.0, 360.0)
        );
    }

    #[test]
    fn touches_track_their_fingers() {
        let mut p = Planner::default();
        let k = TextKeys::default();
        let touch = |id, phase, x| Event::Touch {
            id,
            phase,
            x,
            y: 0.5,
        };
        assert_eq!(
            p.plan(&touch(3, TouchPhase::Move, 0.1), Some(&k)).unwrap(),
            vec![],
            "a finger that never went down does not move"
        );
        assert_eq!(
            p.plan(&touch(3, TouchPhase::Down, 1.5), Some(&k)).unwrap(),
            vec![Action::TouchDown {
                id: 3,
                x: 1.0,
                y: 0.5
            }]
        );
        p.plan(&touch(4, TouchPhase::Down, 0.2), Some(&k)).unwrap();
        assert_eq!(
            p.plan(&touch(4, TouchPhase::Cancel, 0.2), Some(&k))
                .unwrap(),
            vec![Action::TouchUp { id: 4 }]
        );
        assert_eq!(p.release_all(), vec![Action::TouchUp { id: 3 }]);
    }

    fn any_event() -> impl Strategy<Value = Event> {
        let vk = prop::sample::select(vec![0x41u16, 0x42, 0x10, 0xA0, 0xA1, 0x11, 0x12, 0x0D]);
        let button = prop::sample::select(vec![Button::Left, Button::Right, Button::X2]);
        let phase = prop::sample::select(vec![
            TouchPhase::Down,
            TouchPhase::Move,
            TouchPhase::Up,
            TouchPhase::Cancel,
        ]);
        prop_oneof![
            (vk, any::<bool>()).prop_map(|(vk, pressed)| key_event(vk, pressed)),
            (button, any::<bool>()).prop_map(|(button, pressed)| Event::Button { button, pressed }),
            (0u32..3, phase, 0.0f32..1.0).prop_map(|(id, phase, x)| Event::Touch {
                id,
                phase,
                x,
                y: x
            }),
            "[a-zA-Z !@]{0,4}".prop_map(Event::Text),
            Just(Event::TouchCancelAll),
            (-240i32..240).prop_map(|amount| Event::Scroll { amount }),
        ]
    }

    proptest! {
        /// Replaying the actions against a device that counts what is down: nothing is let go
        /// of that was not down, nothing goes down twice, and release_all leaves nothing down.
        #[test]
        fn actions_keep_device_state_consistent(events in prop::collection::vec(any_event(), 0..64)) {
            let us = keys("us");
            let mut p = Planner::default();
            let mut keys_down = BTreeSet::new();
            let mut buttons_down = BTreeSet::new();
            let mut fingers = BTreeSet::new();
            let mut apply = |a: Action| -> Result<(), TestCaseError> {
                let consistent = match a {
                    Action::Key { code, pressed: true } => keys_down.insert(code),
                    Action::Key { code, pressed: false } => keys_down.remove(&code),
                    Action::Button { code, pressed: true } => buttons_down.insert(code),
                    Action::Button { code, pressed: false } => buttons_down.remove(&code),
                    Action::TouchDown { id, .. } => fingers.insert(id),
                    Action::TouchMotion { id, .. } => fingers.contains(&id),
                    Action::TouchUp { id } => fingers.remove(&id),
                    _ => true,
                };
                prop_assert!(consistent, "inconsistent action");
                Ok(())
            };
            for e in &events {
                for a in p.plan(e, Some(&us)).unwrap() {
                    apply(a)?;
                }
            }
            for a in p.release_all() {
                apply(a)?;
            }
            prop_assert!(keys_down.is_empty() && buttons_down.is_empty() && fingers.is_empty());
        }
    }
}
