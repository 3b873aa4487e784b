//! `freelanceflow worker`: a member of the consumer group that owns partitions, reads micro-batches
//! and commits each one as a single fenced PostgreSQL transaction.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ff_warehouse::offsets::{self, Claim};
use ff_warehouse::PartitionKey;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::Message as _;
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use sqlx::{Connection, PgConnection, PgPool};
use tokio::runtime::Handle;

use crate::batch::{self, BatchError, Topics};
use crate::committer::{Committer, Done, Job, Outcome};
use crate::cursor::{Admit, Cursor};
use crate::decode::{Decoded, Message};
use crate::kafka::{self, KafkaSettings};
use crate::latency::Histogram;

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    pub worker_id: String,
    pub kafka: KafkaSettings,
    pub topics: Topics,
    pub database_url: String,
    /// A batch is committed when it holds this many records...
    pub max_batch: usize,
    /// ...or when its first record has waited this long.
    pub linger: Duration,
    /// Stop once every assigned partition is idle for this long (batch runs); never when None.
    pub exit_when_idle: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Warehouse(#[from] ff_warehouse::WarehouseError),
    #[error("Kafka: {0}")]
    Kafka(#[from] KafkaError),
    #[error("PostgreSQL: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("batch failed after {attempts} attempts: {source}")]
    Batch { attempts: u32, source: BatchError },
    #[error("claiming partitions failed: {0}")]
    Claim(String),
}

#[derive(Default)]
struct Assignment {
    claims: HashMap<PartitionKey, Claim>,
    /// bumped at every rebalance: a batch read under an older generation is dropped
    generation: u64,
    error: Option<String>,
}

/// Rebalance callback: claims assigned partitions in the warehouse and seeks to the stored offsets.
struct WorkerContext {
    rt: Handle,
    pool: PgPool,
    group: String,
    owner: String,
    state: Mutex<Assignment>,
}

impl ClientContext for WorkerContext {}

impl ConsumerContext for WorkerContext {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        let mut state = self.state.lock().expect("assignment lock");
        state.generation += 1;
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let keys: Vec<PartitionKey> = tpl
                    .elements()
                    .iter()
                    .map(|e| PartitionKey::new(e.topic(), e.partition()))
                    .collect();
                match self
                    .rt
                    .block_on(offsets::claim(&self.pool, &self.group, &self.owner, &keys))
                {
                    Ok(claims) => {
                        for c in &claims {
                            if let Err(e) = tpl.set_partition_offset(
                                &c.key.topic,
                                c.key.partition,
                                Offset::Offset(c.next_offset),
                            ) {
                                tracing::error!(partition = %c.key, error = %e, "cannot set offset");
                            }
                            tracing::info!(partition = %c.key, offset = c.next_offset, epoch = c.epoch,
                                "partition assigned, resuming at the offset stored in the warehouse");
                        }
                        state.claims = claims.into_iter().map(|c| (c.key.clone(), c)).collect();
                        if let Err(e) = consumer.assign(tpl) {
                            state.error = Some(format!("assign failed: {e}"));
                        }
                    }
                    Err(e) => {
                        state.claims.clear();
                        state.error = Some(e.to_string());
                        let _ = consumer.unassign();
                    }
                }
            }
            _ => {
                let revoked: Vec<Claim> = state.claims.drain().map(|(_, c)| c).collect();
                if !revoked.is_empty() {
                    tracing::info!(partitions = ?revoked.iter().map(|c| c.key.to_string()).collect::<Vec<_>>(),
                        "partitions revoked");
                    if let Err(e) =
                        self.rt
                            .block_on(offsets::release(&self.pool, &self.group, &revoked))
                    {
                        tracing::warn!(error = %e, "could not release partitions");
                    }
                }
                if err != RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS {
                    tracing::warn!(?err, "rebalance error");
                }
                let _ = consumer.unassign();
            }
        }
    }
}

async fn heartbeat(
    pool: &PgPool,
    id: &str,
    records: usize,
    batches: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO workers (worker_id, host, pid, records, batches) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (worker_id) DO UPDATE SET heartbeat_at = now(), host = EXCLUDED.host, pid = EXCLUDED.pid,
             records = workers.records + EXCLUDED.records, batches = workers.batches + EXCLUDED.batches",
    )
    .bind(id)
    .bind(hostname())
    .bind(std::process::id() as i32)
    .bind(records as i64)
    .bind(batches as i64)
    .execute(pool)
    .await?;
    Ok(())
}

/// Partitions of the group whose owner stopped heartbeating (or that nobody claimed) for `grace`.
///
/// A broker reassigns a dead member's partitions after its session timeout. tansu 0.6 does not when the
/// dead member was the group leader (the survivors keep their old assignment); leaving and rejoining
/// the group makes it elect a live leader. On Kafka this never finds anything.
async fn orphaned_partitions(
    pool: &PgPool,
    group: &str,
    grace: Duration,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM consumer_offsets o LEFT JOIN workers w ON w.worker_id = o.owner
         WHERE o.consumer_group = $1
           AND (o.owner IS NULL OR w.heartbeat_at IS NULL OR w.heartbeat_at < now() - make_interval(secs => $2))
           AND (o.claimed_at IS NULL OR o.claimed_at < now() - make_interval(secs => $2))",
    )
    .bind(group)
    .bind(grace.as_secs_f64())
    .fetch_one(pool)
    .await
}

/// What the worker reports: committed records and batches not yet in a heartbeat, and the latency.
#[derive(Default)]
struct Figures {
    records: usize,
    batches: u64,
    latency: Histogram,
}

/// Logs a batch that ended and adds it to the figures; a batch that failed every attempt ends the worker.
fn settle(done: Done, f: &mut Figures) -> Result<(), WorkerError> {
    match done.outcome {
        Outcome::Committed(stats) => {
            for ts in &done.produced_ms {
                f.latency.record((done.committed_ms - ts).max(0) as u64);
            }
            tracing::info!(
                records = stats.records,
                profiles = stats.profiles,
                invoices = stats.invoices,
                pending = stats.pending,
                rejects = stats.rejects,
                expired = stats.expired,
                stage_ms = ?stats.stage_ms,
                ms = done.elapsed.as_millis() as u64,
                "batch committed"
            );
            f.records += stats.records;
            f.batches += 1;
            COMMITTED_RECORDS.fetch_add(stats.records as u64, Ordering::Relaxed);
            COMMITTED_BATCHES.fetch_add(1, Ordering::Relaxed);
            LAST_COMMIT_MS.store(done.committed_ms, Ordering::Relaxed);
            Ok(())
        }
        Outcome::Fenced(e) => {
            tracing::warn!(error = %e, "batch dropped: this worker no longer owns the partition");
            Ok(())
        }
        Outcome::Failed { attempts, source } => Err(WorkerError::Batch { attempts, source }),
    }
}

/// Totals of this process's worker since it started, for `/metrics` (one worker per process).
static COMMITTED_RECORDS: AtomicU64 = AtomicU64::new(0);
static COMMITTED_BATCHES: AtomicU64 = AtomicU64::new(0);
static LAST_COMMIT_MS: AtomicI64 = AtomicI64::new(0);

/// The worker's Prometheus metrics, in the text exposition format.
pub fn metrics_text() -> String {
    format!(
        "# HELP freelanceflow_worker_committed_records_total Records committed to the warehouse by this worker.\n\
         # TYPE freelanceflow_worker_committed_records_total counter\n\
         freelanceflow_worker_committed_records_total {}\n\
         # HELP freelanceflow_worker_committed_batches_total Micro-batches committed by this worker.\n\
         # TYPE freelanceflow_worker_committed_batches_total counter\n\
         freelanceflow_worker_committed_batches_total {}\n\
         # HELP freelanceflow_worker_last_commit_timestamp_seconds When this worker last committed a batch.\n\
         # TYPE freelanceflow_worker_last_commit_timestamp_seconds gauge\n\
         freelanceflow_worker_last_commit_timestamp_seconds {}\n",
        COMMITTED_RECORDS.load(Ordering::Relaxed),
        COMMITTED_BATCHES.load(Ordering::Relaxed),
        LAST_COMMIT_MS.load(Ordering::Relaxed) as f64 / 1000.0,
    )
}

/// Serves `/metrics` and `/healthz` (the process is alive) for Prometheus and the kubelet.
pub async fn serve_metrics(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    use axum::routing::get;
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(|| async {
                (
                    [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
                    metrics_text(),
                )
            }),
        )
        .route("/healthz", get(|| async { "ok" }));
    axum::serve(listener, app).await
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// Runs a worker until `stop` is set (or until idle, see `exit_when_idle`). Blocking: call it from
/// a dedicated thread, with a handle to the Tokio runtime used for PostgreSQL and DataFusion.
pub fn run(cfg: WorkerConfig, rt: Handle, stop: Arc<AtomicBool>) -> Result<(), WorkerError> {
    let pool = rt.block_on(ff_warehouse::connect(&cfg.database_url, 3))?;
    let mut conn = rt.block_on(PgConnection::connect(&cfg.database_url))?;
    rt.block_on(batch::prepare(&mut conn))
        .map_err(|source| WorkerError::Batch {
            attempts: 1,
            source,
        })?;
    let mut committer = Committer::new(
        rt.clone(),
        conn,
        &cfg.database_url,
        &cfg.topics,
        &cfg.worker_id,
    );
    rt.block_on(heartbeat(&pool, &cfg.worker_id, 0, 0))?;

    let context = WorkerContext {
        rt: rt.clone(),
        pool: pool.clone(),
        group: cfg.topics.group.clone(),
        owner: cfg.worker_id.clone(),
        state: Mutex::new(Assignment::default()),
    };
    let consumer: BaseConsumer<WorkerContext> = cfg
        .kafka
        .consumer_config(&cfg.topics.group, &cfg.worker_id)
        .create_with_context(context)?;
    consumer.subscribe(&[&cfg.topics.profils, &cfg.topics.factures])?;
    tracing::info!(worker = %cfg.worker_id, group = %cfg.topics.group, "worker started");

    let mut decoded = Decoded::default();
    let mut batch_started: Option<Instant> = None;
    let mut generation = 0u64;
    let mut claims: HashMap<PartitionKey, Claim> = HashMap::new();
    let mut next: HashMap<PartitionKey, Cursor> = HashMap::new();
    let mut last_seen: HashMap<PartitionKey, Instant> = HashMap::new();
    let mut last_heartbeat = Instant::now();
    let mut last_record = Instant::now();
    let grace = Duration::from_millis(2 * cfg.kafka.session_timeout_ms as u64);
    let mut last_rejoin = Instant::now();
    let mut figures = Figures::default();
    // produce time (Kafka CreateTime, ms) of the invoices of the batch in progress
    let mut produced_ms: Vec<i64> = Vec::new();

    while !stop.load(Ordering::Relaxed) {
        let polled = consumer.poll(Duration::from_millis(100));
        {
            let mut state = consumer.context().state.lock().expect("assignment lock");
            if let Some(e) = state.error.take() {
                return Err(WorkerError::Claim(e));
            }
            if state.generation != generation {
                generation = state.generation;
                claims = state.claims.clone();
                next = claims
                    .iter()
                    .map(|(k, c)| (k.clone(), Cursor::new(c.next_offset)))
                    .collect();
                last_seen = claims.keys().map(|k| (k.clone(), Instant::now())).collect();
                // A stored offset beyond the broker's log end: the topic was recreated (or an
                // in-memory broker restarted). Its content is new; replay it from the start.
                for (key, claim) in &claims {
                    match consumer.fetch_watermarks(
                        &key.topic,
                        key.partition,
                        Duration::from_secs(5),
                    ) {
                        Ok((low, high)) if claim.next_offset > high => {
                            tracing::warn!(partition = %key, stored = claim.next_offset, log_end = high,
                                "the offset stored in the warehouse is beyond the broker's log: the topic was recreated; reading it from its start");
                            next.insert(key.clone(), Cursor::new(low));
                            kafka::seek(&consumer, key, low);
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(partition = %key, error = %e, "cannot read the log end")
                        }
                    }
                }
                if !decoded.is_empty() {
                    tracing::info!(
                        records = decoded.records(),
                        "rebalance: dropping the batch in progress"
                    );
                }
                decoded = Decoded::default();
                produced_ms.clear();
                batch_started = None;
            }
        }
        match polled {
            Some(Ok(m)) => {
                let key = PartitionKey::new(m.topic(), m.partition());
                last_seen.insert(key.clone(), Instant::now());
                // Exactly the offset after the last one committed: see `cursor`.
                match next.get_mut(&key).map(|c| c.admit(m.offset())) {
                    Some(Admit::Accept) => {
                        if m.topic() == cfg.topics.factures {
                            if let Some(ts) = m.timestamp().to_millis() {
                                produced_ms.push(ts);
                            }
                        }
                        decoded.push(Message {
                            topic: m.topic(),
                            partition: m.partition(),
                            offset: m.offset(),
                            payload: m.payload(),
                        });
                        batch_started.get_or_insert_with(Instant::now);
                        last_record = Instant::now();
                    }
                    Some(Admit::SeekTo(offset)) => {
                        tracing::debug!(partition = %key, got = m.offset(), seek = offset, "offsets missing before this message: seeking back");
                        kafka::seek(&consumer, &key, offset);
                    }
                    Some(Admit::Skip) | None => {}
                }
            }
            Some(Err(e)) => tracing::warn!(error = %e, "Kafka error"),
            None => {}
        }

        // The batch in flight: its numbers as soon as it ended.
        if let Some(done) = committer.try_finish() {
            settle(done, &mut figures)?;
        }
        let due = batch_started.is_some_and(|t| t.elapsed() >= cfg.linger);
        if !decoded.is_empty() && (decoded.records() >= cfg.max_batch || due) {
            // one batch in flight at a time: the next transaction must see this one's rows
            if let Some(done) = committer.finish() {
                settle(done, &mut figures)?;
            }
            committer.start(Job {
                claims: claims.clone(),
                decoded: std::mem::take(&mut decoded),
                produced_ms: std::mem::take(&mut produced_ms),
            });
            batch_started = None;
        }

        if last_heartbeat.elapsed() >= Duration::from_secs(2) {
            match rt.block_on(heartbeat(
                &pool,
                &cfg.worker_id,
                figures.records,
                figures.batches,
            )) {
                Ok(()) => (figures.records, figures.batches) = (0, 0),
                Err(e) => tracing::warn!(error = %e, "heartbeat failed"),
            }
            last_heartbeat = Instant::now();
            // An idle partition whose broker holds more than we consumed: the fetch skipped offsets.
            for (key, cursor) in next.iter_mut() {
                if last_seen
                    .get(key)
                    .is_some_and(|t| t.elapsed() < Duration::from_secs(2))
                {
                    continue;
                }
                if kafka::probe_idle(&consumer, key, cursor) {
                    last_seen.insert(key.clone(), Instant::now());
                }
            }
            if last_rejoin.elapsed() > 2 * grace {
                match rt.block_on(orphaned_partitions(&pool, &cfg.topics.group, grace)) {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::warn!(
                            partitions = n,
                            "partitions without a live owner: rejoining the group"
                        );
                        consumer.unsubscribe();
                        consumer.subscribe(&[&cfg.topics.profils, &cfg.topics.factures])?;
                        last_rejoin = Instant::now();
                    }
                    Err(e) => tracing::warn!(error = %e, "liveness check failed"),
                }
            }
        }
        if let Some(idle) = cfg.exit_when_idle {
            if decoded.is_empty()
                && !committer.busy()
                && !claims.is_empty()
                && last_record.elapsed() >= idle
            {
                tracing::info!("idle: every assigned partition is consumed");
                break;
            }
        }
    }
    if let Some(done) = committer.finish() {
        settle(done, &mut figures)?;
    }
    let _ = rt.block_on(heartbeat(
        &pool,
        &cfg.worker_id,
        figures.records,
        figures.batches,
    ));
    let mine: Vec<Claim> = claims.into_values().collect();
    let _ = rt.block_on(offsets::release(&pool, &cfg.topics.group, &mine));
    consumer.unsubscribe();
    if let (Some(p50), Some(p95), Some(p99)) = (
        figures.latency.quantile(0.5),
        figures.latency.quantile(0.95),
        figures.latency.quantile(0.99),
    ) {
        tracing::info!(
            invoices = figures.latency.count(),
            p50_ms = p50,
            p95_ms = p95,
            p99_ms = p99,
            max_ms = figures.latency.max(),
            "commit latency, from the invoice produced to its row committed"
        );
    }
    tracing::info!(worker = %cfg.worker_id, "worker stopped");
    Ok(())
}
