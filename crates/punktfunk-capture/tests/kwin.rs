//! KWin virtual outputs against a real headless KWin that each test starts.
//!
//! KWin 5.27 (Debian 12) cannot make a virtual output on any backend that
//! runs without a GPU; these tests then check what can be checked and say
//! loudly what they skipped.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use punktfunk_capture::kwin::{KwinVirtualOutput, VirtualOutputError};
use punktfunk_capture::testing::{HeadlessKwin, KwinBackend, KwinOptions};

/// One KWin at a time: it renders in software on a small machine.
static KWIN: Mutex<()> = Mutex::new(());

const NAME: &str = "punktfunk-test";

/// Takes the lock and starts KWin, or says loudly why the test is skipped.
fn kwin(options: &KwinOptions) -> Option<(MutexGuard<'static, ()>, HeadlessKwin)> {
    if let Some(reason) = HeadlessKwin::unavailable_reason(options.backend) {
        eprintln!(
            "SKIPPED: headless KWin ({:?}) cannot run here: {reason}",
            options.backend
        );
        return None;
    }
    let guard = KWIN.lock().unwrap_or_else(PoisonError::into_inner);
    let kwin = HeadlessKwin::start_with(options).expect("starting headless KWin");
    Some((guard, kwin))
}

fn create(kwin: &HeadlessKwin) -> Result<KwinVirtualOutput, VirtualOutputError> {
    KwinVirtualOutput::create(kwin.wayland_socket(), NAME, 1280, 720).map_err(|e| {
        e.downcast::<VirtualOutputError>()
            .unwrap_or_else(|e| panic!("not a VirtualOutputError: {e:#}"))
    })
}

/// Polls `f` until it returns `Some`, or gives up after `timeout`.
fn within<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn find_node(kwin: &HeadlessKwin, id: u32) -> Option<serde_json::Value> {
    let nodes = kwin.pipewire_nodes().expect("pw-dump");
    nodes.into_iter().find(|n| n["id"] == id)
}

/// Everything a working virtual output must do, from creation to drop.
fn check_lifecycle(kwin: &HeadlessKwin, backend: KwinBackend) {
    let before = kwin.outputs().unwrap();
    assert_eq!(before.len(), 1, "{before:?}");

    let output = create(kwin).unwrap_or_else(|e| panic!("{e}\n{}", kwin.log_tail("kwin")));
    let id = output.node_id();
    eprintln!("{output:?}");
    let node = within(Duration::from_secs(5), || find_node(kwin, id))
        .unwrap_or_else(|| panic!("node {id} not in pw-dump"));
    let props = &node["info"]["props"];
    eprintln!("node {id} props: {props}");
    assert_eq!(props["media.class"], "Stream/Output/Video", "{node:#}");
    assert_eq!(
        props["media.name"],
        format!("kwin-screencast-{NAME}"),
        "{node:#}"
    );
    let format = &node["info"]["params"]["EnumFormat"][0];
    assert_eq!(
        format["size"],
        serde_json::json!({"width": 1280, "height": 720}),
        "{node:#}"
    );

    let added = within(Duration::from_secs(3), || {
        kwin.outputs()
            .unwrap()
            .into_iter()
            .find(|o| !before.contains(o))
    });
    match added {
        Some(added) => {
            eprintln!("KWin added {added:?}");
            assert_eq!(added.mode, Some((1280, 720)), "{added:?}");
            assert_eq!(added.logical_size, Some((1280, 720)), "{added:?}");
        }
        None if backend == KwinBackend::Nested => eprintln!(
            "SKIPPED (output checks): nested KWin made the stream but no wl_output; \
             KWin 5.27's Wayland backend never adds virtual outputs to its workspace"
        ),
        None => panic!("no new output; KWin has {:?}", kwin.outputs()),
    }
    assert!(!output.is_ended());

    drop(output);
    within(Duration::from_secs(5), || {
        find_node(kwin, id).is_none().then_some(())
    })
    .unwrap_or_else(|| panic!("node {id} still there after drop"));
    within(Duration::from_secs(5), || {
        (kwin.outputs().unwrap() == before).then_some(())
    })
    .unwrap_or_else(|| panic!("outputs after drop: {:?}", kwin.outputs()));
}

#[test]
fn virtual_output_on_the_virtual_backend() {
    let Some((_lock, kwin)) = kwin(&KwinOptions::default()) else {
        return;
    };
    match create(&kwin) {
        // KWin 5.27's virtual backend has no createVirtualOutput.
        Err(VirtualOutputError::Failed(msg)) => eprintln!(
            "SKIPPED: KWin's virtual backend refused the virtual output ({msg:?}); \
             KWin 5.27 makes them only on its DRM backend (GPU and logind seat needed)"
        ),
        Err(err) => panic!("{err}\n{}", kwin.log_tail("kwin")),
        Ok(output) => {
            drop(output);
            check_lifecycle(&kwin, KwinBackend::Virtual);
        }
    }
}

#[test]
fn virtual_output_on_a_nested_kwin() {
    let options = KwinOptions {
        backend: KwinBackend::Nested,
        ..KwinOptions::default()
    };
    let Some((_lock, kwin)) = kwin(&options) else {
        return;
    };
    check_lifecycle(&kwin, KwinBackend::Nested);
}

#[test]
fn permission_checks_hide_the_protocol() {
    let options = KwinOptions {
        permission_checks: true,
        ..KwinOptions::default()
    };
    let Some((_lock, kwin)) = kwin(&options) else {
        return;
    };
    let err = create(&kwin).expect_err("an untrusted client made an output");
    assert!(matches!(err, VirtualOutputError::NotOffered), "{err}");
    assert!(
        err.to_string().contains("X-KDE-Wayland-Interfaces"),
        "{err}"
    );
}

#[test]
fn desktop_file_authorises_the_client() {
    let options = KwinOptions {
        permission_checks: true,
        trusted: vec![std::env::current_exe().unwrap()],
        ..KwinOptions::default()
    };
    let Some((_lock, kwin)) = kwin(&options) else {
        return;
    };
    // Past the permission check: made (Plasma 6) or refused by the backend (5.27).
    match create(&kwin) {
        Ok(output) => eprintln!("authorised, and made {output:?}"),
        Err(VirtualOutputError::Failed(msg)) => eprintln!("authorised; KWin then said {msg:?}"),
        Err(err) => panic!("{err}\n{}", kwin.log_tail("kwin")),
    }
}
