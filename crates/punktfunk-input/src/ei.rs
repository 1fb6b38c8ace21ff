//! The libei backend: emulated input through an EIS server (the `reis` crate speaks the
//! protocol). GNOME and KDE serve EIS through the RemoteDesktop portal, gamescope and other
//! compositors on a socket named by `LIBEI_SOCKET`; this backend takes a socket.
//!
//! The server decides which devices exist (mutter makes one per kind: relative pointer,
//! keyboard, absolute pointer, touchscreen) and may pause, resume or remove them at any time;
//! each action goes to a resumed device that has its capability. Keys are evdev codes read
//! through the server's keymap, so text is typed with the keys that keymap puts characters on.

mod plan;

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reis::ei;
use reis::event::{DeviceCapability, EiEvent, EiEventConverter};
use reis::handshake::EiHandshaker;
use reis::PendingRequestResult;
use xkbcommon::xkb;

use crate::event::Event;
use crate::text_keys::TextKeys;
pub use plan::{choose_region, point_in, Action, Need, PlanError, Planner, Region};

/// How long the server has to answer the handshake and offer devices.
const SETUP_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the server must stay silent before its devices count as all offered.
const QUIET: Duration = Duration::from_millis(150);
/// Keymaps larger than this are refused (a real one is well under 100 KiB).
const MAX_KEYMAP_BYTES: u32 = 4 << 20;
/// The name the server shows for this client.
const CLIENT_NAME: &str = "punktfunk";

/// What can go wrong talking to the EIS server.
#[derive(Debug, thiserror::Error)]
pub enum EiError {
    #[error("no EIS socket: {0} is not set")]
    NoSocket(&'static str),
    #[error("connecting to {path}: {source}")]
    Connect {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("EIS connection: {0}")]
    Protocol(String),
    #[error("the EIS server disconnected: {0}")]
    Disconnected(String),
    #[error("the EIS server offered no device within {0:?}")]
    NoDevices(Duration),
    #[error("no resumed EIS device can {0:?}")]
    NoDeviceFor(Need),
    #[error(transparent)]
    Plan(#[from] PlanError),
}

fn protocol(e: impl std::fmt::Display) -> EiError {
    EiError::Protocol(e.to_string())
}

/// The output a client's input belongs on: its name (a region's mapping id may carry it) and
/// its mode in pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputTarget {
    pub name: String,
    pub width: u32,
    pub height: u32,
}

/// One device the server gave us.
struct Slot {
    device: reis::event::Device,
    resumed: bool,
    emulating: bool,
    regions: Vec<Region>,
}

/// A sender context on an EIS server, with the devices it offers. Not `Send` (reis keeps
/// callbacks that are not): make it on the thread that uses it.
pub struct EiInput {
    context: ei::Context,
    converter: EiEventConverter,
    slots: Vec<Slot>,
    planner: Planner,
    text_keys: TextKeys,
    /// Text keys came from the keyboard device's own keymap (not the US fallback).
    keymap_from_server: bool,
    target: Option<OutputTarget>,
    sequence: u32,
}

impl EiInput {
    /// Connects to the EIS server at `socket` (default: `LIBEI_SOCKET`, relative to
    /// `XDG_RUNTIME_DIR`), binds every capability its seat has and waits for its devices.
    /// Absolute motion and touch land in the region that shows `target` (by mapping id, else
    /// size).
    pub fn connect(socket: Option<&Path>, target: Option<OutputTarget>) -> Result<Self, EiError> {
        let path = crate::socket::socket_path(socket, "LIBEI_SOCKET").map_err(EiError::NoSocket)?;
        let stream = UnixStream::connect(&path).map_err(|source| EiError::Connect {
            path: path.clone(),
            source,
        })?;
        Self::from_stream(stream, target)
    }

    /// Like [`EiInput::connect`], on a socket already open (the portal's ConnectToEIS fd).
    pub fn from_stream(stream: UnixStream, target: Option<OutputTarget>) -> Result<Self, EiError> {
        let context = ei::Context::new(stream).map_err(protocol)?;
        let deadline = Instant::now() + SETUP_TIMEOUT;
        let handshake = handshake(&context, deadline)?;
        let converter = EiEventConverter::new(&context, handshake);
        let mut input = Self {
            context,
            converter,
            slots: Vec::new(),
            planner: Planner::default(),
            text_keys: us_text_keys(),
            keymap_from_server: false,
            target,
            sequence: 0,
        };
        // Devices arrive after the seat is bound, one by one: wait until some are resumed and
        // the server has said nothing for a moment.
        let mut quiet_since = Instant::now();
        while Instant::now() < deadline {
            if input.pump(Some(QUIET))? {
                quiet_since = Instant::now();
            }
            let resumed = input.slots.iter().any(|s| s.resumed);
            if resumed && quiet_since.elapsed() >= QUIET {
                return Ok(input);
            }
        }
        Err(EiError::NoDevices(SETUP_TIMEOUT))
    }

    /// The names and capabilities of the resumed devices (for logs).
    pub fn describe(&self) -> String {
        let names: Vec<String> = self
            .slots
            .iter()
            .filter(|s| s.resumed)
            .map(|s| s.device.name().unwrap_or("unnamed").to_owned())
            .collect();
        let keymap = if self.keymap_from_server {
            "the server's keymap"
        } else {
            "a US keymap"
        };
        format!("devices {names:?}, text typed with {keymap}")
    }

    /// Injects one event.
    pub fn inject(&mut self, event: &Event) -> Result<(), EiError> {
        self.pump(None)?;
        let utf8 = self.slot_for(Need::Text).is_some();
        let keys = (!utf8).then_some(&self.text_keys);
        let actions = self.planner.plan(event, keys)?;
        self.send(&actions)
    }

    /// Lets go of every key, button and finger still down.
    pub fn release_all(&mut self) -> Result<(), EiError> {
        let actions = self.planner.release_all();
        self.send(&actions)
    }

    fn send(&mut self, actions: &[Action]) -> Result<(), EiError> {
        // Consecutive actions on one device share a frame.
        let mut framed: Option<usize> = None;
        for action in actions {
            let index = match self.slot_for(action.need()) {
                Some(index) => index,
                None => {
                    // The server may be re-adding devices (after a pause or a rebind).
                    self.pump(Some(QUIET))?;
                    self.slot_for(action.need())
                        .ok_or(EiError::NoDeviceFor(action.need()))?
                }
            };
            if let Some(previous) = framed.filter(|&f| f != index) {
                self.frame(previous);
            }
            self.start_emulating(index);
            self.apply(index, action);
            framed = Some(index);
        }
        if let Some(index) = framed {
            self.frame(index);
        }
        self.context.flush().map_err(protocol)?;
        Ok(())
    }

    fn apply(&self, index: usize, action: &Action) {
        let slot = &self.slots[index];
        let device = &slot.device;
        match action {
            Action::Motion { dx, dy } => {
                if let Some(p) = device.interface::<ei::Pointer>() {
                    p.motion_relative(*dx, *dy);
                }
            }
            Action::Absolute {
                x,
                y,
                width,
                height,
            } => {
                let name = self.target.as_ref().map(|t| t.name.as_str());
                let Some(region) = choose_region(&slot.regions, name, *width, *height) else {
                    return;
                };
                let (x, y) = point_in(region, *x, *y, *width, *height);
                if let Some(p) = device.interface::<ei::PointerAbsolute>() {
                    p.motion_absolute(x, y);
                }
            }
            Action::Button { code, pressed } => {
                if let Some(b) = device.interface::<ei::Button>() {
                    let state = if *pressed {
                        ei::button::ButtonState::Press
                    } else {
                        ei::button::ButtonState::Released
                    };
                    b.button(*code, state);
                }
            }
            Action::ScrollDiscrete { x, y } => {
                if let Some(s) = device.interface::<ei::Scroll>() {
                    s.scroll_discrete(*x, *y);
                }
            }
            Action::Key { code, pressed } => {
                if let Some(k) = device.interface::<ei::Keyboard>() {
                    let state = if *pressed {
                        ei::keyboard::KeyState::Press
                    } else {
                        ei::keyboard::KeyState::Released
                    };
                    k.key(u32::from(*code), state);
                }
            }
            Action::TouchDown { id, x, y } | Action::TouchMotion { id, x, y } => {
                let Some(t) = device.interface::<ei::Touchscreen>() else {
                    return;
                };
                // A finger lands in the region that shows the client's output, at its share of it.
                let (name, width, height) = match &self.target {
                    Some(t) => (Some(t.name.as_str()), t.width, t.height),
                    None => (None, 0, 0),
                };
                let Some(region) = choose_region(&slot.regions, name, width, height) else {
                    return;
                };
                let (px, py) = point_in(region, *x, *y, 1, 1);
                if matches!(action, Action::TouchDown { .. }) {
                    t.down(*id, px, py);
                } else {
                    t.motion(*id, px, py);
                }
            }
            Action::TouchUp { id } => {
                if let Some(t) = device.interface::<ei::Touchscreen>() {
                    t.up(*id);
                }
            }
            Action::Utf8(text) => {
                if let Some(t) = device.interface::<ei::Text>() {
                    t.utf8(text);
                }
            }
        }
    }

    fn slot_for(&self, need: Need) -> Option<usize> {
        let capability = match need {
            Need::Pointer => DeviceCapability::Pointer,
            Need::PointerAbsolute => DeviceCapability::PointerAbsolute,
            Need::Button => DeviceCapability::Button,
            Need::Scroll => DeviceCapability::Scroll,
            Need::Keyboard => DeviceCapability::Keyboard,
            Need::Touch => DeviceCapability::Touch,
            Need::Text => DeviceCapability::Text,
        };
        self.slots
            .iter()
            .position(|s| s.resumed && s.device.has_capability(capability))
    }

    fn start_emulating(&mut self, index: usize) {
        let serial = self.converter.connection().serial();
        let slot = &mut self.slots[index];
        if !slot.emulating {
            slot.device.device().start_emulating(serial, self.sequence);
            self.sequence = self.sequence.wrapping_add(1);
            slot.emulating = true;
        }
    }

    fn frame(&self, index: usize) {
        let serial = self.converter.connection().serial();
        self.slots[index]
            .device
            .device()
            .frame(serial, now_micros());
    }

    /// Reads what the server sent, waiting up to `wait` for something (not at all with
    /// `None`), and follows its devices. Says whether anything came.
    fn pump(&mut self, wait: Option<Duration>) -> Result<bool, EiError> {
        if let Some(wait) = wait {
            poll_readable(&self.context, wait)?;
        }
        let mut came = false;
        match self.context.read() {
            Ok(0) => {}
            Ok(_) => came = true,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(EiError::Disconnected("the socket closed".into()))
            }
            Err(e) => return Err(protocol(e)),
        }
        while let Some(result) = self.context.pending_event() {
            match result {
                PendingRequestResult::Request(event) => {
                    self.converter.handle_event(event).map_err(protocol)?
                }
                PendingRequestResult::ParseError(e) => return Err(protocol(e)),
                // An object we already let go of; nothing to do with it.
                PendingRequestResult::InvalidObject(_) => {}
            }
        }
        while let Some(event) = self.converter.next_event() {
            self.follow(event)?;
        }
        self.context.flush().map_err(protocol)?;
        Ok(came)
    }

    fn follow(&mut self, event: EiEvent) -> Result<(), EiError> {
        match event {
            EiEvent::SeatAdded(added) => {
                added.seat.bind_capabilities(
                    DeviceCapability::Pointer
                        | DeviceCapability::PointerAbsolute
                        | DeviceCapability::Keyboard
                        | DeviceCapability::Touch
                        | DeviceCapability::Scroll
                        | DeviceCapability::Button
                        | DeviceCapability::Text,
                );
            }
            EiEvent::DeviceAdded(added) => {
                let device = added.device;
                if device.has_capability(DeviceCapability::Keyboard) {
                    if let Some(keys) = device.keymap().and_then(server_text_keys) {
                        self.text_keys = keys;
                        self.keymap_from_server = true;
                    }
                }
                let regions = device
                    .regions()
                    .iter()
                    .map(|r| Region {
                        x: r.x,
                        y: r.y,
                        width: r.width,
                        height: r.height,
                        scale: r.scale,
                        mapping_id: r.mapping_id.clone(),
                    })
                    .collect();
                self.slots.push(Slot {
                    device,
                    resumed: false,
                    emulating: false,
                    regions,
                });
            }
            EiEvent::DeviceResumed(resumed) => {
                if let Some(slot) = self.slots.iter_mut().find(|s| s.device == resumed.device) {
                    slot.resumed = true;
                }
            }
            EiEvent::DevicePaused(paused) => {
                if let Some(slot) = self.slots.iter_mut().find(|s| s.device == paused.device) {
                    // A paused device is no longer emulating; resuming starts a new sequence.
                    slot.resumed = false;
                    slot.emulating = false;
                }
            }
            EiEvent::DeviceRemoved(removed) => {
                self.slots.retain(|s| s.device != removed.device);
            }
            EiEvent::SeatRemoved(_) => {}
            EiEvent::Disconnected(d) => {
                return Err(EiError::Disconnected(format!(
                    "{:?}{}",
                    d.reason,
                    d.explanation
                        .as_deref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default()
                )))
            }
            _ => {}
        }
        Ok(())
    }
}

impl Drop for EiInput {
    fn drop(&mut self) {
        let _ = self.release_all();
        let serial = self.converter.connection().serial();
        for slot in self.slots.iter().filter(|s| s.emulating) {
            slot.device.device().stop_emulating(serial);
        }
        let _ = self.context.flush();
    }
}

/// Exchanges versions and interfaces with the server, as a sender.
fn handshake(
    context: &ei::Context,
    deadline: Instant,
) -> Result<reis::handshake::HandshakeResp, EiError> {
    let mut handshaker = EiHandshaker::new(CLIENT_NAME, ei::handshake::ContextType::Sender);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(EiError::Protocol("no handshake from the server".into()));
        }
        poll_readable(context, left)?;
        match context.read() {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(protocol(e)),
        }
        while let Some(result) = context.pending_event() {
            let event = match result {
                PendingRequestResult::Request(event) => event,
                PendingRequestResult::ParseError(e) => return Err(protocol(e)),
                PendingRequestResult::InvalidObject(id) => {
                    return Err(EiError::Protocol(format!("handshake: unknown object {id}")))
                }
            };
            if let Some(done) = handshaker.handle_event(event).map_err(protocol)? {
                return Ok(done);
            }
        }
    }
}

fn poll_readable(context: &ei::Context, wait: Duration) -> Result<(), EiError> {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let timeout = Timespec {
        tv_sec: wait.as_secs() as i64,
        tv_nsec: i64::from(wait.subsec_nanos()),
    };
    let mut fds = [PollFd::new(context, PollFlags::IN)];
    match poll(&mut fds, Some(&timeout)) {
        Ok(_) | Err(rustix::io::Errno::INTR) => Ok(()),
        Err(e) => Err(protocol(e)),
    }
}

/// How the server's keymap types text, or `None` if it sent none we can read.
fn server_text_keys(keymap: &reis::event::Keymap) -> Option<TextKeys> {
    if keymap.type_ != ei::keyboard::KeymapType::Xkb || keymap.size > MAX_KEYMAP_BYTES {
        return None;
    }
    let file = File::from(keymap.fd.try_clone().ok()?);
    let mut bytes = vec![0; keymap.size as usize];
    file.read_exact_at(&mut bytes, 0).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let text = text.trim_end_matches('\0');
    let context = xkb::Context::new(xkb::CONTEXT_NO_FLAGS);
    let map = xkb::Keymap::new_from_string(
        &context,
        text.to_owned(),
        xkb::KEYMAP_FORMAT_TEXT_V1,
        xkb::COMPILE_NO_FLAGS,
    )?;
    Some(TextKeys::from_keymap(&map))
}

/// Without a keymap from the server, keys are read as a US layout (what libei assumes).
fn us_text_keys() -> TextKeys {
    crate::text_keys::layout_keymap("us")
        .map(|m| TextKeys::from_keymap(&m))
        .unwrap_or_default()
}

fn now_micros() -> u64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    now.tv_sec as u64 * 1_000_000 + now.tv_nsec as u64 / 1_000
}
