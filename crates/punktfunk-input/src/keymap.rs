//! Windows virtual-key codes (what GameStream and punktfunk clients send) to Linux evdev key
//! codes (`linux/input-event-codes.h`), and ASCII text to the US-layout keys that type it.
//! Punctuation follows the US layout, as the keys' positions do: the compositor's keymap turns
//! positions back into characters.

use crate::event::Modifiers;

/// Linux evdev key codes used below (`KEY_*` in `linux/input-event-codes.h`).
pub mod evdev {
    pub const KEY_ESC: u16 = 1;
    pub const KEY_1: u16 = 2;
    pub const KEY_0: u16 = 11;
    pub const KEY_MINUS: u16 = 12;
    pub const KEY_EQUAL: u16 = 13;
    pub const KEY_BACKSPACE: u16 = 14;
    pub const KEY_TAB: u16 = 15;
    pub const KEY_LEFTBRACE: u16 = 26;
    pub const KEY_RIGHTBRACE: u16 = 27;
    pub const KEY_ENTER: u16 = 28;
    pub const KEY_LEFTCTRL: u16 = 29;
    pub const KEY_A: u16 = 30;
    pub const KEY_SEMICOLON: u16 = 39;
    pub const KEY_APOSTROPHE: u16 = 40;
    pub const KEY_GRAVE: u16 = 41;
    pub const KEY_LEFTSHIFT: u16 = 42;
    pub const KEY_BACKSLASH: u16 = 43;
    pub const KEY_COMMA: u16 = 51;
    pub const KEY_DOT: u16 = 52;
    pub const KEY_SLASH: u16 = 53;
    pub const KEY_RIGHTSHIFT: u16 = 54;
    pub const KEY_KPASTERISK: u16 = 55;
    pub const KEY_LEFTALT: u16 = 56;
    pub const KEY_SPACE: u16 = 57;
    pub const KEY_CAPSLOCK: u16 = 58;
    pub const KEY_F1: u16 = 59;
    pub const KEY_NUMLOCK: u16 = 69;
    pub const KEY_SCROLLLOCK: u16 = 70;
    pub const KEY_KP7: u16 = 71;
    pub const KEY_KP8: u16 = 72;
    pub const KEY_KP9: u16 = 73;
    pub const KEY_KPMINUS: u16 = 74;
    pub const KEY_KP4: u16 = 75;
    pub const KEY_KP5: u16 = 76;
    pub const KEY_KP6: u16 = 77;
    pub const KEY_KPPLUS: u16 = 78;
    pub const KEY_KP1: u16 = 79;
    pub const KEY_KP2: u16 = 80;
    pub const KEY_KP3: u16 = 81;
    pub const KEY_KP0: u16 = 82;
    pub const KEY_KPDOT: u16 = 83;
    pub const KEY_102ND: u16 = 86;
    pub const KEY_F11: u16 = 87;
    pub const KEY_F12: u16 = 88;
    pub const KEY_HENKAN: u16 = 92;
    pub const KEY_MUHENKAN: u16 = 94;
    pub const KEY_RIGHTCTRL: u16 = 97;
    pub const KEY_KPSLASH: u16 = 98;
    pub const KEY_SYSRQ: u16 = 99;
    pub const KEY_RIGHTALT: u16 = 100;
    pub const KEY_HOME: u16 = 102;
    pub const KEY_UP: u16 = 103;
    pub const KEY_PAGEUP: u16 = 104;
    pub const KEY_LEFT: u16 = 105;
    pub const KEY_RIGHT: u16 = 106;
    pub const KEY_END: u16 = 107;
    pub const KEY_DOWN: u16 = 108;
    pub const KEY_PAGEDOWN: u16 = 109;
    pub const KEY_INSERT: u16 = 110;
    pub const KEY_DELETE: u16 = 111;
    pub const KEY_MUTE: u16 = 113;
    pub const KEY_VOLUMEDOWN: u16 = 114;
    pub const KEY_VOLUMEUP: u16 = 115;
    pub const KEY_PAUSE: u16 = 119;
    pub const KEY_KPCOMMA: u16 = 121;
    pub const KEY_HANGEUL: u16 = 122;
    pub const KEY_HANJA: u16 = 123;
    pub const KEY_LEFTMETA: u16 = 125;
    pub const KEY_RIGHTMETA: u16 = 126;
    pub const KEY_COMPOSE: u16 = 127;
    pub const KEY_STOP: u16 = 128;
    pub const KEY_HELP: u16 = 138;
    pub const KEY_CALC: u16 = 140;
    pub const KEY_SLEEP: u16 = 142;
    pub const KEY_MAIL: u16 = 155;
    pub const KEY_BOOKMARKS: u16 = 156;
    pub const KEY_COMPUTER: u16 = 157;
    pub const KEY_BACK: u16 = 158;
    pub const KEY_FORWARD: u16 = 159;
    pub const KEY_NEXTSONG: u16 = 163;
    pub const KEY_PLAYPAUSE: u16 = 164;
    pub const KEY_PREVIOUSSONG: u16 = 165;
    pub const KEY_STOPCD: u16 = 166;
    pub const KEY_HOMEPAGE: u16 = 172;
    pub const KEY_REFRESH: u16 = 173;
    pub const KEY_F13: u16 = 183;
    pub const KEY_PRINT: u16 = 210;
    pub const KEY_SEARCH: u16 = 217;
    pub const KEY_MEDIA: u16 = 226;
    pub const KEY_SELECT: u16 = 0x161;
    pub const KEY_CLEAR: u16 = 0x163;
}

/// Keys that change what other keys type (shift, control, alt/AltGr, meta, left and right).
pub const MODIFIER_KEYS: [u16; 8] = [
    evdev::KEY_LEFTSHIFT,
    evdev::KEY_RIGHTSHIFT,
    evdev::KEY_LEFTCTRL,
    evdev::KEY_RIGHTCTRL,
    evdev::KEY_LEFTALT,
    evdev::KEY_RIGHTALT,
    evdev::KEY_LEFTMETA,
    evdev::KEY_RIGHTMETA,
];

/// Windows virtual-key codes (`VK_*` in `winuser.h`) that are not plain letters or digits.
pub mod vk {
    pub const BACK: u8 = 0x08;
    pub const TAB: u8 = 0x09;
    pub const CLEAR: u8 = 0x0C;
    pub const RETURN: u8 = 0x0D;
    /// Generic shift / control / alt (the left key is injected).
    pub const SHIFT: u8 = 0x10;
    pub const CONTROL: u8 = 0x11;
    pub const MENU: u8 = 0x12;
    pub const PAUSE: u8 = 0x13;
    pub const CAPITAL: u8 = 0x14;
    pub const HANGUL: u8 = 0x15;
    pub const HANJA: u8 = 0x19;
    pub const ESCAPE: u8 = 0x1B;
    pub const CONVERT: u8 = 0x1C;
    pub const NONCONVERT: u8 = 0x1D;
    pub const SPACE: u8 = 0x20;
    pub const PRIOR: u8 = 0x21;
    pub const NEXT: u8 = 0x22;
    pub const END: u8 = 0x23;
    pub const HOME: u8 = 0x24;
    pub const LEFT: u8 = 0x25;
    pub const UP: u8 = 0x26;
    pub const RIGHT: u8 = 0x27;
    pub const DOWN: u8 = 0x28;
    pub const SELECT: u8 = 0x29;
    pub const PRINT: u8 = 0x2A;
    pub const SNAPSHOT: u8 = 0x2C;
    pub const INSERT: u8 = 0x2D;
    pub const DELETE: u8 = 0x2E;
    pub const HELP: u8 = 0x2F;
    pub const DIGIT_0: u8 = 0x30;
    pub const DIGIT_9: u8 = 0x39;
    pub const LETTER_A: u8 = 0x41;
    pub const LETTER_Z: u8 = 0x5A;
    pub const LWIN: u8 = 0x5B;
    pub const RWIN: u8 = 0x5C;
    pub const APPS: u8 = 0x5D;
    pub const SLEEP: u8 = 0x5F;
    pub const NUMPAD0: u8 = 0x60;
    pub const NUMPAD9: u8 = 0x69;
    pub const MULTIPLY: u8 = 0x6A;
    pub const ADD: u8 = 0x6B;
    pub const SEPARATOR: u8 = 0x6C;
    pub const SUBTRACT: u8 = 0x6D;
    pub const DECIMAL: u8 = 0x6E;
    pub const DIVIDE: u8 = 0x6F;
    pub const F1: u8 = 0x70;
    pub const F10: u8 = 0x79;
    pub const F11: u8 = 0x7A;
    pub const F12: u8 = 0x7B;
    pub const F13: u8 = 0x7C;
    pub const F24: u8 = 0x87;
    pub const NUMLOCK: u8 = 0x90;
    pub const SCROLL: u8 = 0x91;
    pub const LSHIFT: u8 = 0xA0;
    pub const RSHIFT: u8 = 0xA1;
    pub const LCONTROL: u8 = 0xA2;
    pub const RCONTROL: u8 = 0xA3;
    pub const LMENU: u8 = 0xA4;
    pub const RMENU: u8 = 0xA5;
    pub const BROWSER_BACK: u8 = 0xA6;
    pub const BROWSER_FORWARD: u8 = 0xA7;
    pub const BROWSER_REFRESH: u8 = 0xA8;
    pub const BROWSER_STOP: u8 = 0xA9;
    pub const BROWSER_SEARCH: u8 = 0xAA;
    pub const BROWSER_FAVORITES: u8 = 0xAB;
    pub const BROWSER_HOME: u8 = 0xAC;
    pub const VOLUME_MUTE: u8 = 0xAD;
    pub const VOLUME_DOWN: u8 = 0xAE;
    pub const VOLUME_UP: u8 = 0xAF;
    pub const MEDIA_NEXT_TRACK: u8 = 0xB0;
    pub const MEDIA_PREV_TRACK: u8 = 0xB1;
    pub const MEDIA_STOP: u8 = 0xB2;
    pub const MEDIA_PLAY_PAUSE: u8 = 0xB3;
    pub const LAUNCH_MAIL: u8 = 0xB4;
    pub const LAUNCH_MEDIA_SELECT: u8 = 0xB5;
    pub const LAUNCH_APP1: u8 = 0xB6;
    pub const LAUNCH_APP2: u8 = 0xB7;
    /// `;:` on the US layout.
    pub const OEM_1: u8 = 0xBA;
    /// `=+`.
    pub const OEM_PLUS: u8 = 0xBB;
    pub const OEM_COMMA: u8 = 0xBC;
    pub const OEM_MINUS: u8 = 0xBD;
    pub const OEM_PERIOD: u8 = 0xBE;
    /// `/?`.
    pub const OEM_2: u8 = 0xBF;
    /// `` `~ ``.
    pub const OEM_3: u8 = 0xC0;
    /// `[{`.
    pub const OEM_4: u8 = 0xDB;
    /// `\|`.
    pub const OEM_5: u8 = 0xDC;
    /// `]}`.
    pub const OEM_6: u8 = 0xDD;
    /// `'"`.
    pub const OEM_7: u8 = 0xDE;
    /// The extra key left of Z on ISO keyboards (`<>`).
    pub const OEM_102: u8 = 0xE2;
}

/// Letters A..Z in virtual-key order; evdev numbers them by keyboard row, not alphabet.
const LETTERS: [u16; 26] = [
    30, 48, 46, 32, 18, 33, 34, 35, 23, 36, 37, 38, 50, // A..M
    49, 24, 25, 16, 19, 31, 20, 22, 47, 17, 45, 21, 44, // N..Z
];

/// Numpad 0..9 in virtual-key order.
const NUMPAD: [u16; 10] = [
    evdev::KEY_KP0,
    evdev::KEY_KP1,
    evdev::KEY_KP2,
    evdev::KEY_KP3,
    evdev::KEY_KP4,
    evdev::KEY_KP5,
    evdev::KEY_KP6,
    evdev::KEY_KP7,
    evdev::KEY_KP8,
    evdev::KEY_KP9,
];

/// The evdev key for a Windows virtual-key code, or `None` for keys Linux has no match for.
/// Only the low byte counts: clients may set flag bits (e.g. 0x8000) above it.
pub fn evdev_from_vk(vk: u16) -> Option<u16> {
    let code = (vk & 0xFF) as u8;
    match code {
        vk::LETTER_A..=vk::LETTER_Z => Some(LETTERS[usize::from(code - vk::LETTER_A)]),
        vk::DIGIT_0 => Some(evdev::KEY_0),
        // evdev's 1..9 are consecutive, 0 comes after 9.
        0x31..=vk::DIGIT_9 => Some(evdev::KEY_1 + u16::from(code - 0x31)),
        vk::NUMPAD0..=vk::NUMPAD9 => Some(NUMPAD[usize::from(code - vk::NUMPAD0)]),
        vk::F1..=vk::F10 => Some(evdev::KEY_F1 + u16::from(code - vk::F1)),
        vk::F11 => Some(evdev::KEY_F11),
        vk::F12 => Some(evdev::KEY_F12),
        vk::F13..=vk::F24 => Some(evdev::KEY_F13 + u16::from(code - vk::F13)),
        _ => named_key(code),
    }
}

/// Keys that are not part of a contiguous run.
fn named_key(code: u8) -> Option<u16> {
    use evdev::*;
    Some(match code {
        vk::BACK => KEY_BACKSPACE,
        vk::TAB => KEY_TAB,
        vk::CLEAR => KEY_CLEAR,
        vk::RETURN => KEY_ENTER,
        vk::SHIFT | vk::LSHIFT => KEY_LEFTSHIFT,
        vk::CONTROL | vk::LCONTROL => KEY_LEFTCTRL,
        vk::MENU | vk::LMENU => KEY_LEFTALT,
        vk::RSHIFT => KEY_RIGHTSHIFT,
        vk::RCONTROL => KEY_RIGHTCTRL,
        vk::RMENU => KEY_RIGHTALT,
        vk::PAUSE => KEY_PAUSE,
        vk::CAPITAL => KEY_CAPSLOCK,
        vk::HANGUL => KEY_HANGEUL,
        vk::HANJA => KEY_HANJA,
        vk::ESCAPE => KEY_ESC,
        vk::CONVERT => KEY_HENKAN,
        vk::NONCONVERT => KEY_MUHENKAN,
        vk::SPACE => KEY_SPACE,
        vk::PRIOR => KEY_PAGEUP,
        vk::NEXT => KEY_PAGEDOWN,
        vk::END => KEY_END,
        vk::HOME => KEY_HOME,
        vk::LEFT => KEY_LEFT,
        vk::UP => KEY_UP,
        vk::RIGHT => KEY_RIGHT,
        vk::DOWN => KEY_DOWN,
        vk::SELECT => KEY_SELECT,
        vk::PRINT => KEY_PRINT,
        // Print Screen: keyboards send SysRq's code for it.
        vk::SNAPSHOT => KEY_SYSRQ,
        vk::INSERT => KEY_INSERT,
        vk::DELETE => KEY_DELETE,
        vk::HELP => KEY_HELP,
        vk::LWIN => KEY_LEFTMETA,
        vk::RWIN => KEY_RIGHTMETA,
        vk::APPS => KEY_COMPOSE,
        vk::SLEEP => KEY_SLEEP,
        vk::MULTIPLY => KEY_KPASTERISK,
        vk::ADD => KEY_KPPLUS,
        vk::SEPARATOR => KEY_KPCOMMA,
        vk::SUBTRACT => KEY_KPMINUS,
        vk::DECIMAL => KEY_KPDOT,
        vk::DIVIDE => KEY_KPSLASH,
        vk::NUMLOCK => KEY_NUMLOCK,
        vk::SCROLL => KEY_SCROLLLOCK,
        vk::BROWSER_BACK => KEY_BACK,
        vk::BROWSER_FORWARD => KEY_FORWARD,
        vk::BROWSER_REFRESH => KEY_REFRESH,
        vk::BROWSER_STOP => KEY_STOP,
        vk::BROWSER_SEARCH => KEY_SEARCH,
        vk::BROWSER_FAVORITES => KEY_BOOKMARKS,
        vk::BROWSER_HOME => KEY_HOMEPAGE,
        vk::VOLUME_MUTE => KEY_MUTE,
        vk::VOLUME_DOWN => KEY_VOLUMEDOWN,
        vk::VOLUME_UP => KEY_VOLUMEUP,
        vk::MEDIA_NEXT_TRACK => KEY_NEXTSONG,
        vk::MEDIA_PREV_TRACK => KEY_PREVIOUSSONG,
        vk::MEDIA_STOP => KEY_STOPCD,
        vk::MEDIA_PLAY_PAUSE => KEY_PLAYPAUSE,
        vk::LAUNCH_MAIL => KEY_MAIL,
        vk::LAUNCH_MEDIA_SELECT => KEY_MEDIA,
        vk::LAUNCH_APP1 => KEY_COMPUTER,
        vk::LAUNCH_APP2 => KEY_CALC,
        vk::OEM_1 => KEY_SEMICOLON,
        vk::OEM_PLUS => KEY_EQUAL,
        vk::OEM_COMMA => KEY_COMMA,
        vk::OEM_MINUS => KEY_MINUS,
        vk::OEM_PERIOD => KEY_DOT,
        vk::OEM_2 => KEY_SLASH,
        vk::OEM_3 => KEY_GRAVE,
        vk::OEM_4 => KEY_LEFTBRACE,
        vk::OEM_5 => KEY_BACKSLASH,
        vk::OEM_6 => KEY_RIGHTBRACE,
        vk::OEM_7 => KEY_APOSTROPHE,
        vk::OEM_102 => KEY_102ND,
        _ => return None,
    })
}

/// The key that types the ASCII character `c` on a US layout, and whether it needs shift;
/// `None` for anything else (non-ASCII, and control characters but newline and tab). A key
/// is a position: the keymap of whoever reads it decides the character, so this is right
/// only where that keymap is US.
pub fn ascii_key(c: char) -> Option<(u16, bool)> {
    use evdev::*;
    const SHIFTED_DIGITS: &str = ")!@#$%^&*(";
    // evdev's 1..9 are consecutive, 0 comes after 9.
    let digit = |d: usize| match d {
        0 => KEY_0,
        d => KEY_1 + d as u16 - 1,
    };
    let plain = |key| Some((key, false));
    let shifted = |key| Some((key, true));
    match c {
        'a'..='z' => plain(LETTERS[c as usize - 'a' as usize]),
        'A'..='Z' => shifted(LETTERS[c as usize - 'A' as usize]),
        '0'..='9' => plain(digit(c as usize - '0' as usize)),
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
        _ => shifted(digit(SHIFTED_DIGITS.find(c)?)),
    }
}

/// The (left-hand) evdev keys for the modifiers a client says are held, in the order
/// shift, ctrl, alt, meta.
pub fn modifier_evdev(m: &Modifiers) -> Vec<u16> {
    [
        (m.shift, evdev::KEY_LEFTSHIFT),
        (m.ctrl, evdev::KEY_LEFTCTRL),
        (m.alt, evdev::KEY_LEFTALT),
        (m.meta, evdev::KEY_LEFTMETA),
    ]
    .into_iter()
    .filter_map(|(held, key)| held.then_some(key))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// (virtual key, evdev code) pairs checked by hand against `winuser.h` and
    /// `input-event-codes.h`.
    const KNOWN: &[(u16, u16)] = &[
        (0x41, 30),  // A
        (0x42, 48),  // B
        (0x43, 46),  // C
        (0x4D, 50),  // M
        (0x51, 16),  // Q
        (0x5A, 44),  // Z
        (0x30, 11),  // 0
        (0x31, 2),   // 1
        (0x39, 10),  // 9
        (0x70, 59),  // F1
        (0x79, 68),  // F10
        (0x7A, 87),  // F11
        (0x7B, 88),  // F12
        (0x7C, 183), // F13
        (0x87, 194), // F24
        (0x25, 105), // left
        (0x26, 103), // up
        (0x27, 106), // right
        (0x28, 108), // down
        (0x24, 102), // home
        (0x23, 107), // end
        (0x21, 104), // page up
        (0x22, 109), // page down
        (0x2D, 110), // insert
        (0x2E, 111), // delete
        (0x0D, 28),  // enter
        (0x1B, 1),   // escape
        (0x08, 14),  // backspace
        (0x09, 15),  // tab
        (0x20, 57),  // space
        (0x10, 42),  // shift → left shift
        (0x11, 29),  // control → left ctrl
        (0x12, 56),  // alt → left alt
        (0xA0, 42),  // left shift
        (0xA1, 54),  // right shift
        (0xA2, 29),  // left ctrl
        (0xA3, 97),  // right ctrl
        (0xA4, 56),  // left alt
        (0xA5, 100), // right alt
        (0x5B, 125), // left win
        (0x5C, 126), // right win
        (0x14, 58),  // caps lock
        (0x90, 69),  // num lock
        (0x91, 70),  // scroll lock
        (0x60, 82),  // numpad 0
        (0x61, 79),  // numpad 1
        (0x65, 76),  // numpad 5
        (0x69, 73),  // numpad 9
        (0x6A, 55),  // numpad *
        (0x6B, 78),  // numpad +
        (0x6D, 74),  // numpad -
        (0x6E, 83),  // numpad .
        (0x6F, 98),  // numpad /
        (0xBA, 39),  // ;
        (0xBB, 13),  // =
        (0xBC, 51),  // ,
        (0xBD, 12),  // -
        (0xBE, 52),  // .
        (0xBF, 53),  // /
        (0xC0, 41),  // `
        (0xDB, 26),  // [
        (0xDC, 43),  // backslash
        (0xDD, 27),  // ]
        (0xDE, 40),  // '
        (0xE2, 86),  // ISO <>
        (0x2C, 99),  // print screen
        (0x13, 119), // pause
        (0xAD, 113), // mute
        (0xAE, 114), // volume down
        (0xAF, 115), // volume up
        (0xB0, 163), // next track
        (0xB1, 165), // previous track
        (0xB2, 166), // stop
        (0xB3, 164), // play/pause
    ];

    #[test]
    fn known_pairs() {
        for &(vk, key) in KNOWN {
            assert_eq!(evdev_from_vk(vk), Some(key), "vk {vk:#04x}");
        }
    }

    #[test]
    fn flag_bits_above_the_low_byte_are_ignored() {
        for &(vk, key) in KNOWN {
            assert_eq!(evdev_from_vk(vk | 0x8000), Some(key), "vk {vk:#04x}");
            assert_eq!(evdev_from_vk(vk | 0xFF00), Some(key), "vk {vk:#04x}");
        }
    }

    #[test]
    fn unmapped_codes_are_none() {
        for vk in [0x00, 0x01, 0x07, 0x0A, 0x3A, 0x40, 0x5E, 0x88, 0xFF] {
            assert_eq!(evdev_from_vk(vk), None, "vk {vk:#04x}");
        }
    }

    #[test]
    fn every_mapped_code_is_unique_except_generic_modifiers() {
        let generic = [vk::SHIFT, vk::CONTROL, vk::MENU];
        let mut seen: HashMap<u16, u16> = HashMap::new();
        for vk in 0..=0xFFu16 {
            if generic.contains(&(vk as u8)) {
                continue;
            }
            if let Some(key) = evdev_from_vk(vk) {
                if let Some(previous) = seen.insert(key, vk) {
                    panic!("evdev {key} from both vk {previous:#04x} and {vk:#04x}");
                }
            }
        }
        // Letters, digits, F1–F24 and numpad digits alone are 26 + 10 + 24 + 10.
        assert!(seen.len() >= 70 + 40, "only {} keys mapped", seen.len());
    }

    #[test]
    fn generic_modifiers_are_the_left_keys() {
        assert_eq!(evdev_from_vk(0x10), evdev_from_vk(0xA0));
        assert_eq!(evdev_from_vk(0x11), evdev_from_vk(0xA2));
        assert_eq!(evdev_from_vk(0x12), evdev_from_vk(0xA4));
    }

    #[test]
    fn modifiers_in_order() {
        assert!(modifier_evdev(&Modifiers::default()).is_empty());
        let all = Modifiers {
            shift: true,
            ctrl: true,
            alt: true,
            meta: true,
        };
        assert_eq!(modifier_evdev(&all), vec![42, 29, 56, 125]);
        let ctrl_meta = Modifiers {
            ctrl: true,
            meta: true,
            ..Modifiers::default()
        };
        assert_eq!(modifier_evdev(&ctrl_meta), vec![29, 125]);
    }

    #[test]
    fn text_keys_match_the_virtual_key_map() {
        for c in 'a'..='z' {
            let key = evdev_from_vk(c.to_ascii_uppercase() as u16).unwrap();
            assert_eq!(ascii_key(c), Some((key, false)));
            assert_eq!(ascii_key(c.to_ascii_uppercase()), Some((key, true)));
        }
        for c in '0'..='9' {
            assert_eq!(
                ascii_key(c),
                Some((evdev_from_vk(c as u16).unwrap(), false))
            );
        }
        assert_eq!(ascii_key('!'), Some((2, true)));
        assert_eq!(ascii_key(')'), Some((11, true)));
        assert_eq!(ascii_key('\n'), Some((evdev::KEY_ENTER, false)));
        assert_eq!(ascii_key('\r'), None);
        assert_eq!(ascii_key('é'), None);
    }

    #[test]
    fn ascii_keys_type_their_character_on_the_us_xkb_keymap() {
        use xkbcommon::xkb;
        let us = crate::text_keys::layout_keymap("us").expect("the US layout compiles");
        // XKB codes are evdev codes plus 8.
        let xkb_key = |code: u16| xkb::Keycode::new(u32::from(code) + 8);
        for c in (' '..='~').chain(['\n', '\t']) {
            let (key, shifted) = ascii_key(c).unwrap();
            let mut state = xkb::State::new(&us);
            if shifted {
                state.update_key(xkb_key(evdev::KEY_LEFTSHIFT), xkb::KeyDirection::Down);
            }
            let typed = char::from_u32(state.key_get_utf32(xkb_key(key)));
            // Return's keysym is a carriage return.
            let wanted = if c == '\n' { '\r' } else { c };
            assert_eq!(typed, Some(wanted), "{c:?} via {key} (shift: {shifted})");
        }
    }

    #[test]
    fn every_printable_ascii_character_has_a_key() {
        for c in (0x20u8..0x7F).map(char::from) {
            assert!(ascii_key(c).is_some(), "{c:?}");
        }
    }

    proptest! {
        #[test]
        fn any_u16_is_safe_and_depends_on_the_low_byte_only(vk: u16) {
            let key = evdev_from_vk(vk);
            prop_assert_eq!(key, evdev_from_vk(vk & 0xFF));
            if let Some(key) = key {
                // Everything mapped is a real keyboard key (below BTN_MISC or KEY_OK range).
                prop_assert!((1..0x2FF).contains(&key));
                prop_assert!(!(0x100..0x160).contains(&key), "a BTN_* code: {}", key);
            }
        }
    }
}
