//! What the operator does inside the warehouse database, behind a trait: migrations and the read-only
//! login for Grafana. The real implementation uses ff-warehouse (the same migrations as `freelanceflow
//! migrate`); tests of the reconcilers use a fake.

use async_trait::async_trait;

use crate::error::{Error, Result};

#[async_trait]
pub trait WarehouseDb: Send + Sync {
    /// Applies the pending migrations; returns the schema version.
    async fn migrate(&self, url: &str) -> Result<i64>;
    /// Creates or updates a LOGIN role that is a member of `freelanceflow_reader`.
    async fn ensure_reader_login(&self, url: &str, role: &str, password: &str) -> Result<()>;
}

pub struct Postgres;

#[async_trait]
impl WarehouseDb for Postgres {
    async fn migrate(&self, url: &str) -> Result<i64> {
        ff_warehouse::migrate(url)
            .await
            .map_err(|e| Error::Warehouse(format!("migrating {}: {e}", ff_warehouse::redact(url))))
    }

    async fn ensure_reader_login(&self, url: &str, role: &str, password: &str) -> Result<()> {
        let err = |e: sqlx::Error| {
            Error::Warehouse(format!(
                "reader login {role} on {}: {e}",
                ff_warehouse::redact(url)
            ))
        };
        let pool = ff_warehouse::connect(url, 1)
            .await
            .map_err(|e| Error::Warehouse(e.to_string()))?;
        // identifiers cannot be bound: the role name is checked, the password is a literal quoted by
        // PostgreSQL's own quote_literal in a DO block
        if !role
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(Error::Warehouse(format!("invalid role name {role:?}")));
        }
        let sql = format!(
            "DO $$ BEGIN
               IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
                 EXECUTE format('CREATE ROLE {role} LOGIN PASSWORD %L', $pw${password}$pw$);
               ELSE
                 EXECUTE format('ALTER ROLE {role} LOGIN PASSWORD %L', $pw${password}$pw$);
               END IF;
             END $$"
        );
        sqlx::query(&sql).execute(&pool).await.map_err(err)?;
        sqlx::query(&format!("GRANT freelanceflow_reader TO {role}"))
            .execute(&pool)
            .await
            .map_err(err)?;
        pool.close().await;
        Ok(())
    }
}
