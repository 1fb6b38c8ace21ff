//! The management API's routes (`/api/v1`), each with its lane in [`ROUTES`] and its OpenAPI
//! description next to its handler.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use punktfunk_core::pairing::WindowStatus;
use punktfunk_core::wire::close;
use punktfunk_core::wire::pairing::{DEFAULT_WINDOW_TTL_S, MAX_WINDOW_TTL_S};
use serde::{Deserialize, Serialize};
use tokio_stream::StreamExt;
use utoipa::{OpenApi, ToSchema};

use super::auth::{self, Lane};
use super::HostState;
use crate::lifecycle::displays::DisplayInfo;
use crate::native::registry::SessionInfo;
use crate::trust::{hex, parse_fingerprint, Device};

/// Every route and the credentials it takes. The router is checked against this table at
/// request time (an unlisted route answers 500, never runs) and by a test against the OpenAPI.
pub const ROUTES: &[(Method, &str, Lane)] = &[
    (Method::GET, "/api/v1/health", Lane::Public),
    (Method::POST, "/api/v1/console/login", Lane::Public),
    (Method::POST, "/api/v1/console/logout", Lane::Console),
    (Method::GET, "/api/v1/console/session", Lane::Console),
    (Method::GET, "/api/v1/status", Lane::Operator),
    (Method::GET, "/api/v1/config", Lane::Operator),
    (Method::GET, "/api/v1/sessions", Lane::Operator),
    (Method::DELETE, "/api/v1/sessions/{id}", Lane::Operator),
    (
        Method::POST,
        "/api/v1/sessions/{id}/keyframe",
        Lane::Operator,
    ),
    (Method::GET, "/api/v1/displays", Lane::Operator),
    (Method::GET, "/api/v1/devices", Lane::Operator),
    (
        Method::PATCH,
        "/api/v1/devices/{fingerprint}",
        Lane::Operator,
    ),
    (
        Method::DELETE,
        "/api/v1/devices/{fingerprint}",
        Lane::Operator,
    ),
    (Method::GET, "/api/v1/pairing", Lane::Operator),
    (Method::POST, "/api/v1/pairing/arm", Lane::Operator),
    (Method::DELETE, "/api/v1/pairing", Lane::Operator),
    (Method::POST, "/api/v1/gamestream/pin", Lane::Operator),
    (Method::GET, "/api/v1/gamestream/pending", Lane::Operator),
    (Method::GET, "/api/v1/events", Lane::Operator),
];

pub fn lane_of(method: &Method, path: &str) -> Option<Lane> {
    ROUTES
        .iter()
        .find(|(m, p, _)| m == method && *p == path)
        .map(|(_, _, lane)| *lane)
}

pub fn router() -> Router<Arc<HostState>> {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/console/login", post(login))
        .route("/api/v1/console/logout", post(logout))
        .route("/api/v1/console/session", get(console_session))
        .route("/api/v1/status", get(status))
        .route("/api/v1/config", get(config))
        .route("/api/v1/sessions", get(sessions))
        .route("/api/v1/sessions/{id}", axum::routing::delete(stop_session))
        .route("/api/v1/sessions/{id}/keyframe", post(keyframe))
        .route("/api/v1/displays", get(displays))
        .route("/api/v1/devices", get(devices))
        .route(
            "/api/v1/devices/{fingerprint}",
            patch(rename_device).delete(unpair_device),
        )
        .route("/api/v1/pairing", get(pairing).delete(disarm))
        .route("/api/v1/pairing/arm", post(arm))
        .route("/api/v1/gamestream/pin", post(gamestream_pin))
        .route("/api/v1/gamestream/pending", get(gamestream_pending))
        .route("/api/v1/events", get(events))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "punktfunk management API",
        description = "Host status, live sessions, displays, paired devices, PIN pairing and live events. \
            Credentials: the admin token (`Authorization: Bearer`, loopback only) or a console session \
            (cookie from /console/login; state-changing requests also need the `X-CSRF-Token` header)."
    ),
    paths(health, login, logout, console_session, status, config, sessions, stop_session, keyframe,
        displays, devices, rename_device, unpair_device, pairing, arm, disarm, gamestream_pin,
        gamestream_pending, events),
    components(schemas(ApiError, Health, LoginRequest, CsrfToken, Status, SessionInfo, DisplayInfo,
        Device, RenameRequest, Unpaired, PairingWindow, ArmRequest, PinRequest, PendingPairing,
        super::events::Event)),
    modifiers(&Security),
    security(("admin_token" = []), ("console_session" = [])),
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "console_session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(auth::SESSION_COOKIE))),
        );
    }
}

/// The OpenAPI document as checked in at `api/openapi.json`.
pub fn openapi_json() -> String {
    let mut json = ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    json.push('\n');
    json
}

// ---- errors ------------------------------------------------------------------------------------

/// Every error answer: `{"error": "..."}` (and `retry_after_s` when throttled).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiError {
    pub error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
}

pub struct Failure(pub StatusCode, pub String, pub Option<u64>);

impl Failure {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self(status, message.into(), None)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut response = (
            self.0,
            Json(ApiError {
                error: self.1,
                retry_after_s: self.2,
            }),
        )
            .into_response();
        if let Some(s) = self.2 {
            if let Ok(v) = s.to_string().parse() {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

type ApiResult<T> = Result<T, Failure>;

fn internal(e: impl std::fmt::Display) -> Failure {
    Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

// ---- public and console ------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub ok: bool,
    pub version: String,
}

/// Liveness (no credentials).
#[utoipa::path(get, path = "/api/v1/health", tag = "public", security(()),
    responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health {
        ok: true,
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CsrfToken {
    /// Send it back as `X-CSRF-Token` on every state-changing request.
    pub csrf_token: String,
}

/// Console sign-in: sets the session cookie, returns the CSRF token. Five wrong passwords from
/// one address make it wait.
#[utoipa::path(post, path = "/api/v1/console/login", tag = "console", security(()),
    request_body = LoginRequest,
    responses((status = 200, body = CsrfToken), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 429, body = ApiError)))]
async fn login(
    State(state): State<Arc<HostState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Result<Json<LoginRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Response> {
    let Json(request) = body.map_err(|e| Failure::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    if request.password.len() > 1024 {
        return Err(Failure::new(StatusCode::BAD_REQUEST, "password too long"));
    }
    let ip = peer.ip();
    if let Err(wait) = state.throttle().check(ip, Instant::now()) {
        return Err(Failure(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "too many wrong passwords from this address: wait {} s",
                wait.as_secs() + 1
            ),
            Some(wait.as_secs() + 1),
        ));
    }
    let dir = state.config_dir.clone();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&dir, &request.password))
        .await
        .map_err(internal)?
        .map_err(internal)?;
    state.throttle().record(ip, ok, Instant::now());
    if !ok {
        tracing::info!(%ip, "console sign-in refused: wrong password");
        return Err(Failure::new(StatusCode::UNAUTHORIZED, "wrong password"));
    }
    let (id, csrf) = state.console.create().map_err(internal)?;
    tracing::info!(%ip, "console signed in");
    Ok((
        [(header::SET_COOKIE, auth::set_cookie(Some(&id)))],
        Json(CsrfToken { csrf_token: csrf }),
    )
        .into_response())
}

/// Console sign-out: ends the session, clears the cookie.
#[utoipa::path(post, path = "/api/v1/console/logout", tag = "console", security(("console_session" = [])),
    responses((status = 204), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
async fn logout(State(state): State<Arc<HostState>>, headers: HeaderMap) -> Response {
    if let Some(id) = cookie(&headers) {
        state.console.remove(&id);
    }
    (
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, auth::set_cookie(None))],
    )
        .into_response()
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| auth::session_cookie(v).map(str::to_owned))
}

/// The signed-in console's CSRF token (401 when not signed in).
#[utoipa::path(get, path = "/api/v1/console/session", tag = "console", security(("console_session" = [])),
    responses((status = 200, body = CsrfToken), (status = 401, body = ApiError)))]
async fn console_session(
    State(state): State<Arc<HostState>>,
    headers: HeaderMap,
) -> ApiResult<Json<CsrfToken>> {
    let csrf = cookie(&headers)
        .and_then(|id| state.console.csrf(&id))
        .ok_or_else(|| Failure::new(StatusCode::UNAUTHORIZED, "sign in"))?;
    Ok(Json(CsrfToken { csrf_token: csrf }))
}

// ---- host --------------------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    pub version: String,
    pub fingerprint: String,
    pub gamestream_fingerprint: String,
    pub native_addr: String,
    /// `required` (PIN pairing) or `optional` (trust on first use).
    pub pairing: String,
    pub sessions: usize,
    pub paired_devices: usize,
    pub compositor: Option<String>,
    pub source: String,
    /// Encoders this host can open.
    pub encoders: Vec<String>,
    pub planes: Vec<String>,
    pub pairing_window: PairingWindow,
}

/// Host identity, planes, encoder and compositor, counts.
#[utoipa::path(get, path = "/api/v1/status", tag = "host",
    responses((status = 200, body = Status), (status = 401, body = ApiError)))]
async fn status(State(state): State<Arc<HostState>>) -> Json<Status> {
    let encoders = punktfunk_core::control::Codec::ALL
        .into_iter()
        .filter(|c| punktfunk_video::encoder::available(*c))
        .map(|c| c.name().to_owned())
        .collect();
    Json(Status {
        version: env!("CARGO_PKG_VERSION").into(),
        fingerprint: hex(&state.native.fingerprint),
        gamestream_fingerprint: state.gamestream_fingerprint.clone(),
        native_addr: state.native_addr.to_string(),
        pairing: if state.trust.open {
            "optional"
        } else {
            "required"
        }
        .into(),
        sessions: state.native.sessions.list().len(),
        paired_devices: state.trust.list().len(),
        compositor: state.compositor.clone(),
        source: format!("{:?}", state.native.args.source).to_lowercase(),
        encoders,
        planes: vec!["native".into()],
        pairing_window: window(state.trust.window_status()),
    })
}

/// The effective configuration (read-only).
#[utoipa::path(get, path = "/api/v1/config", tag = "host",
    responses((status = 200, body = Object), (status = 401, body = ApiError)))]
async fn config(State(state): State<Arc<HostState>>) -> Json<serde_json::Value> {
    Json(state.config.clone())
}

// ---- sessions and displays ---------------------------------------------------------------------

/// Live sessions with their stats.
#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions",
    responses((status = 200, body = Vec<SessionInfo>), (status = 401, body = ApiError)))]
async fn sessions(State(state): State<Arc<HostState>>) -> Json<Vec<SessionInfo>> {
    Json(state.native.sessions.list())
}

/// Ends a session (its display lingers as after a drop).
#[utoipa::path(delete, path = "/api/v1/sessions/{id}", tag = "sessions",
    params(("id" = u64, Path, description = "Session id")),
    responses((status = 204), (status = 404, body = ApiError), (status = 401, body = ApiError)))]
async fn stop_session(
    State(state): State<Arc<HostState>>,
    Path(id): Path<u64>,
) -> ApiResult<StatusCode> {
    if state
        .native
        .sessions
        .close(id, close::NO_ERROR, "stopped by the host's operator")
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Failure::new(
            StatusCode::NOT_FOUND,
            format!("no session {id}"),
        ))
    }
}

/// Makes a session send a keyframe now.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/keyframe", tag = "sessions",
    params(("id" = u64, Path, description = "Session id")),
    responses((status = 204), (status = 404, body = ApiError), (status = 401, body = ApiError)))]
async fn keyframe(
    State(state): State<Arc<HostState>>,
    Path(id): Path<u64>,
) -> ApiResult<StatusCode> {
    if state.native.sessions.request_keyframe(id) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Failure::new(
            StatusCode::NOT_FOUND,
            format!("no session {id}"),
        ))
    }
}

/// Virtual displays: active, or lingering with the time left.
#[utoipa::path(get, path = "/api/v1/displays", tag = "sessions",
    responses((status = 200, body = Vec<DisplayInfo>), (status = 401, body = ApiError)))]
async fn displays(State(state): State<Arc<HostState>>) -> Json<Vec<DisplayInfo>> {
    Json(
        state
            .native
            .displays
            .as_ref()
            .map(|d| d.list())
            .unwrap_or_default(),
    )
}

// ---- devices -----------------------------------------------------------------------------------

/// Paired devices, both planes.
#[utoipa::path(get, path = "/api/v1/devices", tag = "devices",
    responses((status = 200, body = Vec<Device>), (status = 401, body = ApiError)))]
async fn devices(State(state): State<Arc<HostState>>) -> Json<Vec<Device>> {
    Json(state.trust.list())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RenameRequest {
    /// 1 to 64 bytes.
    pub name: String,
}

fn device_error(e: anyhow::Error) -> Failure {
    match e.downcast_ref::<crate::trust::devices::LookupError>() {
        Some(crate::trust::devices::LookupError::NotFound(_)) => {
            Failure::new(StatusCode::NOT_FOUND, e.to_string())
        }
        Some(_) => Failure::new(StatusCode::BAD_REQUEST, e.to_string()),
        None => internal(format!("{e:#}")),
    }
}

/// Renames a paired device.
#[utoipa::path(patch, path = "/api/v1/devices/{fingerprint}", tag = "devices",
    params(("fingerprint" = String, Path, description = "64 hex digits, or a unique prefix of ≥ 8")),
    request_body = RenameRequest,
    responses((status = 200, body = Device), (status = 400, body = ApiError),
        (status = 404, body = ApiError), (status = 401, body = ApiError)))]
async fn rename_device(
    State(state): State<Arc<HostState>>,
    Path(fingerprint): Path<String>,
    body: Result<Json<RenameRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<Device>> {
    let Json(request) = body.map_err(|e| Failure::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let name = request.name.trim();
    if name.is_empty() || name.len() > punktfunk_core::wire::control::MAX_DEVICE_NAME {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            "a name is 1 to 64 bytes",
        ));
    }
    Ok(Json(
        state
            .trust
            .rename(&fingerprint, name)
            .map_err(device_error)?,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Unpaired {
    pub unpaired: Vec<Device>,
    /// Live sessions of the device that were ended.
    pub sessions_ended: usize,
}

/// Forgets a device on every plane and ends its live sessions.
#[utoipa::path(delete, path = "/api/v1/devices/{fingerprint}", tag = "devices",
    params(("fingerprint" = String, Path, description = "64 hex digits, or a unique prefix of ≥ 8")),
    responses((status = 200, body = Unpaired), (status = 400, body = ApiError),
        (status = 404, body = ApiError), (status = 401, body = ApiError)))]
async fn unpair_device(
    State(state): State<Arc<HostState>>,
    Path(fingerprint): Path<String>,
) -> ApiResult<Json<Unpaired>> {
    let removed = state.trust.unpair(&fingerprint).map_err(device_error)?;
    let fp = removed[0].fingerprint.clone();
    // An unpaired device keeps nothing: its live sessions end now.
    let ended = state.native.sessions.close_device(
        &fp,
        close::NOT_PAIRED,
        "this device was unpaired by the host's operator",
    );
    tracing::info!(fingerprint = %fp, sessions_ended = ended, "device unpaired");
    Ok(Json(Unpaired {
        unpaired: removed,
        sessions_ended: ended,
    }))
}

// ---- pairing -----------------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct PairingWindow {
    pub armed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_s: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bound_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_attempts: Option<u32>,
}

fn window(status: WindowStatus) -> PairingWindow {
    match status {
        WindowStatus::Closed => PairingWindow {
            armed: false,
            pin: None,
            remaining_s: None,
            bound_to: None,
            failed_attempts: None,
        },
        WindowStatus::Armed {
            pin,
            remaining,
            bound,
            failures,
        } => PairingWindow {
            armed: true,
            pin: Some(pin),
            remaining_s: Some(remaining.as_secs_f64().ceil() as u64),
            bound_to: bound.map(|b| hex(&b)),
            failed_attempts: Some(failures),
        },
    }
}

/// The native PIN pairing window.
#[utoipa::path(get, path = "/api/v1/pairing", tag = "pairing",
    responses((status = 200, body = PairingWindow), (status = 401, body = ApiError)))]
async fn pairing(State(state): State<Arc<HostState>>) -> Json<PairingWindow> {
    Json(window(state.trust.window_status()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ArmRequest {
    /// Seconds the window stays open (default 120, at most 3600).
    pub ttl_s: Option<u64>,
    /// Only this device (64 hex digits) may pair.
    pub fingerprint: Option<String>,
}

/// Arms a pairing window with a fresh PIN (shown in the answer).
#[utoipa::path(post, path = "/api/v1/pairing/arm", tag = "pairing", request_body = ArmRequest,
    responses((status = 200, body = PairingWindow), (status = 400, body = ApiError),
        (status = 401, body = ApiError)))]
async fn arm(
    State(state): State<Arc<HostState>>,
    body: Result<Json<ArmRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<PairingWindow>> {
    let Json(request) = body.map_err(|e| Failure::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    let ttl = request.ttl_s.unwrap_or(DEFAULT_WINDOW_TTL_S);
    if ttl == 0 || ttl > MAX_WINDOW_TTL_S {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            format!("ttl_s (--ttl) must be 1..={MAX_WINDOW_TTL_S} seconds"),
        ));
    }
    let bound = match request.fingerprint.as_deref().filter(|f| !f.is_empty()) {
        None => None,
        Some(f) => Some(parse_fingerprint(&f.to_ascii_lowercase()).ok_or_else(|| {
            Failure::new(
                StatusCode::BAD_REQUEST,
                format!("fingerprint {f:?}: expected 64 hex digits"),
            )
        })?),
    };
    let pin = state
        .trust
        .arm(Duration::from_secs(ttl), bound)
        .map_err(internal)?;
    tracing::info!(ttl_s = ttl, bound = ?request.fingerprint, "pairing window armed");
    let mut answer = window(state.trust.window_status());
    // The PIN just made, even if the window is read a moment later.
    answer.pin = Some(pin);
    answer.armed = true;
    Ok(Json(answer))
}

/// Closes the pairing window now.
#[utoipa::path(delete, path = "/api/v1/pairing", tag = "pairing",
    responses((status = 200, body = PairingWindow), (status = 401, body = ApiError)))]
async fn disarm(State(state): State<Arc<HostState>>) -> Json<PairingWindow> {
    state.trust.disarm();
    Json(window(WindowStatus::Closed))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PinRequest {
    /// The PIN Moonlight shows.
    pub pin: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PendingPairing {
    pub client: String,
    pub waiting_s: u64,
}

/// Hands a Moonlight client's PIN to the waiting GameStream pairing.
#[utoipa::path(post, path = "/api/v1/gamestream/pin", tag = "pairing", request_body = PinRequest,
    responses((status = 204), (status = 400, body = ApiError), (status = 409, body = ApiError),
        (status = 401, body = ApiError)))]
async fn gamestream_pin(
    State(state): State<Arc<HostState>>,
    body: Result<Json<PinRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<StatusCode> {
    let Json(request) = body.map_err(|e| Failure::new(StatusCode::BAD_REQUEST, e.body_text()))?;
    if request.pin.len() != 4 || !request.pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Failure::new(StatusCode::BAD_REQUEST, "a PIN is 4 digits"));
    }
    let Some(gamestream) = &state.gamestream else {
        return Err(Failure::new(
            StatusCode::CONFLICT,
            "GameStream is off on this host (`serve --gamestream` turns it on): no Moonlight pairing is waiting for a PIN",
        ));
    };
    gamestream
        .pins
        .submit(&request.pin)
        .map(|client| {
            tracing::info!(%client, "PIN handed to the waiting Moonlight pairing");
            StatusCode::NO_CONTENT
        })
        .map_err(|e| Failure::new(StatusCode::CONFLICT, e.to_string()))
}

/// GameStream pairing attempts waiting for a PIN.
#[utoipa::path(get, path = "/api/v1/gamestream/pending", tag = "pairing",
    responses((status = 200, body = Vec<PendingPairing>), (status = 401, body = ApiError)))]
async fn gamestream_pending(State(state): State<Arc<HostState>>) -> Json<Vec<PendingPairing>> {
    let pending = state
        .gamestream
        .as_ref()
        .map(|g| g.pins.pending())
        .unwrap_or_default();
    Json(
        pending
            .into_iter()
            .map(|(client, waited)| PendingPairing {
                client,
                waiting_s: waited.as_secs(),
            })
            .collect(),
    )
}

// ---- events ------------------------------------------------------------------------------------

/// Live events as Server-Sent Events: `session_started`, `session_ended`, `device_paired`,
/// `device_unpaired`, `device_renamed`, `pairing_armed`, `pairing_completed`, `pairing_disarmed`;
/// each `data:` is the event as JSON.
#[utoipa::path(get, path = "/api/v1/events", tag = "host",
    responses((status = 200, content_type = "text/event-stream", body = String),
        (status = 401, body = ApiError)))]
async fn events(
    State(state): State<Arc<HostState>>,
) -> Sse<impl tokio_stream::Stream<Item = Result<SseEvent, Infallible>>> {
    let stream = tokio_stream::wrappers::BroadcastStream::new(state.events.subscribe())
        // A subscriber that fell behind skips what it missed.
        .filter_map(Result::ok)
        .map(|e| {
            Ok(SseEvent::default()
                .event(e.name())
                .json_data(&e)
                .unwrap_or_default())
        });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every documented operation is classified, every classified route is documented: a route
    /// added without a lane fails here (and answers 500 at run time).
    #[test]
    fn every_route_is_classified_and_documented() {
        let doc = ApiDoc::openapi();
        let mut documented = Vec::new();
        for (path, item) in &doc.paths.paths {
            for (method, op) in [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
                (Method::PUT, &item.put),
            ] {
                if op.is_some() {
                    assert!(
                        lane_of(&method, path).is_some(),
                        "{method} {path} has no lane in ROUTES"
                    );
                    documented.push((method, path.clone()));
                }
            }
        }
        for (method, path, _) in ROUTES {
            assert!(
                documented.iter().any(|(m, p)| m == method && p == path),
                "{method} {path} is routed but not in the OpenAPI document"
            );
        }
        assert_eq!(documented.len(), ROUTES.len());
    }

    /// `api/openapi.json` is what the code generates (`punktfunk-host openapi > api/openapi.json`
    /// refreshes it).
    #[test]
    fn the_checked_in_openapi_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../api/openapi.json");
        let checked_in = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            checked_in == openapi_json(),
            "api/openapi.json is stale: run `cargo run -p punktfunk-host -- openapi > api/openapi.json`"
        );
    }
}
