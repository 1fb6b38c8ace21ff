//! # punktfunk-input
//!
//! Input from clients of either plane, in one model, and the ways to inject it.
//!
//! - [`event`]: the event model both planes decode into.
//! - [`keymap`]: protocol key codes (Windows virtual keys) to evdev codes, and ASCII to the
//!   US-layout keys that type it.
//! - [`linux_input`]: the Linux input ABI numbers and device descriptions the devices share.
//! - [`gamepad`]: virtual pads: Xbox (uinput layout) and DualSense / DualShock 4 (HID report
//!   descriptors, input reports; rumble, LED and trigger feedback parsed back).
//! - [`kbm`]: keyboard and mouse as the evdev events of two uinput devices (a keyboard/mouse
//!   and an absolute pointer), sans-IO: scroll accumulation, absolute scaling, ASCII text,
//!   held keys and buttons.
//! - [`device`]: what moves those bytes through `/dev/uinput` and `/dev/uhid`, among them
//!   [`device::uinput::UinputKeyboardMouse`], the keyboard/mouse fallback for hosts without a
//!   compositor protocol for input.
//! - [`wlr`]: the wlroots backend (virtual pointer and keyboard) for Sway and friends.
//! - [`ei`]: the libei backend (an EIS server: GNOME and KDE through the portal, gamescope).
//! - [`text_keys`]: which keys type a character on a given keymap.

pub mod device;
pub mod ei;
pub mod event;
pub mod gamepad;
pub mod kbm;
pub mod keymap;
pub mod linux_input;
mod socket;
pub mod text_keys;
pub mod wlr;
