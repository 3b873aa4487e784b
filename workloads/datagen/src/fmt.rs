//! Rendering of money amounts, dates and CSV fields in the messy-but-valid forms of the data contract.

use chrono::{Datelike, NaiveDate};

use crate::data::{MONTHS_EN, MONTHS_EN_ABBR, MONTHS_FR};

/// Forms of a money amount, all accepted by contract section 1.3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MoneyForm {
    /// `4500` or `4500.5`-free `4500.50`
    Plain,
    /// `4500.00`
    PlainDecimals,
    /// `4 500,50 €` (thousands with a space, decimal comma); `nbsp` variant uses U+00A0.
    French { nbsp: bool },
    /// `4500€`
    EuroSuffix,
    /// `EUR 4500`
    EurPrefix,
    /// `4500 eur`
    EurSuffixLower,
    /// `1,234.50`
    English,
    /// `1.234,50`
    German,
}

pub(crate) const INVOICE_MONEY_FORMS: &[(MoneyForm, u32)] = &[
    (MoneyForm::Plain, 30),
    (MoneyForm::PlainDecimals, 10),
    (MoneyForm::French { nbsp: false }, 15),
    (MoneyForm::French { nbsp: true }, 3),
    (MoneyForm::EuroSuffix, 15),
    (MoneyForm::EurPrefix, 8),
    (MoneyForm::EurSuffixLower, 4),
    (MoneyForm::English, 8),
    (MoneyForm::German, 7),
];

fn group(units: i64, sep: &str) -> String {
    let digits = units.to_string();
    let mut out = String::with_capacity(digits.len() + 4);
    let len = digits.len();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (len - i).rem_euclid(3) == 0 {
            out.push_str(sep);
        }
        out.push(c);
    }
    out
}

/// Render a positive amount given in cents.
pub(crate) fn money(cents: i64, form: MoneyForm) -> String {
    let units = cents / 100;
    let frac = cents % 100;
    let dot = if frac == 0 {
        String::new()
    } else {
        format!(".{frac:02}")
    };
    match form {
        MoneyForm::Plain => format!("{units}{dot}"),
        MoneyForm::PlainDecimals => format!("{units}.{frac:02}"),
        MoneyForm::French { nbsp } => {
            let sep = if nbsp { "\u{a0}" } else { " " };
            let g = group(units, sep);
            if frac == 0 {
                format!("{g}{sep}€")
            } else {
                format!("{g},{frac:02}{sep}€")
            }
        }
        MoneyForm::EuroSuffix => format!("{units}{dot}€"),
        MoneyForm::EurPrefix => format!("EUR {units}{dot}"),
        MoneyForm::EurSuffixLower => format!("{units}{dot} eur"),
        // Always with two decimals: `1,234` alone would read as 1.234 under the contract's rule.
        MoneyForm::English => format!("{}.{frac:02}", group(units, ",")),
        MoneyForm::German => format!("{},{frac:02}", group(units, ".")),
    }
}

/// Forms of a date, all accepted by contract section 1.4. Month forms mean the first day of the month.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DateForm {
    Iso,
    DayFirst,
    YearMonth,
    MonthAbbrHyphen,
    MonthFr,
    MonthEn,
    /// `oct. 2025`, only used for October and November (same abbreviation in French and English).
    MonthAbbrDot,
}

impl DateForm {
    pub(crate) fn is_month_only(self) -> bool {
        !matches!(self, DateForm::Iso | DateForm::DayFirst)
    }
}

pub(crate) fn date(d: NaiveDate, form: DateForm) -> String {
    let m = d.month0() as usize;
    let y = d.year();
    match form {
        DateForm::Iso => d.format("%Y-%m-%d").to_string(),
        DateForm::DayFirst => d.format("%d/%m/%Y").to_string(),
        DateForm::YearMonth => d.format("%Y-%m").to_string(),
        DateForm::MonthAbbrHyphen => format!("{}-{y}", MONTHS_EN_ABBR[m]),
        DateForm::MonthFr => format!("{} {y}", MONTHS_FR[m]),
        DateForm::MonthEn => format!("{} {y}", MONTHS_EN[m]),
        DateForm::MonthAbbrDot => {
            if m == 9 || m == 10 {
                format!("{}. {y}", MONTHS_EN_ABBR[m].to_lowercase())
            } else {
                format!("{} {y}", MONTHS_FR[m])
            }
        }
    }
}

/// Append one CSV field, quoting it when it holds the delimiter, a quote or a line break.
/// Surrounding spaces stay inside the quotes, so a trimming reader still sees one field.
pub(crate) fn push_field(out: &mut String, value: &str, delimiter: char) {
    let needs = value.contains(delimiter)
        || value.contains('"')
        || value.contains('\n')
        || value.contains('\r');
    if needs {
        out.push('"');
        for c in value.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
    } else {
        out.push_str(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_forms() {
        assert_eq!(money(450_000, MoneyForm::Plain), "4500");
        assert_eq!(money(450_050, MoneyForm::Plain), "4500.50");
        assert_eq!(
            money(450_050, MoneyForm::French { nbsp: false }),
            "4 500,50 €"
        );
        assert_eq!(money(120_000, MoneyForm::French { nbsp: false }), "1 200 €");
        assert_eq!(money(450_000, MoneyForm::EuroSuffix), "4500€");
        assert_eq!(money(450_000, MoneyForm::EurPrefix), "EUR 4500");
        assert_eq!(money(123_450, MoneyForm::English), "1,234.50");
        assert_eq!(money(123_450, MoneyForm::German), "1.234,50");
        assert_eq!(money(23_450, MoneyForm::English), "234.50");
        assert_eq!(money(123_456_789, MoneyForm::English), "1,234,567.89");
    }

    #[test]
    fn date_forms() {
        let d = NaiveDate::from_ymd_opt(2025, 10, 1).unwrap();
        assert_eq!(date(d, DateForm::MonthAbbrHyphen), "Oct-2025");
        assert_eq!(date(d, DateForm::MonthFr), "octobre 2025");
        assert_eq!(date(d, DateForm::MonthAbbrDot), "oct. 2025");
        assert_eq!(date(d, DateForm::DayFirst), "01/10/2025");
    }

    #[test]
    fn quoting() {
        let mut s = String::new();
        push_field(&mut s, " 4 500,50 € ", ',');
        s.push(',');
        push_field(&mut s, "Café \"Le Zinc\"", ',');
        assert_eq!(s, "\" 4 500,50 € \",\"Café \"\"Le Zinc\"\"\"");
        let mut s = String::new();
        push_field(&mut s, "4 500,50 €", ';');
        assert_eq!(s, "4 500,50 €");
    }
}
