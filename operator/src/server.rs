//! The operator's HTTP endpoints: `/metrics` (Prometheus), `/healthz` (the process answers), `/readyz`
//! (every controller has started watching).

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use axum::{extract::State, http::StatusCode, routing::get, Router};

use crate::metrics::Metrics;

#[derive(Clone, Default)]
pub struct Health {
    pub ready: Arc<AtomicBool>,
}

#[derive(Clone)]
struct AppState {
    metrics: Metrics,
    health: Health,
}

pub fn router(metrics: Metrics, health: Health) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(s): State<AppState>| async move {
                (
                    [(
                        "content-type",
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    s.metrics.render(),
                )
            }),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(|State(s): State<AppState>| async move {
                if s.health.ready.load(Ordering::Relaxed) {
                    (StatusCode::OK, "ready")
                } else {
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "starting: the controllers are not watching yet",
                    )
                }
            }),
        )
        .with_state(AppState { metrics, health })
}
