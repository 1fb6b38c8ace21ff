//! HTTPS listeners (tokio-rustls + hyper) for the API and the console, and the middleware that
//! admits each request by its route's lane.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tower::ServiceExt;

use super::api::{self, Failure};
use super::auth::{self, Lane};
use super::HostState;

/// Bound listeners, before they serve.
pub struct Bound {
    pub mgmt: tokio::net::TcpListener,
    pub console: tokio::net::TcpListener,
}

impl Bound {
    pub async fn bind(mgmt: SocketAddr, console: SocketAddr) -> anyhow::Result<Self> {
        use anyhow::Context;
        Ok(Self {
            mgmt: tokio::net::TcpListener::bind(mgmt)
                .await
                .with_context(|| format!("cannot listen on TCP {mgmt} (--mgmt-bind)"))?,
            console: tokio::net::TcpListener::bind(console)
                .await
                .with_context(|| format!("cannot listen on TCP {console} (--console-bind)"))?,
        })
    }
}

/// Admits a request by its route's lane: public, a console session (plus the CSRF header on
/// state-changing methods), or the admin token from loopback.
async fn authorize(
    State(state): State<Arc<HostState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let path = matched.as_ref().map_or("", |m| m.as_str());
    let Some(lane) = api::lane_of(request.method(), path) else {
        if api::ROUTES.iter().any(|(_, p, _)| *p == path) {
            return Failure::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed here")
                .into_response();
        }
        // Fail closed: a route nobody classified never runs.
        tracing::error!(%path, method = %request.method(), "unclassified route");
        return Failure::new(StatusCode::INTERNAL_SERVER_ERROR, "unclassified route")
            .into_response();
    };
    if lane == Lane::Public {
        return next.run(request).await;
    }
    let headers = request.headers();
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        if !auth::token_allowed_from(peer) {
            return Failure::new(
                StatusCode::FORBIDDEN,
                "the admin token is accepted from this machine only (loopback)",
            )
            .into_response();
        }
        if !auth::constant_time_eq(bearer.trim().as_bytes(), state.admin_token.as_bytes()) {
            return Failure::new(StatusCode::UNAUTHORIZED, "wrong admin token").into_response();
        }
        if lane == Lane::Console {
            return Failure::new(StatusCode::FORBIDDEN, "this route is for the web console")
                .into_response();
        }
        return next.run(request).await;
    }
    let session = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(auth::session_cookie)
        .and_then(|id| state.console.csrf(id));
    let Some(csrf) = session else {
        return Failure::new(
            StatusCode::UNAUTHORIZED,
            "sign in to the console, or send the admin token",
        )
        .into_response();
    };
    let safe = matches!(*request.method(), Method::GET | Method::HEAD);
    let sent = headers
        .get(auth::CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !safe && !auth::constant_time_eq(sent.as_bytes(), csrf.as_bytes()) {
        return Failure::new(
            StatusCode::FORBIDDEN,
            "missing or wrong X-CSRF-Token header",
        )
        .into_response();
    }
    next.run(request).await
}

fn api_router(state: Arc<HostState>) -> Router {
    api::router()
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authorize,
        ))
        .layer(tower_http_limits())
        .with_state(state)
}

/// Request bodies are small JSON: refuse anything bigger before reading it.
fn tower_http_limits() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(16 * 1024)
}

/// Serves the API on the management listener and API + console on the console listener until
/// the runtime ends.
pub async fn serve(
    bound: Bound,
    tls: rustls::ServerConfig,
    state: Arc<HostState>,
) -> anyhow::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let api = api_router(state.clone());
    let console = api_router(state).merge(super::web::router());
    tokio::spawn(accept_loop(bound.mgmt, acceptor.clone(), api));
    tokio::spawn(accept_loop(bound.console, acceptor, console));
    Ok(())
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    app: Router,
) {
    loop {
        let Ok((tcp, peer)) = listener.accept().await else {
            continue;
        };
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            // A client that never finishes its handshake is dropped.
            let Ok(Ok(tls)) =
                tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await
            else {
                return;
            };
            let service =
                hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    app.clone().oneshot(request.map(axum::body::Body::new))
                });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection_with_upgrades(TokioIo::new(tls), service)
                .await;
        });
    }
}
