//! Linux input codes this backend sends and which of them are modifiers. Virtual keys go
//! through [`crate::keymap`]; text through the keymap's own keys ([`crate::text_keys`]).

/// Codes from linux/input-event-codes.h.
pub(crate) mod code {
    pub use crate::keymap::evdev::{
        KEY_CAPSLOCK, KEY_LEFTALT, KEY_LEFTCTRL, KEY_LEFTMETA, KEY_LEFTSHIFT, KEY_RIGHTALT,
        KEY_RIGHTCTRL, KEY_RIGHTMETA, KEY_RIGHTSHIFT,
    };
    use crate::linux_input as li;
    /// The button a touch presses while it drives the pointer.
    pub const BTN_LEFT: u32 = li::BTN_LEFT as u32;
}

use code::*;

/// Which modifier an evdev key is, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Modifier {
    Shift,
    Ctrl,
    Alt,
    Meta,
}

pub(crate) fn modifier_of(key: u16) -> Option<Modifier> {
    match key {
        KEY_LEFTSHIFT | KEY_RIGHTSHIFT => Some(Modifier::Shift),
        KEY_LEFTCTRL | KEY_RIGHTCTRL => Some(Modifier::Ctrl),
        KEY_LEFTALT | KEY_RIGHTALT => Some(Modifier::Alt),
        KEY_LEFTMETA | KEY_RIGHTMETA => Some(Modifier::Meta),
        _ => None,
    }
}
