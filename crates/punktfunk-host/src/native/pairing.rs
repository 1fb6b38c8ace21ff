//! The host's side of a PIN pairing ceremony on a fresh connection (PairRequest instead of
//! Hello): ask the window, answer with SPAKE2 and a key confirmation, check the client's proof,
//! store the device. Every ceremony that got a challenge and did not end in a stored device
//! counts as a spent guess (cooldown), including one the client abandons.

use std::time::Duration;

use punktfunk_core::control::Message;
use punktfunk_core::pairing::{CeremonyOutcome, Fingerprint, HostCeremony, WindowRefusal};
use punktfunk_core::wire::close;
use punktfunk_net::control_io::{self, ControlReader};

use super::session::Refusal;
use super::Plane;
use crate::trust::PlaneKind;

/// A client that knows the PIN answers at once: the PIN was typed before the request went out.
const PROOF_TIMEOUT: Duration = Duration::from_secs(10);

/// Ends the window's ceremony as failed unless it was marked done.
struct CeremonyGuard<'a> {
    plane: &'a Plane,
    outcome: CeremonyOutcome,
}

impl Drop for CeremonyGuard<'_> {
    fn drop(&mut self) {
        self.plane.trust.end_ceremony(self.outcome);
    }
}

fn refusal_of(refusal: &WindowRefusal) -> Refusal {
    let code = match refusal {
        WindowRefusal::NotArmed | WindowRefusal::Expired => close::PAIRING_NOT_ARMED,
        WindowRefusal::WrongDevice => close::PAIRING_WRONG_DEVICE,
        WindowRefusal::CoolingDown(_) | WindowRefusal::Busy => close::PAIRING_RATE_LIMITED,
    };
    Refusal::new(code, refusal.to_string())
}

pub async fn run(
    plane: &Plane,
    send: &mut quinn::SendStream,
    control: &mut ControlReader,
    client: Fingerprint,
    device_name: &str,
    client_spake: &[u8],
) -> Result<(), Refusal> {
    let pin = plane.trust.begin_ceremony(&client).map_err(|r| {
        tracing::info!(reason = %r, "pairing refused");
        refusal_of(&r)
    })?;
    let mut guard = CeremonyGuard {
        plane,
        outcome: CeremonyOutcome::Failed,
    };
    let (ceremony, challenge) = HostCeremony::answer(&pin, client, plane.fingerprint, client_spake)
        .map_err(|e| Refusal::new(close::PROTOCOL_VIOLATION, e.to_string()))?;
    control_io::send(
        send,
        &Message::PairChallenge {
            spake: challenge.spake,
            confirm: challenge.confirm,
        },
    )
    .await?;
    let proof = match tokio::time::timeout(PROOF_TIMEOUT, control.next()).await {
        Ok(Ok(Some(Message::PairProof { confirm }))) => confirm,
        Ok(Ok(_)) => {
            return Err(Refusal::new(
                close::PROTOCOL_VIOLATION,
                "expected PairProof",
            ))
        }
        // The client saw our confirmation fail (wrong PIN on its side) and hung up.
        Ok(Err(_)) => {
            tracing::info!(
                device = device_name,
                "pairing failed: the client gave up (wrong PIN?)"
            );
            return Err(Refusal::new(close::PAIRING_DENIED, "pairing failed"));
        }
        Err(_) => return Err(Refusal::new(close::PAIRING_DENIED, "no proof in time")),
    };
    if ceremony.verify_proof(&proof).is_err() {
        tracing::info!(device = device_name, "pairing failed: wrong PIN");
        return Err(Refusal::new(
            close::PAIRING_DENIED,
            "wrong PIN (the host waits a moment before the next attempt)",
        ));
    }
    plane
        .trust
        .pin_device(&client, PlaneKind::Native, device_name)
        .map_err(|e| Refusal::new(close::SETUP_FAILED, format!("{e:#}")))?;
    guard.outcome = CeremonyOutcome::Paired;
    drop(guard);
    tracing::info!(device = device_name, "paired");
    control_io::send(send, &Message::PairResult { ok: true }).await?;
    Ok(())
}
