//! Keyboard and mouse input as the evdev events of two uinput devices, without touching one:
//! [`KbmEncoder`] turns [`Event`]s into `(device, (type, code, value))` lists in which every
//! frame ends with `SYN_REPORT`, and tracks what it holds down so that
//! [`KbmEncoder::release_all`] can let go of it. The device edge that writes them is
//! [`crate::device::uinput::UinputKeyboardMouse`].
//!
//! Two devices, because relative motion (a game's mouse look) and absolute motion (a desktop
//! pointer landing where the client's cursor is) want different axes, and no real mouse has
//! both, so neither libinput nor games expect a device that does. See [`devices`] for what
//! each declares and why.
//!
//! Unlike the wlroots backend, uinput sends key positions and never a keymap: the host's
//! layout, which this side cannot know, makes characters of them. Virtual keys are positions
//! already; text is typed as if the layout were US, so only ASCII can be typed.

pub mod devices;
mod wheel;

use std::collections::{BTreeMap, BTreeSet};

use crate::event::{Button, Event, TouchPhase};
use crate::keymap::{ascii_key, evdev, evdev_from_vk};
use crate::linux_input::{
    InputEvent, ABS_X, ABS_Y, BTN_LEFT, EV_ABS, EV_KEY, EV_REL, EV_SYN, KEY_PRESSED, KEY_RELEASED,
    KEY_REPEATED, REL_HWHEEL, REL_HWHEEL_HI_RES, REL_WHEEL, REL_WHEEL_HI_RES, REL_X, REL_Y,
    SYN_REPORT,
};
use crate::text_keys::{tap_sequence, Stroke};
use devices::axis_max;
pub use devices::{capabilities, Capabilities, Target};
use wheel::Wheel;

/// Why an event could not be encoded. Nothing is emitted (or changed) when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KbmError {
    #[error("no evdev key for virtual-key code {0:#04x}")]
    UnmappedKey(u16),
    #[error(
        "cannot type {0:?}: uinput sends key positions, not characters, and cannot know the \
         host's keyboard layout, so text is typed as on a US layout and must be ASCII"
    )]
    NonAsciiText(char),
    #[error("cannot type {0:?}: no key types this ASCII control character")]
    UntypableText(char),
}

/// Events for the devices, in the order they are to be written.
pub type Emitted = Vec<(Target, InputEvent)>;

/// The sans-IO core of the uinput keyboard/mouse: events in, evdev events out.
#[derive(Debug, Clone)]
pub struct KbmEncoder {
    /// The absolute pointer's range, in pixels of the mode it was made for.
    width: u32,
    height: u32,
    held_keys: BTreeSet<u16>,
    /// Each held button and the device that pressed it (which must also release it).
    held_buttons: BTreeMap<u16, Target>,
    /// The device that moved the pointer last; buttons go there, as they would on a real
    /// mouse or tablet, so a game reading one device sees clicks with the motion.
    pointer: Target,
    vertical: Wheel,
    horizontal: Wheel,
    /// Where the absolute pointer's axes stand in the kernel, and whether relative motion
    /// has moved the pointer away since.
    abs_at: (i32, i32),
    moved_since_abs: bool,
    /// The finger driving the absolute pointer, if one is down.
    touch_finger: Option<u32>,
}

impl KbmEncoder {
    /// An encoder for devices whose absolute pointer spans `width` × `height`.
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            held_keys: BTreeSet::new(),
            held_buttons: BTreeMap::new(),
            pointer: Target::KeyboardMouse,
            vertical: Wheel::default(),
            horizontal: Wheel::default(),
            // A new device's axes read 0; where the pointer is, nobody knows.
            abs_at: (0, 0),
            moved_since_abs: true,
            touch_finger: None,
        }
    }

    /// What `target` must declare for the events this encoder emits.
    pub fn capabilities(&self, target: Target) -> Capabilities {
        capabilities(target, self.width, self.height)
    }

    /// Keys held down, by evdev code.
    pub fn held_keys(&self) -> impl Iterator<Item = u16> + '_ {
        self.held_keys.iter().copied()
    }

    /// Buttons held down, by evdev code, with the device holding each.
    pub fn held_buttons(&self) -> impl Iterator<Item = (u16, Target)> + '_ {
        self.held_buttons.iter().map(|(&b, &t)| (b, t))
    }

    /// The events for one input event. Key events carry their modifiers as keys of their own
    /// (clients send shift, ctrl, ... as key events), so `modifiers` is not replayed.
    pub fn encode(&mut self, event: &Event) -> Result<Emitted, KbmError> {
        let mut out = Out::default();
        match *event {
            Event::MoveBy { dx, dy } => self.move_by(&mut out, dx, dy),
            Event::MoveTo {
                x,
                y,
                width,
                height,
            } => self.move_to(&mut out, x, y, width, height),
            Event::Button { button, pressed } => {
                self.button(&mut out, Button::evdev_code(button), pressed)
            }
            Event::Scroll { amount } => {
                // evdev's wheel, like the protocols', counts positive away from the user.
                wheel(
                    &mut out,
                    &mut self.vertical,
                    REL_WHEEL_HI_RES,
                    REL_WHEEL,
                    amount,
                )
            }
            Event::ScrollHorizontal { amount } => wheel(
                &mut out,
                &mut self.horizontal,
                REL_HWHEEL_HI_RES,
                REL_HWHEEL,
                amount,
            ),
            Event::Key { vk, pressed, .. } => {
                let key = evdev_from_vk(vk).ok_or(KbmError::UnmappedKey(vk))?;
                self.key(&mut out, key, pressed);
            }
            Event::Text(ref text) => self.type_text(&mut out, text)?,
            Event::Touch { id, phase, x, y } => self.touch(&mut out, id, phase, x, y),
            Event::TouchCancelAll => {
                if let Some(id) = self.touch_finger {
                    self.touch(&mut out, id, TouchPhase::Cancel, 0.0, 0.0);
                }
            }
        }
        Ok(out.0)
    }

    /// The events that let go of every key and button held, one frame per device; the
    /// wheels' partial notches are dropped too.
    pub fn release_all(&mut self) -> Emitted {
        let mut out = Out::default();
        self.touch_finger = None;
        for key in std::mem::take(&mut self.held_keys) {
            out.event(Target::KeyboardMouse, EV_KEY, key, KEY_RELEASED);
        }
        let buttons = std::mem::take(&mut self.held_buttons);
        for target in Target::ALL {
            for (&button, _) in buttons.iter().filter(|(_, &t)| t == target) {
                out.event(target, EV_KEY, button, KEY_RELEASED);
            }
            if out.0.iter().any(|&(t, _)| t == target) {
                out.frame(target);
            }
        }
        self.vertical.reset();
        self.horizontal.reset();
        out.0
    }

    fn move_by(&mut self, out: &mut Out, dx: i32, dy: i32) {
        if dx == 0 && dy == 0 {
            return;
        }
        let target = Target::KeyboardMouse;
        if dx != 0 {
            out.event(target, EV_REL, REL_X, dx);
        }
        if dy != 0 {
            out.event(target, EV_REL, REL_Y, dy);
        }
        out.frame(target);
        self.pointer = target;
        self.moved_since_abs = true;
    }

    fn move_to(&mut self, out: &mut Out, x: i32, y: i32, width: u32, height: u32) {
        if width == 0 || height == 0 {
            return; // no picture yet: nowhere to point
        }
        let at = (place(x, width, self.width), place(y, height, self.height));
        self.point_at(out, at);
    }

    /// Moves the absolute pointer to `at`, in the device's units.
    fn point_at(&mut self, out: &mut Out, at: (i32, i32)) {
        let target = Target::AbsolutePointer;
        if self.moved_since_abs && at == self.abs_at {
            // The kernel drops an axis value equal to the last one, so after relative motion
            // moved the pointer away, coming back to the same spot would send nothing at all.
            // One frame a pixel off first makes the real one a change.
            let off = if at.0 > 0 { at.0 - 1 } else { at.0 + 1 };
            out.event(target, EV_ABS, ABS_X, off);
            out.frame(target);
        }
        out.event(target, EV_ABS, ABS_X, at.0);
        out.event(target, EV_ABS, ABS_Y, at.1);
        out.frame(target);
        self.abs_at = at;
        self.moved_since_abs = false;
        self.pointer = target;
    }

    /// One finger drives the absolute pointer, as on the wlroots backend: down moves there and
    /// presses the left button, motion moves, up (or cancel: a click cannot be taken back)
    /// lets go. Other fingers are ignored; uinput gets no touchscreen.
    fn touch(&mut self, out: &mut Out, id: u32, phase: TouchPhase, x: f32, y: f32) {
        let at = |v: f32, size: u32| {
            let v = if v.is_nan() {
                0.0
            } else {
                f64::from(v).clamp(0.0, 1.0)
            };
            (v * f64::from(axis_max(size))).round() as i32
        };
        match phase {
            TouchPhase::Down if self.touch_finger.is_none() => {
                self.touch_finger = Some(id);
                self.point_at(out, (at(x, self.width), at(y, self.height)));
                self.button(out, BTN_LEFT, true);
            }
            TouchPhase::Move if self.touch_finger == Some(id) => {
                self.point_at(out, (at(x, self.width), at(y, self.height)));
            }
            TouchPhase::Up | TouchPhase::Cancel if self.touch_finger == Some(id) => {
                self.touch_finger = None;
                self.button(out, BTN_LEFT, false);
            }
            _ => {}
        }
    }

    fn button(&mut self, out: &mut Out, button: u16, pressed: bool) {
        if pressed {
            if self.held_buttons.contains_key(&button) {
                return; // a mouse button has no repeat
            }
            let target = self.pointer;
            self.held_buttons.insert(button, target);
            out.event(target, EV_KEY, button, KEY_PRESSED);
            out.frame(target);
        } else if let Some(target) = self.held_buttons.remove(&button) {
            out.event(target, EV_KEY, button, KEY_RELEASED);
            out.frame(target);
        }
    }

    /// A key frame: pressed, released, or (pressed while held) the autorepeat a real keyboard
    /// sends. A release of a key not held sends nothing.
    fn key(&mut self, out: &mut Out, key: u16, pressed: bool) {
        let value = if pressed {
            if self.held_keys.insert(key) {
                KEY_PRESSED
            } else {
                KEY_REPEATED
            }
        } else if self.held_keys.remove(&key) {
            KEY_RELEASED
        } else {
            return;
        };
        out.event(Target::KeyboardMouse, EV_KEY, key, value);
        out.frame(Target::KeyboardMouse);
    }

    /// Types ASCII key by key, shift around the characters that need it, through
    /// [`tap_sequence`] (modifiers the client holds let go of meanwhile).
    fn type_text(&mut self, out: &mut Out, text: &str) -> Result<(), KbmError> {
        let strokes = text
            .chars()
            .map(|c| match ascii_key(c) {
                Some(stroke) => Ok(stroke),
                None if c.is_ascii() => Err(KbmError::UntypableText(c)),
                None => Err(KbmError::NonAsciiText(c)),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if strokes.is_empty() {
            return Ok(());
        }
        let strokes: Vec<Stroke> = strokes
            .into_iter()
            .map(|(key, shifted)| Stroke {
                key,
                modifiers: if shifted {
                    vec![evdev::KEY_LEFTSHIFT]
                } else {
                    Vec::new()
                },
            })
            .collect();
        for (key, pressed) in tap_sequence(&strokes, &self.held_keys) {
            self.key(out, key, pressed);
        }
        Ok(())
    }
}

/// A wheel frame: the 1/120 value on the high-resolution axis and, once whole notches have
/// added up, those on the classic one.
fn wheel(out: &mut Out, wheel: &mut Wheel, hi_res: u16, notches: u16, amount: i32) {
    if amount == 0 {
        return;
    }
    let target = Target::KeyboardMouse;
    out.event(target, EV_REL, hi_res, amount);
    let whole = wheel.turn(amount);
    if whole != 0 {
        out.event(target, EV_REL, notches, whole);
    }
    out.frame(target);
}

/// `v` of a `size`-pixel picture, clamped into it, on an axis made for `device_size` pixels
/// (scaled when the client's mode is not the one the device was made for).
fn place(v: i32, size: u32, device_size: u32) -> i32 {
    let max = i128::from(size) - 1;
    let v = i128::from(v).clamp(0, max);
    let device_max = i128::from(axis_max(device_size));
    if max == device_max {
        return v as i32;
    }
    if max == 0 {
        return 0;
    }
    // Rounded to the nearest unit; at most device_max, which is an i32.
    ((v * device_max + max / 2) / max) as i32
}

/// Events being collected.
#[derive(Default)]
struct Out(Emitted);

impl Out {
    fn event(&mut self, target: Target, kind: u16, code: u16, value: i32) {
        self.0.push((target, (kind, code, value)));
    }

    fn frame(&mut self, target: Target) {
        self.event(target, EV_SYN, SYN_REPORT, 0);
    }
}

#[cfg(test)]
mod tests;
