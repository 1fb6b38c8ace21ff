//! # punktfunk-input
//!
//! Input from clients of either plane, in one model, and the ways to inject it.
//!
//! - [`event`]: the event model both planes decode into.
//! - [`keymap`]: protocol key codes (Windows virtual keys) to evdev codes.
//! - [`gamepad`]: virtual pads: Xbox (uinput layout) and DualSense / DualShock 4 (HID report
//!   descriptors, input reports; rumble, LED and trigger feedback parsed back).
//! - [`wlr`]: the wlroots backend (virtual pointer and keyboard) for Sway and friends.
//! - [`ei`]: the libei backend (an EIS server: GNOME and KDE through the portal, gamescope).
//! - [`text_keys`]: which keys type a character on a given keymap.

pub mod device;
pub mod ei;
pub mod event;
pub mod gamepad;
pub mod keymap;
pub mod text_keys;
pub mod wlr;
