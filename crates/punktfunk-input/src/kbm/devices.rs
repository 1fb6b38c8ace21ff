//! The two uinput devices keyboard and mouse input goes through: who they say they are and
//! what they declare. Classification by udev (`input_id`) and libinput follows from these
//! bits alone, so they are chosen for it.

use std::collections::BTreeSet;

use crate::keymap::{ascii_key, evdev_from_vk};
use crate::linux_input::{
    AbsAxis, DeviceIdentity, ABS_X, ABS_Y, BTN_EXTRA, BTN_LEFT, BTN_MIDDLE, BTN_RIGHT, BTN_SIDE,
    BUS_VIRTUAL, REL_HWHEEL, REL_HWHEEL_HI_RES, REL_WHEEL, REL_WHEEL_HI_RES, REL_X, REL_Y,
};

/// Which of the two devices an event goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// Keys, relative motion, wheels and buttons: a keyboard and a mouse in one device.
    KeyboardMouse,
    /// Absolute motion (and the buttons clicked after it).
    AbsolutePointer,
}

impl Target {
    pub const ALL: [Target; 2] = [Target::KeyboardMouse, Target::AbsolutePointer];
}

/// Vendor "PF" on `BUS_VIRTUAL`: no USB vendor owns ids on that bus, so no hwdb entry or
/// libinput quirk written for real hardware (all keyed on bus + vendor + product) can match,
/// and libinput does not tag the devices as external mice (USB / Bluetooth only), so a
/// laptop's touchpad is not disabled while they exist.
pub const PUNKTFUNK_VENDOR: u16 = 0x5046;

pub const KEYBOARD_MOUSE_IDENTITY: DeviceIdentity = DeviceIdentity {
    bustype: BUS_VIRTUAL,
    vendor: PUNKTFUNK_VENDOR,
    product: 0x0001,
    version: 1,
    name: "punktfunk keyboard/mouse",
};

pub const ABSOLUTE_POINTER_IDENTITY: DeviceIdentity = DeviceIdentity {
    bustype: BUS_VIRTUAL,
    vendor: PUNKTFUNK_VENDOR,
    product: 0x0002,
    version: 1,
    name: "punktfunk absolute pointer",
};

/// The mouse buttons both devices declare, in [`crate::event::Button`] order.
pub const MOUSE_BUTTONS: [u16; 5] = [BTN_LEFT, BTN_MIDDLE, BTN_RIGHT, BTN_SIDE, BTN_EXTRA];

/// Relative axes of the keyboard/mouse: motion, and both wheels in notches and in 1/120 of
/// one (libinput since 1.19 reads the high-resolution pair; older readers the notches).
pub const RELATIVE_AXES: [u16; 6] = [
    REL_X,
    REL_Y,
    REL_WHEEL,
    REL_HWHEEL,
    REL_WHEEL_HI_RES,
    REL_HWHEEL_HI_RES,
];

/// What one device declares. No input properties on either: see [`absolute_axes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    pub identity: DeviceIdentity,
    pub keys: Vec<u16>,
    pub relative_axes: Vec<u16>,
    pub absolute_axes: Vec<AbsAxis>,
}

/// What `target` declares, its absolute axes spanning `width` × `height` (the client's mode).
pub fn capabilities(target: Target, width: u32, height: u32) -> Capabilities {
    match target {
        Target::KeyboardMouse => Capabilities {
            identity: KEYBOARD_MOUSE_IDENTITY,
            keys: keyboard_keys().into_iter().chain(MOUSE_BUTTONS).collect(),
            relative_axes: RELATIVE_AXES.to_vec(),
            absolute_axes: Vec::new(),
        },
        Target::AbsolutePointer => Capabilities {
            identity: ABSOLUTE_POINTER_IDENTITY,
            keys: MOUSE_BUTTONS.to_vec(),
            relative_axes: Vec::new(),
            absolute_axes: absolute_axes(width, height).to_vec(),
        },
    }
}

/// Every key a virtual key or ASCII text can press, sorted. It covers ESC through D (codes
/// 1–31), which is what udev wants to see before it calls a device a full keyboard.
pub fn keyboard_keys() -> BTreeSet<u16> {
    let by_vk = (0..=0xFFu16).filter_map(evdev_from_vk);
    let by_text = (0u8..0x80).filter_map(|c| ascii_key(char::from(c)).map(|(key, _)| key));
    by_vk.chain(by_text).collect()
}

/// ABS_X / ABS_Y spanning the mode, one unit per pixel: libinput maps `value / (max + 1)` of
/// the output, so pixel x lands on pixel x. A mode under 2 pixels still gets a range of 2.
///
/// The pointer is an absolute mouse like QEMU's USB tablet: ABS_X/ABS_Y plus mouse buttons
/// and no input properties. udev's `input_id` then takes its "absolute axes and a mouse
/// button" branch (ID_INPUT_MOUSE, checked before the touchscreen branch) and libinput makes
/// it a pointer sending absolute motion. What must stay off: BTN_TOUCH or
/// INPUT_PROP_DIRECT (a touchscreen to other readers, which then want touch frames),
/// BTN_TOOL_PEN / BTN_STYLUS (a tablet, checked first), BTN_TOOL_FINGER (a touchpad), and
/// INPUT_PROP_POINTER (the kernel's word for "needs an on-screen pointer to track it", i.e.
/// indirect, which this device is not). With no property set, the kernel documentation says
/// the type is deduced from the event codes, which is exactly the path above.
pub fn absolute_axes(width: u32, height: u32) -> [AbsAxis; 2] {
    let axis = |code, size: u32| AbsAxis {
        code,
        min: 0,
        max: axis_max(size),
        fuzz: 0,
        flat: 0,
    };
    [axis(ABS_X, width), axis(ABS_Y, height)]
}

/// The largest value of an axis `size` pixels long (at least 1).
pub(crate) fn axis_max(size: u32) -> i32 {
    i32::try_from(size.max(2) - 1).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keyboard_is_a_full_keyboard_to_udev() {
        let keys = keyboard_keys();
        for code in 1..=31 {
            assert!(keys.contains(&code), "KEY {code} missing");
        }
        // No code from the joystick / gamepad button ranges (0x120..0x160), which would make
        // udev or libinput think of a joystick.
        assert!(keys.iter().all(|&k| !(0x100..0x160).contains(&k)));
    }

    #[test]
    fn the_pointer_spans_the_mode_pixel_for_pixel() {
        let [x, y] = absolute_axes(1920, 1080);
        assert_eq!((x.code, x.min, x.max), (ABS_X, 0, 1919));
        assert_eq!((y.code, y.min, y.max), (ABS_Y, 0, 1079));
        let [x, _] = absolute_axes(0, 1);
        assert_eq!(x.max, 1);
    }

    #[test]
    fn the_devices_are_honest_about_being_virtual_and_tell_apart() {
        let a = capabilities(Target::KeyboardMouse, 8, 8).identity;
        let b = capabilities(Target::AbsolutePointer, 8, 8).identity;
        assert_eq!((a.bustype, b.bustype), (BUS_VIRTUAL, BUS_VIRTUAL));
        assert_ne!(a.product, b.product);
        assert!(
            a.name.len() < 80 && b.name.len() < 80,
            "uinput names hold 79 bytes"
        );
    }

    #[test]
    fn the_absolute_pointer_has_no_relative_axes_and_no_keys_but_buttons() {
        let caps = capabilities(Target::AbsolutePointer, 640, 480);
        assert!(caps.relative_axes.is_empty());
        assert_eq!(caps.keys, MOUSE_BUTTONS.to_vec());
        assert_eq!(caps.absolute_axes.len(), 2);
    }
}
