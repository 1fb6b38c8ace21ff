//! `punktfunk-probe listen` as a separate process, fed over real UDP by a sender in this test.

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::process::{Command, Stdio};

use punktfunk_core::{synthetic, FecParams, FrameInfo, MediaSecret, MediaSender, PacketBatch};

#[test]
fn probe_receives_and_verifies_a_stream() {
    let secret = MediaSecret::random();
    let mut probe = Command::new(env!("CARGO_BIN_EXE_punktfunk-probe"))
        .args(["listen", "--seconds", "20", "--idle-ms", "300", "--secret"])
        .arg(secret.to_hex())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(probe.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first
        .strip_prefix("listening ")
        .expect("first line names the address")
        .to_owned();

    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut sender = MediaSender::new(&secret);
    let mut batch = PacketBatch::new();
    let params = FecParams::default();
    for i in 0..30u32 {
        let frame = synthetic::frame(i, 20_000 + i as usize * 100);
        let info = FrameInfo {
            frame_index: i,
            keyframe: i == 0,
            ..FrameInfo::default()
        };
        sender.packetize(&frame, info, &params, &mut batch).unwrap();
        for (n, p) in batch.iter().enumerate() {
            // Lose the second packet of every frame: one per block, within the FEC.
            if n != 1 {
                socket.send_to(p, &addr).unwrap();
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let summary = lines.next().unwrap().unwrap();
    assert!(probe.wait().unwrap().success(), "{summary}");
    assert!(
        summary.contains("frames=30 verified=30 corrupt=0 lost=0 recovered=30"),
        "{summary}"
    );

    // A malformed secret is refused with a clear message.
    let out = Command::new(env!("CARGO_BIN_EXE_punktfunk-probe"))
        .args(["listen", "--secret", "1234"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("64 hex digits"));
}
