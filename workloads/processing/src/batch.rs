//! One micro-batch = one PostgreSQL transaction: fence, T1, T2, upserts, rejects, markers, offsets.

use std::collections::{BTreeSet, HashMap};

use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;
use ff_warehouse::offsets::{self, Claim};
use ff_warehouse::{copy_batches, copy_batches_binary, PartitionKey, WarehouseError};
use sqlx::{Connection, PgConnection, Row};

use crate::decode::{self, Decoded, InvoiceRow, Origin};
use crate::engine::{self, sql};

pub use ff_warehouse::COMMIT_CHANNEL;

const PROFILE_COLUMNS: &[&str] = &[
    "topic",
    "partition",
    "kafka_offset",
    "source_file",
    "source_line",
    "id",
    "nom",
    "prenom",
    "email",
    "competences",
    "tarif_jour",
    "ville",
    "statut",
    "date_inscription",
    "extra",
];
/// The columns of `factures` a batch writes, in the order of `t1_factures_connues.sql`: for the direct
/// COPY of invoices never seen before and for the staging table of the upserts alike.
const INVOICE_COLUMNS: &[&str] = &[
    "source_topic",
    "source_partition",
    "source_offset",
    "source_file",
    "source_line",
    "facture_id",
    "freelance_id",
    "montant",
    "date",
    "echeance",
    "statut",
    "jours",
    "jours_derives",
    "client",
];
const PENDING_COLUMNS: &[&str] = &[
    "facture_id",
    "freelance_id",
    "montant",
    "date",
    "echeance",
    "statut",
    "jours",
    "client",
    "source_topic",
    "source_partition",
    "source_offset",
    "source_file",
    "source_line",
    "raw",
];
const T2_COLUMNS: &[&str] = &["freelance_id", "mois", "ca", "jours", "nb_factures"];
const REJECT_COLUMNS: &[&str] = &[
    "fingerprint",
    "entity",
    "rule",
    "message",
    "source_file",
    "source_line",
    "topic",
    "partition",
    "kafka_offset",
    "load_id",
    "raw",
];

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
    #[error("PostgreSQL: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("DataFusion: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
    #[error("Arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
}

impl BatchError {
    /// True when this worker no longer owns a partition of the batch: the batch must be dropped.
    pub fn is_fenced(&self) -> bool {
        matches!(self, BatchError::Warehouse(WarehouseError::Fenced(_)))
    }
}

/// Topic names and consumer group of the workers.
#[derive(Clone, Debug)]
pub struct Topics {
    pub group: String,
    pub profils: String,
    pub factures: String,
}

/// What a committed batch did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchStats {
    pub records: usize,
    pub profiles: usize,
    pub invoices: usize,
    pub pending: usize,
    pub rejects: usize,
    pub expired: u64,
    /// milliseconds spent in each stage: profiles, lookups, DataFusion, invoices merge, rest
    pub stage_ms: [u32; 5],
}

/// Creates the per-connection staging tables; call once per worker connection.
pub async fn prepare(conn: &mut PgConnection) -> Result<(), BatchError> {
    sqlx::raw_sql(sql::PG_STAGING).execute(conn).await?;
    Ok(())
}

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(|b| b.num_rows()).sum()
}

/// Processes and commits one micro-batch in ONE transaction, fenced by the claims of its partitions.
pub async fn commit(
    conn: &mut PgConnection,
    topics: &Topics,
    claims: &HashMap<PartitionKey, Claim>,
    worker_id: &str,
    decoded: &Decoded,
) -> Result<BatchStats, BatchError> {
    let mut stats = BatchStats {
        records: decoded.records(),
        ..Default::default()
    };
    let mut clock = std::time::Instant::now();
    let mut lap = |stats: &mut BatchStats, stage: usize| {
        stats.stage_ms[stage] += clock.elapsed().as_millis() as u32;
        clock = std::time::Instant::now();
    };
    let mut tx = conn.begin().await?;

    // Fence first: a worker that lost one of these partitions stops here.
    let mut batch_claims = Vec::with_capacity(decoded.offsets.len());
    for key in decoded.offsets.keys() {
        let claim = claims
            .get(key)
            .ok_or_else(|| WarehouseError::Fenced(key.clone()))?;
        batch_claims.push(claim);
    }
    offsets::lock_claims(&mut tx, &topics.group, &batch_claims).await?;

    let ctx = engine::session();

    // T1 profiles: deduplicate, upsert.
    engine::register(
        &ctx,
        "profils_valides",
        decode::profiles_batch(&decoded.profiles),
    )?;
    let profiles = engine::run(&ctx, sql::T1_PROFILS).await?;
    stats.profiles = rows(&profiles);
    copy_batches(&mut tx, "stg_profils", PROFILE_COLUMNS, &profiles).await?;
    let rate_changed: Vec<i64> = sqlx::query_scalar(sql::PG_MERGE_PROFILS)
        .fetch_all(&mut *tx)
        .await?;

    // Pending invoices released by the profiles that just arrived.
    let profile_ids: Vec<i64> = decoded
        .profiles
        .iter()
        .map(|(_, p)| p.id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    lap(&mut stats, 0);
    let released = if profile_ids.is_empty() {
        Vec::new()
    } else {
        release_pending(&mut tx, &profile_ids).await?
    };

    let invoices = &decoded.invoices;
    let mut deltas = Vec::new();
    if !invoices.is_empty() || !released.is_empty() {
        let all = || invoices.iter().chain(released.iter());
        let ids: Vec<i64> = all()
            .map(|r| r.freelance_id)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let facture_ids: Vec<&str> = all().map(|r| r.facture_id.as_str()).collect();
        let tarifs: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, (tarif_jour * 100)::bigint FROM freelances WHERE id = ANY($1)",
        )
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?;
        let previous: Vec<(String, i64, NaiveDate, i64, i64)> = sqlx::query_as(
            "SELECT facture_id, freelance_id, date, (montant * 100)::bigint, (jours * 100)::bigint
             FROM factures WHERE facture_id = ANY($1) ORDER BY facture_id FOR UPDATE",
        )
        .bind(&facture_ids)
        .fetch_all(&mut *tx)
        .await?;

        lap(&mut stats, 1);
        engine::register(&ctx, "factures_valides", decode::invoices_batch(invoices))?;
        engine::register(&ctx, "factures_liberees", decode::invoices_batch(&released))?;
        engine::register(&ctx, "tarifs", decode::tarifs_batch(&tarifs))?;
        engine::register(
            &ctx,
            "factures_anciennes",
            decode::previous_batch(&previous),
        )?;
        let known_df = ctx.sql(sql::T1_FACTURES_CONNUES).await?;
        let known_schema = std::sync::Arc::new(known_df.schema().as_arrow().clone());
        let known = known_df.collect().await?;
        let pending = engine::run(&ctx, sql::T1_FACTURES_EN_ATTENTE).await?;
        stats.invoices = rows(&known);
        stats.pending = rows(&pending);
        engine::register(
            &ctx,
            "factures_nouvelles",
            engine::concat(&known_schema, &known)?,
        )?;
        deltas = engine::run(&ctx, sql::T2_DELTAS).await?;

        lap(&mut stats, 2);
        // New invoices (the bulk of a load) go straight into `factures` with COPY; versions that
        // replace a stored one are upserted. A facture_id already used by another partition makes the
        // COPY fail: the savepoint is rolled back and everything goes through the upsert.
        let fresh = engine::run(&ctx, sql::T1_FACTURES_INEDITES).await?;
        let mut direct = (*tx).begin().await?;
        let upsert_all = match copy_batches_binary(&mut direct, "factures", INVOICE_COLUMNS, &fresh)
            .await
        {
            Ok(_) => {
                direct.commit().await?;
                false
            }
            Err(WarehouseError::Sql(sqlx::Error::Database(e))) if e.is_unique_violation() => {
                direct.rollback().await?;
                tracing::warn!(error = %e, "an invoice id of this batch exists in another partition: upserting");
                true
            }
            Err(e) => return Err(e.into()),
        };
        let upserts = if upsert_all {
            known
        } else {
            engine::run(&ctx, sql::T1_FACTURES_REMPLACANTES).await?
        };
        if rows(&upserts) > 0 {
            copy_batches_binary(&mut tx, "stg_factures", INVOICE_COLUMNS, &upserts).await?;
            sqlx::query(sql::PG_MERGE_FACTURES)
                .execute(&mut *tx)
                .await?;
        }
        if stats.pending > 0 {
            copy_batches(&mut tx, "stg_attente", PENDING_COLUMNS, &pending).await?;
            sqlx::query(sql::PG_MERGE_ATTENTE).execute(&mut *tx).await?;
        }
    }
    lap(&mut stats, 3);
    if rows(&deltas) > 0 {
        copy_batches(&mut tx, "stg_t2", T2_COLUMNS, &deltas).await?;
        for statement in sql::statements(sql::PG_MERGE_T2) {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
    }
    if !rate_changed.is_empty() {
        for statement in sql::statements(sql::PG_RATE_CHANGED) {
            sqlx::query(statement)
                .bind(&rate_changed)
                .execute(&mut *tx)
                .await?;
        }
    }

    // Rejects: every one recorded, once.
    if !decoded.rejects.is_empty() {
        stats.rejects = decoded.rejects.len();
        let batch = decode::rejects_batch(&decoded.rejects);
        copy_batches(&mut tx, "stg_rejets", REJECT_COLUMNS, &[batch]).await?;
        sqlx::query(sql::PG_MERGE_REJETS).execute(&mut *tx).await?;
    }

    // End-of-load markers: once seen on both topics, invoices still pending are rejected.
    for m in &decoded.markers {
        sqlx::query(
            "INSERT INTO fins_chargement (load_id, topic, partition) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(&m.load_id)
        .bind(&m.topic)
        .bind(m.partition)
        .execute(&mut *tx)
        .await?;
    }
    for m in &decoded.markers {
        let seen: i64 = sqlx::query_scalar(
            "SELECT count(DISTINCT topic) FROM fins_chargement
             WHERE load_id = $1 AND partition = $2 AND topic IN ($3, $4)",
        )
        .bind(&m.load_id)
        .bind(m.partition)
        .bind(&topics.profils)
        .bind(&topics.factures)
        .fetch_one(&mut *tx)
        .await?;
        if seen == 2 {
            let factures_marker = decoded
                .markers
                .iter()
                .find(|x| {
                    x.load_id == m.load_id
                        && x.topic == topics.factures
                        && x.partition == m.partition
                })
                .map(|x| x.offset)
                .unwrap_or(i64::MAX);
            stats.expired += sqlx::query(sql::PG_END_OF_LOAD)
                .bind(&m.load_id)
                .bind(m.partition)
                .bind(&topics.factures)
                .bind(factures_marker)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
    }

    for (claim, (_, last)) in batch_claims.iter().zip(decoded.offsets.values()) {
        offsets::advance(&mut tx, &topics.group, claim, last + 1).await?;
    }
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(COMMIT_CHANNEL)
        .bind(worker_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    lap(&mut stats, 4);
    Ok(stats)
}

async fn release_pending(
    conn: &mut PgConnection,
    ids: &[i64],
) -> Result<Vec<InvoiceRow>, BatchError> {
    let rows = sqlx::query(
        "DELETE FROM factures_en_attente WHERE freelance_id = ANY($1)
         RETURNING facture_id, freelance_id, (montant * 100)::bigint AS montant, date, echeance, statut,
                   (jours * 100)::bigint AS jours, client, source_topic, source_partition, source_offset,
                   source_file, source_line, raw",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(InvoiceRow {
                origin: Origin {
                    topic: r.try_get("source_topic")?,
                    partition: r.try_get("source_partition")?,
                    offset: r.try_get("source_offset")?,
                    file: r.try_get("source_file")?,
                    line: r.try_get("source_line")?,
                },
                facture_id: r.try_get("facture_id")?,
                freelance_id: r.try_get("freelance_id")?,
                montant_cents: r.try_get("montant")?,
                date: r.try_get("date")?,
                echeance: r.try_get("echeance")?,
                statut: r.try_get("statut")?,
                jours_cents: r.try_get("jours")?,
                client: r.try_get("client")?,
                raw: r.try_get("raw")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(BatchError::from)
}
