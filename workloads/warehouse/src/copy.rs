//! Arrow record batches written to PostgreSQL with `COPY ... FROM STDIN`, as CSV or binary.
//!
//! `COPY` is the fastest way into PostgreSQL; the batch columns must be in the order of `columns`.
//! Nulls are written as empty unquoted fields, which PostgreSQL's CSV format reads as NULL; empty
//! strings of non-nullable columns are kept empty with `FORCE_NOT_NULL`.

use arrow::array::{
    Array, AsArray, BooleanArray, Date32Array, Decimal128Array, Int32Array, Int64Array, StringArray,
};
use arrow::csv::WriterBuilder;
use arrow::datatypes::DataType;
use arrow::error::ArrowError;
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
    send(conn, table, columns, &format!("csv{force}"), buf).await
}

/// Sends `buf` with `COPY table (columns) FROM STDIN (FORMAT options)`; the number of rows written.
async fn send(
    conn: &mut PgConnection,
    table: &str,
    columns: &[&str],
    options: &str,
    buf: Vec<u8>,
) -> Result<u64> {
    let statement = format!(
        "COPY {table} ({}) FROM STDIN (FORMAT {options})",
        columns.join(", ")
    );
    let mut copy = conn.copy_in_raw(&statement).await?;
    copy.send(buf).await?;
    Ok(copy.finish().await?)
}

/// Copies `batches` into `table (columns...)` with `COPY ... (FORMAT binary)`: PostgreSQL skips parsing
/// text (a fifth of the time of a COPY into `factures`), and the worker skips formatting it.
///
/// The Arrow types must be those of the columns: Utf8 -> text, Int64 -> bigint, Int32 -> integer,
/// Boolean -> boolean, Date32 -> date, Decimal128 -> numeric. Any other Arrow type is an error.
pub async fn copy_batches_binary(
    conn: &mut PgConnection,
    table: &str,
    columns: &[&str],
    batches: &[RecordBatch],
) -> Result<u64> {
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    if rows == 0 {
        return Ok(0);
    }
    let buf = encode_binary(batches).map_err(|source| WarehouseError::Encode {
        table: table.to_string(),
        source,
    })?;
    send(conn, table, columns, "binary", buf).await
}

/// Days from 1970-01-01 (Arrow) to 2000-01-01 (PostgreSQL).
const PG_EPOCH_DAYS: i32 = 10_957;

/// The rows of `batches` in PostgreSQL's binary COPY format.
pub fn encode_binary(batches: &[RecordBatch]) -> std::result::Result<Vec<u8>, ArrowError> {
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let mut out = Vec::with_capacity(19 + rows * 160);
    out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    out.extend_from_slice(&0i32.to_be_bytes()); // flags
    out.extend_from_slice(&0i32.to_be_bytes()); // header extension
    for batch in batches {
        let columns: Vec<Column<'_>> = batch
            .columns()
            .iter()
            .map(|c| Column::of(c.as_ref()))
            .collect::<std::result::Result<_, _>>()?;
        let width = i16::try_from(columns.len())
            .map_err(|_| ArrowError::InvalidArgumentError("too many columns".into()))?;
        for row in 0..batch.num_rows() {
            out.extend_from_slice(&width.to_be_bytes());
            for c in &columns {
                c.write(row, &mut out);
            }
        }
    }
    out.extend_from_slice(&(-1i16).to_be_bytes());
    Ok(out)
}

enum Column<'a> {
    Text(&'a StringArray),
    Int64(&'a Int64Array),
    Int32(&'a Int32Array),
    Bool(&'a BooleanArray),
    Date(&'a Date32Array),
    Numeric(&'a Decimal128Array, i8),
}

impl<'a> Column<'a> {
    fn of(a: &'a dyn Array) -> std::result::Result<Column<'a>, ArrowError> {
        Ok(match a.data_type() {
            DataType::Utf8 => Column::Text(a.as_string::<i32>()),
            DataType::Int64 => Column::Int64(a.as_primitive()),
            DataType::Int32 => Column::Int32(a.as_primitive()),
            DataType::Boolean => Column::Bool(a.as_boolean()),
            DataType::Date32 => Column::Date(a.as_primitive()),
            DataType::Decimal128(_, scale) => Column::Numeric(a.as_primitive(), *scale),
            other => {
                return Err(ArrowError::NotYetImplemented(format!(
                    "binary COPY of Arrow type {other}"
                )))
            }
        })
    }

    fn write(&self, row: usize, out: &mut Vec<u8>) {
        let null = match self {
            Column::Text(a) => a.is_null(row),
            Column::Int64(a) => a.is_null(row),
            Column::Int32(a) => a.is_null(row),
            Column::Bool(a) => a.is_null(row),
            Column::Date(a) => a.is_null(row),
            Column::Numeric(a, _) => a.is_null(row),
        };
        if null {
            out.extend_from_slice(&(-1i32).to_be_bytes());
            return;
        }
        let field = |out: &mut Vec<u8>, bytes: &[u8]| {
            out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
            out.extend_from_slice(bytes);
        };
        match self {
            Column::Text(a) => field(out, a.value(row).as_bytes()),
            Column::Int64(a) => field(out, &a.value(row).to_be_bytes()),
            Column::Int32(a) => field(out, &a.value(row).to_be_bytes()),
            Column::Bool(a) => field(out, &[a.value(row) as u8]),
            Column::Date(a) => field(out, &(a.value(row) - PG_EPOCH_DAYS).to_be_bytes()),
            Column::Numeric(a, scale) => {
                let start = out.len();
                out.extend_from_slice(&0i32.to_be_bytes());
                write_numeric(a.value(row), *scale, out);
                let len = (out.len() - start - 4) as i32;
                out[start..start + 4].copy_from_slice(&len.to_be_bytes());
            }
        }
    }
}

/// PostgreSQL's binary `numeric`: digit count, weight (of the first digit, in powers of 10,000), sign,
/// display scale, then the digits in base 10,000, most significant first.
fn write_numeric(unscaled: i128, scale: i8, out: &mut Vec<u8>) {
    let scale = scale.max(0) as u32;
    let magnitude = unscaled.unsigned_abs();
    let divisor = 10u128.pow(scale);
    let (mut int, frac) = (magnitude / divisor, magnitude % divisor);
    // integer part: base-10,000 digits, least significant first while collecting
    let mut int_digits = Vec::new();
    while int > 0 {
        int_digits.push((int % 10_000) as i16);
        int /= 10_000;
    }
    int_digits.reverse();
    // fraction: left-aligned on groups of 4 decimal digits
    let frac_groups = scale.div_ceil(4);
    let mut frac_digits = vec![0i16; frac_groups as usize];
    if frac_groups > 0 {
        let mut f = frac * 10u128.pow(frac_groups * 4 - scale);
        for d in frac_digits.iter_mut().rev() {
            *d = (f % 10_000) as i16;
            f /= 10_000;
        }
    }
    let weight = int_digits.len() as i16 - 1;
    let mut digits = int_digits;
    digits.extend(frac_digits);
    // a zero integer part: the weight says where the fraction starts; leading zero groups dropped
    let mut weight = weight;
    let leading = digits.iter().take_while(|&&d| d == 0).count();
    digits.drain(..leading);
    weight -= leading as i16;
    // trailing zero groups carry nothing (the weight places the others), as PostgreSQL writes them
    while digits.last() == Some(&0) {
        digits.pop();
    }
    if digits.is_empty() {
        weight = 0;
    }
    let sign: u16 = if unscaled < 0 && !digits.is_empty() {
        0x4000
    } else {
        0
    };
    out.extend_from_slice(&(digits.len() as i16).to_be_bytes());
    out.extend_from_slice(&weight.to_be_bytes());
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&(scale as i16).to_be_bytes());
    for d in digits {
        out.extend_from_slice(&d.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn numeric(v: i128, scale: i8) -> Vec<i16> {
        let mut out = Vec::new();
        write_numeric(v, scale, &mut out);
        out.chunks(2)
            .map(|c| i16::from_be_bytes([c[0], c[1]]))
            .collect()
    }

    #[test]
    fn numerics_in_base_10000() {
        // [ndigits, weight, sign, dscale, digits...]
        assert_eq!(numeric(450_000, 2), vec![1, 0, 0, 2, 4500]); // 4500.00
        assert_eq!(numeric(123_456_789, 2), vec![3, 1, 0, 2, 123, 4567, 8900]); // 1234567.89
        assert_eq!(numeric(5, 2), vec![1, -1, 0, 2, 500]); // 0.05
        assert_eq!(numeric(0, 2), vec![0, 0, 0, 2]);
        assert_eq!(numeric(-150, 2), vec![2, 0, 0x4000, 2, 1, 5000]); // -1.50
        assert_eq!(numeric(100_000_000, 2), vec![1, 1, 0, 2, 100]); // 1000000.00
        assert_eq!(numeric(7, 0), vec![1, 0, 0, 0, 7]);
        assert_eq!(numeric(123_456, 5), vec![3, 0, 0, 5, 1, 2345, 6000]); // 1.23456
    }

    #[test]
    fn binary_copy_layout() {
        let schema = Arc::new(arrow::datatypes::Schema::new(vec![
            arrow::datatypes::Field::new("t", DataType::Utf8, true),
            arrow::datatypes::Field::new("d", DataType::Date32, false),
            arrow::datatypes::Field::new("b", DataType::Boolean, false),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![Some("é"), None])),
                Arc::new(Date32Array::from(vec![10_957, 10_958])),
                Arc::new(BooleanArray::from(vec![true, false])),
            ],
        )
        .unwrap();
        let bytes = encode_binary(&[batch]).unwrap();
        let mut expected = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0".to_vec();
        expected.extend_from_slice(&[0, 3, 0, 0, 0, 2, 0xc3, 0xa9, 0, 0, 0, 4, 0, 0, 0, 0]);
        expected.extend_from_slice(&[0, 0, 0, 1, 1]);
        expected.extend_from_slice(&[0, 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 4, 0, 0, 0, 1]);
        expected.extend_from_slice(&[0, 0, 0, 1, 0, 0xff, 0xff]);
        assert_eq!(bytes, expected);
    }

    #[test]
    fn unsupported_types_are_refused() {
        let schema = Arc::new(arrow::datatypes::Schema::new(vec![
            arrow::datatypes::Field::new("f", DataType::Float64, false),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![Arc::new(arrow::array::Float64Array::from(vec![1.0]))],
        )
        .unwrap();
        assert!(encode_binary(&[batch]).is_err());
    }
}
