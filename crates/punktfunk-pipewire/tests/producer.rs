//! VideoStream against a plain PipeWire producer: GStreamer's test source
//! through `pipewiresink`, on a private PipeWire + WirePlumber.

use std::process::Command;
use std::time::Duration;

use punktfunk_pipewire::testing::Desktop;
use punktfunk_pipewire::{PipeWireError, PixelFormat, StreamConfig, VideoStream};

const WAIT: Duration = Duration::from_secs(10);

/// Starts `videotestsrc pattern=<pattern>` as node `name` in `format`.
fn start_producer(desktop: &mut Desktop, name: &str, pattern: &str, format: &str) -> u32 {
    let caps = format!("video/x-raw,format={format},width=320,height=240,framerate=30/1");
    let props = format!("stream-properties=props,node.name={name}");
    desktop
        .spawn(
            name,
            Command::new("gst-launch-1.0").args([
                "-q",
                "videotestsrc",
                &format!("pattern={pattern}"),
                "is-live=true",
                "!",
                &caps,
                "!",
                "pipewiresink",
                "mode=provide",
                &props,
            ]),
        )
        .unwrap();
    desktop
        .wait_until(&format!("node {name}"), |d| {
            d.find_node(name).ok().flatten().is_some()
        })
        .unwrap();
    desktop.find_node(name).unwrap().unwrap()
}

fn consume(desktop: &Desktop, node_id: u32) -> VideoStream {
    VideoStream::start(StreamConfig {
        node_id,
        fd: Some(desktop.connect_pipewire().unwrap()),
        width: 640,
        height: 480,
        refresh_millihz: 30_000,
        fixed_size: false,
    })
    .unwrap()
}

#[test]
fn frames_of_a_test_source_arrive_in_its_colour() {
    let mut desktop = Desktop::start_pipewire().unwrap();
    let red = start_producer(&mut desktop, "punktfunk-test-red", "red", "BGRx");
    let blue = start_producer(&mut desktop, "punktfunk-test-blue", "blue", "RGBA");
    let red_stream = consume(&desktop, red);
    let blue_stream = consume(&desktop, blue);

    let mut seen = 0;
    for _ in 0..5 {
        let frame = red_stream
            .next_frame(seen, WAIT)
            .unwrap()
            .unwrap_or_else(|| panic!("no frame after #{seen}\n{}", desktop.logs()));
        assert!(frame.sequence > seen);
        seen = frame.sequence;
        assert_eq!((frame.width, frame.height, frame.stride), (320, 240, 1280));
        assert_eq!(frame.format, PixelFormat::Xrgb8888);
        assert_eq!(frame.data.len(), 1280 * 240);
        for (x, y) in [(0, 0), (160, 120), (319, 239)] {
            assert_eq!(frame.pixel_rgb(x, y), Some([255, 0, 0]), "at {x},{y}");
        }
    }
    assert_eq!(
        red_stream.negotiated(),
        Some((320, 240, PixelFormat::Xrgb8888))
    );

    // RGBA lands as Abgr8888 (R, G, B, A in memory), still reading as blue.
    let frame = blue_stream
        .next_frame(0, WAIT)
        .unwrap()
        .expect("a blue frame");
    assert_eq!(frame.format, PixelFormat::Abgr8888);
    assert_eq!(frame.pixel_rgb(160, 120), Some([0, 0, 255]));
    assert_eq!(frame.data[..4], [0, 0, 255, 255]);

    // Dropping stops the loop thread promptly.
    let started = std::time::Instant::now();
    drop(red_stream);
    drop(blue_stream);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_vanished_producer_ends_the_stream_with_a_clear_error() {
    let mut desktop = Desktop::start_pipewire().unwrap();
    let node = start_producer(&mut desktop, "punktfunk-test-gone", "green", "BGRx");
    let stream = consume(&desktop, node);
    let first = stream.next_frame(0, WAIT).unwrap().expect("a first frame");

    desktop.kill("punktfunk-test-gone").unwrap();
    // Frames still in flight may arrive; then the end is reported.
    let mut after = first.sequence;
    let err = loop {
        match stream.next_frame(after, WAIT) {
            Ok(Some(frame)) => after = frame.sequence,
            Ok(None) => panic!("the stream did not notice its producer vanished"),
            Err(err) => break err,
        }
    };
    let err = err.downcast::<PipeWireError>().unwrap();
    assert_eq!(err, PipeWireError::NodeGone(node), "{err}");
    assert!(err.to_string().contains("went away"));
}

#[test]
fn a_node_that_does_not_exist_is_refused() {
    let desktop = Desktop::start_pipewire().unwrap();
    let err = VideoStream::start(StreamConfig {
        node_id: 4242,
        fd: Some(desktop.connect_pipewire().unwrap()),
        width: 320,
        height: 240,
        refresh_millihz: 30_000,
        fixed_size: false,
    })
    .err()
    .expect("no such node");
    assert_eq!(
        err.downcast_ref::<PipeWireError>(),
        Some(&PipeWireError::NodeNotFound(4242)),
        "{err}"
    );
}
