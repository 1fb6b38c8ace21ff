//! Control messages: round trips, forward compatibility (unknown types and tags skipped), and
//! hostile bytes (never a panic, every size bounded).

use proptest::prelude::*;
use punktfunk_core::control::codec::BodyWriter;
use punktfunk_core::control::{
    Codec, ControlError, Feedback, FrameReader, Hello, Message, Mode, PadMotion, PadTouch, Welcome,
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
        "\\PC{0,50}".prop_map(Message::Text),
        (0u8..16, any::<u16>(), any::<u16>()).prop_map(|(index, low, high)| Message::Rumble {
            index,
            low,
            high
        }),
        (
            0u8..16,
            any::<u32>(),
            any::<bool>(),
            any::<u16>(),
            any::<u16>()
        )
            .prop_map(|(index, pointer, down, x, y)| Message::PadTouch(PadTouch {
                index,
                pointer,
                down,
                x,
                y
            })),
        (
            0u8..16,
            proptest::option::of(any::<[i32; 3]>()),
            proptest::option::of(any::<[i32; 3]>())
        )
            .prop_map(|(index, gyro, accel)| Message::PadMotion(PadMotion {
                index,
                gyro,
                accel
            })),
        (
            0u8..16,
            proptest::option::of(any::<[u8; 3]>()),
            proptest::option::of(any::<u8>())
        )
            .prop_map(|(index, rgb, player_leds)| Message::PadLights {
                index,
                rgb,
                player_leds
            }),
        (
            0u8..16,
            proptest::option::of(any::<[u8; 11]>()),
            proptest::option::of(any::<[u8; 11]>())
        )
            .prop_map(|(index, left, right)| Message::PadTriggers { index, left, right }),
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
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600), kind in 0u64..0x60) {
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

/// The pad messages byte for byte: what a client in another language must produce.
#[test]
fn pad_extras_vectors() {
    let touch = Message::PadTouch(PadTouch {
        index: 2,
        pointer: 300,
        down: true,
        x: 65535,
        y: 0,
    });
    // Type 0x54 (a two-byte QUIC varint above 63: 0x40 0x54), length 19; tags 1..5: index 2,
    // pointer 300 (0x41 0x2C), down 1, x 65535 (0x80 0x00 0xFF 0xFF), y 0.
    assert_eq!(
        touch.encode(),
        [
            0x40, 0x54, 19, 1, 1, 2, 2, 2, 0x41, 0x2C, 3, 1, 1, 4, 4, 0x80, 0x00, 0xFF, 0xFF, 5, 1,
            0
        ]
    );
    let motion = Message::PadMotion(PadMotion {
        index: 0,
        gyro: Some([1, -1, 0]),
        accel: None,
    });
    // Zigzag: 1 → 2, −1 → 1.
    assert_eq!(motion.encode(), [0x40, 0x55, 8, 1, 1, 0, 2, 3, 2, 1, 0]);
    let lights = Message::PadLights {
        index: 1,
        rgb: Some([0xFF, 0x80, 0x00]),
        player_leds: Some(0x04),
    };
    assert_eq!(
        lights.encode(),
        [0x40, 0x56, 11, 1, 1, 1, 2, 3, 0xFF, 0x80, 0x00, 3, 1, 0x04]
    );
    let block = [0x21, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    let triggers = Message::PadTriggers {
        index: 15,
        left: None,
        right: Some(block),
    };
    let mut expected = vec![0x40, 0x57, 16, 1, 1, 15, 3, 11];
    expected.extend_from_slice(&block);
    assert_eq!(triggers.encode(), expected);
    // The fuzz seed is these four frames behind the target's chunk-size byte.
    let seed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/seeds/control_stream/pad_extras"
    );
    let seed = std::fs::read(seed).expect("fuzz seed present");
    let frames: Vec<u8> = [&touch, &motion, &lights, &triggers]
        .iter()
        .flat_map(|m| m.encode())
        .collect();
    assert_eq!(
        seed[1..],
        frames[..],
        "fuzz/seeds/control_stream/pad_extras is stale"
    );
    for m in [touch, motion, lights, triggers] {
        assert_eq!(read_one(&m.encode()).unwrap(), m);
    }
}

#[test]
fn malformed_pad_extras_are_refused_by_name() {
    use punktfunk_core::wire::control::tag::{pad_lights, pad_motion, pad_touch, pad_triggers};
    let decode = |kind, w: &BodyWriter| read_one(&w.frame(kind));
    // Touch: the down flag is required and 0 or 1; positions fit 16 bits; index below 16.
    let mut w = BodyWriter::new();
    w.uint(pad_touch::INDEX, 0);
    assert!(matches!(
        decode(msg::PAD_TOUCH, &w),
        Err(ControlError::MissingField { .. })
    ));
    w.uint(pad_touch::DOWN, 2);
    assert_eq!(
        decode(msg::PAD_TOUCH, &w),
        Err(ControlError::BadValue("down"))
    );
    let mut w = BodyWriter::new();
    w.uint(pad_touch::INDEX, 0)
        .uint(pad_touch::DOWN, 1)
        .uint(pad_touch::X, 65536);
    assert_eq!(decode(msg::PAD_TOUCH, &w), Err(ControlError::BadValue("x")));
    let mut w = BodyWriter::new();
    w.uint(pad_touch::INDEX, 16).uint(pad_touch::DOWN, 0);
    assert_eq!(
        decode(msg::PAD_TOUCH, &w),
        Err(ControlError::BadValue("pad index"))
    );
    // Motion: exactly three values per sensor, each a zigzag i32.
    let mut w = BodyWriter::new();
    w.uint(pad_motion::INDEX, 0)
        .uints(pad_motion::GYRO, &[1, 2]);
    assert_eq!(
        decode(msg::PAD_MOTION, &w),
        Err(ControlError::BadValue("gyro"))
    );
    let mut w = BodyWriter::new();
    w.uint(pad_motion::INDEX, 0)
        .uints(pad_motion::ACCEL, &[1, 2, 3, 4]);
    assert_eq!(
        decode(msg::PAD_MOTION, &w),
        Err(ControlError::BadValue("accel"))
    );
    let mut w = BodyWriter::new();
    w.uint(pad_motion::INDEX, 0)
        .uints(pad_motion::GYRO, &[1, 1 << 32, 0]);
    assert_eq!(
        decode(msg::PAD_MOTION, &w),
        Err(ControlError::BadValue("gyro"))
    );
    // Lights and triggers: fixed-size byte fields.
    let mut w = BodyWriter::new();
    w.uint(pad_lights::INDEX, 0).bytes(pad_lights::RGB, &[1, 2]);
    assert_eq!(
        decode(msg::PAD_LIGHTS, &w),
        Err(ControlError::BadValue("rgb"))
    );
    let mut w = BodyWriter::new();
    w.uint(pad_lights::INDEX, 0)
        .uint(pad_lights::PLAYER_LEDS, 256);
    assert_eq!(
        decode(msg::PAD_LIGHTS, &w),
        Err(ControlError::BadValue("player_leds"))
    );
    let mut w = BodyWriter::new();
    w.uint(pad_triggers::INDEX, 0)
        .bytes(pad_triggers::LEFT, &[0; 12]);
    assert_eq!(
        decode(msg::PAD_TRIGGERS, &w),
        Err(ControlError::BadValue("trigger effect"))
    );
    // Every new type is bounded like the other small messages, from its header alone.
    for kind in [
        msg::PAD_TOUCH,
        msg::PAD_MOTION,
        msg::PAD_LIGHTS,
        msg::PAD_TRIGGERS,
    ] {
        assert_eq!(body_bound(kind), 256);
        let mut header = Vec::new();
        punktfunk_core::control::varint::put(&mut header, kind);
        punktfunk_core::control::varint::put(&mut header, 257);
        let mut r = FrameReader::new();
        r.push(&header);
        assert!(matches!(r.next_frame(), Err(ControlError::TooLarge { .. })));
    }
}

/// Text input: one message per 200 bytes, cut between characters; the bound holds on decode.
#[test]
fn text_input_is_split_between_characters_and_bounded() {
    use punktfunk_core::control::text_messages;
    use punktfunk_core::wire::control::{msg, MAX_TEXT_BYTES};
    // "é" is 2 bytes: 101 of them are 202 bytes, so the cut falls after the 100th.
    let text = "é".repeat(101);
    let parts = text_messages(&text);
    assert_eq!(parts.len(), 2);
    let Message::Text(first) = &parts[0] else {
        panic!("{parts:?}")
    };
    assert_eq!(first.len(), MAX_TEXT_BYTES);
    let joined: String = parts
        .iter()
        .map(|m| match m {
            Message::Text(t) => t.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(joined, text);
    assert!(text_messages("").is_empty());
    // Type 0x58 (0x40 0x58), length 4, tag 1, 2 bytes of "é".
    assert_eq!(
        Message::Text("é".into()).encode(),
        [0x40, 0x58, 4, 1, 2, 0xC3, 0xA9]
    );
    // Too long, or not UTF-8: a clear error, no panic.
    let long = [&[1u8, 0x40, 0xC9][..], &[b'a'; 201][..]].concat();
    assert!(Message::decode(msg::TEXT_INPUT, &long).is_err());
    assert!(Message::decode(msg::TEXT_INPUT, &[1, 2, 0xC3, 0x28]).is_err());
}
