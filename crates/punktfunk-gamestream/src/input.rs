//! Moonlight input packets (the payload of control messages of type 0x0206) decoded into
//! [`InputEvent`]s, and encoded back for tests and simulated clients.
//!
//! Header: u32 **BE** size (bytes after the size field) ‖ u32 **LE** magic ‖ body. Byte order
//! inside the body differs per packet kind and per field; each reader below says which.

use std::ops::{BitOr, BitOrAssign};

use crate::wire::input::{
    battery_state, body_len, magic, motion_type, mouse_button, multi_controller, pen_tool,
    touch_event, HEADER_LEN, KEY_CODE_MASK, SIZE_FIELD_LEN, UTF8_TEXT_MAX_LEN,
};

/// Keyboard modifier bits as the client sends them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Modifiers(pub u8);

impl Modifiers {
    pub const NONE: Self = Self(0);
    pub const SHIFT: Self = Self(crate::wire::input::modifier::SHIFT);
    pub const CTRL: Self = Self(crate::wire::input::modifier::CTRL);
    pub const ALT: Self = Self(crate::wire::input::modifier::ALT);
    pub const META: Self = Self(crate::wire::input::modifier::META);

    pub fn bits(self) -> u8 {
        self.0
    }

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Modifiers {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl BitOrAssign for Modifiers {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MouseButton {
    Left,
    Middle,
    Right,
    /// Back.
    X1,
    /// Forward.
    X2,
}

/// One controller's full state (multi-controller packet).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ControllerState {
    /// The client's controller index, 0–15 in practice (drop others).
    pub controller_number: u16,
    /// Bit n set: controller n is connected. This controller's bit clear means it was removed.
    pub active_gamepad_mask: u16,
    /// `wire::input::button` bits, all 32 (`buttonFlags | buttonFlags2 << 16`).
    pub buttons: u32,
    pub left_trigger: u8,
    pub right_trigger: u8,
    pub left_stick_x: i16,
    /// Positive = up.
    pub left_stick_y: i16,
    pub right_stick_x: i16,
    /// Positive = up.
    pub right_stick_y: i16,
}

/// `LI_TOUCH_EVENT_*`, shared by touch, pen and controller touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TouchEventType {
    Hover,
    Down,
    Up,
    Move,
    /// Cancel this pointer only.
    Cancel,
    /// Pen buttons changed; position and pressure are not valid.
    ButtonOnly,
    HoverLeave,
    /// Cancel every active contact.
    CancelAll,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PenTool {
    /// Keep the previous tool.
    Unknown,
    Pen,
    Eraser,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MotionType {
    /// m/s², gravity included.
    Accelerometer,
    /// Degrees per second.
    Gyroscope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BatteryState {
    Unknown,
    NotPresent,
    Discharging,
    Charging,
    /// On external power, not charging.
    NotCharging,
    Full,
}

/// One decoded input packet. Floats are finite (the decoder refuses NaN and infinities); ranges
/// (0…1 coordinates, pressure) are the host's to clamp.
#[derive(Debug, Clone, PartialEq)]
pub enum InputEvent {
    /// Relative motion; positive dy = down.
    MouseMove {
        dx: i16,
        dy: i16,
    },
    /// Absolute position in a client reference plane. `reference_width`/`height` are the values
    /// as sent, i.e. the client's width − 1 and height − 1: x spans 0..=reference_width (Sunshine
    /// scales by them directly). 0 means unusable: drop.
    MousePosition {
        x: i16,
        y: i16,
        reference_width: i16,
        reference_height: i16,
    },
    MouseButton {
        button: MouseButton,
        pressed: bool,
    },
    /// Vertical wheel in 1/120 notches, positive = away from the user (up).
    Scroll {
        amount: i16,
    },
    /// Horizontal wheel in 1/120 notches, positive = right.
    HorizontalScroll {
        amount: i16,
    },
    /// Windows virtual-key code (US layout), already masked to its low byte.
    Key {
        code: u16,
        pressed: bool,
        modifiers: Modifiers,
    },
    /// Text to type (one code point per packet from current clients, at most 32 bytes).
    Text(String),
    Controller(ControllerState),
    /// A controller appeared: allocate a virtual pad for `controller_number` now.
    ControllerArrival {
        controller_number: u8,
        /// `wire::input::controller_type`.
        controller_type: u8,
        /// `wire::input::capability` bits.
        capabilities: u16,
        /// `wire::input::button` bits the controller physically has.
        supported_buttons: u32,
    },
    Touch {
        event: TouchEventType,
        /// Degrees from vertical, `wire::input::ROTATION_UNKNOWN` if unknown.
        rotation: u16,
        pointer_id: u32,
        x: f32,
        y: f32,
        /// Pressure (down/move) or distance (hover), 0 = unknown.
        pressure_or_distance: f32,
        contact_area_major: f32,
        contact_area_minor: f32,
    },
    Pen {
        event: TouchEventType,
        tool: PenTool,
        /// `wire::input::pen_button` bits.
        buttons: u8,
        x: f32,
        y: f32,
        pressure_or_distance: f32,
        /// Degrees, `wire::input::ROTATION_UNKNOWN` if unknown.
        rotation: u16,
        /// Degrees from perpendicular 0–90, `wire::input::TILT_UNKNOWN` if unknown.
        tilt: u8,
        contact_area_major: f32,
        contact_area_minor: f32,
    },
    ControllerTouch {
        controller_number: u8,
        event: TouchEventType,
        /// 0 first touchpad, 1 second.
        touchpad_index: u8,
        pointer_id: u32,
        x: f32,
        y: f32,
        pressure: f32,
    },
    /// One sensor sample (SDL axis convention). An all-zero gyro sample means "stopped".
    ControllerMotion {
        controller_number: u8,
        motion: MotionType,
        x: f32,
        y: f32,
        z: f32,
    },
    ControllerBattery {
        controller_number: u8,
        state: BatteryState,
        /// 0–100, `wire::input::BATTERY_PERCENTAGE_UNKNOWN` if unknown.
        percentage: u8,
    },
    /// The first input packet of a session; nothing to do (the host sends feedback anyway).
    EnableHaptics,
}

/// Why an input packet was refused. The host drops the packet; none of these is fatal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("input packet of {got} bytes is shorter than its {needed}-byte header")]
    ShortHeader { needed: usize, got: usize },
    #[error("input size field {size} exceeds the {available} bytes present")]
    SizeExceedsPacket { size: u64, available: usize },
    #[error("input size field {0} cannot hold the magic")]
    SizeTooSmall(u32),
    #[error("input packet {magic:#010x} has a {got}-byte body, needs {needed}")]
    ShortBody {
        magic: u32,
        needed: usize,
        got: usize,
    },
    #[error("unknown input packet magic {0:#010x}")]
    UnknownMagic(u32),
    #[error("text input of {0} bytes exceeds 32")]
    TextTooLong(usize),
    #[error("text input is not valid UTF-8")]
    InvalidUtf8,
    #[error("{field} has an unknown value {value}")]
    InvalidValue { field: &'static str, value: u8 },
    #[error("a non-finite float in {field}")]
    NonFiniteFloat { field: &'static str },
}

/// Decodes one input packet. Bytes after `size` are ignored.
pub fn decode_input(payload: &[u8]) -> Result<InputEvent, InputError> {
    let (magic, body) = split_header(payload)?;
    let r = Reader { body, magic };
    match magic {
        magic::KEY_DOWN | magic::KEY_UP => r.keyboard(magic == magic::KEY_DOWN),
        magic::MOUSE_MOVE_RELATIVE => r.mouse_move(),
        magic::MOUSE_MOVE_ABSOLUTE => r.mouse_position(),
        magic::MOUSE_BUTTON_DOWN | magic::MOUSE_BUTTON_UP => {
            r.mouse_button(magic == magic::MOUSE_BUTTON_DOWN)
        }
        magic::SCROLL => r.scroll(),
        magic::HORIZONTAL_SCROLL => r.horizontal_scroll(),
        magic::UTF8_TEXT => text(body),
        magic::MULTI_CONTROLLER => r.controller(),
        magic::ENABLE_HAPTICS => r.enable_haptics(),
        magic::CONTROLLER_ARRIVAL => r.controller_arrival(),
        magic::TOUCH => r.touch(),
        magic::PEN => r.pen(),
        magic::CONTROLLER_TOUCH => r.controller_touch(),
        magic::CONTROLLER_MOTION => r.controller_motion(),
        magic::CONTROLLER_BATTERY => r.controller_battery(),
        other => Err(InputError::UnknownMagic(other)),
    }
}

/// Returns the magic and the body that `size` covers.
fn split_header(payload: &[u8]) -> Result<(u32, &[u8]), InputError> {
    let header = payload.get(..HEADER_LEN).ok_or(InputError::ShortHeader {
        needed: HEADER_LEN,
        got: payload.len(),
    })?;
    let size = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    let magic = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    let available = payload.len() - SIZE_FIELD_LEN;
    if u64::from(size) > available as u64 {
        return Err(InputError::SizeExceedsPacket {
            size: u64::from(size),
            available,
        });
    }
    // size ≤ available < usize::MAX here, so the conversion holds.
    let end = SIZE_FIELD_LEN + size as usize;
    if end < HEADER_LEN {
        return Err(InputError::SizeTooSmall(size));
    }
    Ok((magic, &payload[HEADER_LEN..end]))
}

fn text(body: &[u8]) -> Result<InputEvent, InputError> {
    if body.len() > UTF8_TEXT_MAX_LEN {
        return Err(InputError::TextTooLong(body.len()));
    }
    let text = std::str::from_utf8(body).map_err(|_| InputError::InvalidUtf8)?;
    Ok(InputEvent::Text(text.to_owned()))
}

/// Reads a body field by field, in wire order, after checking its length once.
struct Reader<'a> {
    body: &'a [u8],
    magic: u32,
}

impl<'a> Reader<'a> {
    fn need(&self, needed: usize) -> Result<(), InputError> {
        if self.body.len() < needed {
            return Err(InputError::ShortBody {
                magic: self.magic,
                needed,
                got: self.body.len(),
            });
        }
        Ok(())
    }

    /// Callers have checked the length with `need`, so a short read only yields zeros.
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some((head, rest)) = self.body.split_first_chunk::<N>() {
            out = *head;
            self.body = rest;
        }
        out
    }

    fn u8(&mut self) -> u8 {
        self.take::<1>()[0]
    }
    fn skip<const N: usize>(&mut self) {
        self.take::<N>();
    }
    fn u16_le(&mut self) -> u16 {
        u16::from_le_bytes(self.take())
    }
    fn i16_le(&mut self) -> i16 {
        i16::from_le_bytes(self.take())
    }
    fn i16_be(&mut self) -> i16 {
        i16::from_be_bytes(self.take())
    }
    fn u32_le(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }
    fn f32_le(&mut self, field: &'static str) -> Result<f32, InputError> {
        let value = f32::from_le_bytes(self.take());
        if value.is_finite() {
            Ok(value)
        } else {
            Err(InputError::NonFiniteFloat { field })
        }
    }

    fn keyboard(mut self, pressed: bool) -> Result<InputEvent, InputError> {
        self.need(body_len::KEYBOARD)?;
        let _flags = self.u8(); // SS_KBE_FLAG_NON_NORMALIZED: only matters to Windows hosts
        let code = self.u16_le() & KEY_CODE_MASK;
        let modifiers = Modifiers(self.u8());
        Ok(InputEvent::Key {
            code,
            pressed,
            modifiers,
        })
    }

    fn mouse_move(mut self) -> Result<InputEvent, InputError> {
        self.need(body_len::MOUSE_MOVE_RELATIVE)?;
        Ok(InputEvent::MouseMove {
            dx: self.i16_be(),
            dy: self.i16_be(),
        })
    }

    fn mouse_position(mut self) -> Result<InputEvent, InputError> {
        self.need(body_len::MOUSE_MOVE_ABSOLUTE)?;
        let x = self.i16_be();
        let y = self.i16_be();
        self.skip::<2>(); // unused
        Ok(InputEvent::MousePosition {
            x,
            y,
            reference_width: self.i16_be(),
            reference_height: self.i16_be(),
        })
    }

    fn mouse_button(mut self, pressed: bool) -> Result<InputEvent, InputError> {
        self.need(body_len::MOUSE_BUTTON)?;
        let button = match self.u8() {
            mouse_button::LEFT => MouseButton::Left,
            mouse_button::MIDDLE => MouseButton::Middle,
            mouse_button::RIGHT => MouseButton::Right,
            mouse_button::X1 => MouseButton::X1,
            mouse_button::X2 => MouseButton::X2,
            value => return Err(invalid("mouse button", value)),
        };
        Ok(InputEvent::MouseButton { button, pressed })
    }

    fn scroll(mut self) -> Result<InputEvent, InputError> {
        self.need(body_len::SCROLL)?;
        // scrollAmt2 repeats scrollAmt1; the first one counts.
        Ok(InputEvent::Scroll {
            amount: self.i16_be(),
        })
    }

    fn horizontal_scroll(mut self) -> Result<InputEvent, InputError> {
        self.need(body_len::HORIZONTAL_SCROLL)?;
        Ok(InputEvent::HorizontalScroll {
            amount: self.i16_be(),
        })
    }

    fn controller(mut self) -> Result<InputEvent, InputError> {
        self.need(body_len::MULTI_CONTROLLER)?;
        // Every field little-endian; the constant fields (headerB, midB, tailA, tailB) are not
        // checked, as Sunshine does not.
        self.skip::<2>(); // headerB
        let controller_number = self.u16_le();
        let active_gamepad_mask = self.u16_le();
        self.skip::<2>(); // midB
        let buttons_low = self.u16_le();
        let left_trigger = self.u8();
        let right_trigger = self.u8();
        let left_stick_x = self.i16_le();
        let left_stick_y = self.i16_le();
        let right_stick_x = self.i16_le();
        let right_stick_y = self.i16_le();
        self.skip::<2>(); // tailA
        let buttons_high = self.u16_le();
        Ok(InputEvent::Controller(ControllerState {
            controller_number,
            active_gamepad_mask,
            buttons: u32::from(buttons_low)
                | u32::from(buttons_high) << multi_controller::BUTTON_FLAGS2_SHIFT,
            left_trigger,
            right_trigger,
            left_stick_x,
            left_stick_y,
            right_stick_x,
            right_stick_y,
        }))
    }

    fn enable_haptics(self) -> Result<InputEvent, InputError> {
        self.need(body_len::ENABLE_HAPTICS)?;
        Ok(InputEvent::EnableHaptics)
    }

    fn controller_arrival(mut self) -> Result<InputEvent, InputError> {
        self.need(body_len::CONTROLLER_ARRIVAL)?;
        Ok(InputEvent::ControllerArrival {
            controller_number: self.u8(),
            controller_type: self.u8(),
            capabilities: self.u16_le(),
            supported_buttons: self.u32_le(),
        })
    }

    fn touch(mut self) -> Result<InputEvent, InputError> {
        self.need(body_len::TOUCH)?;
        let event = touch_event_type(self.u8())?;
        self.skip::<1>();
        Ok(InputEvent::Touch {
            event,
            rotation: self.u16_le(),
            pointer_id: self.u32_le(),
            x: self.f32_le("touch x")?,
            y: self.f32_le("touch y")?,
            pressure_or_distance: self.f32_le("touch pressure")?,
            contact_area_major: self.f32_le("touch contact area")?,
            contact_area_minor: self.f32_le("touch contact area")?,
        })
    }

    fn pen(mut self) -> Result<InputEvent, InputError> {
        self.need(body_len::PEN)?;
        let event = touch_event_type(self.u8())?;
        let tool = match self.u8() {
            pen_tool::UNKNOWN => PenTool::Unknown,
            pen_tool::PEN => PenTool::Pen,
            pen_tool::ERASER => PenTool::Eraser,
            value => return Err(invalid("pen tool", value)),
        };
        let buttons = self.u8();
        self.skip::<1>();
        let x = self.f32_le("pen x")?;
        let y = self.f32_le("pen y")?;
        let pressure_or_distance = self.f32_le("pen pressure")?;
        let rotation = self.u16_le();
        let tilt = self.u8();
        self.skip::<1>();
        Ok(InputEvent::Pen {
            event,
            tool,
            buttons,
            x,
            y,
            pressure_or_distance,
            rotation,
            tilt,
            contact_area_major: self.f32_le("pen contact area")?,
            contact_area_minor: self.f32_le("pen contact area")?,
        })
    }

    fn controller_touch(mut self) -> Result<InputEvent, InputError> {
        self.need(body_len::CONTROLLER_TOUCH)?;
        let controller_number = self.u8();
        let event = touch_event_type(self.u8())?;
        self.skip::<1>();
        Ok(InputEvent::ControllerTouch {
            controller_number,
            event,
            touchpad_index: self.u8(),
            pointer_id: self.u32_le(),
            x: self.f32_le("controller touch x")?,
            y: self.f32_le("controller touch y")?,
            pressure: self.f32_le("controller touch pressure")?,
        })
    }

    fn controller_motion(mut self) -> Result<InputEvent, InputError> {
        self.need(body_len::CONTROLLER_MOTION)?;
        let controller_number = self.u8();
        let motion = match self.u8() {
            motion_type::ACCELEROMETER => MotionType::Accelerometer,
            motion_type::GYROSCOPE => MotionType::Gyroscope,
            value => return Err(invalid("motion type", value)),
        };
        self.skip::<2>();
        Ok(InputEvent::ControllerMotion {
            controller_number,
            motion,
            x: self.f32_le("motion x")?,
            y: self.f32_le("motion y")?,
            z: self.f32_le("motion z")?,
        })
    }

    fn controller_battery(mut self) -> Result<InputEvent, InputError> {
        self.need(body_len::CONTROLLER_BATTERY)?;
        let controller_number = self.u8();
        let state = match self.u8() {
            battery_state::UNKNOWN => BatteryState::Unknown,
            battery_state::NOT_PRESENT => BatteryState::NotPresent,
            battery_state::DISCHARGING => BatteryState::Discharging,
            battery_state::CHARGING => BatteryState::Charging,
            battery_state::NOT_CHARGING => BatteryState::NotCharging,
            battery_state::FULL => BatteryState::Full,
            value => return Err(invalid("battery state", value)),
        };
        Ok(InputEvent::ControllerBattery {
            controller_number,
            state,
            percentage: self.u8(),
        })
    }
}

fn invalid(field: &'static str, value: u8) -> InputError {
    InputError::InvalidValue { field, value }
}

fn touch_event_type(value: u8) -> Result<TouchEventType, InputError> {
    Ok(match value {
        touch_event::HOVER => TouchEventType::Hover,
        touch_event::DOWN => TouchEventType::Down,
        touch_event::UP => TouchEventType::Up,
        touch_event::MOVE => TouchEventType::Move,
        touch_event::CANCEL => TouchEventType::Cancel,
        touch_event::BUTTON_ONLY => TouchEventType::ButtonOnly,
        touch_event::HOVER_LEAVE => TouchEventType::HoverLeave,
        touch_event::CANCEL_ALL => TouchEventType::CancelAll,
        _ => return Err(invalid("touch event type", value)),
    })
}

fn touch_event_byte(event: TouchEventType) -> u8 {
    match event {
        TouchEventType::Hover => touch_event::HOVER,
        TouchEventType::Down => touch_event::DOWN,
        TouchEventType::Up => touch_event::UP,
        TouchEventType::Move => touch_event::MOVE,
        TouchEventType::Cancel => touch_event::CANCEL,
        TouchEventType::ButtonOnly => touch_event::BUTTON_ONLY,
        TouchEventType::HoverLeave => touch_event::HOVER_LEAVE,
        TouchEventType::CancelAll => touch_event::CANCEL_ALL,
    }
}

/// Builds a body in wire order.
#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    fn zeros(&mut self, n: usize) -> &mut Self {
        self.0.resize(self.0.len() + n, 0);
        self
    }
    fn u16_le(&mut self, v: u16) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn i16_le(&mut self, v: i16) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn i16_be(&mut self, v: i16) -> &mut Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn u32_le(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn f32_le(&mut self, v: f32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
}

/// Encodes an event as a client sends it (Gen 5+ magics, Sunshine extensions on). Text is written
/// as is; the client splits anything longer than 32 bytes, which [`decode_input`] refuses.
pub fn encode_input(event: &InputEvent) -> Vec<u8> {
    let (magic, body) = encode_body(event);
    let size =
        u32::try_from(body.len() + crate::wire::input::MAGIC_LEN).expect("input bodies are tiny");
    let mut packet = Vec::with_capacity(HEADER_LEN + body.len());
    packet.extend_from_slice(&size.to_be_bytes());
    packet.extend_from_slice(&magic.to_le_bytes());
    packet.extend_from_slice(&body);
    packet
}

fn encode_body(event: &InputEvent) -> (u32, Vec<u8>) {
    let mut w = Writer::default();
    let magic = match *event {
        InputEvent::MouseMove { dx, dy } => {
            w.i16_be(dx).i16_be(dy);
            magic::MOUSE_MOVE_RELATIVE
        }
        InputEvent::MousePosition {
            x,
            y,
            reference_width,
            reference_height,
        } => {
            w.i16_be(x)
                .i16_be(y)
                .zeros(2)
                .i16_be(reference_width)
                .i16_be(reference_height);
            magic::MOUSE_MOVE_ABSOLUTE
        }
        InputEvent::MouseButton { button, pressed } => {
            w.u8(mouse_button_byte(button));
            if pressed {
                magic::MOUSE_BUTTON_DOWN
            } else {
                magic::MOUSE_BUTTON_UP
            }
        }
        InputEvent::Scroll { amount } => {
            w.i16_be(amount).i16_be(amount).zeros(2);
            magic::SCROLL
        }
        InputEvent::HorizontalScroll { amount } => {
            w.i16_be(amount);
            magic::HORIZONTAL_SCROLL
        }
        InputEvent::Key {
            code,
            pressed,
            modifiers,
        } => {
            w.u8(0).u16_le(code).u8(modifiers.bits()).zeros(2);
            if pressed {
                magic::KEY_DOWN
            } else {
                magic::KEY_UP
            }
        }
        InputEvent::Text(ref text) => {
            w.0.extend_from_slice(text.as_bytes());
            magic::UTF8_TEXT
        }
        InputEvent::Controller(ref c) => {
            encode_controller(&mut w, c);
            magic::MULTI_CONTROLLER
        }
        InputEvent::ControllerArrival {
            controller_number,
            controller_type,
            capabilities,
            supported_buttons,
        } => {
            w.u8(controller_number)
                .u8(controller_type)
                .u16_le(capabilities)
                .u32_le(supported_buttons);
            magic::CONTROLLER_ARRIVAL
        }
        InputEvent::Touch {
            event,
            rotation,
            pointer_id,
            x,
            y,
            pressure_or_distance,
            contact_area_major,
            contact_area_minor,
        } => {
            w.u8(touch_event_byte(event))
                .zeros(1)
                .u16_le(rotation)
                .u32_le(pointer_id)
                .f32_le(x)
                .f32_le(y)
                .f32_le(pressure_or_distance)
                .f32_le(contact_area_major)
                .f32_le(contact_area_minor);
            magic::TOUCH
        }
        InputEvent::Pen {
            event,
            tool,
            buttons,
            x,
            y,
            pressure_or_distance,
            rotation,
            tilt,
            contact_area_major,
            contact_area_minor,
        } => {
            w.u8(touch_event_byte(event))
                .u8(pen_tool_byte(tool))
                .u8(buttons)
                .zeros(1)
                .f32_le(x)
                .f32_le(y)
                .f32_le(pressure_or_distance)
                .u16_le(rotation)
                .u8(tilt)
                .zeros(1)
                .f32_le(contact_area_major)
                .f32_le(contact_area_minor);
            magic::PEN
        }
        InputEvent::ControllerTouch {
            controller_number,
            event,
            touchpad_index,
            pointer_id,
            x,
            y,
            pressure,
        } => {
            w.u8(controller_number)
                .u8(touch_event_byte(event))
                .zeros(1)
                .u8(touchpad_index)
                .u32_le(pointer_id)
                .f32_le(x)
                .f32_le(y)
                .f32_le(pressure);
            magic::CONTROLLER_TOUCH
        }
        InputEvent::ControllerMotion {
            controller_number,
            motion,
            x,
            y,
            z,
        } => {
            let motion = match motion {
                MotionType::Accelerometer => motion_type::ACCELEROMETER,
                MotionType::Gyroscope => motion_type::GYROSCOPE,
            };
            w.u8(controller_number)
                .u8(motion)
                .zeros(2)
                .f32_le(x)
                .f32_le(y)
                .f32_le(z);
            magic::CONTROLLER_MOTION
        }
        InputEvent::ControllerBattery {
            controller_number,
            state,
            percentage,
        } => {
            w.u8(controller_number)
                .u8(battery_state_byte(state))
                .u8(percentage)
                .zeros(1);
            magic::CONTROLLER_BATTERY
        }
        InputEvent::EnableHaptics => {
            w.u16_le(1);
            magic::ENABLE_HAPTICS
        }
    };
    (magic, w.0)
}

fn encode_controller(w: &mut Writer, c: &ControllerState) {
    let low = (c.buttons & 0xFFFF) as u16;
    let high = (c.buttons >> multi_controller::BUTTON_FLAGS2_SHIFT) as u16;
    w.u16_le(multi_controller::HEADER_B)
        .u16_le(c.controller_number)
        .u16_le(c.active_gamepad_mask)
        .u16_le(multi_controller::MID_B)
        .u16_le(low)
        .u8(c.left_trigger)
        .u8(c.right_trigger)
        .i16_le(c.left_stick_x)
        .i16_le(c.left_stick_y)
        .i16_le(c.right_stick_x)
        .i16_le(c.right_stick_y)
        .u16_le(multi_controller::TAIL_A)
        .u16_le(high)
        .u16_le(multi_controller::TAIL_B);
}

fn mouse_button_byte(button: MouseButton) -> u8 {
    match button {
        MouseButton::Left => mouse_button::LEFT,
        MouseButton::Middle => mouse_button::MIDDLE,
        MouseButton::Right => mouse_button::RIGHT,
        MouseButton::X1 => mouse_button::X1,
        MouseButton::X2 => mouse_button::X2,
    }
}

fn pen_tool_byte(tool: PenTool) -> u8 {
    match tool {
        PenTool::Unknown => pen_tool::UNKNOWN,
        PenTool::Pen => pen_tool::PEN,
        PenTool::Eraser => pen_tool::ERASER,
    }
}

fn battery_state_byte(state: BatteryState) -> u8 {
    match state {
        BatteryState::Unknown => battery_state::UNKNOWN,
        BatteryState::NotPresent => battery_state::NOT_PRESENT,
        BatteryState::Discharging => battery_state::DISCHARGING,
        BatteryState::Charging => battery_state::CHARGING,
        BatteryState::NotCharging => battery_state::NOT_CHARGING,
        BatteryState::Full => battery_state::FULL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::input::{button, capability, magic as m};
    use proptest::prelude::*;

    /// Decodes `bytes` to `event`, and `event` encodes back to exactly `bytes`.
    fn both_ways(bytes: &[u8], event: InputEvent) {
        assert_eq!(
            decode_input(bytes),
            Ok(event.clone()),
            "decode {bytes:02x?}"
        );
        assert_eq!(encode_input(&event), bytes, "encode {event:?}");
    }

    #[test]
    fn keyboard() {
        // NV_KEYBOARD_PACKET: size BE 10, magic LE 3, flags, keyCode LE, modifiers, zero2.
        let shift_a = [0, 0, 0, 0x0A, 3, 0, 0, 0, 0x00, 0x41, 0x80, 0x01, 0, 0];
        assert_eq!(
            decode_input(&shift_a),
            Ok(InputEvent::Key {
                code: 0x41,
                pressed: true,
                modifiers: Modifiers::SHIFT
            })
        );
        both_ways(
            &[0, 0, 0, 0x0A, 4, 0, 0, 0, 0x00, 0xA2, 0x00, 0x0A, 0, 0],
            InputEvent::Key {
                code: 0xA2,
                pressed: false,
                modifiers: Modifiers::CTRL | Modifiers::META,
            },
        );
        // The non-normalised flag does not change the key.
        let flagged = [0, 0, 0, 0x0A, 3, 0, 0, 0, 0x01, 0xDE, 0x80, 0x00, 0, 0];
        assert!(matches!(
            decode_input(&flagged),
            Ok(InputEvent::Key { code: 0xDE, .. })
        ));
        let mods = Modifiers::SHIFT | Modifiers::ALT;
        assert!(mods.contains(Modifiers::ALT) && !mods.contains(Modifiers::CTRL));
    }

    #[test]
    fn mouse() {
        // NV_REL_MOUSE_MOVE_PACKET (magic 7): deltas BE.
        both_ways(
            &[0, 0, 0, 8, 7, 0, 0, 0, 0x00, 0x05, 0xFF, 0xFD],
            InputEvent::MouseMove { dx: 5, dy: -3 },
        );
        // NV_ABS_MOUSE_MOVE_PACKET (magic 5): x, y, unused, width − 1, height − 1, all BE.
        both_ways(
            &[
                0, 0, 0, 14, 5, 0, 0, 0, 0x01, 0x00, 0x00, 0x80, 0, 0, 0x07, 0x7F, 0x04, 0x37,
            ],
            InputEvent::MousePosition {
                x: 256,
                y: 128,
                reference_width: 1919,
                reference_height: 1079,
            },
        );
        // NV_MOUSE_BUTTON_PACKET: magic 8 down / 9 up, button u8.
        both_ways(
            &[0, 0, 0, 5, 8, 0, 0, 0, 1],
            InputEvent::MouseButton {
                button: MouseButton::Left,
                pressed: true,
            },
        );
        both_ways(
            &[0, 0, 0, 5, 9, 0, 0, 0, 5],
            InputEvent::MouseButton {
                button: MouseButton::X2,
                pressed: false,
            },
        );
        both_ways(
            &[0, 0, 0, 5, 8, 0, 0, 0, 3],
            InputEvent::MouseButton {
                button: MouseButton::Right,
                pressed: true,
            },
        );
        // NV_SCROLL_PACKET (magic 0x0A): amount BE twice, zero.
        both_ways(
            &[0, 0, 0, 10, 0x0A, 0, 0, 0, 0x00, 0x78, 0x00, 0x78, 0, 0],
            InputEvent::Scroll { amount: 120 },
        );
        both_ways(
            &[0, 0, 0, 10, 0x0A, 0, 0, 0, 0xFF, 0xF1, 0xFF, 0xF1, 0, 0],
            InputEvent::Scroll { amount: -15 },
        );
        // SS_HSCROLL_PACKET (magic 0x55000001): amount BE.
        both_ways(
            &[0, 0, 0, 6, 0x01, 0, 0, 0x55, 0xFF, 0x88],
            InputEvent::HorizontalScroll { amount: -120 },
        );
    }

    #[test]
    fn text() {
        // NV_UNICODE_PACKET: size = 4 + n, UTF-8 bytes, no terminator.
        both_ways(
            &[0, 0, 0, 6, 0x17, 0, 0, 0, 0xC3, 0xA9],
            InputEvent::Text("é".into()),
        );
        both_ways(
            &[0, 0, 0, 8, 0x17, 0, 0, 0, 0xF0, 0x9F, 0x98, 0x80],
            InputEvent::Text("😀".into()),
        );
        let mut long = vec![0, 0, 0, 37, 0x17, 0, 0, 0];
        long.extend_from_slice(&[b'a'; 33]);
        assert_eq!(decode_input(&long), Err(InputError::TextTooLong(33)));
        long[3] = 36;
        assert_eq!(decode_input(&long), Ok(InputEvent::Text("a".repeat(32))));
        assert_eq!(
            decode_input(&[0, 0, 0, 6, 0x17, 0, 0, 0, 0xC3, 0x28]),
            Err(InputError::InvalidUtf8)
        );
        // A size that stops inside a code point is invalid UTF-8, not a panic.
        assert_eq!(
            decode_input(&[0, 0, 0, 5, 0x17, 0, 0, 0, 0xC3, 0xA9]),
            Err(InputError::InvalidUtf8)
        );
    }

    #[test]
    fn multi_controller() {
        // NV_MULTI_CONTROLLER_PACKET, every field LE.
        let bytes = [
            0, 0, 0, 0x1E, 0x0C, 0, 0, 0, // header, size 30
            0x1A, 0x00, // headerB
            0x01, 0x00, // controllerNumber 1
            0x03, 0x00, // activeGamepadMask
            0x14, 0x00, // midB
            0x01, 0x10, // buttonFlags: UP | A
            0xFF, 0x00, // triggers
            0xFF, 0x7F, 0x00, 0x80, 0x00, 0x01, 0xFE, 0xFF, // sticks
            0x9C, 0x00, // tailA
            0x01, 0x00, // buttonFlags2: PADDLE1 >> 16
            0x55, 0x00, // tailB
        ];
        both_ways(
            &bytes,
            InputEvent::Controller(ControllerState {
                controller_number: 1,
                active_gamepad_mask: 0b11,
                buttons: button::UP | button::A | button::PADDLE1,
                left_trigger: 255,
                right_trigger: 0,
                left_stick_x: i16::MAX,
                left_stick_y: i16::MIN,
                right_stick_x: 256,
                right_stick_y: -2,
            }),
        );
        // NV_HAPTICS_PACKET: enable u16 LE = 1.
        both_ways(
            &[0, 0, 0, 6, 0x0D, 0, 0, 0, 1, 0],
            InputEvent::EnableHaptics,
        );
    }

    #[test]
    fn controller_extensions() {
        // SS_CONTROLLER_ARRIVAL_PACKET: number, type, capabilities LE, supported buttons LE.
        both_ways(
            &[
                0, 0, 0, 12, 0x04, 0, 0, 0x55, 2, 2, 0x3B, 0x00, 0xFF, 0xFF, 0x10, 0x00,
            ],
            InputEvent::ControllerArrival {
                controller_number: 2,
                controller_type: crate::wire::input::controller_type::PLAYSTATION,
                capabilities: capability::ANALOG_TRIGGERS
                    | capability::RUMBLE
                    | capability::TOUCHPAD
                    | capability::ACCELEROMETER
                    | capability::GYROSCOPE,
                supported_buttons: 0xFFFF | button::TOUCHPAD,
            },
        );
        // SS_CONTROLLER_TOUCH_PACKET: number, event, zero, touchpad index, pointer LE, 3 floats LE.
        both_ways(
            &[
                0, 0, 0, 24, 0x05, 0, 0, 0x55, 1, 1, 0, 1, 7, 0, 0, 0, 0x00, 0x00, 0x80, 0x3F, 0,
                0, 0, 0, 0x00, 0x00, 0x00, 0x3F,
            ],
            InputEvent::ControllerTouch {
                controller_number: 1,
                event: TouchEventType::Down,
                touchpad_index: 1,
                pointer_id: 7,
                x: 1.0,
                y: 0.0,
                pressure: 0.5,
            },
        );
        // SS_CONTROLLER_MOTION_PACKET: number, type, 2 zero, x y z LE floats.
        both_ways(
            &[
                0, 0, 0, 20, 0x06, 0, 0, 0x55, 0, 2, 0, 0, 0x00, 0x00, 0x80, 0xBF, 0x00, 0x00,
                0x00, 0x40, 0, 0, 0, 0,
            ],
            InputEvent::ControllerMotion {
                controller_number: 0,
                motion: MotionType::Gyroscope,
                x: -1.0,
                y: 2.0,
                z: 0.0,
            },
        );
        // SS_CONTROLLER_BATTERY_PACKET: number, state, percentage, zero.
        both_ways(
            &[0, 0, 0, 8, 0x07, 0, 0, 0x55, 3, 3, 100, 0],
            InputEvent::ControllerBattery {
                controller_number: 3,
                state: BatteryState::Charging,
                percentage: 100,
            },
        );
    }

    #[test]
    fn touch_and_pen() {
        // SS_TOUCH_PACKET: event, zero, rotation LE, pointer LE, 5 floats LE.
        both_ways(
            &[
                0, 0, 0, 32, 0x02, 0, 0, 0x55, 1, 0, 0x5A, 0x00, 0x44, 0x33, 0x22, 0x11, 0x00,
                0x00, 0x00, 0x3F, 0x00, 0x00, 0x80, 0x3E, 0x00, 0x00, 0x80, 0x3F, 0, 0, 0, 0, 0, 0,
                0, 0,
            ],
            InputEvent::Touch {
                event: TouchEventType::Down,
                rotation: 90,
                pointer_id: 0x1122_3344,
                x: 0.5,
                y: 0.25,
                pressure_or_distance: 1.0,
                contact_area_major: 0.0,
                contact_area_minor: 0.0,
            },
        );
        // SS_PEN_PACKET: event, tool, buttons, zero, x y pressure floats, rotation LE, tilt, zero,
        // two contact-area floats.
        both_ways(
            &[
                0, 0, 0, 32, 0x03, 0, 0, 0x55, 3, 2, 5, 0, 0x00, 0x00, 0x00, 0x3F, 0x00, 0x00,
                0x80, 0x3E, 0, 0, 0, 0, 0xFF, 0xFF, 45, 0, 0x00, 0x00, 0x00, 0x3E, 0x00, 0x00,
                0x00, 0x3E,
            ],
            InputEvent::Pen {
                event: TouchEventType::Move,
                tool: PenTool::Eraser,
                buttons: crate::wire::input::pen_button::PRIMARY
                    | crate::wire::input::pen_button::TERTIARY,
                x: 0.5,
                y: 0.25,
                pressure_or_distance: 0.0,
                rotation: crate::wire::input::ROTATION_UNKNOWN,
                tilt: 45,
                contact_area_major: 0.125,
                contact_area_minor: 0.125,
            },
        );
    }

    #[test]
    fn refuses_malformed_packets() {
        assert_eq!(
            decode_input(&[]),
            Err(InputError::ShortHeader { needed: 8, got: 0 })
        );
        assert_eq!(
            decode_input(&[0, 0, 0, 8, 7, 0, 0]),
            Err(InputError::ShortHeader { needed: 8, got: 7 })
        );
        // Size beyond the bytes present, including the absurd maximum.
        assert_eq!(
            decode_input(&[0, 0, 0, 9, 7, 0, 0, 0, 0, 5, 0xFF, 0xFD]),
            Err(InputError::SizeExceedsPacket {
                size: 9,
                available: 8
            })
        );
        assert!(matches!(
            decode_input(&[0xFF, 0xFF, 0xFF, 0xFF, 7, 0, 0, 0]),
            Err(InputError::SizeExceedsPacket { .. })
        ));
        assert_eq!(
            decode_input(&[0, 0, 0, 3, 7, 0, 0, 0]),
            Err(InputError::SizeTooSmall(3))
        );
        // A keyboard packet whose size leaves out its last byte.
        assert_eq!(
            decode_input(&[0, 0, 0, 9, 3, 0, 0, 0, 0, 0x41, 0, 0, 0, 0]),
            Err(InputError::ShortBody {
                magic: m::KEY_DOWN,
                needed: 6,
                got: 5
            })
        );
        assert_eq!(
            decode_input(&[0, 0, 0, 4, 0x99, 0, 0, 0]),
            Err(InputError::UnknownMagic(0x99))
        );
        // Pre-Gen-5 relative mouse magic is not ours.
        assert_eq!(
            decode_input(&[0, 0, 0, 8, 6, 0, 0, 0, 0, 1, 0, 1]),
            Err(InputError::UnknownMagic(6))
        );
        assert_eq!(
            decode_input(&[0, 0, 0, 5, 8, 0, 0, 0, 6]),
            Err(InputError::InvalidValue {
                field: "mouse button",
                value: 6
            })
        );
        assert_eq!(
            decode_input(&[0, 0, 0, 8, 0x07, 0, 0, 0x55, 0, 6, 0, 0]),
            Err(InputError::InvalidValue {
                field: "battery state",
                value: 6
            })
        );
        let mut touch = encode_input(&InputEvent::Touch {
            event: TouchEventType::Move,
            rotation: 0,
            pointer_id: 1,
            x: 0.0,
            y: 0.0,
            pressure_or_distance: 0.0,
            contact_area_major: 0.0,
            contact_area_minor: 0.0,
        });
        touch[8] = 8;
        assert_eq!(
            decode_input(&touch),
            Err(InputError::InvalidValue {
                field: "touch event type",
                value: 8
            })
        );
        touch[8] = 3;
        touch[16..20].copy_from_slice(&f32::NAN.to_le_bytes());
        assert_eq!(
            decode_input(&touch),
            Err(InputError::NonFiniteFloat { field: "touch x" })
        );
        touch[16..20].copy_from_slice(&f32::INFINITY.to_le_bytes());
        assert!(decode_input(&touch).is_err());
        // Bytes after `size` are not part of the packet.
        assert_eq!(
            decode_input(&[0, 0, 0, 8, 7, 0, 0, 0, 0, 5, 0xFF, 0xFD, 0xAA]),
            Ok(InputEvent::MouseMove { dx: 5, dy: -3 })
        );
    }

    fn finite() -> impl Strategy<Value = f32> {
        any::<f32>().prop_filter("finite", |f| f.is_finite())
    }

    fn touch_event() -> impl Strategy<Value = TouchEventType> {
        prop::sample::select(vec![
            TouchEventType::Hover,
            TouchEventType::Down,
            TouchEventType::Up,
            TouchEventType::Move,
            TouchEventType::Cancel,
            TouchEventType::ButtonOnly,
            TouchEventType::HoverLeave,
            TouchEventType::CancelAll,
        ])
    }

    fn event() -> impl Strategy<Value = InputEvent> {
        let buttons = prop::sample::select(vec![
            MouseButton::Left,
            MouseButton::Middle,
            MouseButton::Right,
            MouseButton::X1,
            MouseButton::X2,
        ]);
        let controller = (
            any::<u16>(),
            any::<u16>(),
            any::<u32>(),
            any::<u8>(),
            any::<u8>(),
            any::<[i16; 4]>(),
        )
            .prop_map(|(n, mask, b, lt, rt, s)| {
                InputEvent::Controller(ControllerState {
                    controller_number: n,
                    active_gamepad_mask: mask,
                    buttons: b,
                    left_trigger: lt,
                    right_trigger: rt,
                    left_stick_x: s[0],
                    left_stick_y: s[1],
                    right_stick_x: s[2],
                    right_stick_y: s[3],
                })
            });
        let tool = prop::sample::select(vec![PenTool::Unknown, PenTool::Pen, PenTool::Eraser]);
        let battery = prop::sample::select(vec![
            BatteryState::Unknown,
            BatteryState::NotPresent,
            BatteryState::Discharging,
            BatteryState::Charging,
            BatteryState::NotCharging,
            BatteryState::Full,
        ]);
        prop_oneof![
            (any::<i16>(), any::<i16>()).prop_map(|(dx, dy)| InputEvent::MouseMove { dx, dy }),
            any::<[i16; 4]>().prop_map(|v| InputEvent::MousePosition {
                x: v[0],
                y: v[1],
                reference_width: v[2],
                reference_height: v[3]
            }),
            (buttons, any::<bool>())
                .prop_map(|(button, pressed)| InputEvent::MouseButton { button, pressed }),
            any::<i16>().prop_map(|amount| InputEvent::Scroll { amount }),
            any::<i16>().prop_map(|amount| InputEvent::HorizontalScroll { amount }),
            (0..=0xFFu16, any::<bool>(), any::<u8>()).prop_map(|(code, pressed, m)| {
                InputEvent::Key {
                    code,
                    pressed,
                    modifiers: Modifiers(m),
                }
            }),
            ".{0,8}".prop_map(InputEvent::Text),
            controller,
            (any::<u8>(), any::<u8>(), any::<u16>(), any::<u32>()).prop_map(|(n, t, c, b)| {
                InputEvent::ControllerArrival {
                    controller_number: n,
                    controller_type: t,
                    capabilities: c,
                    supported_buttons: b,
                }
            }),
            (
                touch_event(),
                any::<u16>(),
                any::<u32>(),
                prop::array::uniform5(finite())
            )
                .prop_map(|(event, rotation, pointer_id, f)| InputEvent::Touch {
                    event,
                    rotation,
                    pointer_id,
                    x: f[0],
                    y: f[1],
                    pressure_or_distance: f[2],
                    contact_area_major: f[3],
                    contact_area_minor: f[4],
                }),
            (
                touch_event(),
                tool,
                any::<u8>(),
                any::<u16>(),
                any::<u8>(),
                prop::array::uniform5(finite())
            )
                .prop_map(|(event, tool, buttons, rotation, tilt, f)| {
                    InputEvent::Pen {
                        event,
                        tool,
                        buttons,
                        x: f[0],
                        y: f[1],
                        pressure_or_distance: f[2],
                        rotation,
                        tilt,
                        contact_area_major: f[3],
                        contact_area_minor: f[4],
                    }
                }),
            (
                any::<u8>(),
                touch_event(),
                any::<u8>(),
                any::<u32>(),
                prop::array::uniform3(finite())
            )
                .prop_map(
                    |(controller_number, event, touchpad_index, pointer_id, f)| {
                        InputEvent::ControllerTouch {
                            controller_number,
                            event,
                            touchpad_index,
                            pointer_id,
                            x: f[0],
                            y: f[1],
                            pressure: f[2],
                        }
                    }
                ),
            (any::<u8>(), any::<bool>(), prop::array::uniform3(finite())).prop_map(
                |(n, gyro, f)| {
                    InputEvent::ControllerMotion {
                        controller_number: n,
                        motion: if gyro {
                            MotionType::Gyroscope
                        } else {
                            MotionType::Accelerometer
                        },
                        x: f[0],
                        y: f[1],
                        z: f[2],
                    }
                }
            ),
            (any::<u8>(), battery, any::<u8>()).prop_map(
                |(controller_number, state, percentage)| {
                    InputEvent::ControllerBattery {
                        controller_number,
                        state,
                        percentage,
                    }
                }
            ),
            Just(InputEvent::EnableHaptics),
        ]
    }

    const MAGICS: [u32; 17] = [
        m::KEY_DOWN,
        m::KEY_UP,
        m::MOUSE_MOVE_ABSOLUTE,
        m::MOUSE_MOVE_RELATIVE,
        m::MOUSE_BUTTON_DOWN,
        m::MOUSE_BUTTON_UP,
        m::SCROLL,
        m::MULTI_CONTROLLER,
        m::ENABLE_HAPTICS,
        m::UTF8_TEXT,
        m::HORIZONTAL_SCROLL,
        m::TOUCH,
        m::PEN,
        m::CONTROLLER_ARRIVAL,
        m::CONTROLLER_TOUCH,
        m::CONTROLLER_MOTION,
        m::CONTROLLER_BATTERY,
    ];

    proptest! {
        #[test]
        fn decode_inverts_encode(event in event()) {
            let bytes = encode_input(&event);
            let size = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
            prop_assert_eq!(size + 4, bytes.len());
            prop_assert_eq!(decode_input(&bytes), Ok(event));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_input(&bytes);
        }

        /// Well-framed packets of every kind with random bodies: whatever decodes re-encodes to a
        /// packet that decodes the same (so no field is lost or misread between the two).
        #[test]
        fn framed_random_bodies_are_stable(magic in prop::sample::select(MAGICS.to_vec()), body in prop::collection::vec(any::<u8>(), 0..40)) {
            let mut packet = ((body.len() + 4) as u32).to_be_bytes().to_vec();
            packet.extend_from_slice(&magic.to_le_bytes());
            packet.extend_from_slice(&body);
            if let Ok(event) = decode_input(&packet) {
                prop_assert_eq!(decode_input(&encode_input(&event)), Ok(event));
            }
        }
    }
}
