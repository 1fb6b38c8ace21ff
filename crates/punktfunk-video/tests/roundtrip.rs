//! Each codec through the real FFmpeg encoders and decoders: every picture decodes to the stamp
//! it was drawn with, the stream opens with a keyframe, and a requested keyframe is one.

use punktfunk_core::control::{Codec, Mode};
use punktfunk_core::testpicture::Stamp;
use punktfunk_video::decoder::VideoDecoder;
use punktfunk_video::encoder::VideoEncoder;
use punktfunk_video::picture::{read_stamp, TestPicture};

/// Encodes 30 pictures (a keyframe requested at 20), decodes what comes out. `max_delay`: how
/// many pictures the encoder may hold back (SVT-AV1 pipelines a couple).
fn round_trip(codec: Codec, max_delay: usize) {
    let mode = Mode::new(640, 360, 60);
    let mut picture = TestPicture::new(mode.width, mode.height).unwrap();
    let mut encoder = VideoEncoder::new(codec, mode, 4_000).unwrap();
    let mut decoder = VideoDecoder::new(codec).unwrap();
    let mut units = Vec::new();
    for i in 0..30u32 {
        let stamp = Stamp {
            frame: i,
            capture_us: 1_000 + u64::from(i) * 16_667,
        };
        let out = encoder.encode(picture.draw(stamp), i == 20).unwrap();
        assert!(
            out.len() <= 1 || max_delay > 0,
            "{codec:?}: one unit per picture"
        );
        if max_delay == 0 {
            assert_eq!(out.len(), 1, "{codec:?}: picture {i} comes out at once");
        }
        units.extend(out);
    }
    assert!(
        units.len() + max_delay >= 30,
        "{codec:?}: {} units",
        units.len()
    );
    assert!(
        units[0].keyframe,
        "{codec:?}: the stream opens with a keyframe"
    );
    let keyframes: Vec<usize> = (1..units.len()).filter(|&i| units[i].keyframe).collect();
    assert!(
        keyframes
            .iter()
            .all(|&k| (20..=20 + max_delay).contains(&k))
            && keyframes.len() == 1,
        "{codec:?}: exactly the requested keyframe, got {keyframes:?}"
    );
    let mut decoded = Vec::new();
    for unit in &units {
        decoder
            .decode(&unit.data, |p| decoded.push(read_stamp(p).map(|s| s.frame)))
            .unwrap();
    }
    let expected: Vec<_> = (0..decoded.len() as u32).map(Some).collect();
    assert_eq!(
        decoded, expected,
        "{codec:?}: every picture reads back, in order"
    );
    assert!(
        decoded.len() + max_delay >= 30,
        "{codec:?}: {} units, {} pictures decoded",
        units.len(),
        decoded.len()
    );
}

#[test]
fn h264_round_trips() {
    round_trip(Codec::H264, 0);
}

#[test]
fn hevc_round_trips() {
    round_trip(Codec::Hevc, 0);
}

#[test]
fn av1_round_trips() {
    round_trip(Codec::Av1, 3);
}

/// Average access-unit size over `n` pictures starting at picture `from`.
fn average_size(encoder: &mut VideoEncoder, picture: &mut TestPicture, from: u32, n: u32) -> usize {
    let mut total = 0;
    for i in from..from + n {
        let stamp = Stamp {
            frame: i,
            capture_us: 0,
        };
        total += encoder
            .encode(picture.draw(stamp), false)
            .unwrap()
            .iter()
            .map(|u| u.data.len())
            .sum::<usize>();
    }
    total / n as usize
}

#[test]
fn a_rate_change_takes_effect_live_for_h264_and_by_keyframe_for_hevc() {
    let mode = Mode::new(640, 360, 60);
    let mut picture = TestPicture::new(mode.width, mode.height).unwrap();
    let mut h264 = VideoEncoder::new(Codec::H264, mode, 8_000).unwrap();
    let high = average_size(&mut h264, &mut picture, 0, 40);
    h264.set_bitrate_kbps(300);
    let _settle = average_size(&mut h264, &mut picture, 40, 20);
    let low = average_size(&mut h264, &mut picture, 60, 20);
    // The picture is simple (content-bound near 2 KB a frame at the high rate), so expect a
    // clear drop rather than the full 26×.
    assert!(
        low * 3 < high * 2,
        "x264 took the new rate: {high} → {low} bytes a frame"
    );

    let mut hevc = VideoEncoder::new(Codec::Hevc, mode, 4_000).unwrap();
    average_size(&mut hevc, &mut picture, 0, 5);
    hevc.set_bitrate_kbps(1_000);
    let units = hevc
        .encode(
            picture.draw(Stamp {
                frame: 5,
                capture_us: 0,
            }),
            false,
        )
        .unwrap();
    assert!(
        units[0].keyframe,
        "the reopened x265 starts with a keyframe"
    );
}

/// NAL unit types of an Annex-B access unit, in order.
fn nal_types(unit: &[u8], hevc: bool) -> Vec<u8> {
    let mut types = Vec::new();
    let mut i = 0;
    while i + 3 < unit.len() {
        if unit[i..i + 3] == [0, 0, 1] {
            let header = unit[i + 3];
            types.push(if hevc {
                (header >> 1) & 0x3F
            } else {
                header & 0x1F
            });
            i += 3;
        } else {
            i += 1;
        }
    }
    types
}

/// Moonlight finds a keyframe by its parameter sets at the start of the frame's first packet
/// and skips only what fits there: keyframes must carry the parameter sets, then the picture,
/// with no long SEI in between (x265's "info" SEI was 2.3 KB).
#[test]
fn keyframes_open_with_parameter_sets_and_no_sei_before_the_picture() {
    for (codec, hevc) in [(Codec::H264, false), (Codec::Hevc, true)] {
        let mode = Mode::new(640, 360, 60);
        let mut picture = TestPicture::new(mode.width, mode.height).unwrap();
        let mut encoder = VideoEncoder::new(codec, mode, 4_000).unwrap();
        let mut keyframes = Vec::new();
        for i in 0..12u32 {
            let stamp = Stamp {
                frame: i,
                capture_us: u64::from(i) * 16_667,
            };
            for unit in encoder.encode(picture.draw(stamp), i == 8).unwrap() {
                if unit.keyframe {
                    keyframes.push(unit.data);
                }
            }
        }
        assert!(
            keyframes.len() >= 2,
            "{codec:?}: first and requested keyframe"
        );
        for unit in &keyframes {
            let types = nal_types(unit, hevc);
            let (parameter_sets, sei): (&[u8], &[u8]) = if hevc {
                (&[32, 33, 34], &[39, 40])
            } else {
                (&[7, 8], &[6])
            };
            assert_eq!(
                &types[..parameter_sets.len()],
                parameter_sets,
                "{codec:?}: {types:?}"
            );
            // H.264's first keyframe may carry x264's short version SEI; HEVC's must not.
            let long_sei = types.iter().any(|t| sei.contains(t)) && (hevc || unit != &keyframes[0]);
            assert!(!long_sei, "{codec:?}: SEI in a keyframe: {types:?}");
        }
    }
}
