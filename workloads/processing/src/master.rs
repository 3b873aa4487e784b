//! `freelanceflow master`: who owns which partition and freelancer, worker liveness, T3 after commits
//! and on a timer, the dead-letter topic drained into `rejets`, and the HTTP API.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use ff_core::Partitioner;
use serde::Serialize;
use serde_json::json;
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool};

use crate::batch::COMMIT_CHANNEL;
use crate::t3::{self, AsOf};

#[derive(Clone, Debug)]
pub struct MasterConfig {
    pub database_url: String,
    pub listen: std::net::SocketAddr,
    pub group: String,
    pub topic_profils: String,
    pub topic_factures: String,
    pub partitions: i32,
    pub partitioner: Partitioner,
    pub as_of: AsOf,
    /// T3 also runs on this timer, commits or not.
    pub t3_interval: Duration,
    /// At most one T3 run per this interval while commits keep coming (T3 shares the cores).
    pub t3_min_interval: Duration,
    /// A worker whose last heartbeat is older is reported dead.
    pub worker_timeout: Duration,
    /// The broker, for the consumer lag of `GET /lag`.
    pub kafka: crate::kafka::KafkaSettings,
}

#[derive(Clone)]
struct AppState {
    cfg: Arc<MasterConfig>,
    pool: PgPool,
    t3_ok: Arc<AtomicBool>,
    lag: LagSnapshot,
}

#[derive(Serialize, sqlx::FromRow)]
struct PartitionRow {
    topic: String,
    partition: i32,
    owner: Option<String>,
    next_offset: i64,
    epoch: i64,
    owner_alive: Option<bool>,
}

#[derive(Serialize, sqlx::FromRow)]
struct WorkerRow {
    worker_id: String,
    host: String,
    pid: i32,
    alive: bool,
    seconds_since_heartbeat: f64,
    records: i64,
    batches: i64,
}

struct ApiError(anyhow::Error);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": self.0.to_string()})),
        )
            .into_response()
    }
}

impl<E: Into<anyhow::Error>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

async fn partitions(s: &AppState) -> Result<Vec<PartitionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.topic, o.partition, o.owner, o.next_offset, o.epoch,
                (w.heartbeat_at > now() - make_interval(secs => $2)) AS owner_alive
         FROM consumer_offsets o LEFT JOIN workers w ON w.worker_id = o.owner
         WHERE o.consumer_group = $1 ORDER BY o.topic, o.partition",
    )
    .bind(&s.cfg.group)
    .bind(s.cfg.worker_timeout.as_secs_f64())
    .fetch_all(&s.pool)
    .await
}

async fn workers(s: &AppState) -> Result<Vec<WorkerRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT worker_id, host, pid, heartbeat_at > now() - make_interval(secs => $1) AS alive,
                extract(epoch FROM now() - heartbeat_at)::float8 AS seconds_since_heartbeat, records, batches
         FROM workers ORDER BY worker_id",
    )
    .bind(s.cfg.worker_timeout.as_secs_f64())
    .fetch_all(&s.pool)
    .await
}

async fn assignment(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let ranges = s.cfg.partitioner.ranges_description(s.cfg.partitions);
    let parts = partitions(&s).await?;
    let by_partition: Vec<_> = (0..s.cfg.partitions)
        .map(|p| {
            let owned: Vec<&PartitionRow> = parts.iter().filter(|r| r.partition == p).collect();
            let owner = owned
                .iter()
                .find(|r| r.topic == s.cfg.topic_factures)
                .or(owned.first())
                .and_then(|r| r.owner.clone());
            json!({
                "partition": p,
                "freelance_ids": ranges.get(p as usize),
                "worker": owner,
                "topics": owned,
            })
        })
        .collect();
    Ok(Json(json!({
        "group": s.cfg.group,
        "partitioner": format!("{:?}", s.cfg.partitioner),
        "partitions": by_partition,
        "workers": workers(&s).await?,
    })))
}

async fn locate(State(s): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let Ok(id) = id.trim().parse::<i64>() else {
        return Ok((
            StatusCode::BAD_REQUEST,
            Json(json!({"error": format!("freelance id must be an integer, got {id:?}")})),
        )
            .into_response());
    };
    let partition = s.cfg.partitioner.partition(id, s.cfg.partitions);
    let parts = partitions(&s).await?;
    let row = parts
        .iter()
        .find(|r| r.partition == partition && r.topic == s.cfg.topic_factures)
        .or_else(|| parts.iter().find(|r| r.partition == partition));
    let known: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM freelances WHERE id = $1)")
        .bind(id)
        .fetch_one(&s.pool)
        .await?;
    Ok(Json(json!({
        "freelance_id": id,
        "partition": partition,
        "worker": row.and_then(|r| r.owner.clone()),
        "worker_alive": row.and_then(|r| r.owner_alive),
        "known": known,
    }))
    .into_response())
}

async fn healthz(State(s): State<AppState>) -> Response {
    match sqlx::query_scalar::<_, i32>("SELECT 1")
        .fetch_one(&s.pool)
        .await
    {
        Ok(_) => {
            Json(json!({"status": "ok", "t3": s.t3_ok.load(Ordering::Relaxed)})).into_response()
        }
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "error": e.to_string()})),
        )
            .into_response(),
    }
}

async fn kpis(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT kpi, period, value::text FROM indicateurs WHERE dimension = '' ORDER BY kpi, period",
    )
    .fetch_all(&s.pool)
    .await?;
    Ok(Json(json!(rows
        .into_iter()
        .map(|(k, p, v)| json!({"kpi": k, "period": p, "value": v}))
        .collect::<Vec<_>>())))
}

/// Records published to the workers' topics and not committed yet, per partition and in total, as
/// measured by [`lag_loop`] at most a second ago (dashboards poll this; the broker is asked once).
async fn lag(State(s): State<AppState>) -> Response {
    match s.lag.read().expect("lag lock").clone() {
        Some(snapshot) => Json(snapshot).into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "the consumer lag is not measured yet"})),
        )
            .into_response(),
    }
}

/// Prometheus metrics of the pipeline, in the text exposition format: the consumer lag per partition
/// (from the last measurement), live workers (heartbeats), whether the last T3 run succeeded.
async fn metrics(State(s): State<AppState>) -> Result<Response, ApiError> {
    use std::fmt::Write;
    let alive: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM workers WHERE heartbeat_at > now() - make_interval(secs => $1)",
    )
    .bind(s.cfg.worker_timeout.as_secs_f64())
    .fetch_one(&s.pool)
    .await?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP freelanceflow_workers_alive Workers with a recent heartbeat."
    );
    let _ = writeln!(
        out,
        "# TYPE freelanceflow_workers_alive gauge\nfreelanceflow_workers_alive {alive}"
    );
    let _ = writeln!(
        out,
        "# HELP freelanceflow_t3_ok 1 when the last T3 (indicators) run succeeded."
    );
    let t3 = u8::from(s.t3_ok.load(Ordering::Relaxed));
    let _ = writeln!(
        out,
        "# TYPE freelanceflow_t3_ok gauge\nfreelanceflow_t3_ok {t3}"
    );
    if let Some(snapshot) = s.lag.read().expect("lag lock").clone() {
        let _ = writeln!(out, "# HELP freelanceflow_consumer_lag Records published and not committed yet, per partition.");
        let _ = writeln!(out, "# TYPE freelanceflow_consumer_lag gauge");
        for p in snapshot["partitions"].as_array().into_iter().flatten() {
            let topic = p["topic"]
                .as_str()
                .unwrap_or_default()
                .replace(['\\', '"', '\n'], "_");
            let _ = writeln!(
                out,
                "freelanceflow_consumer_lag{{topic=\"{topic}\",partition=\"{}\"}} {}",
                p["partition"],
                p["lag"].as_i64().unwrap_or(0).max(0)
            );
        }
    }
    Ok((
        [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
        out,
    )
        .into_response())
}

/// The last consumer-lag measurement, shared by the API.
pub type LagSnapshot = Arc<std::sync::RwLock<Option<serde_json::Value>>>;

/// Measures the workers' consumer lag every second with one broker client, until `stop` resolves.
pub async fn lag_loop(
    cfg: Arc<MasterConfig>,
    pool: PgPool,
    snapshot: LagSnapshot,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let consumer = crate::lag::client(&cfg.kafka)?;
    loop {
        let topics = [cfg.topic_profils.as_str(), cfg.topic_factures.as_str()];
        let value = match crate::lag::lag(&consumer, &pool, &cfg.group, &topics).await {
            Ok(parts) => {
                let total: i64 = parts.iter().map(|p| p.lag.max(0)).sum();
                Some(
                    json!({"total": total, "partitions": parts, "measured_at": chrono::Utc::now()}),
                )
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot measure the consumer lag");
                None
            }
        };
        *snapshot.write().expect("lag lock") = value;
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => return Ok(()),
        }
    }
}

pub fn router(
    cfg: Arc<MasterConfig>,
    pool: PgPool,
    t3_ok: Arc<AtomicBool>,
    lag_snapshot: LagSnapshot,
) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/assignment", get(assignment))
        .route("/locate/{freelance_id}", get(locate))
        .route("/kpis", get(kpis))
        .route("/lag", get(lag))
        .route("/metrics", get(metrics))
        .with_state(AppState {
            cfg,
            pool,
            t3_ok,
            lag: lag_snapshot,
        })
}

/// Recomputes T3 after worker commits (debounced) and on a timer, until `stop` resolves.
pub async fn t3_loop(
    cfg: Arc<MasterConfig>,
    t3_ok: Arc<AtomicBool>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut conn: PgConnection = sqlx::Connection::connect(&cfg.database_url).await?;
    let mut listener = PgListener::connect(&cfg.database_url).await?;
    listener.listen(COMMIT_CHANNEL).await?;
    let mut dirty = true;
    let mut last_run = std::time::Instant::now();
    loop {
        if std::mem::take(&mut dirty) {
            // let a burst of commits settle, and leave the cores to the workers for a while
            let pause = cfg
                .t3_min_interval
                .saturating_sub(last_run.elapsed())
                .max(Duration::from_millis(300));
            tokio::time::sleep(pause).await;
            while let Ok(Ok(_)) =
                tokio::time::timeout(Duration::from_millis(5), listener.recv()).await
            {}
            let started = std::time::Instant::now();
            last_run = started;
            match t3::compute(&mut conn, cfg.as_of).await {
                Ok((as_of, rows)) => {
                    t3_ok.store(true, Ordering::Relaxed);
                    tracing::info!(%as_of, rows, ms = started.elapsed().as_millis() as u64, "T3 indicators computed");
                }
                Err(e) => {
                    t3_ok.store(false, Ordering::Relaxed);
                    tracing::error!(error = %e, "T3 failed");
                    conn = sqlx::Connection::connect(&cfg.database_url).await?;
                }
            }
        }
        tokio::select! {
            n = listener.recv() => { n?; dirty = true; }
            _ = tokio::time::sleep(cfg.t3_interval) => { dirty = true; }
            _ = stop.changed() => return Ok(()),
        }
    }
}
