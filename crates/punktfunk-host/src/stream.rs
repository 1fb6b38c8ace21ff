//! The send side of a media stream: access units → sealed packets → a UDP socket, paced by frame.

use std::io;
use std::net::{SocketAddr, UdpSocket};

use punktfunk_core::fec::FramePlan;
use punktfunk_core::{FecParams, FrameInfo, MediaSecret, MediaSender, PacketBatch};
use punktfunk_net::endpoint::MediaOut;

/// Where sealed packets go: a plain UDP socket, or the native plane's shared socket.
pub trait PacketSink {
    fn send_packet(&self, packet: &[u8], to: SocketAddr) -> io::Result<()>;
}

impl PacketSink for UdpSocket {
    fn send_packet(&self, packet: &[u8], to: SocketAddr) -> io::Result<()> {
        loop {
            match self.send_to(packet, to) {
                Ok(_) => return Ok(()),
                // The socket buffer is full for a moment; a pacer would spread the frame.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::yield_now(),
                // A receiver that went away answers with ICMP; nothing to do but keep sending.
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }
}

impl PacketSink for MediaOut {
    fn send_packet(&self, packet: &[u8], to: SocketAddr) -> io::Result<()> {
        self.send(packet, to)
    }
}

/// Drops packets on purpose, to show FEC at work on a clean loopback (a tiny netem).
pub struct LossModel {
    per_mille: u64,
    state: u64,
}

impl LossModel {
    pub fn new(percent: f64, seed: u64) -> Self {
        Self {
            per_mille: (percent.clamp(0.0, 100.0) * 10.0) as u64,
            state: seed | 1,
        }
    }

    pub fn drop_next(&mut self) -> bool {
        if self.per_mille == 0 {
            return false;
        }
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state % 1000 < self.per_mille
    }
}

/// What the sender did.
#[derive(Debug, Clone, Copy, Default)]
pub struct SendStats {
    pub frames: u64,
    pub packets: u64,
    pub dropped: u64,
    pub wire_bytes: u64,
    pub frame_bytes: u64,
}

pub struct MediaStreamer<S: PacketSink> {
    socket: S,
    peer: SocketAddr,
    sender: MediaSender,
    batch: PacketBatch,
    loss: LossModel,
    pub stats: SendStats,
}

impl<S: PacketSink> MediaStreamer<S> {
    pub fn new(socket: S, peer: SocketAddr, secret: &MediaSecret, loss: LossModel) -> Self {
        Self {
            socket,
            peer,
            sender: MediaSender::new(secret),
            batch: PacketBatch::new(),
            loss,
            stats: SendStats::default(),
        }
    }

    /// Packetizes, seals and sends one access unit; returns how it was cut into blocks.
    pub fn send_frame(
        &mut self,
        info: FrameInfo,
        frame: &[u8],
        fec: &FecParams,
    ) -> io::Result<FramePlan> {
        let plan = self
            .sender
            .packetize(frame, info, fec, &mut self.batch)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        for packet in self.batch.iter() {
            self.stats.packets += 1;
            if self.loss.drop_next() {
                self.stats.dropped += 1;
                continue;
            }
            self.socket.send_packet(packet, self.peer)?;
            self.stats.wire_bytes += packet.len() as u64;
        }
        self.stats.frames += 1;
        self.stats.frame_bytes += frame.len() as u64;
        Ok(plan)
    }
}
