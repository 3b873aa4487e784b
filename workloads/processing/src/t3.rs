//! T3: every KPI of the data contract into `indicateurs`, in one transaction.

use chrono::NaiveDate;
use sqlx::{Connection, PgConnection};

use crate::engine::sql;

/// How the reference date `as_of` is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsOf {
    /// The latest valid invoice date (the default of batch runs and tests).
    Latest,
    /// Today (production).
    Today,
    Fixed(NaiveDate),
}

impl std::str::FromStr for AsOf {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "latest" => Ok(AsOf::Latest),
            "today" => Ok(AsOf::Today),
            other => NaiveDate::parse_from_str(other, "%Y-%m-%d")
                .map(AsOf::Fixed)
                .map_err(|_| format!("--as-of takes latest, today or YYYY-MM-DD, not {s:?}")),
        }
    }
}

/// Recomputes every indicator; returns the as_of used and the number of indicator rows.
pub async fn compute(
    conn: &mut PgConnection,
    as_of: AsOf,
) -> Result<(NaiveDate, u64), sqlx::Error> {
    let mut tx = conn.begin().await?;
    // One T3 at a time, whoever runs it.
    sqlx::query("SELECT pg_advisory_xact_lock(7317)")
        .execute(&mut *tx)
        .await?;
    let date: NaiveDate = match as_of {
        AsOf::Fixed(d) => d,
        AsOf::Today => {
            sqlx::query_scalar("SELECT current_date")
                .fetch_one(&mut *tx)
                .await?
        }
        AsOf::Latest => {
            sqlx::query_scalar("SELECT coalesce(max(date), current_date) FROM factures")
                .fetch_one(&mut *tx)
                .await?
        }
    };
    sqlx::query(
        "INSERT INTO parametres (cle, valeur) VALUES ('as_of', $1)
         ON CONFLICT (cle) DO UPDATE SET valeur = EXCLUDED.valeur, maj_at = now()",
    )
    .bind(date.to_string())
    .execute(&mut *tx)
    .await?;
    let mut rows = 0;
    for statement in sql::statements(sql::T3_INDICATEURS) {
        let q = sqlx::query(statement);
        let q = if statement.contains("$1") {
            q.bind(date)
        } else {
            q
        };
        let done = q.execute(&mut *tx).await?;
        if statement.trim_start().starts_with("INSERT") || statement.contains("\nINSERT") {
            rows += done.rows_affected();
        }
    }
    tx.commit().await?;
    Ok((date, rows))
}
