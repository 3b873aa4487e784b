//! Reject rule codes and reject records (contract 2).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The stable rule code of a reject (contract 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleCode {
    InvalidJson,
    InvalidCsv,
    MissingField,
    InvalidEmail,
    InvalidAmount,
    InvalidDate,
    UnknownFreelance,
}

impl RuleCode {
    /// Every rule code, in contract order.
    pub const ALL: &'static [RuleCode] = &[
        RuleCode::InvalidJson,
        RuleCode::InvalidCsv,
        RuleCode::MissingField,
        RuleCode::InvalidEmail,
        RuleCode::InvalidAmount,
        RuleCode::InvalidDate,
        RuleCode::UnknownFreelance,
    ];

    /// The snake_case code stored in `rejets.rule` and used as a metric label.
    pub fn as_str(&self) -> &'static str {
        match self {
            RuleCode::InvalidJson => "invalid_json",
            RuleCode::InvalidCsv => "invalid_csv",
            RuleCode::MissingField => "missing_field",
            RuleCode::InvalidEmail => "invalid_email",
            RuleCode::InvalidAmount => "invalid_amount",
            RuleCode::InvalidDate => "invalid_date",
            RuleCode::UnknownFreelance => "unknown_freelance",
        }
    }
}

impl fmt::Display for RuleCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown rule code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule code {0:?}")]
pub struct UnknownRuleCode(pub String);

impl FromStr for RuleCode {
    type Err = UnknownRuleCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RuleCode::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| UnknownRuleCode(s.to_string()))
    }
}

/// One failed rule for one record: the rule code, the canonical field concerned (if any) and a human sentence
/// naming the field and the bad value, e.g. `montant "abc" is not a valid amount`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reject {
    pub rule: RuleCode,
    pub field: Option<String>,
    pub message: String,
}

impl Reject {
    /// A reject for a field.
    pub fn new(rule: RuleCode, field: Option<&str>, message: impl Into<String>) -> Reject {
        Reject {
            rule,
            field: field.map(str::to_string),
            message: message.into(),
        }
    }

    /// `missing_field` for a required field that is absent, null or empty: `<field> is missing`.
    pub fn missing(field: &str) -> Reject {
        Reject::new(
            RuleCode::MissingField,
            Some(field),
            format!("{field} is missing"),
        )
    }

    /// A reject naming the field and quoting the bad value: `<field> "<value>" <what>`.
    pub fn bad_value(rule: RuleCode, field: &str, value: &str, what: &str) -> Reject {
        Reject::new(rule, Some(field), format!("{field} {value:?} {what}"))
    }
}

impl fmt::Display for Reject {
    /// `<rule>: <message>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.rule, self.message)
    }
}

impl std::error::Error for Reject {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        let want = [
            "invalid_json",
            "invalid_csv",
            "missing_field",
            "invalid_email",
            "invalid_amount",
            "invalid_date",
            "unknown_freelance",
        ];
        assert_eq!(RuleCode::ALL.len(), want.len());
        for (r, w) in RuleCode::ALL.iter().zip(want) {
            assert_eq!(r.as_str(), w);
            assert_eq!(r.to_string(), w);
            assert_eq!(serde_json::to_string(r).unwrap(), format!("\"{w}\""));
            assert_eq!(
                serde_json::from_str::<RuleCode>(&format!("\"{w}\"")).unwrap(),
                *r
            );
            assert_eq!(w.parse::<RuleCode>().unwrap(), *r);
        }
        assert!("nope".parse::<RuleCode>().is_err());
    }

    #[test]
    fn messages() {
        let r = Reject::bad_value(
            RuleCode::InvalidAmount,
            "montant",
            "abc",
            "is not a valid amount",
        );
        assert_eq!(r.message, "montant \"abc\" is not a valid amount");
        assert_eq!(r.field.as_deref(), Some("montant"));
        assert_eq!(
            r.to_string(),
            "invalid_amount: montant \"abc\" is not a valid amount"
        );
        let m = Reject::missing("email");
        assert_eq!(m.rule, RuleCode::MissingField);
        assert_eq!(m.message, "email is missing");
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            json,
            r#"{"rule":"invalid_amount","field":"montant","message":"montant \"abc\" is not a valid amount"}"#
        );
        assert_eq!(serde_json::from_str::<Reject>(&json).unwrap(), r);
    }
}
