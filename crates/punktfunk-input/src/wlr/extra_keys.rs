//! Characters the uploaded US keymap has no key for: the virtual keyboard puts them on spare
//! keys (F13–F24, which nothing types text with) and uploads its keymap again, as a keyboard
//! that switched layouts would. The compositor hands the new keymap to the focused client
//! before the next key, so keys already sent keep the meaning they were sent with.

use xkbcommon::xkb;

/// The spare keys: KEY_F13 … KEY_F24.
pub(crate) const SLOTS: [u16; 12] = [183, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194];

/// Which character each spare key types now.
#[derive(Debug, Default)]
pub(crate) struct ExtraKeys {
    assigned: [Option<char>; SLOTS.len()],
    /// The slot taken next when all are in use (round robin).
    next: usize,
}

impl ExtraKeys {
    /// The key that types `c`, and whether the keymap must be uploaded again before it.
    pub(crate) fn key_for(&mut self, c: char) -> (u16, bool) {
        if let Some(i) = self.assigned.iter().position(|a| *a == Some(c)) {
            return (SLOTS[i], false);
        }
        let i = self
            .assigned
            .iter()
            .position(Option::is_none)
            .unwrap_or(self.next);
        self.assigned[i] = Some(c);
        self.next = (i + 1) % SLOTS.len();
        (SLOTS[i], true)
    }

    /// (evdev code, character) for every slot in use.
    pub(crate) fn symbols(&self) -> Vec<(u16, char)> {
        SLOTS
            .iter()
            .zip(self.assigned)
            .filter_map(|(&key, c)| Some((key, c?)))
            .collect()
    }
}

/// `base` (a keymap in text form) with each `(key name, character)` in `extras` typing that
/// character on its own, whatever the key typed before.
pub(crate) fn keymap_with(base: &str, extras: &[(&str, char)]) -> Result<String, String> {
    let start = base
        .find("xkb_symbols")
        .ok_or("the keymap has no xkb_symbols section")?;
    let body_start = start + base[start..].find('{').ok_or("xkb_symbols has no body")? + 1;
    let body_end = body_start + block_end(&base[body_start..]).ok_or("xkb_symbols never ends")?;
    let mut body = base[body_start..body_end].to_owned();
    for (name, c) in extras {
        body = without_key(&body, name);
        let sym = xkb::keysym_get_name(xkb::utf32_to_keysym(u32::from(*c)));
        if sym.is_empty() || sym == "NoSymbol" {
            return Err(format!("no keysym for {c:?}"));
        }
        body.push_str(&format!("\tkey <{name}> {{ [ {sym} ] }};\n"));
    }
    Ok(format!(
        "{}{}{}",
        &base[..body_start],
        body,
        &base[body_end..]
    ))
}

/// The offset of the `}` that closes a block whose body starts at `text[0]`.
fn block_end(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, ch) in text.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// `body` without the `key <name> { … };` statement, if it has one.
fn without_key(body: &str, name: &str) -> String {
    let needle = format!("key <{name}>");
    let Some(at) = body.find(&needle) else {
        return body.to_owned();
    };
    let Some(open) = body[at..].find('{').map(|o| at + o + 1) else {
        return body.to_owned();
    };
    let Some(close) = block_end(&body[open..]).map(|c| open + c) else {
        return body.to_owned();
    };
    // Past the closing brace and its semicolon.
    let end = body[close..]
        .find(';')
        .map_or(body.len(), |s| close + s + 1);
    format!("{}{}", &body[..at], &body[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> xkb::Keymap {
        crate::text_keys::layout_keymap("us").unwrap()
    }

    fn compile(text: String) -> xkb::Keymap {
        let context = xkb::Context::new(xkb::CONTEXT_NO_FLAGS);
        xkb::Keymap::new_from_string(
            &context,
            text,
            xkb::KEYMAP_FORMAT_TEXT_V1,
            xkb::COMPILE_NO_FLAGS,
        )
        .expect("the extended keymap compiles")
    }

    fn typed(map: &xkb::Keymap, evdev: u16) -> Option<char> {
        let state = xkb::State::new(map);
        char::from_u32(state.key_get_utf32(xkb::Keycode::new(u32::from(evdev) + 8)))
    }

    #[test]
    fn spare_keys_type_the_extra_characters_and_the_rest_stays() {
        let base = us();
        let text = base.get_as_string(xkb::KEYMAP_FORMAT_TEXT_V1);
        let name = |code: u16| {
            base.key_get_name(xkb::Keycode::new(u32::from(code) + 8))
                .unwrap()
                .to_owned()
        };
        let (n0, n1) = (name(SLOTS[0]), name(SLOTS[1]));
        let map = compile(keymap_with(&text, &[(&n0, 'é'), (&n1, '€')]).unwrap());
        assert_eq!(typed(&map, SLOTS[0]), Some('é'));
        assert_eq!(typed(&map, SLOTS[1]), Some('€'));
        assert_eq!(typed(&map, 30), Some('a'), "KEY_A still types a");
        // Replacing a slot's character again leaves one definition.
        let again = keymap_with(&keymap_with(&text, &[(&n0, 'é')]).unwrap(), &[(&n0, '✓')]);
        assert_eq!(typed(&compile(again.unwrap()), SLOTS[0]), Some('✓'));
    }

    #[test]
    fn slots_are_reused_and_recycled_round_robin() {
        let mut extra = ExtraKeys::default();
        assert_eq!(extra.key_for('é'), (SLOTS[0], true));
        assert_eq!(extra.key_for('ü'), (SLOTS[1], true));
        assert_eq!(extra.key_for('é'), (SLOTS[0], false));
        for (i, c) in ('α'..).take(SLOTS.len() - 2).enumerate() {
            assert_eq!(extra.key_for(c), (SLOTS[i + 2], true));
        }
        // Full: the next new character takes the slot after the last one taken, i.e. wraps.
        assert_eq!(extra.key_for('€'), (SLOTS[0], true));
        assert_eq!(extra.symbols()[0], (SLOTS[0], '€'));
        assert_eq!(extra.symbols().len(), SLOTS.len());
    }
}
