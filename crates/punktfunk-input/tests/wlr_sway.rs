//! The wlroots backend against a real headless sway: keys typed into a foot terminal land in a
//! file, held keys are let go when the backend is dropped, absolute motion lands on the named
//! output.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use punktfunk_capture::testing::HeadlessSway;
use punktfunk_input::event::{Button, Event, Modifiers};
use punktfunk_input::wlr::WlrInput;

/// One sway at a time: the machine has few cores.
static SWAY: Mutex<()> = Mutex::new(());

const VK_RETURN: u16 = 0x0D;
const VK_SHIFT: u16 = 0x10;
const VK_SPACE: u16 = 0x20;
const TIMEOUT: Duration = Duration::from_secs(10);

/// Takes the lock and starts sway, or says loudly why the test is skipped.
fn sway() -> Option<(MutexGuard<'static, ()>, HeadlessSway)> {
    let tools = ["sway", "swaymsg", "foot"];
    if let Some(missing) = tools.iter().find(|t| !on_path(t)) {
        if std::env::var_os("PUNKTFUNK_REQUIRE_TOOLS").is_some_and(|v| v == "1") {
            panic!("`{missing}` is not installed and PUNKTFUNK_REQUIRE_TOOLS=1");
        }
        eprintln!("SKIPPED: `{missing}` is not installed, so this test cannot run");
        return None;
    }
    let guard = SWAY.lock().unwrap_or_else(PoisonError::into_inner);
    Some((
        guard,
        HeadlessSway::start().expect("starting headless sway"),
    ))
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Opens a foot window with `app_id` on `output` running `cat > FILE`, waits until it is
/// focused, and returns FILE.
fn open_cat(sway: &HeadlessSway, output: &str, app_id: &str) -> PathBuf {
    let file = sway.runtime_dir().join(format!("{app_id}.txt"));
    sway.exec_on(
        output,
        &format!("foot --app-id {app_id} sh -c 'cat > {}'", file.display()),
    )
    .unwrap();
    wait_until(&format!("{app_id} focused"), || {
        focused_app(sway).as_deref() == Some(app_id)
    });
    // The shell creates FILE as it starts cat; keys typed before then may be lost.
    wait_until(&format!("{app_id}'s cat running"), || file.exists());
    file
}

/// The app_id of the focused window, if any.
fn focused_app(sway: &HeadlessSway) -> Option<String> {
    let tree: serde_json::Value =
        serde_json::from_str(&sway.swaymsg(&["-r", "-t", "get_tree"]).ok()?).ok()?;
    find_focused(&tree)
}

fn find_focused(node: &serde_json::Value) -> Option<String> {
    if node["focused"].as_bool() == Some(true) {
        return node["app_id"].as_str().map(str::to_owned);
    }
    ["nodes", "floating_nodes"]
        .iter()
        .filter_map(|key| node[*key].as_array())
        .flatten()
        .find_map(find_focused)
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_for_contents(file: &Path, expected: &str) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let got = std::fs::read_to_string(file).unwrap_or_default();
        if got == expected {
            return;
        }
        if Instant::now() > deadline || got.len() > expected.len() {
            panic!("{} holds {got:?}, expected {expected:?}", file.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Connects a backend to sway's `output` and gives clients time to bind the keyboard: sway's
/// seat has no keyboard until this one, and clients only ask for a wl_keyboard once they see
/// the seat gain one (keys sent before that reach nobody).
fn connect(sway: &HeadlessSway, output: &str) -> WlrInput {
    let input = WlrInput::connect(Some(sway.wayland_socket()), Some(output)).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    input
}

fn key(vk: u16, pressed: bool) -> Event {
    Event::Key {
        vk,
        pressed,
        modifiers: Modifiers::default(),
    }
}

fn tap(input: &mut WlrInput, vk: u16) {
    input.inject(&key(vk, true)).unwrap();
    input.inject(&key(vk, false)).unwrap();
}

/// Types `text` (letters and spaces) with key events, holding shift for capitals.
fn type_keys(input: &mut WlrInput, text: &str) {
    for c in text.chars() {
        match c {
            ' ' => tap(input, VK_SPACE),
            c if c.is_ascii_uppercase() => {
                input.inject(&key(VK_SHIFT, true)).unwrap();
                tap(input, c as u16);
                input.inject(&key(VK_SHIFT, false)).unwrap();
            }
            c => tap(input, c.to_ascii_uppercase() as u16),
        }
    }
}

#[test]
fn keys_and_text_reach_the_focused_terminal() {
    let Some((_lock, sway)) = sway() else { return };
    let out = sway.create_output(1280, 720, 60, 1920, 0).unwrap();
    let file = open_cat(&sway, &out, "typing");

    let mut input = connect(&sway, &out);
    type_keys(&mut input, "Hello World");
    tap(&mut input, VK_RETURN);
    wait_for_contents(&file, "Hello World\n");

    input
        .inject(&Event::Text("It's 42 {ok}!\n".into()))
        .unwrap();
    wait_for_contents(&file, "Hello World\nIt's 42 {ok}!\n");

    // Beyond the US layout: the keymap grows spare keys, more than it has at once (12), and
    // the US keys still type what they did in between.
    let unicode = "Grüße, €5 ✓ — ½ αβγδεζηθικλμ ok\n";
    input.inject(&Event::Text(unicode.into())).unwrap();
    wait_for_contents(&file, &format!("Hello World\nIt's 42 {{ok}}!\n{unicode}"));
    assert!(
        input.inject(&Event::Text("\u{7}".into())).is_err(),
        "a bell is not typed"
    );
}

#[test]
fn dropping_the_backend_lets_go_of_held_keys() {
    let Some((_lock, sway)) = sway() else { return };
    let out = sway.create_output(1280, 720, 60, 1920, 0).unwrap();
    let file = open_cat(&sway, &out, "held");

    // A second keyboard keeps the seat's keyboard capability, so foot keeps its wl_keyboard
    // (and would keep repeating a key nobody let go of).
    let _keeper = connect(&sway, &out);
    let mut input = connect(&sway, &out);
    input.inject(&key(b'X'.into(), true)).unwrap();
    input.inject(&key(VK_SHIFT, true)).unwrap();
    drop(input);
    // Well past sway's default repeat delay (600 ms): a stuck key would repeat by now.
    std::thread::sleep(Duration::from_millis(1500));

    let mut input = connect(&sway, &out);
    type_keys(&mut input, "y");
    tap(&mut input, VK_RETURN);
    // One lower-case x (shift was let go too), then the y.
    wait_for_contents(&file, "xy\n");
}

#[test]
fn absolute_motion_and_clicks_land_on_the_named_output() {
    let Some((_lock, sway)) = sway() else { return };
    let out = sway.create_output(1280, 720, 60, 1920, 0).unwrap();
    // Two windows side by side on the new output, one on the first.
    open_cat(&sway, "HEADLESS-1", "elsewhere");
    open_cat(&sway, &out, "left");
    open_cat(&sway, &out, "right");

    // Coordinates are in a 640×360 picture that the output scales to 1280×720.
    let mut input = connect(&sway, &out);
    let click_at = |input: &mut WlrInput, x, y| {
        let to = Event::MoveTo {
            x,
            y,
            width: 640,
            height: 360,
        };
        input.inject(&to).unwrap();
        for pressed in [true, false] {
            input
                .inject(&Event::Button {
                    button: Button::Left,
                    pressed,
                })
                .unwrap();
        }
    };
    click_at(&mut input, 160, 180);
    wait_until("left focused by a click", || {
        focused_app(&sway).as_deref() == Some("left")
    });
    click_at(&mut input, 480, 180);
    wait_until("right focused by a click", || {
        focused_app(&sway).as_deref() == Some("right")
    });
    // Relative motion (in output pixels) from the right window's middle onto the left one.
    input.inject(&Event::MoveBy { dx: -600, dy: 0 }).unwrap();
    for pressed in [true, false] {
        input
            .inject(&Event::Button {
                button: Button::Left,
                pressed,
            })
            .unwrap();
    }
    wait_until("left focused after relative motion", || {
        focused_app(&sway).as_deref() == Some("left")
    });
    // Scrolling is accepted (its effect on cat is not observable).
    input.inject(&Event::Scroll { amount: 120 }).unwrap();
    input.inject(&Event::Scroll { amount: -60 }).unwrap();
    input
        .inject(&Event::ScrollHorizontal { amount: 240 })
        .unwrap();
    // A button still held when the backend goes is let go: a new one can click elsewhere.
    input
        .inject(&Event::Button {
            button: Button::Right,
            pressed: true,
        })
        .unwrap();
    drop(input);
    let mut input = connect(&sway, &out);
    click_at(&mut input, 480, 180);
    wait_until("right focused by a new backend", || {
        focused_app(&sway).as_deref() == Some("right")
    });
}

#[test]
fn release_all_lets_go_of_held_keys_and_modifiers() {
    let Some((_lock, sway)) = sway() else { return };
    let out = sway.create_output(1280, 720, 60, 1920, 0).unwrap();
    let file = open_cat(&sway, &out, "release");

    let mut input = connect(&sway, &out);
    input.inject(&key(b'X'.into(), true)).unwrap();
    input.inject(&key(VK_SHIFT, true)).unwrap();
    input.release_all().unwrap();
    // Well past the repeat delay: a key still held would be repeating by now.
    std::thread::sleep(Duration::from_millis(1500));
    type_keys(&mut input, "y");
    tap(&mut input, VK_RETURN);
    wait_for_contents(&file, "xy\n");
}
