//! Commits micro-batches on a thread of their own while the consumer thread reads and decodes the next one.
//!
//! At most one batch is in flight, and the next one starts only after it ended: transactions stay in
//! offset order, and a batch sees the rows of the one before (stored versions, pending invoices). What
//! overlaps is the consumer's work (fetching, T1 field rules, Arrow) with the commit's (DataFusion,
//! PostgreSQL), which kept one of them idle while the other worked.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ff_warehouse::offsets::Claim;
use ff_warehouse::PartitionKey;
use sqlx::{Connection, PgConnection};
use std::thread::JoinHandle;
use tokio::runtime::Handle;

use crate::batch::{self, BatchError, BatchStats, Topics};
use crate::decode::Decoded;

/// Attempts per batch before the worker gives up (a fenced batch is never retried).
pub const ATTEMPTS: u32 = 5;

/// One micro-batch to commit.
pub struct Job {
    pub claims: HashMap<PartitionKey, Claim>,
    pub decoded: Decoded,
    /// produce times (Kafka CreateTime, ms) of the batch's invoices, for the latency histogram
    pub produced_ms: Vec<i64>,
}

/// How a batch ended.
pub enum Outcome {
    Committed(BatchStats),
    /// This worker no longer owns one of the batch's partitions: the batch was dropped.
    Fenced(BatchError),
    /// Every attempt failed (or PostgreSQL could not be reached again after one did).
    Failed {
        attempts: u32,
        source: BatchError,
    },
}

pub struct Done {
    pub outcome: Outcome,
    pub produced_ms: Vec<i64>,
    /// when the transaction committed (ms since the epoch)
    pub committed_ms: i64,
    pub elapsed: Duration,
}

/// The worker's PostgreSQL connection, either idle here or lent to the batch in flight.
pub struct Committer {
    rt: Handle,
    database_url: String,
    topics: Topics,
    worker_id: String,
    idle: Option<PgConnection>,
    in_flight: Option<JoinHandle<(PgConnection, Done)>>,
}

impl Committer {
    pub fn new(
        rt: Handle,
        conn: PgConnection,
        database_url: &str,
        topics: &Topics,
        worker_id: &str,
    ) -> Committer {
        Committer {
            rt,
            database_url: database_url.to_string(),
            topics: topics.clone(),
            worker_id: worker_id.to_string(),
            idle: Some(conn),
            in_flight: None,
        }
    }

    pub fn busy(&self) -> bool {
        self.in_flight.is_some()
    }

    /// The batch in flight, once it ended; never blocks.
    pub fn try_finish(&mut self) -> Option<Done> {
        if self.in_flight.as_ref().is_some_and(JoinHandle::is_finished) {
            self.finish()
        } else {
            None
        }
    }

    /// Waits for the batch in flight, if any.
    pub fn finish(&mut self) -> Option<Done> {
        let handle = self.in_flight.take()?;
        // A panic in the commit thread is a bug: let it end the worker as it would have inline.
        let (conn, done) = handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        self.idle = Some(conn);
        Some(done)
    }

    /// Starts committing `job`. The batch in flight must have been finished first.
    pub fn start(&mut self, job: Job) {
        let conn = self
            .idle
            .take()
            .expect("Committer::start with a batch still in flight");
        let (rt, url, topics, worker) = (
            self.rt.clone(),
            self.database_url.clone(),
            self.topics.clone(),
            self.worker_id.clone(),
        );
        // A thread of its own that blocks on the runtime, as the consumer thread did (the commit
        // future borrows across awaits in ways that are not `Send`, so it cannot be a Tokio task).
        let handle = std::thread::Builder::new()
            .name("commit".into())
            .spawn(move || rt.block_on(commit_with_retries(conn, &url, &topics, &worker, job)))
            .expect("spawning the commit thread");
        self.in_flight = Some(handle);
    }
}

async fn commit_with_retries(
    mut conn: PgConnection,
    url: &str,
    topics: &Topics,
    worker_id: &str,
    job: Job,
) -> (PgConnection, Done) {
    let started = Instant::now();
    let mut attempt = 0;
    let outcome = loop {
        attempt += 1;
        match batch::commit(&mut conn, topics, &job.claims, worker_id, &job.decoded).await {
            Ok(stats) => break Outcome::Committed(stats),
            Err(e) if e.is_fenced() => break Outcome::Fenced(e),
            Err(e) if attempt < ATTEMPTS => {
                tracing::warn!(error = %e, attempt, "batch failed, retrying");
                tokio::time::sleep(Duration::from_millis(200 * attempt as u64)).await;
                if attempt >= 2 {
                    // a fresh session, in case this one is what fails
                    match reconnect(url).await {
                        Ok(c) => conn = c,
                        Err(source) => {
                            break Outcome::Failed {
                                attempts: attempt,
                                source,
                            }
                        }
                    }
                }
            }
            Err(source) => {
                break Outcome::Failed {
                    attempts: attempt,
                    source,
                }
            }
        }
    };
    let done = Done {
        outcome,
        produced_ms: job.produced_ms,
        committed_ms: chrono::Utc::now().timestamp_millis(),
        elapsed: started.elapsed(),
    };
    (conn, done)
}

async fn reconnect(url: &str) -> Result<PgConnection, BatchError> {
    let mut conn = PgConnection::connect(url).await?;
    batch::prepare(&mut conn).await?;
    Ok(conn)
}
