//! Helpers shared by the profile and invoice validators: picking aliased keys and reading JSON values.

use std::collections::HashMap;
use std::hash::Hash;

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::aliases::fold_key;
use crate::dates::parse_date;
use crate::decimal::{dec2_from_f64, Dec2, NumberError};
use crate::reject::{Reject, RuleCode};

/// The keys of an object sorted by field. When several keys map to the same field, a key whose folded form
/// is the canonical name wins over an alias; otherwise the first key (in document order) wins. The keys that
/// lose, and the unknown keys, are returned in `rest` (document order, except that a displaced alias is
/// appended when the canonical key is met).
pub(crate) struct Picked<'a, F> {
    pub fields: HashMap<F, (&'a str, &'a Value)>,
    pub rest: Vec<(&'a str, &'a Value)>,
}

impl<'a, F: Copy + Eq + Hash> Picked<'a, F> {
    pub fn pick(
        obj: &'a Map<String, Value>,
        field_of: impl Fn(&str) -> Option<F>,
        canonical: impl Fn(F) -> &'static str,
    ) -> Self {
        let mut fields: HashMap<F, (&'a str, &'a Value)> = HashMap::new();
        let mut rest = Vec::new();
        for (k, v) in obj {
            let Some(f) = field_of(k) else {
                rest.push((k.as_str(), v));
                continue;
            };
            match fields.get(&f) {
                None => {
                    fields.insert(f, (k.as_str(), v));
                }
                Some(&(old_k, old_v)) => {
                    let is_canon = |key: &str| fold_key(key) == canonical(f);
                    if !is_canon(old_k) && is_canon(k) {
                        rest.push((old_k, old_v));
                        fields.insert(f, (k.as_str(), v));
                    } else {
                        rest.push((k.as_str(), v));
                    }
                }
            }
        }
        Picked { fields, rest }
    }

    /// The value of a field, `None` when absent, null, or a string that is empty after trimming.
    pub fn get(&self, f: F) -> Option<&'a Value> {
        let (_, v) = self.fields.get(&f)?;
        match v {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            v => Some(v),
        }
    }

    /// The trimmed text of a scalar field (numbers and booleans as written), `None` when absent or empty.
    /// Arrays and objects give `Err(raw JSON)`.
    pub fn text(&self, f: F) -> Result<Option<String>, String> {
        match self.get(f) {
            None => Ok(None),
            Some(v) => scalar_text(v).map(Some).ok_or_else(|| v.to_string()),
        }
    }
}

/// The trimmed text of a scalar JSON value; `None` for null, arrays and objects.
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// The value as shown in a message: a string as itself, anything else as JSON.
pub(crate) fn raw(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

/// A positive integer id from a JSON integer, an integral float (`12.0`) or a string of ASCII digits
/// (an optional `+` allowed). `None` when the value is anything else or < 1.
pub(crate) fn positive_int(v: &Value) -> Option<i64> {
    let n = match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => i,
            None => {
                let f = n.as_f64()?;
                if f.fract() != 0.0 || !(1.0..9.0e15).contains(&f) {
                    return None;
                }
                f as i64
            }
        },
        Value::String(s) => {
            let t = s.trim();
            let t = t.strip_prefix('+').unwrap_or(t);
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            t.parse::<i64>().ok()?
        }
        _ => return None,
    };
    (n >= 1).then_some(n)
}

/// Reads a positive amount or quantity: JSON numbers through [`dec2_from_f64`], strings through `parse`.
/// Fails with `invalid_amount` naming the field when the value is not a number or is <= 0.
pub(crate) fn positive_dec2(
    field: &str,
    v: &Value,
    parse: fn(&str) -> Result<Dec2, NumberError>,
    what: &str,
) -> Result<Dec2, Reject> {
    let parsed = match v {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| NumberError::Invalid {
                input: n.to_string(),
            })
            .and_then(dec2_from_f64),
        Value::String(s) => parse(s),
        other => Err(NumberError::Invalid {
            input: other.to_string(),
        }),
    };
    let shown = raw(v);
    match parsed {
        Ok(d) if d.is_positive() => Ok(d),
        Ok(_) => Err(Reject::bad_value(
            RuleCode::InvalidAmount,
            field,
            &shown,
            "must be greater than 0",
        )),
        Err(NumberError::OutOfRange { .. }) => Err(Reject::bad_value(
            RuleCode::InvalidAmount,
            field,
            &shown,
            "is out of range for NUMERIC(12,2)",
        )),
        Err(_) => Err(Reject::bad_value(
            RuleCode::InvalidAmount,
            field,
            &shown,
            &format!("is not a valid {what}"),
        )),
    }
}

/// Reads a date (strings only); anything else fails with `invalid_date` naming the field.
pub(crate) fn date_value(field: &str, v: &Value) -> Result<NaiveDate, Reject> {
    match v {
        Value::String(s) => parse_date(s).ok(),
        _ => None,
    }
    .ok_or_else(|| Reject::bad_value(RuleCode::InvalidDate, field, &raw(v), "is not a valid date"))
}
