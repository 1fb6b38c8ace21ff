//! What a Sony pad has beyond buttons and sticks: touchpad fingers, motion sensors, battery.
//! One pad's worth, fed in the clients' units (normalised touch positions, °/s, m/s², percent)
//! and held in the pad's own (touchpad coordinates, raw sensor units). Sans-IO.

use punktfunk_input::gamepad::{
    accel_raw, gyro_raw, touch_position, Battery, Charge, Motion, TouchPoint, Touchpad,
};

/// Contact ids are 7 bits in the report.
const CONTACT_ID_MASK: u8 = 0x7F;

/// One Sony pad's touchpad, sensors and battery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SonyExtras {
    /// Touchpad size in the pad's coordinates.
    size: (u16, u16),
    touch: Touchpad,
    /// The client's pointer id holding each of the two finger slots.
    pointers: [Option<u32>; 2],
    /// Contact id the next new finger gets (a real pad counts them up).
    next_contact: u8,
    motion: Motion,
    battery: Battery,
}

impl SonyExtras {
    /// A pad with a `width` × `height` touchpad, no fingers down, at rest, full battery.
    pub fn new(width: u16, height: u16) -> Self {
        Self {
            size: (width, height),
            touch: Touchpad::default(),
            pointers: [None; 2],
            next_contact: 0,
            motion: Motion::default(),
            battery: Battery::default(),
        }
    }

    pub fn touchpad(&self) -> Touchpad {
        self.touch
    }

    pub fn motion(&self) -> Motion {
        self.motion
    }

    pub fn battery(&self) -> Battery {
        self.battery
    }

    /// Finger `pointer` is down at normalised `(x, y)` (0.0 … 1.0; outside clamps), or lifted
    /// (`None`). A new finger takes a free slot; a third finger is dropped, as is lifting a
    /// finger that is not down. Whether the touchpad changed.
    pub fn finger(&mut self, pointer: u32, at: Option<(f32, f32)>) -> bool {
        let held = self.pointers.iter().position(|p| *p == Some(pointer));
        let before = self.touch;
        match (held, at) {
            (Some(slot), None) => {
                self.pointers[slot] = None;
                self.touch.points[slot] = None;
            }
            (None, None) => {}
            (held, Some((x, y))) => {
                let Some(slot) = held.or_else(|| self.pointers.iter().position(Option::is_none))
                else {
                    return false;
                };
                let id = match (held, self.touch.points[slot]) {
                    (Some(_), Some(point)) => point.id,
                    _ => {
                        let id = self.next_contact;
                        self.next_contact = (id + 1) & CONTACT_ID_MASK;
                        id
                    }
                };
                let (x, y) = touch_position(x, y, self.size.0, self.size.1);
                self.pointers[slot] = Some(pointer);
                self.touch.points[slot] = Some(TouchPoint { id, x, y });
            }
        }
        self.touch != before
    }

    /// Every finger lifted. Whether any was down.
    pub fn lift_all(&mut self) -> bool {
        self.pointers = [None; 2];
        std::mem::take(&mut self.touch) != Touchpad::default()
    }

    /// A gyro sample in °/s (pitch, yaw, roll). Whether the raw reading changed.
    pub fn gyro(&mut self, deg_per_s: [f32; 3]) -> bool {
        let before = self.motion.gyro;
        self.motion.gyro = deg_per_s.map(gyro_raw);
        self.motion.gyro != before
    }

    /// An accelerometer sample in m/s², gravity included. Whether the raw reading changed.
    pub fn accel(&mut self, m_per_s2: [f32; 3]) -> bool {
        let before = self.motion.accel;
        self.motion.accel = m_per_s2.map(accel_raw);
        self.motion.accel != before
    }

    /// Whether the battery changed.
    pub fn set_battery(&mut self, battery: Battery) -> bool {
        std::mem::replace(&mut self.battery, battery) != battery
    }
}

/// Moonlight's battery report (`LI_BATTERY_STATE_*`, percent or 0xFF unknown) as the pad's.
/// The pads know no "plugged in, not charging" with a level (the drivers read their error codes
/// as 0 %), so that counts as charging; a state that says nothing (unknown, no battery) gives
/// back the default full battery; an unknown level counts as 100 % (as Sunshine does).
pub fn battery_from_moonlight(
    state: punktfunk_gamestream::input::BatteryState,
    percentage: u8,
) -> Battery {
    use punktfunk_gamestream::input::BatteryState as S;
    use punktfunk_gamestream::wire::input::BATTERY_PERCENTAGE_UNKNOWN;
    let percent = if percentage == BATTERY_PERCENTAGE_UNKNOWN {
        100
    } else {
        percentage.min(100)
    };
    let charge = match state {
        S::Discharging => Charge::Discharging,
        S::Charging | S::NotCharging => Charge::Charging,
        S::Full => Charge::Full,
        S::Unknown | S::NotPresent => return Battery::default(),
    };
    Battery { charge, percent }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use punktfunk_gamestream::input::BatteryState;
    use punktfunk_input::gamepad::{TouchPoint, STANDARD_GRAVITY};

    fn pad() -> SonyExtras {
        SonyExtras::new(1920, 1080)
    }

    fn point(id: u8, x: u16, y: u16) -> Option<TouchPoint> {
        Some(TouchPoint { id, x, y })
    }

    #[test]
    fn fingers_take_slots_keep_their_contact_and_lift() {
        let mut p = pad();
        assert!(p.finger(77, Some((0.0, 0.0))));
        assert!(p.finger(9, Some((1.0, 1.0))));
        assert_eq!(p.touchpad().points, [point(0, 0, 0), point(1, 1919, 1079)]);
        // A move keeps the finger's slot and contact id.
        assert!(p.finger(77, Some((0.5, 0.5))));
        assert_eq!(p.touchpad().points[0], point(0, 960, 540));
        // The same position again changes nothing; a third finger is dropped.
        assert!(!p.finger(77, Some((0.5, 0.5))));
        assert!(!p.finger(3, Some((0.2, 0.2))));
        // Lifting frees the slot; the next finger gets a new contact id there.
        assert!(p.finger(77, None));
        assert!(!p.finger(77, None), "lifting twice changes nothing");
        assert_eq!(p.touchpad().points[0], None);
        assert!(p.finger(3, Some((0.0, 1.0))));
        assert_eq!(
            p.touchpad().points,
            [point(2, 0, 1079), point(1, 1919, 1079)]
        );
        assert!(p.lift_all());
        assert!(!p.lift_all());
        assert_eq!(p.touchpad(), Touchpad::default());
    }

    #[test]
    fn positions_clamp_to_the_pads_own_size() {
        let mut ds4 = SonyExtras::new(1920, 942);
        ds4.finger(1, Some((2.0, -1.0)));
        assert_eq!(ds4.touchpad().points[0], point(0, 1919, 0));
        ds4.finger(1, Some((0.25, 1.0)));
        assert_eq!(ds4.touchpad().points[0], point(0, 480, 941));
    }

    #[test]
    fn motion_in_client_units_becomes_raw() {
        let mut p = pad();
        assert!(p.gyro([1.0, -90.0, 2048.0]));
        assert_eq!(p.motion().gyro, [16, -1440, i16::MAX]);
        assert!(!p.gyro([1.0, -90.0, 4000.0]), "still saturated: no change");
        assert!(p.accel([0.0, STANDARD_GRAVITY, -STANDARD_GRAVITY / 4.0]));
        assert_eq!(p.motion().accel, [0, 8192, -2048]);
        // An all-zero gyro sample (Moonlight: sensor stopped) applies like any other.
        assert!(p.gyro([0.0; 3]));
        assert_eq!(p.motion().gyro, [0; 3]);
        assert_eq!(
            p.motion().accel,
            [0, 8192, -2048],
            "gyro leaves accel alone"
        );
    }

    #[test]
    fn moonlight_battery_states() {
        let b = battery_from_moonlight;
        let at = |charge, percent| Battery { charge, percent };
        assert_eq!(
            b(BatteryState::Discharging, 42),
            at(Charge::Discharging, 42)
        );
        assert_eq!(b(BatteryState::Charging, 150), at(Charge::Charging, 100));
        assert_eq!(b(BatteryState::NotCharging, 80), at(Charge::Charging, 80));
        assert_eq!(b(BatteryState::Full, 0xFF), at(Charge::Full, 100));
        assert_eq!(
            b(BatteryState::Discharging, 0xFF),
            at(Charge::Discharging, 100)
        );
        assert_eq!(b(BatteryState::Unknown, 10), Battery::default());
        assert_eq!(b(BatteryState::NotPresent, 10), Battery::default());
        let mut p = pad();
        assert!(!p.set_battery(Battery::default()));
        assert!(p.set_battery(at(Charge::Charging, 5)));
        assert_eq!(p.battery(), at(Charge::Charging, 5));
    }

    #[derive(Debug, Clone)]
    enum Touch {
        Finger(u32, Option<(f32, f32)>),
        LiftAll,
    }

    fn any_touch() -> impl Strategy<Value = Touch> {
        prop_oneof![
            (0u32..4, proptest::option::of((any::<f32>(), any::<f32>())))
                .prop_map(|(p, at)| Touch::Finger(p, at)),
            Just(Touch::LiftAll),
        ]
    }

    proptest! {
        /// Whatever the fingers do: points stay on the pad, a slot has a point exactly when a
        /// pointer holds it, no pointer holds two slots, and contact ids stay 7-bit.
        #[test]
        fn touch_invariants(touches in prop::collection::vec(any_touch(), 0..64)) {
            let mut p = SonyExtras::new(1920, 942);
            for t in touches {
                match t {
                    Touch::Finger(pointer, at) => { p.finger(pointer, at); }
                    Touch::LiftAll => { p.lift_all(); }
                }
                for (point, pointer) in p.touch.points.iter().zip(p.pointers) {
                    prop_assert_eq!(point.is_some(), pointer.is_some());
                    if let Some(point) = point {
                        prop_assert!(point.x < 1920 && point.y < 942 && point.id < 0x80);
                    }
                }
                prop_assert!(p.pointers[0].is_none() || p.pointers[0] != p.pointers[1]);
            }
        }
    }
}
