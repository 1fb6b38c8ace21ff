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
