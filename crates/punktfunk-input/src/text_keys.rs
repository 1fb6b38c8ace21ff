//! Which keys type a character on a given XKB keymap.
//!
//! Backends that can only press keys (an EIS server without `ei_text`, a virtual keyboard)
//! type text by looking each character up in the keymap the compositor interprets the keys
//! with: a German layout types `z` with the key evdev calls `KEY_Y`, and `ä` with
//! `KEY_APOSTROPHE`. The lookup is built once per keymap from libxkbcommon's own tables, so it
//! follows whatever layout, variant and levels the keymap has.

use std::collections::{BTreeSet, HashMap};

use crate::keymap::MODIFIER_KEYS;

use xkbcommon::xkb;

/// XKB keycodes are evdev codes plus 8.
const EVDEV_OFFSET: u32 = 8;

/// Physical keys preferred for a level when several keys select it (the evdev keymap also has
/// keys no keyboard has, such as `<LVL3>`): left shift, right shift, right alt.
const PREFERRED_KEYS: [u16; 3] = [42, 54, 100];

/// The keysyms of keys that shift levels, in the order we prefer them.
const LEVEL_KEYSYMS: [u32; 4] = [
    xkb::keysyms::KEY_Shift_L,
    xkb::keysyms::KEY_Shift_R,
    xkb::keysyms::KEY_ISO_Level3_Shift,
    xkb::keysyms::KEY_ISO_Level5_Shift,
];

/// The keymap of an XKB layout (`"us"`, `"de"`, …) on a standard PC keyboard, compiled by
/// libxkbcommon from the system's xkeyboard-config; `None` when the layout does not exist.
pub fn layout_keymap(layout: &str) -> Option<xkb::Keymap> {
    let context = xkb::Context::new(xkb::CONTEXT_NO_FLAGS);
    xkb::Keymap::new_from_names(
        &context,
        "evdev",
        "pc105",
        layout,
        "",
        None,
        xkb::COMPILE_NO_FLAGS,
    )
}

/// How to type one character: hold `modifiers` (evdev codes, in order), tap `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stroke {
    pub key: u16,
    pub modifiers: Vec<u16>,
}

impl Stroke {
    /// The key events of one stroke: level modifiers down, the key down and up, modifiers up.
    pub fn taps(&self) -> impl Iterator<Item = (u16, bool)> + '_ {
        let down = self.modifiers.iter().map(|&m| (m, true));
        let up = self.modifiers.iter().rev().map(|&m| (m, false));
        down.chain([(self.key, true), (self.key, false)]).chain(up)
    }
}

/// The modifiers among `held`: they would change what text types, so they go up while it is
/// typed and down again after.
pub fn lifted_modifiers(held: &BTreeSet<u16>) -> Vec<u16> {
    MODIFIER_KEYS
        .into_iter()
        .filter(|k| held.contains(k))
        .collect()
}

/// The key events (evdev code, pressed) that type `strokes` while the keys in `held` are
/// down: held modifiers up first and down again at the end, a held key the text taps up for
/// good just before its first tap (a press would only repeat it), each stroke's own taps.
pub fn tap_sequence(strokes: &[Stroke], held: &BTreeSet<u16>) -> Vec<(u16, bool)> {
    let lifted = lifted_modifiers(held);
    let mut out: Vec<(u16, bool)> = lifted.iter().map(|&k| (k, false)).collect();
    let mut let_go = BTreeSet::new();
    for stroke in strokes {
        if held.contains(&stroke.key) && !lifted.contains(&stroke.key) && let_go.insert(stroke.key)
        {
            out.push((stroke.key, false));
        }
        out.extend(stroke.taps());
    }
    out.extend(lifted.iter().map(|&k| (k, true)));
    out
}

/// Characters a keymap can type, and the strokes that type them.
#[derive(Debug, Clone, Default)]
pub struct TextKeys {
    strokes: HashMap<char, Stroke>,
}

impl TextKeys {
    /// The strokes of the keymap's first layout. Characters reachable on several keys or
    /// levels get a key X clients can see, then the fewest modifiers, then the lowest code.
    pub fn from_keymap(keymap: &xkb::Keymap) -> Self {
        let level_keys = level_keys(keymap);
        let mut strokes: HashMap<char, Stroke> = HashMap::new();
        let (min, max) = (keymap.min_keycode().raw(), keymap.max_keycode().raw());
        for raw in min..=max {
            let keycode = xkb::Keycode::new(raw);
            let Some(evdev) = raw
                .checked_sub(EVDEV_OFFSET)
                .and_then(|c| u16::try_from(c).ok())
            else {
                continue;
            };
            if keymap.num_layouts_for_key(keycode) == 0 {
                continue;
            }
            for level in 0..keymap.num_levels_for_key(keycode, 0) {
                let syms = keymap.key_get_syms_by_level(keycode, 0, level);
                let [sym] = syms else { continue };
                let Some(c) = char_of(*sym) else { continue };
                let Some(modifiers) = modifiers_for_level(keymap, keycode, level, &level_keys)
                else {
                    continue;
                };
                let better = strokes
                    .get(&c)
                    .is_none_or(|old| score(evdev, &modifiers) < score(old.key, &old.modifiers));
                if better {
                    strokes.insert(
                        c,
                        Stroke {
                            key: evdev,
                            modifiers,
                        },
                    );
                }
            }
        }
        Self { strokes }
    }

    /// How to type `c`, if this keymap can.
    pub fn stroke(&self, c: char) -> Option<&Stroke> {
        let c = if c == '\n' { '\r' } else { c };
        self.strokes.get(&c)
    }

    pub fn len(&self) -> usize {
        self.strokes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.strokes.is_empty()
    }
}

/// Lower is better: keys X clients can see (XKB codes up to 255: Xwayland drops the rest), then
/// fewer modifiers.
fn score(key: u16, modifiers: &[u16]) -> (bool, usize) {
    (u32::from(key) + EVDEV_OFFSET > 255, modifiers.len())
}

/// The character a keysym types, for keysyms worth typing: printable characters, Return and
/// Tab (not Escape, Delete or other controls).
fn char_of(sym: xkb::Keysym) -> Option<char> {
    let c = char::from_u32(xkb::keysym_to_utf32(sym)).filter(|&c| c != '\0')?;
    (!c.is_control() || c == '\r' || c == '\t').then_some(c)
}

/// The modifier mask each level-shifting key sets while held, with its evdev code: found by
/// pressing it in a fresh state, so it holds for any keymap's modifier mapping.
fn level_keys(keymap: &xkb::Keymap) -> Vec<(u16, xkb::ModMask)> {
    let mut keys: Vec<(u16, xkb::ModMask, (usize, usize))> = Vec::new();
    let (min, max) = (keymap.min_keycode().raw(), keymap.max_keycode().raw());
    for raw in min..=max {
        let keycode = xkb::Keycode::new(raw);
        if keymap.num_layouts_for_key(keycode) == 0 {
            continue;
        }
        let syms = keymap.key_get_syms_by_level(keycode, 0, 0);
        let Some(sym_rank) = syms
            .first()
            .and_then(|s| LEVEL_KEYSYMS.iter().position(|k| *k == s.raw()))
        else {
            continue;
        };
        let Some(evdev) = raw
            .checked_sub(EVDEV_OFFSET)
            .and_then(|c| u16::try_from(c).ok())
        else {
            continue;
        };
        let key_rank = PREFERRED_KEYS
            .iter()
            .position(|k| *k == evdev)
            .unwrap_or(PREFERRED_KEYS.len());
        let rank = (sym_rank, key_rank);
        let mut state = xkb::State::new(keymap);
        state.update_key(keycode, xkb::KeyDirection::Down);
        let mask = state.serialize_mods(xkb::STATE_MODS_DEPRESSED);
        if mask == 0 {
            continue;
        }
        match keys.iter_mut().find(|(_, m, _)| *m == mask) {
            Some(existing) if rank < existing.2 => *existing = (evdev, mask, rank),
            Some(_) => {}
            None => keys.push((evdev, mask, rank)),
        }
    }
    keys.sort_by_key(|&(_, _, rank)| rank);
    keys.into_iter().map(|(key, mask, _)| (key, mask)).collect()
}

/// The level-shifting keys that select `level` of `keycode`, fewest first; `None` when no
/// combination of at most two of them does (levels behind Num Lock or Control, say).
fn modifiers_for_level(
    keymap: &xkb::Keymap,
    keycode: xkb::Keycode,
    level: u32,
    level_keys: &[(u16, xkb::ModMask)],
) -> Option<Vec<u16>> {
    let mut masks = vec![0; 16];
    let n = keymap.key_get_mods_for_level(keycode, 0, level, &mut masks);
    masks.truncate(n);
    let mut best: Option<Vec<u16>> = None;
    for mask in masks {
        let found = if mask == 0 {
            Some(Vec::new())
        } else if let Some(&(key, _)) = level_keys.iter().find(|(_, m)| *m == mask) {
            Some(vec![key])
        } else {
            pairs(level_keys)
                .find(|((_, a), (_, b))| a | b == mask)
                .map(|((a, _), (b, _))| vec![*a, *b])
        };
        if let Some(f) = found {
            if best.as_ref().is_none_or(|b| f.len() < b.len()) {
                best = Some(f);
            }
        }
    }
    best
}

fn pairs<T>(items: &[T]) -> impl Iterator<Item = (&T, &T)> {
    items
        .iter()
        .enumerate()
        .flat_map(move |(i, a)| items[i + 1..].iter().map(move |b| (a, b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_Y: u16 = 21;
    const KEY_Z: u16 = 44;
    const KEY_Q: u16 = 16;
    const KEY_E: u16 = 18;
    const KEY_2: u16 = 3;
    const KEY_APOSTROPHE: u16 = 40;
    const KEY_ENTER: u16 = 28;
    const KEY_LEFTSHIFT: u16 = 42;
    const KEY_RIGHTALT: u16 = 100;

    fn keymap(layout: &str) -> xkb::Keymap {
        layout_keymap(layout).unwrap_or_else(|| panic!("layout {layout} compiles"))
    }

    fn stroke(key: u16, modifiers: &[u16]) -> Stroke {
        Stroke {
            key,
            modifiers: modifiers.to_vec(),
        }
    }

    #[test]
    fn us_layout_types_ascii_with_shift() {
        let keys = TextKeys::from_keymap(&keymap("us"));
        assert_eq!(keys.stroke('y'), Some(&stroke(KEY_Y, &[])));
        assert_eq!(keys.stroke('Z'), Some(&stroke(KEY_Z, &[KEY_LEFTSHIFT])));
        assert_eq!(keys.stroke('@'), Some(&stroke(KEY_2, &[KEY_LEFTSHIFT])));
        assert_eq!(keys.stroke('\n'), Some(&stroke(KEY_ENTER, &[])));
        assert_eq!(keys.stroke('é'), None);
        for c in (' '..='~').chain(['\n', '\t']) {
            assert!(keys.stroke(c).is_some(), "US cannot type {c:?}");
        }
    }

    #[test]
    fn german_layout_swaps_y_and_z_and_types_umlauts_and_altgr() {
        let keys = TextKeys::from_keymap(&keymap("de"));
        assert_eq!(keys.stroke('z'), Some(&stroke(KEY_Y, &[])));
        assert_eq!(keys.stroke('y'), Some(&stroke(KEY_Z, &[])));
        assert_eq!(keys.stroke('ä'), Some(&stroke(KEY_APOSTROPHE, &[])));
        assert_eq!(
            keys.stroke('Ä'),
            Some(&stroke(KEY_APOSTROPHE, &[KEY_LEFTSHIFT]))
        );
        // AltGr+Q types @, AltGr+E the euro sign.
        assert_eq!(keys.stroke('@'), Some(&stroke(KEY_Q, &[KEY_RIGHTALT])));
        assert_eq!(keys.stroke('€'), Some(&stroke(KEY_E, &[KEY_RIGHTALT])));
    }

    #[test]
    fn every_stroke_types_its_character_in_a_real_state() {
        for layout in ["us", "de", "fr", "ru"] {
            let map = keymap(layout);
            let keys = TextKeys::from_keymap(&map);
            assert!(keys.len() > 40, "{layout}: only {} characters", keys.len());
            for (c, s) in &keys.strokes {
                let mut state = xkb::State::new(&map);
                for m in &s.modifiers {
                    state.update_key(
                        xkb::Keycode::new(u32::from(*m) + 8),
                        xkb::KeyDirection::Down,
                    );
                }
                let typed = state.key_get_utf32(xkb::Keycode::new(u32::from(s.key) + 8));
                assert_eq!(char::from_u32(typed), Some(*c), "{layout}: {c:?} via {s:?}");
            }
        }
    }
}
