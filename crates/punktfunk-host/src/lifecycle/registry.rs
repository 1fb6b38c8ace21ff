//! The display registry, sans-IO: which virtual display each session streams from, and what
//! happens to a display when its sessions end. Time comes in as an argument; the caller makes
//! and releases the real outputs the registry tells it to.
//!
//! A display is **Active** while any session streams from it, **Lingering** for the keep-alive
//! window after the last one ends (so a client that reconnects gets the same output, with its
//! windows), then **Released** (removed). A deliberate quit releases at once.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use punktfunk_core::control::Mode;

pub type SessionId = u64;
pub type DisplayId = u64;
/// A client's identity: its certificate fingerprint.
pub type Owner = [u8; 32];

/// What to do when a client connects while another client's display is live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConflictPolicy {
    /// Give the newcomer a display of its own.
    #[default]
    Separate,
    /// End the other clients' sessions, then give the newcomer its own display.
    Steal,
    /// Share the live display, at its mode.
    Join,
    /// Refuse the newcomer while another client's display is live.
    Reject,
}

/// How a session ended, for its display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linger {
    /// A dropped connection: keep the display for the keep-alive window.
    Window,
    /// A deliberate quit: release at once.
    Immediate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayState {
    Active,
    Lingering { until: Instant },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayEntry {
    pub id: DisplayId,
    pub owner: Owner,
    pub mode: Mode,
    pub state: DisplayState,
    pub sessions: Vec<SessionId>,
}

/// Why a client is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    TooManySessions,
    /// `reject` policy: another client's display is live.
    Busy,
}

/// Where a new session gets its display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Make a new display. `stop` lists other clients' sessions to end first (`steal`).
    Create {
        stop: Vec<SessionId>,
    },
    /// The client's own lingering display, at a compatible mode.
    Reuse(DisplayId),
    /// Another client's live display (`join`), at that display's mode.
    Join(DisplayId),
    Refuse(Refusal),
}

#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub keep_alive: Duration,
    pub max_sessions: usize,
    pub policy: ConflictPolicy,
}

/// Whether a lingering display can be handed back for `wanted`: the same size (the refresh rate
/// may change, which an output switches without disturbing its windows).
pub fn compatible(current: Mode, wanted: Mode) -> bool {
    current.width == wanted.width && current.height == wanted.height
}

/// The sessions a reconnecting client replaces: its own, and only its own.
pub fn sessions_to_preempt(live: &[(SessionId, Owner)], newcomer: &Owner) -> Vec<SessionId> {
    live.iter()
        .filter(|(_, owner)| owner == newcomer)
        .map(|(id, _)| *id)
        .collect()
}

#[derive(Debug)]
pub struct Registry {
    rules: Rules,
    displays: BTreeMap<DisplayId, DisplayEntry>,
    next_id: DisplayId,
}

impl Registry {
    pub fn new(rules: Rules) -> Self {
        Self {
            rules,
            displays: BTreeMap::new(),
            next_id: 1,
        }
    }

    pub fn displays(&self) -> impl Iterator<Item = &DisplayEntry> {
        self.displays.values()
    }

    #[cfg(test)]
    pub fn display(&self, id: DisplayId) -> Option<&DisplayEntry> {
        self.displays.get(&id)
    }

    fn live_sessions(&self) -> usize {
        self.displays.values().map(|d| d.sessions.len()).sum()
    }

    /// Decides where a client's new session streams from. Call after the client's own old
    /// sessions were preempted (they would count against the limit).
    pub fn decide(&self, owner: &Owner, mode: Mode) -> Decision {
        if self.live_sessions() >= self.rules.max_sessions {
            return Decision::Refuse(Refusal::TooManySessions);
        }
        let others_live: Vec<&DisplayEntry> = self
            .displays
            .values()
            .filter(|d| &d.owner != owner && d.state == DisplayState::Active)
            .collect();
        match self.rules.policy {
            ConflictPolicy::Reject if !others_live.is_empty() => {
                return Decision::Refuse(Refusal::Busy)
            }
            ConflictPolicy::Join => {
                if let Some(d) = others_live.first() {
                    return Decision::Join(d.id);
                }
            }
            _ => {}
        }
        // The client's own display, lingering (newest first), if its size fits.
        let own = self
            .displays
            .values()
            .filter(|d| &d.owner == owner && matches!(d.state, DisplayState::Lingering { .. }))
            .max_by_key(|d| d.id);
        if let Some(d) = own.filter(|d| compatible(d.mode, mode)) {
            return Decision::Reuse(d.id);
        }
        let stop = match self.rules.policy {
            ConflictPolicy::Steal => others_live
                .iter()
                .flat_map(|d| d.sessions.iter().copied())
                .collect(),
            _ => Vec::new(),
        };
        Decision::Create { stop }
    }

    /// Records a display made for `session`; returns its id.
    pub fn created(&mut self, owner: Owner, mode: Mode, session: SessionId) -> DisplayId {
        let id = self.next_id;
        self.next_id += 1;
        self.displays.insert(
            id,
            DisplayEntry {
                id,
                owner,
                mode,
                state: DisplayState::Active,
                sessions: vec![session],
            },
        );
        id
    }

    /// Attaches a session to an existing display (reuse or join); it is Active again. False if
    /// the display is gone (released meanwhile): make a new one instead.
    pub fn attach(&mut self, id: DisplayId, session: SessionId, mode: Mode) -> bool {
        let Some(d) = self.displays.get_mut(&id) else {
            return false;
        };
        d.state = DisplayState::Active;
        d.mode = mode;
        if !d.sessions.contains(&session) {
            d.sessions.push(session);
        }
        true
    }

    /// The display's mode changed (mid-session reconfigure).
    pub fn set_mode(&mut self, id: DisplayId, mode: Mode) {
        if let Some(d) = self.displays.get_mut(&id) {
            d.mode = mode;
        }
    }

    /// A session ended. Returns the displays to release now.
    pub fn detach(&mut self, now: Instant, session: SessionId, linger: Linger) -> Vec<DisplayId> {
        let Some(id) = self
            .displays
            .values()
            .find(|d| d.sessions.contains(&session))
            .map(|d| d.id)
        else {
            return Vec::new();
        };
        let d = self.displays.get_mut(&id).expect("found above");
        d.sessions.retain(|s| *s != session);
        if !d.sessions.is_empty() {
            return Vec::new();
        }
        if linger == Linger::Immediate || self.rules.keep_alive.is_zero() {
            self.displays.remove(&id);
            return vec![id];
        }
        d.state = DisplayState::Lingering {
            until: now + self.rules.keep_alive,
        };
        Vec::new()
    }

    /// Releases a display now whatever its state (stolen, unpaired device, …); its sessions are
    /// forgotten. Returns whether it existed.
    pub fn remove(&mut self, id: DisplayId) -> bool {
        self.displays.remove(&id).is_some()
    }

    /// When the next lingering display runs out.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.displays
            .values()
            .filter_map(|d| match d.state {
                DisplayState::Lingering { until } => Some(until),
                DisplayState::Active => None,
            })
            .min()
    }

    /// Releases every display whose keep-alive window has passed.
    pub fn expire(&mut self, now: Instant) -> Vec<DisplayId> {
        let due: Vec<DisplayId> = self
            .displays
            .values()
            .filter(|d| matches!(d.state, DisplayState::Lingering { until } if until <= now))
            .map(|d| d.id)
            .collect();
        for id in &due {
            self.displays.remove(id);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Owner = [1; 32];
    const B: Owner = [2; 32];
    const HD: Mode = Mode {
        width: 1280,
        height: 720,
        refresh_millihz: 60_000,
    };

    fn registry(policy: ConflictPolicy) -> Registry {
        Registry::new(Rules {
            keep_alive: Duration::from_secs(10),
            max_sessions: 4,
            policy,
        })
    }

    #[test]
    fn a_dropped_client_gets_its_lingering_display_back() {
        let t = Instant::now();
        let mut r = registry(ConflictPolicy::Separate);
        assert_eq!(r.decide(&A, HD), Decision::Create { stop: vec![] });
        let d = r.created(A, HD, 1);
        assert!(r.detach(t, 1, Linger::Window).is_empty(), "lingers");
        assert_eq!(r.next_deadline(), Some(t + Duration::from_secs(10)));
        // Same size, another refresh: compatible.
        let faster = Mode {
            refresh_millihz: 120_000,
            ..HD
        };
        assert_eq!(r.decide(&A, faster), Decision::Reuse(d));
        assert!(r.attach(d, 2, faster));
        assert_eq!(r.display(d).unwrap().state, DisplayState::Active);
        assert_eq!(r.next_deadline(), None);
        // Another client never gets A's display.
        assert_eq!(r.decide(&B, HD), Decision::Create { stop: vec![] });
        // Another size is not compatible: a new display.
        r.detach(t, 2, Linger::Window);
        assert_eq!(
            r.decide(&A, Mode::new(1920, 1080, 60)),
            Decision::Create { stop: vec![] }
        );
    }

    #[test]
    fn quit_releases_at_once_and_linger_expires() {
        let t = Instant::now();
        let mut r = registry(ConflictPolicy::Separate);
        let d = r.created(A, HD, 1);
        assert_eq!(r.detach(t, 1, Linger::Immediate), vec![d]);
        assert_eq!(r.displays().count(), 0);
        let d = r.created(A, HD, 2);
        r.detach(t, 2, Linger::Window);
        assert!(r.expire(t + Duration::from_secs(9)).is_empty());
        assert_eq!(r.expire(t + Duration::from_secs(10)), vec![d]);
        assert_eq!(r.decide(&A, HD), Decision::Create { stop: vec![] });
    }

    #[test]
    fn keep_alive_zero_turns_linger_off() {
        let mut r = Registry::new(Rules {
            keep_alive: Duration::ZERO,
            max_sessions: 4,
            policy: ConflictPolicy::Separate,
        });
        let d = r.created(A, HD, 1);
        assert_eq!(r.detach(Instant::now(), 1, Linger::Window), vec![d]);
    }

    #[test]
    fn policies() {
        let mut r = registry(ConflictPolicy::Reject);
        let d = r.created(A, HD, 1);
        assert_eq!(r.decide(&B, HD), Decision::Refuse(Refusal::Busy));
        assert_eq!(
            r.decide(&A, HD),
            Decision::Create { stop: vec![] },
            "not against itself"
        );
        r.rules.policy = ConflictPolicy::Join;
        assert_eq!(r.decide(&B, Mode::new(640, 480, 30)), Decision::Join(d));
        r.rules.policy = ConflictPolicy::Steal;
        assert_eq!(r.decide(&B, HD), Decision::Create { stop: vec![1] });
        r.rules.policy = ConflictPolicy::Separate;
        assert_eq!(r.decide(&B, HD), Decision::Create { stop: vec![] });
        // A lingering display of another client is not a conflict.
        r.detach(Instant::now(), 1, Linger::Window);
        r.rules.policy = ConflictPolicy::Reject;
        assert_eq!(r.decide(&B, HD), Decision::Create { stop: vec![] });
    }

    #[test]
    fn the_session_limit_counts_live_sessions() {
        let mut r = Registry::new(Rules {
            keep_alive: Duration::from_secs(10),
            max_sessions: 1,
            policy: ConflictPolicy::Separate,
        });
        r.created(A, HD, 1);
        assert_eq!(r.decide(&B, HD), Decision::Refuse(Refusal::TooManySessions));
        r.detach(Instant::now(), 1, Linger::Window);
        assert_eq!(r.decide(&B, HD), Decision::Create { stop: vec![] });
    }

    #[test]
    fn preempt_picks_the_same_client_only() {
        let live = [(1, A), (2, B), (3, A)];
        assert_eq!(sessions_to_preempt(&live, &A), vec![1, 3]);
        assert_eq!(
            sessions_to_preempt(&live, &[9; 32]),
            Vec::<SessionId>::new()
        );
    }

    #[test]
    fn a_joined_display_lingers_only_after_its_last_session() {
        let t = Instant::now();
        let mut r = registry(ConflictPolicy::Join);
        let d = r.created(A, HD, 1);
        assert!(r.attach(d, 2, HD));
        assert!(
            r.detach(t, 1, Linger::Immediate).is_empty(),
            "B still watches"
        );
        assert_eq!(r.display(d).unwrap().state, DisplayState::Active);
        assert_eq!(r.detach(t, 2, Linger::Immediate), vec![d]);
        assert!(!r.attach(d, 3, HD), "gone");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Connect { owner: u8, size: u8 },
        Drop { pick: usize, quit: bool },
        Advance { ms: u64 },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..3, 0u8..2).prop_map(|(owner, size)| Op::Connect { owner, size }),
            (any::<usize>(), any::<bool>()).prop_map(|(pick, quit)| Op::Drop { pick, quit }),
            (0u64..15_000).prop_map(|ms| Op::Advance { ms }),
        ]
    }

    proptest! {
        /// Any interleaving of connects, drops, quits and time keeps every entry consistent:
        /// each live session is on exactly one display of its own client (or one it joined),
        /// Active displays have sessions, Lingering ones have none and a deadline in the
        /// window, a client never gets another client's display under `separate`, and the
        /// session limit holds.
        #[test]
        fn sessions_never_corrupt_each_other(ops in prop::collection::vec(op(), 1..80)) {
            let t0 = Instant::now();
            let mut now = t0;
            let mut r = Registry::new(Rules { keep_alive: Duration::from_secs(10), max_sessions: 3, policy: ConflictPolicy::Separate });
            let mut live: Vec<(SessionId, Owner)> = Vec::new();
            let mut next_session = 1;
            for op in ops {
                match op {
                    Op::Connect { owner, size } => {
                        let owner = [owner; 32];
                        let mode = if size == 0 { Mode::new(1280, 720, 60) } else { Mode::new(1920, 1080, 60) };
                        // Preempt first, as the host does.
                        for s in sessions_to_preempt(&live, &owner) {
                            r.detach(now, s, Linger::Window);
                            live.retain(|(id, _)| *id != s);
                        }
                        let session = next_session;
                        next_session += 1;
                        match r.decide(&owner, mode) {
                            Decision::Create { stop } => {
                                prop_assert!(stop.is_empty());
                                r.created(owner, mode, session);
                                live.push((session, owner));
                            }
                            Decision::Reuse(id) => {
                                let d = r.display(id).unwrap();
                                prop_assert_eq!(d.owner, owner);
                                prop_assert!(compatible(d.mode, mode));
                                prop_assert!(r.attach(id, session, mode));
                                live.push((session, owner));
                            }
                            Decision::Join(_) => prop_assert!(false, "separate never joins"),
                            Decision::Refuse(why) => {
                                prop_assert_eq!(why, Refusal::TooManySessions);
                                prop_assert_eq!(live.len(), 3);
                            }
                        }
                    }
                    Op::Drop { pick, quit } => {
                        if !live.is_empty() {
                            let (s, _) = live.remove(pick % live.len());
                            r.detach(now, s, if quit { Linger::Immediate } else { Linger::Window });
                        }
                    }
                    Op::Advance { ms } => {
                        now += Duration::from_millis(ms);
                        r.expire(now);
                    }
                }
                // Invariants.
                prop_assert!(live.len() <= 3);
                let mut seen = 0;
                for d in r.displays() {
                    match d.state {
                        DisplayState::Active => prop_assert!(!d.sessions.is_empty()),
                        DisplayState::Lingering { until } => {
                            prop_assert!(d.sessions.is_empty());
                            prop_assert!(until > now && until <= now + Duration::from_secs(10));
                        }
                    }
                    for s in &d.sessions {
                        let owner = live.iter().find(|(id, _)| id == s).map(|(_, o)| *o);
                        prop_assert_eq!(owner, Some(d.owner), "session on another client's display");
                        seen += 1;
                    }
                    // At most one display per client is Active under `separate` with preempt.
                    let active_of_owner = r.displays().filter(|e| e.owner == d.owner && e.state == DisplayState::Active).count();
                    prop_assert!(active_of_owner <= 1);
                }
                prop_assert_eq!(seen, live.len(), "every live session is on exactly one display");
            }
        }
    }
}
