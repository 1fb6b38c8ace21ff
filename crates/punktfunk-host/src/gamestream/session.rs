//! The running app and its stream. The app lives from `/launch` until `/cancel` (Quit App);
//! each `/launch` or `/resume` starts a fresh stream with the keys of that request, which ends
//! when the client disconnects or the app quits.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use punktfunk_gamestream::nvhttp::LaunchRequest;
use punktfunk_gamestream::rtsp::{
    ping_payload_from_random, Handshake, HandshakeConfig, RtspCipher, StreamParams,
};
use punktfunk_net::identity::Fingerprint;

use super::control::ControlHandle;

pub struct Session {
    /// The client that launched the app: only it sees, resumes and quits it.
    pub owner: Fingerprint,
    /// Only this address may set up the stream over RTSP.
    pub client_ip: IpAddr,
    pub app_id: u32,
    live: Mutex<Option<Arc<Live>>>,
    /// The keys of the latest `/launch` or `/resume`, for the stream RTSP sets up next.
    launch: Mutex<LaunchKeys>,
}

/// What a `/launch` or `/resume` hands over for the next stream.
#[derive(Clone)]
pub struct LaunchKeys {
    pub rikey: [u8; 16],
    pub rikeyid: i32,
    pub encrypted_rtsp: bool,
}

impl LaunchKeys {
    fn of(request: &LaunchRequest) -> Self {
        Self {
            rikey: request.rikey,
            rikeyid: request.rikeyid,
            encrypted_rtsp: request.encrypted_rtsp(),
        }
    }
}

/// One stream: its keys, its RTSP handshake, where the client listens, its threads.
pub struct Live {
    pub keys: LaunchKeys,
    pub video_ping: [u8; 16],
    pub audio_ping: [u8; 16],
    pub connect_data: u32,
    pub handshake: Mutex<Handshake>,
    pub rtsp_cipher: Mutex<Option<RtspCipher>>,
    pub params: Mutex<Option<StreamParams>>,
    pub video_peer: Mutex<Option<SocketAddr>>,
    pub audio_peer: Mutex<Option<SocketAddr>>,
    pub stop: AtomicBool,
    pub keyframe: AtomicBool,
    /// Set on the display lease, when the stream has one: a quit releases it at once.
    pub display_quit: Mutex<Option<Arc<AtomicBool>>>,
    /// Where the stream's input goes (its own output), when the compositor allows injection.
    pub injector: Mutex<Option<crate::input::Injector>>,
    /// The client's controllers as virtual pads; the control thread polls their feedback.
    pub pads: Mutex<crate::input::session_pads::SessionPads>,
    /// The id this stream holds its display under (apart from the native plane's ids).
    pub display_session: u64,
    /// Video packets the client reported lost (its per-frame FEC reports), for adaptive FEC.
    pub reported_lost: AtomicU64,
    pub playing: AtomicBool,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // The system generator failing leaves zeros: the stream still works, only less private.
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut out);
    out
}

impl Live {
    fn new(
        keys: LaunchKeys,
        config: impl FnOnce([u8; 16], [u8; 16], u32) -> HandshakeConfig,
    ) -> Self {
        // Printable: Moonlight carries them as a header value.
        let ping = || ping_payload_from_random(random::<8>());
        let (video_ping, audio_ping) = (ping(), ping());
        let connect_data = u32::from_le_bytes(random::<4>());
        let rtsp_cipher = keys.encrypted_rtsp.then(|| RtspCipher::new(keys.rikey));
        Self {
            handshake: Mutex::new(Handshake::new(config(video_ping, audio_ping, connect_data))),
            rtsp_cipher: Mutex::new(rtsp_cipher),
            keys,
            video_ping,
            audio_ping,
            connect_data,
            params: Mutex::new(None),
            video_peer: Mutex::new(None),
            audio_peer: Mutex::new(None),
            stop: AtomicBool::new(false),
            keyframe: AtomicBool::new(false),
            display_quit: Mutex::new(None),
            injector: Mutex::new(None),
            pads: Mutex::new(Default::default()),
            display_session: next_display_session(),
            reported_lost: AtomicU64::new(0),
            playing: AtomicBool::new(false),
            threads: Mutex::new(Vec::new()),
        }
    }

    /// Marks the stream's display for immediate release (a deliberate quit).
    pub fn quit_display(&self) {
        if let Some(flag) = lock(&self.display_quit).as_ref() {
            flag.store(true, Ordering::Relaxed);
        }
    }

    pub fn add_thread(&self, handle: JoinHandle<()>) {
        lock(&self.threads).push(handle);
    }

    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Stops the media threads and waits for them.
    fn stop_and_join(&self) {
        self.stop.store(true, Ordering::Relaxed);
        // Held keys and buttons are released before the display may go.
        lock(&self.injector).take();
        lock(&self.pads).end();
        let threads = std::mem::take(&mut *lock(&self.threads));
        for t in threads {
            let _ = t.join();
        }
    }
}

/// Display-registry session ids for GameStream streams: the top half of the id space, so they
/// never meet the native plane's.
fn next_display_session() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1 << 63);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Session {
    pub fn new(
        owner: Fingerprint,
        client_ip: IpAddr,
        app_id: u32,
        request: &LaunchRequest,
    ) -> Self {
        Self {
            owner,
            client_ip,
            app_id,
            live: Mutex::new(None),
            launch: Mutex::new(LaunchKeys::of(request)),
        }
    }

    /// New keys for the next stream (a `/resume`, or a `/launch` of the running app).
    pub fn renew(&self, request: &LaunchRequest) {
        *lock(&self.launch) = LaunchKeys::of(request);
    }

    /// The stream being set up or running; RTSP starts a new one after each launch.
    pub fn live(&self) -> Option<Arc<Live>> {
        lock(&self.live).clone()
    }

    /// The stream RTSP talks to: the current one, or a fresh one after a launch or resume.
    pub fn live_or_new(
        &self,
        config: impl FnOnce([u8; 16], [u8; 16], u32) -> HandshakeConfig,
    ) -> Arc<Live> {
        let mut live = lock(&self.live);
        if let Some(l) = live.as_ref().filter(|l| !l.stopped()) {
            return l.clone();
        }
        let fresh = Arc::new(Live::new(lock(&self.launch).clone(), config));
        *live = Some(fresh.clone());
        fresh
    }

    /// Ends the stream; the client is told over the control stream first. `quit`: the app ends
    /// too (Quit App), so its display goes at once instead of lingering for a reconnect.
    pub fn end_stream(&self, control: &ControlHandle, quit: bool) {
        let live = lock(&self.live).take();
        if let Some(live) = live {
            if quit {
                live.quit_display();
            }
            control.terminate(live.connect_data);
            live.stop_and_join();
        }
    }

    /// Ends the stream `connect_data` names, if it is still this session's (its client left).
    pub fn stream_gone(&self, connect_data: u32) {
        let live = {
            let mut live = lock(&self.live);
            match live.as_ref() {
                Some(l) if l.connect_data == connect_data => live.take(),
                _ => None,
            }
        };
        if let Some(live) = live {
            live.stop_and_join();
            tracing::info!(
                app = self.app_id,
                "GameStream stream ended (client left); the app keeps running"
            );
        }
    }
}
