//! Linux input codes this backend sends, and the US-layout keys behind ASCII text.
//!
//! Virtual keys go through [`crate::keymap`]; these codes are what ASCII text needs.

/// Codes from linux/input-event-codes.h.
pub(crate) mod code {
    pub const KEY_MINUS: u16 = 12;
    pub const KEY_EQUAL: u16 = 13;
    pub const KEY_TAB: u16 = 15;
    pub const KEY_LEFTBRACE: u16 = 26;
    pub const KEY_RIGHTBRACE: u16 = 27;
    pub const KEY_ENTER: u16 = 28;
    pub const KEY_LEFTCTRL: u16 = 29;
    pub const KEY_SEMICOLON: u16 = 39;
    pub const KEY_APOSTROPHE: u16 = 40;
    pub const KEY_GRAVE: u16 = 41;
    pub const KEY_LEFTSHIFT: u16 = 42;
    pub const KEY_BACKSLASH: u16 = 43;
    pub const KEY_COMMA: u16 = 51;
    pub const KEY_DOT: u16 = 52;
    pub const KEY_SLASH: u16 = 53;
    pub const KEY_RIGHTSHIFT: u16 = 54;
    pub const KEY_LEFTALT: u16 = 56;
    pub const KEY_SPACE: u16 = 57;
    pub const KEY_CAPSLOCK: u16 = 58;
    pub const KEY_RIGHTCTRL: u16 = 97;
    pub const KEY_RIGHTALT: u16 = 100;
    pub const KEY_LEFTMETA: u16 = 125;
    pub const KEY_RIGHTMETA: u16 = 126;

    pub const BTN_LEFT: u32 = 0x110;
    pub const BTN_RIGHT: u32 = 0x111;
    pub const BTN_MIDDLE: u32 = 0x112;
    pub const BTN_SIDE: u32 = 0x113;
    pub const BTN_EXTRA: u32 = 0x114;
}

use code::*;

/// KEY_1 … KEY_9 then KEY_0, in the order of the characters '1' … '9', '0'.
const DIGIT_ROW: [u16; 10] = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

/// KEY_A … KEY_Z in alphabetical order (the codes follow the QWERTY rows).
const LETTERS: [u16; 26] = [
    30, 48, 46, 32, 18, 33, 34, 35, 23, 36, 37, 38, 50, 49, 24, 25, 16, 19, 31, 20, 22, 47, 17, 45,
    21, 44,
];

/// Windows virtual-key code → evdev code ([`crate::keymap::evdev_from_vk`]).
pub(crate) fn vk_to_evdev(vk: u16) -> Option<u16> {
    crate::keymap::evdev_from_vk(vk)
}

/// The key that types `c` on a US layout, and whether it needs shift.
pub(crate) fn ascii_key(c: char) -> Option<(u16, bool)> {
    const SHIFTED_DIGITS: &str = ")!@#$%^&*(";
    let plain = |key| Some((key, false));
    let shifted = |key| Some((key, true));
    match c {
        'a'..='z' => plain(LETTERS[c as usize - 'a' as usize]),
        'A'..='Z' => shifted(LETTERS[c as usize - 'A' as usize]),
        '1'..='9' => plain(DIGIT_ROW[c as usize - '1' as usize]),
        '0' => plain(DIGIT_ROW[9]),
        ' ' => plain(KEY_SPACE),
        '\n' => plain(KEY_ENTER),
        '\t' => plain(KEY_TAB),
        '-' => plain(KEY_MINUS),
        '_' => shifted(KEY_MINUS),
        '=' => plain(KEY_EQUAL),
        '+' => shifted(KEY_EQUAL),
        '[' => plain(KEY_LEFTBRACE),
        '{' => shifted(KEY_LEFTBRACE),
        ']' => plain(KEY_RIGHTBRACE),
        '}' => shifted(KEY_RIGHTBRACE),
        ';' => plain(KEY_SEMICOLON),
        ':' => shifted(KEY_SEMICOLON),
        '\'' => plain(KEY_APOSTROPHE),
        '"' => shifted(KEY_APOSTROPHE),
        '`' => plain(KEY_GRAVE),
        '~' => shifted(KEY_GRAVE),
        '\\' => plain(KEY_BACKSLASH),
        '|' => shifted(KEY_BACKSLASH),
        ',' => plain(KEY_COMMA),
        '<' => shifted(KEY_COMMA),
        '.' => plain(KEY_DOT),
        '>' => shifted(KEY_DOT),
        '/' => plain(KEY_SLASH),
        '?' => shifted(KEY_SLASH),
        _ => {
            let digit = SHIFTED_DIGITS.find(c)?;
            shifted(if digit == 0 {
                DIGIT_ROW[9]
            } else {
                DIGIT_ROW[digit - 1]
            })
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_and_digits_follow_input_event_codes() {
        assert_eq!(vk_to_evdev(0x41), Some(30)); // A
        assert_eq!(vk_to_evdev(0x51), Some(16)); // Q
        assert_eq!(vk_to_evdev(0x5A), Some(44)); // Z
        assert_eq!(vk_to_evdev(0x31), Some(2)); // 1
        assert_eq!(vk_to_evdev(0x30), Some(11)); // 0
        assert_eq!(vk_to_evdev(0xFF), None);
    }

    #[test]
    fn text_keys_match_the_virtual_key_map() {
        for c in 'a'..='z' {
            let vk = c.to_ascii_uppercase() as u16;
            assert_eq!(ascii_key(c), Some((vk_to_evdev(vk).unwrap(), false)));
            assert_eq!(
                ascii_key(c.to_ascii_uppercase()),
                Some((vk_to_evdev(vk).unwrap(), true))
            );
        }
        assert_eq!(ascii_key('!'), Some((2, true)));
        assert_eq!(ascii_key(')'), Some((11, true)));
        assert_eq!(ascii_key('\n'), Some((KEY_ENTER, false)));
        assert_eq!(ascii_key('é'), None);
    }

    #[test]
    fn every_printable_ascii_character_has_a_key() {
        for c in (0x20u8..0x7F).map(char::from) {
            assert!(ascii_key(c).is_some(), "{c:?}");
        }
    }
}
