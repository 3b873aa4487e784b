//! PostgreSQL warehouse access: migrations, fenced partition claims, Arrow batches written with `COPY`.

pub mod copy;
pub mod offsets;

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};

pub use copy::{copy_batches, copy_batches_binary};
pub use offsets::{Claim, PartitionKey};

/// The channel of the `NOTIFY` each worker batch transaction sends on commit; the master (T3) and the
/// dashboards (live updates) listen to it.
pub const COMMIT_CHANNEL: &str = "freelanceflow_commit";

/// The migrations of the repository's `migrations/` folder, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    #[error("invalid database URL {url:?}: {source}")]
    Url { url: String, source: sqlx::Error },
    #[error("cannot connect to PostgreSQL at {target}: {source}")]
    Connect { target: String, source: sqlx::Error },
    #[error("cannot create database {target}: {source}")]
    CreateDatabase { target: String, source: sqlx::Error },
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("partition {0} is now owned by another worker (fenced)")]
    Fenced(PartitionKey),
    #[error("writing Arrow batch to {table}: {source}")]
    Encode {
        table: String,
        source: arrow::error::ArrowError,
    },
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

pub type Result<T, E = WarehouseError> = std::result::Result<T, E>;

/// Hides the password of a database URL for logs and errors.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Creates the database named in `url` when it does not exist yet.
pub async fn ensure_database(url: &str) -> Result<()> {
    let exists =
        Postgres::database_exists(url)
            .await
            .map_err(|source| WarehouseError::Connect {
                target: redact(url),
                source,
            })?;
    if !exists {
        tracing::info!(database = %redact(url), "creating database");
        Postgres::create_database(url)
            .await
            .map_err(|source| WarehouseError::CreateDatabase {
                target: redact(url),
                source,
            })?;
    }
    Ok(())
}

/// Opens a connection pool; `max` bounds its size.
pub async fn connect(url: &str, max: u32) -> Result<PgPool> {
    let opts = PgConnectOptions::from_str(url).map_err(|source| WarehouseError::Url {
        url: redact(url),
        source,
    })?;
    PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(15))
        .connect_with(opts)
        .await
        .map_err(|source| WarehouseError::Connect {
            target: redact(url),
            source,
        })
}

/// Creates the database if needed and applies every pending migration. Returns the schema version.
pub async fn migrate(url: &str) -> Result<i64> {
    ensure_database(url).await?;
    let pool = connect(url, 2).await?;
    MIGRATOR.run(&pool).await?;
    let version = schema_version(&pool).await?;
    pool.close().await;
    Ok(version)
}

/// The version of the latest applied migration (0 when none).
pub async fn schema_version(pool: &PgPool) -> Result<i64> {
    let v: Option<i64> =
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await?;
    Ok(v.unwrap_or(0))
}

/// The version of the newest migration embedded in this binary.
pub fn latest_embedded_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_password_only() {
        assert_eq!(
            redact("postgres://ff:secret@127.0.0.1:55432/freelances_db"),
            "postgres://ff:***@127.0.0.1:55432/freelances_db"
        );
        assert_eq!(redact("postgres://127.0.0.1/db"), "postgres://127.0.0.1/db");
    }

    #[test]
    fn migrations_are_embedded_in_order() {
        let versions: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
        assert!(versions.len() >= 2, "{versions:?}");
        assert!(versions.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(latest_embedded_version(), *versions.last().unwrap());
    }
}
