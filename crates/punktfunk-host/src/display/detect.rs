//! Which compositor runs, from the environment alone (pure: the environment comes in as a map).

use std::fmt;

/// The compositors punktfunk knows how to make virtual displays on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Compositor {
    /// wlroots-based Sway: headless outputs over the sway IPC, wlr-screencopy capture.
    Sway,
    /// GNOME's Mutter: ScreenCast RecordVirtual + PipeWire.
    Mutter,
    /// KDE's KWin: zkde_screencast stream_virtual_output + PipeWire.
    Kwin,
    /// A headless gamescope per session.
    Gamescope,
}

impl fmt::Display for Compositor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Compositor::Sway => "sway",
            Compositor::Mutter => "mutter",
            Compositor::Kwin => "kwin",
            Compositor::Gamescope => "gamescope",
        })
    }
}

/// The variables detection reads.
pub const VARIABLES: [&str; 5] = [
    "SWAYSOCK",
    "XDG_CURRENT_DESKTOP",
    "WAYLAND_DISPLAY",
    "GAMESCOPE_WAYLAND_DISPLAY",
    "XDG_SESSION_TYPE",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "no supported compositor: {seen}; run the host inside a Sway (or GNOME, KDE, gamescope) \
     session, name one with --compositor, or stream the test picture with --source virtual"
)]
pub struct NoCompositor {
    /// What the environment held, for the message.
    pub seen: String,
}

/// Picks the compositor: the override if given, else the first the environment names.
pub fn detect(
    get: impl Fn(&str) -> Option<String>,
    override_: Option<Compositor>,
) -> Result<Compositor, NoCompositor> {
    if let Some(c) = override_ {
        return Ok(c);
    }
    let set = |k: &str| get(k).filter(|v| !v.is_empty());
    if set("SWAYSOCK").is_some() {
        return Ok(Compositor::Sway);
    }
    if set("GAMESCOPE_WAYLAND_DISPLAY").is_some() {
        return Ok(Compositor::Gamescope);
    }
    let desktop = set("XDG_CURRENT_DESKTOP")
        .unwrap_or_default()
        .to_ascii_lowercase();
    // XDG_CURRENT_DESKTOP is a colon-separated list, e.g. "ubuntu:GNOME".
    for name in desktop.split(':') {
        match name {
            "gnome" => return Ok(Compositor::Mutter),
            "kde" => return Ok(Compositor::Kwin),
            "gamescope" => return Ok(Compositor::Gamescope),
            "sway" => return Ok(Compositor::Sway),
            _ => {}
        }
    }
    let seen = VARIABLES
        .iter()
        .map(|k| format!("{k}={}", set(k).as_deref().unwrap_or("(unset)")))
        .collect::<Vec<_>>()
        .join(", ");
    Err(NoCompositor { seen })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_environment_names_the_compositor() {
        let sway = [
            ("SWAYSOCK", "/run/user/1000/sway-ipc.sock"),
            ("XDG_CURRENT_DESKTOP", "GNOME"),
        ];
        assert_eq!(detect(env(&sway), None), Ok(Compositor::Sway));
        assert_eq!(
            detect(env(&[("XDG_CURRENT_DESKTOP", "ubuntu:GNOME")]), None),
            Ok(Compositor::Mutter)
        );
        assert_eq!(
            detect(env(&[("XDG_CURRENT_DESKTOP", "KDE")]), None),
            Ok(Compositor::Kwin)
        );
        assert_eq!(
            detect(env(&[("GAMESCOPE_WAYLAND_DISPLAY", "gamescope-0")]), None),
            Ok(Compositor::Gamescope)
        );
        // The override wins over everything.
        assert_eq!(
            detect(env(&sway), Some(Compositor::Kwin)),
            Ok(Compositor::Kwin)
        );
    }

    #[test]
    fn nothing_found_says_what_was_seen_and_what_to_do() {
        let e = detect(
            env(&[("SWAYSOCK", ""), ("WAYLAND_DISPLAY", "wayland-0")]),
            None,
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("no supported compositor"), "{text}");
        assert!(text.contains("WAYLAND_DISPLAY=wayland-0"), "{text}");
        assert!(
            text.contains("SWAYSOCK=(unset)"),
            "empty counts as unset: {text}"
        );
        assert!(text.contains("--source virtual"), "{text}");
    }
}
