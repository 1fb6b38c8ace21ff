//! Input from both planes in one model ([`punktfunk_input::event::Event`]), and where it goes.

pub mod pads;
pub mod session_pads;
pub mod sony_extras;
pub mod virtual_pads;

use punktfunk_gamestream::input::{InputEvent as GsEvent, Modifiers as GsModifiers, MouseButton};
use punktfunk_input::event::{Button, Event, Modifiers};

/// A GameStream input packet as an event; `None` for what has no pointer/keyboard meaning
/// (gamepads and pens go to their own devices).
pub fn from_gamestream(event: &GsEvent) -> Option<Event> {
    Some(match event {
        GsEvent::MouseMove { dx, dy } => Event::MoveBy {
            dx: i32::from(*dx),
            dy: i32::from(*dy),
        },
        GsEvent::MousePosition {
            x,
            y,
            reference_width,
            reference_height,
        } => {
            // Moonlight sends width − 1 and height − 1; 0 means it has no picture yet.
            if *reference_width <= 0 || *reference_height <= 0 {
                return None;
            }
            Event::MoveTo {
                x: i32::from(*x),
                y: i32::from(*y),
                width: u32::from(reference_width.unsigned_abs()) + 1,
                height: u32::from(reference_height.unsigned_abs()) + 1,
            }
        }
        GsEvent::MouseButton { button, pressed } => Event::Button {
            button: match button {
                MouseButton::Left => Button::Left,
                MouseButton::Middle => Button::Middle,
                MouseButton::Right => Button::Right,
                MouseButton::X1 => Button::X1,
                MouseButton::X2 => Button::X2,
            },
            pressed: *pressed,
        },
        GsEvent::Scroll { amount } => Event::Scroll {
            amount: i32::from(*amount),
        },
        GsEvent::HorizontalScroll { amount } => Event::ScrollHorizontal {
            amount: i32::from(*amount),
        },
        GsEvent::Key {
            code,
            pressed,
            modifiers,
        } => Event::Key {
            vk: *code,
            pressed: *pressed,
            modifiers: Modifiers {
                shift: modifiers.contains(GsModifiers::SHIFT),
                ctrl: modifiers.contains(GsModifiers::CTRL),
                alt: modifiers.contains(GsModifiers::ALT),
                meta: modifiers.contains(GsModifiers::META),
            },
        },
        GsEvent::Text(text) => Event::Text(text.clone()),
        _ => return None,
    })
}

/// A native-plane input event as an event; `None` for kinds this host does not know.
pub fn from_native(
    event: &punktfunk_core::control::InputEvent,
    width: u32,
    height: u32,
) -> Option<Event> {
    use punktfunk_core::wire::control::input_kind as kind;
    let button = |code: u32| match code {
        1 => Some(Button::Left),
        2 => Some(Button::Middle),
        3 => Some(Button::Right),
        4 => Some(Button::X1),
        5 => Some(Button::X2),
        _ => None,
    };
    Some(match event.kind {
        kind::KEY_DOWN | kind::KEY_UP => Event::Key {
            vk: u16::try_from(event.code).ok()?,
            pressed: event.kind == kind::KEY_DOWN,
            modifiers: Modifiers::default(),
        },
        kind::MOUSE_MOVE => Event::MoveBy {
            dx: event.x,
            dy: event.y,
        },
        kind::MOUSE_MOVE_ABS => Event::MoveTo {
            x: event.x,
            y: event.y,
            width,
            height,
        },
        kind::BUTTON_DOWN | kind::BUTTON_UP => Event::Button {
            button: button(event.code)?,
            pressed: event.kind == kind::BUTTON_DOWN,
        },
        kind::SCROLL => Event::Scroll { amount: event.y },
        _ => return None,
    })
}

/// Injects a stream's input into its own output, on a thread of its own (a Wayland connection
/// is not shared across threads). Dropping it releases every key and button still held.
pub struct Injector {
    events: Option<std::sync::mpsc::Sender<Event>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Injector {
    /// A wlroots virtual pointer and keyboard on `output` (Sway), or why not.
    pub fn wlroots(output: &str) -> anyhow::Result<Self> {
        let (tx, rx) = std::sync::mpsc::channel::<Event>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let name = output.to_owned();
        let thread = std::thread::Builder::new()
            .name("input-wlr".into())
            .spawn(move || {
                let mut backend = match punktfunk_input::wlr::WlrInput::connect(None, Some(&name)) {
                    Ok(b) => {
                        let _ = ready_tx.send(Ok(()));
                        b
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                for event in rx {
                    if let Err(e) = backend.inject(&event) {
                        tracing::debug!(?event, "input not injected: {e}");
                    }
                }
                // The stream ended: nothing stays held down.
                if let Err(e) = backend.release_all() {
                    tracing::debug!("releasing held input: {e}");
                }
            })?;
        ready_rx
            .recv()
            .map_err(|_| anyhow::anyhow!("the input thread ended early"))??;
        tracing::info!(%output, "input goes to the client's output (wlroots virtual devices)");
        Ok(Self {
            events: Some(tx),
            thread: Some(thread),
        })
    }

    pub fn send(&self, event: Event) {
        if let Some(tx) = &self.events {
            let _ = tx.send(event);
        }
    }
}

impl Drop for Injector {
    fn drop(&mut self) {
        self.events.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moonlight_absolute_positions_carry_the_picture_size() {
        let e = from_gamestream(&GsEvent::MousePosition {
            x: 640,
            y: 360,
            reference_width: 1279,
            reference_height: 719,
        });
        assert_eq!(
            e,
            Some(Event::MoveTo {
                x: 640,
                y: 360,
                width: 1280,
                height: 720
            })
        );
        assert_eq!(
            from_gamestream(&GsEvent::MousePosition {
                x: 1,
                y: 1,
                reference_width: 0,
                reference_height: 719
            }),
            None
        );
    }

    #[test]
    fn moonlight_keys_keep_their_modifiers() {
        let e = from_gamestream(&GsEvent::Key {
            code: 0x41,
            pressed: true,
            modifiers: GsModifiers::SHIFT,
        });
        assert_eq!(
            e,
            Some(Event::Key {
                vk: 0x41,
                pressed: true,
                modifiers: Modifiers {
                    shift: true,
                    ..Modifiers::default()
                }
            })
        );
    }

    #[test]
    fn native_kinds_map_and_unknown_ones_do_not() {
        use punktfunk_core::control::InputEvent as Native;
        use punktfunk_core::wire::control::input_kind as kind;
        let native = |kind, code, x, y| Native {
            kind,
            code,
            x,
            y,
            flags: 0,
        };
        assert_eq!(
            from_native(&native(kind::MOUSE_MOVE_ABS, 0, 10, 20), 1920, 1080),
            Some(Event::MoveTo {
                x: 10,
                y: 20,
                width: 1920,
                height: 1080
            })
        );
        assert_eq!(
            from_native(&native(kind::BUTTON_UP, 3, 0, 0), 1, 1),
            Some(Event::Button {
                button: Button::Right,
                pressed: false
            })
        );
        assert_eq!(from_native(&native(99, 0, 0, 0), 1, 1), None);
        assert_eq!(from_native(&native(kind::BUTTON_DOWN, 9, 0, 0), 1, 1), None);
    }
}
