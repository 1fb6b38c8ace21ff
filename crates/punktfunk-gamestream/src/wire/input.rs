//! Input packet wire numbers (moonlight-common-c `Input.h`, `Limelight.h`), Gen 5+ magics as sent
//! to a host reporting 7.1.431. Byte order differs per field; the decoder notes it where it reads.

/// Header: u32 **BE** size (bytes after this field) ‖ u32 **LE** magic.
pub const SIZE_FIELD_LEN: usize = 4;
pub const MAGIC_LEN: usize = 4;
pub const HEADER_LEN: usize = SIZE_FIELD_LEN + MAGIC_LEN;

/// Packet kinds (the `magic`).
pub mod magic {
    pub const KEY_DOWN: u32 = 0x0000_0003;
    pub const KEY_UP: u32 = 0x0000_0004;
    pub const MOUSE_MOVE_ABSOLUTE: u32 = 0x0000_0005;
    pub const MOUSE_MOVE_RELATIVE: u32 = 0x0000_0007;
    pub const MOUSE_BUTTON_DOWN: u32 = 0x0000_0008;
    pub const MOUSE_BUTTON_UP: u32 = 0x0000_0009;
    pub const SCROLL: u32 = 0x0000_000A;
    pub const MULTI_CONTROLLER: u32 = 0x0000_000C;
    pub const ENABLE_HAPTICS: u32 = 0x0000_000D;
    pub const UTF8_TEXT: u32 = 0x0000_0017;
    pub const HORIZONTAL_SCROLL: u32 = 0x5500_0001;
    pub const TOUCH: u32 = 0x5500_0002;
    pub const PEN: u32 = 0x5500_0003;
    pub const CONTROLLER_ARRIVAL: u32 = 0x5500_0004;
    pub const CONTROLLER_TOUCH: u32 = 0x5500_0005;
    pub const CONTROLLER_MOTION: u32 = 0x5500_0006;
    pub const CONTROLLER_BATTERY: u32 = 0x5500_0007;
}

/// Body length (after the header) of each fixed-size kind.
pub mod body_len {
    /// flags u8 ‖ key code i16 LE ‖ modifiers u8 ‖ 2 zero bytes.
    pub const KEYBOARD: usize = 6;
    /// x, y, unused, width − 1, height − 1: i16 BE each.
    pub const MOUSE_MOVE_ABSOLUTE: usize = 10;
    /// dx, dy: i16 BE.
    pub const MOUSE_MOVE_RELATIVE: usize = 4;
    /// button u8.
    pub const MOUSE_BUTTON: usize = 1;
    /// amount i16 BE ‖ copy i16 BE ‖ 2 zero bytes.
    pub const SCROLL: usize = 6;
    /// All LE; see `multi_controller`.
    pub const MULTI_CONTROLLER: usize = 26;
    /// enable u16 LE.
    pub const ENABLE_HAPTICS: usize = 2;
    /// amount i16 BE.
    pub const HORIZONTAL_SCROLL: usize = 2;
    pub const TOUCH: usize = 28;
    pub const PEN: usize = 28;
    pub const CONTROLLER_ARRIVAL: usize = 8;
    pub const CONTROLLER_TOUCH: usize = 20;
    pub const CONTROLLER_MOTION: usize = 16;
    pub const CONTROLLER_BATTERY: usize = 4;
}

/// UTF-8 text: at most this many bytes per packet (`UTF8_TEXT_EVENT_MAX_COUNT`).
pub const UTF8_TEXT_MAX_LEN: usize = 32;

/// Keyboard: the Windows virtual-key code is the low byte; clients set 0x8000 on top.
pub const KEY_CODE_MASK: u16 = 0x00FF;
/// Keyboard flag `SS_KBE_FLAG_NON_NORMALIZED`: the VK was not mapped to a US-layout key.
pub const KEY_FLAG_NON_NORMALIZED: u8 = 0x01;

/// Keyboard modifier bits.
pub mod modifier {
    pub const SHIFT: u8 = 0x01;
    pub const CTRL: u8 = 0x02;
    pub const ALT: u8 = 0x04;
    pub const META: u8 = 0x08;
}

/// Mouse button numbers.
pub mod mouse_button {
    pub const LEFT: u8 = 0x01;
    pub const MIDDLE: u8 = 0x02;
    pub const RIGHT: u8 = 0x03;
    pub const X1: u8 = 0x04;
    pub const X2: u8 = 0x05;
}

/// Constant fields of the multi-controller packet (all i16 LE on the wire).
pub mod multi_controller {
    pub const HEADER_B: u16 = 0x001A;
    pub const MID_B: u16 = 0x0014;
    pub const TAIL_A: u16 = 0x009C;
    pub const TAIL_B: u16 = 0x0055;
    /// `buttonFlags2` carries the upper 16 button bits.
    pub const BUTTON_FLAGS2_SHIFT: u32 = 16;
}

/// Controller button bits (`buttonFlags | buttonFlags2 << 16`).
pub mod button {
    pub const UP: u32 = 0x0001;
    pub const DOWN: u32 = 0x0002;
    pub const LEFT: u32 = 0x0004;
    pub const RIGHT: u32 = 0x0008;
    pub const PLAY: u32 = 0x0010;
    pub const BACK: u32 = 0x0020;
    pub const LS_CLICK: u32 = 0x0040;
    pub const RS_CLICK: u32 = 0x0080;
    pub const LB: u32 = 0x0100;
    pub const RB: u32 = 0x0200;
    pub const SPECIAL: u32 = 0x0400;
    pub const A: u32 = 0x1000;
    pub const B: u32 = 0x2000;
    pub const X: u32 = 0x4000;
    pub const Y: u32 = 0x8000;
    pub const PADDLE1: u32 = 0x01_0000;
    pub const PADDLE2: u32 = 0x02_0000;
    pub const PADDLE3: u32 = 0x04_0000;
    pub const PADDLE4: u32 = 0x08_0000;
    pub const TOUCHPAD: u32 = 0x10_0000;
    pub const MISC: u32 = 0x20_0000;
}

/// Controller types of the arrival packet (`LI_CTYPE_*`).
pub mod controller_type {
    pub const UNKNOWN: u8 = 0x00;
    pub const XBOX: u8 = 0x01;
    pub const PLAYSTATION: u8 = 0x02;
    pub const NINTENDO: u8 = 0x03;
    pub const STEAM: u8 = 0x04;
}

/// Controller capability bits of the arrival packet (`LI_CCAP_*`).
pub mod capability {
    pub const ANALOG_TRIGGERS: u16 = 0x001;
    pub const RUMBLE: u16 = 0x002;
    pub const TRIGGER_RUMBLE: u16 = 0x004;
    pub const TOUCHPAD: u16 = 0x008;
    pub const ACCELEROMETER: u16 = 0x010;
    pub const GYROSCOPE: u16 = 0x020;
    pub const BATTERY_STATE: u16 = 0x040;
    pub const RGB_LED: u16 = 0x080;
    pub const DUAL_TOUCHPAD: u16 = 0x100;
}

/// Touch event types shared by touch, pen and controller touch (`LI_TOUCH_EVENT_*`).
pub mod touch_event {
    pub const HOVER: u8 = 0x00;
    pub const DOWN: u8 = 0x01;
    pub const UP: u8 = 0x02;
    pub const MOVE: u8 = 0x03;
    pub const CANCEL: u8 = 0x04;
    pub const BUTTON_ONLY: u8 = 0x05;
    pub const HOVER_LEAVE: u8 = 0x06;
    pub const CANCEL_ALL: u8 = 0x07;
}

/// Touch/pen rotation value meaning "unknown".
pub const ROTATION_UNKNOWN: u16 = 0xFFFF;
/// Pen tilt value meaning "unknown".
pub const TILT_UNKNOWN: u8 = 0xFF;

/// Pen tool types (`LI_TOOL_TYPE_*`).
pub mod pen_tool {
    pub const UNKNOWN: u8 = 0x00;
    pub const PEN: u8 = 0x01;
    pub const ERASER: u8 = 0x02;
}

/// Pen button bits (`LI_PEN_BUTTON_*`).
pub mod pen_button {
    pub const PRIMARY: u8 = 0x01;
    pub const SECONDARY: u8 = 0x02;
    pub const TERTIARY: u8 = 0x04;
}

/// Motion sensor types (`LI_MOTION_TYPE_*`); also used by the host's set-motion-event message.
pub mod motion_type {
    pub const ACCELEROMETER: u8 = 0x01;
    pub const GYROSCOPE: u8 = 0x02;
}

/// Battery states (`LI_BATTERY_STATE_*`).
pub mod battery_state {
    pub const UNKNOWN: u8 = 0x00;
    pub const NOT_PRESENT: u8 = 0x01;
    pub const DISCHARGING: u8 = 0x02;
    pub const CHARGING: u8 = 0x03;
    pub const NOT_CHARGING: u8 = 0x04;
    pub const FULL: u8 = 0x05;
}

/// Battery percentage value meaning "unknown".
pub const BATTERY_PERCENTAGE_UNKNOWN: u8 = 0xFF;
