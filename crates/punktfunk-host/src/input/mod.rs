//! Input from both planes in one model ([`punktfunk_input::event::Event`]), and where it goes.

mod mutter;
pub mod pads;
pub mod session_pads;
pub mod sony_extras;
pub mod virtual_pads;

use punktfunk_gamestream::input::{InputEvent as GsEvent, Modifiers as GsModifiers, MouseButton};
use punktfunk_input::event::{Button, Event, Modifiers, TouchPhase};

use punktfunk_input::device::uinput::UinputKeyboardMouse;

use crate::display::{Compositor, DisplayInput};

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
        GsEvent::Touch {
            event,
            pointer_id,
            x,
            y,
            ..
        } => touch(*event, *pointer_id, *x, *y)?,
        // No backend has a tablet yet: the pen's tip acts as one more finger.
        GsEvent::Pen { event, x, y, .. } => touch(*event, PEN_FINGER, *x, *y)?,
        _ => return None,
    })
}

/// The finger id a pen's tip gets (Moonlight's pointer ids count up from 0).
const PEN_FINGER: u32 = u32::MAX;

/// A Moonlight touch (or pen) phase as a finger event; `None` for hovering and pen buttons,
/// which have no touchscreen meaning.
fn touch(
    event: punktfunk_gamestream::input::TouchEventType,
    id: u32,
    x: f32,
    y: f32,
) -> Option<Event> {
    use punktfunk_gamestream::input::TouchEventType as T;
    let phase = match event {
        T::Down => TouchPhase::Down,
        T::Move => TouchPhase::Move,
        T::Up => TouchPhase::Up,
        T::Cancel => TouchPhase::Cancel,
        T::CancelAll => return Some(Event::TouchCancelAll),
        T::Hover | T::HoverLeave | T::ButtonOnly => return None,
    };
    Some(Event::Touch { id, phase, x, y })
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
        kind::SCROLL_HORIZONTAL => Event::ScrollHorizontal { amount: event.x },
        kind::TOUCH_DOWN | kind::TOUCH_MOVE | kind::TOUCH_UP => {
            if width == 0 || height == 0 {
                return None;
            }
            Event::Touch {
                id: event.code,
                phase: match event.kind {
                    kind::TOUCH_DOWN => TouchPhase::Down,
                    kind::TOUCH_MOVE => TouchPhase::Move,
                    _ => TouchPhase::Up,
                },
                x: event.x as f32 / width as f32,
                y: event.y as f32 / height as f32,
            }
        }
        _ => return None,
    })
}

/// Where client input goes (`--input`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputChoice {
    /// The compositor's own way: wlroots virtual devices on Sway, Mutter's RemoteDesktop session
    /// on GNOME, else the EIS server named by `--ei-socket` / `LIBEI_SOCKET`, else uinput.
    Auto,
    /// wlroots virtual pointer and keyboard (Sway and other wlroots compositors).
    Wlroots,
    /// An EIS server (libei): gamescope's, or one a portal handed out.
    Ei,
    /// Mutter's own RemoteDesktop D-Bus session, linked to the virtual monitor's screencast.
    Mutter,
    /// Kernel virtual devices (/dev/uinput): works under any compositor, needs the device node.
    Uinput,
    /// Count input, inject nothing.
    Off,
}

#[derive(Debug, Clone, clap::Args)]
pub struct InputArgs {
    /// Where client keyboard, mouse and touch input goes.
    #[arg(long, value_enum, default_value = "auto", env = "PUNKTFUNK_INPUT")]
    pub input: InputChoice,
    /// The EIS server's socket for `--input ei` (a path, or a name in XDG_RUNTIME_DIR).
    #[arg(long, env = "LIBEI_SOCKET")]
    pub ei_socket: Option<std::path::PathBuf>,
}

impl Default for InputArgs {
    fn default() -> Self {
        Self {
            input: InputChoice::Auto,
            ei_socket: None,
        }
    }
}

/// The backend `args` pick for a display on `compositor`; `None` when input stays counted.
pub fn choose_backend(args: &InputArgs, compositor: Compositor) -> Option<InputChoice> {
    match args.input {
        InputChoice::Off => None,
        InputChoice::Auto if compositor == Compositor::Sway => Some(InputChoice::Wlroots),
        InputChoice::Auto if compositor == Compositor::Mutter => Some(InputChoice::Mutter),
        InputChoice::Auto if args.ei_socket.is_some() => Some(InputChoice::Ei),
        InputChoice::Auto => Some(InputChoice::Uinput),
        choice => Some(choice),
    }
}

/// What an injection backend does, whichever it is.
trait Backend {
    fn inject(&mut self, event: &Event) -> Result<(), String>;
    fn release_all(&mut self) -> Result<(), String>;
}

impl Backend for punktfunk_input::wlr::WlrInput {
    fn inject(&mut self, event: &Event) -> Result<(), String> {
        punktfunk_input::wlr::WlrInput::inject(self, event).map_err(|e| e.to_string())
    }
    fn release_all(&mut self) -> Result<(), String> {
        punktfunk_input::wlr::WlrInput::release_all(self).map_err(|e| e.to_string())
    }
}

impl Backend for UinputKeyboardMouse {
    fn inject(&mut self, event: &Event) -> Result<(), String> {
        UinputKeyboardMouse::inject(self, event).map_err(|e| e.to_string())
    }
    fn release_all(&mut self) -> Result<(), String> {
        UinputKeyboardMouse::release_all(self).map_err(|e| e.to_string())
    }
}

impl Backend for punktfunk_input::ei::EiInput {
    fn inject(&mut self, event: &Event) -> Result<(), String> {
        punktfunk_input::ei::EiInput::inject(self, event).map_err(|e| e.to_string())
    }
    fn release_all(&mut self) -> Result<(), String> {
        punktfunk_input::ei::EiInput::release_all(self).map_err(|e| e.to_string())
    }
}

/// Injects a stream's input into its own output, on a thread of its own (a Wayland or EIS
/// connection is not shared across threads). Dropping it releases every key and button still
/// held.
pub struct Injector {
    events: Option<std::sync::mpsc::Sender<Event>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The output a stream's input belongs on.
#[derive(Debug, Clone)]
pub struct Target {
    pub output: String,
    pub width: u32,
    pub height: u32,
}

impl Target {
    pub fn of(lease: &crate::lifecycle::displays::Lease) -> Self {
        Self {
            output: lease.name.clone(),
            width: lease.mode.width,
            height: lease.mode.height,
        }
    }
}

impl Injector {
    /// The injector `args` pick for a stream shown on `target` of `compositor`: `Ok(None)`
    /// when input stays counted (`--input off`), an error saying why when the backend fails.
    /// `display_input`: the display's own way in, if it has one.
    pub fn open(
        args: &InputArgs,
        compositor: Compositor,
        target: &Target,
        display_input: Option<DisplayInput>,
    ) -> anyhow::Result<Option<Self>> {
        let Some(choice) = choose_backend(args, compositor) else {
            return Ok(None);
        };
        let output = target.output.clone();
        let injector = match choice {
            InputChoice::Wlroots => Self::spawn("input-wlr", move || {
                let backend = punktfunk_input::wlr::WlrInput::connect(None, Some(&output))?;
                Ok((backend, "wlroots virtual devices".into()))
            })?,
            InputChoice::Ei => {
                let socket = args.ei_socket.clone();
                let ei_target = punktfunk_input::ei::OutputTarget {
                    name: output,
                    width: target.width,
                    height: target.height,
                };
                Self::spawn("input-ei", move || {
                    let backend =
                        punktfunk_input::ei::EiInput::connect(socket.as_deref(), Some(ei_target))?;
                    let what = format!("EIS: {}", backend.describe());
                    Ok((backend, what))
                })?
            }
            InputChoice::Mutter => {
                let Some(DisplayInput::Mutter(input)) = display_input else {
                    anyhow::bail!(
                        "--input mutter needs a Mutter virtual monitor made with a RemoteDesktop \
                         session, and {} has none",
                        target.output
                    );
                };
                Self::spawn("input-mutter", move || {
                    let what = format!("Mutter RemoteDesktop session, {input:?}");
                    Ok((mutter::MutterBackend::new(input), what))
                })?
            }
            InputChoice::Uinput => {
                let (width, height) = (target.width, target.height);
                Self::spawn("input-uinput", move || {
                    let backend = UinputKeyboardMouse::new(width, height).map_err(|e| {
                        anyhow::anyhow!(
                            "uinput keyboard and mouse: {e} (on {compositor:?}, --input ei with \
                             --ei-socket reaches an EIS server instead)"
                        )
                    })?;
                    Ok((
                        backend,
                        "uinput keyboard, mouse and absolute pointer".into(),
                    ))
                })?
            }
            // Settled by `choose_backend`: never a backend to open.
            InputChoice::Auto | InputChoice::Off => return Ok(None),
        };
        Ok(Some(injector))
    }

    /// Starts the input thread; `connect` runs on it and says what it connected to.
    fn spawn<B: Backend + 'static>(
        name: &str,
        connect: impl FnOnce() -> anyhow::Result<(B, String)> + Send + 'static,
    ) -> anyhow::Result<Self> {
        let (tx, rx) = std::sync::mpsc::channel::<Event>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let mut backend = match connect() {
                    Ok((backend, what)) => {
                        let _ = ready_tx.send(Ok(what));
                        backend
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
        let what = ready_rx
            .recv()
            .map_err(|_| anyhow::anyhow!("the input thread ended early"))??;
        tracing::info!("input goes to the client's output ({what})");
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
        assert_eq!(
            from_native(&native(kind::TOUCH_DOWN, 5, 320, 360), 1280, 720),
            Some(Event::Touch {
                id: 5,
                phase: TouchPhase::Down,
                x: 0.25,
                y: 0.5
            })
        );
        assert_eq!(
            from_native(&native(kind::SCROLL_HORIZONTAL, 0, -120, 0), 1, 1),
            Some(Event::ScrollHorizontal { amount: -120 })
        );
        assert_eq!(from_native(&native(kind::TOUCH_UP, 5, 0, 0), 0, 0), None);
        assert_eq!(from_native(&native(99, 0, 0, 0), 1, 1), None);
        assert_eq!(from_native(&native(kind::BUTTON_DOWN, 9, 0, 0), 1, 1), None);
    }

    #[test]
    fn moonlight_touches_become_fingers_and_hovers_do_not() {
        use punktfunk_gamestream::input::TouchEventType as T;
        let touch = |event| GsEvent::Touch {
            event,
            rotation: 0,
            pointer_id: 9,
            x: 0.5,
            y: 0.25,
            pressure_or_distance: 0.0,
            contact_area_major: 0.0,
            contact_area_minor: 0.0,
        };
        assert_eq!(
            from_gamestream(&touch(T::Move)),
            Some(Event::Touch {
                id: 9,
                phase: TouchPhase::Move,
                x: 0.5,
                y: 0.25
            })
        );
        assert_eq!(
            from_gamestream(&touch(T::CancelAll)),
            Some(Event::TouchCancelAll)
        );
        assert_eq!(from_gamestream(&touch(T::Hover)), None);
        let pen = GsEvent::Pen {
            event: T::Down,
            tool: punktfunk_gamestream::input::PenTool::Pen,
            buttons: 0,
            x: 0.1,
            y: 0.2,
            pressure_or_distance: 0.5,
            rotation: 0,
            tilt: 0,
            contact_area_major: 0.0,
            contact_area_minor: 0.0,
        };
        assert_eq!(
            from_gamestream(&pen),
            Some(Event::Touch {
                id: PEN_FINGER,
                phase: TouchPhase::Down,
                x: 0.1,
                y: 0.2
            }),
            "the pen's tip is a finger"
        );
    }

    #[test]
    fn auto_picks_wlroots_on_sway_then_an_eis_socket_then_uinput() {
        let args = |input, socket: Option<&str>| InputArgs {
            input,
            ei_socket: socket.map(Into::into),
        };
        let auto = args(InputChoice::Auto, None);
        assert_eq!(
            choose_backend(&auto, Compositor::Sway),
            Some(InputChoice::Wlroots)
        );
        assert_eq!(
            choose_backend(&auto, Compositor::Kwin),
            Some(InputChoice::Uinput)
        );
        assert_eq!(
            choose_backend(&auto, Compositor::Mutter),
            Some(InputChoice::Mutter)
        );
        let with_socket = args(InputChoice::Auto, Some("gamescope-0-ei"));
        assert_eq!(
            choose_backend(&with_socket, Compositor::Gamescope),
            Some(InputChoice::Ei)
        );
        assert_eq!(
            choose_backend(&with_socket, Compositor::Sway),
            Some(InputChoice::Wlroots),
            "Sway's own devices win"
        );
        assert_eq!(
            choose_backend(&args(InputChoice::Ei, None), Compositor::Sway),
            Some(InputChoice::Ei),
            "an explicit choice stands"
        );
        assert_eq!(
            choose_backend(&args(InputChoice::Off, None), Compositor::Sway),
            None
        );
    }
}
