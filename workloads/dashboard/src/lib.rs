//! `freelanceflow dashboard`: the three dashboards of FreelanceFlow (Financier, Ressources, Temps réel)
//! as server-rendered pages, and the JSON API behind every panel.

pub mod api;
pub mod auth;
pub mod data;
pub mod live;
pub mod pages;
pub mod svg;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Executor, PgPool};
use tokio::sync::broadcast;

use crate::auth::{Sessions, Users};

#[derive(Clone, Debug)]
pub struct DashboardConfig {
    pub listen: SocketAddr,
    pub database_url: String,
    /// Users and argon2 hashes; none: only `auth_header` users get in.
    pub users_file: Option<PathBuf>,
    /// Trust this header (set by an OIDC proxy) as the user name.
    pub auth_header: Option<String>,
    /// The master's API, for the status light (`/healthz`, `/lag`).
    pub master_url: String,
    /// Role to `SET ROLE` to on every connection (read-only grants only); none: stay as logged in.
    pub db_role: Option<String>,
    /// A worker silent for longer is dead.
    pub worker_timeout: Duration,
    /// Lag above which the status light turns orange.
    pub lag_warning: i64,
}

#[derive(Clone)]
pub struct AppState {
    pub cfg: Arc<DashboardConfig>,
    pub pool: PgPool,
    pub users: Arc<Users>,
    pub sessions: Arc<Sessions>,
    pub commits: broadcast::Sender<()>,
    pub http: reqwest::Client,
}

pub const SESSION_COOKIE: &str = "ff_session";

/// A read-only pool: every session is `default_transaction_read_only`, and runs as `db_role` if given.
pub async fn read_only_pool(url: &str, role: Option<&str>) -> Result<PgPool, sqlx::Error> {
    let role = role.map(str::to_string);
    PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(move |conn, _| {
            let role = role.clone();
            Box::pin(async move {
                conn.execute("SET default_transaction_read_only = on")
                    .await?;
                if let Some(role) = role {
                    // an identifier, not a value: quoted as one
                    let quoted = format!("\"{}\"", role.replace('"', "\"\""));
                    conn.execute(format!("SET ROLE {quoted}").as_str()).await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await
}

impl AppState {
    pub async fn new(cfg: DashboardConfig) -> anyhow::Result<AppState> {
        let users = match &cfg.users_file {
            Some(p) => Users::load(p)?,
            None => Users::default(),
        };
        if users.is_empty() && cfg.auth_header.is_none() {
            anyhow::bail!(
                "nobody could log in: give --users FILE (lines `user:argon2-hash`, see \
                 `freelanceflow dashboard-user`) or --auth-header for an OIDC proxy"
            );
        }
        let pool = read_only_pool(&cfg.database_url, cfg.db_role.as_deref()).await?;
        let (commits, _) = broadcast::channel(16);
        Ok(AppState {
            cfg: Arc::new(cfg),
            pool,
            users: Arc::new(users),
            sessions: Arc::new(Sessions::new(Duration::from_secs(12 * 3600))),
            commits,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(2))
                .build()?,
        })
    }
}

/// The user of a request: a valid session cookie, or the trusted proxy header.
pub fn user_of(state: &AppState, req: &axum::http::HeaderMap) -> Option<String> {
    if let Some(h) = &state.cfg.auth_header {
        if let Some(u) = req.get(h.as_str()).and_then(|v| v.to_str().ok()) {
            if !u.trim().is_empty() {
                return Some(u.trim().to_string());
            }
        }
    }
    session_token(req).and_then(|t| state.sessions.user(t))
}

/// The value of the session cookie, if the request has one.
pub fn session_token(req: &axum::http::HeaderMap) -> Option<&str> {
    req.get(header::COOKIE)?
        .to_str()
        .ok()?
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v)
}

async fn require_user(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if user_of(&state, req.headers()).is_some() {
        return next.run(req).await;
    }
    if req.uri().path().starts_with("/api/") {
        (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({"error": "log in first (POST /login) or send the proxy's user header"})),
        )
            .into_response()
    } else {
        let target = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        Redirect::to(&format!("/login?next={}", pages::url_encode(target))).into_response()
    }
}

pub fn router(state: AppState) -> Router {
    let protected = Router::new()
        .route("/", get(|| async { Redirect::to("/financier") }))
        .route("/financier", get(pages::financier))
        .route("/ressources", get(pages::ressources))
        .route("/temps-reel", get(pages::temps_reel))
        .route("/api/financier", get(api::financier))
        .route("/api/ressources", get(api::ressources))
        .route("/api/temps-reel", get(api::temps_reel))
        .route("/api/export/financier.xlsx", get(api::export_xlsx))
        .route("/api/export/financier.csv", get(api::export_csv))
        .route("/api/events", get(api::events))
        .layer(middleware::from_fn_with_state(state.clone(), require_user));
    Router::new()
        .merge(protected)
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(api::metrics))
        .route("/api/openapi.json", get(api::openapi))
        .with_state(state)
}

/// Serves until `stop` changes.
pub async fn serve(
    cfg: DashboardConfig,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let listen = cfg.listen;
    let state = AppState::new(cfg).await?;
    tokio::spawn(live::forward_commits(
        state.cfg.database_url.clone(),
        state.commits.clone(),
        Duration::from_millis(300),
    ));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    tracing::info!(%listen, users = state.users.len(), "dashboards listening");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move {
            let _ = stop.changed().await;
        })
        .await?;
    Ok(())
}
