//! Whole wheel notches out of 1/120 fractions, per axis.

/// 1/120 units in one notch (the protocols' and the kernel's high-resolution unit).
pub const NOTCH: i32 = 120;

/// Sums fractions of a notch until whole notches come out, keeping the rest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Wheel {
    rest: i32,
}

impl Wheel {
    /// Adds `amount` (1/120 notches) and returns the whole notches now due. Turning the other
    /// way drops the rest first, as the kernel's own hi-res emulation does: half a notch up and
    /// then half down must not add up to nothing on one side and a click on the other.
    pub fn turn(&mut self, amount: i32) -> i32 {
        if self.rest.signum() * amount.signum() < 0 {
            self.rest = 0;
        }
        let total = i64::from(self.rest) + i64::from(amount);
        // |total / 120| < 2^31 / 120 + 1 and |total % 120| < 120: both fit.
        self.rest = (total % i64::from(NOTCH)) as i32;
        (total / i64::from(NOTCH)) as i32
    }

    pub fn reset(&mut self) {
        self.rest = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quarter_notches_add_up_to_one() {
        let mut wheel = Wheel::default();
        assert_eq!([30, 30, 30].map(|a| wheel.turn(a)), [0, 0, 0]);
        assert_eq!(wheel.turn(30), 1);
        assert_eq!(wheel.turn(30), 0);
    }

    #[test]
    fn whole_notches_pass_at_once_and_keep_the_rest() {
        let mut wheel = Wheel::default();
        assert_eq!(wheel.turn(-360), -3);
        assert_eq!(wheel.turn(-200), -1);
        assert_eq!(wheel.turn(-40), -1);
    }

    #[test]
    fn turning_back_drops_the_rest() {
        let mut wheel = Wheel::default();
        assert_eq!(wheel.turn(90), 0);
        assert_eq!(wheel.turn(-60), 0);
        assert_eq!(wheel.turn(-60), -1);
        assert_eq!(wheel.turn(i32::MIN), i32::MIN / NOTCH);
    }

    proptest! {
        #[test]
        fn one_way_the_notches_are_the_sum_over_120(steps in prop::collection::vec(0..=1000i32, 0..50)) {
            let mut wheel = Wheel::default();
            let notches: i64 = steps.iter().map(|&s| i64::from(wheel.turn(s))).sum();
            let total: i64 = steps.iter().map(|&s| i64::from(s)).sum();
            prop_assert_eq!(notches, total / 120);
        }

        #[test]
        fn never_more_than_the_distance_allows(steps in prop::collection::vec(any::<i32>(), 0..50)) {
            let mut wheel = Wheel::default();
            for s in steps {
                let n = wheel.turn(s);
                prop_assert!(i64::from(n).abs() * 120 <= i64::from(s).abs() + 119);
                prop_assert!(n == 0 || (n < 0) == (s < 0));
            }
        }
    }
}
