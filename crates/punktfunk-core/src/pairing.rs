//! PIN pairing, sans-IO: the SPAKE2 ceremony of both roles and the host's pairing window.
//!
//! The ceremony is SPAKE2 over Ed25519 with the client as role A and the host as role B; the two
//! certificate fingerprints are the identities and the PIN is the password. Both sides confirm the
//! shared key with an HMAC over `label ‖ client fp ‖ host fp`, compared in constant time. A wrong
//! PIN gives a different key, so the MACs disagree and an attacker learns nothing but "wrong": one
//! online guess per ceremony. A man in the middle terminating TLS with its own certificate makes
//! the two ends use different identities, so it cannot complete the ceremony even with the PIN.
//!
//! The [`PairingWindow`] decides whether a ceremony may start: armed by the operator with a fresh
//! PIN and a TTL, optionally bound to one fingerprint, closed after success, after
//! [`MAX_FAILED_CEREMONIES`] failures or at its deadline, with a cooldown after each failure.

use std::time::{Duration, Instant};

use ring::hmac;
use spake2::{Ed25519Group, Identity, Password, Spake2};

use crate::wire::pairing::{
    CLIENT_CONFIRM_LABEL, COOLDOWN_MS, HOST_CONFIRM_LABEL, MAX_FAILED_CEREMONIES, PIN_DIGITS,
};

/// A certificate fingerprint (SHA-256 of its DER).
pub type Fingerprint = [u8; 32];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PairError {
    #[error("the peer's SPAKE2 message is malformed")]
    BadMessage,
    /// The key confirmation did not match: wrong PIN, or someone in the middle.
    #[error("key confirmation failed: wrong PIN (or a man in the middle)")]
    Mismatch,
}

fn confirmation(key: &[u8], label: &[u8], client: &Fingerprint, host: &Fingerprint) -> [u8; 32] {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(label);
    ctx.update(client);
    ctx.update(host);
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.sign().as_ref());
    out
}

fn verify(
    key: &[u8],
    label: &[u8],
    client: &Fingerprint,
    host: &Fingerprint,
    mac: &[u8],
) -> Result<(), PairError> {
    let mut msg = Vec::with_capacity(label.len() + 64);
    msg.extend_from_slice(label);
    msg.extend_from_slice(client);
    msg.extend_from_slice(host);
    // ring's verify compares in constant time.
    hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, key), &msg, mac)
        .map_err(|_| PairError::Mismatch)
}

/// The client's side of a ceremony, between PairRequest and PairProof.
pub struct ClientCeremony {
    spake: Spake2<Ed25519Group>,
    client: Fingerprint,
    host: Fingerprint,
}

impl ClientCeremony {
    /// Starts a ceremony: returns the state and the SPAKE2 message for the PairRequest.
    pub fn start(pin: &str, client: Fingerprint, host: Fingerprint) -> (Self, Vec<u8>) {
        let (spake, message) = Spake2::<Ed25519Group>::start_a(
            &Password::new(pin.as_bytes()),
            &Identity::new(&client),
            &Identity::new(&host),
        );
        (
            Self {
                spake,
                client,
                host,
            },
            message,
        )
    }

    /// Checks the host's challenge; on success returns the client's proof for the PairProof.
    pub fn answer(self, host_spake: &[u8], host_confirm: &[u8]) -> Result<[u8; 32], PairError> {
        let key = self
            .spake
            .finish(host_spake)
            .map_err(|_| PairError::BadMessage)?;
        verify(
            &key,
            HOST_CONFIRM_LABEL,
            &self.client,
            &self.host,
            host_confirm,
        )?;
        Ok(confirmation(
            &key,
            CLIENT_CONFIRM_LABEL,
            &self.client,
            &self.host,
        ))
    }
}

/// The host's side of a ceremony, between PairChallenge and the client's proof.
pub struct HostCeremony {
    key: Vec<u8>,
    client: Fingerprint,
    host: Fingerprint,
}

/// What the host sends back in its PairChallenge.
pub struct Challenge {
    pub spake: Vec<u8>,
    pub confirm: [u8; 32],
}

impl HostCeremony {
    /// Answers a PairRequest: the host's SPAKE2 message and its key confirmation.
    pub fn answer(
        pin: &str,
        client: Fingerprint,
        host: Fingerprint,
        client_spake: &[u8],
    ) -> Result<(Self, Challenge), PairError> {
        let (spake, message) = Spake2::<Ed25519Group>::start_b(
            &Password::new(pin.as_bytes()),
            &Identity::new(&client),
            &Identity::new(&host),
        );
        let key = spake
            .finish(client_spake)
            .map_err(|_| PairError::BadMessage)?;
        let confirm = confirmation(&key, HOST_CONFIRM_LABEL, &client, &host);
        Ok((
            Self { key, client, host },
            Challenge {
                spake: message,
                confirm,
            },
        ))
    }

    /// Checks the client's proof (constant-time).
    pub fn verify_proof(&self, proof: &[u8]) -> Result<(), PairError> {
        verify(
            &self.key,
            CLIENT_CONFIRM_LABEL,
            &self.client,
            &self.host,
            proof,
        )
    }
}

/// A PIN of uniformly random digits; `random` supplies 16-bit values, rejection-sampled so no
/// digit is likelier than another.
pub fn pin_from_random(mut random: impl FnMut() -> u16) -> String {
    let mut pin = String::with_capacity(PIN_DIGITS);
    while pin.len() < PIN_DIGITS {
        let v = random();
        // 65530 is the largest multiple of 10 ≤ 65536: values above it would favour 0..5.
        if v < 65530 {
            pin.push(char::from(b'0' + (v % 10) as u8));
        }
    }
    pin
}

/// Why a ceremony may not start (each has its close code on the wire).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowRefusal {
    #[error("no pairing window is armed on the host (the operator arms one: `punktfunk-host ctl pair arm`)")]
    NotArmed,
    #[error("the pairing window expired; ask the operator to arm a new one")]
    Expired,
    #[error("the pairing window is bound to another device")]
    WrongDevice,
    #[error("too soon after a failed attempt: try again in {} ms", .0.as_millis())]
    CoolingDown(Duration),
    #[error("another pairing attempt is in progress")]
    Busy,
}

/// How a ceremony ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyOutcome {
    Paired,
    /// Wrong PIN, a bad proof, or an abandoned ceremony: a spent guess.
    Failed,
}

/// The window's rules (defaults from the wire registry).
#[derive(Debug, Clone, Copy)]
pub struct WindowPolicy {
    pub cooldown: Duration,
    pub max_failures: u32,
}

impl Default for WindowPolicy {
    fn default() -> Self {
        Self {
            cooldown: Duration::from_millis(COOLDOWN_MS),
            max_failures: MAX_FAILED_CEREMONIES,
        }
    }
}

#[derive(Debug, Clone)]
struct Armed {
    pin: String,
    deadline: Instant,
    bound: Option<Fingerprint>,
    failures: u32,
    cooldown_until: Option<Instant>,
    in_ceremony: bool,
}

/// What the operator sees of the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowStatus {
    Closed,
    Armed {
        pin: String,
        remaining: Duration,
        bound: Option<Fingerprint>,
        failures: u32,
    },
}

/// The host's pairing window: at most one armed PIN, at most one ceremony at a time.
#[derive(Debug, Default)]
pub struct PairingWindow {
    policy: WindowPolicy,
    armed: Option<Armed>,
}

impl PairingWindow {
    pub fn new(policy: WindowPolicy) -> Self {
        Self {
            policy,
            armed: None,
        }
    }

    /// Opens the window for `ttl` with `pin`, replacing any window before it.
    pub fn arm(&mut self, now: Instant, ttl: Duration, pin: String, bound: Option<Fingerprint>) {
        self.armed = Some(Armed {
            pin,
            deadline: now + ttl,
            bound,
            failures: 0,
            cooldown_until: None,
            in_ceremony: false,
        });
    }

    pub fn disarm(&mut self) {
        self.armed = None;
    }

    pub fn status(&mut self, now: Instant) -> WindowStatus {
        self.expire(now);
        match &self.armed {
            None => WindowStatus::Closed,
            Some(a) => WindowStatus::Armed {
                pin: a.pin.clone(),
                remaining: a.deadline.saturating_duration_since(now),
                bound: a.bound,
                failures: a.failures,
            },
        }
    }

    fn expire(&mut self, now: Instant) -> bool {
        let expired = self.armed.as_ref().is_some_and(|a| now >= a.deadline);
        if expired {
            self.armed = None;
        }
        expired
    }

    /// A client asks to pair: on success returns the PIN to run the ceremony with, and the
    /// window counts a ceremony in progress until [`Self::finish`].
    pub fn begin(&mut self, now: Instant, client: &Fingerprint) -> Result<String, WindowRefusal> {
        if self.expire(now) {
            return Err(WindowRefusal::Expired);
        }
        let armed = self.armed.as_mut().ok_or(WindowRefusal::NotArmed)?;
        if armed.bound.is_some_and(|b| &b != client) {
            return Err(WindowRefusal::WrongDevice);
        }
        if armed.in_ceremony {
            return Err(WindowRefusal::Busy);
        }
        if let Some(until) = armed.cooldown_until.filter(|&u| now < u) {
            return Err(WindowRefusal::CoolingDown(until - now));
        }
        armed.in_ceremony = true;
        Ok(armed.pin.clone())
    }

    /// The ceremony that [`Self::begin`] allowed ended. Success closes the window; a failure
    /// starts the cooldown and closes the window once too many guesses were spent.
    pub fn finish(&mut self, now: Instant, outcome: CeremonyOutcome) {
        let Some(armed) = self.armed.as_mut() else {
            return;
        };
        armed.in_ceremony = false;
        match outcome {
            CeremonyOutcome::Paired => self.armed = None,
            CeremonyOutcome::Failed => {
                armed.failures += 1;
                armed.cooldown_until = Some(now + self.policy.cooldown);
                if armed.failures >= self.policy.max_failures {
                    self.armed = None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT: Fingerprint = [1; 32];
    const HOST: Fingerprint = [2; 32];

    fn run(
        client_pin: &str,
        host_pin: &str,
        c_ids: (Fingerprint, Fingerprint),
    ) -> Result<(), PairError> {
        let (client, request) = ClientCeremony::start(client_pin, c_ids.0, c_ids.1);
        let (host, challenge) = HostCeremony::answer(host_pin, CLIENT, HOST, &request)?;
        let proof = client.answer(&challenge.spake, &challenge.confirm)?;
        host.verify_proof(&proof)
    }

    #[test]
    fn right_pin_pairs() {
        assert_eq!(run("1234", "1234", (CLIENT, HOST)), Ok(()));
    }

    #[test]
    fn wrong_pin_fails_at_the_client() {
        assert_eq!(
            run("1235", "1234", (CLIENT, HOST)),
            Err(PairError::Mismatch)
        );
    }

    #[test]
    fn split_certificates_fail_even_with_the_pin() {
        // A man in the middle: the client sees the attacker's certificate as the host's.
        assert_eq!(
            run("1234", "1234", (CLIENT, [9; 32])),
            Err(PairError::Mismatch)
        );
        assert_eq!(
            run("1234", "1234", ([9; 32], HOST)),
            Err(PairError::Mismatch)
        );
    }

    #[test]
    fn a_forged_proof_is_refused() {
        let (_, request) = ClientCeremony::start("1234", CLIENT, HOST);
        let (host, _) = HostCeremony::answer("1234", CLIENT, HOST, &request).unwrap();
        assert_eq!(host.verify_proof(&[0; 32]), Err(PairError::Mismatch));
        assert_eq!(host.verify_proof(&[]), Err(PairError::Mismatch));
    }

    #[test]
    fn garbage_spake_is_an_error_not_a_panic() {
        assert!(HostCeremony::answer("1234", CLIENT, HOST, &[0xff; 7]).is_err());
        let (client, _) = ClientCeremony::start("1234", CLIENT, HOST);
        assert_eq!(client.answer(&[], &[0; 32]), Err(PairError::BadMessage));
    }

    #[test]
    fn pins_have_the_right_digits_and_skip_biased_values() {
        let mut values = [65535u16, 3, 65530, 14, 25, 36].into_iter();
        assert_eq!(pin_from_random(|| values.next().unwrap()), "3456");
    }

    #[test]
    fn window_rules() {
        let t0 = Instant::now();
        let mut w = PairingWindow::default();
        assert_eq!(w.begin(t0, &CLIENT), Err(WindowRefusal::NotArmed));
        w.arm(t0, Duration::from_secs(120), "1234".into(), None);
        assert_eq!(w.begin(t0, &CLIENT).as_deref(), Ok("1234"));
        // One ceremony at a time.
        assert_eq!(w.begin(t0, &CLIENT), Err(WindowRefusal::Busy));
        w.finish(t0, CeremonyOutcome::Failed);
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!(
            w.begin(t1, &CLIENT),
            Err(WindowRefusal::CoolingDown(Duration::from_millis(1500)))
        );
        let t2 = t0 + Duration::from_millis(COOLDOWN_MS);
        assert!(w.begin(t2, &CLIENT).is_ok());
        w.finish(t2, CeremonyOutcome::Paired);
        assert_eq!(w.status(t2), WindowStatus::Closed);
        assert_eq!(w.begin(t2, &CLIENT), Err(WindowRefusal::NotArmed));
    }

    #[test]
    fn window_expires_and_binds() {
        let t0 = Instant::now();
        let mut w = PairingWindow::default();
        w.arm(t0, Duration::from_secs(1), "1234".into(), Some(HOST));
        assert_eq!(w.begin(t0, &CLIENT), Err(WindowRefusal::WrongDevice));
        assert!(w.begin(t0, &HOST).is_ok());
        w.finish(t0, CeremonyOutcome::Failed);
        assert_eq!(
            w.begin(t0 + Duration::from_secs(1), &HOST),
            Err(WindowRefusal::Expired)
        );
        assert_eq!(
            w.begin(t0 + Duration::from_secs(2), &HOST),
            Err(WindowRefusal::NotArmed)
        );
    }

    #[test]
    fn window_closes_after_too_many_guesses() {
        let mut t = Instant::now();
        let mut w = PairingWindow::default();
        w.arm(t, Duration::from_secs(600), "1234".into(), None);
        for _ in 0..MAX_FAILED_CEREMONIES {
            assert!(w.begin(t, &CLIENT).is_ok());
            w.finish(t, CeremonyOutcome::Failed);
            t += Duration::from_millis(COOLDOWN_MS);
        }
        assert_eq!(w.begin(t, &CLIENT), Err(WindowRefusal::NotArmed));
    }

    #[test]
    fn rearming_replaces_the_pin_and_resets_counts() {
        let t = Instant::now();
        let mut w = PairingWindow::default();
        w.arm(t, Duration::from_secs(60), "1111".into(), None);
        assert!(w.begin(t, &CLIENT).is_ok());
        w.finish(t, CeremonyOutcome::Failed);
        w.arm(t, Duration::from_secs(60), "2222".into(), None);
        assert_eq!(w.begin(t, &CLIENT).as_deref(), Ok("2222"));
    }
}
