//! Keyboard and mouse through `/dev/uinput`, for hosts without a compositor protocol to
//! inject through: a keyboard/mouse and an absolute pointer, fed what [`KbmEncoder`] computes.

use std::path::PathBuf;

use super::{DeviceSpec, UinputDevice};
use crate::device::DeviceError;
use crate::event::Event;
use crate::kbm::{Emitted, KbmEncoder, KbmError, Target};
use crate::linux_input::InputEvent;

/// Why an event was not injected.
#[derive(Debug, thiserror::Error)]
pub enum InjectError {
    /// The event has no evdev form (an unmapped key, text uinput cannot type).
    #[error(transparent)]
    Event(#[from] KbmError),
    #[error(transparent)]
    Device(#[from] DeviceError),
}

/// A virtual keyboard/mouse ("punktfunk keyboard/mouse": keys, relative motion, wheels,
/// buttons) and absolute pointer ("punktfunk absolute pointer"). Dropping it releases
/// whatever is held and destroys both devices.
pub struct UinputKeyboardMouse {
    encoder: KbmEncoder,
    keyboard_mouse: UinputDevice,
    absolute: UinputDevice,
}

impl UinputKeyboardMouse {
    /// Creates both devices, the absolute pointer spanning `width` × `height` (the client's
    /// mode; absolute events for another mode are scaled onto it). Fails with
    /// [`DeviceError::Missing`] / [`DeviceError::NotPermitted`] when `/dev/uinput` is absent
    /// or closed to this user.
    pub fn new(width: u32, height: u32) -> Result<Self, DeviceError> {
        let encoder = KbmEncoder::new(width, height);
        let create = |target| {
            let caps = encoder.capabilities(target);
            UinputDevice::create(&DeviceSpec {
                identity: caps.identity,
                keys: &caps.keys,
                relative_axes: &caps.relative_axes,
                absolute_axes: &caps.absolute_axes,
                ff_effects: &[],
                ff_effects_max: 0,
            })
        };
        let keyboard_mouse = create(Target::KeyboardMouse)?;
        let absolute = create(Target::AbsolutePointer)?;
        Ok(Self {
            encoder,
            keyboard_mouse,
            absolute,
        })
    }

    /// Injects one event. On an [`InjectError::Event`] nothing was written; on a device error
    /// the event counts as done (the kernel may have taken part of it), so a later
    /// [`Self::release_all`] still lets go of what it pressed.
    pub fn inject(&mut self, event: &Event) -> Result<(), InjectError> {
        let emitted = self.encoder.encode(event)?;
        self.write(&emitted)?;
        Ok(())
    }

    /// Releases every key and button held.
    pub fn release_all(&mut self) -> Result<(), DeviceError> {
        let emitted = self.encoder.release_all();
        self.write(&emitted)
    }

    /// The `inputN` names of the two devices under `/sys/devices/virtual/input`.
    pub fn sysname(&self, target: Target) -> Option<&str> {
        self.device(target).sysname()
    }

    /// The `/dev/input/eventN` node of one device, once the kernel has made it.
    pub fn event_node(&self, target: Target) -> Option<PathBuf> {
        self.device(target).event_node()
    }

    fn device(&self, target: Target) -> &UinputDevice {
        match target {
            Target::KeyboardMouse => &self.keyboard_mouse,
            Target::AbsolutePointer => &self.absolute,
        }
    }

    /// Writes each run of events for one device in one go, in order.
    fn write(&mut self, emitted: &Emitted) -> Result<(), DeviceError> {
        for run in emitted.chunk_by(|a, b| a.0 == b.0) {
            let events: Vec<InputEvent> = run.iter().map(|&(_, e)| e).collect();
            let device = match run[0].0 {
                Target::KeyboardMouse => &mut self.keyboard_mouse,
                Target::AbsolutePointer => &mut self.absolute,
            };
            device.write(&events)?;
        }
        Ok(())
    }
}

impl Drop for UinputKeyboardMouse {
    fn drop(&mut self) {
        // The kernel would release held keys when the device goes, but readers that see a
        // release first never have to guess.
        let _ = self.release_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_devices_can_move_to_an_input_thread() {
        fn is_send<T: Send>() {}
        is_send::<UinputKeyboardMouse>();
    }
}
