//! Without a PipeWire daemon, starting a video stream and connecting the audio server say so.
//! Its own test binary (one test, one thread) because it points this process's environment at
//! an empty runtime directory, where PipeWire's client looks for the socket.

use punktfunk_pipewire::audio::Remote;
use punktfunk_pipewire::{AudioServer, PipeWireError, StreamConfig, VideoStream};

#[test]
fn no_daemon_is_named() {
    let empty = std::env::temp_dir().join(format!("punktfunk-nodaemon-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    std::env::remove_var("PIPEWIRE_REMOTE");
    std::env::set_var("PIPEWIRE_RUNTIME_DIR", &empty);
    std::env::set_var("XDG_RUNTIME_DIR", &empty);

    let err = VideoStream::start(StreamConfig {
        node_id: 42,
        fd: None,
        width: 1280,
        height: 720,
        refresh_millihz: 60_000,
        fixed_size: false,
    })
    .err()
    .expect("no daemon to connect to");
    match err.downcast_ref::<PipeWireError>() {
        Some(PipeWireError::NoDaemon { socket, .. }) => {
            assert!(socket.contains(&empty.display().to_string()), "{socket}");
        }
        other => panic!("unexpected: {other:?} ({err:#})"),
    }
    assert!(err.to_string().contains("is PipeWire running?"), "{err}");
    eprintln!("the video error reads: {err}");

    let err = AudioServer::connect(Remote::Default)
        .err()
        .expect("no daemon to connect to");
    let _ = std::fs::remove_dir(&empty);
    match &err {
        PipeWireError::NoDaemon { socket, detail } => {
            assert!(socket.contains(&empty.display().to_string()), "{socket}");
            assert_eq!(detail, "the socket does not exist");
        }
        other => panic!("unexpected: {other:?} ({err})"),
    }
    assert!(err.to_string().contains("is PipeWire running?"), "{err}");
    eprintln!("the audio error reads: {err}");
}
