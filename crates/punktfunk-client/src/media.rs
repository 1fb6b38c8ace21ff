//! The media receive loop: one UDP socket feeding the sans-IO [`MediaReceiver`].

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use punktfunk_core::wire::media::MAX_DATAGRAM;
use punktfunk_core::{Event, MediaCounters, MediaReceiver, MediaSecret, ReassemblyLimits};

/// Receive buffer asked of the kernel (it may grant less: `net.core.rmem_max`).
const RECV_BUFFER_BYTES: usize = 8 << 20;

/// Reads datagrams from a socket into a [`MediaReceiver`] and hands out its events.
pub struct MediaPump {
    socket: UdpSocket,
    receiver: MediaReceiver,
    /// One byte over the largest datagram, so an oversized one is seen (and refused) as such.
    buf: Vec<u8>,
}

impl MediaPump {
    pub fn new(socket: UdpSocket, secret: &MediaSecret, limits: ReassemblyLimits) -> Self {
        // A keyframe arrives as one burst; a small default buffer would drop its tail.
        let sock = socket2::SockRef::from(&socket);
        if let Err(e) = sock.set_recv_buffer_size(RECV_BUFFER_BYTES) {
            tracing::warn!("cannot grow the UDP receive buffer: {e}");
        }
        Self {
            socket,
            receiver: MediaReceiver::new(secret, limits),
            buf: vec![0; MAX_DATAGRAM + 1],
        }
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// The next frame or loss, waiting at most until `deadline` (then `None`).
    pub fn next_event(&mut self, deadline: Instant) -> io::Result<Option<Event>> {
        loop {
            if let Some(event) = self.receiver.poll_event() {
                return Ok(Some(event));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let wake = self
                .receiver
                .poll_timeout()
                .map_or(deadline, |t| t.min(deadline));
            // A zero timeout means "block forever" to the OS: wait at least a millisecond.
            let wait = wake
                .saturating_duration_since(now)
                .max(Duration::from_millis(1));
            self.socket.set_read_timeout(Some(wait))?;
            match self.socket.recv(&mut self.buf) {
                Ok(n) => {
                    self.receiver
                        .handle_datagram(&mut self.buf[..n], Instant::now());
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    self.receiver.handle_timeout(Instant::now());
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Hands a delivered frame's buffer back for reuse.
    pub fn recycle(&mut self, buffer: Vec<u8>) {
        self.receiver.recycle(buffer);
    }

    pub fn counters(&self) -> MediaCounters {
        self.receiver.counters()
    }
}
