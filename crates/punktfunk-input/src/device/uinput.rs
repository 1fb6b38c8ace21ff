//! An Xbox 360 pad through `/dev/uinput`: created with the buttons, axes and rumble `xpad`
//! gives a real one, fed the evdev events [`xbox_events`] computes, and answering the force
//! feedback protocol so a game's rumble comes back to the host.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::mem::{size_of, zeroed};
use std::os::fd::AsRawFd;
use std::path::PathBuf;

use super::{ioc, open_node, DeviceError};
use crate::gamepad::xbox::codes::{EV_ABS, EV_FF, EV_KEY, FF_RUMBLE};
use crate::gamepad::xbox::{
    rumble_from_ff, xbox_events, XBOX360_AXES, XBOX360_BUTTONS, XBOX360_FF_EFFECTS,
    XBOX360_IDENTITY,
};
use crate::gamepad::PadState;

pub const UINPUT_NODE: &str = "/dev/uinput";
const UINPUT_MODULE: &str = "uinput";

/// `linux/uinput.h` requests.
const UI_DEV_CREATE: u32 = ioc::io(b'U', 1);
const UI_DEV_DESTROY: u32 = ioc::io(b'U', 2);
const UI_DEV_SETUP: u32 = ioc::iow::<libc::uinput_setup>(b'U', 3);
const UI_ABS_SETUP: u32 = ioc::iow::<libc::uinput_abs_setup>(b'U', 4);
const UI_SET_EVBIT: u32 = ioc::iow::<libc::c_int>(b'U', 100);
const UI_SET_KEYBIT: u32 = ioc::iow::<libc::c_int>(b'U', 101);
const UI_SET_ABSBIT: u32 = ioc::iow::<libc::c_int>(b'U', 103);
const UI_SET_FFBIT: u32 = ioc::iow::<libc::c_int>(b'U', 107);
const UI_BEGIN_FF_UPLOAD: u32 = ioc::iowr::<libc::uinput_ff_upload>(b'U', 200);
const UI_END_FF_UPLOAD: u32 = ioc::iow::<libc::uinput_ff_upload>(b'U', 201);
const UI_BEGIN_FF_ERASE: u32 = ioc::iowr::<libc::uinput_ff_erase>(b'U', 202);
const UI_END_FF_ERASE: u32 = ioc::iow::<libc::uinput_ff_erase>(b'U', 203);
/// `UI_GET_SYSNAME(len)`: the device's name under `/sys/devices/virtual/input`.
const fn ui_get_sysname(len: usize) -> u32 {
    ioc::ioc(ioc::READ, b'U', 44, len)
}
const SYSNAME_MAX: usize = 64;

/// Events uinput sends the creator: force-feedback upload and erase requests.
const EV_UINPUT: u16 = 0x0101;
const UI_FF_UPLOAD: u16 = 1;
const UI_FF_ERASE: u16 = 2;

/// How many effects a game may upload at once (`xpad` allows as many as the memless layer: 16).
const FF_EFFECTS_MAX: u32 = 16;

/// The evdev wire struct (`struct input_event`) and uinput's setup structs, as libc defines
/// them for this target.
pub type RawInputEvent = libc::input_event;

/// A virtual Xbox 360 pad. Destroyed when dropped.
pub struct XboxPad {
    file: File,
    prev: PadState,
    /// Uploaded rumble effects by id: (strong, weak) magnitudes.
    effects: HashMap<i16, (u16, u16)>,
    sysname: Option<String>,
}

impl XboxPad {
    /// Creates the pad. Fails with [`DeviceError::Missing`] / [`DeviceError::NotPermitted`]
    /// when `/dev/uinput` is absent or closed to this user.
    pub fn new() -> Result<Self, DeviceError> {
        let file = open_node(UINPUT_NODE, UINPUT_MODULE)?;
        declare_capabilities(&file)?;
        setup_and_create(&file)?;
        let sysname = query_sysname(&file);
        Ok(Self {
            file,
            prev: PadState::default(),
            effects: HashMap::new(),
            sysname,
        })
    }

    /// The device's name under `/sys/devices/virtual/input` (`inputN`), when the kernel says.
    pub fn sysname(&self) -> Option<&str> {
        self.sysname.as_deref()
    }

    /// The `/dev/input/eventN` node games open, when the kernel has made it.
    pub fn event_node(&self) -> Option<PathBuf> {
        let dir = PathBuf::from("/sys/devices/virtual/input").join(self.sysname.as_ref()?);
        std::fs::read_dir(dir).ok()?.flatten().find_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            name.starts_with("event")
                .then(|| PathBuf::from("/dev/input").join(name))
        })
    }

    /// Moves the pad to `next`: writes the changed keys and axes and a `SYN_REPORT`.
    pub fn update(&mut self, next: &PadState) -> Result<(), DeviceError> {
        let events: Vec<RawInputEvent> = xbox_events(&self.prev, next)
            .into_iter()
            .map(|(kind, code, value)| raw_event(kind, code, value))
            .collect();
        if !events.is_empty() {
            self.file
                .write_all(event_bytes(&events))
                .map_err(|e| DeviceError::io(UINPUT_NODE, "writing events", e))?;
        }
        self.prev = *next;
        Ok(())
    }

    /// Handles what the kernel sent since the last call: effect uploads and erases are
    /// answered; the first effect played (or stopped) returns its (low, high) rumble
    /// magnitudes, (0, 0) for a stop. `None` once nothing is pending.
    pub fn poll_feedback(&mut self) -> Option<(u16, u16)> {
        loop {
            let event = self.read_event()?;
            match (event.type_, event.code) {
                (EV_UINPUT, UI_FF_UPLOAD) => self.answer_upload(event.value as u32),
                (EV_UINPUT, UI_FF_ERASE) => self.answer_erase(event.value as u32),
                (EV_FF, id) => {
                    let Some(&(strong, weak)) = self.effects.get(&(id as i16)) else {
                        continue; // gain, autocenter, or an effect we refused
                    };
                    return Some(if event.value > 0 {
                        rumble_from_ff(strong, weak)
                    } else {
                        (0, 0)
                    });
                }
                _ => {}
            }
        }
    }

    /// One event from the node; `None` when none is pending (or the read failed).
    fn read_event(&mut self) -> Option<RawInputEvent> {
        let mut buf = [0u8; size_of::<RawInputEvent>()];
        match self.file.read(&mut buf) {
            Ok(n) if n == buf.len() => {
                // SAFETY: input_event is plain old data and buf holds exactly one.
                Some(unsafe { std::ptr::read_unaligned(buf.as_ptr().cast()) })
            }
            _ => None,
        }
    }

    fn answer_upload(&mut self, request_id: u32) {
        // SAFETY: uinput_ff_upload is plain old data; all zeroes is valid.
        let mut upload: libc::uinput_ff_upload = unsafe { zeroed() };
        upload.request_id = request_id;
        if ioctl_ptr(&self.file, UI_BEGIN_FF_UPLOAD, &mut upload).is_err() {
            return;
        }
        upload.retval = match rumble_of(&upload.effect) {
            Some(magnitudes) => {
                self.effects.insert(upload.effect.id, magnitudes);
                0
            }
            None => -libc::EINVAL,
        };
        let _ = ioctl_ptr(&self.file, UI_END_FF_UPLOAD, &mut upload);
    }

    fn answer_erase(&mut self, request_id: u32) {
        // SAFETY: uinput_ff_erase is plain old data; all zeroes is valid.
        let mut erase: libc::uinput_ff_erase = unsafe { zeroed() };
        erase.request_id = request_id;
        if ioctl_ptr(&self.file, UI_BEGIN_FF_ERASE, &mut erase).is_err() {
            return;
        }
        self.effects.remove(&(erase.effect_id as i16));
        erase.retval = 0;
        let _ = ioctl_ptr(&self.file, UI_END_FF_ERASE, &mut erase);
    }
}

impl Drop for XboxPad {
    fn drop(&mut self) {
        // SAFETY: a no-argument ioctl on our own open fd.
        unsafe { libc::ioctl(self.file.as_raw_fd(), UI_DEV_DESTROY as _) };
    }
}

/// The (strong, weak) magnitudes of an uploaded `FF_RUMBLE` effect; `None` for other kinds.
fn rumble_of(effect: &libc::ff_effect) -> Option<(u16, u16)> {
    if effect.type_ != FF_RUMBLE {
        return None;
    }
    // SAFETY: the union starts with ff_rumble_effect for FF_RUMBLE; the array is larger.
    let rumble: libc::ff_rumble_effect =
        unsafe { std::ptr::read_unaligned(effect.u.as_ptr().cast()) };
    Some((rumble.strong_magnitude, rumble.weak_magnitude))
}

fn declare_capabilities(file: &File) -> Result<(), DeviceError> {
    for ev in [EV_KEY, EV_ABS, EV_FF] {
        ioctl_int(file, UI_SET_EVBIT, ev, "UI_SET_EVBIT")?;
    }
    for (_, key) in XBOX360_BUTTONS {
        ioctl_int(file, UI_SET_KEYBIT, key, "UI_SET_KEYBIT")?;
    }
    for axis in XBOX360_AXES {
        ioctl_int(file, UI_SET_ABSBIT, axis.code, "UI_SET_ABSBIT")?;
        // SAFETY: plain old data; all zeroes is valid.
        let mut abs: libc::uinput_abs_setup = unsafe { zeroed() };
        abs.code = axis.code;
        abs.absinfo.minimum = axis.min;
        abs.absinfo.maximum = axis.max;
        abs.absinfo.fuzz = axis.fuzz;
        abs.absinfo.flat = axis.flat;
        ioctl_ptr(file, UI_ABS_SETUP, &mut abs)
            .map_err(|e| DeviceError::io(UINPUT_NODE, "UI_ABS_SETUP", e))?;
    }
    for effect in XBOX360_FF_EFFECTS {
        ioctl_int(file, UI_SET_FFBIT, effect, "UI_SET_FFBIT")?;
    }
    Ok(())
}

fn setup_and_create(file: &File) -> Result<(), DeviceError> {
    let mut setup = uinput_setup();
    ioctl_ptr(file, UI_DEV_SETUP, &mut setup)
        .map_err(|e| DeviceError::io(UINPUT_NODE, "UI_DEV_SETUP", e))?;
    // SAFETY: a no-argument ioctl on our own open fd.
    if unsafe { libc::ioctl(file.as_raw_fd(), UI_DEV_CREATE as _) } < 0 {
        return Err(DeviceError::io(
            UINPUT_NODE,
            "UI_DEV_CREATE",
            io::Error::last_os_error(),
        ));
    }
    Ok(())
}

/// `struct uinput_setup` for the 360 pad.
fn uinput_setup() -> libc::uinput_setup {
    // SAFETY: plain old data; all zeroes is valid.
    let mut setup: libc::uinput_setup = unsafe { zeroed() };
    let id = XBOX360_IDENTITY;
    setup.id.bustype = id.bustype;
    setup.id.vendor = id.vendor;
    setup.id.product = id.product;
    setup.id.version = id.version;
    // Leave the last byte 0: the name must be NUL-terminated.
    let room = setup.name.len() - 1;
    for (slot, byte) in setup.name[..room].iter_mut().zip(id.name.bytes()) {
        *slot = byte as libc::c_char;
    }
    setup.ff_effects_max = FF_EFFECTS_MAX;
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

fn ioctl_ptr<T>(file: &File, request: u32, arg: &mut T) -> io::Result<()> {
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
        assert_eq!(UI_BEGIN_FF_UPLOAD, 0xc068_55c8);
        assert_eq!(UI_END_FF_UPLOAD, 0x4068_55c9);
        assert_eq!(UI_BEGIN_FF_ERASE, 0xc00c_55ca);
        assert_eq!(UI_END_FF_ERASE, 0x400c_55cb);
        assert_eq!(ui_get_sysname(64), 0x8040_552c);
    }

    #[test]
    fn setup_names_the_pad_and_allows_effects() {
        let setup = uinput_setup();
        let name: Vec<u8> = setup
            .name
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        assert_eq!(name, XBOX360_IDENTITY.name.as_bytes());
        assert_eq!((setup.id.vendor, setup.id.product), (0x045e, 0x028e));
        assert!(setup.ff_effects_max > 0);
    }

    #[test]
    fn rumble_is_read_from_the_effect_union() {
        // SAFETY: plain old data.
        let mut effect: libc::ff_effect = unsafe { zeroed() };
        effect.type_ = FF_RUMBLE;
        let rumble = libc::ff_rumble_effect {
            strong_magnitude: 0xC000,
            weak_magnitude: 0x1234,
        };
        // SAFETY: writing the union's first member.
        unsafe { std::ptr::write_unaligned(effect.u.as_mut_ptr().cast(), rumble) };
        assert_eq!(rumble_of(&effect), Some((0xC000, 0x1234)));
        effect.type_ = 0x51; // FF_PERIODIC
        assert_eq!(rumble_of(&effect), None);
    }

    #[test]
    fn events_become_wire_structs() {
        let e = raw_event(EV_KEY, 0x130, 1);
        assert_eq!((e.type_, e.code, e.value), (EV_KEY, 0x130, 1));
        assert_eq!(event_bytes(&[e, e]).len(), 2 * size_of::<RawInputEvent>());
    }
}
