//! Moonlight pairing attempts waiting for their PIN. Moonlight shows a PIN and sends its first
//! pairing request at once; that request waits here until the user hands the PIN to the host
//! (`ctl pin`, the management API or the console), or until the wait times out.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

struct Waiting {
    id: u64,
    client: String,
    since: Instant,
    pin: oneshot::Sender<String>,
}

pub struct PinBoard {
    timeout: Duration,
    next_id: Mutex<u64>,
    waiting: Mutex<Vec<Waiting>>,
}

/// No pairing attempt is waiting for a PIN.
#[derive(Debug, thiserror::Error)]
#[error("no Moonlight pairing is waiting for a PIN: start pairing in Moonlight first")]
pub struct NoneWaiting;

/// The PIN did not come in time.
#[derive(Debug, thiserror::Error)]
#[error("no PIN was entered within {0:?}")]
pub struct TimedOut(pub Duration);

/// Takes the attempt off the board however the wait ends (answered, timed out, dropped).
struct Leave<'a>(&'a PinBoard, u64);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.lock().retain(|w| w.id != self.1);
    }
}

impl PinBoard {
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            next_id: Mutex::new(0),
            waiting: Mutex::new(Vec::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Waiting>> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for the PIN of `client`'s attempt. A newer attempt of the same client replaces
    /// this one (Moonlight retried), which ends this wait like a timeout.
    pub async fn wait(&self, client: &str) -> Result<String, TimedOut> {
        let (tx, rx) = oneshot::channel();
        let id = {
            let mut next = self.next_id.lock().unwrap_or_else(|e| e.into_inner());
            *next += 1;
            *next
        };
        {
            let mut waiting = self.lock();
            waiting.retain(|w| w.client != client);
            waiting.push(Waiting {
                id,
                client: client.to_owned(),
                since: Instant::now(),
                pin: tx,
            });
        }
        let _leave = Leave(self, id);
        match tokio::time::timeout(self.timeout, rx).await {
            Ok(Ok(pin)) => Ok(pin),
            _ => Err(TimedOut(self.timeout)),
        }
    }

    /// Hands `pin` to the attempt that has waited longest.
    pub fn submit(&self, pin: &str) -> Result<String, NoneWaiting> {
        let mut waiting = self.lock();
        while !waiting.is_empty() {
            let oldest = waiting.remove(0);
            if oldest.pin.send(pin.to_owned()).is_ok() {
                return Ok(oldest.client);
            }
        }
        Err(NoneWaiting)
    }

    /// The attempts waiting now and for how long.
    pub fn pending(&self) -> Vec<(String, Duration)> {
        self.lock()
            .iter()
            .map(|w| (w.client.clone(), w.since.elapsed()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_submitted_pin_reaches_the_oldest_waiting_attempt() {
        let board = std::sync::Arc::new(PinBoard::new(Duration::from_secs(5)));
        assert!(board.submit("1234").is_err(), "nobody waits yet");
        let waiter = tokio::spawn({
            let board = board.clone();
            async move { board.wait("phone").await }
        });
        while board.pending().is_empty() {
            tokio::task::yield_now().await;
        }
        assert_eq!(board.submit("4321").unwrap(), "phone");
        assert_eq!(waiter.await.unwrap().unwrap(), "4321");
        assert!(board.pending().is_empty());
    }

    #[tokio::test]
    async fn a_wait_ends_after_the_timeout_and_leaves_the_board() {
        let board = PinBoard::new(Duration::from_millis(20));
        assert!(board.wait("tv").await.is_err());
        assert!(board.pending().is_empty());
        assert!(board.submit("1111").is_err());
    }
}
