//! Linux input ABI facts more than one virtual device needs: event types and codes
//! (`linux/input-event-codes.h`), bus types (`linux/input.h`), and how a device names itself
//! and declares an absolute axis. Keyboard key codes live in [`crate::keymap::evdev`].

/// One evdev event: (type, code, value).
pub type InputEvent = (u16, u16, i32);

pub const EV_SYN: u16 = 0x00;
pub const EV_KEY: u16 = 0x01;
pub const EV_REL: u16 = 0x02;
pub const EV_ABS: u16 = 0x03;
pub const EV_FF: u16 = 0x15;

pub const SYN_REPORT: u16 = 0;

/// `EV_KEY` values: released, pressed, and the autorepeat of a held key.
pub const KEY_RELEASED: i32 = 0;
pub const KEY_PRESSED: i32 = 1;
pub const KEY_REPEATED: i32 = 2;

pub const REL_X: u16 = 0x00;
pub const REL_Y: u16 = 0x01;
pub const REL_HWHEEL: u16 = 0x06;
pub const REL_WHEEL: u16 = 0x08;
/// High-resolution wheels (Linux 5.0): 120 units per notch, like the protocols' scroll.
pub const REL_WHEEL_HI_RES: u16 = 0x0b;
pub const REL_HWHEEL_HI_RES: u16 = 0x0c;

pub const ABS_X: u16 = 0x00;
pub const ABS_Y: u16 = 0x01;

/// Mouse buttons (`BTN_LEFT` is also `BTN_MOUSE`, the start of the mouse range).
pub const BTN_LEFT: u16 = 0x110;
pub const BTN_RIGHT: u16 = 0x111;
pub const BTN_MIDDLE: u16 = 0x112;
/// Back.
pub const BTN_SIDE: u16 = 0x113;
/// Forward.
pub const BTN_EXTRA: u16 = 0x114;

/// `BUS_USB`: every emulated pad claims to be plugged in by cable.
pub const BUS_USB: u16 = 0x03;
/// `BUS_VIRTUAL`: a device that is honest about being software.
pub const BUS_VIRTUAL: u16 = 0x06;

/// Who a virtual device says it is (uinput's `input_id` plus name, or UHID's create2 fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceIdentity {
    pub bustype: u16,
    pub vendor: u16,
    pub product: u16,
    pub version: u16,
    pub name: &'static str,
}

/// One absolute axis as `input_absinfo` declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbsAxis {
    pub code: u16,
    pub min: i32,
    pub max: i32,
    pub fuzz: i32,
    pub flat: i32,
}
