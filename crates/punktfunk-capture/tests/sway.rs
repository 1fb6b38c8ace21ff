//! Capture against a real headless sway that each test starts itself.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use punktfunk_capture::testing::HeadlessSway;
use punktfunk_capture::{CaptureConfig, CaptureError, CapturedFrame, OutputCapture, PixelFormat};

/// One sway at a time: the machine has two cores.
static SWAY: Mutex<()> = Mutex::new(());

const MAGENTA: [u8; 3] = [0xff, 0x00, 0xff];
const MAGENTA_FOOT: &str = "foot -o colors.background=ff00ff -o colors.alpha=1.0 sleep 600";

/// Takes the lock and starts sway, or says loudly why the test is skipped.
fn sway() -> Option<(MutexGuard<'static, ()>, HeadlessSway)> {
    if !HeadlessSway::is_installed() {
        eprintln!("SKIPPED: `sway` is not installed, so this test cannot run");
        return None;
    }
    let guard = SWAY.lock().unwrap_or_else(PoisonError::into_inner);
    Some((
        guard,
        HeadlessSway::start().expect("starting headless sway"),
    ))
}

fn config(sway: &HeadlessSway, output: &str, with_damage: bool) -> CaptureConfig {
    CaptureConfig {
        wayland_display: sway.wayland_socket().to_owned(),
        output_name: output.to_owned(),
        with_damage,
        overlay_cursor: false,
    }
}

fn near(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 8)
}

/// Whether every pixel of a 21×21 square at the centre is close to `color`.
fn centre_is(frame: &CapturedFrame, color: [u8; 3]) -> bool {
    let (cx, cy) = (frame.width / 2, frame.height / 2);
    (cx - 10..=cx + 10)
        .flat_map(|x| (cy - 10..=cy + 10).map(move |y| (x, y)))
        .all(|(x, y)| frame.pixel_rgb(x, y).is_some_and(|px| near(px, color)))
}

fn centre_has(frame: &CapturedFrame, color: [u8; 3]) -> bool {
    let (cx, cy) = (frame.width / 2, frame.height / 2);
    (cx - 10..=cx + 10)
        .flat_map(|x| (cy - 10..=cy + 10).map(move |y| (x, y)))
        .any(|(x, y)| frame.pixel_rgb(x, y).is_some_and(|px| near(px, color)))
}

/// Waits for a frame newer than `after`, failing the test after `timeout`.
fn frame_after(capture: &OutputCapture, after: u64, timeout: Duration) -> Arc<CapturedFrame> {
    capture
        .next_frame(after, timeout)
        .expect("capture failed")
        .unwrap_or_else(|| panic!("no frame after #{after} within {timeout:?}"))
}

#[test]
fn captures_the_named_output_only() {
    let Some((_lock, sway)) = sway() else { return };
    let out = sway.create_output(1280, 720, 60, 1920, 0).unwrap();
    assert_eq!(out, "HEADLESS-2");

    let capture = OutputCapture::start(config(&sway, &out, false)).unwrap();
    let first = frame_after(&capture, 0, Duration::from_secs(5));
    assert_eq!((first.width, first.height), (1280, 720));
    assert!(first.stride >= 1280 * 4, "stride {}", first.stride);
    assert!(first.stride < 1280 * 4 + 256, "stride {}", first.stride);
    assert_eq!(first.data.len(), first.stride as usize * 720);
    assert!(matches!(
        first.format,
        PixelFormat::Xrgb8888
            | PixelFormat::Argb8888
            | PixelFormat::Xbgr8888
            | PixelFormat::Abgr8888
    ));
    assert!(!centre_has(&first, MAGENTA), "magenta before foot ran");

    sway.exec_on(&out, MAGENTA_FOOT).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut last = first.sequence;
    loop {
        let frame = frame_after(&capture, last, Duration::from_secs(5));
        last = frame.sequence;
        if centre_is(&frame, MAGENTA) {
            assert_eq!((frame.width, frame.height), (1280, 720));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "centre never turned magenta; it is {:?}",
            frame.pixel_rgb(640, 360)
        );
    }
    let stats = capture.stats();
    assert!(stats.frames_captured >= 2, "{stats:?}");
    assert!(stats.avg_copy_time_us > 0, "{stats:?}");

    // The other output, at the same moment, shows none of it.
    let other = OutputCapture::start(config(&sway, "HEADLESS-1", false)).unwrap();
    let frame = frame_after(&other, 0, Duration::from_secs(5));
    assert!(
        !centre_has(&frame, MAGENTA),
        "magenta leaked onto HEADLESS-1"
    );
    // …while HEADLESS-2 still shows it.
    let frame = frame_after(&capture, last, Duration::from_secs(5));
    assert!(centre_is(&frame, MAGENTA));
}

#[test]
fn with_damage_waits_for_changes() {
    let Some((_lock, sway)) = sway() else { return };
    let out = sway.create_output(1280, 720, 60, 1920, 0).unwrap();
    // Let the new output settle (mode set, first paints) before measuring idleness.
    std::thread::sleep(Duration::from_millis(500));

    let capture = OutputCapture::start(config(&sway, &out, true)).unwrap();
    let first = frame_after(&capture, 0, Duration::from_secs(5));
    assert_eq!(first.sequence, 1);
    assert!(
        capture
            .next_frame(first.sequence, Duration::from_millis(1500))
            .unwrap()
            .is_none(),
        "a frame came from an idle output"
    );
    assert_eq!(capture.stats().frames_captured, 1);

    sway.exec_on(&out, MAGENTA_FOOT).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut last = first.sequence;
    loop {
        let frame = frame_after(&capture, last, Duration::from_secs(10));
        last = frame.sequence;
        if centre_is(&frame, MAGENTA) {
            break;
        }
        assert!(Instant::now() < deadline, "never saw foot's magenta");
    }
    // Once foot has drawn, the output is idle again.
    std::thread::sleep(Duration::from_millis(500));
    let settled = capture.stats().frames_captured;
    assert!(
        capture
            .next_frame(settled, Duration::from_millis(1000))
            .unwrap()
            .is_none(),
        "frames kept coming after foot settled"
    );
}

#[test]
fn unknown_output_lists_existing_names() {
    let Some((_lock, sway)) = sway() else { return };
    sway.create_output(800, 600, 60, 1920, 0).unwrap();
    let err = OutputCapture::start(config(&sway, "DP-7", false))
        .err()
        .expect("started on a nonexistent output");
    let msg = err.to_string();
    assert!(msg.contains("DP-7"), "{msg}");
    assert!(msg.contains("HEADLESS-1"), "{msg}");
    assert!(msg.contains("HEADLESS-2"), "{msg}");
    match err.downcast_ref::<CaptureError>() {
        Some(CaptureError::OutputNotFound { available, .. }) => {
            assert_eq!(available, &["HEADLESS-1", "HEADLESS-2"])
        }
        other => panic!("wrong error: {other:?}"),
    }
}

#[test]
fn drop_returns_quickly() {
    let Some((_lock, sway)) = sway() else { return };
    for with_damage in [false, true] {
        let capture = OutputCapture::start(config(&sway, "HEADLESS-1", with_damage)).unwrap();
        frame_after(&capture, 0, Duration::from_secs(5));
        // With damage, the thread is now parked waiting for a change that won't come.
        std::thread::sleep(Duration::from_millis(300));
        let start = Instant::now();
        drop(capture);
        let took = start.elapsed();
        assert!(took < Duration::from_secs(1), "drop took {took:?}");
        eprintln!("drop (with_damage={with_damage}) took {took:?}");
    }
}

/// Sway 1.7 can't remove a headless output (`output X disable` fails to
/// commit, and there is no `unplug`), so the end-of-capture path is driven by
/// the compositor exiting instead.
#[test]
fn compositor_exit_ends_capture() {
    let Some((_lock, sway)) = sway() else { return };
    let capture = OutputCapture::start(config(&sway, "HEADLESS-1", true)).unwrap();
    let first = frame_after(&capture, 0, Duration::from_secs(5));
    drop(sway);

    let err = capture
        .next_frame(first.sequence, Duration::from_secs(5))
        .expect_err("capture went on after sway exited");
    assert!(
        matches!(
            err.downcast_ref::<CaptureError>(),
            Some(CaptureError::Connection(_))
        ),
        "{err}"
    );
    eprintln!("after sway exited: {err}");
    // It stays ended.
    assert!(capture.next_frame(u64::MAX, Duration::ZERO).is_err());
}

#[test]
fn missing_socket_is_a_clear_error() {
    let path = std::env::temp_dir().join("punktfunk-no-such-wayland-socket");
    let err = OutputCapture::start(CaptureConfig {
        wayland_display: path.clone(),
        output_name: "HEADLESS-1".into(),
        with_damage: false,
        overlay_cursor: false,
    })
    .err()
    .expect("connected to nothing");
    let msg = format!("{err:#}");
    assert!(msg.contains("Wayland socket"), "{msg}");
    assert!(msg.contains(&*path.to_string_lossy()), "{msg}");
}
