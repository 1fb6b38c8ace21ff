//! A USB DualShock 4 (second revision, CUH-ZCT2) through UHID: its report descriptor, input
//! report 0x01 at the offsets `hid-playstation` (and before it `hid-sony`) reads, and output
//! report 0x05 (rumble, lightbar) parsed back for the client.

use super::playstation::{
    face_and_hat, shoulders, stick_x, stick_y, touch_point, write_motion, Battery, Charge, Motion,
    Touchpad,
};
use super::{buttons, DeviceIdentity, PadState, BUS_USB};

/// A DualShock 4 v2 on USB.
pub const DS4_IDENTITY: DeviceIdentity = DeviceIdentity {
    bustype: BUS_USB,
    vendor: 0x054c,
    product: 0x09cc,
    version: 0x0100,
    name: "Sony Interactive Entertainment Wireless Controller",
};

/// The USB HID report descriptor of a DualShock 4 (507 bytes: input report 0x01 of 63
/// bytes, output report 0x05 of 31, feature reports 0x02 calibration, 0x12 pairing, 0xA3
/// firmware and the rest).
///
/// Bytes of `hid-tools`' PS4 USB test device, a dump of the first-revision pad (0x05c4).
/// Not checked against a 0x09cc dump: the drivers treat both revisions alike and read the
/// same input and output reports from them.
pub const DS4_USB_REPORT_DESCRIPTOR: [u8; 507] = [
    0x05, 0x01, 0x09, 0x05, 0xA1, 0x01, 0x85, 0x01, 0x09, 0x30, 0x09, 0x31, 0x09, 0x32, 0x09, 0x35,
    0x15, 0x00, 0x26, 0xFF, 0x00, 0x75, 0x08, 0x95, 0x04, 0x81, 0x02, 0x09, 0x39, 0x15, 0x00, 0x25,
    0x07, 0x35, 0x00, 0x46, 0x3B, 0x01, 0x65, 0x14, 0x75, 0x04, 0x95, 0x01, 0x81, 0x42, 0x65, 0x00,
    0x05, 0x09, 0x19, 0x01, 0x29, 0x0E, 0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x0E, 0x81, 0x02,
    0x06, 0x00, 0xFF, 0x09, 0x20, 0x75, 0x06, 0x95, 0x01, 0x15, 0x00, 0x25, 0x7F, 0x81, 0x02, 0x05,
    0x01, 0x09, 0x33, 0x09, 0x34, 0x15, 0x00, 0x26, 0xFF, 0x00, 0x75, 0x08, 0x95, 0x02, 0x81, 0x02,
    0x06, 0x00, 0xFF, 0x09, 0x21, 0x95, 0x36, 0x81, 0x02, 0x85, 0x05, 0x09, 0x22, 0x95, 0x1F, 0x91,
    0x02, 0x85, 0x04, 0x09, 0x23, 0x95, 0x24, 0xB1, 0x02, 0x85, 0x02, 0x09, 0x24, 0x95, 0x24, 0xB1,
    0x02, 0x85, 0x08, 0x09, 0x25, 0x95, 0x03, 0xB1, 0x02, 0x85, 0x10, 0x09, 0x26, 0x95, 0x04, 0xB1,
    0x02, 0x85, 0x11, 0x09, 0x27, 0x95, 0x02, 0xB1, 0x02, 0x85, 0x12, 0x06, 0x02, 0xFF, 0x09, 0x21,
    0x95, 0x0F, 0xB1, 0x02, 0x85, 0x13, 0x09, 0x22, 0x95, 0x16, 0xB1, 0x02, 0x85, 0x14, 0x06, 0x05,
    0xFF, 0x09, 0x20, 0x95, 0x10, 0xB1, 0x02, 0x85, 0x15, 0x09, 0x21, 0x95, 0x2C, 0xB1, 0x02, 0x06,
    0x80, 0xFF, 0x85, 0x80, 0x09, 0x20, 0x95, 0x06, 0xB1, 0x02, 0x85, 0x81, 0x09, 0x21, 0x95, 0x06,
    0xB1, 0x02, 0x85, 0x82, 0x09, 0x22, 0x95, 0x05, 0xB1, 0x02, 0x85, 0x83, 0x09, 0x23, 0x95, 0x01,
    0xB1, 0x02, 0x85, 0x84, 0x09, 0x24, 0x95, 0x04, 0xB1, 0x02, 0x85, 0x85, 0x09, 0x25, 0x95, 0x06,
    0xB1, 0x02, 0x85, 0x86, 0x09, 0x26, 0x95, 0x06, 0xB1, 0x02, 0x85, 0x87, 0x09, 0x27, 0x95, 0x23,
    0xB1, 0x02, 0x85, 0x88, 0x09, 0x28, 0x95, 0x3F, 0xB1, 0x02, 0x85, 0x89, 0x09, 0x29, 0x95, 0x02,
    0xB1, 0x02, 0x85, 0x90, 0x09, 0x30, 0x95, 0x05, 0xB1, 0x02, 0x85, 0x91, 0x09, 0x31, 0x95, 0x03,
    0xB1, 0x02, 0x85, 0x92, 0x09, 0x32, 0x95, 0x03, 0xB1, 0x02, 0x85, 0x93, 0x09, 0x33, 0x95, 0x0C,
    0xB1, 0x02, 0x85, 0x94, 0x09, 0x34, 0x95, 0x3F, 0xB1, 0x02, 0x85, 0xA0, 0x09, 0x40, 0x95, 0x06,
    0xB1, 0x02, 0x85, 0xA1, 0x09, 0x41, 0x95, 0x01, 0xB1, 0x02, 0x85, 0xA2, 0x09, 0x42, 0x95, 0x01,
    0xB1, 0x02, 0x85, 0xA3, 0x09, 0x43, 0x95, 0x30, 0xB1, 0x02, 0x85, 0xA4, 0x09, 0x44, 0x95, 0x0D,
    0xB1, 0x02, 0x85, 0xF0, 0x09, 0x47, 0x95, 0x3F, 0xB1, 0x02, 0x85, 0xF1, 0x09, 0x48, 0x95, 0x3F,
    0xB1, 0x02, 0x85, 0xF2, 0x09, 0x49, 0x95, 0x0F, 0xB1, 0x02, 0x85, 0xA7, 0x09, 0x4A, 0x95, 0x01,
    0xB1, 0x02, 0x85, 0xA8, 0x09, 0x4B, 0x95, 0x01, 0xB1, 0x02, 0x85, 0xA9, 0x09, 0x4C, 0x95, 0x08,
    0xB1, 0x02, 0x85, 0xAA, 0x09, 0x4E, 0x95, 0x01, 0xB1, 0x02, 0x85, 0xAB, 0x09, 0x4F, 0x95, 0x39,
    0xB1, 0x02, 0x85, 0xAC, 0x09, 0x50, 0x95, 0x39, 0xB1, 0x02, 0x85, 0xAD, 0x09, 0x51, 0x95, 0x0B,
    0xB1, 0x02, 0x85, 0xAE, 0x09, 0x52, 0x95, 0x01, 0xB1, 0x02, 0x85, 0xAF, 0x09, 0x53, 0x95, 0x02,
    0xB1, 0x02, 0x85, 0xB0, 0x09, 0x54, 0x95, 0x3F, 0xB1, 0x02, 0x85, 0xE0, 0x09, 0x57, 0x95, 0x02,
    0xB1, 0x02, 0x85, 0xB3, 0x09, 0x55, 0x95, 0x3F, 0xB1, 0x02, 0x85, 0xB4, 0x09, 0x55, 0x95, 0x3F,
    0xB1, 0x02, 0x85, 0xB5, 0x09, 0x56, 0x95, 0x3F, 0xB1, 0x02, 0x85, 0xD0, 0x09, 0x58, 0x95, 0x3F,
    0xB1, 0x02, 0x85, 0xD4, 0x09, 0x59, 0x95, 0x3F, 0xB1, 0x02, 0xC0,
];

/// Touchpad size in the pad's coordinates.
pub const TOUCHPAD_WIDTH: u16 = 1920;
pub const TOUCHPAD_HEIGHT: u16 = 942;

/// Input report 0x01 (USB): id and length.
pub const INPUT_REPORT_ID: u8 = 0x01;
pub const INPUT_REPORT_LEN: usize = 64;
/// Output report 0x05 (USB): id and length.
pub const OUTPUT_REPORT_ID: u8 = 0x05;
pub const OUTPUT_REPORT_LEN: usize = 32;

/// Byte offsets in input report 0x01, report id at 0 (`struct dualshock4_input_report_usb`).
mod input {
    pub const LEFT_X: usize = 1;
    pub const LEFT_Y: usize = 2;
    pub const RIGHT_X: usize = 3;
    pub const RIGHT_Y: usize = 4;
    pub const BUTTONS0: usize = 5;
    pub const BUTTONS1: usize = 6;
    /// PS and touchpad click in bits 0–1, a 6-bit report counter above.
    pub const BUTTONS2: usize = 7;
    pub const LEFT_TRIGGER: usize = 8;
    pub const RIGHT_TRIGGER: usize = 9;
    /// 16-bit little-endian sensor clock.
    pub const SENSOR_TIMESTAMP: usize = 10;
    /// Gyro x, y, z then accelerometer x, y, z: six little-endian i16.
    pub const MOTION: usize = 13;
    pub const STATUS0: usize = 30;
    pub const NUM_TOUCH_REPORTS: usize = 33;
    /// First touch report: a timestamp byte, then two 4-byte points.
    pub const TOUCH_TIMESTAMP: usize = 34;
    pub const TOUCH_POINTS: [usize; 2] = [35, 39];
}

/// Third button byte.
const PS_HOME: u8 = 0x01;
const TOUCHPAD_CLICK: u8 = 0x02;
const COUNTER_SHIFT: u8 = 2;

/// Status: bit 4 a cable is connected; the low nibble the level in tenths (0–10), or with a
/// cable 11 for "full" (the driver reads 10 on a cable as charging at 100 %).
const STATUS0_CABLE: u8 = 0x10;
const STATUS0_LEVEL_FULL: u8 = 11;

/// The sensor clock runs in 16/3 µs ticks (only 16 bits of it are sent).
pub fn sensor_ticks(elapsed_us: u64) -> u32 {
    (elapsed_us.wrapping_mul(3) / 16) as u32
}

/// The input report for `state`. `touch` and `motion` absent mean no fingers and a still pad
/// at rest, `battery` absent a full one on a cable; `counter` counts reports (only its low 6
/// bits are sent).
pub fn ds4_input_report(
    state: &PadState,
    touch: Option<&Touchpad>,
    motion: Option<&Motion>,
    battery: Option<&Battery>,
    counter: u8,
) -> [u8; INPUT_REPORT_LEN] {
    let mut r = [0u8; INPUT_REPORT_LEN];
    r[0] = INPUT_REPORT_ID;
    r[input::LEFT_X] = stick_x(state.left_stick.0);
    r[input::LEFT_Y] = stick_y(state.left_stick.1);
    r[input::RIGHT_X] = stick_x(state.right_stick.0);
    r[input::RIGHT_Y] = stick_y(state.right_stick.1);
    r[input::BUTTONS0] = face_and_hat(state);
    r[input::BUTTONS1] = shoulders(state);
    r[input::BUTTONS2] = system_buttons(state) | (counter << COUNTER_SHIFT);
    r[input::LEFT_TRIGGER] = state.left_trigger;
    r[input::RIGHT_TRIGGER] = state.right_trigger;
    if let Some(m) = motion {
        // The DualShock 4's sensor clock is 16 bits wide; it wraps and the driver expects that.
        let ticks = (m.timestamp & 0xFFFF) as u16;
        r[input::SENSOR_TIMESTAMP..input::SENSOR_TIMESTAMP + 2]
            .copy_from_slice(&ticks.to_le_bytes());
        write_motion(&mut r[input::MOTION..input::MOTION + 12], m);
    }
    r[input::STATUS0] = status0(&battery.copied().unwrap_or_default());
    // One touch report, its points lifted when there is no touch, as the real pad sends.
    r[input::NUM_TOUCH_REPORTS] = 1;
    r[input::TOUCH_TIMESTAMP] = counter;
    let points = touch.map(|t| t.points).unwrap_or_default();
    for (offset, point) in input::TOUCH_POINTS.into_iter().zip(points) {
        r[offset..offset + 4].copy_from_slice(&touch_point(point, TOUCHPAD_WIDTH, TOUCHPAD_HEIGHT));
    }
    r
}

/// A discharging pad runs on its battery; charging or full means a cable.
fn status0(battery: &Battery) -> u8 {
    match battery.charge {
        Charge::Discharging => battery.tenths(),
        Charge::Charging => STATUS0_CABLE | battery.tenths(),
        Charge::Full => STATUS0_CABLE | STATUS0_LEVEL_FULL,
    }
}

/// PS and touchpad click (the DualShock 4 has no mute button).
fn system_buttons(state: &PadState) -> u8 {
    let ps = if state.held(buttons::HOME) {
        PS_HOME
    } else {
        0
    };
    let pad = if state.held(buttons::TOUCHPAD) {
        TOUCHPAD_CLICK
    } else {
        0
    };
    ps | pad
}

/// What a game asked the pad to do, from one output report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Ds4Feedback {
    /// (left = strong/low-frequency, right = weak/high-frequency) motor, 0..255.
    pub rumble: Option<(u8, u8)>,
    /// Lightbar red, green, blue.
    pub lightbar: Option<(u8, u8, u8)>,
}

/// Byte offsets in output report 0x05, report id at 0
/// (`struct dualshock4_output_report_usb`).
mod output {
    pub const VALID_FLAG0: usize = 1;
    pub const MOTOR_RIGHT: usize = 4;
    pub const MOTOR_LEFT: usize = 5;
    pub const LIGHTBAR: usize = 6;
    /// Everything above lies within the first 9 bytes.
    pub const MIN_LEN: usize = 9;
}

/// `valid_flag0`: motors, lightbar colour.
const FLAG0_MOTOR: u8 = 0x01;
const FLAG0_LED: u8 = 0x02;

/// Parses USB output report 0x05 (report id first, as UHID delivers it). `None` for another
/// report or one too short to hold motors and lightbar.
pub fn ds4_output_report(bytes: &[u8]) -> Option<Ds4Feedback> {
    if bytes.len() < output::MIN_LEN || bytes[0] != OUTPUT_REPORT_ID {
        return None;
    }
    let flag0 = bytes[output::VALID_FLAG0];
    let light = output::LIGHTBAR;
    Some(Ds4Feedback {
        rumble: (flag0 & FLAG0_MOTOR != 0)
            .then(|| (bytes[output::MOTOR_LEFT], bytes[output::MOTOR_RIGHT])),
        lightbar: (flag0 & FLAG0_LED != 0)
            .then(|| (bytes[light], bytes[light + 1], bytes[light + 2])),
    })
}

#[cfg(test)]
mod tests {
    use super::super::playstation::{decode_touch_point, report_sizes};
    use super::super::TouchPoint;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn descriptor_declares_the_reports_the_driver_needs() {
        let d = &DS4_USB_REPORT_DESCRIPTOR;
        assert_eq!(d[d.len() - 1], 0xC0, "ends its collection");
        let inputs = report_sizes(d, 0x80);
        assert_eq!(inputs.get(&INPUT_REPORT_ID), Some(&INPUT_REPORT_LEN));
        let outputs = report_sizes(d, 0x90);
        assert_eq!(outputs.get(&OUTPUT_REPORT_ID), Some(&OUTPUT_REPORT_LEN));
        let features = report_sizes(d, 0xB0);
        // Calibration 37, pairing info 16, firmware info 49 bytes, as hid-playstation expects.
        assert_eq!(features.get(&0x02), Some(&37));
        assert_eq!(features.get(&0x12), Some(&16));
        assert_eq!(features.get(&0xA3), Some(&49));
    }

    #[test]
    fn neutral_report() {
        let r = ds4_input_report(&PadState::default(), None, None, None, 0);
        let mut expected = [0u8; 64];
        expected[..10].copy_from_slice(&[0x01, 0x80, 0x80, 0x80, 0x80, 0x08, 0, 0, 0, 0]);
        expected[30] = 0x1B;
        expected[33] = 1;
        expected[35] = 0x80;
        expected[39] = 0x80;
        assert_eq!(r, expected);
    }

    #[test]
    fn a_busy_report_by_hand() {
        let state = PadState {
            buttons: buttons::B
                | buttons::X
                | buttons::DOWN
                | buttons::LEFT
                | buttons::RB
                | buttons::BACK
                | buttons::LS_CLK
                | buttons::HOME
                | buttons::TOUCHPAD
                | buttons::MISC,
            left_trigger: 0,
            right_trigger: 0xFF,
            left_stick: (0, -32768),
            right_stick: (-32768, 0),
        };
        let touch = Touchpad {
            points: [
                Some(TouchPoint {
                    id: 0x11,
                    x: 2000,
                    y: 941,
                }),
                None,
            ],
        };
        let motion = Motion {
            gyro: [0x0102, 0, -2],
            accel: [0, 0, 8192],
            timestamp: 0x0012_3456,
        };
        let r = ds4_input_report(&state, Some(&touch), Some(&motion), None, 0x45);
        assert_eq!(
            &r[..25],
            &[
                0x01,
                0x80,
                0xFF,
                0x00,
                0x80,
                0x05 | 0x10 | 0x40,        // hat south-west, square, circle
                0x02 | 0x08 | 0x10 | 0x40, // R1, R2 (digital), share, L3
                0x01 | 0x02 | (0x05 << 2), // PS, touchpad, counter 0x45 & 0x3F
                0x00,
                0xFF,
                0x56,
                0x34, // 16-bit timestamp
                0x00, // temperature
                0x02,
                0x01,
                0x00,
                0x00,
                0xFE,
                0xFF,
                0x00,
                0x00,
                0x00,
                0x00,
                0x00,
                0x20,
            ]
        );
        assert_eq!(r[33], 1);
        assert_eq!(&r[35..43], &[0x11, 0x7F, 0xD7, 0x3A, 0x80, 0, 0, 0]);
    }

    #[test]
    fn battery_status_as_the_driver_reads_it() {
        let at = |charge, percent| {
            let b = Battery { charge, percent };
            ds4_input_report(&PadState::default(), None, None, Some(&b), 0)[30]
        };
        // Driver: no cable → discharging at tenths × 10 + 5; cable → charging, 11 = full.
        assert_eq!(at(Charge::Discharging, 42), 0x04);
        assert_eq!(at(Charge::Discharging, 100), 0x0A);
        assert_eq!(at(Charge::Charging, 71), 0x17);
        assert_eq!(at(Charge::Charging, 100), 0x1A);
        assert_eq!(at(Charge::Full, 3), 0x1B);
    }

    #[test]
    fn sensor_clock_ticks_sixteen_thirds_of_a_microsecond() {
        assert_eq!(sensor_ticks(16_000), 3_000);
        // The 16-bit field wraps; the driver's 16-bit delta is still the elapsed time.
        let a = sensor_ticks(1_000_000) as u16;
        let b = sensor_ticks(1_000_000 + 16 * 30_000 / 3) as u16;
        assert!(b < a, "the field wrapped in between");
        assert_eq!(b.wrapping_sub(a), 30_000);
    }

    fn any_pad() -> impl Strategy<Value = PadState> {
        (
            any::<u32>(),
            any::<u8>(),
            any::<u8>(),
            any::<(i16, i16)>(),
            any::<(i16, i16)>(),
        )
            .prop_map(|(buttons, lt, rt, ls, rs)| PadState {
                buttons,
                left_trigger: lt,
                right_trigger: rt,
                left_stick: ls,
                right_stick: rs,
            })
    }

    proptest! {
        #[test]
        fn input_report_reads_back(
            state in any_pad(),
            counter: u8,
            id in 0u8..0x80, x in 0u16..1920, y in 0u16..942,
        ) {
            let p = TouchPoint { id, x, y };
            let touch = Touchpad { points: [None, Some(p)] };
            let r = ds4_input_report(&state, Some(&touch), None, None, counter);
            prop_assert_eq!(r[0], 0x01);
            prop_assert_eq!(r[8], state.left_trigger);
            prop_assert_eq!(r[9], state.right_trigger);
            prop_assert_eq!(r[7] >> 2, counter & 0x3F);
            prop_assert_eq!(r[7] & 0x01 != 0, state.held(buttons::HOME));
            prop_assert!(r[5] & 0x0F <= 8);
            prop_assert_eq!(decode_touch_point(&r[35..39]), None);
            prop_assert_eq!(decode_touch_point(&r[39..43]), Some(p));
        }

        #[test]
        fn output_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = ds4_output_report(&bytes);
        }

        #[test]
        fn output_report_round_trip(left: u8, right: u8, rgb: (u8, u8, u8), blink: bool) {
            let mut r = [0u8; OUTPUT_REPORT_LEN];
            r[0] = 0x05;
            r[1] = 0x01 | 0x02 | if blink { 0x04 } else { 0 };
            r[4] = right;
            r[5] = left;
            r[6] = rgb.0;
            r[7] = rgb.1;
            r[8] = rgb.2;
            prop_assert_eq!(
                ds4_output_report(&r),
                Some(Ds4Feedback { rumble: Some((left, right)), lightbar: Some(rgb) })
            );
        }
    }

    #[test]
    fn output_flags_gate_each_part() {
        let mut r = [0u8; OUTPUT_REPORT_LEN];
        r[0] = 0x05;
        r[4] = 0x11;
        r[5] = 0x22;
        r[6] = 0x33;
        assert_eq!(ds4_output_report(&r), Some(Ds4Feedback::default()));
        r[1] = 0x01;
        assert_eq!(
            ds4_output_report(&r),
            Some(Ds4Feedback {
                rumble: Some((0x22, 0x11)),
                lightbar: None
            })
        );
        r[1] = 0x02;
        assert_eq!(
            ds4_output_report(&r),
            Some(Ds4Feedback {
                rumble: None,
                lightbar: Some((0x33, 0, 0))
            })
        );
    }

    #[test]
    fn output_wrong_id_or_short_is_none() {
        let mut r = [0u8; OUTPUT_REPORT_LEN];
        r[0] = 0x11;
        assert_eq!(ds4_output_report(&r), None);
        r[0] = 0x05;
        assert_eq!(ds4_output_report(&r[..8]), None);
        assert!(ds4_output_report(&r[..9]).is_some());
    }
}
