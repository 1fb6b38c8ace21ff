//! Screen capture from Wayland compositors.
