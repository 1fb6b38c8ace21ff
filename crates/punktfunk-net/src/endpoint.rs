//! A quinn endpoint on a UDP socket it shares with media packets.

use std::io;
use std::net::SocketAddr;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;

use crate::demux::{DemuxSocket, MediaDatagram};

/// Media datagrams queued between the socket and the media thread.
const MEDIA_QUEUE: usize = 16_384;
/// Socket buffers asked of the kernel: a keyframe leaves in one burst.
const SOCKET_BUFFER_BYTES: usize = 8 << 20;

/// Sends sealed media packets on the shared socket, from any thread.
#[derive(Clone, Debug)]
pub struct MediaOut {
    io: Arc<tokio::net::UdpSocket>,
}

impl MediaOut {
    /// Sends one datagram, waiting (briefly spinning) while the socket buffer is full.
    pub fn send(&self, packet: &[u8], to: SocketAddr) -> io::Result<()> {
        loop {
            match self.io.try_send_to(packet, to) {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                Err(e) => return Err(e),
            }
        }
    }
}

/// What [`bind`] gives: the QUIC endpoint, the media sender and the incoming media queue.
pub struct SharedEndpoint {
    pub endpoint: quinn::Endpoint,
    pub media_out: MediaOut,
    pub media_in: Receiver<MediaDatagram>,
    pub socket: Arc<DemuxSocket>,
}

/// Binds `addr` and starts a quinn endpoint on it (a server when `server` is given). Must run
/// inside a tokio runtime.
pub fn bind(addr: SocketAddr, server: Option<quinn::ServerConfig>) -> io::Result<SharedEndpoint> {
    let domain = if addr.is_ipv4() {
        socket2::Domain::IPV4
    } else {
        socket2::Domain::IPV6
    };
    let sock = socket2::Socket::new(domain, socket2::Type::DGRAM, Some(socket2::Protocol::UDP))?;
    for (what, result) in [
        ("receive", sock.set_recv_buffer_size(SOCKET_BUFFER_BYTES)),
        ("send", sock.set_send_buffer_size(SOCKET_BUFFER_BYTES)),
    ] {
        if let Err(e) = result {
            tracing::warn!("cannot grow the UDP {what} buffer: {e}");
        }
    }
    sock.set_nonblocking(true)?;
    sock.bind(&addr.into())?;
    let io = Arc::new(tokio::net::UdpSocket::from_std(sock.into())?);
    let (tx, rx) = sync_channel(MEDIA_QUEUE);
    let socket = Arc::new(DemuxSocket::new(io.clone(), Some(tx)));
    let mut config = quinn::EndpointConfig::default();
    // Media packets are told apart by the fixed bit, so it must never be greased.
    config.grease_quic_bit(false);
    let endpoint = quinn::Endpoint::new_with_abstract_socket(
        config,
        server,
        socket.clone(),
        Arc::new(quinn::TokioRuntime),
    )?;
    Ok(SharedEndpoint {
        endpoint,
        media_out: MediaOut { io },
        media_in: rx,
        socket,
    })
}
