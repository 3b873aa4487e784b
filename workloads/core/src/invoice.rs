//! Invoice validation (contract 1.2 and 2).
//!
//! The input is one CSV line as header -> value (JSON strings; JSON numbers are accepted too). Rules chosen
//! where the contract is silent:
//! - headers go through [`invoice_field`]; when two headers give the same field, the canonical one wins, else
//!   the first one; unknown columns are ignored (invoices have no `extra` column);
//! - rules are checked in the order freelancer, montant, date, echeance, jours, and the first failure is the
//!   reject;
//! - freelancer: `resolved_freelance_id` (the loader's resolution of the `freelance` name) wins; else a
//!   positive integer in `freelance_id` / `id_freelance`. Without either, a non-empty `freelance` name gives
//!   `unknown_freelance`; otherwise it is `missing_field` (`freelance_id "abc" is not a positive integer`
//!   when the id column holds garbage);
//! - `montant` required (`missing_field`), money of contract 1.3, > 0 (`invalid_amount`);
//! - `date` required (`missing_field`), a date of contract 1.4 (`invalid_date`);
//! - `echeance` optional, default `date` + 30 days; a bad one is `invalid_date`; an echeance before the date is
//!   accepted as given;
//! - `jours` optional (`None` when absent: the default `montant / tarif_jour` needs the freelancer and is
//!   computed downstream); when given it must be a number > 0, else `invalid_amount`;
//! - `statut`: `payee` / `payée` / `paid` / `payé` -> [`InvoiceStatus::Payee`]; `en_attente` / `en attente` /
//!   `pending` / empty -> [`InvoiceStatus::EnAttente`]; any other value is not a reject and counts as
//!   `EnAttente` (an invoice is unpaid until a recognised "paid" says otherwise; the raw value is not kept);
//! - `client` trimmed, empty -> `None`;
//! - `facture_id` trimmed; when absent or empty it is [`derive_facture_id`] of the freelancer, the amount and
//!   the date, so the same line loaded twice is one invoice.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::aliases::{fold_key, invoice_field, InvoiceField};
use crate::decimal::{parse_money, parse_quantity, Dec2};
use crate::fields::{date_value, positive_dec2, positive_int, raw, Picked};
use crate::reject::{Reject, RuleCode};

/// Days between an invoice date and its default due date.
pub const DEFAULT_PAYMENT_DAYS: u64 = 30;

/// Whether an invoice is paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    Payee,
    EnAttente,
}

impl InvoiceStatus {
    /// `payee` or `en_attente`.
    pub fn as_str(&self) -> &'static str {
        match self {
            InvoiceStatus::Payee => "payee",
            InvoiceStatus::EnAttente => "en_attente",
        }
    }

    /// Reads a status (any case, accents optional); anything not recognised as paid is `EnAttente`.
    pub fn from_text(s: &str) -> InvoiceStatus {
        match fold_key(s).as_str() {
            "payee" | "paye" | "paid" => InvoiceStatus::Payee,
            _ => InvoiceStatus::EnAttente,
        }
    }
}

/// A valid invoice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    pub facture_id: String,
    pub freelance_id: i64,
    pub montant: Dec2,
    pub date: NaiveDate,
    pub echeance: NaiveDate,
    pub statut: InvoiceStatus,
    pub jours: Option<Dec2>,
    pub client: Option<String>,
}

/// How an invoice line designates its freelancer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FreelanceRef {
    /// A positive integer in the `freelance_id` column.
    Id(i64),
    /// The trimmed `freelance` column (the freelancer's `nom`), to be resolved case-insensitively.
    Name(String),
}

/// The freelancer of an invoice line: a valid id column first, else a non-empty `freelance` name column.
pub fn invoice_freelance_ref(fields: &Map<String, Value>) -> Option<FreelanceRef> {
    let p = Picked::pick(fields, invoice_field, |f| f.canonical());
    freelance_ref(&p)
}

fn freelance_ref(p: &Picked<'_, InvoiceField>) -> Option<FreelanceRef> {
    if let Some(id) = p.get(InvoiceField::FreelanceId).and_then(positive_int) {
        return Some(FreelanceRef::Id(id));
    }
    match p.text(InvoiceField::FreelanceName) {
        Ok(Some(name)) => Some(FreelanceRef::Name(name)),
        _ => None,
    }
}

/// `auto-` + the first 20 hex digits of SHA-256(`"{freelance_id}|{montant}|{date}"`), with `montant` as
/// `4500.00` and `date` as ISO `2025-10-01`.
pub fn derive_facture_id(freelance_id: i64, montant: Dec2, date: NaiveDate) -> String {
    let digest = Sha256::digest(format!("{freelance_id}|{montant}|{date}").as_bytes());
    let hex = hex::encode(digest);
    format!("auto-{}", &hex[..20])
}

/// Validates one invoice line; see the module doc for every rule.
pub fn validate_invoice(
    fields: &Map<String, Value>,
    resolved_freelance_id: Option<i64>,
) -> Result<Invoice, Reject> {
    let p = Picked::pick(fields, invoice_field, |f| f.canonical());

    let freelance_id = match (resolved_freelance_id, freelance_ref(&p)) {
        (Some(id), _) => id,
        (None, Some(FreelanceRef::Id(id))) => id,
        (None, Some(FreelanceRef::Name(name))) => {
            return Err(Reject::bad_value(
                RuleCode::UnknownFreelance,
                "freelance",
                &name,
                "is not a known freelancer (unknown or ambiguous name)",
            ))
        }
        (None, None) => {
            return Err(match p.get(InvoiceField::FreelanceId) {
                Some(v) => Reject::bad_value(
                    RuleCode::MissingField,
                    "freelance_id",
                    &raw(v),
                    "is not a positive integer",
                ),
                None => Reject::new(
                    RuleCode::MissingField,
                    Some("freelance_id"),
                    "freelance_id is missing (no freelance_id or freelance column)",
                ),
            })
        }
    };

    let montant = match p.get(InvoiceField::Montant) {
        None => return Err(Reject::missing("montant")),
        Some(v) => positive_dec2("montant", v, parse_money, "amount")?,
    };

    let date = match p.get(InvoiceField::Date) {
        None => return Err(Reject::missing("date")),
        Some(v) => date_value("date", v)?,
    };

    let echeance = match p.get(InvoiceField::Echeance) {
        Some(v) => date_value("echeance", v)?,
        None => date
            .checked_add_days(Days::new(DEFAULT_PAYMENT_DAYS))
            .unwrap_or(date),
    };

    let jours = match p.get(InvoiceField::Jours) {
        None => None,
        Some(v) => Some(positive_dec2("jours", v, parse_quantity, "number of days")?),
    };

    let statut = match p.text(InvoiceField::Statut) {
        Ok(Some(s)) => InvoiceStatus::from_text(&s),
        _ => InvoiceStatus::EnAttente,
    };

    let client = p.text(InvoiceField::Client).unwrap_or_else(Some);

    let facture_id = match p.text(InvoiceField::FactureId) {
        Ok(Some(id)) => id,
        Ok(None) => derive_facture_id(freelance_id, montant, date),
        Err(raw) => raw,
    };

    Ok(Invoice {
        facture_id,
        freelance_id,
        montant,
        date,
        echeance,
        statut,
        jours,
        client,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn line(pairs: &[(&str, &str)]) -> Map<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("freelance_id", "7"),
            ("montant", "1000"),
            ("date", "2025-10-15"),
        ]
    }

    fn with(k: &'static str, v: &'static str) -> Map<String, Value> {
        let mut b = line(&base());
        b.insert(k.to_string(), Value::String(v.to_string()));
        b
    }

    fn rej(m: &Map<String, Value>) -> Reject {
        validate_invoice(m, None).expect_err("should be rejected")
    }

    #[test]
    fn dupont_sample() {
        // `freelance, montant, date` / `Dupont, 4500€, Oct-2025` with CSV spaces kept in headers and values.
        let f = line(&[
            ("freelance", " Dupont"),
            (" montant", " 4500€"),
            (" date", " Oct-2025"),
        ]);
        assert_eq!(
            invoice_freelance_ref(&f),
            Some(FreelanceRef::Name("Dupont".into()))
        );
        let inv = validate_invoice(&f, Some(1)).unwrap();
        assert_eq!(inv.freelance_id, 1);
        assert_eq!(inv.montant, Dec2(450_000));
        assert_eq!(inv.montant.to_string(), "4500.00");
        assert_eq!(inv.date, d(2025, 10, 1));
        assert_eq!(inv.echeance, d(2025, 10, 31));
        assert_eq!(inv.statut, InvoiceStatus::EnAttente);
        assert_eq!(inv.statut.as_str(), "en_attente");
        assert_eq!(inv.jours, None);
        assert_eq!(inv.client, None);
        assert_eq!(
            inv.facture_id,
            derive_facture_id(1, Dec2(450_000), d(2025, 10, 1))
        );
        assert!(inv.facture_id.starts_with("auto-"));
        assert_eq!(inv.facture_id.len(), 25);
        let again = validate_invoice(&f, Some(1)).unwrap();
        assert_eq!(again.facture_id, inv.facture_id);

        let r = validate_invoice(&f, None).unwrap_err();
        assert_eq!(r.rule, RuleCode::UnknownFreelance);
        assert_eq!(r.field.as_deref(), Some("freelance"));
        assert!(r.message.contains("\"Dupont\""), "{}", r.message);
    }

    #[test]
    fn derived_id_value() {
        assert_eq!(
            derive_facture_id(1, Dec2(450_000), d(2025, 10, 1)),
            DUPONT_ID
        );
    }

    /// `"auto-" + sha256("1|4500.00|2025-10-01")[..20]`, from `printf '1|4500.00|2025-10-01' | sha256sum`.
    const DUPONT_ID: &str = "auto-e09c3e673da87c3df333";

    #[test]
    fn full_line_with_aliases() {
        let f = line(&[
            ("Invoice_ID", " F-2025-001 "),
            ("ID_Freelance", "12"),
            ("Amount", "1 234,56 €"),
            ("Invoice_Date", "15/10/2025"),
            ("Due_Date", "2025-11-30"),
            ("Status", "Paid"),
            ("Days", "2,5"),
            ("Customer", "  ACME  "),
            ("commentaire", "ignored"),
        ]);
        assert_eq!(invoice_freelance_ref(&f), Some(FreelanceRef::Id(12)));
        let inv = validate_invoice(&f, None).unwrap();
        assert_eq!(
            inv,
            Invoice {
                facture_id: "F-2025-001".into(),
                freelance_id: 12,
                montant: Dec2(123_456),
                date: d(2025, 10, 15),
                echeance: d(2025, 11, 30),
                statut: InvoiceStatus::Payee,
                jours: Some(Dec2(250)),
                client: Some("ACME".into()),
            }
        );
        let f = line(&[
            ("id", "INV-9"),
            ("freelance_id", "3"),
            ("montant", "10"),
            ("date_facture", "2025-01"),
            ("échéance", "févr. 2025"),
            ("statut", "payée"),
            ("jours", "1"),
            ("client", ""),
        ]);
        let inv = validate_invoice(&f, None).unwrap();
        assert_eq!(inv.facture_id, "INV-9");
        assert_eq!(inv.date, d(2025, 1, 1));
        assert_eq!(inv.echeance, d(2025, 2, 1));
        assert_eq!(inv.statut, InvoiceStatus::Payee);
        assert_eq!(inv.client, None);
    }

    #[test]
    fn json_numbers_accepted() {
        let f: Map<String, Value> = serde_json::from_value(json!({
            "freelance_id": 5, "montant": 4500.5, "date": "2025-10-15", "jours": 3, "facture_id": 77
        }))
        .unwrap();
        let inv = validate_invoice(&f, None).unwrap();
        assert_eq!(inv.freelance_id, 5);
        assert_eq!(inv.montant, Dec2(450_050));
        assert_eq!(inv.jours, Some(Dec2(300)));
        assert_eq!(inv.facture_id, "77");
    }

    #[test]
    fn freelancer_resolution() {
        let f = with("freelance", "Dupont");
        assert_eq!(
            invoice_freelance_ref(&f),
            Some(FreelanceRef::Id(7)),
            "the id column comes first"
        );
        assert_eq!(validate_invoice(&f, None).unwrap().freelance_id, 7);
        assert_eq!(
            validate_invoice(&f, Some(9)).unwrap().freelance_id,
            9,
            "resolved id overrides"
        );

        let mut f = line(&[("montant", "10"), ("date", "2025-10-15")]);
        assert_eq!(invoice_freelance_ref(&f), None);
        let r = rej(&f);
        assert_eq!(
            (r.rule, r.field.as_deref()),
            (RuleCode::MissingField, Some("freelance_id"))
        );
        assert_eq!(validate_invoice(&f, Some(4)).unwrap().freelance_id, 4);

        f.insert("freelance_id".into(), json!("abc"));
        assert_eq!(invoice_freelance_ref(&f), None);
        let r = rej(&f);
        assert_eq!(r.rule, RuleCode::MissingField);
        assert_eq!(r.message, "freelance_id \"abc\" is not a positive integer");

        f.insert("freelance".into(), json!("  Inconnu "));
        assert_eq!(
            invoice_freelance_ref(&f),
            Some(FreelanceRef::Name("Inconnu".into()))
        );
        let r = rej(&f);
        assert_eq!(r.rule, RuleCode::UnknownFreelance);

        f.insert("freelance".into(), json!("  "));
        assert_eq!(rej(&f).rule, RuleCode::MissingField);
        f.insert("freelance_id".into(), json!("0"));
        assert_eq!(rej(&f).rule, RuleCode::MissingField);
    }

    #[test]
    fn montants() {
        for (s, c) in [
            ("4500€", 450_000),
            ("1 200 €", 120_000),
            ("4 500,50 €", 450_050),
            ("1,234.5", 123_450),
            ("EUR 99", 9_900),
            ("1.234,56", 123_456),
        ] {
            let m = line(&[
                ("freelance_id", "1"),
                ("montant", s),
                ("date", "2025-10-15"),
            ]);
            assert_eq!(validate_invoice(&m, None).unwrap().montant, Dec2(c), "{s}");
        }
        for bad in ["abc", "4..5", "0", "-10", "0,00", "1e3"] {
            let r = rej(&with("montant", bad));
            assert_eq!(
                (r.rule, r.field.as_deref()),
                (RuleCode::InvalidAmount, Some("montant")),
                "{bad}"
            );
        }
        assert_eq!(
            rej(&with("montant", "abc")).message,
            "montant \"abc\" is not a valid amount"
        );
        assert_eq!(rej(&with("montant", "")).rule, RuleCode::MissingField);
        let mut m = line(&base());
        m.remove("montant");
        assert_eq!(rej(&m).message, "montant is missing");
    }

    #[test]
    fn dates() {
        for bad in ["2025-13-45", "31/02/2025", "demain", "10/2025"] {
            let r = rej(&with("date", bad));
            assert_eq!(
                (r.rule, r.field.as_deref()),
                (RuleCode::InvalidDate, Some("date")),
                "{bad}"
            );
        }
        assert_eq!(rej(&with("date", " ")).rule, RuleCode::MissingField);
        let r = rej(&with("echeance", "2025-02-30"));
        assert_eq!(
            (r.rule, r.field.as_deref()),
            (RuleCode::InvalidDate, Some("echeance"))
        );
        let inv = validate_invoice(&with("echeance", ""), None).unwrap();
        assert_eq!(inv.echeance, d(2025, 11, 14));
        let inv = validate_invoice(&with("date", "2024-12-15"), None).unwrap();
        assert_eq!(inv.echeance, d(2025, 1, 14));
        let inv = validate_invoice(&with("echeance", "2025-10-01"), None).unwrap();
        assert_eq!(
            inv.echeance,
            d(2025, 10, 1),
            "an echeance before the date is kept"
        );
    }

    #[test]
    fn jours() {
        assert_eq!(
            validate_invoice(&with("jours", "10"), None).unwrap().jours,
            Some(Dec2(1000))
        );
        assert_eq!(
            validate_invoice(&with("jours", "2,5"), None).unwrap().jours,
            Some(Dec2(250))
        );
        assert_eq!(
            validate_invoice(&with("jours", ""), None).unwrap().jours,
            None
        );
        for bad in ["0", "-1", "dix", "2 €"] {
            let r = rej(&with("jours", bad));
            assert_eq!(
                (r.rule, r.field.as_deref()),
                (RuleCode::InvalidAmount, Some("jours")),
                "{bad}"
            );
        }
        assert_eq!(
            rej(&with("jours", "dix")).message,
            "jours \"dix\" is not a valid number of days"
        );
    }

    #[test]
    fn statuts() {
        let s = |v: &'static str| validate_invoice(&with("statut", v), None).unwrap().statut;
        for v in ["payee", "Payée", "PAYÉE", "paid", "Paid", "payé"] {
            assert_eq!(s(v), InvoiceStatus::Payee, "{v}");
        }
        for v in [
            "en_attente",
            "en attente",
            "En Attente",
            "pending",
            "",
            "impayée",
            "???",
        ] {
            assert_eq!(s(v), InvoiceStatus::EnAttente, "{v}");
        }
        assert_eq!(InvoiceStatus::Payee.as_str(), "payee");
        assert_eq!(
            serde_json::to_string(&InvoiceStatus::EnAttente).unwrap(),
            "\"en_attente\""
        );
    }

    #[test]
    fn facture_ids() {
        let inv = validate_invoice(&with("facture_id", "  "), None).unwrap();
        assert_eq!(
            inv.facture_id,
            derive_facture_id(7, Dec2(100_000), d(2025, 10, 15))
        );
        let inv = validate_invoice(&with("facture_id", " A1 "), None).unwrap();
        assert_eq!(inv.facture_id, "A1");
        let inv = validate_invoice(&with("id_facture", "B2"), None).unwrap();
        assert_eq!(inv.facture_id, "B2");
        // The canonical column wins over an alias.
        let mut f = with("id", "alias");
        f.insert("facture_id".into(), json!("canon"));
        assert_eq!(validate_invoice(&f, None).unwrap().facture_id, "canon");
    }

    #[test]
    fn precedence() {
        let f = line(&[("montant", "abc"), ("date", "nope"), ("jours", "-1")]);
        assert_eq!(rej(&f).field.as_deref(), Some("freelance_id"));
        assert_eq!(
            validate_invoice(&f, Some(1)).unwrap_err().field.as_deref(),
            Some("montant")
        );
        let f = line(&[
            ("montant", "5"),
            ("date", "nope"),
            ("echeance", "nope"),
            ("jours", "-1"),
        ]);
        assert_eq!(
            validate_invoice(&f, Some(1)).unwrap_err().field.as_deref(),
            Some("date")
        );
        let f = line(&[
            ("montant", "5"),
            ("date", "2025-01-01"),
            ("echeance", "nope"),
            ("jours", "-1"),
        ]);
        assert_eq!(
            validate_invoice(&f, Some(1)).unwrap_err().field.as_deref(),
            Some("echeance")
        );
        let f = line(&[("montant", "5"), ("date", "2025-01-01"), ("jours", "-1")]);
        assert_eq!(
            validate_invoice(&f, Some(1)).unwrap_err().field.as_deref(),
            Some("jours")
        );
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (0i64..73_000).prop_map(|n| d(1900, 1, 1) + chrono::Duration::days(n))
    }

    proptest! {
        #[test]
        fn derived_id_deterministic_and_distinct(
            a in (1i64..1_000_000, 1i64..1_000_000_000_000, any_date()),
            b in (1i64..1_000_000, 1i64..1_000_000_000_000, any_date()),
        ) {
            let ida = derive_facture_id(a.0, Dec2(a.1), a.2);
            prop_assert_eq!(&ida, &derive_facture_id(a.0, Dec2(a.1), a.2));
            prop_assert_eq!(ida.len(), 25);
            prop_assert!(ida.starts_with("auto-"));
            prop_assert!(ida[5..].bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
            let idb = derive_facture_id(b.0, Dec2(b.1), b.2);
            prop_assert_eq!(ida == idb, a == b);
        }
    }
}
