//! nvhttp: `/serverinfo` and the first pairing steps on the HTTP port; everything that needs to
//! know who asks (applist, launch, resume, cancel, appasset, the last pairing step, unpair) on
//! the HTTPS port, where every request is authorised by the client certificate's fingerprint.
//! Replies are XML, as Moonlight expects, with the HTTP status matching `status_code`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::extract::{RawQuery, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use hyper_util::rt::TokioIo;
use punktfunk_gamestream::nvhttp::{
    self, decode_hex, encode_hex, App, LaunchRequest, Query, ServerInfo,
};
use punktfunk_gamestream::pairing::PairingAttempt;
use punktfunk_gamestream::wire::pairing::{APP_VERSION, GFE_VERSION, MAX_LUMA_PIXELS_HEVC};
use punktfunk_gamestream::wire::Ports;
use punktfunk_net::identity::Fingerprint;
use tower::ServiceExt;

use super::session::Session;
use super::GameStream;
use crate::trust::devices::PlaneKind;

/// The one app offered: the whole desktop (or the test picture).
pub const DESKTOP_APP_ID: u32 = 1;
const DESKTOP_TITLE: &str = "Desktop";
const DESKTOP_ASSET: &[u8] = include_bytes!("../../assets/desktop-app.png");

/// What sends a request: its addresses and, on HTTPS, its certificate.
#[derive(Debug, Clone, Copy)]
struct Caller {
    remote: SocketAddr,
    local: SocketAddr,
    certificate: Option<Fingerprint>,
}

/// Pairing attempts in flight, by the client's `uniqueid`; the oldest goes when full.
const MAX_ATTEMPTS: usize = 16;
const ATTEMPT_LIFETIME: Duration = Duration::from_secs(300);

struct Http {
    gs: Arc<GameStream>,
    attempts: Mutex<HashMap<String, (Instant, PairingAttempt)>>,
}

type Shared = Arc<Http>;

/// Bound listeners, before they serve.
pub struct Listeners {
    http: tokio::net::TcpListener,
    https: tokio::net::TcpListener,
}

impl Listeners {
    pub async fn bind(ip: IpAddr, ports: Ports) -> anyhow::Result<Self> {
        let tcp = |port: u16, what: &'static str| async move {
            tokio::net::TcpListener::bind(SocketAddr::new(ip, port))
                .await
                .with_context(|| format!("cannot listen on TCP {port} (GameStream {what})"))
        };
        Ok(Self {
            http: tcp(ports.http, "HTTP").await?,
            https: tcp(ports.https, "HTTPS").await?,
        })
    }

    pub fn serve(self, gs: Arc<GameStream>) -> anyhow::Result<()> {
        let tls = punktfunk_net::tls::client_cert_https_server_config(&gs.identity)?;
        let shared = Arc::new(Http {
            gs,
            attempts: Mutex::new(HashMap::new()),
        });
        let plain = Router::new()
            .route("/serverinfo", get(serverinfo))
            .route("/pair", get(pair))
            .route("/unpair", get(unpair))
            .fallback(https_only)
            .with_state(shared.clone());
        let secure = Router::new()
            .route("/serverinfo", get(serverinfo))
            .route("/pair", get(pair))
            .route("/unpair", get(unpair))
            .route("/applist", get(applist))
            .route("/appasset", get(appasset))
            .route("/launch", get(launch))
            .route("/resume", get(resume))
            .route("/cancel", get(cancel))
            .fallback(not_found)
            .with_state(shared);
        tokio::spawn(accept_loop(self.http, None, plain));
        tokio::spawn(accept_loop(
            self.https,
            Some(tokio_rustls::TlsAcceptor::from(Arc::new(tls))),
            secure,
        ));
        Ok(())
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    app: Router,
) {
    loop {
        let Ok((tcp, remote)) = listener.accept().await else {
            continue;
        };
        let Ok(local) = tcp.local_addr() else {
            continue;
        };
        let (tls, app) = (tls.clone(), app.clone());
        tokio::spawn(async move {
            let caller = |certificate| Caller {
                remote,
                local,
                certificate,
            };
            match tls {
                None => serve_connection(TokioIo::new(tcp), caller(None), app).await,
                Some(acceptor) => {
                    // A client that never finishes its handshake is dropped.
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await
                    else {
                        return;
                    };
                    let certificate = stream
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .map(|c| Fingerprint::of(c));
                    serve_connection(TokioIo::new(stream), caller(certificate), app).await;
                }
            }
        });
    }
}

/// HTTP/1.1 on one connection, every request tagged with who sent it.
async fn serve_connection<I>(io: TokioIo<I>, caller: Caller, app: Router)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
        let mut request = request.map(axum::body::Body::new);
        request.extensions_mut().insert(caller);
        app.clone().oneshot(request)
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await;
}

fn xml(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

fn error(status: StatusCode, message: &str) -> Response {
    xml(status, nvhttp::error_xml(status.as_u16(), message))
}

/// A request refused with an XML error reply.
struct Refusal(StatusCode, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        error(self.0, &self.1)
    }
}

fn query(raw: Option<String>) -> Result<Query, Refusal> {
    nvhttp::parse_query(raw.as_deref().unwrap_or(""))
        .map_err(|e| Refusal(StatusCode::BAD_REQUEST, e.to_string()))
}

async fn https_only() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not here: this request goes to the HTTPS port with a paired certificate",
    )
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such request")
}

impl Http {
    /// The caller's certificate when it belongs to a paired client (`--open` pins a new one).
    fn paired(&self, caller: &Caller, name: &str) -> Option<Fingerprint> {
        let fp = caller.certificate?;
        if self.gs.is_paired(&fp) {
            return Some(fp);
        }
        if self.gs.trust.open {
            if let Ok(crate::trust::Admit::PinnedOnFirstUse) =
                self.gs.trust.admit(&fp.0, PlaneKind::Gamestream, name)
            {
                tracing::info!(fingerprint = %fp, "GameStream client pinned on first use");
                return Some(fp);
            }
        }
        None
    }

    fn require_paired(&self, caller: &Caller) -> Result<Fingerprint, Refusal> {
        self.paired(caller, "Moonlight").ok_or_else(|| {
            Refusal(
                StatusCode::UNAUTHORIZED,
                "the client is not paired with this host: pair it first".into(),
            )
        })
    }
}

async fn serverinfo(State(http): State<Shared>, Extension(caller): Extension<Caller>) -> Response {
    let gs = &http.gs;
    let paired = http.paired(&caller, "Moonlight");
    let running = gs.current();
    // Only the session's owner learns what runs; everyone else sees a free host.
    let mine = running
        .as_ref()
        .filter(|s| Some(s.owner) == paired)
        .map(|s| s.app_id);
    let info = ServerInfo {
        hostname: gs.hostname.clone(),
        app_version: APP_VERSION,
        gfe_version: GFE_VERSION,
        unique_id: gs.unique_id.clone(),
        https_port: gs.ports.https,
        external_port: gs.ports.http,
        mac: "00:00:00:00:00:00".into(),
        local_ip: caller.local.ip().to_canonical().to_string(),
        external_ip: None,
        codec_mode_support: gs.codec_modes,
        max_luma_pixels_hevc: if gs.codec_modes & punktfunk_gamestream::wire::codec_mode::HEVC != 0
        {
            MAX_LUMA_PIXELS_HEVC
        } else {
            0
        },
        paired: paired.is_some(),
        current_game: mine.unwrap_or(0),
    };
    xml(StatusCode::OK, nvhttp::serverinfo_xml(&info))
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    decode_hex(s).ok()
}

fn paired_xml(paired: bool, fields: &[(&str, String)]) -> Response {
    xml(StatusCode::OK, nvhttp::pair_xml(paired, fields))
}

async fn pair(
    State(http): State<Shared>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = match query(raw) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let Some(client) = q.get("uniqueid").map(str::to_owned) else {
        return error(StatusCode::BAD_REQUEST, "missing uniqueid");
    };
    let name = q
        .get("devicename")
        .filter(|n| !n.is_empty() && n.len() <= 64)
        .unwrap_or("Moonlight")
        .to_owned();
    if q.get("phrase") == Some("getservercert") {
        return get_server_cert(&http, &client, &name, &q).await;
    }
    if q.get("phrase") == Some("pairchallenge") {
        // The last step, over HTTPS with the certificate that was just paired.
        let ok = http.paired(&caller, &name).is_some();
        return paired_xml(ok, &[]);
    }
    let taken = http
        .attempts
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&client);
    let Some((started, mut attempt)) = taken else {
        return error(
            StatusCode::BAD_REQUEST,
            "no pairing in progress for this client: start again",
        );
    };
    let step = |name: &str| q.get(name).and_then(unhex);
    let keys = &http.gs.keys;
    let reply = if let Some(challenge) = step("clientchallenge") {
        let mut random = [0u8; 32];
        if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random).is_err() {
            return error(StatusCode::INTERNAL_SERVER_ERROR, "no randomness");
        }
        attempt
            .client_challenge(&challenge, keys, random)
            .map(|r| vec![("challengeresponse", encode_hex(&r))])
    } else if let Some(response) = step("serverchallengeresp") {
        attempt
            .server_challenge_response(&response, keys)
            .map(|r| vec![("pairingsecret", encode_hex(&r))])
    } else if let Some(secret) = step("clientpairingsecret") {
        return match attempt.client_pairing_secret(&secret) {
            Ok(client_cert) => {
                let fp = Fingerprint(client_cert.fingerprint);
                match http
                    .gs
                    .trust
                    .pin_device(&fp.0, PlaneKind::Gamestream, &name)
                {
                    Ok(()) => {
                        tracing::info!(fingerprint = %fp, %name, "Moonlight client paired");
                        paired_xml(true, &[])
                    }
                    Err(e) => {
                        tracing::warn!("cannot store the paired client: {e:#}");
                        paired_xml(false, &[])
                    }
                }
            }
            Err(e) => {
                tracing::warn!(%name, "Moonlight pairing failed: {e}");
                paired_xml(false, &[])
            }
        };
    } else {
        return error(StatusCode::BAD_REQUEST, "unknown pairing step");
    };
    match reply {
        Ok(fields) => {
            http.attempts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(client, (started, attempt));
            paired_xml(true, &fields)
        }
        Err(e) => {
            tracing::warn!(%name, "Moonlight pairing step failed: {e}");
            paired_xml(false, &[])
        }
    }
}

/// Step 1: remember the client's salt and certificate, wait for the user's PIN, answer with
/// the host certificate.
async fn get_server_cert(http: &Http, client: &str, name: &str, q: &Query) -> Response {
    let (Some(salt), Some(cert)) = (
        q.get("salt").and_then(unhex),
        q.get("clientcert").and_then(unhex),
    ) else {
        return error(
            StatusCode::BAD_REQUEST,
            "missing or malformed salt/clientcert",
        );
    };
    let Ok(salt) = <[u8; 16]>::try_from(salt.as_slice()) else {
        return error(StatusCode::BAD_REQUEST, "the salt is 16 bytes");
    };
    let mut attempt = match PairingAttempt::begin(salt, &cert) {
        Ok(a) => a,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    tracing::info!(%name, "Moonlight pairing: waiting for the PIN (`punktfunk-host ctl pin NNNN`)");
    let pin = match http.gs.pins.wait(name).await {
        Ok(pin) => pin,
        Err(e) => {
            tracing::warn!(%name, "Moonlight pairing: {e}");
            return paired_xml(false, &[]);
        }
    };
    match attempt.accept_pin(&pin, &http.gs.keys) {
        Ok(plaincert) => {
            let mut attempts = http.attempts.lock().unwrap_or_else(|e| e.into_inner());
            attempts.retain(|_, (t, _)| t.elapsed() < ATTEMPT_LIFETIME);
            if attempts.len() >= MAX_ATTEMPTS {
                if let Some(oldest) = attempts
                    .iter()
                    .min_by_key(|(_, (t, _))| *t)
                    .map(|(k, _)| k.clone())
                {
                    attempts.remove(&oldest);
                }
            }
            attempts.insert(client.to_owned(), (Instant::now(), attempt));
            paired_xml(true, &[("plaincert", encode_hex(&plaincert))])
        }
        Err(e) => {
            tracing::warn!(%name, "Moonlight pairing: {e}");
            paired_xml(false, &[])
        }
    }
}

async fn unpair(State(http): State<Shared>, Extension(caller): Extension<Caller>) -> Response {
    // Over HTTPS a client can unpair itself; nobody can unpair another client through nvhttp.
    if let Some(fp) = caller.certificate.filter(|fp| http.gs.is_paired(fp)) {
        if let Err(e) = http.gs.trust.unpair(&fp.to_string()) {
            return error(StatusCode::INTERNAL_SERVER_ERROR, &format!("{e:#}"));
        }
        tracing::info!(fingerprint = %fp, "Moonlight client unpaired itself");
    }
    xml(StatusCode::OK, nvhttp::ok_xml())
}

async fn applist(State(http): State<Shared>, Extension(caller): Extension<Caller>) -> Response {
    if let Err(e) = http.require_paired(&caller) {
        return e.into_response();
    }
    xml(
        StatusCode::OK,
        nvhttp::applist_xml(&[App {
            id: DESKTOP_APP_ID,
            title: DESKTOP_TITLE.into(),
            hdr_supported: false,
        }]),
    )
}

async fn appasset(
    State(http): State<Shared>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Err(e) = http.require_paired(&caller) {
        return e.into_response();
    }
    let q = match query(raw) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    if q.get("appid") != Some(&DESKTOP_APP_ID.to_string()) {
        return error(StatusCode::NOT_FOUND, "no such app");
    }
    ([(header::CONTENT_TYPE, "image/png")], DESKTOP_ASSET).into_response()
}

async fn launch(
    State(http): State<Shared>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw): RawQuery,
) -> Response {
    start(http, caller, raw, false).await
}

async fn resume(
    State(http): State<Shared>,
    Extension(caller): Extension<Caller>,
    RawQuery(raw): RawQuery,
) -> Response {
    start(http, caller, raw, true).await
}

/// `/launch` and `/resume`: (re)starts the app's stream with the keys of this request.
async fn start(http: Shared, caller: Caller, raw: Option<String>, resume: bool) -> Response {
    let owner = match http.require_paired(&caller) {
        Ok(fp) => fp,
        Err(e) => return e.into_response(),
    };
    let q = match query(raw) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let request = match LaunchRequest::from_query(&q, resume) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let gs = &http.gs;
    let running = gs.current();
    let app_id = match (&running, resume) {
        (Some(s), _) if s.owner != owner => {
            return error(
                StatusCode::BAD_REQUEST,
                "An app is already running on this host",
            )
        }
        (Some(s), false) if request.app_id != s.app_id => {
            return error(
                StatusCode::BAD_REQUEST,
                "An app is already running on this host",
            )
        }
        (Some(s), _) => s.app_id,
        (None, true) => return error(StatusCode::BAD_REQUEST, "no app is running to resume"),
        (None, false) => match request.app_id {
            DESKTOP_APP_ID => DESKTOP_APP_ID,
            _ => return error(StatusCode::NOT_FOUND, "no such app"),
        },
    };
    let session = match &running {
        // The same client launching or resuming its app: a fresh stream with the new keys.
        Some(s) => {
            let s = s.clone();
            let control = gs.control.clone();
            let _ = tokio::task::spawn_blocking({
                let s = s.clone();
                move || s.end_stream(&control, false)
            })
            .await;
            s.renew(&request);
            s
        }
        None => {
            let s = Arc::new(Session::new(owner, caller.remote.ip(), app_id, &request));
            *gs.session.lock().unwrap_or_else(|e| e.into_inner()) = Some(s.clone());
            s
        }
    };
    // Where the client reaches RTSP: the address it reached us on.
    let url = nvhttp::session_url(caller.local.ip(), gs.ports.rtsp, request.encrypted_rtsp());
    tracing::info!(app = session.app_id, resume, %url, client = %caller.remote, "GameStream launch");
    let body = if resume {
        nvhttp::resume_xml(&url)
    } else {
        nvhttp::launch_xml(&url)
    };
    xml(StatusCode::OK, body)
}

async fn cancel(State(http): State<Shared>, Extension(caller): Extension<Caller>) -> Response {
    let owner = match http.require_paired(&caller) {
        Ok(fp) => fp,
        Err(e) => return e.into_response(),
    };
    let gs = http.gs.clone();
    if gs.current().is_some_and(|s| s.owner != owner) {
        return error(
            StatusCode::FORBIDDEN,
            "another client's app runs here; only it can quit the app",
        );
    }
    let _ = tokio::task::spawn_blocking(move || gs.quit()).await;
    xml(StatusCode::OK, nvhttp::cancel_xml())
}
