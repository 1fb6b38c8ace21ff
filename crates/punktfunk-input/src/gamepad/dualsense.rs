//! A USB DualSense (PS5 controller) through UHID: its report descriptor, input report 0x01
//! at the offsets `hid-playstation` reads, and output report 0x02 (rumble, lightbar, player
//! LEDs, adaptive triggers) parsed back for the client.

use super::playstation::{
    face_and_hat, shoulders, stick_x, stick_y, touch_point, write_motion, Battery, Charge, Motion,
    Touchpad,
};
use super::{buttons, DeviceIdentity, PadState, BUS_USB};

/// A DualSense on USB. `hid-playstation` binds on vendor/product; the name is what the real
/// pad's manufacturer and product strings give.
pub const DUALSENSE_IDENTITY: DeviceIdentity = DeviceIdentity {
    bustype: BUS_USB,
    vendor: 0x054c,
    product: 0x0ce6,
    version: 0x0100,
    name: "Sony Interactive Entertainment DualSense Wireless Controller",
};

/// The USB HID report descriptor of a DualSense (273 bytes: input report 0x01 of 63 bytes,
/// output report 0x02 of 47, and the feature reports the driver asks for — 0x05
/// calibration, 0x09 pairing, 0x20 firmware — among others).
///
/// Bytes as dumped from a real pad (`nondebug/dualsense` report-descriptor-usb); `hid-tools`'
/// PS5 USB test device carries the same bytes less the last two feature reports (0xF4, 0xF5)
/// and with other vendor usages on reports 0x05 and 0x08.
pub const DUALSENSE_USB_REPORT_DESCRIPTOR: [u8; 273] = [
    0x05, 0x01, 0x09, 0x05, 0xA1, 0x01, 0x85, 0x01, 0x09, 0x30, 0x09, 0x31, 0x09, 0x32, 0x09, 0x35,
    0x09, 0x33, 0x09, 0x34, 0x15, 0x00, 0x26, 0xFF, 0x00, 0x75, 0x08, 0x95, 0x06, 0x81, 0x02, 0x06,
    0x00, 0xFF, 0x09, 0x20, 0x95, 0x01, 0x81, 0x02, 0x05, 0x01, 0x09, 0x39, 0x15, 0x00, 0x25, 0x07,
    0x35, 0x00, 0x46, 0x3B, 0x01, 0x65, 0x14, 0x75, 0x04, 0x95, 0x01, 0x81, 0x42, 0x65, 0x00, 0x05,
    0x09, 0x19, 0x01, 0x29, 0x0F, 0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x0F, 0x81, 0x02, 0x06,
    0x00, 0xFF, 0x09, 0x21, 0x95, 0x0D, 0x81, 0x02, 0x06, 0x00, 0xFF, 0x09, 0x22, 0x15, 0x00, 0x26,
    0xFF, 0x00, 0x75, 0x08, 0x95, 0x34, 0x81, 0x02, 0x85, 0x02, 0x09, 0x23, 0x95, 0x2F, 0x91, 0x02,
    0x85, 0x05, 0x09, 0x33, 0x95, 0x28, 0xB1, 0x02, 0x85, 0x08, 0x09, 0x34, 0x95, 0x2F, 0xB1, 0x02,
    0x85, 0x09, 0x09, 0x24, 0x95, 0x13, 0xB1, 0x02, 0x85, 0x0A, 0x09, 0x25, 0x95, 0x1A, 0xB1, 0x02,
    0x85, 0x20, 0x09, 0x26, 0x95, 0x3F, 0xB1, 0x02, 0x85, 0x21, 0x09, 0x27, 0x95, 0x04, 0xB1, 0x02,
    0x85, 0x22, 0x09, 0x40, 0x95, 0x3F, 0xB1, 0x02, 0x85, 0x80, 0x09, 0x28, 0x95, 0x3F, 0xB1, 0x02,
    0x85, 0x81, 0x09, 0x29, 0x95, 0x3F, 0xB1, 0x02, 0x85, 0x82, 0x09, 0x2A, 0x95, 0x09, 0xB1, 0x02,
    0x85, 0x83, 0x09, 0x2B, 0x95, 0x3F, 0xB1, 0x02, 0x85, 0x84, 0x09, 0x2C, 0x95, 0x3F, 0xB1, 0x02,
    0x85, 0x85, 0x09, 0x2D, 0x95, 0x02, 0xB1, 0x02, 0x85, 0xA0, 0x09, 0x2E, 0x95, 0x01, 0xB1, 0x02,
    0x85, 0xE0, 0x09, 0x2F, 0x95, 0x3F, 0xB1, 0x02, 0x85, 0xF0, 0x09, 0x30, 0x95, 0x3F, 0xB1, 0x02,
    0x85, 0xF1, 0x09, 0x31, 0x95, 0x3F, 0xB1, 0x02, 0x85, 0xF2, 0x09, 0x32, 0x95, 0x0F, 0xB1, 0x02,
    0x85, 0xF4, 0x09, 0x35, 0x95, 0x3F, 0xB1, 0x02, 0x85, 0xF5, 0x09, 0x36, 0x95, 0x03, 0xB1, 0x02,
    0xC0,
];

/// Touchpad size in the pad's coordinates.
pub const TOUCHPAD_WIDTH: u16 = 1920;
pub const TOUCHPAD_HEIGHT: u16 = 1080;

/// Input report 0x01 (USB): id and length.
pub const INPUT_REPORT_ID: u8 = 0x01;
pub const INPUT_REPORT_LEN: usize = 64;
/// Output report 0x02 (USB): id and the length the driver sends.
pub const OUTPUT_REPORT_ID: u8 = 0x02;
pub const OUTPUT_REPORT_LEN: usize = 63;

/// Byte offsets in input report 0x01, report id at 0 (`struct dualsense_input_report` + 1).
mod input {
    pub const LEFT_X: usize = 1;
    pub const LEFT_Y: usize = 2;
    pub const RIGHT_X: usize = 3;
    pub const RIGHT_Y: usize = 4;
    pub const LEFT_TRIGGER: usize = 5;
    pub const RIGHT_TRIGGER: usize = 6;
    pub const SEQUENCE: usize = 7;
    pub const BUTTONS0: usize = 8;
    pub const BUTTONS1: usize = 9;
    pub const BUTTONS2: usize = 10;
    /// Gyro x, y, z then accelerometer x, y, z: six little-endian i16.
    pub const MOTION: usize = 16;
    pub const SENSOR_TIMESTAMP: usize = 28;
    pub const TOUCH_POINTS: [usize; 2] = [33, 37];
    pub const STATUS: usize = 53;
}

/// Third button byte.
const PS_HOME: u8 = 0x01;
const TOUCHPAD_CLICK: u8 = 0x02;
const MIC_MUTE: u8 = 0x04;

/// Status byte: the charging state in the high nibble (0 discharging, 1 charging, 2 full; the
/// driver reads others as errors with 0 %), the level in tenths in the low one (ignored when
/// full).
const STATUS_CHARGE_SHIFT: u8 = 4;
const CHARGE_DISCHARGING: u8 = 0x0;
const CHARGE_CHARGING: u8 = 0x1;
const CHARGE_FULL: u8 = 0x2;

/// The sensor clock runs in 1/3 µs ticks.
pub fn sensor_ticks(elapsed_us: u64) -> u32 {
    // Wraps like the pad's own 32-bit clock; the driver takes deltas.
    elapsed_us.wrapping_mul(3) as u32
}

/// The input report for `state`. `touch` and `motion` absent mean no fingers and a still pad
/// at rest, `battery` absent a full one; `counter` is the report sequence number (increment
/// it per report).
pub fn dualsense_input_report(
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
    r[input::LEFT_TRIGGER] = state.left_trigger;
    r[input::RIGHT_TRIGGER] = state.right_trigger;
    r[input::SEQUENCE] = counter;
    r[input::BUTTONS0] = face_and_hat(state);
    r[input::BUTTONS1] = shoulders(state);
    r[input::BUTTONS2] = system_buttons(state);
    if let Some(m) = motion {
        write_motion(&mut r[input::MOTION..input::MOTION + 12], m);
        r[input::SENSOR_TIMESTAMP..input::SENSOR_TIMESTAMP + 4]
            .copy_from_slice(&m.timestamp.to_le_bytes());
    }
    let points = touch.map(|t| t.points).unwrap_or_default();
    for (offset, point) in input::TOUCH_POINTS.into_iter().zip(points) {
        r[offset..offset + 4].copy_from_slice(&touch_point(point, TOUCHPAD_WIDTH, TOUCHPAD_HEIGHT));
    }
    r[input::STATUS] = status(&battery.copied().unwrap_or_default());
    r
}

fn status(battery: &Battery) -> u8 {
    let (charge, tenths) = match battery.charge {
        Charge::Discharging => (CHARGE_DISCHARGING, battery.tenths()),
        Charge::Charging => (CHARGE_CHARGING, battery.tenths()),
        Charge::Full => (CHARGE_FULL, 10),
    };
    (charge << STATUS_CHARGE_SHIFT) | tenths
}

/// PS, touchpad click and mic-mute (Moonlight's misc button).
fn system_buttons(state: &PadState) -> u8 {
    [
        (buttons::HOME, PS_HOME),
        (buttons::TOUCHPAD, TOUCHPAD_CLICK),
        (buttons::MISC, MIC_MUTE),
    ]
    .into_iter()
    .filter(|&(flag, _)| state.held(flag))
    .fold(0, |byte, (_, bit)| byte | bit)
}

/// An adaptive-trigger effect block: the mode byte and its 10 parameters.
pub const TRIGGER_EFFECT_LEN: usize = 11;

/// What a game asked the pad to do, from one output report. Each field is `None` unless the
/// report's valid flags say it carries that part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct DualSenseFeedback {
    /// (left = strong/low-frequency, right = weak/high-frequency) motor, 0..255.
    pub rumble: Option<(u8, u8)>,
    /// Lightbar red, green, blue.
    pub lightbar: Option<(u8, u8, u8)>,
    /// The five player LEDs as the raw byte (bits 0..4, bit 5 = instant change).
    pub player_leds: Option<u8>,
    /// Adaptive-trigger effect blocks (mode byte + 10 parameters) as the game sent them.
    pub right_trigger_effect: Option<[u8; TRIGGER_EFFECT_LEN]>,
    pub left_trigger_effect: Option<[u8; TRIGGER_EFFECT_LEN]>,
}

/// Byte offsets in output report 0x02, report id at 0
/// (`struct dualsense_output_report_common` + 1).
mod output {
    pub const VALID_FLAG0: usize = 1;
    pub const VALID_FLAG1: usize = 2;
    pub const MOTOR_RIGHT: usize = 3;
    pub const MOTOR_LEFT: usize = 4;
    pub const RIGHT_TRIGGER_EFFECT: usize = 11;
    pub const LEFT_TRIGGER_EFFECT: usize = 22;
    pub const VALID_FLAG2: usize = 39;
    pub const PLAYER_LEDS: usize = 44;
    pub const LIGHTBAR: usize = 45;
    /// Everything above lies within the first 48 bytes.
    pub const MIN_LEN: usize = 48;
}

/// `valid_flag0`: classic rumble, the right / left adaptive-trigger blocks.
const FLAG0_COMPATIBLE_VIBRATION: u8 = 0x01;
const FLAG0_RIGHT_TRIGGER_EFFECT: u8 = 0x04;
const FLAG0_LEFT_TRIGGER_EFFECT: u8 = 0x08;
/// `valid_flag1`: lightbar colour, player LEDs.
const FLAG1_LIGHTBAR: u8 = 0x04;
const FLAG1_PLAYER_LEDS: u8 = 0x10;
/// `valid_flag2`: rumble the newer way (firmware with "vibration v2"; Linux 6.x uses it).
const FLAG2_COMPATIBLE_VIBRATION2: u8 = 0x04;

/// Parses USB output report 0x02 (report id first, as UHID delivers it). `None` for another
/// report or one too short to hold the common section.
pub fn dualsense_output_report(bytes: &[u8]) -> Option<DualSenseFeedback> {
    if bytes.len() < output::MIN_LEN || bytes[0] != OUTPUT_REPORT_ID {
        return None;
    }
    let flag0 = bytes[output::VALID_FLAG0];
    let flag1 = bytes[output::VALID_FLAG1];
    let flag2 = bytes[output::VALID_FLAG2];
    let rumble_valid =
        flag0 & FLAG0_COMPATIBLE_VIBRATION != 0 || flag2 & FLAG2_COMPATIBLE_VIBRATION2 != 0;
    let block = |at: usize| -> [u8; TRIGGER_EFFECT_LEN] {
        let mut b = [0u8; TRIGGER_EFFECT_LEN];
        b.copy_from_slice(&bytes[at..at + TRIGGER_EFFECT_LEN]);
        b
    };
    let light = output::LIGHTBAR;
    Some(DualSenseFeedback {
        rumble: rumble_valid.then(|| (bytes[output::MOTOR_LEFT], bytes[output::MOTOR_RIGHT])),
        lightbar: (flag1 & FLAG1_LIGHTBAR != 0)
            .then(|| (bytes[light], bytes[light + 1], bytes[light + 2])),
        player_leds: (flag1 & FLAG1_PLAYER_LEDS != 0).then(|| bytes[output::PLAYER_LEDS]),
        right_trigger_effect: (flag0 & FLAG0_RIGHT_TRIGGER_EFFECT != 0)
            .then(|| block(output::RIGHT_TRIGGER_EFFECT)),
        left_trigger_effect: (flag0 & FLAG0_LEFT_TRIGGER_EFFECT != 0)
            .then(|| block(output::LEFT_TRIGGER_EFFECT)),
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
        let d = &DUALSENSE_USB_REPORT_DESCRIPTOR;
        assert_eq!(d.len(), 273);
        assert_eq!(d[d.len() - 1], 0xC0, "ends its collection");
        let inputs = report_sizes(d, 0x80);
        assert_eq!(inputs.get(&INPUT_REPORT_ID), Some(&INPUT_REPORT_LEN));
        assert_eq!(inputs.len(), 1);
        let outputs = report_sizes(d, 0x90);
        assert_eq!(
            outputs.get(&OUTPUT_REPORT_ID),
            Some(&48),
            "47 bytes plus the id; the driver pads to 63"
        );
        let features = report_sizes(d, 0xB0);
        // Calibration 41, pairing info 20, firmware info 64 bytes, as hid-playstation expects.
        assert_eq!(features.get(&0x05), Some(&41));
        assert_eq!(features.get(&0x09), Some(&20));
        assert_eq!(features.get(&0x20), Some(&64));
    }

    #[test]
    fn neutral_report() {
        let r = dualsense_input_report(&PadState::default(), None, None, None, 0);
        let mut expected = [0u8; 64];
        expected[..9].copy_from_slice(&[0x01, 0x80, 0x80, 0x80, 0x80, 0, 0, 0, 0x08]);
        expected[33] = 0x80;
        expected[37] = 0x80;
        expected[53] = 0x2A;
        assert_eq!(r, expected);
    }

    #[test]
    fn a_busy_report_by_hand() {
        let state = PadState {
            buttons: buttons::A
                | buttons::Y
                | buttons::RIGHT
                | buttons::LB
                | buttons::START
                | buttons::RS_CLK
                | buttons::HOME
                | buttons::TOUCHPAD
                | buttons::MISC,
            left_trigger: 0x40,
            right_trigger: 0,
            left_stick: (-32768, 32767),
            right_stick: (32767, -32768),
        };
        let touch = Touchpad {
            points: [
                None,
                Some(TouchPoint {
                    id: 3,
                    x: 1919,
                    y: 1079,
                }),
            ],
        };
        let motion = Motion {
            gyro: [1, -1, 0x1234],
            accel: [-8192, 8192, 0],
            timestamp: 0xAABBCCDD,
        };
        let r = dualsense_input_report(&state, Some(&touch), Some(&motion), None, 0x7E);
        assert_eq!(
            &r[..12],
            &[
                0x01,
                0x00,
                0x00,
                0xFF,
                0xFF,
                0x40,
                0x00,
                0x7E,
                0x02 | 0x20 | 0x80,        // hat east, cross, triangle
                0x01 | 0x04 | 0x20 | 0x80, // L1, L2 (digital), options, R3
                0x07,
                0x00
            ]
        );
        assert_eq!(
            &r[16..32],
            &[
                0x01, 0x00, 0xFF, 0xFF, 0x34, 0x12, 0x00, 0xE0, 0x00, 0x20, 0x00, 0x00, 0xDD, 0xCC,
                0xBB, 0xAA
            ]
        );
        assert_eq!(&r[33..41], &[0x80, 0, 0, 0, 0x03, 0x7F, 0x77, 0x43]);
    }

    #[test]
    fn battery_status_byte_as_the_driver_reads_it() {
        let at = |charge, percent| {
            let b = Battery { charge, percent };
            dualsense_input_report(&PadState::default(), None, None, Some(&b), 0)[53]
        };
        // Driver: charging nibble 0 discharging, 1 charging (capacity tenths × 10 + 5), 2 full.
        assert_eq!(at(Charge::Discharging, 37), 0x03);
        assert_eq!(at(Charge::Discharging, 100), 0x0A);
        assert_eq!(at(Charge::Charging, 5), 0x10);
        assert_eq!(at(Charge::Charging, 99), 0x19);
        assert_eq!(at(Charge::Full, 0), 0x2A);
        assert_eq!(at(Charge::Discharging, 200), 0x0A, "over 100 counts as 100");
    }

    #[test]
    fn sensor_clock_ticks_a_third_of_a_microsecond() {
        assert_eq!(sensor_ticks(0), 0);
        assert_eq!(sensor_ticks(1_000), 3_000);
        // Wraps at 32 bits, as the pad's clock does: deltas stay right across the wrap.
        let before = sensor_ticks(1_431_655_765);
        let after = sensor_ticks(1_431_655_765 + 10);
        assert_eq!(after.wrapping_sub(before), 30);
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
        /// What the driver would read back matches the state: triggers, counter, touch.
        #[test]
        fn input_report_reads_back(
            state in any_pad(),
            counter: u8,
            id in 0u8..0x80, x in 0u16..1920, y in 0u16..1080,
        ) {
            let p = TouchPoint { id, x, y };
            let touch = Touchpad { points: [Some(p), None] };
            let r = dualsense_input_report(&state, Some(&touch), None, None, counter);
            prop_assert_eq!(r[0], 0x01);
            prop_assert_eq!(r[5], state.left_trigger);
            prop_assert_eq!(r[6], state.right_trigger);
            prop_assert_eq!(r[7], counter);
            prop_assert!(r[8] & 0x0F <= 8);
            prop_assert_eq!(r[9] & 0x04 != 0, state.left_trigger > 0);
            prop_assert_eq!(r[10] & 0x01 != 0, state.held(buttons::HOME));
            prop_assert_eq!(decode_touch_point(&r[33..37]), Some(p));
            prop_assert_eq!(decode_touch_point(&r[37..41]), None);
        }

        #[test]
        fn output_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = dualsense_output_report(&bytes);
        }

        /// A report built field by field parses back to those fields.
        #[test]
        fn output_report_round_trip(
            left: u8, right: u8, rgb: (u8, u8, u8), leds in 0u8..0x40,
            rt: [u8; 11], lt: [u8; 11], v2: bool,
        ) {
            let mut r = [0u8; OUTPUT_REPORT_LEN];
            r[0] = 0x02;
            r[1] = 0x02 | 0x04 | 0x08 | if v2 { 0 } else { 0x01 };
            r[2] = 0x04 | 0x10;
            r[3] = right;
            r[4] = left;
            r[11..22].copy_from_slice(&rt);
            r[22..33].copy_from_slice(&lt);
            r[39] = if v2 { 0x04 } else { 0 };
            r[44] = leds;
            r[45] = rgb.0;
            r[46] = rgb.1;
            r[47] = rgb.2;
            let f = dualsense_output_report(&r).unwrap();
            prop_assert_eq!(f, DualSenseFeedback {
                rumble: Some((left, right)),
                lightbar: Some(rgb),
                player_leds: Some(leds),
                right_trigger_effect: Some(rt),
                left_trigger_effect: Some(lt),
            });
        }
    }

    #[test]
    fn output_flags_gate_each_part() {
        let mut r = [0u8; OUTPUT_REPORT_LEN];
        r[0] = 0x02;
        r[3] = 0x11;
        r[4] = 0x22;
        r[45] = 0xFF;
        // Haptics select alone (bit 1) is not rumble; nothing is flagged valid.
        r[1] = 0x02;
        assert_eq!(
            dualsense_output_report(&r),
            Some(DualSenseFeedback::default())
        );
        r[1] = 0x01;
        assert_eq!(
            dualsense_output_report(&r).unwrap().rumble,
            Some((0x22, 0x11))
        );
        r[1] = 0;
        r[2] = 0x04;
        assert_eq!(
            dualsense_output_report(&r).unwrap().lightbar,
            Some((0xFF, 0, 0))
        );
    }

    #[test]
    fn output_wrong_id_or_short_is_none() {
        let mut r = [0u8; OUTPUT_REPORT_LEN];
        r[0] = 0x31;
        assert_eq!(dualsense_output_report(&r), None);
        r[0] = 0x02;
        assert_eq!(dualsense_output_report(&r[..47]), None);
        assert!(dualsense_output_report(&r[..48]).is_some());
        assert_eq!(dualsense_output_report(&[]), None);
    }
}
