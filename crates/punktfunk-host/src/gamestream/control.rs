//! The control stream: ENet (rusty_enet) on its UDP port, on a thread of its own (an ENet host
//! is not `Send`). A client is accepted when its connect data is what RTSP gave the current
//! stream; its messages are AES-GCM sealed (the control V2 scheme) and any that fails to open
//! ends the stream. Input goes to the input sink, IDR requests to the video thread; a quit
//! sends the graceful termination before the peer is let go; the stream's virtual pads are
//! polled here and their rumble, lightbar and trigger effects sent to the client, with the
//! host's requests for motion reports.

use std::collections::HashMap;
use std::net::UdpSocket;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use punktfunk_gamestream::control::{self, ClientMessage, ControlCipher};
use rusty_enet as enet;

use super::session::{lock, Live};
use super::GameStream;

/// Silence on the control stream this long ends the stream (Moonlight pings every 100 ms or so).
const PING_TIMEOUT: Duration = Duration::from_secs(10);
/// ENet's own peer timeout, ms (limit, minimum, maximum).
const ENET_TIMEOUT_MS: (u32, u32, u32) = (32, 3000, 10_000);

pub enum Command {
    /// Tell the stream's client it ends, then let it go.
    Terminate { connect_data: u32 },
}

#[derive(Clone)]
pub struct ControlHandle(Sender<Command>);

impl ControlHandle {
    pub fn new() -> (Self, Receiver<Command>) {
        let (tx, rx) = channel();
        (Self(tx), rx)
    }

    pub fn terminate(&self, connect_data: u32) {
        let _ = self.0.send(Command::Terminate { connect_data });
    }
}

/// A connected control peer.
struct Client {
    live: Arc<Live>,
    cipher: ControlCipher,
    last_heard: Instant,
}

pub fn spawn(
    socket: UdpSocket,
    gs: Arc<GameStream>,
    commands: Receiver<Command>,
) -> anyhow::Result<()> {
    std::thread::Builder::new()
        .name("gs-control".into())
        .spawn(move || {
            // Moonlight connects asking for 48 channels: keep ENet's maximum so none is cut off.
            let settings = enet::HostSettings {
                peer_limit: 4,
                ..Default::default()
            };
            let mut host = match enet::Host::new(socket, settings) {
                Ok(h) => h,
                Err(e) => {
                    tracing::error!("cannot start the GameStream control host: {e:?}");
                    return;
                }
            };
            run(&mut host, &gs, &commands);
        })?;
    Ok(())
}

fn run(host: &mut enet::Host<UdpSocket>, gs: &GameStream, commands: &Receiver<Command>) {
    let mut clients: HashMap<enet::PeerID, Client> = HashMap::new();
    let mut feedback_polled = Instant::now();
    loop {
        loop {
            let event = match host.service() {
                Ok(Some(event)) => event.no_ref(),
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!("control socket: {e}");
                    break;
                }
            };
            match event {
                enet::EventNoRef::Connect { peer, data } => {
                    connect(host, gs, &mut clients, peer, data);
                }
                enet::EventNoRef::Disconnect { peer, .. } => {
                    if let Some(client) = clients.remove(&peer) {
                        client_left(gs, &client, "disconnected");
                    }
                }
                enet::EventNoRef::Receive { peer, packet, .. } => {
                    let Some(client) = clients.get_mut(&peer) else {
                        continue;
                    };
                    if let Err(e) = receive(client, packet.data()) {
                        if !e.is_fatal() {
                            tracing::debug!("control message dropped: {e}");
                            continue;
                        }
                        tracing::warn!("control stream: {e}; ending the stream");
                        let client = clients.remove(&peer).expect("present");
                        host.peer_mut(peer).disconnect_now(0);
                        client_left(gs, &client, "bad control message");
                    }
                }
            }
        }
        while let Ok(command) = commands.try_recv() {
            match command {
                Command::Terminate { connect_data } => {
                    let ids: Vec<_> = clients
                        .iter()
                        .filter(|(_, c)| c.live.connect_data == connect_data)
                        .map(|(id, _)| *id)
                        .collect();
                    for id in ids {
                        let mut client = clients.remove(&id).expect("present");
                        // Graceful: the client shows no error for a quit or for a newer launch
                        // of its own app.
                        let (ty, payload) = control::termination(control::TERMINATION_GRACEFUL);
                        let sealed = client.cipher.seal(ty, &payload);
                        let peer = host.peer_mut(id);
                        let _ = peer.send(0, &enet::Packet::reliable(sealed.as_slice()));
                        // Sent before the disconnect, which waits for queued packets.
                        peer.disconnect_later(0);
                    }
                }
            }
        }
        let now = Instant::now();
        if now.duration_since(feedback_polled) >= crate::input::session_pads::FEEDBACK_POLL {
            feedback_polled = now;
            send_pad_feedback(host, &mut clients);
        }
        let silent: Vec<_> = clients
            .iter()
            .filter(|(_, c)| now.duration_since(c.last_heard) > PING_TIMEOUT || c.live.stopped())
            .map(|(id, _)| *id)
            .collect();
        for id in silent {
            let client = clients.remove(&id).expect("present");
            host.peer_mut(id).disconnect_now(0);
            client_left(gs, &client, "silent or stopped");
        }
        host.flush();
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// What the games asked of each client's virtual pads, sent to that client. Polled here (every
/// `FEEDBACK_POLL`) because this thread owns the peers and the ciphers.
fn send_pad_feedback(
    host: &mut enet::Host<UdpSocket>,
    clients: &mut HashMap<enet::PeerID, Client>,
) {
    for (id, client) in clients.iter_mut() {
        let feedback = lock(&client.live.pads).feedback();
        for (ty, payload) in feedback.into_iter().flat_map(pad_messages) {
            let sealed = client.cipher.seal(ty, &payload);
            let _ = host
                .peer_mut(*id)
                .send(0, &enet::Packet::reliable(sealed.as_slice()));
        }
    }
}

/// Motion reports asked of a Moonlight client come at this rate (Sunshine's).
const MOTION_REPORT_HZ: u16 = 100;

/// A pad's feedback as the control messages Moonlight takes: (type, payload) each. Player LEDs
/// have no GameStream message.
fn pad_messages(feedback: crate::input::virtual_pads::Feedback) -> Vec<(u16, Vec<u8>)> {
    use crate::input::virtual_pads::Feedback;
    use punktfunk_gamestream::control::{self as messages, TriggerEffect};
    use punktfunk_gamestream::wire::control::DS_EFFECT_PAYLOAD_LEN;
    use punktfunk_gamestream::wire::input::motion_type;
    use punktfunk_input::gamepad::dualsense::TRIGGER_EFFECT_LEN;
    const _: () = assert!(TRIGGER_EFFECT_LEN == 1 + DS_EFFECT_PAYLOAD_LEN);
    match feedback {
        Feedback::Rumble { index, low, high } => {
            vec![messages::rumble(u16::from(index), low, high)]
        }
        Feedback::Lights { index, rgb, .. } => rgb
            .map(|(r, g, b)| messages::set_rgb_led(u16::from(index), r, g, b))
            .into_iter()
            .collect(),
        Feedback::Triggers { index, left, right } => {
            // The block is the mode byte and its parameters, the message's split.
            let effect = |block: [u8; TRIGGER_EFFECT_LEN]| {
                let mut parameters = [0u8; DS_EFFECT_PAYLOAD_LEN];
                parameters.copy_from_slice(&block[1..]);
                TriggerEffect {
                    mode: block[0],
                    parameters,
                }
            };
            vec![messages::set_adaptive_triggers(
                u16::from(index),
                left.map(effect),
                right.map(effect),
            )]
        }
        Feedback::ReportMotion { index, sensors } => [
            (sensors.accel, motion_type::ACCELEROMETER),
            (sensors.gyro, motion_type::GYROSCOPE),
        ]
        .into_iter()
        .filter(|(wanted, _)| *wanted)
        .map(|(_, kind)| messages::set_motion_event(u16::from(index), MOTION_REPORT_HZ, kind))
        .collect(),
    }
}

fn connect(
    host: &mut enet::Host<UdpSocket>,
    gs: &GameStream,
    clients: &mut HashMap<enet::PeerID, Client>,
    peer: enet::PeerID,
    data: u32,
) {
    let live = gs
        .current()
        .and_then(|s| s.live())
        .filter(|l| l.connect_data == data && !l.stopped());
    let address = host.peer(peer).address();
    let Some(live) = live else {
        tracing::warn!(
            ?address,
            "control connection with unknown connect data refused"
        );
        host.peer_mut(peer).disconnect_now(0);
        return;
    };
    let (limit, minimum, maximum) = ENET_TIMEOUT_MS;
    host.peer_mut(peer).set_timeout(limit, minimum, maximum);
    tracing::info!(?address, "GameStream control connected");
    clients.insert(
        peer,
        Client {
            cipher: ControlCipher::new(live.keys.rikey),
            live,
            last_heard: Instant::now(),
        },
    );
}

fn receive(client: &mut Client, packet: &[u8]) -> Result<(), control::ControlError> {
    let message = client.cipher.open(packet)?;
    client.last_heard = Instant::now();
    match control::parse_client_message(&message)? {
        ClientMessage::RequestIdr | ClientMessage::InvalidateReferenceFrames { .. } => {
            client.live.keyframe.store(true, Ordering::Relaxed);
        }
        ClientMessage::Input(payload) => super::input::deliver(&client.live, &payload),
        ClientMessage::FrameFecStatus {
            total_data,
            total_parity,
            received_data,
            received_parity,
            ..
        } => {
            let sent = u64::from(total_data) + u64::from(total_parity);
            let received = u64::from(received_data) + u64::from(received_parity);
            client
                .live
                .reported_lost
                .fetch_add(sent.saturating_sub(received), Ordering::Relaxed);
        }
        ClientMessage::LossStats { .. } | ClientMessage::FrameStats | ClientMessage::Ping => {}
        ClientMessage::StartB | ClientMessage::Unknown { .. } => {}
    }
    Ok(())
}

fn client_left(gs: &GameStream, client: &Client, why: &str) {
    tracing::info!(why, "GameStream control stream ended");
    if let Some(session) = gs.current() {
        let connect_data = client.live.connect_data;
        // Joining the media threads must not stall the control thread.
        std::thread::spawn(move || session.stream_gone(connect_data));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::pads::MotionSensors;
    use crate::input::virtual_pads::Feedback;
    use punktfunk_gamestream::wire::control::message_type;

    #[test]
    fn pad_feedback_becomes_moonlights_messages() {
        // Adaptive triggers: controller, flags (0x04 right, 0x08 left), left mode, right mode,
        // left parameters, right parameters (moonlight-common-c `queueAsyncCallback`).
        let right = [0x26, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        let messages = pad_messages(Feedback::Triggers {
            index: 2,
            left: None,
            right: Some(right),
        });
        let mut payload = vec![2, 0, 0x04, 0x00, 0x26];
        payload.extend_from_slice(&[0; 10]);
        payload.extend_from_slice(&right[1..]);
        assert_eq!(messages, [(message_type::SET_ADAPTIVE_TRIGGERS, payload)]);
        // Motion: one request per sensor, controller u16, rate u16, type u8.
        let messages = pad_messages(Feedback::ReportMotion {
            index: 1,
            sensors: MotionSensors {
                accel: true,
                gyro: true,
            },
        });
        assert_eq!(
            messages,
            [
                (message_type::SET_MOTION_EVENT, vec![1, 0, 100, 0, 0x01]),
                (message_type::SET_MOTION_EVENT, vec![1, 0, 100, 0, 0x02])
            ]
        );
        // The lightbar goes out, player LEDs alone have no message.
        assert_eq!(
            pad_messages(Feedback::Lights {
                index: 0,
                rgb: Some((1, 2, 3)),
                player_leds: Some(4)
            }),
            [(message_type::SET_RGB_LED, vec![0, 0, 1, 2, 3])]
        );
        assert!(pad_messages(Feedback::Lights {
            index: 0,
            rgb: None,
            player_leds: Some(4)
        })
        .is_empty());
    }
}
