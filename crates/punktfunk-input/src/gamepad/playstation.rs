//! What the DualSense and the DualShock 4 share: stick and trigger encoding, the d-pad hat,
//! the first two button bytes, touch points and motion samples.

use super::{buttons, PadState};

/// A finger on the touchpad, in the pad's own touch coordinates (DualSense 1920 × 1080,
/// DualShock 4 1920 × 942; larger values are clamped to the edge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct TouchPoint {
    /// Contact id (7 bits; keep it stable while the finger stays down).
    pub id: u8,
    pub x: u16,
    pub y: u16,
}

/// Up to two fingers on the touchpad; `None` is a lifted finger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Touchpad {
    pub points: [Option<TouchPoint>; 2],
}

/// One motion sample in the pad's raw sensor units: [`GYRO_RAW_PER_DEG_S`] per °/s and
/// [`ACCEL_RAW_PER_G`] per g, which the calibration feature report the device layer answers
/// tells the driver. Axes are the pad's own, which SDL's sensor axes (and so Moonlight's) are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Motion {
    /// Pitch, yaw, roll rates ([`gyro_raw`]).
    pub gyro: [i16; 3],
    /// x, y, z acceleration, gravity included ([`accel_raw`]).
    pub accel: [i16; 3],
    /// Sensor clock in the pad's own ticks (DualSense 0.33 µs, DualShock 4 5.33 µs and only 16
    /// bits of it); the driver turns its deltas into `MSC_TIMESTAMP`.
    pub timestamp: u32,
}

/// Raw gyro units per °/s: the real pads' resolution (SDL assumes it for a pad without a usable
/// calibration), so ±2048 °/s fit an i16 and the driver scales by 1024 / 16 = 64 to its own
/// 1024 per °/s.
pub const GYRO_RAW_PER_DEG_S: i16 = 16;
/// Raw accelerometer units per g (±4 g fit an i16), the driver's own unit.
pub const ACCEL_RAW_PER_G: i16 = 8192;
/// Standard gravity in m/s² (SDL's `SDL_STANDARD_GRAVITY`).
pub const STANDARD_GRAVITY: f32 = 9.80665;

/// A rotation rate in °/s as the raw gyro value (saturating at the i16 range).
pub fn gyro_raw(deg_per_s: f32) -> i16 {
    saturate(deg_per_s * f32::from(GYRO_RAW_PER_DEG_S))
}

/// An acceleration in m/s² as the raw accelerometer value (saturating at the i16 range).
pub fn accel_raw(m_per_s2: f32) -> i16 {
    saturate(m_per_s2 / STANDARD_GRAVITY * f32::from(ACCEL_RAW_PER_G))
}

/// Rounds to the nearest i16, saturating; NaN is 0.
fn saturate(v: f32) -> i16 {
    // `as` saturates and maps NaN to 0.
    v.round() as i16
}

/// A position on the touchpad from normalised coordinates (0.0 left/top … 1.0 right/bottom,
/// values outside clamp to the edge, NaN is 0) on a pad of `width` × `height`.
pub fn touch_position(x: f32, y: f32, width: u16, height: u16) -> (u16, u16) {
    let scale = |v: f32, size: u16| {
        let v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
        (v * f32::from(size - 1)).round() as u16
    };
    (scale(x, width), scale(y, height))
}

/// How the pad's battery is charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Charge {
    Discharging,
    Charging,
    Full,
}

/// The battery a Sony pad reports (the driver shows it as the pad's power supply). The default,
/// a full battery on a cable, is what a pad says until the client tells otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Battery {
    pub charge: Charge,
    /// 0–100; larger values count as 100. Ignored when full.
    pub percent: u8,
}

impl Default for Battery {
    fn default() -> Self {
        Self {
            charge: Charge::Full,
            percent: 100,
        }
    }
}

impl Battery {
    /// The level as both pads count it: tenths, 0 = 0–9 % … 10 = 100 %.
    pub(crate) fn tenths(&self) -> u8 {
        self.percent.min(100) / 10
    }
}

/// The hat value a released d-pad reports (0..7 are N, NE, E, SE, S, SW, W, NW).
pub(crate) const HAT_NEUTRAL: u8 = 8;

/// First button byte: hat in the low nibble, then square, cross, circle, triangle.
const SQUARE: u8 = 0x10;
const CROSS: u8 = 0x20;
const CIRCLE: u8 = 0x40;
const TRIANGLE: u8 = 0x80;

/// Second button byte.
const L1: u8 = 0x01;
const R1: u8 = 0x02;
const L2: u8 = 0x04;
const R2: u8 = 0x08;
const SHARE: u8 = 0x10;
const OPTIONS: u8 = 0x20;
const L3: u8 = 0x40;
const R3: u8 = 0x80;

/// A touch point's first byte: set for a lifted finger.
const TOUCH_INACTIVE: u8 = 0x80;

/// Stick X: i16 centred on 0 to u8 centred on 128.
pub(crate) fn stick_x(value: i16) -> u8 {
    ((i32::from(value) + 32768) >> 8) as u8
}

/// Stick Y: Moonlight's up-positive i16 to the pad's down-positive u8 (0 is fully up).
pub(crate) fn stick_y(value: i16) -> u8 {
    stick_x(value.saturating_neg())
}

/// The d-pad as the pads' hat switch.
pub(crate) fn hat(state: &PadState) -> u8 {
    match state.dpad() {
        (0, -1) => 0,
        (1, -1) => 1,
        (1, 0) => 2,
        (1, 1) => 3,
        (0, 1) => 4,
        (-1, 1) => 5,
        (-1, 0) => 6,
        (-1, -1) => 7,
        _ => HAT_NEUTRAL,
    }
}

fn bits(state: &PadState, table: &[(u32, u8)]) -> u8 {
    table
        .iter()
        .filter(|&&(flag, _)| state.held(flag))
        .fold(0, |byte, &(_, bit)| byte | bit)
}

/// Hat and face buttons (A is cross, B circle, X square, Y triangle — by position).
pub(crate) fn face_and_hat(state: &PadState) -> u8 {
    let face = [
        (buttons::X, SQUARE),
        (buttons::A, CROSS),
        (buttons::B, CIRCLE),
        (buttons::Y, TRIANGLE),
    ];
    hat(state) | bits(state, &face)
}

/// Shoulders, the triggers' digital bits, share/create, options, stick clicks.
pub(crate) fn shoulders(state: &PadState) -> u8 {
    let held = [
        (buttons::LB, L1),
        (buttons::RB, R1),
        (buttons::BACK, SHARE),
        (buttons::START, OPTIONS),
        (buttons::LS_CLK, L3),
        (buttons::RS_CLK, R3),
    ];
    // The real pads close the digital trigger switch as soon as the trigger moves.
    let l2 = if state.left_trigger > 0 { L2 } else { 0 };
    let r2 = if state.right_trigger > 0 { R2 } else { 0 };
    bits(state, &held) | l2 | r2
}

/// A touch point's 4 bytes: contact (inactive bit + id), then 12-bit x and 12-bit y packed
/// little-endian. Coordinates are clamped to `width` × `height`.
pub(crate) fn touch_point(point: Option<TouchPoint>, width: u16, height: u16) -> [u8; 4] {
    let Some(p) = point else {
        return [TOUCH_INACTIVE, 0, 0, 0];
    };
    let x = p.x.min(width - 1);
    let y = p.y.min(height - 1);
    [
        p.id & !TOUCH_INACTIVE,
        (x & 0xFF) as u8,
        ((x >> 8) & 0x0F) as u8 | ((y & 0x0F) << 4) as u8,
        (y >> 4) as u8,
    ]
}

/// Gyro then accelerometer, six little-endian i16, into `out` (12 bytes).
pub(crate) fn write_motion(out: &mut [u8], motion: &Motion) {
    for (slot, value) in out
        .chunks_exact_mut(2)
        .zip(motion.gyro.iter().chain(&motion.accel))
    {
        slot.copy_from_slice(&value.to_le_bytes());
    }
}

/// Reads a touch point back (tests and fuzzing of the encoders).
#[cfg(test)]
pub(crate) fn decode_touch_point(bytes: &[u8]) -> Option<TouchPoint> {
    if bytes[0] & TOUCH_INACTIVE != 0 {
        return None;
    }
    Some(TouchPoint {
        id: bytes[0],
        x: u16::from(bytes[1]) | (u16::from(bytes[2] & 0x0F) << 8),
        y: u16::from(bytes[2] >> 4) | (u16::from(bytes[3]) << 4),
    })
}

/// A minimal HID report descriptor walker for the tests: the size in bytes (report id
/// included) of every report of a main-item kind (0x80 input, 0x90 output, 0xB0 feature).
#[cfg(test)]
pub(crate) fn report_sizes(descriptor: &[u8], kind: u8) -> std::collections::BTreeMap<u8, usize> {
    let mut sizes = std::collections::BTreeMap::new();
    let (mut report_size, mut report_count, mut report_id) = (0usize, 0usize, 0u8);
    let mut i = 0;
    while i < descriptor.len() {
        let prefix = descriptor[i];
        let len = [0, 1, 2, 4][usize::from(prefix & 3)];
        let data = descriptor[i + 1..i + 1 + len]
            .iter()
            .rev()
            .fold(0usize, |v, &b| (v << 8) | usize::from(b));
        match prefix & 0xFC {
            0x74 => report_size = data,
            0x94 => report_count = data,
            0x84 => report_id = data as u8,
            tag if tag == kind => {
                *sizes.entry(report_id).or_insert(0) += report_size * report_count
            }
            _ => {}
        }
        i += 1 + len;
    }
    sizes
        .into_iter()
        .map(|(id, bits)| (id, bits.div_ceil(8) + usize::from(id != 0)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sticks() {
        assert_eq!(stick_x(0), 128);
        assert_eq!(stick_x(-32768), 0);
        assert_eq!(stick_x(32767), 255);
        assert_eq!(stick_y(0), 128);
        assert_eq!(stick_y(32767), 0, "fully up");
        assert_eq!(stick_y(-32768), 255, "fully down");
    }

    #[test]
    fn hat_values() {
        let pad = |b| PadState {
            buttons: b,
            ..PadState::default()
        };
        assert_eq!(hat(&pad(0)), 8);
        assert_eq!(hat(&pad(buttons::UP)), 0);
        assert_eq!(hat(&pad(buttons::UP | buttons::RIGHT)), 1);
        assert_eq!(hat(&pad(buttons::RIGHT)), 2);
        assert_eq!(hat(&pad(buttons::DOWN | buttons::RIGHT)), 3);
        assert_eq!(hat(&pad(buttons::DOWN)), 4);
        assert_eq!(hat(&pad(buttons::DOWN | buttons::LEFT)), 5);
        assert_eq!(hat(&pad(buttons::LEFT)), 6);
        assert_eq!(hat(&pad(buttons::UP | buttons::LEFT)), 7);
        assert_eq!(hat(&pad(buttons::UP | buttons::DOWN)), 8);
    }

    #[test]
    fn touch_point_packing() {
        let p = TouchPoint {
            id: 5,
            x: 0x123,
            y: 0x345,
        };
        assert_eq!(touch_point(Some(p), 1920, 1080), [0x05, 0x23, 0x51, 0x34]);
        assert_eq!(touch_point(None, 1920, 1080), [0x80, 0, 0, 0]);
        let far = TouchPoint {
            id: 0xFF,
            x: u16::MAX,
            y: u16::MAX,
        };
        let clamped = decode_touch_point(&touch_point(Some(far), 1920, 942)).unwrap();
        assert_eq!((clamped.id, clamped.x, clamped.y), (0x7F, 1919, 941));
    }

    #[test]
    fn motion_units() {
        assert_eq!(gyro_raw(0.0), 0);
        assert_eq!(gyro_raw(1.0), 16);
        assert_eq!(gyro_raw(-90.0), -1440);
        assert_eq!(gyro_raw(0.03), 0, "below one raw unit rounds to 0");
        assert_eq!(gyro_raw(2047.9), 32766);
        assert_eq!(gyro_raw(5000.0), i16::MAX, "saturates");
        assert_eq!(gyro_raw(-5000.0), i16::MIN);
        assert_eq!(gyro_raw(f32::NAN), 0);
        assert_eq!(accel_raw(STANDARD_GRAVITY), 8192);
        assert_eq!(accel_raw(-STANDARD_GRAVITY), -8192);
        assert_eq!(accel_raw(STANDARD_GRAVITY / 2.0), 4096);
        assert_eq!(accel_raw(10.0 * STANDARD_GRAVITY), i16::MAX);
        assert_eq!(accel_raw(f32::INFINITY), i16::MAX);
    }

    #[test]
    fn touch_positions_span_the_pad_and_clamp() {
        assert_eq!(touch_position(0.0, 0.0, 1920, 1080), (0, 0));
        assert_eq!(touch_position(1.0, 1.0, 1920, 1080), (1919, 1079));
        assert_eq!(touch_position(0.5, 0.5, 1920, 942), (960, 471));
        assert_eq!(touch_position(-3.0, 7.0, 1920, 942), (0, 941));
        assert_eq!(touch_position(f32::NAN, 1.0, 1920, 942), (0, 941));
    }

    #[test]
    fn battery_tenths() {
        let b = |percent| Battery {
            charge: Charge::Discharging,
            percent,
        };
        assert_eq!(b(0).tenths(), 0);
        assert_eq!(b(9).tenths(), 0);
        assert_eq!(b(55).tenths(), 5);
        assert_eq!(b(100).tenths(), 10);
        assert_eq!(b(255).tenths(), 10);
    }

    proptest! {
        /// Within the range: the raw value read back with the driver's units is the input to
        /// within half a raw unit.
        #[test]
        fn motion_conversion_is_accurate_in_range(deg in -2047.0f32..2047.0, g in -3.9f32..3.9) {
            let back = f32::from(gyro_raw(deg)) / f32::from(GYRO_RAW_PER_DEG_S);
            prop_assert!((back - deg).abs() <= 0.5 / f32::from(GYRO_RAW_PER_DEG_S) + 1e-3);
            let back = f32::from(accel_raw(g * STANDARD_GRAVITY)) / f32::from(ACCEL_RAW_PER_G);
            prop_assert!((back - g).abs() <= 0.5 / f32::from(ACCEL_RAW_PER_G) + 1e-4);
        }

        #[test]
        fn touch_positions_stay_on_the_pad(x: f32, y: f32, h in 2u16..2000) {
            let (px, py) = touch_position(x, y, 1920, h);
            prop_assert!(px < 1920 && py < h);
        }

        #[test]
        fn touch_points_round_trip(id in 0u8..0x80, x in 0u16..1920, y in 0u16..1080) {
            let p = TouchPoint { id, x, y };
            prop_assert_eq!(decode_touch_point(&touch_point(Some(p), 1920, 1080)), Some(p));
        }

        #[test]
        fn stick_encoding_is_monotonic(a: i16, b: i16) {
            if a <= b {
                prop_assert!(stick_x(a) <= stick_x(b));
                prop_assert!(stick_y(a) >= stick_y(b));
            }
        }
    }
}
