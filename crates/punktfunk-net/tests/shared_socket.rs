//! Host and client endpoints on loopback: QUIC control and media packets share one socket each,
//! both ends derive the same media secrets, and a garbage datagram disturbs neither.

use std::net::SocketAddr;
use std::time::Duration;

use punktfunk_core::control::{Message, Mode};
use punktfunk_core::{synthetic, FecParams, FrameInfo, MediaReceiver, MediaSender, PacketBatch};
use punktfunk_net::control_io::{self, ControlReader};
use punktfunk_net::endpoint::bind;
use punktfunk_net::identity::Identity;
use punktfunk_net::tls::{client_config, peer_fingerprint, server_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_and_media_share_one_port() {
    let host_id = Identity::generate("host").unwrap();
    let client_id = Identity::generate("client").unwrap();
    let idle = Duration::from_secs(5);
    let host = bind(
        "127.0.0.1:0".parse().unwrap(),
        Some(server_config(&host_id, idle).unwrap()),
    )
    .unwrap();
    let host_addr = host.endpoint.local_addr().unwrap();
    let client = bind("127.0.0.1:0".parse().unwrap(), None).unwrap();
    let client_addr: SocketAddr = client.endpoint.local_addr().unwrap();

    let session_id = [9u8; 16];
    let host_task = tokio::spawn({
        let endpoint = host.endpoint.clone();
        let client_fp = client_id.fingerprint();
        async move {
            let conn = endpoint.accept().await.unwrap().await.unwrap();
            assert_eq!(peer_fingerprint(&conn), Some(client_fp));
            let (mut send, recv) = conn.accept_bi().await.unwrap();
            let mut reader = ControlReader::new(recv);
            let hello = reader.next().await.unwrap().unwrap();
            assert!(matches!(hello, Message::Reconfigure { .. }));
            control_io::send(&mut send, &Message::Ready).await.unwrap();
            let secrets = control_io::session_media_secrets(&conn, &session_id).unwrap();
            (conn, secrets, send, reader)
        }
    });

    let conn = client
        .endpoint
        .connect_with(
            client_config(&client_id, idle).unwrap(),
            host_addr,
            "punktfunk",
        )
        .unwrap()
        .await
        .unwrap();
    assert_eq!(peer_fingerprint(&conn), Some(host_id.fingerprint()));
    let (mut send, recv) = conn.open_bi().await.unwrap();
    control_io::send(
        &mut send,
        &Message::Reconfigure {
            mode: Mode::new(1280, 720, 60),
        },
    )
    .await
    .unwrap();
    let mut reader = ControlReader::new(recv);
    assert_eq!(reader.next().await.unwrap(), Some(Message::Ready));
    let client_secrets = control_io::session_media_secrets(&conn, &session_id).unwrap();
    let (host_conn, host_secrets, _host_send, mut host_reader) = host_task.await.unwrap();
    assert_eq!(
        client_secrets.host_to_client.to_hex(),
        host_secrets.host_to_client.to_hex()
    );

    // Garbage with the media tag, then a real frame, from the host's socket to the client's.
    host.media_out.send(&[0u8; 40], client_addr).unwrap();
    let mut sender = MediaSender::new(&host_secrets.host_to_client);
    let mut batch = PacketBatch::new();
    let frame = synthetic::frame(0, 30_000);
    sender
        .packetize(
            &frame,
            FrameInfo::default(),
            &FecParams::default(),
            &mut batch,
        )
        .unwrap();
    for p in batch.iter() {
        host.media_out.send(p, client_addr).unwrap();
    }
    let mut rx = MediaReceiver::new(&client_secrets.host_to_client, Default::default());
    let media_in = client.media_in;
    let got = tokio::task::spawn_blocking(move || loop {
        let mut d = media_in
            .recv_timeout(Duration::from_secs(5))
            .expect("media arrives");
        assert_eq!(d.from, host_addr);
        rx.handle_datagram(&mut d.bytes, std::time::Instant::now());
        if let Some(punktfunk_core::Event::Frame(f)) = rx.poll_event() {
            return (f, rx.counters());
        }
    })
    .await
    .unwrap();
    assert_eq!(got.0.data, frame);
    assert_eq!(
        got.1.malformed, 1,
        "the garbage datagram was refused, counted"
    );

    // QUIC still works after media went through the same sockets.
    control_io::send(&mut send, &Message::KeyframeRequest)
        .await
        .unwrap();
    assert_eq!(
        host_reader.next().await.unwrap(),
        Some(Message::KeyframeRequest)
    );
    conn.close(punktfunk_core::wire::close::CLIENT_QUIT.into(), b"quit");
    let reason = host_conn.closed().await;
    match reason {
        quinn::ConnectionError::ApplicationClosed(c) => {
            assert_eq!(
                c.error_code,
                punktfunk_core::wire::close::CLIENT_QUIT.into()
            )
        }
        other => panic!("unexpected close: {other}"),
    }
}
