//! Which sink is the default, as the session manager's "default" metadata
//! says, and how we take that place and give it back.
//!
//! Two keys on subject 0 matter: `default.configured.audio.sink` is the
//! user's choice (what `pactl set-default-sink` writes; WirePlumber saves
//! it), `default.audio.sink` the one in effect (WirePlumber derives it). We
//! write both, so it also holds without a session manager that derives it,
//! and put back what was there unless someone chose anew meanwhile.

use std::collections::HashMap;

/// The metadata object's name and the keys we touch.
pub(crate) const METADATA_NAME: &str = "default";
pub(crate) const KEYS: [&str; 2] = ["default.configured.audio.sink", "default.audio.sink"];
const JSON: &str = "Spa:String:JSON";

/// One metadata value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub type_: Option<String>,
    pub value: String,
}

/// One write to make: `None` removes the key.
pub(crate) type Write = (&'static str, Option<Entry>);

/// What the keys held before we took over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Saved(Vec<Write>);

/// The metadata's current values of [`KEYS`], mirrored from its events.
#[derive(Debug, Default)]
pub(crate) struct Defaults {
    current: HashMap<&'static str, Entry>,
}

impl Defaults {
    /// Follows one metadata event (subject, key, type, value); `None` key
    /// clears everything, `None` value removes the key.
    pub(crate) fn on_property(
        &mut self,
        subject: u32,
        key: Option<&str>,
        type_: Option<&str>,
        value: Option<&str>,
    ) {
        if subject != 0 {
            return;
        }
        let Some(key) = key else {
            self.current.clear();
            return;
        };
        let Some(&key) = KEYS.iter().find(|&&k| k == key) else {
            return;
        };
        match value {
            Some(value) => {
                self.current.insert(
                    key,
                    Entry {
                        type_: type_.map(str::to_owned),
                        value: value.to_owned(),
                    },
                );
            }
            None => {
                self.current.remove(key);
            }
        }
    }

    /// The sink name a key currently names, if any.
    #[cfg(test)]
    pub(crate) fn named(&self, key: &str) -> Option<String> {
        self.current.get(key).and_then(|e| name_in(&e.value))
    }

    /// The writes that make `sink` the default, and what to restore later.
    /// A saved value naming `sink` itself (left by an earlier run that did
    /// not clean up) is saved as "nothing".
    pub(crate) fn take_over(&self, sink: &str) -> (Saved, Vec<Write>) {
        let ours = Entry {
            type_: Some(JSON.into()),
            value: serde_json::json!({ "name": sink }).to_string(),
        };
        let saved = KEYS
            .iter()
            .map(|&key| {
                let before = self
                    .current
                    .get(key)
                    .filter(|e| name_in(&e.value).as_deref() != Some(sink))
                    .cloned();
                (key, before)
            })
            .collect();
        let writes = KEYS.iter().map(|&key| (key, Some(ours.clone()))).collect();
        (Saved(saved), writes)
    }

    /// The writes that give the place back: each key that still names
    /// `sink` (or was emptied) gets its saved value; a key someone pointed
    /// elsewhere meanwhile is left alone.
    pub(crate) fn give_back(&self, sink: &str, saved: &Saved) -> Vec<Write> {
        saved
            .0
            .iter()
            .filter(|(key, _)| match self.current.get(key) {
                None => true,
                Some(entry) => name_in(&entry.value).as_deref() == Some(sink),
            })
            .filter(|(key, before)| self.current.get(key) != before.as_ref())
            .cloned()
            .collect()
    }
}

/// The `name` of a `{"name": "..."}` value.
fn name_in(value: &str) -> Option<String> {
    let json: serde_json::Value = serde_json::from_str(value).ok()?;
    json.get("name")?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn json(name: &str) -> String {
        format!("{{\"name\":\"{name}\"}}")
    }

    fn set(defaults: &mut Defaults, key: &str, name: &str) {
        defaults.on_property(0, Some(key), Some(JSON), Some(&json(name)));
    }

    fn apply(defaults: &mut Defaults, writes: &[Write]) {
        for (key, entry) in writes {
            match entry {
                Some(e) => defaults.on_property(0, Some(key), e.type_.as_deref(), Some(&e.value)),
                None => defaults.on_property(0, Some(key), None, None),
            }
        }
    }

    #[test]
    fn taking_over_and_giving_back_restores_the_user_choice() {
        let mut defaults = Defaults::default();
        set(&mut defaults, KEYS[0], "speakers");
        set(&mut defaults, KEYS[1], "speakers");
        defaults.on_property(
            0,
            Some("default.audio.source"),
            Some(JSON),
            Some(&json("mic")),
        );
        let (saved, writes) = defaults.take_over("punktfunk");
        apply(&mut defaults, &writes);
        assert_eq!(defaults.named(KEYS[0]).as_deref(), Some("punktfunk"));
        assert_eq!(defaults.named(KEYS[1]).as_deref(), Some("punktfunk"));
        let back = defaults.give_back("punktfunk", &saved);
        apply(&mut defaults, &back);
        assert_eq!(defaults.named(KEYS[0]).as_deref(), Some("speakers"));
        assert_eq!(defaults.named(KEYS[1]).as_deref(), Some("speakers"));
    }

    #[test]
    fn a_key_that_was_absent_is_removed_again() {
        let mut defaults = Defaults::default();
        set(&mut defaults, KEYS[1], "speakers");
        let (saved, writes) = defaults.take_over("punktfunk");
        apply(&mut defaults, &writes);
        let back = defaults.give_back("punktfunk", &saved);
        assert!(back.contains(&(KEYS[0], None)), "{back:?}");
        apply(&mut defaults, &back);
        assert_eq!(defaults.named(KEYS[0]), None);
        assert_eq!(defaults.named(KEYS[1]).as_deref(), Some("speakers"));
    }

    #[test]
    fn a_newer_choice_is_not_overwritten() {
        let mut defaults = Defaults::default();
        set(&mut defaults, KEYS[0], "speakers");
        let (saved, writes) = defaults.take_over("punktfunk");
        apply(&mut defaults, &writes);
        set(&mut defaults, KEYS[0], "headphones");
        let back = defaults.give_back("punktfunk", &saved);
        assert!(back.iter().all(|(key, _)| *key != KEYS[0]), "{back:?}");
    }

    #[test]
    fn a_stale_value_naming_us_is_not_restored() {
        let mut defaults = Defaults::default();
        set(&mut defaults, KEYS[0], "punktfunk");
        let (saved, writes) = defaults.take_over("punktfunk");
        apply(&mut defaults, &writes);
        let back = defaults.give_back("punktfunk", &saved);
        apply(&mut defaults, &back);
        assert_eq!(defaults.named(KEYS[0]), None);
    }

    #[test]
    fn other_subjects_and_a_clear_are_followed() {
        let mut defaults = Defaults::default();
        defaults.on_property(42, Some(KEYS[0]), Some(JSON), Some(&json("x")));
        assert_eq!(defaults.named(KEYS[0]), None);
        set(&mut defaults, KEYS[0], "x");
        defaults.on_property(0, None, None, None);
        assert_eq!(defaults.named(KEYS[0]), None);
        defaults.on_property(0, Some(KEYS[0]), None, Some("not json"));
        assert_eq!(defaults.named(KEYS[0]), None);
    }

    proptest! {
        /// Whatever the keys held before, take over then give back (with
        /// nobody else writing) leaves them exactly as they were, except a
        /// value naming us, which is gone.
        #[test]
        fn a_round_trip_leaves_the_keys_as_they_were(
            before in proptest::collection::vec(
                proptest::option::of(prop_oneof![
                    Just("punktfunk".to_string()),
                    "[a-z]{1,8}",
                ]),
                2,
            ),
        ) {
            let mut defaults = Defaults::default();
            for (key, name) in KEYS.iter().zip(&before) {
                if let Some(name) = name {
                    set(&mut defaults, key, name);
                }
            }
            let (saved, writes) = defaults.take_over("punktfunk");
            apply(&mut defaults, &writes);
            let back = defaults.give_back("punktfunk", &saved);
            apply(&mut defaults, &back);
            for (key, name) in KEYS.iter().zip(&before) {
                let want = name.clone().filter(|n| n != "punktfunk");
                prop_assert_eq!(defaults.named(key), want);
            }
        }
    }
}
