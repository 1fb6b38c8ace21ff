//! GameStream RTSP requests: the incremental plain parser (bounded before buffering), the
//! sealed-plaintext parser, and the handshake answering whatever parses.
//! The first byte says how to chunk the stream, to exercise requests split across reads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use punktfunk_gamestream::rtsp::{
    parse_request, parse_sealed_request, DescribeOffer, Handshake, HandshakeConfig,
};
use punktfunk_gamestream::wire::rtsp::{MAX_BODY, MAX_HEADERS, MAX_HEADER_BLOCK};

fn handshake() -> Handshake {
    Handshake::new(HandshakeConfig {
        video_port: 47998,
        audio_port: 48000,
        control_port: 47999,
        video_ping_payload: *b"0123456789ABCDEF",
        audio_ping_payload: *b"0123456789ABCDEF",
        control_connect_data: 7,
        offer: DescribeOffer {
            hevc: true,
            encryption_supported: 0x05,
            encryption_requested: 0x01,
            surround_params: vec!["21101".into()],
            ..Default::default()
        },
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, stream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let mut hs = handshake();
    let mut buf = Vec::new();
    for piece in stream.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            match parse_request(&buf) {
                Ok(Some((req, used))) => {
                    assert!(used > 0 && used <= buf.len());
                    assert!(used <= MAX_HEADER_BLOCK + MAX_BODY);
                    assert!(req.headers.len() <= MAX_HEADERS && req.body.len() <= MAX_BODY);
                    let (resp, _) = hs.handle(&req);
                    assert_eq!(resp.cseq, req.cseq);
                    assert!(resp.encode().starts_with(b"RTSP/1.0 "));
                    buf.drain(..used);
                }
                Ok(None) => {
                    assert!(buf.len() < MAX_HEADER_BLOCK + MAX_BODY);
                    break;
                }
                Err(_) => return,
            }
        }
    }
    if let Ok(req) = parse_sealed_request(stream) {
        assert!(req.body.len() <= MAX_BODY);
        let _ = handshake().handle(&req);
    }
});
