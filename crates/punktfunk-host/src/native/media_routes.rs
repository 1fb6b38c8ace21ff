//! Media datagrams from clients, handed to the session of the address they come from. A
//! session's route lives as long as the [`Route`] it holds.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

/// Datagrams queued per session before new ones are dropped (a stalled consumer must not
/// hold the socket's thread).
const QUEUE: usize = 256;

/// A claim's id and where its datagrams go.
type Claim = (u64, SyncSender<Vec<u8>>);

#[derive(Default)]
pub struct MediaRoutes {
    /// Each route with the id of the session's claim, so an old claim never ends a newer one.
    routes: Mutex<HashMap<SocketAddr, Claim>>,
    next_id: AtomicU64,
    /// Datagrams nobody took: unknown senders or full queues.
    pub dropped: AtomicU64,
}

/// A session's claim on its client's address; dropping it ends the route.
pub struct Route {
    routes: Arc<MediaRoutes>,
    peer: SocketAddr,
    id: u64,
}

impl Drop for Route {
    fn drop(&mut self) {
        let mut routes = self.routes.routes.lock().expect("routes lock");
        if routes.get(&self.peer).is_some_and(|(id, _)| *id == self.id) {
            routes.remove(&self.peer);
        }
    }
}

impl MediaRoutes {
    /// Routes `peer`'s datagrams to the returned receiver (replacing an older route of that
    /// address: a reconnect from the same port takes over).
    pub fn open(self: &Arc<Self>, peer: SocketAddr) -> (Route, Receiver<Vec<u8>>) {
        let (tx, rx) = sync_channel(QUEUE);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.routes
            .lock()
            .expect("routes lock")
            .insert(peer, (id, tx));
        (
            Route {
                routes: self.clone(),
                peer,
                id,
            },
            rx,
        )
    }

    pub fn deliver(&self, from: SocketAddr, bytes: Vec<u8>) {
        let taken = match self.routes.lock().expect("routes lock").get(&from) {
            Some((_, tx)) => tx.try_send(bytes).is_ok(),
            None => false,
        };
        if !taken {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datagrams_reach_the_newest_claim_of_their_address_only() {
        let routes = Arc::new(MediaRoutes::default());
        let (a, b): (SocketAddr, SocketAddr) = (
            "127.0.0.1:1000".parse().unwrap(),
            "127.0.0.1:2000".parse().unwrap(),
        );
        let (old, old_rx) = routes.open(a);
        let (_new, new_rx) = routes.open(a);
        routes.deliver(a, vec![1]);
        routes.deliver(b, vec![2]);
        assert_eq!(new_rx.try_recv().unwrap(), vec![1]);
        assert!(old_rx.try_recv().is_err());
        // The replaced claim ending leaves the newer route in place.
        drop(old);
        routes.deliver(a, vec![3]);
        assert_eq!(new_rx.try_recv().unwrap(), vec![3]);
        assert_eq!(routes.dropped.load(Ordering::Relaxed), 1);
    }
}
