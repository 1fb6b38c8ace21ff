//! Injecting input into a virtual monitor through the remote desktop session
//! its screencast is linked to (`org.gnome.Mutter.RemoteDesktop.Session`'s
//! `Notify*` calls, Mutter 43's signatures).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use zbus::Proxy;

use super::error::call_failed;
use super::MutterError;

/// One `Notify*` call.
#[derive(Debug, Clone, PartialEq)]
pub enum Notify {
    /// An evdev key code, read through Mutter's keymap.
    KeyboardKeycode {
        code: u32,
        pressed: bool,
    },
    /// A keysym; Mutter presses the key (and level modifiers) that type it in
    /// the current layout, and drops keysyms the layout lacks.
    KeyboardKeysym {
        keysym: u32,
        pressed: bool,
    },
    PointerMotionRelative {
        dx: f64,
        dy: f64,
    },
    /// A point in the monitor's own pixels.
    PointerMotionAbsolute {
        x: f64,
        y: f64,
    },
    /// An evdev button code (`BTN_LEFT` …).
    PointerButton {
        button: i32,
        pressed: bool,
    },
    /// Whole wheel notches; positive scrolls down (vertical) or right.
    PointerAxisDiscrete {
        axis: Axis,
        steps: i32,
    },
    /// Smooth scrolling where 10.0 is one notch, from a wheel.
    PointerAxis {
        dx: f64,
        dy: f64,
    },
    TouchDown {
        slot: u32,
        x: f64,
        y: f64,
    },
    TouchMotion {
        slot: u32,
        x: f64,
        y: f64,
    },
    TouchUp {
        slot: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    Vertical = 0,
    Horizontal = 1,
}

/// `NotifyPointerAxis` flag: the deltas come from a mouse wheel.
const AXIS_SOURCE_WHEEL: u32 = 2;

/// A handle on a virtual monitor's input; cheap to clone. Calls fail once the
/// monitor is gone.
#[derive(Clone)]
pub struct MutterInput {
    session: Proxy<'static>,
    /// The screencast stream object that absolute points are relative to.
    stream: String,
    /// The monitor's current size, `width << 32 | height`; follows resizes.
    size: Arc<AtomicU64>,
}

impl std::fmt::Debug for MutterInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MutterInput")
            .field("session", &self.session.path().as_str())
            .field("stream", &self.stream)
            .field("size", &self.size())
            .finish()
    }
}

impl MutterInput {
    pub(crate) fn new(session: Proxy<'static>, stream: String, width: u32, height: u32) -> Self {
        let input = Self {
            session,
            stream,
            size: Arc::new(AtomicU64::new(0)),
        };
        input.set_size(width, height);
        input
    }

    pub(crate) fn set_size(&self, width: u32, height: u32) {
        self.size.store(
            (u64::from(width) << 32) | u64::from(height),
            Ordering::Relaxed,
        );
    }

    /// The monitor's size in pixels, which absolute points are in.
    pub fn size(&self) -> (u32, u32) {
        let size = self.size.load(Ordering::Relaxed);
        ((size >> 32) as u32, size as u32)
    }

    /// Mutter 43 loses the first key of a session's fresh virtual keyboard
    /// (seen with foot: the first letter typed never arrived). A Shift tap
    /// takes that place: it types nothing.
    pub(crate) async fn wake_keyboard(&self) -> Result<(), MutterError> {
        const KEY_LEFTSHIFT: u32 = 42;
        for pressed in [true, false] {
            self.notify_async(&Notify::KeyboardKeycode {
                code: KEY_LEFTSHIFT,
                pressed,
            })
            .await?;
        }
        Ok(())
    }

    /// Sends one call and waits for Mutter's answer.
    pub fn notify(&self, call: &Notify) -> Result<(), MutterError> {
        async_io::block_on(self.notify_async(call))
    }

    async fn notify_async(&self, call: &Notify) -> Result<(), MutterError> {
        let s = &self.session;
        let stream = self.stream.as_str();
        let m = call.method();
        let result = match *call {
            Notify::KeyboardKeycode { code, pressed } => {
                s.call::<_, _, ()>(m, &(code, pressed)).await
            }
            Notify::KeyboardKeysym { keysym, pressed } => {
                s.call::<_, _, ()>(m, &(keysym, pressed)).await
            }
            Notify::PointerMotionRelative { dx, dy } => s.call::<_, _, ()>(m, &(dx, dy)).await,
            Notify::PointerMotionAbsolute { x, y } => s.call::<_, _, ()>(m, &(stream, x, y)).await,
            Notify::PointerButton { button, pressed } => {
                s.call::<_, _, ()>(m, &(button, pressed)).await
            }
            Notify::PointerAxisDiscrete { axis, steps } => {
                s.call::<_, _, ()>(m, &(axis as u32, steps)).await
            }
            Notify::PointerAxis { dx, dy } => {
                s.call::<_, _, ()>(m, &(dx, dy, AXIS_SOURCE_WHEEL)).await
            }
            Notify::TouchDown { slot, x, y } => s.call::<_, _, ()>(m, &(stream, slot, x, y)).await,
            Notify::TouchMotion { slot, x, y } => {
                s.call::<_, _, ()>(m, &(stream, slot, x, y)).await
            }
            Notify::TouchUp { slot } => s.call::<_, _, ()>(m, &(slot,)).await,
        };
        result.map_err(call_failed(call.method()))
    }
}

impl Notify {
    /// The D-Bus method this is.
    pub fn method(&self) -> &'static str {
        match self {
            Notify::KeyboardKeycode { .. } => "NotifyKeyboardKeycode",
            Notify::KeyboardKeysym { .. } => "NotifyKeyboardKeysym",
            Notify::PointerMotionRelative { .. } => "NotifyPointerMotionRelative",
            Notify::PointerMotionAbsolute { .. } => "NotifyPointerMotionAbsolute",
            Notify::PointerButton { .. } => "NotifyPointerButton",
            Notify::PointerAxisDiscrete { .. } => "NotifyPointerAxisDiscrete",
            Notify::PointerAxis { .. } => "NotifyPointerAxis",
            Notify::TouchDown { .. } => "NotifyTouchDown",
            Notify::TouchMotion { .. } => "NotifyTouchMotion",
            Notify::TouchUp { .. } => "NotifyTouchUp",
        }
    }
}
