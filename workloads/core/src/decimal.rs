//! Fixed-point money and quantities in hundredths (contract 1.3).
//!
//! Rules chosen where the contract is silent (all tested):
//! - every Unicode white space (ASCII space, tab, U+00A0 no-break space, U+202F narrow no-break space,
//!   thin spaces...) anywhere in the text is removed, so `1 200` is 1200;
//! - one currency marker (`€` or `EUR`, case-insensitive) is accepted at the start or at the end, not both;
//! - an optional leading sign `-` / `+` is accepted before or after a leading currency marker
//!   (`-450€`, `€-450`); checking that an amount is > 0 is the validators' job;
//! - when both `,` and `.` remain, the last one is the decimal separator (it must occur once) and the other one
//!   a thousands separator, which must group digits by three (`1,234.5`, `1.234,56`; `1,23.5` is invalid);
//! - when only one kind remains it must occur once and is the decimal separator (`2,5`, `4500.50`, and also
//!   `1,234` = 1.234 as the contract says); several of the same kind alone (`1,2,3`, `1.234.567`, `4..5`) are
//!   invalid because they are ambiguous;
//! - a decimal separator needs digits on both sides (`.5` and `5.` are invalid);
//! - more than two decimals are rounded half away from zero to cents (`0.125` = 0.13, `-0.125` = -0.13);
//! - values that do not fit `NUMERIC(12,2)` (|x| >= 10^10 after rounding) are rejected.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A fixed-point decimal number in hundredths (cents), the storage type `NUMERIC(12,2)`.
///
/// It serializes (serde) as its integer number of cents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Dec2(pub i64);

/// Largest magnitude, in cents, that `NUMERIC(12,2)` holds, plus one (10^12 cents = 10^10 units).
const LIMIT_CENTS: u64 = 1_000_000_000_000;

impl Dec2 {
    /// Zero.
    pub const ZERO: Dec2 = Dec2(0);

    /// Builds a value from a number of hundredths.
    pub const fn from_cents(cents: i64) -> Dec2 {
        Dec2(cents)
    }

    /// The number of hundredths.
    pub const fn cents(self) -> i64 {
        self.0
    }

    /// True when strictly greater than zero.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// The value as a float (for statistics only, never for storage).
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

impl fmt::Display for Dec2 {
    /// Plain decimal with exactly two decimals and no thousands separator: `4500.50`, `-3.07`, `12.00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// Why a text is not a number of the contract.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// Nothing left once spaces (and the currency) are removed.
    #[error("empty number {input:?}")]
    Empty { input: String },
    /// Not a number of the grammar of contract 1.3.
    #[error("{input:?} is not a valid number")]
    Invalid { input: String },
    /// Does not fit `NUMERIC(12,2)`.
    #[error("{input:?} is out of range (must be below 10000000000 in absolute value)")]
    OutOfRange { input: String },
    /// A float that is NaN or infinite.
    #[error("{input:?} is not a finite number")]
    NotFinite { input: String },
}

/// Parses a money amount per contract 1.3 (see the module doc for the exact grammar).
///
/// `450€` = 450, `1 200 €` = 1200, `4 500,50 €` = 4500.50, `1,234.5` = 1234.5, `EUR 99` = 99,
/// `1.234,56` = 1234.56.
pub fn parse_money(s: &str) -> Result<Dec2, NumberError> {
    parse_number(s, true)
}

/// Parses a plain quantity (billed days such as `10`, `2,5`): the money grammar without a currency.
pub fn parse_quantity(s: &str) -> Result<Dec2, NumberError> {
    parse_number(s, false)
}

/// Converts a JSON float to cents. NaN and infinities are invalid; the float is read through its shortest
/// decimal representation (so `1.005` is 1.01, like the text `1.005`), then rounded half away from zero.
pub fn dec2_from_f64(f: f64) -> Result<Dec2, NumberError> {
    let input = f.to_string();
    if !f.is_finite() {
        return Err(NumberError::NotFinite { input });
    }
    if f.abs() >= 1e10 {
        return Err(NumberError::OutOfRange { input });
    }
    parse_number(&input, false)
}

fn strip_currency_prefix(s: &str) -> Option<&str> {
    if let Some(rest) = s.strip_prefix('€') {
        return Some(rest);
    }
    match s.get(..3) {
        Some(p) if p.eq_ignore_ascii_case("eur") => s.get(3..),
        _ => None,
    }
}

fn strip_currency_suffix(s: &str) -> Option<&str> {
    if let Some(rest) = s.strip_suffix('€') {
        return Some(rest);
    }
    let cut = s.len().checked_sub(3)?;
    match s.get(cut..) {
        Some(p) if p.eq_ignore_ascii_case("eur") => s.get(..cut),
        _ => None,
    }
}

fn take_sign(s: &str) -> (Option<bool>, &str) {
    if let Some(rest) = s.strip_prefix('-') {
        (Some(true), rest)
    } else if let Some(rest) = s.strip_prefix('+') {
        (Some(false), rest)
    } else {
        (None, s)
    }
}

fn parse_number(input: &str, allow_currency: bool) -> Result<Dec2, NumberError> {
    let invalid = || NumberError::Invalid {
        input: input.to_string(),
    };
    let compact: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    let (mut sign, mut rest) = take_sign(&compact);
    if allow_currency {
        if let Some(r) = strip_currency_prefix(rest) {
            rest = r;
            if sign.is_none() {
                let (s2, r2) = take_sign(rest);
                sign = s2;
                rest = r2;
            }
        } else if let Some(r) = strip_currency_suffix(rest) {
            rest = r;
        }
    }
    if rest.is_empty() {
        return Err(if sign.is_none() {
            NumberError::Empty {
                input: input.to_string(),
            }
        } else {
            invalid()
        });
    }
    let (int_digits, frac_digits) = split_body(rest).ok_or_else(invalid)?;
    let int_digits = int_digits.trim_start_matches('0');
    if int_digits.len() > 10 {
        return Err(NumberError::OutOfRange {
            input: input.to_string(),
        });
    }
    let units: u64 = if int_digits.is_empty() {
        0
    } else {
        int_digits.parse().map_err(|_| invalid())?
    };
    let fb = frac_digits.as_bytes();
    let digit = |i: usize| fb.get(i).map_or(0, |b| u64::from(b - b'0'));
    let mut cents = units * 100 + digit(0) * 10 + digit(1);
    if digit(2) >= 5 {
        cents += 1;
    }
    if cents >= LIMIT_CENTS {
        return Err(NumberError::OutOfRange {
            input: input.to_string(),
        });
    }
    let cents = cents as i64;
    Ok(Dec2(if sign == Some(true) { -cents } else { cents }))
}

/// Splits a body made of digits, `,` and `.` into (integer digits, fraction digits) per the module rules.
fn split_body(body: &str) -> Option<(String, String)> {
    if body.is_empty()
        || !body
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b',' || b == b'.')
    {
        return None;
    }
    let commas = body.matches(',').count();
    let dots = body.matches('.').count();
    let (decimal, thousands) = match (commas, dots) {
        (0, 0) => (None, None),
        (1, 0) => (Some(','), None),
        (0, 1) => (Some('.'), None),
        (c, d) if c > 0 && d > 0 => {
            let last_comma = body.rfind(',')?;
            let last_dot = body.rfind('.')?;
            if last_comma > last_dot {
                if c != 1 {
                    return None;
                }
                (Some(','), Some('.'))
            } else {
                if d != 1 {
                    return None;
                }
                (Some('.'), Some(','))
            }
        }
        _ => return None,
    };
    let (int_part, frac_part) = match decimal {
        Some(sep) => {
            let (i, f) = body.split_once(sep)?;
            if i.is_empty() || f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (i, f)
        }
        None => (body, ""),
    };
    let int_digits = match thousands {
        Some(sep) => {
            let mut groups = int_part.split(sep);
            let first = groups.next()?;
            if first.is_empty() || first.len() > 3 {
                return None;
            }
            let mut digits = first.to_string();
            for g in groups {
                if g.len() != 3 {
                    return None;
                }
                digits.push_str(g);
            }
            digits
        }
        None => int_part.to_string(),
    };
    if int_digits.is_empty() || !int_digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((int_digits, frac_part.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(s: &str) -> i64 {
        parse_money(s)
            .unwrap_or_else(|e| panic!("{s:?}: {e}"))
            .cents()
    }

    #[test]
    fn display() {
        assert_eq!(Dec2(450050).to_string(), "4500.50");
        assert_eq!(Dec2(-307).to_string(), "-3.07");
        assert_eq!(Dec2(1200).to_string(), "12.00");
        assert_eq!(Dec2(5).to_string(), "0.05");
        assert_eq!(Dec2(-5).to_string(), "-0.05");
        assert_eq!(Dec2(0).to_string(), "0.00");
        assert_eq!(Dec2(i64::MIN).to_string(), "-92233720368547758.08");
        assert_eq!(Dec2::from_cents(7).cents(), 7);
    }

    #[test]
    fn contract_examples() {
        assert_eq!(m("450€"), 45_000);
        assert_eq!(m("1 200 €"), 120_000);
        assert_eq!(m("4 500,50 €"), 450_050);
        assert_eq!(m("1,234.5"), 123_450);
        assert_eq!(m("EUR 99"), 9_900);
        assert_eq!(m("1.234,56"), 123_456);
        assert_eq!(m("4500"), 450_000);
        assert_eq!(m("4500€"), 450_000);
    }

    #[test]
    fn more_money_forms() {
        for (s, c) in [
            ("eur 99", 9_900),
            ("Eur99", 9_900),
            ("99 EUR", 9_900),
            ("99eur", 9_900),
            ("€ 12,5", 1_250),
            ("€12.50", 1_250),
            ("4\u{a0}500,50\u{a0}€", 450_050),
            ("4\u{202f}500,50\u{202f}€", 450_050),
            ("  4500.5  ", 450_050),
            ("\t7\t", 700),
            ("1,234,567.89", 123_456_789),
            ("1.234.567,89", 123_456_789),
            ("-3.07", -307),
            ("+3.07", 307),
            ("-450€", -45_000),
            ("€-450", -45_000),
            ("- 450 €", -45_000),
            ("EUR -99", -9_900),
            ("0", 0),
            ("-0", 0),
            ("007", 700),
            ("1,234", 123),
            ("0.125", 13),
            ("0.124", 12),
            ("-0.125", -13),
            ("0.0049", 0),
            ("0.005", 1),
            ("1.999", 200),
            ("9999999999.99", 999_999_999_999),
            ("-9999999999.99", -999_999_999_999),
            ("0000000000012", 1_200),
        ] {
            assert_eq!(m(s), c, "{s:?}");
        }
    }

    #[test]
    fn invalid_money() {
        for s in [
            "abc",
            "",
            "   ",
            "€",
            "EUR",
            "4..5",
            "1,2,3",
            "1.234.567",
            "1,23.5",
            "1.2345,6",
            "1,234.5.6",
            "1.234,5,6",
            ".5",
            "5.",
            ",5",
            "5,",
            "--5",
            "+-5",
            "5-",
            "€5€",
            "EUR 5 EUR",
            "1e5",
            "0x10",
            "5 $",
            "12a",
            "١٢",
            "€€5",
            "-",
            "+",
            "- €",
            "1_000",
        ] {
            assert!(parse_money(s).is_err(), "{s:?} should be invalid");
        }
        assert!(matches!(parse_money(" "), Err(NumberError::Empty { .. })));
        assert!(matches!(
            parse_money("4..5"),
            Err(NumberError::Invalid { .. })
        ));
    }

    #[test]
    fn out_of_range() {
        for s in [
            "10000000000",
            "10 000 000 000,00 €",
            "9999999999.995",
            "-10000000000",
            "99999999999999999999999",
        ] {
            assert!(
                matches!(parse_money(s), Err(NumberError::OutOfRange { .. })),
                "{s:?}"
            );
        }
    }

    #[test]
    fn error_messages_quote_input() {
        let e = parse_money("abc").unwrap_err().to_string();
        assert!(e.contains("\"abc\""), "{e}");
        let e = parse_money("4..5").unwrap_err().to_string();
        assert!(e.contains("\"4..5\""), "{e}");
    }

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity("10").unwrap(), Dec2(1000));
        assert_eq!(parse_quantity("2,5").unwrap(), Dec2(250));
        assert_eq!(parse_quantity(" 2.75 ").unwrap(), Dec2(275));
        assert!(parse_quantity("10€").is_err());
        assert!(parse_quantity("EUR 10").is_err());
        assert!(parse_quantity("dix").is_err());
    }

    #[test]
    fn floats() {
        assert_eq!(dec2_from_f64(450.0).unwrap(), Dec2(45_000));
        assert_eq!(dec2_from_f64(1234.5).unwrap(), Dec2(123_450));
        assert_eq!(dec2_from_f64(1.005).unwrap(), Dec2(101));
        assert_eq!(dec2_from_f64(-2.675).unwrap(), Dec2(-268));
        assert_eq!(dec2_from_f64(0.1 + 0.2).unwrap(), Dec2(30));
        assert_eq!(dec2_from_f64(1e-9).unwrap(), Dec2(0));
        assert!(matches!(
            dec2_from_f64(f64::NAN),
            Err(NumberError::NotFinite { .. })
        ));
        assert!(dec2_from_f64(f64::INFINITY).is_err());
        assert!(dec2_from_f64(f64::NEG_INFINITY).is_err());
        assert!(matches!(
            dec2_from_f64(1e10),
            Err(NumberError::OutOfRange { .. })
        ));
        assert!(matches!(
            dec2_from_f64(9_999_999_999.999),
            Err(NumberError::OutOfRange { .. })
        ));
    }

    fn group(int: u64, sep: &str) -> String {
        let digits = int.to_string();
        let head = digits.len() - (digits.len() - 1) / 3 * 3;
        let mut parts = vec![&digits[..head]];
        parts.extend(
            digits.as_bytes()[head..]
                .chunks(3)
                .map(|c| std::str::from_utf8(c).unwrap()),
        );
        parts.join(sep)
    }

    #[test]
    fn grouping_helper() {
        assert_eq!(group(0, " "), "0");
        assert_eq!(group(999, " "), "999");
        assert_eq!(group(1000, " "), "1 000");
        assert_eq!(group(1234567, ","), "1,234,567");
    }

    fn styles(c: i64) -> Vec<String> {
        let sign = if c < 0 { "-" } else { "" };
        let abs = c.unsigned_abs();
        let (i, f) = (abs / 100, abs % 100);
        vec![
            Dec2(c).to_string(),
            format!("{sign}{},{f:02} €", group(i, " ")),
            format!("{sign}{},{f:02}\u{a0}€", group(i, "\u{a0}")),
            format!("{sign}{},{f:02}\u{202f}€", group(i, "\u{202f}")),
            format!("EUR {sign}{i}.{f:02}"),
            format!("{sign}{}.{f:02}", group(i, ",")),
            format!("{sign}{},{f:02}", group(i, ".")),
            format!("{sign}{i}.{f:02}eur"),
            format!("{sign}€{i},{f:02}"),
        ]
    }

    proptest! {
        #[test]
        fn formatted_money_parses_back(c in -(LIMIT_CENTS as i64 - 1)..(LIMIT_CENTS as i64)) {
            for (k, s) in styles(c).into_iter().enumerate() {
                prop_assert_eq!(parse_money(&s), Ok(Dec2(c)), "style {} {:?}", k, s);
            }
        }

        #[test]
        fn display_parses_back_as_quantity(c in any::<i64>()) {
            let d = Dec2(c);
            match parse_quantity(&d.to_string()) {
                Ok(p) => prop_assert_eq!(p, d),
                Err(e) => {
                    prop_assert!(c.unsigned_abs() >= LIMIT_CENTS);
                    prop_assert!(matches!(e, NumberError::OutOfRange { .. }), "expected out of range, got {:?}", e);
                }
            }
        }

        #[test]
        fn parse_money_never_panics(s in any::<String>()) {
            let _ = parse_money(&s);
            let _ = parse_quantity(&s);
        }

        #[test]
        fn parse_money_never_panics_on_likely_text(s in "[-+ €EURu0-9.,\u{a0}\u{202f}]{0,24}") {
            if let Ok(d) = parse_money(&s) {
                prop_assert!(d.cents().unsigned_abs() < LIMIT_CENTS);
            }
        }

        #[test]
        fn f64_roundtrip(c in -(LIMIT_CENTS as i64 - 1)..(LIMIT_CENTS as i64)) {
            let f: f64 = Dec2(c).to_string().parse().unwrap();
            prop_assert_eq!(dec2_from_f64(f), Ok(Dec2(c)));
        }
    }
}
