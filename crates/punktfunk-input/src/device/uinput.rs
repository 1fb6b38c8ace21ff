//! Devices through `/dev/uinput`: [`XboxPad`] (an Xbox 360 pad with rumble) and
//! [`UinputKeyboardMouse`] (a keyboard/mouse and an absolute pointer). Both are built on
//! `UinputDevice`, which declares a device's capabilities, creates it, writes its events
//! and destroys it when dropped.

mod keyboard_mouse;
mod xbox;

pub use keyboard_mouse::{InjectError, UinputKeyboardMouse};
pub use xbox::XboxPad;

use std::fs::File;
use std::io::{self, Read, Write};
use std::mem::{size_of, zeroed};
use std::os::fd::AsRawFd;
use std::path::PathBuf;

use super::{ioc, open_node, DeviceError};
use crate::linux_input::{AbsAxis, DeviceIdentity, InputEvent, EV_ABS, EV_FF, EV_KEY, EV_REL};

pub const UINPUT_NODE: &str = "/dev/uinput";
const UINPUT_MODULE: &str = "uinput";

/// `linux/uinput.h` requests.
const UI_DEV_CREATE: u32 = ioc::io(b'U', 1);
const UI_DEV_DESTROY: u32 = ioc::io(b'U', 2);
const UI_DEV_SETUP: u32 = ioc::iow::<libc::uinput_setup>(b'U', 3);
const UI_ABS_SETUP: u32 = ioc::iow::<libc::uinput_abs_setup>(b'U', 4);
const UI_SET_EVBIT: u32 = ioc::iow::<libc::c_int>(b'U', 100);
const UI_SET_KEYBIT: u32 = ioc::iow::<libc::c_int>(b'U', 101);
const UI_SET_RELBIT: u32 = ioc::iow::<libc::c_int>(b'U', 102);
const UI_SET_ABSBIT: u32 = ioc::iow::<libc::c_int>(b'U', 103);
const UI_SET_FFBIT: u32 = ioc::iow::<libc::c_int>(b'U', 107);
/// `UI_GET_SYSNAME(len)`: the device's name under `/sys/devices/virtual/input`.
const fn ui_get_sysname(len: usize) -> u32 {
    ioc::ioc(ioc::READ, b'U', 44, len)
}
const SYSNAME_MAX: usize = 64;

/// The evdev wire struct (`struct input_event`) as libc defines it for this target.
pub type RawInputEvent = libc::input_event;

/// What a uinput device declares before it is created.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DeviceSpec<'a> {
    pub identity: DeviceIdentity,
    pub keys: &'a [u16],
    pub relative_axes: &'a [u16],
    pub absolute_axes: &'a [AbsAxis],
    pub ff_effects: &'a [u16],
    /// How many effects a program may upload at once (0 without force feedback).
    pub ff_effects_max: u32,
}

/// One created uinput device. Destroyed when dropped.
pub(crate) struct UinputDevice {
    file: File,
    sysname: Option<String>,
}

impl UinputDevice {
    /// Opens `/dev/uinput`, declares `spec` and creates the device. Fails with
    /// [`DeviceError::Missing`] / [`DeviceError::NotPermitted`] when the node is absent or
    /// closed to this user.
    pub fn create(spec: &DeviceSpec) -> Result<Self, DeviceError> {
        let file = open_node(UINPUT_NODE, UINPUT_MODULE)?;
        declare(&file, spec)?;
        let mut setup = uinput_setup(&spec.identity, spec.ff_effects_max);
        ioctl_ptr(&file, UI_DEV_SETUP, &mut setup)
            .map_err(|e| DeviceError::io(UINPUT_NODE, "UI_DEV_SETUP", e))?;
        // SAFETY: a no-argument ioctl on our own open fd.
        if unsafe { libc::ioctl(file.as_raw_fd(), UI_DEV_CREATE as _) } < 0 {
            let e = io::Error::last_os_error();
            return Err(DeviceError::io(UINPUT_NODE, "UI_DEV_CREATE", e));
        }
        let sysname = query_sysname(&file);
        Ok(Self { file, sysname })
    }

    /// The device's name under `/sys/devices/virtual/input` (`inputN`), when the kernel says.
    pub fn sysname(&self) -> Option<&str> {
        self.sysname.as_deref()
    }

    /// The `/dev/input/eventN` node readers open, once the kernel has made it.
    pub fn event_node(&self) -> Option<PathBuf> {
        let dir = PathBuf::from("/sys/devices/virtual/input").join(self.sysname.as_ref()?);
        std::fs::read_dir(dir).ok()?.flatten().find_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            name.starts_with("event")
                .then(|| PathBuf::from("/dev/input").join(name))
        })
    }

    /// Writes `events` in one go (nothing for none).
    pub fn write(&mut self, events: &[InputEvent]) -> Result<(), DeviceError> {
        if events.is_empty() {
            return Ok(());
        }
        let raw: Vec<RawInputEvent> = events
            .iter()
            .map(|&(kind, code, value)| raw_event(kind, code, value))
            .collect();
        self.file
            .write_all(event_bytes(&raw))
            .map_err(|e| DeviceError::io(UINPUT_NODE, "writing events", e))
    }

    /// One event the kernel sent the creator; `None` when none is pending (or the read failed).
    pub fn read_event(&mut self) -> Option<RawInputEvent> {
        let mut buf = [0u8; size_of::<RawInputEvent>()];
        match self.file.read(&mut buf) {
            Ok(n) if n == buf.len() => {
                // SAFETY: input_event is plain old data and buf holds exactly one.
                Some(unsafe { std::ptr::read_unaligned(buf.as_ptr().cast()) })
            }
            _ => None,
        }
    }

    /// The open node, for requests only one kind of device makes (force feedback).
    pub fn file(&self) -> &File {
        &self.file
    }
}

impl Drop for UinputDevice {
    fn drop(&mut self) {
        // SAFETY: a no-argument ioctl on our own open fd.
        unsafe { libc::ioctl(self.file.as_raw_fd(), UI_DEV_DESTROY as _) };
    }
}

/// The event types, codes and axis ranges of `spec`.
fn declare(file: &File, spec: &DeviceSpec) -> Result<(), DeviceError> {
    let kinds = [
        (EV_KEY, !spec.keys.is_empty()),
        (EV_REL, !spec.relative_axes.is_empty()),
        (EV_ABS, !spec.absolute_axes.is_empty()),
        (EV_FF, !spec.ff_effects.is_empty()),
    ];
    for (kind, _) in kinds.into_iter().filter(|&(_, used)| used) {
        ioctl_int(file, UI_SET_EVBIT, kind, "UI_SET_EVBIT")?;
    }
    for &key in spec.keys {
        ioctl_int(file, UI_SET_KEYBIT, key, "UI_SET_KEYBIT")?;
    }
    for &axis in spec.relative_axes {
        ioctl_int(file, UI_SET_RELBIT, axis, "UI_SET_RELBIT")?;
    }
    for axis in spec.absolute_axes {
        ioctl_int(file, UI_SET_ABSBIT, axis.code, "UI_SET_ABSBIT")?;
        let mut abs = abs_setup(axis);
        ioctl_ptr(file, UI_ABS_SETUP, &mut abs)
            .map_err(|e| DeviceError::io(UINPUT_NODE, "UI_ABS_SETUP", e))?;
    }
    for &effect in spec.ff_effects {
        ioctl_int(file, UI_SET_FFBIT, effect, "UI_SET_FFBIT")?;
    }
    Ok(())
}

fn abs_setup(axis: &AbsAxis) -> libc::uinput_abs_setup {
    // SAFETY: plain old data; all zeroes is valid.
    let mut abs: libc::uinput_abs_setup = unsafe { zeroed() };
    abs.code = axis.code;
    abs.absinfo.minimum = axis.min;
    abs.absinfo.maximum = axis.max;
    abs.absinfo.fuzz = axis.fuzz;
    abs.absinfo.flat = axis.flat;
    abs
}

/// `struct uinput_setup` for a device that says it is `id`.
fn uinput_setup(id: &DeviceIdentity, ff_effects_max: u32) -> libc::uinput_setup {
    // SAFETY: plain old data; all zeroes is valid.
    let mut setup: libc::uinput_setup = unsafe { zeroed() };
    setup.id.bustype = id.bustype;
    setup.id.vendor = id.vendor;
    setup.id.product = id.product;
    setup.id.version = id.version;
    // Leave the last byte 0: the name must be NUL-terminated.
    let room = setup.name.len() - 1;
    for (slot, byte) in setup.name[..room].iter_mut().zip(id.name.bytes()) {
        *slot = byte as libc::c_char;
    }
    setup.ff_effects_max = ff_effects_max;
    setup
}

fn query_sysname(file: &File) -> Option<String> {
    let mut buf = [0u8; SYSNAME_MAX];
    // SAFETY: the request's size is buf's length; the kernel writes at most that.
    let n = unsafe {
        libc::ioctl(
            file.as_raw_fd(),
            ui_get_sysname(SYSNAME_MAX) as _,
            buf.as_mut_ptr(),
        )
    };
    if n < 0 {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8(buf[..end].to_vec()).ok()
}

fn raw_event(kind: u16, code: u16, value: i32) -> RawInputEvent {
    // SAFETY: plain old data; a zero timestamp lets the kernel stamp it.
    let mut event: RawInputEvent = unsafe { zeroed() };
    event.type_ = kind;
    event.code = code;
    event.value = value;
    event
}

fn event_bytes(events: &[RawInputEvent]) -> &[u8] {
    // SAFETY: input_event is plain old data without padding bytes that matter to the kernel.
    unsafe { std::slice::from_raw_parts(events.as_ptr().cast(), std::mem::size_of_val(events)) }
}

fn ioctl_int(file: &File, request: u32, value: u16, what: &'static str) -> Result<(), DeviceError> {
    // SAFETY: UI_SET_*BIT take an int by value.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), request as _, libc::c_int::from(value)) };
    if rc < 0 {
        return Err(DeviceError::io(
            UINPUT_NODE,
            what,
            io::Error::last_os_error(),
        ));
    }
    Ok(())
}

pub(crate) fn ioctl_ptr<T>(file: &File, request: u32, arg: &mut T) -> io::Result<()> {
    // SAFETY: each request's encoded size is size_of::<T>() for the T it is used with.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), request as _, arg as *mut T) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn struct_sizes_match_the_kernel() {
        #[cfg(target_pointer_width = "64")]
        {
            assert_eq!(size_of::<libc::input_event>(), 24);
            assert_eq!(size_of::<libc::ff_effect>(), 48);
            assert_eq!(size_of::<libc::uinput_ff_upload>(), 104);
        }
        assert_eq!(size_of::<libc::uinput_setup>(), 92);
        assert_eq!(size_of::<libc::uinput_abs_setup>(), 28);
        assert_eq!(size_of::<libc::uinput_ff_erase>(), 12);
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn request_numbers_match_the_kernel() {
        // As compiled from linux/uinput.h on x86-64.
        assert_eq!(UI_DEV_SETUP, 0x405c_5503);
        assert_eq!(UI_ABS_SETUP, 0x401c_5504);
        assert_eq!(UI_SET_RELBIT, 0x4004_5566);
        assert_eq!(ui_get_sysname(64), 0x8040_552c);
    }

    #[test]
    fn setup_carries_identity_and_a_terminated_name() {
        let id = DeviceIdentity {
            bustype: 0x06,
            vendor: 0x5046,
            product: 2,
            version: 1,
            name: "x".repeat(100).leak(),
        };
        let setup = uinput_setup(&id, 0);
        assert_eq!(
            (setup.id.bustype, setup.id.vendor, setup.id.product),
            (0x06, 0x5046, 2)
        );
        assert_eq!(
            setup.name[setup.name.len() - 1],
            0,
            "the name is cut, not overrun"
        );
        assert_eq!(setup.ff_effects_max, 0);
    }

    #[test]
    fn abs_setup_carries_the_range() {
        let abs = abs_setup(&AbsAxis {
            code: 1,
            min: 0,
            max: 1079,
            fuzz: 0,
            flat: 0,
        });
        assert_eq!(
            (abs.code, abs.absinfo.minimum, abs.absinfo.maximum),
            (1, 0, 1079)
        );
    }

    #[test]
    fn events_become_wire_structs() {
        let e = raw_event(EV_KEY, 0x130, 1);
        assert_eq!((e.type_, e.code, e.value), (EV_KEY, 0x130, 1));
        assert_eq!(event_bytes(&[e, e]).len(), 2 * size_of::<RawInputEvent>());
    }
}
