//! Feature reports the `hid-playstation` driver reads from a pad while it probes it, built for
//! a virtual pad: motion calibration, pairing info (the MAC address, which must differ between
//! pads: the driver refuses a second pad with a MAC it already knows) and firmware info.
//!
//! Layouts follow the driver's `dualsense_get_*` / `dualshock4_get_*` readers (USB variants).
//! The calibration says what [`crate::gamepad::Motion`] documents: 16 raw gyro units per °/s
//! (the driver scales them by exactly 64 to its 1/1024 °/s; SDL, reading hidraw, accepts the
//! same calibration) and 8192 raw accelerometer units per g (scaled 1:1).

/// DualSense feature report ids and their full lengths (report id included).
pub mod dualsense {
    pub const CALIBRATION: u8 = 0x05;
    pub const CALIBRATION_LEN: usize = 41;
    pub const PAIRING_INFO: u8 = 0x09;
    pub const PAIRING_INFO_LEN: usize = 20;
    pub const FIRMWARE_INFO: u8 = 0x20;
    pub const FIRMWARE_INFO_LEN: usize = 64;
    /// Firmware info: hardware version (le32), firmware version (le32), update version (le16).
    pub const HW_VERSION_AT: usize = 24;
    pub const FW_VERSION_AT: usize = 28;
    pub const UPDATE_VERSION_AT: usize = 44;
}

/// DualShock 4 (USB) feature report ids and their full lengths.
pub mod ds4 {
    pub const CALIBRATION: u8 = 0x02;
    pub const CALIBRATION_LEN: usize = 37;
    pub const PAIRING_INFO: u8 = 0x12;
    pub const PAIRING_INFO_LEN: usize = 16;
    pub const FIRMWARE_INFO: u8 = 0xA3;
    pub const FIRMWARE_INFO_LEN: usize = 49;
    /// Firmware info: hardware version (le16), firmware version (le16).
    pub const HW_VERSION_AT: usize = 35;
    pub const FW_VERSION_AT: usize = 41;
}

/// Where the pairing reports carry the MAC address (little-endian byte order, 6 bytes).
const MAC_AT: usize = 1;

use crate::gamepad::{ACCEL_RAW_PER_G, GYRO_RAW_PER_DEG_S};

/// Calibrated gyro speed (°/s) and the raw reading that speed gives each way. The driver
/// scales by `2 * speed * 1024 / (plus - minus)`, which these make exactly 1024 / 16 = 64.
const GYRO_SPEED: i16 = 30;
const GYRO_RAW_AT_SPEED: i16 = GYRO_SPEED * GYRO_RAW_PER_DEG_S;
/// Raw accelerometer readings at +1 g and −1 g: bias 0, scale `2 * 8192 / (plus - minus)` = 1.
const ACC_RAW_AT_1G: i16 = ACCEL_RAW_PER_G;

/// The calibration block both pads share (USB): 17 little-endian i16 from byte 1: gyro bias
/// (pitch, yaw, roll), then plus/minus per gyro axis, the speed plus/minus, and plus/minus per
/// accelerometer axis.
fn neutral_calibration<const N: usize>(report_id: u8) -> [u8; N] {
    let gyro = GYRO_RAW_AT_SPEED;
    let acc = ACC_RAW_AT_1G;
    let values: [i16; 17] = [
        0, 0, 0, // gyro bias
        gyro, -gyro, gyro, -gyro, gyro, -gyro, // pitch, yaw, roll: plus, minus
        GYRO_SPEED, GYRO_SPEED, // speed plus, minus
        acc, -acc, acc, -acc, acc, -acc, // accel x, y, z: plus, minus
    ];
    let mut r = [0u8; N];
    r[0] = report_id;
    for (slot, value) in r[1..].chunks_exact_mut(2).zip(values) {
        slot.copy_from_slice(&value.to_le_bytes());
    }
    r
}

fn pairing<const N: usize>(report_id: u8, mac: [u8; 6]) -> [u8; N] {
    let mut r = [0u8; N];
    r[0] = report_id;
    // The report stores the address least significant byte first; `mac` is display order.
    for (slot, byte) in r[MAC_AT..MAC_AT + 6].iter_mut().zip(mac.iter().rev()) {
        *slot = *byte;
    }
    r
}

/// DualSense report 0x05: a calibration that leaves raw motion values unscaled.
pub fn dualsense_calibration() -> [u8; dualsense::CALIBRATION_LEN] {
    neutral_calibration(dualsense::CALIBRATION)
}

/// DualSense report 0x09 carrying `mac` (display order, as in `aa:bb:cc:dd:ee:ff`).
pub fn dualsense_pairing_info(mac: [u8; 6]) -> [u8; dualsense::PAIRING_INFO_LEN] {
    pairing(dualsense::PAIRING_INFO, mac)
}

/// Hardware / firmware versions a virtual DualSense reports (plausible retail values).
pub const DUALSENSE_HW_VERSION: u32 = 0x0000_0515;
pub const DUALSENSE_FW_VERSION: u32 = 0x0110_0030;
/// Update (feature) version 2.36: new enough that the driver rumbles the "v2" way, which
/// [`crate::gamepad::dualsense::dualsense_output_report`] understands as well as v1.
pub const DUALSENSE_UPDATE_VERSION: u16 = 0x0224;

/// DualSense report 0x20: firmware info.
pub fn dualsense_firmware_info() -> [u8; dualsense::FIRMWARE_INFO_LEN] {
    let mut r = [0u8; dualsense::FIRMWARE_INFO_LEN];
    r[0] = dualsense::FIRMWARE_INFO;
    put(
        &mut r,
        dualsense::HW_VERSION_AT,
        &DUALSENSE_HW_VERSION.to_le_bytes(),
    );
    put(
        &mut r,
        dualsense::FW_VERSION_AT,
        &DUALSENSE_FW_VERSION.to_le_bytes(),
    );
    put(
        &mut r,
        dualsense::UPDATE_VERSION_AT,
        &DUALSENSE_UPDATE_VERSION.to_le_bytes(),
    );
    r
}

/// DualShock 4 report 0x02: a calibration that leaves raw motion values unscaled.
pub fn ds4_calibration() -> [u8; ds4::CALIBRATION_LEN] {
    neutral_calibration(ds4::CALIBRATION)
}

/// DualShock 4 report 0x12 carrying `mac` (display order).
pub fn ds4_pairing_info(mac: [u8; 6]) -> [u8; ds4::PAIRING_INFO_LEN] {
    pairing(ds4::PAIRING_INFO, mac)
}

pub const DS4_HW_VERSION: u16 = 0x3100;
pub const DS4_FW_VERSION: u16 = 0x0801;

/// DualShock 4 report 0xA3: firmware info.
pub fn ds4_firmware_info() -> [u8; ds4::FIRMWARE_INFO_LEN] {
    let mut r = [0u8; ds4::FIRMWARE_INFO_LEN];
    r[0] = ds4::FIRMWARE_INFO;
    put(&mut r, ds4::HW_VERSION_AT, &DS4_HW_VERSION.to_le_bytes());
    put(&mut r, ds4::FW_VERSION_AT, &DS4_FW_VERSION.to_le_bytes());
    r
}

fn put(report: &mut [u8], at: usize, bytes: &[u8]) {
    report[at..at + bytes.len()].copy_from_slice(bytes);
}

/// The feature report a DualSense answers for `report_id`, if it is one the driver asks for.
pub fn dualsense_feature_report(report_id: u8, mac: [u8; 6]) -> Option<Vec<u8>> {
    match report_id {
        dualsense::CALIBRATION => Some(dualsense_calibration().to_vec()),
        dualsense::PAIRING_INFO => Some(dualsense_pairing_info(mac).to_vec()),
        dualsense::FIRMWARE_INFO => Some(dualsense_firmware_info().to_vec()),
        _ => None,
    }
}

/// The feature report a DualShock 4 answers for `report_id`, if it is one the driver asks for.
pub fn ds4_feature_report(report_id: u8, mac: [u8; 6]) -> Option<Vec<u8>> {
    match report_id {
        ds4::CALIBRATION => Some(ds4_calibration().to_vec()),
        ds4::PAIRING_INFO => Some(ds4_pairing_info(mac).to_vec()),
        ds4::FIRMWARE_INFO => Some(ds4_firmware_info().to_vec()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The driver's normalisation targets: units per °/s and per g.
    const GYRO_RES_PER_DEG_S: i32 = 1024;
    const ACC_RES_PER_G: i32 = 8192;

    fn le16(r: &[u8], at: usize) -> i32 {
        i32::from(i16::from_le_bytes([r[at], r[at + 1]]))
    }

    /// Per gyro axis (numerator, denominator).
    type GyroScale = [(i32, i32); 3];
    /// Per accelerometer axis (bias, numerator, denominator).
    type AccelScale = [(i32, i32, i32); 3];

    /// The driver's scaling, redone from the report bytes.
    fn driver_scaling(r: &[u8]) -> (GyroScale, AccelScale) {
        let bias = [le16(r, 1), le16(r, 3), le16(r, 5)];
        let speed_2x = le16(r, 19) + le16(r, 21);
        let gyro = std::array::from_fn(|axis| {
            let plus = le16(r, 7 + 4 * axis);
            let minus = le16(r, 9 + 4 * axis);
            (
                speed_2x * GYRO_RES_PER_DEG_S,
                (plus - bias[axis]).abs() + (minus - bias[axis]).abs(),
            )
        });
        let accel = std::array::from_fn(|axis| {
            let plus = le16(r, 23 + 4 * axis);
            let minus = le16(r, 25 + 4 * axis);
            let range = plus - minus;
            (plus - range / 2, 2 * ACC_RES_PER_G, range)
        });
        (gyro, accel)
    }

    #[test]
    fn calibration_scales_to_the_drivers_units_and_never_divides_by_zero() {
        let gyro_scale = GYRO_RES_PER_DEG_S / i32::from(GYRO_RAW_PER_DEG_S);
        assert_eq!(gyro_scale, 64);
        for report in [&dualsense_calibration()[..], &ds4_calibration()[..]] {
            let (gyro, accel) = driver_scaling(report);
            for (numer, denom) in gyro {
                assert_ne!(denom, 0);
                assert_eq!(numer, denom * gyro_scale, "gyro scale must be exactly 64");
            }

            for (bias, numer, denom) in accel {
                assert_ne!(denom, 0);
                assert_eq!(bias, 0);
                assert_eq!(numer, denom, "accelerometer scale must be 1");
            }
        }
    }

    /// SDL reads a DualSense's hidraw itself: gyro sensitivity `speed_2x * 1024 / (plus -
    /// minus)`, signed, and it drops a calibration unless that is within half of 64 (then
    /// assuming 16 units per °/s anyway).
    #[test]
    fn sdl_accepts_the_dualsense_calibration() {
        let r = dualsense_calibration();
        let speed_2x = le16(&r, 19) + le16(&r, 21);
        for axis in 0..3 {
            let (plus, minus) = (le16(&r, 7 + 4 * axis), le16(&r, 9 + 4 * axis));
            assert_eq!(speed_2x * GYRO_RES_PER_DEG_S / (plus - minus), 64);
        }
    }

    #[test]
    fn lengths_and_ids_are_what_the_driver_requests() {
        let mac = [1, 2, 3, 4, 5, 6];
        for (id, len) in [(0x05, 41), (0x09, 20), (0x20, 64)] {
            let r = dualsense_feature_report(id, mac).unwrap();
            assert_eq!((r[0], r.len()), (id, len));
        }
        for (id, len) in [(0x02, 37), (0x12, 16), (0xA3, 49)] {
            let r = ds4_feature_report(id, mac).unwrap();
            assert_eq!((r[0], r.len()), (id, len));
        }
        assert_eq!(dualsense_feature_report(0x02, mac), None);
        assert_eq!(ds4_feature_report(0x05, mac), None);
    }

    #[test]
    fn pairing_carries_the_mac_little_endian() {
        let mac = [0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF];
        let expect = [0xFF, 0xEE, 0xDD, 0xCC, 0xBB, 0xAA];
        assert_eq!(dualsense_pairing_info(mac)[1..7], expect);
        assert_eq!(ds4_pairing_info(mac)[1..7], expect);
    }

    #[test]
    fn firmware_versions_sit_where_the_driver_reads_them() {
        let r = dualsense_firmware_info();
        assert_eq!(
            u32::from_le_bytes(r[24..28].try_into().unwrap()),
            DUALSENSE_HW_VERSION
        );
        assert_eq!(
            u32::from_le_bytes(r[28..32].try_into().unwrap()),
            DUALSENSE_FW_VERSION
        );
        assert_eq!(u16::from_le_bytes([r[44], r[45]]), DUALSENSE_UPDATE_VERSION);
        let r = ds4_firmware_info();
        assert_eq!(u16::from_le_bytes([r[35], r[36]]), DS4_HW_VERSION);
        assert_eq!(u16::from_le_bytes([r[41], r[42]]), DS4_FW_VERSION);
    }
}
