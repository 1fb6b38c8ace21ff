//! The errors a host sees when parts of the desktop are missing.

use punktfunk_pipewire::mutter::{self, Endpoints, MutterError, VirtualMonitor};
use punktfunk_pipewire::testing::Desktop;

#[test]
fn mutter_not_running_is_named() {
    // A real session bus and PipeWire, but no compositor.
    let desktop = Desktop::start_pipewire().unwrap();
    let err = VirtualMonitor::create_on(&desktop.endpoints(), 1280, 720, 60_000)
        .err()
        .expect("no Mutter to ask");
    assert_eq!(
        err.downcast_ref::<MutterError>(),
        Some(&MutterError::NoService {
            service: "org.gnome.Mutter.ScreenCast"
        }),
        "{err:#}"
    );
    assert!(
        err.to_string().contains("is GNOME Shell/Mutter running"),
        "{err}"
    );

    let err = mutter::monitors(&desktop.endpoints()).unwrap_err();
    assert_eq!(
        err.downcast_ref::<MutterError>(),
        Some(&MutterError::NoService {
            service: "org.gnome.Mutter.DisplayConfig"
        }),
        "{err:#}"
    );
}

#[test]
fn a_missing_session_bus_is_named() {
    let dir = std::env::temp_dir().join(format!("punktfunk-nobus-{}", std::process::id()));
    let endpoints = Endpoints {
        session_bus: Some(format!("unix:path={}/bus", dir.display())),
        pipewire_socket: None,
    };
    let err = VirtualMonitor::create_on(&endpoints, 1280, 720, 60_000)
        .err()
        .expect("no bus to connect to");
    match err.downcast_ref::<MutterError>() {
        Some(MutterError::NoSessionBus { address, .. }) => assert!(address.contains("/bus")),
        other => panic!("unexpected: {other:?} ({err:#})"),
    }
    assert!(
        err.to_string().contains("DBUS_SESSION_BUS_ADDRESS"),
        "{err}"
    );
}
