//! The handshake state machine: OPTIONS → DESCRIBE → SETUP ×3 → ANNOUNCE → PLAY.

use super::{
    describe_sdp, parse_announce, DescribeOffer, Request, Response, StreamParams, VideoCodec,
};
use crate::wire::encryption;
use crate::wire::rtsp::{
    HEADER_CONNECT_DATA, HEADER_HOST, HEADER_PING_PAYLOAD, HEADER_SESSION, HEADER_TRANSPORT,
    LOW_QUALITY_AUDIO_HOST, METHOD_ANNOUNCE, METHOD_DESCRIBE, METHOD_OPTIONS, METHOD_PLAY,
    METHOD_SETUP, PING_PAYLOAD_LEN, SESSION_VALUE, SETUP_KIND_END, SETUP_KIND_START,
    STATUS_BAD_REQUEST, STATUS_FORBIDDEN, STATUS_INTERNAL_ERROR, STATUS_NOT_FOUND,
    STATUS_WRONG_STATE, STREAM_AUDIO, STREAM_CONTROL, STREAM_VIDEO, TRANSPORT_SERVER_PORT,
};

/// Everything fixed at `/launch` time that the handshake hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeConfig {
    pub video_port: u16,
    pub audio_port: u16,
    pub control_port: u16,
    /// 16 printable ASCII characters the client prefixes its UDP pings with (see
    /// [`ping_payload_from_random`]); Sunshine uses one value for both.
    pub video_ping_payload: [u8; PING_PAYLOAD_LEN],
    pub audio_ping_payload: [u8; PING_PAYLOAD_LEN],
    /// The `data` field the client's ENet CONNECT will carry.
    pub control_connect_data: u32,
    pub offer: DescribeOffer,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeEvent {
    /// ANNOUNCE accepted: create the streaming session now (pings and ENet connect follow).
    Announced(StreamParams),
    /// PLAY accepted: nothing else to do (media starts on the client's pings).
    Play,
}

/// One launch's handshake; feed it every request of the launch's connections.
#[derive(Debug, Clone)]
pub struct Handshake {
    config: HandshakeConfig,
    setup: SetupDone,
    announced: Option<StreamParams>,
    playing: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct SetupDone {
    audio: bool,
    video: bool,
    control: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StreamKind {
    Audio,
    Video,
    Control,
}

impl Handshake {
    pub fn new(config: HandshakeConfig) -> Self {
        Self {
            config,
            setup: SetupDone::default(),
            announced: None,
            playing: false,
        }
    }

    /// The parameters accepted by ANNOUNCE, once it succeeded.
    pub fn stream_params(&self) -> Option<&StreamParams> {
        self.announced.as_ref()
    }

    /// Answers one request. Unknown methods and SETUP targets get 404, requests out of order
    /// (SETUP after ANNOUNCE, ANNOUNCE before the three SETUPs or twice, PLAY before ANNOUNCE)
    /// 455, a bad ANNOUNCE 400 (403 if it lacks encryption the host requested).
    pub fn handle(&mut self, req: &Request) -> (Response, Option<HandshakeEvent>) {
        match req.method.as_str() {
            METHOD_OPTIONS => (Response::ok(req.cseq), None),
            METHOD_DESCRIBE => (self.describe(req), None),
            METHOD_SETUP => (self.setup(req), None),
            METHOD_ANNOUNCE => self.announce(req),
            METHOD_PLAY => self.play(req),
            _ => (Response::new(STATUS_NOT_FOUND, req.cseq), None),
        }
    }

    fn describe(&self, req: &Request) -> Response {
        Response::ok(req.cseq).with_body(describe_sdp(&self.config.offer))
    }

    fn setup(&mut self, req: &Request) -> Response {
        if self.announced.is_some() {
            return Response::new(STATUS_WRONG_STATE, req.cseq);
        }
        let Some(kind) = setup_kind(&req.target) else {
            return Response::new(STATUS_NOT_FOUND, req.cseq);
        };
        let c = &self.config;
        let (port, identifier) = match kind {
            StreamKind::Audio => (c.audio_port, ping_header(&c.audio_ping_payload)),
            StreamKind::Video => (c.video_port, ping_header(&c.video_ping_payload)),
            StreamKind::Control => (
                c.control_port,
                Some((HEADER_CONNECT_DATA, c.control_connect_data.to_string())),
            ),
        };
        let Some((name, value)) = identifier else {
            // A ping payload the client would ignore means pings we cannot match: refuse.
            return Response::new(STATUS_INTERNAL_ERROR, req.cseq);
        };
        self.mark_setup(kind);
        Response::ok(req.cseq)
            .with_header(HEADER_SESSION, SESSION_VALUE)
            .with_header(HEADER_TRANSPORT, format!("{TRANSPORT_SERVER_PORT}{port}"))
            .with_header(name, value)
    }

    fn mark_setup(&mut self, kind: StreamKind) {
        match kind {
            StreamKind::Audio => self.setup.audio = true,
            StreamKind::Video => self.setup.video = true,
            StreamKind::Control => self.setup.control = true,
        }
    }

    fn announce(&mut self, req: &Request) -> (Response, Option<HandshakeEvent>) {
        let all_set_up = self.setup.audio && self.setup.video && self.setup.control;
        if self.announced.is_some() || !all_set_up {
            return (Response::new(STATUS_WRONG_STATE, req.cseq), None);
        }
        let Ok(mut params) = parse_announce(&req.body) else {
            return (Response::new(STATUS_BAD_REQUEST, req.cseq), None);
        };
        if !self.codec_offered(params.codec) || !self.video_encryption_possible(&params) {
            return (Response::new(STATUS_BAD_REQUEST, req.cseq), None);
        }
        if !self.requested_encryption_enabled(&params) {
            return (Response::new(STATUS_FORBIDDEN, req.cseq), None);
        }
        apply_stereo_quality_rule(&mut params, req);
        self.announced = Some(params.clone());
        (
            Response::ok(req.cseq),
            Some(HandshakeEvent::Announced(params)),
        )
    }

    fn play(&mut self, req: &Request) -> (Response, Option<HandshakeEvent>) {
        if self.announced.is_none() {
            return (Response::new(STATUS_WRONG_STATE, req.cseq), None);
        }
        // A repeated PLAY is answered but starts nothing new.
        let event = (!self.playing).then_some(HandshakeEvent::Play);
        self.playing = true;
        (Response::ok(req.cseq), event)
    }

    fn codec_offered(&self, codec: VideoCodec) -> bool {
        match codec {
            VideoCodec::H264 => true,
            VideoCodec::Hevc => self.config.offer.hevc,
            VideoCodec::Av1 => self.config.offer.av1,
        }
    }

    /// A client that turned on video encryption the host never offered would get a stream
    /// it cannot decode.
    fn video_encryption_possible(&self, params: &StreamParams) -> bool {
        let offer = &self.config.offer;
        let offered = offer.encryption_supported | offer.encryption_requested;
        params.encryption_enabled & encryption::VIDEO & !offered == 0
    }

    /// Sunshine's mandatory mode: video/audio encryption the host requested must be on.
    fn requested_encryption_enabled(&self, params: &StreamParams) -> bool {
        let required =
            self.config.offer.encryption_requested & (encryption::VIDEO | encryption::AUDIO);
        params.encryption_enabled & required == required
    }
}

/// `streamid=audio/0/0` → audio: the text between `=` and the next `/`.
fn setup_kind(target: &str) -> Option<StreamKind> {
    let (_, rest) = target.split_once(SETUP_KIND_START)?;
    let kind = rest.split(SETUP_KIND_END).next()?;
    match kind {
        STREAM_AUDIO => Some(StreamKind::Audio),
        STREAM_VIDEO => Some(StreamKind::Video),
        STREAM_CONTROL => Some(StreamKind::Control),
        _ => None,
    }
}

/// The `X-SS-Ping-Payload` header, if the payload is 16 printable ASCII characters.
fn ping_header(payload: &[u8; PING_PAYLOAD_LEN]) -> Option<(&'static str, String)> {
    payload.iter().all(u8::is_ascii_graphic).then(|| {
        (
            HEADER_PING_PAYLOAD,
            payload.iter().map(|b| char::from(*b)).collect(),
        )
    })
}

/// For stereo, Sunshine ignores `AudioQuality`: the client asks for normal quality by sending
/// `Host: 0.0.0.0`, anything else means high quality.
fn apply_stereo_quality_rule(params: &mut StreamParams, req: &Request) {
    if params.audio_channels != 2 {
        return;
    }
    if let Some(host) = req.header(HEADER_HOST) {
        params.audio_high_quality = !host.contains(LOW_QUALITY_AUDIO_HOST);
    }
}

/// A ping payload as Sunshine makes it: 8 random bytes as 16 upper-case hex characters.
pub fn ping_payload_from_random(random: [u8; 8]) -> [u8; PING_PAYLOAD_LEN] {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = [0u8; PING_PAYLOAD_LEN];
    for (i, b) in random.iter().enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 0x0f)];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtsp::cipher::tests::client_seal;
    use crate::rtsp::message::tests::client_request;
    use crate::rtsp::sdp::tests::{client_sdp, moonlight_attributes, moonlight_params};
    use crate::rtsp::{parse_request, parse_sealed_request, RtspCipher};
    use proptest::prelude::*;

    const PING: [u8; 16] = *b"3F1A9C0D22B47E51";
    const MODIFIED: &str = "Thu, 01 Jan 1970 00:00:00 GMT";
    const TRANSPORT: &str = "unicast;X-GS-ClientPort=50000-50001";
    const URL: &str = "rtspenc://192.168.1.10:48010";

    fn config() -> HandshakeConfig {
        HandshakeConfig {
            video_port: 47998,
            audio_port: 48000,
            control_port: 47999,
            video_ping_payload: PING,
            audio_ping_payload: PING,
            control_connect_data: 0xDEAD_BEEF,
            offer: DescribeOffer {
                hevc: true,
                av1: false,
                ref_pic_invalidation: true,
                encryption_supported: 0x05,
                encryption_requested: 0x01,
                feature_flags: 0x03,
                surround_params: vec!["21101".into(), "642012453".into()],
            },
        }
    }

    /// The seven requests of moonlight-common-c's `performRtspHandshake` against a 7.1.431
    /// host (URL `rtspenc://…`, high-quality audio, so `Host` is the address).
    fn moonlight_requests(host: &str, sdp: &[u8]) -> Vec<Vec<u8>> {
        let len = sdp.len().to_string();
        let session = ("Session", "DEADBEEFCAFE");
        let setup = [("Transport", TRANSPORT), ("If-Modified-Since", MODIFIED)];
        let one = |method: &str, target: &str, cseq: u32, extra: &[(&str, &str)], body: &[u8]| {
            let cseq = cseq.to_string();
            let mut headers = vec![
                ("CSeq", cseq.as_str()),
                ("X-GS-ClientVersion", "14"),
                ("Host", host),
            ];
            headers.extend_from_slice(extra);
            client_request(method, target, &headers, body)
        };
        vec![
            one("OPTIONS", URL, 1, &[], b""),
            one(
                "DESCRIBE",
                URL,
                2,
                &[
                    ("Accept", "application/sdp"),
                    ("If-Modified-Since", MODIFIED),
                ],
                b"",
            ),
            one("SETUP", "streamid=audio/0/0", 3, &setup, b""),
            one(
                "SETUP",
                "streamid=video/0/0",
                4,
                &[session, setup[0], setup[1]],
                b"",
            ),
            one(
                "SETUP",
                "streamid=control/13/0",
                5,
                &[session, setup[0], setup[1]],
                b"",
            ),
            one(
                "ANNOUNCE",
                "streamid=control/13/0",
                6,
                &[
                    session,
                    ("Content-type", "application/sdp"),
                    ("Content-length", &len),
                ],
                sdp,
            ),
            one("PLAY", "/", 7, &[session], b""),
        ]
    }

    fn request(bytes: &[u8]) -> Request {
        let (req, used) = parse_request(bytes).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        req
    }

    #[test]
    fn the_clients_exact_bytes_look_as_expected() {
        let reqs = moonlight_requests("192.168.1.10", b"v=0\r\n");
        assert_eq!(
            reqs[2],
            b"SETUP streamid=audio/0/0 RTSP/1.0\r\nCSeq: 3\r\nX-GS-ClientVersion: 14\r\n\
Host: 192.168.1.10\r\nTransport: unicast;X-GS-ClientPort=50000-50001\r\n\
If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\n"
        );
        assert_eq!(
            reqs[5],
            b"ANNOUNCE streamid=control/13/0 RTSP/1.0\r\nCSeq: 6\r\nX-GS-ClientVersion: 14\r\n\
Host: 192.168.1.10\r\nSession: DEADBEEFCAFE\r\nContent-type: application/sdp\r\n\
Content-length: 5\r\n\r\nv=0\r\n"
        );
    }

    #[test]
    fn full_plain_handshake() {
        let sdp = client_sdp(&moonlight_attributes());
        let reqs = moonlight_requests("192.168.1.10", &sdp);
        let mut hs = Handshake::new(config());
        let mut replies = Vec::new();
        let mut events = Vec::new();
        for bytes in &reqs {
            let (resp, event) = hs.handle(&request(bytes));
            assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(bytes));
            replies.push(resp.encode());
            events.extend(event);
        }
        assert_eq!(replies[0], b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n");
        assert_eq!(
            replies[1],
            b"RTSP/1.0 200 OK\r\nCSeq: 2\r\n\r\na=x-ss-general.featureFlags:3\n\
a=x-ss-general.encryptionSupported:5\na=x-ss-general.encryptionRequested:1\n\
a=x-nv-video[0].refPicInvalidation:1\nsprop-parameter-sets=AAAAAU\n\
a=fmtp:97 surround-params=21101\na=fmtp:97 surround-params=642012453\n"
        );
        assert_eq!(
            replies[2],
            b"RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: DEADBEEFCAFE;timeout = 90\r\n\
Transport: server_port=48000\r\nX-SS-Ping-Payload: 3F1A9C0D22B47E51\r\n\r\n"
        );
        assert_eq!(
            replies[3],
            b"RTSP/1.0 200 OK\r\nCSeq: 4\r\nSession: DEADBEEFCAFE;timeout = 90\r\n\
Transport: server_port=47998\r\nX-SS-Ping-Payload: 3F1A9C0D22B47E51\r\n\r\n"
        );
        assert_eq!(
            replies[4],
            b"RTSP/1.0 200 OK\r\nCSeq: 5\r\nSession: DEADBEEFCAFE;timeout = 90\r\n\
Transport: server_port=47999\r\nX-SS-Connect-Data: 3735928559\r\n\r\n"
        );
        assert_eq!(replies[5], b"RTSP/1.0 200 OK\r\nCSeq: 6\r\n\r\n");
        assert_eq!(replies[6], b"RTSP/1.0 200 OK\r\nCSeq: 7\r\n\r\n");
        // Stereo with a real Host address: high quality, whatever AudioQuality said.
        let expected = StreamParams {
            audio_high_quality: true,
            ..moonlight_params()
        };
        assert_eq!(
            events,
            vec![
                HandshakeEvent::Announced(expected.clone()),
                HandshakeEvent::Play
            ]
        );
        assert_eq!(hs.stream_params(), Some(&expected));
    }

    #[test]
    fn full_encrypted_handshake() {
        let key = *b"launch rikey 16b";
        let sdp = client_sdp(&moonlight_attributes());
        let mut cipher = RtspCipher::new(key);
        let mut hs = Handshake::new(config());
        let mut events = Vec::new();
        // The client's counter runs on from earlier sessions: any start is fine.
        for (i, plain) in moonlight_requests("0.0.0.0", &sdp).iter().enumerate() {
            let record = client_seal(key, 41 + i as u32, plain);
            let (pt, used) = cipher.open(&record).unwrap().unwrap();
            assert_eq!(used, record.len());
            let (resp, event) = hs.handle(&parse_sealed_request(&pt).unwrap());
            assert_eq!(resp.status, 200);
            let sealed = cipher.seal(&resp.encode());
            assert_eq!(&sealed[4..8], &(i as u32 + 1).to_be_bytes());
            events.extend(event);
        }
        // `Host: 0.0.0.0` asks for normal-quality stereo.
        assert_eq!(
            events,
            vec![
                HandshakeEvent::Announced(moonlight_params()),
                HandshakeEvent::Play
            ]
        );
    }

    fn req(method: &str, target: &str, cseq: u32, body: &[u8]) -> Request {
        Request {
            method: method.into(),
            target: target.into(),
            cseq,
            headers: vec![("CSeq".into(), cseq.to_string())],
            body: body.to_vec(),
        }
    }

    fn set_up(hs: &mut Handshake) {
        for kind in ["audio", "video", "control"] {
            assert_eq!(
                hs.handle(&req("SETUP", &format!("streamid={kind}/0/0"), 3, b""))
                    .0
                    .status,
                200
            );
        }
    }

    #[test]
    fn out_of_order_and_unknown_requests_are_refused() {
        let sdp = client_sdp(&moonlight_attributes());
        let mut hs = Handshake::new(config());
        assert_eq!(
            hs.handle(&req("PLAY", "/", 1, b"")),
            (Response::new(STATUS_WRONG_STATE, 1), None)
        );
        assert_eq!(hs.handle(&req("ANNOUNCE", "x", 2, &sdp)).0.status, 455);
        assert_eq!(hs.handle(&req("TEARDOWN", "/", 3, b"")).0.status, 404);
        assert_eq!(hs.handle(&req("options", "/", 3, b"")).0.status, 404);
        for bad in [
            "streamid=mic/0/0",
            "streamid",
            "audio/0/0",
            "streamid=/audio",
        ] {
            assert_eq!(hs.handle(&req("SETUP", bad, 4, b"")).0.status, 404, "{bad}");
        }
        set_up(&mut hs);
        let (resp, event) = hs.handle(&req("ANNOUNCE", "x", 5, &sdp));
        assert_eq!(resp.status, 200);
        assert!(matches!(event, Some(HandshakeEvent::Announced(_))));
        assert_eq!(hs.handle(&req("ANNOUNCE", "x", 6, &sdp)).0.status, 455);
        assert_eq!(
            hs.handle(&req("SETUP", "streamid=audio/0/0", 7, b""))
                .0
                .status,
            455
        );
        assert_eq!(
            hs.handle(&req("PLAY", "/", 8, b"")).1,
            Some(HandshakeEvent::Play)
        );
        assert_eq!(
            hs.handle(&req("PLAY", "/", 9, b"")),
            (Response::ok(9), None)
        );
        assert_eq!(hs.handle(&req("OPTIONS", "/", 10, b"")).0.status, 200);
    }

    #[test]
    fn announce_is_validated_against_the_offer() {
        let announce = |cfg: HandshakeConfig, attrs: &[(&'static str, String)]| {
            let mut hs = Handshake::new(cfg);
            set_up(&mut hs);
            let (resp, event) = hs.handle(&req("ANNOUNCE", "x", 6, &client_sdp(attrs)));
            assert_eq!(resp.status != 200, event.is_none());
            resp.status
        };
        let set = |name: &'static str, value: &str| {
            let mut a: Vec<_> = moonlight_attributes()
                .into_iter()
                .filter(|(n, _)| *n != name)
                .collect();
            a.push((name, value.to_owned()));
            a
        };
        assert_eq!(
            announce(config(), &set("x-nv-video[0].clientViewportWd", "0")),
            400
        );
        assert_eq!(
            announce(config(), &set("x-nv-vqos[0].bitStreamFormat", "2")),
            400
        );
        let no_hevc = HandshakeConfig {
            offer: DescribeOffer {
                hevc: false,
                ..config().offer
            },
            ..config()
        };
        assert_eq!(announce(no_hevc.clone(), &moonlight_attributes()), 400);
        assert_eq!(
            announce(no_hevc, &set("x-nv-vqos[0].bitStreamFormat", "0")),
            200
        );
        // Video encryption the host never offered.
        assert_eq!(
            announce(config(), &set("x-ss-general.encryptionEnabled", "3")),
            400
        );
        // Mandatory encryption (requested video + audio) that the client did not turn on.
        let mandatory = HandshakeConfig {
            offer: DescribeOffer {
                encryption_supported: 0x07,
                encryption_requested: 0x07,
                ..config().offer
            },
            ..config()
        };
        assert_eq!(announce(mandatory.clone(), &moonlight_attributes()), 403);
        assert_eq!(
            announce(
                mandatory.clone(),
                &set("x-ss-general.encryptionEnabled", "7")
            ),
            200
        );
        // The legacy nv feature flag 0x20 counts as audio encryption.
        let mut legacy = set("x-ss-general.encryptionEnabled", "3");
        legacy.retain(|(n, _)| *n != "x-nv-general.featureFlags");
        legacy.push(("x-nv-general.featureFlags", "167".into()));
        assert_eq!(announce(mandatory, &legacy), 200);
    }

    #[test]
    fn surround_keeps_audio_quality_attribute() {
        let mut attrs = moonlight_attributes();
        for (n, v) in attrs.iter_mut() {
            match *n {
                "x-nv-audio.surround.numChannels" => *v = "6".into(),
                "x-nv-audio.surround.channelMask" => *v = "63".into(),
                _ => {}
            }
        }
        let mut hs = Handshake::new(config());
        set_up(&mut hs);
        let mut r = req("ANNOUNCE", "x", 6, &client_sdp(&attrs));
        r.headers.push(("Host".into(), "192.168.1.10".into()));
        let Some(HandshakeEvent::Announced(p)) = hs.handle(&r).1 else {
            panic!("announce refused")
        };
        assert_eq!((p.audio_channels, p.audio_high_quality), (6, false));
    }

    #[test]
    fn unusable_ping_payload_is_an_internal_error() {
        let mut hs = Handshake::new(HandshakeConfig {
            video_ping_payload: [0; 16],
            ..config()
        });
        assert_eq!(
            hs.handle(&req("SETUP", "streamid=video/0/0", 4, b""))
                .0
                .status,
            500
        );
        assert_eq!(
            hs.handle(&req("SETUP", "streamid=audio/0/0", 3, b""))
                .0
                .status,
            200
        );
    }

    #[test]
    fn ping_payload_is_upper_case_hex() {
        assert_eq!(
            &ping_payload_from_random([0x3f, 0x1a, 0x9c, 0x0d, 0x22, 0xb4, 0x7e, 0x51]),
            b"3F1A9C0D22B47E51"
        );
    }

    proptest! {
        #[test]
        fn any_request_sequence_is_answered_and_events_come_in_order(
            steps in proptest::collection::vec((0usize..7, 0usize..6), 0..30)
        ) {
            let sdp = client_sdp(&moonlight_attributes());
            let methods = ["OPTIONS", "DESCRIBE", "SETUP", "ANNOUNCE", "PLAY", "GET", ""];
            let targets = ["streamid=audio/0/0", "streamid=video/0/0", "streamid=control/13/0", "/", "streamid=", "="];
            let mut hs = Handshake::new(config());
            let (mut announced, mut played) = (0, 0);
            for (i, (m, t)) in steps.into_iter().enumerate() {
                let (resp, event) = hs.handle(&req(methods[m], targets[t], i as u32, &sdp));
                prop_assert_eq!(resp.cseq, i as u32);
                prop_assert!(resp.encode().starts_with(b"RTSP/1.0 "));
                match event {
                    Some(HandshakeEvent::Announced(_)) => announced += 1,
                    Some(HandshakeEvent::Play) => {
                        prop_assert_eq!(announced, 1);
                        played += 1;
                    }
                    None => {}
                }
            }
            prop_assert!(announced <= 1 && played <= 1);
        }
    }
}
