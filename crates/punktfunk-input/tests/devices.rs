//! Real devices: an Xbox pad and the keyboard/mouse through /dev/uinput and Sony pads through
//! /dev/uhid, checked from the consumer side (the evdev node a game or compositor opens, the
//! hidraw node, sysfs).
//!
//! Where a node is missing or closed to this user each test prints `SKIPPED: ...` and
//! passes; with `PUNKTFUNK_REQUIRE_DEVICES=1` that is a failure instead.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::mem::{size_of, zeroed};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use punktfunk_input::device::uhid::{mac_string, SonyFeedback, SonyKind, SonyPad};
use punktfunk_input::device::uinput::{InjectError, UinputKeyboardMouse, XboxPad};
use punktfunk_input::device::DeviceError;
use punktfunk_input::event::{Button, Event, Modifiers};
use punktfunk_input::gamepad::{buttons, Battery, Charge, PadState};
use punktfunk_input::kbm::{KbmError, Target};

const EV_FF: u16 = 0x15;
const FF_RUMBLE: u16 = 0x50;
const BTN_A: usize = 0x130;
const ABS_X: u32 = 0x00;
const ABS_Y: u32 = 0x01;
const KEY_A: usize = 30;
const BTN_LEFT: usize = 0x110;
const EV_REL: u16 = 0x02;
const REL_WHEEL: u16 = 0x08;
const REL_WHEEL_HI_RES: u16 = 0x0b;

/// `_IOC` in the generic encoding (x86, Arm, RISC-V).
const fn ioc(dir: u32, kind: u8, nr: u32, size: usize) -> u32 {
    (dir << 30) | ((kind as u32) << 8) | nr | ((size as u32) << 16)
}
const EVIOCSFF: u32 = ioc(1, b'E', 0x80, size_of::<libc::ff_effect>());
const fn eviocgkey(len: usize) -> u32 {
    ioc(2, b'E', 0x18, len)
}
const fn eviocgabs(abs: u32) -> u32 {
    ioc(2, b'E', 0x40 + abs, size_of::<libc::input_absinfo>())
}

/// The pad, or `None` (after printing why) when the node is missing or closed to this user.
fn created<T>(node: &str, result: Result<T, DeviceError>) -> Option<T> {
    let required = std::env::var("PUNKTFUNK_REQUIRE_DEVICES").as_deref() == Ok("1");
    match result {
        Ok(pad) => Some(pad),
        Err(e @ (DeviceError::Missing { .. } | DeviceError::NotPermitted { .. })) => {
            assert!(!required, "PUNKTFUNK_REQUIRE_DEVICES=1 but {e}");
            // From the open's own answer: a node can exist with no driver behind it.
            let why = match e {
                DeviceError::NotPermitted { .. } => "is not permitted",
                _ => "is missing",
            };
            println!("SKIPPED: {node} {why} ({e})");
            None
        }
        Err(e) => panic!("creating the device failed: {e}"),
    }
}

/// Waits up to `limit` for `probe` to give a value, calling `tick` between tries.
fn wait_for<T>(
    limit: Duration,
    mut tick: impl FnMut(),
    mut probe: impl FnMut() -> Option<T>,
) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = probe() {
            return Some(v);
        }
        if start.elapsed() > limit {
            return None;
        }
        tick();
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Opens the character device `/sys/class/<class>/<name>` describes: `/dev/...` when udev or
/// devtmpfs made it, else a node made here from its major:minor (containers without udev).
fn open_char_device(class: &str, name: &str) -> File {
    let dev_path = if class == "input" {
        PathBuf::from("/dev/input").join(name)
    } else {
        PathBuf::from("/dev").join(name)
    };
    let path = if dev_path.exists() {
        dev_path
    } else {
        let numbers = std::fs::read_to_string(format!("/sys/class/{class}/{name}/dev")).unwrap();
        let (major, minor) = numbers.trim().split_once(':').unwrap();
        let path = std::env::temp_dir().join(format!("punktfunk-{name}-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        let dev = libc::makedev(major.parse().unwrap(), minor.parse().unwrap());
        // SAFETY: a valid C path and a device number read from sysfs.
        let rc = unsafe { libc::mknod(c_path.as_ptr(), libc::S_IFCHR | 0o600, dev) };
        assert_eq!(rc, 0, "mknod {path:?}: {}", std::io::Error::last_os_error());
        path
    };
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("open {path:?}: {e}"))
}

fn write_ff_event(node: &mut File, effect_id: i16, value: i32) {
    // SAFETY: plain old data.
    let mut event: libc::input_event = unsafe { zeroed() };
    event.type_ = EV_FF;
    event.code = effect_id as u16;
    event.value = value;
    // SAFETY: input_event is plain old data.
    let bytes = unsafe {
        std::slice::from_raw_parts(
            (&event as *const libc::input_event).cast::<u8>(),
            size_of::<libc::input_event>(),
        )
    };
    node.write_all(bytes).unwrap();
}

/// A game's `EVIOCSFF` of a rumble effect; returns the effect id the kernel assigned.
fn upload_rumble(fd: i32, strong: u16, weak: u16) -> Result<i16, std::io::Error> {
    // SAFETY: plain old data.
    let mut effect: libc::ff_effect = unsafe { zeroed() };
    effect.type_ = FF_RUMBLE;
    effect.id = -1;
    effect.replay.length = 1000;
    let rumble = libc::ff_rumble_effect {
        strong_magnitude: strong,
        weak_magnitude: weak,
    };
    // SAFETY: writing the union's first member; the request's size is ff_effect's.
    unsafe { std::ptr::write_unaligned(effect.u.as_mut_ptr().cast(), rumble) };
    let rc = unsafe { libc::ioctl(fd, EVIOCSFF as _, &mut effect) };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(effect.id)
}

#[test]
fn xbox_pad_sends_state_and_returns_rumble() {
    let Some(mut pad) = created("/dev/uinput", XboxPad::new()) else {
        return;
    };
    let sysname = pad.sysname().expect("UI_GET_SYSNAME").to_owned();
    let event_path = wait_for(Duration::from_secs(3), || {}, || pad.event_node())
        .expect("no eventN under the device");
    let event_name = event_path.file_name().unwrap().to_str().unwrap().to_owned();
    let name = std::fs::read_to_string(format!("/sys/class/input/{sysname}/name")).unwrap();
    assert_eq!(name.trim(), "Microsoft X-Box 360 pad");
    let mut node = open_char_device("input", &event_name);

    let state = PadState {
        buttons: buttons::A,
        left_stick: (12345, 0),
        ..PadState::default()
    };
    pad.update(&state).unwrap();
    // What a game reading the node sees: A held, the stick where we put it.
    assert!(key_down(&node, BTN_A), "BTN_A is not held");
    let abs = abs_info(&node, ABS_X);
    assert_eq!(abs.value, 12345);
    assert_eq!((abs.minimum, abs.maximum), (-32768, 32767));

    // The upload blocks until the pad answers it, so it runs on its own thread.
    let fd = node.as_raw_fd();
    let upload = std::thread::spawn(move || upload_rumble(fd, 0x8000, 0x4000));
    while !upload.is_finished() {
        assert_eq!(pad.poll_feedback(), None, "nothing plays during the upload");
        std::thread::sleep(Duration::from_millis(5));
    }
    let effect_id = upload.join().unwrap().expect("EVIOCSFF");

    write_ff_event(&mut node, effect_id, 1);
    let played = wait_for(Duration::from_secs(2), || {}, || pad.poll_feedback());
    assert_eq!(played, Some((0x8000, 0x4000)));
    write_ff_event(&mut node, effect_id, 0);
    let stopped = wait_for(Duration::from_secs(2), || {}, || pad.poll_feedback());
    assert_eq!(stopped, Some((0, 0)));
    println!("uinput: {sysname} ({event_name}) played and stopped effect {effect_id}");
}

/// The HID device directory for `product` whose input device carries `uniq`.
fn hid_device_with_uniq(product: &str, uniq: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir("/sys/bus/hid/devices").ok()?.flatten() {
        let name = entry.file_name().into_string().ok()?;
        if !name.to_uppercase().contains(product) {
            continue;
        }
        let Ok(inputs) = std::fs::read_dir(entry.path().join("input")) else {
            continue;
        };
        for input in inputs.flatten() {
            if std::fs::read_to_string(input.path().join("uniq")).is_ok_and(|u| u.trim() == uniq) {
                return Some(entry.path());
            }
        }
    }
    None
}

fn drain(pad: &mut SonyPad) {
    while pad.poll().is_some() {}
}

fn sony_pad_round_trip(kind: SonyKind, mac: [u8; 6]) {
    let Some(mut pad) = created("/dev/uhid", SonyPad::new(kind, mac)) else {
        return;
    };
    let product = format!("054C:{:04X}", kind.identity().product);
    let uniq = mac_string(mac);
    // The driver probes (asking for the feature reports poll answers), then makes inputs.
    let hid = wait_for(
        Duration::from_secs(5),
        || drain(&mut pad),
        || hid_device_with_uniq(&product, &uniq),
    )
    .unwrap_or_else(|| {
        let driver = Path::new("/sys/bus/hid/drivers/playstation").exists();
        panic!("no input device for {product} uniq {uniq} (hid-playstation loaded: {driver})")
    });
    let driver = std::fs::read_link(hid.join("driver")).unwrap();
    assert!(driver.ends_with("playstation"), "bound to {driver:?}");
    let state = PadState {
        buttons: buttons::A,
        ..PadState::default()
    };
    pad.update(&state, None, None, None).unwrap();

    // The battery the client reports is the one the driver shows (tenths, mid-point: 45 %).
    let battery = Battery {
        charge: Charge::Discharging,
        percent: 42,
    };
    pad.update(&state, None, None, Some(&battery)).unwrap();
    let supply = Path::new("/sys/class/power_supply").join(format!("ps-controller-battery-{uniq}"));
    let capacity = wait_for(
        Duration::from_secs(2),
        || drain(&mut pad),
        || {
            let c = std::fs::read_to_string(supply.join("capacity")).ok()?;
            (c.trim() == "45").then_some(())
        },
    );
    assert!(capacity.is_some(), "{} never read 45 %", supply.display());

    // A game writes rumble through hidraw; it must come back through poll.
    let hidraw = wait_for(
        Duration::from_secs(2),
        || drain(&mut pad),
        || std::fs::read_dir(hid.join("hidraw")).ok()?.flatten().next(),
    )
    .expect("no hidraw node");
    let mut raw = open_char_device("hidraw", hidraw.file_name().to_str().unwrap());
    let report: Vec<u8> = match kind {
        SonyKind::DualSense => {
            let mut r = vec![0u8; 63];
            r[0] = 0x02;
            r[1] = 0x01; // compatible vibration
            r[3] = 0x40; // right, weak motor
            r[4] = 0x80; // left, strong motor
            r
        }
        SonyKind::DualShock4 => {
            let mut r = vec![0u8; 32];
            r[0] = 0x05;
            r[1] = 0x01; // motors valid
            r[4] = 0x40; // right, weak motor
            r[5] = 0x80; // left, strong motor
            r
        }
    };
    raw.write_all(&report).unwrap();
    let wanted = Some((0x80, 0x40));
    let rumble = wait_for(
        Duration::from_secs(2),
        || {},
        || loop {
            // Skips the driver's own lightbar / LED reports.
            match pad.poll()? {
                SonyFeedback::DualSense(f) if f.rumble == wanted => return Some(f.rumble),
                SonyFeedback::DualShock4(f) if f.rumble == wanted => return Some(f.rumble),
                _ => continue,
            }
        },
    );
    assert_eq!(rumble, Some(wanted));
    println!(
        "uhid: {kind:?} at {} bound to hid-playstation, rumble came back",
        hid.display()
    );
}

#[test]
fn dualsense_binds_and_returns_rumble() {
    sony_pad_round_trip(SonyKind::DualSense, [0x02, 0x50, 0x46, 0x00, 0x00, 0x05]);
}

#[test]
fn dualshock4_binds_and_returns_rumble() {
    sony_pad_round_trip(SonyKind::DualShock4, [0x02, 0x50, 0x46, 0x00, 0x00, 0x04]);
}

/// Whether `code` is down on the evdev node, by `EVIOCGKEY`.
fn key_down(node: &File, code: usize) -> bool {
    let mut keys = [0u8; 96];
    // SAFETY: the request's size is the buffer's.
    let rc = unsafe {
        libc::ioctl(
            node.as_raw_fd(),
            eviocgkey(keys.len()) as _,
            keys.as_mut_ptr(),
        )
    };
    assert!(rc >= 0, "EVIOCGKEY: {}", std::io::Error::last_os_error());
    keys[code / 8] & (1 << (code % 8)) != 0
}

/// An absolute axis of the evdev node, by `EVIOCGABS`.
fn abs_info(node: &File, axis: u32) -> libc::input_absinfo {
    // SAFETY: plain old data; the request's size is its size.
    let mut abs: libc::input_absinfo = unsafe { zeroed() };
    let rc = unsafe { libc::ioctl(node.as_raw_fd(), eviocgabs(axis) as _, &mut abs) };
    assert!(rc >= 0, "EVIOCGABS: {}", std::io::Error::last_os_error());
    abs
}

/// The (type, code, value) of every event queued on the node, without waiting.
fn queued_events(node: &mut File) -> Vec<(u16, u16, i32)> {
    use std::io::Read;
    // SAFETY: fcntl on our own open fd.
    unsafe {
        let flags = libc::fcntl(node.as_raw_fd(), libc::F_GETFL);
        libc::fcntl(node.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
    let mut events = Vec::new();
    let mut buf = [0u8; size_of::<libc::input_event>()];
    while node.read_exact(&mut buf).is_ok() {
        // SAFETY: input_event is plain old data and buf holds exactly one.
        let e: libc::input_event = unsafe { std::ptr::read_unaligned(buf.as_ptr().cast()) };
        events.push((e.type_, e.code, e.value));
    }
    events
}

fn sysfs(sysname: &str, attribute: &str) -> String {
    let path = format!("/sys/class/input/{sysname}/{attribute}");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .trim()
        .to_owned()
}

#[test]
fn uinput_keyboard_mouse_appears_and_injects() {
    let Some(mut kbm) = created("/dev/uinput", UinputKeyboardMouse::new(1280, 720)) else {
        return;
    };
    let expected = [
        (Target::KeyboardMouse, "punktfunk keyboard/mouse", "0001"),
        (
            Target::AbsolutePointer,
            "punktfunk absolute pointer",
            "0002",
        ),
    ];
    let mut nodes = Vec::new();
    for (target, name, product) in expected {
        let sysname = kbm.sysname(target).expect("UI_GET_SYSNAME").to_owned();
        assert_eq!(sysfs(&sysname, "name"), name);
        assert_eq!(sysfs(&sysname, "id/bustype"), "0006", "BUS_VIRTUAL");
        assert_eq!(sysfs(&sysname, "id/vendor"), "5046");
        assert_eq!(sysfs(&sysname, "id/product"), product);
        // No input property: an absolute mouse, not a touchscreen (DIRECT) or touchpad.
        assert_eq!(sysfs(&sysname, "properties"), "0");
        let path = wait_for(Duration::from_secs(3), || {}, || kbm.event_node(target))
            .unwrap_or_else(|| panic!("no eventN under {sysname}"));
        let event_name = path.file_name().unwrap().to_str().unwrap().to_owned();
        println!("uinput: {name:?} is {sysname} ({event_name})");
        nodes.push((sysname, open_char_device("input", &event_name)));
    }
    let [(kbm_sys, mut kbm_node), (abs_sys, abs_node)] = <[_; 2]>::try_from(nodes).ok().unwrap();
    // REL_X, REL_Y, REL_HWHEEL, REL_WHEEL and both hi-res wheels; ABS_X and ABS_Y.
    assert_eq!(sysfs(&kbm_sys, "capabilities/rel"), "1943");
    assert_eq!(sysfs(&abs_sys, "capabilities/abs"), "3");
    let x = abs_info(&abs_node, ABS_X);
    let y = abs_info(&abs_node, ABS_Y);
    assert_eq!((x.minimum, x.maximum, y.maximum), (0, 1279, 719));

    let key_a = |pressed| Event::Key {
        vk: 0x41,
        pressed,
        modifiers: Modifiers::default(),
    };
    kbm.inject(&key_a(true)).unwrap();
    assert!(key_down(&kbm_node, KEY_A), "KEY_A is not held");
    kbm.inject(&Event::MoveTo {
        x: 640,
        y: 360,
        width: 1280,
        height: 720,
    })
    .unwrap();
    assert_eq!(abs_info(&abs_node, ABS_X).value, 640);
    assert_eq!(abs_info(&abs_node, ABS_Y).value, 360);
    kbm.inject(&Event::Button {
        button: Button::Left,
        pressed: true,
    })
    .unwrap();
    assert!(
        key_down(&abs_node, BTN_LEFT),
        "the click follows the absolute pointer"
    );

    queued_events(&mut kbm_node);
    for _ in 0..4 {
        kbm.inject(&Event::Scroll { amount: 30 }).unwrap();
    }
    let rel: Vec<_> = queued_events(&mut kbm_node)
        .into_iter()
        .filter(|e| e.0 == EV_REL)
        .collect();
    assert_eq!(
        rel,
        vec![
            (EV_REL, REL_WHEEL_HI_RES, 30),
            (EV_REL, REL_WHEEL_HI_RES, 30),
            (EV_REL, REL_WHEEL_HI_RES, 30),
            (EV_REL, REL_WHEEL_HI_RES, 30),
            (EV_REL, REL_WHEEL, 1),
        ]
    );

    match kbm.inject(&Event::Text("\u{e9}".into())) {
        Err(InjectError::Event(KbmError::NonAsciiText('\u{e9}'))) => {}
        other => panic!("non-ASCII text: {other:?}"),
    }
    kbm.release_all().unwrap();
    assert!(!key_down(&kbm_node, KEY_A), "KEY_A still held");
    assert!(!key_down(&abs_node, BTN_LEFT), "BTN_LEFT still held");
    drop(kbm);
    let gone = wait_for(
        Duration::from_secs(3),
        || {},
        || (!Path::new(&format!("/sys/class/input/{kbm_sys}")).exists()).then_some(()),
    );
    assert!(gone.is_some(), "{kbm_sys} outlived its owner");
}
