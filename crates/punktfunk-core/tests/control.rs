//! Control messages: round trips, forward compatibility (unknown types and tags skipped), and
//! hostile bytes (never a panic, every size bounded).

use proptest::prelude::*;
use punktfunk_core::control::codec::BodyWriter;
use punktfunk_core::control::{
    Codec, ControlError, Feedback, FrameReader, Hello, Message, Mode, Welcome,
};
use punktfunk_core::wire::control::{body_bound, msg, tag};

fn mode() -> impl Strategy<Value = Mode> {
    (1u32..=16_384, 1u32..=16_384, 1000u32..=1_000_000).prop_map(|(w, h, r)| Mode {
        width: w,
        height: h,
        refresh_millihz: r,
    })
}

fn codec() -> impl Strategy<Value = Codec> {
    prop_oneof![Just(Codec::H264), Just(Codec::Hevc), Just(Codec::Av1)]
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (
            proptest::option::of(any::<[u8; 16]>()),
            mode(),
            0u64..8,
            proptest::option::of(codec()),
            any::<u32>(),
            prop_oneof![Just(2u8), Just(6), Just(8)],
            "[a-zA-Z0-9 äöü-]{0,20}",
            any::<u64>().prop_map(|f| f >> 2),
            proptest::option::of(any::<u16>()),
            0u8..=2,
        )
            .prop_map(
                |(
                    resume_id,
                    mode,
                    codec_mask,
                    preferred_codec,
                    bitrate_kbps,
                    audio_channels,
                    device_name,
                    features,
                    max_shard_bytes,
                    mic_channels,
                )| {
                    Message::Hello(Hello {
                        resume_id,
                        mode,
                        codec_mask,
                        preferred_codec,
                        bitrate_kbps,
                        audio_channels,
                        device_name,
                        features,
                        max_shard_bytes,
                        mic_channels,
                    })
                }
            ),
        (
            any::<[u8; 16]>(),
            mode(),
            codec(),
            0u8..=100,
            any::<u16>(),
            any::<u32>(),
            0u64..(1 << 62),
            any::<u8>(),
            prop_oneof![Just(0u8), Just(2), Just(6), Just(8)],
            any::<bool>(),
        )
            .prop_map(
                |(
                    session_id,
                    mode,
                    codec,
                    fec_percent,
                    shard_bytes,
                    bitrate_kbps,
                    clock,
                    epoch,
                    audio_channels,
                    mic,
                )| {
                    Message::Welcome(Welcome {
                        session_id,
                        mode,
                        codec,
                        fec_percent,
                        shard_bytes,
                        bitrate_kbps,
                        clock_origin_unix_ns: clock,
                        features: 5,
                        epoch,
                        audio_channels,
                        mic,
                    })
                }
            ),
        Just(Message::Ready),
        (
            0u8..16,
            0u8..3,
            any::<u32>(),
            any::<(u8, u8)>(),
            any::<[i16; 4]>()
        )
            .prop_map(|(index, kind, buttons, (lt, rt), s)| {
                Message::Pad(punktfunk_core::control::PadReport {
                    index,
                    kind,
                    buttons,
                    left_trigger: lt,
                    right_trigger: rt,
                    left_stick: (s[0], s[1]),
                    right_stick: (s[2], s[3]),
                })
            }),
        (0u8..16).prop_map(|index| Message::PadRemoved { index }),
        (0u8..16, any::<u16>(), any::<u16>()).prop_map(|(index, low, high)| Message::Rumble {
            index,
            low,
            high
        }),
        Just(Message::KeyframeRequest),
        mode().prop_map(|mode| Message::Reconfigure { mode }),
        (mode(), any::<u8>(), any::<bool>()).prop_map(|(mode, epoch, accepted)| {
            Message::Reconfigured {
                mode,
                epoch,
                accepted,
            }
        }),
        any::<u32>().prop_map(|kbps| Message::SetBitrate { kbps }),
        any::<u32>().prop_map(|kbps| Message::BitrateChanged { kbps }),
        (0u64..(1 << 62)).prop_map(|t1_ns| Message::ClockProbe { t1_ns }),
        (0u64..(1 << 62), 0u64..(1 << 62), 0u64..(1 << 62)).prop_map(|(t1_ns, t2_ns, t3_ns)| {
            Message::ClockEcho {
                t1_ns,
                t2_ns,
                t3_ns,
            }
        }),
        (any::<u32>(), any::<u32>()).prop_map(|(first, last)| Message::RfiRequest { first, last }),
        (
            0u64..(1 << 62),
            any::<u32>(),
            0u64..(1 << 62),
            0u64..(1 << 62)
        )
            .prop_map(|(window, loss_ppm, packets_received, frames_lost)| {
                Message::Feedback(Feedback {
                    window,
                    loss_ppm,
                    packets_received,
                    frames_lost,
                })
            }),
        (
            "[a-z0-9 -]{0,64}",
            prop::collection::vec(any::<u8>(), 1..=64)
        )
            .prop_map(|(device_name, spake)| Message::PairRequest { device_name, spake }),
        (
            prop::collection::vec(any::<u8>(), 1..=64),
            any::<[u8; 32]>()
        )
            .prop_map(|(spake, confirm)| Message::PairChallenge { spake, confirm }),
        any::<[u8; 32]>().prop_map(|confirm| Message::PairProof { confirm }),
        any::<bool>().prop_map(|ok| Message::PairResult { ok }),
    ]
}

fn read_one(frame: &[u8]) -> Result<Message, ControlError> {
    let mut r = FrameReader::new();
    r.push(frame);
    let (kind, body) = r.next_frame()?.expect("a whole frame");
    assert_eq!(r.buffered(), 0);
    Message::decode(kind, &body)
}

proptest! {
    #[test]
    fn every_message_round_trips(m in message()) {
        let frame = m.encode();
        prop_assert_eq!(read_one(&frame).unwrap(), m);
    }

    #[test]
    fn a_stream_cut_anywhere_yields_the_same_messages(ms in proptest::collection::vec(message(), 1..8), cuts in proptest::collection::vec(1usize..50, 1..40)) {
        let stream: Vec<u8> = ms.iter().flat_map(Message::encode).collect();
        let mut r = FrameReader::new();
        let mut out = Vec::new();
        let mut at = 0;
        for cut in cuts.iter().cycle() {
            if at >= stream.len() { break; }
            let end = (at + cut).min(stream.len());
            r.push(&stream[at..end]);
            at = end;
            while let Some((k, b)) = r.next_frame().unwrap() {
                out.push(Message::decode(k, &b).unwrap());
            }
        }
        prop_assert_eq!(out, ms);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600), kind in 0u64..0x50) {
        let _ = Message::decode(kind, &bytes);
        let mut r = FrameReader::new();
        r.push(&bytes);
        while let Ok(Some((k, b))) = r.next_frame() {
            prop_assert!(b.len() <= body_bound(k));
            let _ = Message::decode(k, &b);
        }
    }
}

#[test]
fn unknown_fields_and_types_are_skipped() {
    let mut w = BodyWriter::new();
    w.uint(tag::small::KBPS, 12_000)
        .bytes(77, b"from a newer peer")
        .uint(1_000_000, 5);
    assert_eq!(
        read_one(&w.frame(msg::SET_BITRATE)).unwrap(),
        Message::SetBitrate { kbps: 12_000 }
    );
    assert_eq!(
        read_one(&w.frame(0x7777)).unwrap(),
        Message::Unknown { kind: 0x7777 }
    );
}

#[test]
fn repeated_missing_and_bad_fields_are_refused_by_name() {
    let mut w = BodyWriter::new();
    w.uint(tag::small::KBPS, 1).uint(tag::small::KBPS, 2);
    assert_eq!(
        read_one(&w.frame(msg::SET_BITRATE)),
        Err(ControlError::RepeatedTag(tag::small::KBPS))
    );
    assert!(matches!(
        read_one(&BodyWriter::new().frame(msg::SET_BITRATE)),
        Err(ControlError::MissingField { .. })
    ));
    let mut w = BodyWriter::new();
    w.uints(tag::small::MODE, &[0, 1080, 60_000]);
    assert_eq!(
        read_one(&w.frame(msg::RECONFIGURE)),
        Err(ControlError::BadValue("mode"))
    );
    let mut w = BodyWriter::new();
    w.uints(tag::hello::MODE, &[1920, 1080, 60_000])
        .uint(tag::hello::CODEC_MASK, 1)
        .bytes(tag::hello::DEVICE_NAME, &[0xFF; 10]);
    assert_eq!(
        read_one(&w.frame(msg::HELLO)),
        Err(ControlError::BadValue("device_name"))
    );
    let mut w = BodyWriter::new();
    w.uint(tag::small::KBPS, u64::from(u32::MAX) + 1);
    assert_eq!(
        read_one(&w.frame(msg::SET_BITRATE)),
        Err(ControlError::BadValue("kbps"))
    );
}

#[test]
fn an_oversized_frame_is_refused_from_its_header_alone() {
    // Type HELLO claiming 1 MiB: refused before a single body byte arrives.
    let mut header = Vec::new();
    punktfunk_core::control::varint::put(&mut header, msg::HELLO);
    punktfunk_core::control::varint::put(&mut header, 1 << 20);
    let mut r = FrameReader::new();
    r.push(&header);
    assert!(matches!(
        r.next_frame(),
        Err(ControlError::TooLarge {
            kind: msg::HELLO,
            len: 1_048_576,
            ..
        })
    ));
}

#[test]
fn modes_parse_from_text_and_refuse_nonsense() {
    assert_eq!(
        "1920x1080@60".parse::<Mode>().unwrap(),
        Mode::new(1920, 1080, 60)
    );
    let m: Mode = "2560x1600@59.94".parse().unwrap();
    assert_eq!(m.refresh_millihz, 59_940);
    assert_eq!(m.to_string(), "2560x1600@59.94");
    for bad in [
        "1920x1080",
        "0x1080@60",
        "1920x1080@0",
        "axb@60",
        "99999x1@60",
        "1x1@1001",
    ] {
        let e = bad.parse::<Mode>().unwrap_err();
        assert!(e.to_string().contains("WIDTHxHEIGHT@HZ"), "{bad}: {e}");
    }
    assert_eq!("HEVC".parse::<Codec>().unwrap(), Codec::Hevc);
    assert!("vp9"
        .parse::<Codec>()
        .unwrap_err()
        .contains("h264, hevc or av1"));
}

#[test]
fn a_pad_index_beyond_the_limit_is_refused() {
    let mut frame = Message::PadRemoved { index: 15 }.encode();
    // Body: tag 1, length 1, value 15 → 16.
    *frame.last_mut().unwrap() = 16;
    let mut reader = punktfunk_core::control::FrameReader::new();
    reader.push(&frame);
    let (kind, body) = reader.next_frame().unwrap().unwrap();
    assert!(Message::decode(kind, &body).is_err());
    *frame.last_mut().unwrap() = 15;
    let mut reader = punktfunk_core::control::FrameReader::new();
    reader.push(&frame);
    let (kind, body) = reader.next_frame().unwrap().unwrap();
    assert_eq!(
        Message::decode(kind, &body).unwrap(),
        Message::PadRemoved { index: 15 }
    );
}
