//! Wrong console passwords, per address (sans-IO): after [`MAX_FAILURES`] in a row an address
//! waits [`LOCKOUT`] before it may try again. A success clears its count.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

pub const MAX_FAILURES: u32 = 5;
pub const LOCKOUT: Duration = Duration::from_secs(10);
/// Addresses remembered at most; the oldest are forgotten first (a flood of addresses must not
/// grow memory without bound).
const MAX_TRACKED: usize = 4096;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    locked_until: Option<Instant>,
    last: Instant,
}

#[derive(Debug, Default)]
pub struct LoginThrottle {
    entries: HashMap<IpAddr, Entry>,
}

impl LoginThrottle {
    /// Whether `ip` may try now; else how long it must wait.
    pub fn check(&mut self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        match self.entries.get_mut(&ip) {
            Some(e) => match e.locked_until {
                Some(until) if now < until => Err(until - now),
                Some(_) => {
                    // The wait is over: a fresh start.
                    e.locked_until = None;
                    e.failures = 0;
                    Ok(())
                }
                None => Ok(()),
            },
            None => Ok(()),
        }
    }

    /// Records an attempt's outcome.
    pub fn record(&mut self, ip: IpAddr, ok: bool, now: Instant) {
        if ok {
            self.entries.remove(&ip);
            return;
        }
        if self.entries.len() >= MAX_TRACKED && !self.entries.contains_key(&ip) {
            if let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last)
                .map(|(k, _)| *k)
            {
                self.entries.remove(&oldest);
            }
        }
        let e = self.entries.entry(ip).or_insert(Entry {
            failures: 0,
            locked_until: None,
            last: now,
        });
        e.failures += 1;
        e.last = now;
        if e.failures >= MAX_FAILURES {
            e.locked_until = Some(now + LOCKOUT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_wrong_lock_the_address_for_a_while_only() {
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let t = Instant::now();
        let mut th = LoginThrottle::default();
        for _ in 0..MAX_FAILURES {
            assert!(th.check(a, t).is_ok());
            th.record(a, false, t);
        }
        assert_eq!(th.check(a, t), Err(LOCKOUT));
        assert!(th.check(b, t).is_ok(), "other addresses are not affected");
        assert_eq!(th.check(a, t + LOCKOUT / 2), Err(LOCKOUT / 2));
        assert!(th.check(a, t + LOCKOUT).is_ok(), "after the wait");
        th.record(a, false, t + LOCKOUT);
        assert!(th.check(a, t + LOCKOUT).is_ok(), "the count started over");
        th.record(a, true, t + LOCKOUT);
        assert!(th.entries.is_empty());
    }

    #[test]
    fn memory_is_bounded() {
        let t = Instant::now();
        let mut th = LoginThrottle::default();
        for i in 0..(MAX_TRACKED as u32 + 100) {
            th.record(
                IpAddr::from(i.to_be_bytes()),
                false,
                t + Duration::from_micros(i.into()),
            );
        }
        assert_eq!(th.entries.len(), MAX_TRACKED);
    }
}
