//! Virtual game controllers: one controller state model and, per emulated pad, the pure
//! translation of that state into what the kernel expects from the real device.
//!
//! - [`xbox`]: an Xbox 360 pad through uinput (evdev events, as the `xpad` driver emits them).
//! - [`dualsense`] and [`ds4`]: Sony pads through UHID (USB HID report descriptor, input report
//!   0x01, and the output report the `hid-playstation` driver sends back for rumble and LEDs).
//!
//! No device I/O lives here: a backend opens `/dev/uinput` or `/dev/uhid` and moves these bytes.

pub mod ds4;
pub mod dualsense;
mod playstation;
pub mod xbox;

pub use playstation::{
    accel_raw, gyro_raw, touch_position, Battery, Charge, Motion, TouchPoint, Touchpad,
    ACCEL_RAW_PER_G, GYRO_RAW_PER_DEG_S, STANDARD_GRAVITY,
};

pub use crate::linux_input::{DeviceIdentity, BUS_USB};

/// Moonlight's controller button flags (`moonlight-common-c` `Limelight.h`): the low 16 bits
/// are GameStream's, the upper ones Sunshine's extensions.
pub mod buttons {
    pub const UP: u32 = 0x0001;
    pub const DOWN: u32 = 0x0002;
    pub const LEFT: u32 = 0x0004;
    pub const RIGHT: u32 = 0x0008;
    /// Start / Menu / Options.
    pub const START: u32 = 0x0010;
    /// Back / View / Share / Create.
    pub const BACK: u32 = 0x0020;
    pub const LS_CLK: u32 = 0x0040;
    pub const RS_CLK: u32 = 0x0080;
    pub const LB: u32 = 0x0100;
    pub const RB: u32 = 0x0200;
    /// Guide / Xbox / PS button.
    pub const HOME: u32 = 0x0400;
    pub const A: u32 = 0x1000;
    pub const B: u32 = 0x2000;
    pub const X: u32 = 0x4000;
    pub const Y: u32 = 0x8000;
    pub const PADDLE1: u32 = 0x01_0000;
    pub const PADDLE2: u32 = 0x02_0000;
    pub const PADDLE3: u32 = 0x04_0000;
    pub const PADDLE4: u32 = 0x08_0000;
    /// Touchpad click (PlayStation pads).
    pub const TOUCHPAD: u32 = 0x10_0000;
    /// Share / mic / capture button.
    pub const MISC: u32 = 0x20_0000;
}

/// One controller's state as Moonlight sends it. Sticks use XInput's convention: centre 0,
/// +x right, +y **up**. Triggers run 0 (released) to 255.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct PadState {
    /// [`buttons`] flags.
    pub buttons: u32,
    pub left_trigger: u8,
    pub right_trigger: u8,
    pub left_stick: (i16, i16),
    pub right_stick: (i16, i16),
}

impl PadState {
    /// Whether every flag in `mask` is held.
    pub fn held(&self, mask: u32) -> bool {
        self.buttons & mask == mask
    }

    /// The d-pad as a direction: x −1 left … +1 right, y −1 up … +1 down (evdev's hat
    /// convention). Opposite directions held together cancel out.
    pub fn dpad(&self) -> (i8, i8) {
        let axis = |neg: u32, pos: u32| i8::from(self.held(pos)) - i8::from(self.held(neg));
        (
            axis(buttons::LEFT, buttons::RIGHT),
            axis(buttons::UP, buttons::DOWN),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpad_directions_and_cancelling() {
        let pad = |b| PadState {
            buttons: b,
            ..PadState::default()
        };
        assert_eq!(pad(0).dpad(), (0, 0));
        assert_eq!(pad(buttons::UP).dpad(), (0, -1));
        assert_eq!(pad(buttons::DOWN | buttons::RIGHT).dpad(), (1, 1));
        assert_eq!(pad(buttons::LEFT | buttons::RIGHT).dpad(), (0, 0));
        assert_eq!(
            pad(buttons::UP | buttons::DOWN | buttons::LEFT).dpad(),
            (-1, 0)
        );
    }
}
