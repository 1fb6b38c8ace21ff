//! The wlroots backend: a virtual pointer (zwlr_virtual_pointer_v1) pinned to one output and a
//! virtual keyboard (zwp_virtual_keyboard_v1) with a US keymap, on a running wlroots compositor
//! such as Sway.
//!
//! Everything held (keys, buttons) is tracked so [`WlrInput::release_all`] (also run on drop)
//! can let go of it: a client that vanishes mid-press must not leave a key repeating.

mod extra_keys;
mod keys;
mod wayland;

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use wayland_client::protocol::wl_pointer;
use wayland_client::protocol::wl_seat::WlSeat;
use wayland_client::{Connection, EventQueue};
use wayland_protocols_misc::zwp_virtual_keyboard_v1::client::{
    zwp_virtual_keyboard_manager_v1::ZwpVirtualKeyboardManagerV1,
    zwp_virtual_keyboard_v1::ZwpVirtualKeyboardV1,
};
use wayland_protocols_wlr::virtual_pointer::v1::client::{
    zwlr_virtual_pointer_manager_v1::ZwlrVirtualPointerManagerV1,
    zwlr_virtual_pointer_v1::ZwlrVirtualPointerV1,
};
use xkbcommon::xkb;

use crate::event::{Event, TouchPhase};
use crate::text_keys::{lifted_modifiers, Stroke, TextKeys};
use extra_keys::ExtraKeys;
use keys::{code, Modifier};
use wayland::State;

/// wl_keyboard.keymap_format.xkb_v1
const KEYMAP_FORMAT_XKB_V1: u32 = 1;
/// wl_keyboard.key_state
const KEY_RELEASED: u32 = 0;
const KEY_PRESSED: u32 = 1;
/// Protocol clients send scroll in 1/120 notches; one notch scrolls 15 surface units, as a
/// libinput wheel click does.
const NOTCH: i32 = 120;
const SCROLL_UNITS_PER_NOTCH: f64 = 15.0;
/// create_virtual_pointer_with_output arrived in version 2.
const POINTER_MANAGER_VERSION: u32 = 2;

/// What can go wrong talking to the compositor.
#[derive(Debug, thiserror::Error)]
pub enum WlrError {
    #[error("no Wayland socket: {0} is not set")]
    NoSocket(&'static str),
    #[error("connecting to {path}: {source}")]
    Connect {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("Wayland connection: {0}")]
    Connection(String),
    #[error("the compositor lacks {0}")]
    MissingGlobal(&'static str),
    #[error("no output {name:?}; the compositor has {available:?}")]
    OutputNotFound {
        name: String,
        available: Vec<String>,
    },
    #[error("keymap: {0}")]
    Keymap(String),
    #[error("no evdev key for virtual-key code {0:#04x}")]
    UnmappedKey(u16),
    #[error("cannot type {0:?}: {1}")]
    UnsupportedText(char, String),
}

/// The modifier bits of the uploaded keymap, looked up once.
#[derive(Debug, Clone, Copy)]
struct ModifierMasks {
    shift: u32,
    caps: u32,
    ctrl: u32,
    alt: u32,
    meta: u32,
}

/// A virtual pointer and keyboard on a wlroots compositor.
///
/// Keep one for as long as input may come: on a seat with no other keyboard (a headless
/// compositor), clients only ask for a wl_keyboard once they see this one appear, so keys sent
/// in the first moments after [`WlrInput::connect`] can reach nobody.
pub struct WlrInput {
    conn: Connection,
    queue: EventQueue<State>,
    state: State,
    pointer: ZwlrVirtualPointerV1,
    keyboard: ZwpVirtualKeyboardV1,
    masks: ModifierMasks,
    held_keys: BTreeSet<u16>,
    held_buttons: BTreeSet<u32>,
    caps_locked: bool,
    /// The uploaded US keymap as text, the keys it types characters with, and the names of
    /// the spare keys other characters go on.
    keymap_text: String,
    text_keys: TextKeys,
    slot_names: Vec<String>,
    extra: ExtraKeys,
    /// The finger that drives the pointer while the client touches (wlroots has no virtual
    /// touch device).
    touch_finger: Option<u32>,
}

impl WlrInput {
    /// Connects to the compositor at `socket` (a path, or a name in `XDG_RUNTIME_DIR`; by
    /// default `WAYLAND_DISPLAY`) and creates the virtual devices. Absolute motion lands on
    /// `output_name` when given, else on the whole layout.
    pub fn connect(socket: Option<&Path>, output_name: Option<&str>) -> Result<Self, WlrError> {
        let path =
            crate::socket::socket_path(socket, "WAYLAND_DISPLAY").map_err(WlrError::NoSocket)?;
        let stream = UnixStream::connect(&path).map_err(|source| WlrError::Connect {
            path: path.clone(),
            source,
        })?;
        let conn = Connection::from_socket(stream).map_err(wayland::connection_error)?;
        let (globals, mut queue) = wayland_client::globals::registry_queue_init::<State>(&conn)
            .map_err(wayland::connection_error)?;
        let qh = queue.handle();
        let mut state = State::default();

        let seat: WlSeat = globals
            .bind(&qh, 1..=1, ())
            .map_err(|_| WlrError::MissingGlobal("wl_seat"))?;
        let pointer_manager: ZwlrVirtualPointerManagerV1 = globals
            .bind(&qh, POINTER_MANAGER_VERSION..=POINTER_MANAGER_VERSION, ())
            .map_err(|_| WlrError::MissingGlobal("zwlr_virtual_pointer_manager_v1 version 2"))?;
        let keyboard_manager: ZwpVirtualKeyboardManagerV1 = globals
            .bind(&qh, 1..=1, ())
            .map_err(|_| WlrError::MissingGlobal("zwp_virtual_keyboard_manager_v1"))?;
        let output = match output_name {
            Some(name) => Some(wayland::find_output(
                &globals, &mut queue, &mut state, name,
            )?),
            None => None,
        };

        let pointer = pointer_manager.create_virtual_pointer_with_output(
            Some(&seat),
            output.as_ref(),
            &qh,
            (),
        );
        let keyboard = keyboard_manager.create_virtual_keyboard(&seat, &qh, ());
        let UsKeymap {
            text: keymap,
            masks,
            text_keys,
            slot_names,
        } = us_keymap()?;
        upload_keymap(&keyboard, &keymap)?;
        // A roundtrip makes any refusal (e.g. an unauthorized keyboard) show up here.
        queue
            .roundtrip(&mut state)
            .map_err(wayland::connection_error)?;
        Ok(Self {
            conn,
            queue,
            state,
            pointer,
            keyboard,
            masks,
            held_keys: BTreeSet::new(),
            held_buttons: BTreeSet::new(),
            caps_locked: false,
            keymap_text: keymap,
            text_keys,
            slot_names,
            extra: ExtraKeys::default(),
            touch_finger: None,
        })
    }

    /// Injects one event and flushes it to the compositor.
    pub fn inject(&mut self, event: &Event) -> Result<(), WlrError> {
        let time = self.now_ms();
        match event {
            Event::MoveBy { dx, dy } => {
                self.pointer.motion(time, f64::from(*dx), f64::from(*dy));
                self.pointer.frame();
            }
            Event::MoveTo {
                x,
                y,
                width,
                height,
            } => {
                if *width == 0 || *height == 0 {
                    return Ok(());
                }
                let x = i64::from(*x).clamp(0, i64::from(*width) - 1) as u32;
                let y = i64::from(*y).clamp(0, i64::from(*height) - 1) as u32;
                self.pointer.motion_absolute(time, x, y, *width, *height);
                self.pointer.frame();
            }
            Event::Button { button, pressed } => {
                self.button(time, u32::from(button.evdev_code()), *pressed)
            }
            Event::Scroll { amount } => {
                // Wayland's vertical axis grows downwards; the protocols' grows away from the user.
                self.scroll(time, wl_pointer::Axis::VerticalScroll, -amount)
            }
            Event::ScrollHorizontal { amount } => {
                self.scroll(time, wl_pointer::Axis::HorizontalScroll, *amount)
            }
            Event::Key { vk, pressed, .. } => {
                let key = crate::keymap::evdev_from_vk(*vk).ok_or(WlrError::UnmappedKey(*vk))?;
                self.key(time, key, *pressed);
            }
            Event::Text(text) => self.type_text(time, text)?,
            Event::Touch { id, phase, x, y } => self.touch_as_pointer(time, *id, *phase, *x, *y),
            Event::TouchCancelAll => {
                if let Some(id) = self.touch_finger {
                    self.touch_as_pointer(time, id, TouchPhase::Cancel, 0.0, 0.0);
                }
            }
        }
        self.flush()
    }

    /// Releases every key and button this backend holds down.
    pub fn release_all(&mut self) -> Result<(), WlrError> {
        let time = self.now_ms();
        self.touch_finger = None;
        for button in std::mem::take(&mut self.held_buttons) {
            self.pointer
                .button(time, button, wl_pointer::ButtonState::Released);
            self.pointer.frame();
        }
        for key in std::mem::take(&mut self.held_keys) {
            self.keyboard.key(time, u32::from(key), KEY_RELEASED);
        }
        self.send_modifiers();
        self.flush()
    }

    fn button(&mut self, time: u32, button: u32, pressed: bool) {
        let state = if pressed {
            self.held_buttons.insert(button);
            wl_pointer::ButtonState::Pressed
        } else {
            self.held_buttons.remove(&button);
            wl_pointer::ButtonState::Released
        };
        self.pointer.button(time, button, state);
        self.pointer.frame();
    }

    fn scroll(&mut self, time: u32, axis: wl_pointer::Axis, amount: i32) {
        if amount == 0 {
            return;
        }
        let (value, notches) = wheel_motion(amount);
        self.pointer.axis_source(wl_pointer::AxisSource::Wheel);
        match notches {
            Some(steps) => self.pointer.axis_discrete(time, axis, value, steps),
            // A fraction of a notch (a high-resolution wheel): no discrete step to report.
            None => self.pointer.axis(time, axis, value),
        }
        self.pointer.frame();
    }

    fn key(&mut self, time: u32, key: u16, pressed: bool) {
        if pressed {
            self.held_keys.insert(key);
            if key == code::KEY_CAPSLOCK {
                self.caps_locked = !self.caps_locked;
            }
        } else {
            self.held_keys.remove(&key);
        }
        let state = if pressed { KEY_PRESSED } else { KEY_RELEASED };
        self.keyboard.key(time, u32::from(key), state);
        if keys::modifier_of(key).is_some() || key == code::KEY_CAPSLOCK {
            self.send_modifiers();
        }
    }

    /// Types text key by key: characters of the US layout with the keys (and shift) that type
    /// them, others on spare keys the keymap is extended with. Modifiers the client holds are
    /// let go of meanwhile; nothing is typed unless every character can be.
    fn type_text(&mut self, time: u32, text: &str) -> Result<(), WlrError> {
        if let Some(c) = text.chars().find(|&c| !typable(c)) {
            return Err(WlrError::UnsupportedText(
                c,
                "control characters other than newline and tab are not typed".into(),
            ));
        }
        let no_keysym = |c: char| xkb::utf32_to_keysym(u32::from(c)).raw() == 0;
        if let Some(c) = text
            .chars()
            .find(|&c| self.text_keys.stroke(c).is_none() && no_keysym(c))
        {
            return Err(WlrError::UnsupportedText(c, "no keysym for it".into()));
        }
        let lifted = lifted_modifiers(&self.held_keys);
        for &m in &lifted {
            self.key(time, m, false);
        }
        for c in text.chars() {
            // Spare keys are resolved one character at a time: a new one may upload a keymap.
            let stroke = match self.text_keys.stroke(c) {
                Some(stroke) => stroke.clone(),
                None => Stroke {
                    key: self.extra_key(c)?,
                    modifiers: Vec::new(),
                },
            };
            // A held key the text taps would only repeat: let go of it first.
            if self.held_keys.contains(&stroke.key) {
                self.key(time, stroke.key, false);
            }
            for (key, pressed) in stroke.taps() {
                self.key(time, key, pressed);
            }
        }
        for &m in &lifted {
            self.key(time, m, true);
        }
        Ok(())
    }

    /// The spare key that types `c`, uploading the keymap again if `c` is new to it.
    fn extra_key(&mut self, c: char) -> Result<u16, WlrError> {
        let (key, upload) = self.extra.key_for(c);
        if upload {
            let names: Vec<(&str, char)> = self
                .extra
                .symbols()
                .into_iter()
                .filter_map(|(key, c)| {
                    let i = extra_keys::SLOTS.iter().position(|s| *s == key)?;
                    Some((self.slot_names.get(i)?.as_str(), c))
                })
                .collect();
            let text = extra_keys::keymap_with(&self.keymap_text, &names)
                .map_err(|why| WlrError::UnsupportedText(c, why))?;
            upload_keymap(&self.keyboard, &text)?;
            // A new keymap starts from a fresh state: say again which modifiers are down.
            self.send_modifiers();
        }
        Ok(key)
    }

    /// One finger drives the pointer: down moves there and presses the left button, motion
    /// moves, up lets go. Other fingers are ignored.
    fn touch_as_pointer(&mut self, time: u32, id: u32, phase: TouchPhase, x: f32, y: f32) {
        const EXTENT: u32 = 1 << 16;
        let at = |v: f32| (v.clamp(0.0, 1.0) * (EXTENT - 1) as f32) as u32;
        match phase {
            TouchPhase::Down if self.touch_finger.is_none() => {
                self.touch_finger = Some(id);
                self.pointer
                    .motion_absolute(time, at(x), at(y), EXTENT, EXTENT);
                self.pointer.frame();
                self.button(time, code::BTN_LEFT, true);
            }
            TouchPhase::Move if self.touch_finger == Some(id) => {
                self.pointer
                    .motion_absolute(time, at(x), at(y), EXTENT, EXTENT);
                self.pointer.frame();
            }
            TouchPhase::Up | TouchPhase::Cancel if self.touch_finger == Some(id) => {
                self.touch_finger = None;
                self.button(time, code::BTN_LEFT, false);
            }
            _ => {}
        }
    }

    fn send_modifiers(&self) {
        let mut depressed = 0;
        for &key in &self.held_keys {
            depressed |= match keys::modifier_of(key) {
                Some(Modifier::Shift) => self.masks.shift,
                Some(Modifier::Ctrl) => self.masks.ctrl,
                Some(Modifier::Alt) => self.masks.alt,
                Some(Modifier::Meta) => self.masks.meta,
                None => 0,
            };
        }
        let locked = if self.caps_locked { self.masks.caps } else { 0 };
        self.keyboard.modifiers(depressed, 0, locked, 0);
    }

    fn flush(&mut self) -> Result<(), WlrError> {
        self.conn.flush().map_err(wayland::connection_error)?;
        // Read what the compositor said meanwhile, so a protocol error surfaces here and its
        // events never pile up in the socket.
        self.queue
            .dispatch_pending(&mut self.state)
            .map_err(wayland::connection_error)?;
        if let Some(guard) = self.queue.prepare_read() {
            // Never blocks: with nothing to read it says WouldBlock, which is fine.
            let _ = guard.read();
        }
        self.queue
            .dispatch_pending(&mut self.state)
            .map_err(wayland::connection_error)?;
        match self.conn.protocol_error() {
            Some(e) => Err(WlrError::Connection(e.to_string())),
            None => Ok(()),
        }
    }

    fn now_ms(&self) -> u32 {
        // The clock real input devices stamp events with (CLOCK_MONOTONIC, in ms), wrapping
        // after 49 days as wl_pointer/wl_keyboard timestamps do.
        let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
        (now.tv_sec as u64 * 1000 + now.tv_nsec as u64 / 1_000_000) as u32
    }
}

impl Drop for WlrInput {
    fn drop(&mut self) {
        let _ = self.release_all();
        // Let the compositor act on the releases before the devices go.
        let _ = self.queue.roundtrip(&mut self.state);
        self.pointer.destroy();
        self.keyboard.destroy();
        let _ = self.conn.flush();
    }
}

/// Scroll distance in surface units for `amount` 1/120 notches, and the whole notches when
/// `amount` is a multiple of one.
fn wheel_motion(amount: i32) -> (f64, Option<i32>) {
    let value = f64::from(amount) * SCROLL_UNITS_PER_NOTCH / f64::from(NOTCH);
    let notches = (amount % NOTCH == 0).then_some(amount / NOTCH);
    (value, notches)
}

/// The US keymap the virtual keyboard starts with.
struct UsKeymap {
    text: String,
    masks: ModifierMasks,
    text_keys: TextKeys,
    /// Key names of [`extra_keys::SLOTS`], in order.
    slot_names: Vec<String>,
}

/// A self-contained US keymap compiled by libxkbcommon, its modifier bits, the keys it types
/// text with and the names of the spare keys.
fn us_keymap() -> Result<UsKeymap, WlrError> {
    let keymap = crate::text_keys::layout_keymap("us")
        .ok_or_else(|| WlrError::Keymap("libxkbcommon could not compile the US layout".into()))?;
    let mask = |name: &str| -> Result<u32, WlrError> {
        let index = keymap.mod_get_index(name);
        if index == xkb::MOD_INVALID || index >= 32 {
            return Err(WlrError::Keymap(format!("no modifier {name}")));
        }
        Ok(1 << index)
    };
    let masks = ModifierMasks {
        shift: mask(xkb::MOD_NAME_SHIFT)?,
        caps: mask(xkb::MOD_NAME_CAPS)?,
        ctrl: mask(xkb::MOD_NAME_CTRL)?,
        alt: mask(xkb::MOD_NAME_ALT)?,
        meta: mask(xkb::MOD_NAME_LOGO)?,
    };
    let slot_names = extra_keys::SLOTS
        .iter()
        .map(|&code| {
            keymap
                .key_get_name(xkb::Keycode::new(u32::from(code) + 8))
                .map(str::to_owned)
                .ok_or_else(|| WlrError::Keymap(format!("no key for evdev code {code}")))
        })
        .collect::<Result<_, _>>()?;
    Ok(UsKeymap {
        text: keymap.get_as_string(xkb::KEYMAP_FORMAT_TEXT_V1),
        masks,
        text_keys: TextKeys::from_keymap(&keymap),
        slot_names,
    })
}

/// Characters text input types: printable ones, newline and tab.
fn typable(c: char) -> bool {
    !c.is_control() || c == '\n' || c == '\t'
}

/// Hands `keymap` to the compositor as the virtual keyboard's keymap.
fn upload_keymap(keyboard: &ZwpVirtualKeyboardV1, keymap: &str) -> Result<(), WlrError> {
    let fd = keymap_memfd(keymap)?;
    keyboard.keymap(KEYMAP_FORMAT_XKB_V1, fd.as_fd(), keymap.len() as u32 + 1);
    Ok(())
}

/// The keymap in a sealed memfd, NUL-terminated as wl_keyboard.keymap expects.
fn keymap_memfd(keymap: &str) -> Result<File, WlrError> {
    use rustix::fs::{fcntl_add_seals, memfd_create, MemfdFlags, SealFlags};
    let keymap_error = |e: std::io::Error| WlrError::Keymap(format!("keymap memfd: {e}"));
    let fd = memfd_create(
        "punktfunk-keymap",
        MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
    )
    .map_err(|e| keymap_error(e.into()))?;
    let mut file = File::from(fd);
    file.write_all(keymap.as_bytes())
        .and_then(|()| file.write_all(&[0]))
        .map_err(keymap_error)?;
    fcntl_add_seals(
        &file,
        SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE | SealFlags::SEAL,
    )
    .map_err(|e| keymap_error(e.into()))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backend_can_move_to_an_input_thread() {
        fn is_send<T: Send>() {}
        is_send::<WlrInput>();
    }

    #[test]
    fn wheel_notches_scroll_fifteen_units_each() {
        assert_eq!(wheel_motion(120), (15.0, Some(1)));
        assert_eq!(wheel_motion(-360), (-45.0, Some(-3)));
        assert_eq!(wheel_motion(60), (7.5, None));
    }

    #[test]
    fn the_us_keymap_compiles_with_distinct_modifiers() {
        let UsKeymap { text, masks: m, .. } = us_keymap().unwrap();
        assert!(text.starts_with("xkb_keymap"));
        let all = [m.shift, m.caps, m.ctrl, m.alt, m.meta];
        for (i, a) in all.iter().enumerate() {
            assert_eq!(a.count_ones(), 1);
            assert!(all[i + 1..].iter().all(|b| a != b));
        }
    }
}
