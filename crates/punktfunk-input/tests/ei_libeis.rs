//! The libei backend against libeis, the EIS server library GNOME and KDE serve emulated input
//! with: a small server built on it (tests/eis/eis_server.py) plays the compositor, hands out
//! mutter's split of devices and a German keymap, and logs every event it receives.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use punktfunk_input::ei::{EiInput, OutputTarget};
use punktfunk_input::event::{Button, Event, Modifiers, TouchPhase};
use serde_json::Value;

const KEY_A: u64 = 30;
const KEY_B: u64 = 48;
const KEY_Y: u64 = 21;
const KEY_APOSTROPHE: u64 = 40;
const KEY_LEFTSHIFT: u64 = 42;
const BTN_LEFT: u64 = 0x110;

struct Server {
    child: Child,
    dir: PathBuf,
}

impl Server {
    /// A libeis server with a 1920×1080 screen and, right of it, the client's 1280×720 output.
    fn start(name: &str, layout: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("punktfunk-eis-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/eis/eis_server.py");
        let child = Command::new("python3")
            .arg(script)
            .arg("--socket")
            .arg(dir.join("eis-0"))
            .arg("--log")
            .arg(dir.join("events.jsonl"))
            .args(["--region", "1920x1080@0,0", "--region", "1280x720@1920,0"])
            .args(["--layout", layout])
            .spawn()
            .expect("python3 runs");
        let server = Self { child, dir };
        server.wait_for(|events| events.iter().any(|e| e["type"] == "listening"));
        server
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("eis-0")
    }

    fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.join("events.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }

    fn wait_for(&self, mut done: impl FnMut(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let events = self.events();
            if done(&events) {
                return events;
            }
            assert!(
                Instant::now() < deadline,
                "the EIS server never saw it; it logged {events:#?} (is libeis1 installed? \
                 scripts/install-deps.sh installs it)"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn connect(server: &Server) -> EiInput {
    let target = OutputTarget {
        name: "HEADLESS-2".into(),
        width: 1280,
        height: 720,
    };
    EiInput::connect(Some(&server.socket()), Some(target)).expect("connects to libeis")
}

fn key(vk: u16, pressed: bool) -> Event {
    Event::Key {
        vk,
        pressed,
        modifiers: Modifiers::default(),
    }
}

/// The key events the server received, as (code, pressed).
fn keys(events: &[Value]) -> Vec<(u64, bool)> {
    events
        .iter()
        .filter(|e| e["type"] == "key")
        .map(|e| (e["key"].as_u64().unwrap(), e["press"].as_bool().unwrap()))
        .collect()
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

#[test]
fn every_kind_of_input_reaches_libeis_on_the_clients_region() {
    let server = Server::start("kinds", "de");
    let mut input = connect(&server);
    assert!(
        input.describe().contains("the server's keymap"),
        "{}",
        input.describe()
    );
    let events = [
        Event::MoveTo {
            x: 640,
            y: 360,
            width: 1280,
            height: 720,
        },
        Event::MoveBy { dx: 5, dy: -3 },
        Event::Button {
            button: Button::Left,
            pressed: true,
        },
        Event::Button {
            button: Button::Left,
            pressed: false,
        },
        Event::Scroll { amount: 120 },
        Event::ScrollHorizontal { amount: -240 },
        key(0x41, true),
        key(0x41, false),
        Event::Text("zÄ".into()),
        Event::Touch {
            id: 7,
            phase: TouchPhase::Down,
            x: 0.25,
            y: 0.5,
        },
        Event::Touch {
            id: 7,
            phase: TouchPhase::Up,
            x: 0.25,
            y: 0.5,
        },
    ];
    for e in &events {
        input.inject(e).unwrap_or_else(|err| panic!("{e:?}: {err}"));
    }
    let log = server.wait_for(|ev| !of_type(ev, "touch_up").is_empty());

    let absolute = of_type(&log, "absolute");
    assert_eq!(absolute.len(), 1, "{log:#?}");
    // (640, 360) of the client's 1280×720 picture is the middle of its region at x 1920.
    assert_eq!(
        (absolute[0]["x"].as_f64(), absolute[0]["y"].as_f64()),
        (Some(2560.0), Some(360.0))
    );
    let motion = of_type(&log, "motion");
    assert_eq!(
        (motion[0]["dx"].as_f64(), motion[0]["dy"].as_f64()),
        (Some(5.0), Some(-3.0))
    );
    let buttons: Vec<(u64, bool)> = of_type(&log, "button")
        .iter()
        .map(|e| (e["button"].as_u64().unwrap(), e["press"].as_bool().unwrap()))
        .collect();
    assert_eq!(buttons, vec![(BTN_LEFT, true), (BTN_LEFT, false)]);
    let scrolls: Vec<(i64, i64)> = of_type(&log, "scroll_discrete")
        .iter()
        .map(|e| (e["dx"].as_i64().unwrap(), e["dy"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        scrolls,
        vec![(0, -120), (-240, 0)],
        "EIS scrolls down-positive"
    );
    // 'A' by virtual key, then "zÄ" typed through the German keymap: z sits on KEY_Y, Ä is
    // shift + KEY_APOSTROPHE.
    assert_eq!(
        keys(&log),
        vec![
            (KEY_A, true),
            (KEY_A, false),
            (KEY_Y, true),
            (KEY_Y, false),
            (KEY_LEFTSHIFT, true),
            (KEY_APOSTROPHE, true),
            (KEY_APOSTROPHE, false),
            (KEY_LEFTSHIFT, false),
        ]
    );
    let down = of_type(&log, "touch_down");
    assert_eq!(
        (
            down[0]["id"].as_u64(),
            down[0]["x"].as_f64(),
            down[0]["y"].as_f64()
        ),
        (Some(7), Some(1920.0 + 320.0), Some(360.0))
    );
    assert!(
        of_type(&log, "start").len() >= 4,
        "each device used starts emulating"
    );
    assert!(!of_type(&log, "frame").is_empty(), "events come in frames");
}

#[test]
fn dropping_the_backend_lets_go_of_what_is_held() {
    let server = Server::start("drop", "us");
    let mut input = connect(&server);
    input.inject(&key(0x42, true)).unwrap();
    input
        .inject(&Event::Button {
            button: Button::Left,
            pressed: true,
        })
        .unwrap();
    server.wait_for(|ev| keys(ev) == vec![(KEY_B, true)]);
    drop(input);
    let log = server.wait_for(|ev| keys(ev).len() == 2);
    assert_eq!(keys(&log), vec![(KEY_B, true), (KEY_B, false)]);
    let released = of_type(&log, "button")
        .iter()
        .any(|e| e["button"] == BTN_LEFT && e["press"] == false);
    assert!(released, "the held button was let go of: {log:#?}");
}

#[test]
fn a_missing_server_is_a_clear_error() {
    let err = EiInput::connect(Some(Path::new("/nonexistent/eis-0")), None)
        .err()
        .expect("no server there");
    assert!(err.to_string().contains("/nonexistent/eis-0"), "{err}");
}
