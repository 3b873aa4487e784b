//! Date parsing per contract 1.4.
//!
//! Accepted forms (surrounding white space ignored, case-insensitive, accents optional):
//! - ISO `2025-10-15` (1- or 2-digit month and day are tolerated: `2025-1-5`);
//! - day first `15/10/2025`, `15-10-2025`, `15.10.2025`, with 1- or 2-digit day and month; the two separators
//!   must be the same;
//! - year-month `2025-10` = the first of the month;
//! - month-year `Oct-2025`, `oct. 2025`, `oct.2025`, `octobre 2025`, `October 2025`, `oct 2025` = the first of
//!   the month, with English and French month names and their usual abbreviations (`janv`, `févr`, `avr`, `juil`,
//!   `août`, `sept`, `déc`, ...); the separator between month and year is `-`, one space, `.`, `. ` or `.-`;
//! - an ISO date-time `2025-10-15T10:00:00Z` or `2025-10-15 10:00:00` (anything after the date that starts
//!   with `HH:MM` and holds only digits, `:`, `.`, `+`, `-`, `Z` and spaces): the date part is taken as written,
//!   without any time-zone conversion.
//!
//! Not accepted: a bare `10/2025`, two-digit years, `2025/10/15`, month-first US dates, week dates. Years must
//! have 4 digits and lie in 1900..=2100. Impossible dates (`2025-13-45`, `31/02/2025`) are errors.

use chrono::NaiveDate;

use crate::aliases::fold_accents;

/// Why a text is not a date of the contract.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Empty or white space only.
    #[error("empty date {input:?}")]
    Empty { input: String },
    /// Not one of the accepted forms.
    #[error("{input:?} is not a recognised date")]
    Invalid { input: String },
    /// The year is outside 1900..=2100.
    #[error("{input:?} has a year outside 1900-2100")]
    YearOutOfRange { input: String },
    /// A well-formed but impossible date (month 13, 31 February...).
    #[error("{input:?} is not a valid calendar date")]
    Impossible { input: String },
}

/// Parses a date in one of the forms of contract 1.4 (see the module doc).
pub fn parse_date(s: &str) -> Result<NaiveDate, DateError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(DateError::Empty {
            input: s.to_string(),
        });
    }
    let t = strip_time(t);
    if t.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        parse_numeric(t, s)
    } else {
        parse_month_year(t, s)
    }
}

/// Removes a time part after an ISO date (`2025-10-15T10:00:00Z` -> `2025-10-15`), else returns the input.
fn strip_time(t: &str) -> &str {
    let b = t.as_bytes();
    if b.len() <= 11 || !matches!(b[10], b'T' | b't' | b' ') {
        return t;
    }
    let date_ok = b[..10].iter().enumerate().all(|(i, c)| {
        if i == 4 || i == 7 {
            *c == b'-'
        } else {
            c.is_ascii_digit()
        }
    });
    let rest = &b[11..];
    let time_ok = rest.len() >= 5
        && rest[0].is_ascii_digit()
        && rest[1].is_ascii_digit()
        && rest[2] == b':'
        && rest[3].is_ascii_digit()
        && rest[4].is_ascii_digit()
        && rest.iter().all(|c| {
            c.is_ascii_digit() || matches!(c, b':' | b'.' | b'+' | b'-' | b'Z' | b'z' | b' ')
        });
    if date_ok && time_ok {
        &t[..10]
    } else {
        t
    }
}

fn build(y: &str, m: &str, d: Option<&str>, input: &str) -> Result<NaiveDate, DateError> {
    let num = |x: &str| x.parse::<u32>().ok();
    let (Some(year), Some(month)) = (num(y), num(m)) else {
        return Err(DateError::Invalid {
            input: input.to_string(),
        });
    };
    let day = match d {
        Some(d) => num(d).ok_or_else(|| DateError::Invalid {
            input: input.to_string(),
        })?,
        None => 1,
    };
    if !(1900..=2100).contains(&year) {
        return Err(DateError::YearOutOfRange {
            input: input.to_string(),
        });
    }
    NaiveDate::from_ymd_opt(year as i32, month, day).ok_or_else(|| DateError::Impossible {
        input: input.to_string(),
    })
}

fn parse_numeric(t: &str, input: &str) -> Result<NaiveDate, DateError> {
    let invalid = || DateError::Invalid {
        input: input.to_string(),
    };
    let sep = t
        .chars()
        .find(|c| !c.is_ascii_digit())
        .ok_or_else(invalid)?;
    if !matches!(sep, '-' | '/' | '.') {
        return Err(invalid());
    }
    let parts: Vec<&str> = t.split(sep).collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(invalid());
    }
    let small = |p: &str| (1..=2).contains(&p.len());
    match parts.as_slice() {
        [y, m, d] if sep == '-' && y.len() == 4 && small(m) && small(d) => {
            build(y, m, Some(d), input)
        }
        [d, m, y] if small(d) && small(m) && y.len() == 4 => build(y, m, Some(d), input),
        [y, m] if sep == '-' && y.len() == 4 && small(m) => build(y, m, None, input),
        _ => Err(invalid()),
    }
}

/// The month number of an English or French month name or usual abbreviation (already folded: lower case,
/// no accents).
fn month_number(word: &str) -> Option<u32> {
    Some(match word {
        "jan" | "janv" | "january" | "janvier" => 1,
        "feb" | "fev" | "fevr" | "february" | "fevrier" => 2,
        "mar" | "mars" | "march" => 3,
        "apr" | "avr" | "april" | "avril" => 4,
        "may" | "mai" => 5,
        "jun" | "juin" | "june" => 6,
        "jul" | "juil" | "july" | "juillet" => 7,
        "aug" | "aout" | "august" => 8,
        "sep" | "sept" | "september" | "septembre" => 9,
        "oct" | "october" | "octobre" => 10,
        "nov" | "november" | "novembre" => 11,
        "dec" | "december" | "decembre" => 12,
        _ => return None,
    })
}

fn parse_month_year(t: &str, input: &str) -> Result<NaiveDate, DateError> {
    let invalid = || DateError::Invalid {
        input: input.to_string(),
    };
    // Lower case, no accents, every run of white space as one ASCII space.
    let norm = fold_accents(t)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let cut = norm.len().checked_sub(4).ok_or_else(invalid)?;
    if cut == 0 || !norm.is_char_boundary(cut) {
        return Err(invalid());
    }
    let (head, year) = norm.split_at(cut);
    if !year.bytes().all(|c| c.is_ascii_digit()) {
        return Err(invalid());
    }
    let word_len = head
        .bytes()
        .position(|c| !c.is_ascii_lowercase())
        .unwrap_or(head.len());
    let (word, sep) = head.split_at(word_len);
    if !matches!(sep, "-" | " " | "." | ". " | ".-") {
        return Err(invalid());
    }
    let month = month_number(word).ok_or_else(invalid)?;
    build(year, &month.to_string(), None, input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn p(s: &str) -> NaiveDate {
        parse_date(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    #[test]
    fn contract_examples() {
        assert_eq!(p("2025-10-15"), d(2025, 10, 15));
        assert_eq!(p("15/10/2025"), d(2025, 10, 15));
        assert_eq!(p("2025-10"), d(2025, 10, 1));
        assert_eq!(p("Oct-2025"), d(2025, 10, 1));
        assert_eq!(p("oct. 2025"), d(2025, 10, 1));
        assert_eq!(p("octobre 2025"), d(2025, 10, 1));
        assert_eq!(p("October 2025"), d(2025, 10, 1));
        assert!(matches!(
            parse_date("2025-13-45"),
            Err(DateError::Impossible { .. })
        ));
    }

    #[test]
    fn numeric_forms() {
        for (s, want) in [
            ("15-10-2025", d(2025, 10, 15)),
            ("15.10.2025", d(2025, 10, 15)),
            ("5/3/2025", d(2025, 3, 5)),
            ("05/03/2025", d(2025, 3, 5)),
            ("5.3.2025", d(2025, 3, 5)),
            ("2025-1-5", d(2025, 1, 5)),
            ("  2025-10-15  ", d(2025, 10, 15)),
            ("29/02/2024", d(2024, 2, 29)),
            ("2025-1", d(2025, 1, 1)),
            ("1900-01-01", d(1900, 1, 1)),
            ("31/12/2100", d(2100, 12, 31)),
            ("2025-10-15T10:00:00Z", d(2025, 10, 15)),
            ("2025-10-15 10:00:00", d(2025, 10, 15)),
            ("2025-10-15T23:59:59.123+02:00", d(2025, 10, 15)),
            ("2025-10-15t10:00", d(2025, 10, 15)),
        ] {
            assert_eq!(p(s), want, "{s:?}");
        }
    }

    #[test]
    fn month_names() {
        let table: &[(&[&str], u32)] = &[
            (&["jan", "janv", "january", "janvier", "JANV"], 1),
            (
                &[
                    "feb", "fév", "fev", "févr", "fevr", "february", "février", "fevrier", "FÉVR",
                ],
                2,
            ),
            (&["mar", "mars", "march"], 3),
            (&["apr", "avr", "april", "avril"], 4),
            (&["may", "mai"], 5),
            (&["jun", "juin", "june"], 6),
            (&["jul", "juil", "july", "juillet"], 7),
            (&["aug", "août", "aout", "august", "AOÛT"], 8),
            (&["sep", "sept", "september", "septembre"], 9),
            (&["oct", "october", "octobre"], 10),
            (&["nov", "november", "novembre"], 11),
            (&["dec", "déc", "december", "décembre", "Decembre"], 12),
        ];
        for (names, month) in table {
            for name in *names {
                for sep in ["-", " ", ". ", ".", "\u{a0}", "  "] {
                    let s = format!("{name}{sep}2025");
                    assert_eq!(p(&s), d(2025, *month, 1), "{s:?}");
                }
                let up = format!("{} 2024", name.to_uppercase());
                assert_eq!(p(&up), d(2024, *month, 1), "{up:?}");
            }
        }
        assert_eq!(p("De\u{301}cembre 2025"), d(2025, 12, 1));
    }

    #[test]
    fn invalid_dates() {
        for s in [
            "",
            "   ",
            "abc",
            "10/2025",
            "2025/10/15",
            "2025-13-45",
            "31/02/2025",
            "2025-02-29",
            "15/10/25",
            "15/10-2025",
            "2025-10-15-01",
            "25-10-15",
            "2025",
            "oct",
            "2025 oct",
            "octo 2025",
            "oct 25",
            "oct 20255",
            "oct-1899",
            "jan 2101",
            "1899-12-31",
            "2101-01-01",
            "oct--2025",
            "oct/2025",
            "2025-00",
            "2025-00-10",
            "00/10/2025",
            "2025-10-15T",
            "2025-10-15Tfoo",
            "2025-10-15 abc",
            "+2025-10-15",
            "٢٠٢٥-10-15",
            "15 octobre 2025",
            "2025-10-15T10:00:00Zx",
            "2025-10-152",
        ] {
            assert!(parse_date(s).is_err(), "{s:?} should be invalid");
        }
        assert!(matches!(parse_date(" "), Err(DateError::Empty { .. })));
        assert!(matches!(
            parse_date("31/02/2025"),
            Err(DateError::Impossible { .. })
        ));
        assert!(matches!(
            parse_date("1899-12-31"),
            Err(DateError::YearOutOfRange { .. })
        ));
        let msg = parse_date("abc").unwrap_err().to_string();
        assert!(msg.contains("\"abc\""), "{msg}");
    }

    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const EN3: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const FR: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    const FR_ABBR: [&str; 12] = [
        "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
        "déc.",
    ];

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        let lo = d(1900, 1, 1).num_days_from_ce();
        let hi = d(2100, 12, 31).num_days_from_ce();
        (lo..=hi).prop_map(|n| NaiveDate::from_num_days_from_ce_opt(n).unwrap())
    }

    proptest! {
        #[test]
        fn formatted_dates_parse_back(date in any_date()) {
            for s in [
                date.format("%Y-%m-%d").to_string(),
                date.format("%d/%m/%Y").to_string(),
                date.format("%d-%m-%Y").to_string(),
                date.format("%d.%m.%Y").to_string(),
                format!("{}/{}/{}", date.day(), date.month(), date.year()),
                date.format("%Y-%m-%dT10:00:00Z").to_string(),
                format!("{} 08:30:00", date.format("%Y-%m-%d")),
            ] {
                prop_assert_eq!(parse_date(&s), Ok(date), "{:?}", s);
            }
            let first = date.with_day(1).unwrap();
            let i = date.month0() as usize;
            let y = date.year();
            for s in [
                format!("{}-{:02}", y, date.month()),
                format!("{}-{y}", EN3[i]),
                format!("{} {y}", EN[i]),
                format!("{}. {y}", EN3[i].to_lowercase()),
                format!("{} {y}", FR[i]),
                format!("{} {y}", FR[i].to_uppercase()),
                format!("{} {y}", FR_ABBR[i]),
                format!("{}-{y}", fold_accents(FR_ABBR[i].trim_end_matches('.'))),
            ] {
                prop_assert_eq!(parse_date(&s), Ok(first), "{:?}", s);
            }
        }

        #[test]
        fn parse_date_never_panics(s in any::<String>()) {
            let _ = parse_date(&s);
        }

        #[test]
        fn parse_date_never_panics_on_likely_text(s in "[0-9a-zéûT:./ \\-]{0,22}") {
            if let Ok(date) = parse_date(&s) {
                prop_assert!((1900..=2100).contains(&date.year()));
            }
        }
    }
}
