//! The DataFusion side of a micro-batch: a session with the FreelanceFlow UDFs and the `.sql` files.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Decimal128Array};
use arrow::record_batch::RecordBatch;
use datafusion::common::{DataFusionError, Result as DfResult};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::{create_udf, ColumnarValue, Volatility};
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::decode::MONEY;

/// The SQL an analyst can read, embedded at build time.
pub mod sql {
    pub const T1_PROFILS: &str = include_str!("../sql/t1_profils.sql");
    pub const T1_FACTURES_CONNUES: &str = include_str!("../sql/t1_factures_connues.sql");
    pub const T1_FACTURES_EN_ATTENTE: &str = include_str!("../sql/t1_factures_en_attente.sql");
    pub const T1_FACTURES_INEDITES: &str = include_str!("../sql/t1_factures_inedites.sql");
    pub const T1_FACTURES_REMPLACANTES: &str = include_str!("../sql/t1_factures_remplacantes.sql");
    pub const T2_DELTAS: &str = include_str!("../sql/t2_deltas.sql");
    pub const PG_STAGING: &str = include_str!("../sql/pg_staging.sql");
    pub const PG_MERGE_PROFILS: &str = include_str!("../sql/pg_merge_profils.sql");
    pub const PG_MERGE_FACTURES: &str = include_str!("../sql/pg_merge_factures.sql");
    pub const PG_MERGE_ATTENTE: &str = include_str!("../sql/pg_merge_attente.sql");
    pub const PG_MERGE_T2: &str = include_str!("../sql/pg_merge_t2.sql");
    pub const PG_RATE_CHANGED: &str = include_str!("../sql/pg_rate_changed.sql");
    pub const PG_MERGE_REJETS: &str = include_str!("../sql/pg_merge_rejets.sql");
    pub const PG_END_OF_LOAD: &str = include_str!("../sql/pg_end_of_load.sql");
    pub const T3_INDICATEURS: &str = include_str!("../sql/t3_indicateurs.sql");

    /// Splits a file of several statements (each ends with `;` at the end of a line). A `Vec`, not
    /// an iterator: an iterator with closures held across an `.await` makes the future not `Send`.
    pub fn statements(file: &str) -> Vec<&str> {
        file.split(";\n")
            .map(str::trim)
            .filter(|s| {
                s.lines()
                    .any(|l| !l.trim().is_empty() && !l.trim().starts_with("--"))
            })
            .collect()
    }
}

/// Billed days derived from an amount and a daily rate, both in hundredths, rounded half up to the
/// hundredth: the same as PostgreSQL's `round(montant / tarif_jour, 2)` for positive values.
pub fn derived_days_hundredths(montant: i128, tarif: i128) -> Option<i128> {
    if tarif <= 0 || montant < 0 {
        return None;
    }
    Some((2 * montant * 100 + tarif) / (2 * tarif))
}

fn jours_derives_udf(args: &[ColumnarValue]) -> DfResult<ColumnarValue> {
    let arrays = ColumnarValue::values_to_arrays(args)?;
    let as_decimal = |a: &ArrayRef| {
        a.as_any()
            .downcast_ref::<Decimal128Array>()
            .cloned()
            .ok_or_else(|| {
                DataFusionError::Execution("ff_jours_derives takes NUMERIC(12,2)".into())
            })
    };
    let (m, t) = (as_decimal(&arrays[0])?, as_decimal(&arrays[1])?);
    let out: Decimal128Array = m
        .iter()
        .zip(t.iter())
        .map(|(m, t)| derived_days_hundredths(m?, t?))
        .collect::<Decimal128Array>()
        .with_precision_and_scale(12, 2)?;
    Ok(ColumnarValue::Array(Arc::new(out)))
}

/// A fresh session for one micro-batch, with the FreelanceFlow UDFs registered. One partition: a
/// micro-batch is small, and repartitioning it across cores costs more than it saves (the other
/// worker and PostgreSQL use the other core).
pub fn session() -> SessionContext {
    let config = SessionConfig::new()
        .with_target_partitions(1)
        .with_batch_size(32 * 1024);
    let ctx = SessionContext::new_with_config(config);
    ctx.register_udf(create_udf(
        "ff_jours_derives",
        vec![MONEY, MONEY],
        MONEY,
        Volatility::Immutable,
        Arc::new(jours_derives_udf),
    ));
    ctx
}

/// Registers `batch` as table `name`.
pub fn register(ctx: &SessionContext, name: &str, batch: RecordBatch) -> DfResult<()> {
    let table = MemTable::try_new(batch.schema(), vec![vec![batch]])?;
    ctx.register_table(name, Arc::new(table))?;
    Ok(())
}

/// Runs one query and collects its batches.
pub async fn run(ctx: &SessionContext, query: &str) -> DfResult<Vec<RecordBatch>> {
    ctx.sql(query).await?.collect().await
}

/// Concatenates batches into one (an empty batch of `schema` when there are none).
pub fn concat(
    schema: &arrow::datatypes::SchemaRef,
    batches: &[RecordBatch],
) -> DfResult<RecordBatch> {
    Ok(arrow::compute::concat_batches(schema, batches)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn derived_days_round_half_up() {
        assert_eq!(derived_days_hundredths(450_000, 45_000), Some(1_000)); // 4500 / 450 = 10
        assert_eq!(derived_days_hundredths(100, 300), Some(33)); // 1 / 3 = 0.33
        assert_eq!(derived_days_hundredths(200, 300), Some(67)); // 2 / 3 = 0.67
        assert_eq!(derived_days_hundredths(5, 1000), Some(1)); // 0.005 -> 0.01
        assert_eq!(derived_days_hundredths(1, 0), None);
    }

    proptest! {
        #[test]
        fn derived_days_match_exact_rounding(m in 1i128..1_000_000_000_000, t in 1i128..100_000_000) {
            let got = derived_days_hundredths(m, t).unwrap();
            // |m/t - got/100| <= 1/200, and exactly half rounds up
            let diff = m * 200 - got * 2 * t; // = 200*(m/t - got/100) * t
            prop_assert!(diff < t && diff >= -t, "m={m} t={t} got={got}");
        }
    }

    #[tokio::test]
    async fn sql_files_are_split_into_statements() {
        assert_eq!(sql::statements(sql::PG_RATE_CHANGED).len(), 3);
        assert_eq!(sql::statements(sql::PG_MERGE_T2).len(), 2);
        assert!(sql::statements(sql::T3_INDICATEURS).len() > 10);
        assert!(sql::statements(sql::PG_STAGING)
            .iter()
            .all(|s| s.starts_with("--") || s.starts_with("CREATE")));
    }
}
