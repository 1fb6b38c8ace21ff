//! One UDP socket for QUIC and media. Every QUIC packet has one of the first byte's two top bits
//! set (greasing of the fixed bit is off at both ends); a media packet has both clear (RFC 9443).
//! Media datagrams are taken out before quinn sees them and handed to a channel.

use std::fmt;
use std::future::Future;
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::Arc;
use std::task::{Context, Poll};

use punktfunk_core::wire::media::QUIC_BITS_MASK;
use quinn::udp::{RecvMeta, Transmit};
use quinn::{AsyncUdpSocket, UdpPoller};
use tokio::io::ReadBuf;
use tokio::net::UdpSocket;

/// A media datagram and where it came from.
#[derive(Debug)]
pub struct MediaDatagram {
    pub from: SocketAddr,
    pub bytes: Vec<u8>,
}

/// Whether a datagram is media (both top bits clear) rather than QUIC.
pub fn is_media(first_byte: u8) -> bool {
    first_byte & QUIC_BITS_MASK == 0
}

/// The socket quinn runs on; media datagrams go to `media` instead.
pub struct DemuxSocket {
    io: Arc<UdpSocket>,
    media: Option<SyncSender<MediaDatagram>>,
    /// Media datagrams dropped because nobody took them or the queue was full.
    pub media_dropped: AtomicU64,
}

impl fmt::Debug for DemuxSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DemuxSocket").field("io", &self.io).finish()
    }
}

impl DemuxSocket {
    pub fn new(io: Arc<UdpSocket>, media: Option<SyncSender<MediaDatagram>>) -> Self {
        Self {
            io,
            media,
            media_dropped: AtomicU64::new(0),
        }
    }

    fn take_media(&self, from: SocketAddr, bytes: &[u8]) {
        let delivered = match &self.media {
            Some(tx) => match tx.try_send(MediaDatagram {
                from,
                bytes: bytes.to_vec(),
            }) {
                Ok(()) => true,
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
            },
            None => false,
        };
        if !delivered {
            self.media_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl AsyncUdpSocket for DemuxSocket {
    fn create_io_poller(self: Arc<Self>) -> Pin<Box<dyn UdpPoller>> {
        Box::pin(WritablePoller {
            io: self.io.clone(),
            pending: None,
        })
    }

    fn try_send(&self, transmit: &Transmit) -> io::Result<()> {
        // One datagram per transmit: `max_transmit_segments` is 1 (no GSO on this path).
        self.io
            .try_send_to(transmit.contents, transmit.destination)
            .map(|_| ())
    }

    fn poll_recv(
        &self,
        cx: &mut Context,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> Poll<io::Result<usize>> {
        let mut n = 0;
        while n < bufs.len().min(meta.len()) {
            let mut read = ReadBuf::new(&mut bufs[n]);
            match self.io.poll_recv_from(cx, &mut read) {
                Poll::Ready(Ok(from)) => {
                    let len = read.filled().len();
                    if len > 0 && is_media(bufs[n][0]) {
                        self.take_media(from, &bufs[n][..len]);
                        continue;
                    }
                    meta[n] = RecvMeta {
                        addr: from,
                        len,
                        stride: len,
                        ecn: None,
                        dst_ip: None,
                    };
                    n += 1;
                }
                Poll::Ready(Err(e)) if n == 0 => return Poll::Ready(Err(e)),
                Poll::Pending if n == 0 => return Poll::Pending,
                Poll::Ready(Err(_)) | Poll::Pending => break,
            }
        }
        Poll::Ready(Ok(n))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.local_addr()
    }

    fn max_transmit_segments(&self) -> usize {
        1
    }

    fn max_receive_segments(&self) -> usize {
        1
    }

    fn may_fragment(&self) -> bool {
        true
    }
}

type WritableFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send + Sync>>;

/// Wakes one task when the socket is writable again; each poller holds its own waiter.
struct WritablePoller {
    io: Arc<UdpSocket>,
    pending: Option<WritableFuture>,
}

impl fmt::Debug for WritablePoller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WritablePoller")
    }
}

impl UdpPoller for WritablePoller {
    fn poll_writable(mut self: Pin<&mut Self>, cx: &mut Context) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let io = this.io.clone();
        let fut = this
            .pending
            .get_or_insert_with(|| Box::pin(async move { io.writable().await }));
        let result = fut.as_mut().poll(cx);
        if result.is_ready() {
            this.pending = None;
        }
        result
    }
}
