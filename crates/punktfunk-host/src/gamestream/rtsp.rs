//! The RTSP server: Moonlight's OPTIONS → DESCRIBE → SETUP ×3 → ANNOUNCE → PLAY, each on a
//! connection of its own. Only the address that launched the app is served; sizes and
//! waits are bounded; PLAY starts the media threads.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use punktfunk_gamestream::rtsp::{
    parse_request, parse_sealed_request, DescribeOffer, HandshakeConfig, HandshakeEvent, Request,
    Response,
};
use punktfunk_gamestream::wire::encryption;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::session::{lock, Live};
use super::GameStream;

/// A request (or the rest of one) must arrive within this.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// More than this buffered without a whole request is garbage.
const MAX_BUFFERED: usize = 80 * 1024;

pub async fn serve(listener: TcpListener, gs: Arc<GameStream>) {
    loop {
        let Ok((tcp, peer)) = listener.accept().await else {
            continue;
        };
        let gs = gs.clone();
        tokio::spawn(async move {
            if let Err(e) = connection(tcp, &gs).await {
                tracing::debug!(%peer, "RTSP connection closed: {e}");
            }
        });
    }
}

/// What this host offers in its DESCRIBE answer.
fn offer(gs: &GameStream) -> DescribeOffer {
    use punktfunk_gamestream::audio::OpusLayout;
    use punktfunk_gamestream::wire::codec_mode;
    use punktfunk_gamestream::wire::rtsp::ss_feature;
    let surround_params = OpusLayout::advertised()
        .iter()
        .map(OpusLayout::surround_params)
        .collect();
    DescribeOffer {
        hevc: gs.codec_modes & codec_mode::HEVC != 0,
        av1: gs.codec_modes & codec_mode::AV1_MAIN8 != 0,
        ref_pic_invalidation: false,
        encryption_supported: encryption::CONTROL_V2 | encryption::VIDEO | encryption::AUDIO,
        encryption_requested: encryption::CONTROL_V2,
        // Screen touch and pen reach the input backend (the pen as a finger), controller
        // touchpad and motion the Sony pads.
        feature_flags: ss_feature::PEN_TOUCH_EVENTS | ss_feature::CONTROLLER_TOUCH_EVENTS,
        surround_params,
    }
}

fn handshake_config(gs: &GameStream) -> impl FnOnce([u8; 16], [u8; 16], u32) -> HandshakeConfig {
    let (ports, offer) = (gs.ports, offer(gs));
    move |video_ping_payload, audio_ping_payload, control_connect_data| HandshakeConfig {
        video_port: ports.video,
        audio_port: ports.audio,
        control_port: ports.control,
        video_ping_payload,
        audio_ping_payload,
        control_connect_data,
        offer,
    }
}

/// One request per connection: Moonlight reads the reply once the host closes.
async fn connection(mut tcp: TcpStream, gs: &Arc<GameStream>) -> anyhow::Result<()> {
    let peer = tcp.peer_addr()?;
    let Some(session) = gs.current() else {
        anyhow::bail!("no app is running: launch first");
    };
    if peer.ip().to_canonical() != session.client_ip.to_canonical() {
        anyhow::bail!("{peer} did not launch the running app");
    }
    let live = session.live_or_new(handshake_config(gs));
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let request = loop {
        if let Some(request) = next_request(&live, &buffer)? {
            break request;
        }
        if buffer.len() > MAX_BUFFERED {
            anyhow::bail!("RTSP request too large");
        }
        let n = tokio::time::timeout(READ_TIMEOUT, tcp.read(&mut chunk)).await??;
        if n == 0 {
            anyhow::bail!("the client closed before a whole request");
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let (response, event) = lock(&live.handshake).handle(&request);
    write(&mut tcp, &live, &response).await?;
    tcp.shutdown().await?;
    if let Some(event) = event {
        on_event(gs, &live, session.owner, event);
    }
    Ok(())
}

/// The request in `buffer`, once it is whole (opened first when RTSP is encrypted).
fn next_request(live: &Live, buffer: &[u8]) -> anyhow::Result<Option<Request>> {
    let mut cipher = lock(&live.rtsp_cipher);
    match cipher.as_mut() {
        Some(cipher) => match cipher.open(buffer)? {
            Some((plain, _)) => Ok(Some(parse_sealed_request(&plain)?)),
            None => Ok(None),
        },
        None => Ok(parse_request(buffer)?.map(|(request, _)| request)),
    }
}

async fn write(tcp: &mut TcpStream, live: &Live, response: &Response) -> anyhow::Result<()> {
    let plain = response.encode();
    let bytes = match lock(&live.rtsp_cipher).as_mut() {
        Some(cipher) => cipher.seal(&plain),
        None => plain,
    };
    tcp.write_all(&bytes).await?;
    Ok(())
}

fn on_event(
    gs: &Arc<GameStream>,
    live: &Arc<Live>,
    owner: punktfunk_net::identity::Fingerprint,
    event: HandshakeEvent,
) {
    match event {
        HandshakeEvent::Announced(params) => {
            tracing::info!(
                width = params.width, height = params.height, fps = params.fps,
                codec = ?params.codec, packet_size = params.packet_size,
                bitrate_kbps = params.configured_bitrate_kbps,
                min_fec = params.min_required_fec_packets,
                encryption = format!("{:#x}", params.encryption_enabled),
                audio_channels = params.audio_channels,
                "GameStream stream announced"
            );
            *lock(&live.params) = Some(params);
        }
        HandshakeEvent::Play => {
            if live.playing.swap(true, Ordering::SeqCst) {
                return;
            }
            let params = lock(&live.params).clone();
            match params {
                Some(params) => super::media::start(gs, live, owner, params),
                None => tracing::warn!("PLAY before ANNOUNCE: nothing to stream"),
            }
        }
    }
}
