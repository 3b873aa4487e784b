//! Consumer offsets stored in the warehouse, next to the rows they produced, fenced by an epoch.
//!
//! A worker that is assigned a partition *claims* it: the row's `epoch` is bumped and the stored
//! `next_offset` returned, where the worker seeks. Every batch transaction first locks the rows of its
//! partitions and checks the epoch it claimed; a worker that lost a partition meanwhile finds a newer
//! epoch and rolls back. The row lock serialises a late commit with the new owner's claim.

use std::fmt;

use sqlx::{PgConnection, PgPool};

use crate::{Result, WarehouseError};

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartitionKey {
    pub topic: String,
    pub partition: i32,
}

impl PartitionKey {
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        Self {
            topic: topic.into(),
            partition,
        }
    }
}

impl fmt::Display for PartitionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.topic, self.partition)
    }
}

/// A partition this process owns: where to resume and the epoch that proves ownership.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub key: PartitionKey,
    pub next_offset: i64,
    pub epoch: i64,
}

/// Claims `keys` for `owner` in one transaction and returns where to resume each of them.
pub async fn claim(
    pool: &PgPool,
    group: &str,
    owner: &str,
    keys: &[PartitionKey],
) -> Result<Vec<Claim>> {
    let mut tx = pool.begin().await?;
    let mut claims = Vec::with_capacity(keys.len());
    for key in keys {
        let (next_offset, epoch): (i64, i64) = sqlx::query_as(
            "INSERT INTO consumer_offsets AS o (consumer_group, topic, partition, next_offset, epoch, owner, claimed_at)
             VALUES ($1, $2, $3, 0, 1, $4, now())
             ON CONFLICT (consumer_group, topic, partition)
             DO UPDATE SET epoch = o.epoch + 1, owner = EXCLUDED.owner, claimed_at = now()
             RETURNING next_offset, epoch",
        )
        .bind(group)
        .bind(&key.topic)
        .bind(key.partition)
        .bind(owner)
        .fetch_one(&mut *tx)
        .await?;
        claims.push(Claim {
            key: key.clone(),
            next_offset,
            epoch,
        });
    }
    tx.commit().await?;
    Ok(claims)
}

/// Gives partitions back (on revocation) so the master shows them unowned until the next claim.
pub async fn release(pool: &PgPool, group: &str, claims: &[Claim]) -> Result<()> {
    for c in claims {
        sqlx::query(
            "UPDATE consumer_offsets SET owner = NULL
             WHERE consumer_group = $1 AND topic = $2 AND partition = $3 AND epoch = $4",
        )
        .bind(group)
        .bind(&c.key.topic)
        .bind(c.key.partition)
        .bind(c.epoch)
        .execute(pool)
        .await?;
    }
    Ok(())
}

/// First statement of a batch transaction: locks the offset rows and checks the claims still hold.
pub async fn lock_claims(conn: &mut PgConnection, group: &str, claims: &[&Claim]) -> Result<()> {
    for c in claims {
        let epoch: Option<i64> = sqlx::query_scalar(
            "SELECT epoch FROM consumer_offsets
             WHERE consumer_group = $1 AND topic = $2 AND partition = $3 FOR UPDATE",
        )
        .bind(group)
        .bind(&c.key.topic)
        .bind(c.key.partition)
        .fetch_optional(&mut *conn)
        .await?;
        if epoch != Some(c.epoch) {
            return Err(WarehouseError::Fenced(c.key.clone()));
        }
    }
    Ok(())
}

/// Last statement of a batch transaction: stores the next offsets to read.
pub async fn advance(
    conn: &mut PgConnection,
    group: &str,
    claim: &Claim,
    next_offset: i64,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE consumer_offsets SET next_offset = $5, committed_at = now()
         WHERE consumer_group = $1 AND topic = $2 AND partition = $3 AND epoch = $4",
    )
    .bind(group)
    .bind(&claim.key.topic)
    .bind(claim.key.partition)
    .bind(claim.epoch)
    .bind(next_offset)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Err(WarehouseError::Fenced(claim.key.clone()));
    }
    Ok(())
}

/// One row of `consumer_offsets`, for the master and the tests.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StoredOffset {
    pub consumer_group: String,
    pub topic: String,
    pub partition: i32,
    pub next_offset: i64,
    pub epoch: i64,
    pub owner: Option<String>,
}

pub async fn stored_offsets(pool: &PgPool, group: &str) -> Result<Vec<StoredOffset>> {
    Ok(sqlx::query_as(
        "SELECT consumer_group, topic, partition, next_offset, epoch, owner FROM consumer_offsets
         WHERE consumer_group = $1 ORDER BY topic, partition",
    )
    .bind(group)
    .fetch_all(pool)
    .await?)
}
