//! The input event model both planes decode into. Coordinates of absolute events are relative
//! to the client's own picture (its mode), so a backend maps them onto the client's output.

/// A mouse button.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Button {
    Left,
    Middle,
    Right,
    /// Back.
    X1,
    /// Forward.
    X2,
}

impl Button {
    /// The button's Linux code (`BTN_*`), what every backend sends.
    pub fn evdev_code(self) -> u16 {
        use crate::linux_input::{BTN_EXTRA, BTN_LEFT, BTN_MIDDLE, BTN_RIGHT, BTN_SIDE};
        match self {
            Button::Left => BTN_LEFT,
            Button::Middle => BTN_MIDDLE,
            Button::Right => BTN_RIGHT,
            Button::X1 => BTN_SIDE,
            Button::X2 => BTN_EXTRA,
        }
    }
}

/// Modifier keys held with a key event (as the protocols report them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Modifiers {
    pub shift: bool,
    pub ctrl: bool,
    pub alt: bool,
    pub meta: bool,
}

/// One input event from a client.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Relative pointer motion, in pixels of the client's picture.
    MoveBy {
        dx: i32,
        dy: i32,
    },
    /// Absolute pointer position: (`x`, `y`) within a `width` × `height` picture.
    MoveTo {
        x: i32,
        y: i32,
        width: u32,
        height: u32,
    },
    Button {
        button: Button,
        pressed: bool,
    },
    /// Vertical scroll in 1/120 notches (positive: away from the user).
    Scroll {
        amount: i32,
    },
    /// Horizontal scroll in 1/120 notches (positive: right).
    ScrollHorizontal {
        amount: i32,
    },
    /// A key by Windows virtual-key code (what both protocols carry), with the modifiers the
    /// client says are held.
    Key {
        vk: u16,
        pressed: bool,
        modifiers: Modifiers,
    },
    /// Text to type as it is (any Unicode).
    Text(String),
    /// A finger on the client's picture. `id` stays the same from `Down` to `Up`; `x` and `y`
    /// are fractions (0…1) of the picture's width and height.
    Touch {
        id: u32,
        phase: TouchPhase,
        x: f32,
        y: f32,
    },
    /// Every finger left without meaning to act (the client lost its touch stream).
    TouchCancelAll,
}

/// Where a finger is in its contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TouchPhase {
    Down,
    Move,
    Up,
    /// The contact ended without meaning to act (a palm, a gesture the client took over).
    Cancel,
}
