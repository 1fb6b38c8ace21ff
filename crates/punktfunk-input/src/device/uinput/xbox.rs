//! An Xbox 360 pad through `/dev/uinput`: created with the buttons, axes and rumble `xpad`
//! gives a real one, fed the evdev events [`xbox_events`] computes, and answering the force
//! feedback protocol so a game's rumble comes back to the host.

use std::collections::HashMap;
use std::mem::zeroed;
use std::path::PathBuf;

use super::{ioc, ioctl_ptr, DeviceSpec, UinputDevice};
use crate::device::DeviceError;
use crate::gamepad::xbox::codes::{EV_FF, FF_RUMBLE};
use crate::gamepad::xbox::{
    rumble_from_ff, xbox_events, XBOX360_AXES, XBOX360_BUTTONS, XBOX360_FF_EFFECTS,
    XBOX360_IDENTITY,
};
use crate::gamepad::PadState;

const UI_BEGIN_FF_UPLOAD: u32 = ioc::iowr::<libc::uinput_ff_upload>(b'U', 200);
const UI_END_FF_UPLOAD: u32 = ioc::iow::<libc::uinput_ff_upload>(b'U', 201);
const UI_BEGIN_FF_ERASE: u32 = ioc::iowr::<libc::uinput_ff_erase>(b'U', 202);
const UI_END_FF_ERASE: u32 = ioc::iow::<libc::uinput_ff_erase>(b'U', 203);

/// Events uinput sends the creator: force-feedback upload and erase requests.
const EV_UINPUT: u16 = 0x0101;
const UI_FF_UPLOAD: u16 = 1;
const UI_FF_ERASE: u16 = 2;

/// How many effects a game may upload at once (`xpad` allows as many as the memless layer: 16).
const FF_EFFECTS_MAX: u32 = 16;

/// A virtual Xbox 360 pad. Destroyed when dropped.
pub struct XboxPad {
    device: UinputDevice,
    prev: PadState,
    /// Uploaded rumble effects by id: (strong, weak) magnitudes.
    effects: HashMap<i16, (u16, u16)>,
}

impl XboxPad {
    /// Creates the pad. Fails with [`DeviceError::Missing`] / [`DeviceError::NotPermitted`]
    /// when `/dev/uinput` is absent or closed to this user.
    pub fn new() -> Result<Self, DeviceError> {
        let keys: Vec<u16> = XBOX360_BUTTONS.iter().map(|&(_, key)| key).collect();
        let device = UinputDevice::create(&DeviceSpec {
            identity: XBOX360_IDENTITY,
            keys: &keys,
            relative_axes: &[],
            absolute_axes: &XBOX360_AXES,
            ff_effects: &XBOX360_FF_EFFECTS,
            ff_effects_max: FF_EFFECTS_MAX,
        })?;
        Ok(Self {
            device,
            prev: PadState::default(),
            effects: HashMap::new(),
        })
    }

    /// The device's name under `/sys/devices/virtual/input` (`inputN`), when the kernel says.
    pub fn sysname(&self) -> Option<&str> {
        self.device.sysname()
    }

    /// The `/dev/input/eventN` node games open, when the kernel has made it.
    pub fn event_node(&self) -> Option<PathBuf> {
        self.device.event_node()
    }

    /// Moves the pad to `next`: writes the changed keys and axes and a `SYN_REPORT`.
    pub fn update(&mut self, next: &PadState) -> Result<(), DeviceError> {
        self.device.write(&xbox_events(&self.prev, next))?;
        self.prev = *next;
        Ok(())
    }

    /// Handles what the kernel sent since the last call: effect uploads and erases are
    /// answered; the first effect played (or stopped) returns its (low, high) rumble
    /// magnitudes, (0, 0) for a stop. `None` once nothing is pending.
    pub fn poll_feedback(&mut self) -> Option<(u16, u16)> {
        loop {
            let event = self.device.read_event()?;
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

    fn answer_upload(&mut self, request_id: u32) {
        // SAFETY: uinput_ff_upload is plain old data; all zeroes is valid.
        let mut upload: libc::uinput_ff_upload = unsafe { zeroed() };
        upload.request_id = request_id;
        let file = self.device.file();
        if ioctl_ptr(file, UI_BEGIN_FF_UPLOAD, &mut upload).is_err() {
            return;
        }
        upload.retval = match rumble_of(&upload.effect) {
            Some(magnitudes) => {
                self.effects.insert(upload.effect.id, magnitudes);
                0
            }
            None => -libc::EINVAL,
        };
        let _ = ioctl_ptr(file, UI_END_FF_UPLOAD, &mut upload);
    }

    fn answer_erase(&mut self, request_id: u32) {
        // SAFETY: uinput_ff_erase is plain old data; all zeroes is valid.
        let mut erase: libc::uinput_ff_erase = unsafe { zeroed() };
        erase.request_id = request_id;
        let file = self.device.file();
        if ioctl_ptr(file, UI_BEGIN_FF_ERASE, &mut erase).is_err() {
            return;
        }
        self.effects.remove(&(erase.effect_id as i16));
        erase.retval = 0;
        let _ = ioctl_ptr(file, UI_END_FF_ERASE, &mut erase);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn request_numbers_match_the_kernel() {
        // As compiled from linux/uinput.h on x86-64.
        assert_eq!(UI_BEGIN_FF_UPLOAD, 0xc068_55c8);
        assert_eq!(UI_END_FF_UPLOAD, 0x4068_55c9);
        assert_eq!(UI_BEGIN_FF_ERASE, 0xc00c_55ca);
        assert_eq!(UI_END_FF_ERASE, 0x400c_55cb);
    }

    #[test]
    fn setup_names_the_pad_and_allows_effects() {
        let setup = super::super::uinput_setup(&XBOX360_IDENTITY, FF_EFFECTS_MAX);
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
}
