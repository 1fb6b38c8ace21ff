//! The device layer: virtual devices the kernel believes in. [`uinput`] creates an Xbox 360
//! pad and a keyboard/mouse plus absolute pointer from evdev events; [`uhid`] creates a
//! DualSense or DualShock 4 from HID reports, which the kernel's `hid-playstation` driver then
//! binds as if a real pad were plugged in.
//!
//! The byte-level work (events, reports, feature reports) is pure and lives in
//! [`crate::gamepad`], [`crate::kbm`] and [`feature`]; this module only moves those bytes
//! through the nodes.

pub mod feature;
pub mod uhid;
pub mod uinput;

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;

/// Why a virtual pad could not be created or fed.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The node does not exist: the module is not loaded, or the container has no such node.
    #[error("{node} is missing (load the {module} module or pass the node into the container)")]
    Missing {
        node: &'static str,
        module: &'static str,
    },
    /// The node exists but this user may not open it.
    #[error(
        "{node} is not permitted for this user ({source}); grant read/write with a udev rule \
         such as `KERNEL==\"{}\", GROUP=\"input\", MODE=\"0660\"` and add the user to the \
         `input` group (log in again afterwards)",
        .node.trim_start_matches("/dev/")
    )]
    NotPermitted {
        node: &'static str,
        source: io::Error,
    },
    /// Any other failure of an operation on the node.
    #[error("{what} on {node} failed: {source}")]
    Io {
        node: &'static str,
        what: &'static str,
        source: io::Error,
    },
}

impl DeviceError {
    fn io(node: &'static str, what: &'static str, source: io::Error) -> Self {
        Self::Io { node, what, source }
    }
}

/// Opens a device node read/write, non-blocking, telling "missing" from "not permitted".
pub(crate) fn open_node(node: &'static str, module: &'static str) -> Result<File, DeviceError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(node)
        .map_err(|source| match source.raw_os_error() {
            Some(libc::ENOENT | libc::ENODEV | libc::ENXIO) => {
                DeviceError::Missing { node, module }
            }
            Some(libc::EACCES | libc::EPERM) => DeviceError::NotPermitted { node, source },
            _ => DeviceError::io(node, "open", source),
        })
}

/// The generic `_IOC` request encoding (x86, Arm, RISC-V; not MIPS, PowerPC or SPARC, whose
/// direction bits differ).
pub(crate) mod ioc {
    const NRSHIFT: u32 = 0;
    const TYPESHIFT: u32 = 8;
    const SIZESHIFT: u32 = 16;
    const DIRSHIFT: u32 = 30;
    pub const NONE: u32 = 0;
    pub const WRITE: u32 = 1;
    pub const READ: u32 = 2;

    pub const fn ioc(dir: u32, kind: u8, nr: u8, size: usize) -> u32 {
        (dir << DIRSHIFT)
            | ((kind as u32) << TYPESHIFT)
            | ((nr as u32) << NRSHIFT)
            | ((size as u32) << SIZESHIFT)
    }
    pub const fn io(kind: u8, nr: u8) -> u32 {
        ioc(NONE, kind, nr, 0)
    }
    pub const fn iow<T>(kind: u8, nr: u8) -> u32 {
        ioc(WRITE, kind, nr, std::mem::size_of::<T>())
    }
    pub const fn iowr<T>(kind: u8, nr: u8) -> u32 {
        ioc(READ | WRITE, kind, nr, std::mem::size_of::<T>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_numbers_match_the_kernel_headers() {
        // Values from linux/uinput.h and linux/input.h as compiled on x86-64.
        assert_eq!(ioc::io(b'U', 1), 0x5501); // UI_DEV_CREATE
        assert_eq!(ioc::iow::<libc::c_int>(b'U', 100), 0x4004_5564); // UI_SET_EVBIT
        assert_eq!(ioc::iow::<libc::uinput_setup>(b'U', 3), 0x405c_5503); // UI_DEV_SETUP
        assert_eq!(ioc::iow::<libc::ff_effect>(b'E', 0x80), 0x4030_4580); // EVIOCSFF
    }

    #[test]
    fn refusal_says_how_to_grant_access() {
        let err = DeviceError::NotPermitted {
            node: "/dev/uinput",
            source: io::Error::from_raw_os_error(libc::EACCES),
        };
        let message = err.to_string();
        assert!(
            message.starts_with("/dev/uinput is not permitted"),
            "{message}"
        );
        assert!(message.contains(r#"KERNEL=="uinput""#), "{message}");
        assert!(message.contains("`input` group"), "{message}");
    }

    #[test]
    fn missing_node_is_reported_as_missing() {
        let err = OpenOptions::new()
            .read(true)
            .open("/dev/punktfunk-no-such-node");
        assert!(err.is_err());
        match open_node("/dev/punktfunk-no-such-node", "none") {
            Err(DeviceError::Missing { node, .. }) => {
                assert_eq!(node, "/dev/punktfunk-no-such-node")
            }
            other => panic!("expected Missing, got {other:?}"),
        }
    }
}
