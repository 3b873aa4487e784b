//! Arrow record batches written to PostgreSQL with `COPY ... FROM STDIN (FORMAT csv)`.
//!
//! `COPY` is the fastest way into PostgreSQL; the batch columns must be in the order of `columns`.
//! Nulls are written as empty unquoted fields, which PostgreSQL's CSV format reads as NULL; empty
//! strings of non-nullable columns are kept empty with `FORCE_NOT_NULL`.

use arrow::csv::WriterBuilder;
use arrow::record_batch::RecordBatch;
use sqlx::PgConnection;

use crate::{Result, WarehouseError};

/// Copies `batches` into `table (columns...)` and returns the number of rows written.
pub async fn copy_batches(
    conn: &mut PgConnection,
    table: &str,
    columns: &[&str],
    batches: &[RecordBatch],
) -> Result<u64> {
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    if rows == 0 {
        return Ok(0);
    }
    let mut buf = Vec::with_capacity(rows * 128);
    {
        let mut writer = WriterBuilder::new()
            .with_header(false)
            .with_date_format("%Y-%m-%d".to_string())
            .build(&mut buf);
        for b in batches {
            writer.write(b).map_err(|source| WarehouseError::Encode {
                table: table.to_string(),
                source,
            })?;
        }
    }
    // An empty field is NULL in PostgreSQL's CSV format; for the columns Arrow says cannot be null it
    // is an empty string.
    let not_null: Vec<&str> = batches[0]
        .schema()
        .fields()
        .iter()
        .zip(columns)
        .filter(|(f, _)| !f.is_nullable())
        .map(|(_, c)| *c)
        .collect();
    let force = if not_null.is_empty() {
        String::new()
    } else {
        format!(", FORCE_NOT_NULL ({})", not_null.join(", "))
    };
    let statement = format!(
        "COPY {table} ({}) FROM STDIN (FORMAT csv{force})",
        columns.join(", ")
    );
    let mut copy = conn.copy_in_raw(&statement).await?;
    copy.send(buf).await?;
    Ok(copy.finish().await?)
}
