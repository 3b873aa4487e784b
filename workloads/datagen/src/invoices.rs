//! Invoice CSV files, written row by row.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{Datelike, Duration, Months, NaiveDate};
use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::data::{CLIENTS, SEASON, TREND_PER_MONTH};
use crate::fmt::{self, DateForm, MoneyForm, INVOICE_MONEY_FORMS};
use crate::profiles::Population;
use crate::{FileEntry, FileKind, GenConfig, GenError, MonthTotals, RejectCounts, Rule};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Col {
    FactureId,
    Freelance,
    Montant,
    Date,
    Echeance,
    Statut,
    Jours,
    Client,
}

const CANONICAL: [Col; 8] = [
    Col::FactureId,
    Col::Freelance,
    Col::Montant,
    Col::Date,
    Col::Echeance,
    Col::Statut,
    Col::Jours,
    Col::Client,
];

/// Header spellings per style (same order as `CANONICAL`).
const HEADER_STYLES: [[&str; 8]; 4] = [
    [
        "facture_id",
        "freelance_id",
        "montant",
        "date",
        "echeance",
        "statut",
        "jours",
        "client",
    ],
    [
        "invoice_id",
        "id_freelance",
        "amount",
        "invoice_date",
        "due_date",
        "status",
        "days",
        "customer",
    ],
    [
        " Facture_ID ",
        " id_freelance",
        "Montant ",
        " date_facture ",
        " Échéance",
        " Statut ",
        "Jours ",
        " Client ",
    ],
    [
        "id_facture",
        "freelance_id",
        "amount",
        "date",
        "due_date",
        "statut",
        "days",
        "client",
    ],
];

#[derive(Clone, Debug, Default)]
struct Row {
    facture_id: String,
    freelance: String,
    montant: String,
    date: String,
    echeance: String,
    statut: String,
    jours: String,
    client: String,
}

impl Row {
    fn get(&self, c: Col) -> &str {
        match c {
            Col::FactureId => &self.facture_id,
            Col::Freelance => &self.freelance,
            Col::Montant => &self.montant,
            Col::Date => &self.date,
            Col::Echeance => &self.echeance,
            Col::Statut => &self.statut,
            Col::Jours => &self.jours,
            Col::Client => &self.client,
        }
    }
}

struct Out {
    w: BufWriter<File>,
    delim: char,
    eol: &'static str,
    cols: Vec<Col>,
    pad: f64,
    entry: FileEntry,
    buf: String,
}

impl Out {
    fn create(dir: &Path, k: u32, rng: &mut ChaCha8Rng) -> Result<Out, GenError> {
        let style = ((k - 1) % 4) as usize;
        let delim = if k % 2 == 1 { ',' } else { ';' };
        let bom = style == 1 || style == 2;
        let eol = if style == 1 { "\r\n" } else { "\n" };
        let mut order: Vec<usize> = (0..8).collect();
        if style != 0 {
            order.shuffle(rng);
        }
        let cols: Vec<Col> = order.iter().map(|&i| CANONICAL[i]).collect();
        let name = format!("factures_{k}.csv");
        let mut w = BufWriter::with_capacity(1 << 16, File::create(dir.join(&name))?);
        if bom {
            w.write_all("\u{feff}".as_bytes())?;
        }
        let header: Vec<&str> = order.iter().map(|&i| HEADER_STYLES[style][i]).collect();
        let sep = delim.to_string();
        w.write_all(header.join(&sep).as_bytes())?;
        w.write_all(eol.as_bytes())?;
        let mut entry = FileEntry::new(name, FileKind::Invoices, "csv", 0);
        entry.delimiter = Some(delim);
        entry.bom = bom;
        entry.crlf = eol == "\r\n";
        let pad = if style >= 2 { 0.25 } else { 0.03 };
        Ok(Out {
            w,
            delim,
            eol,
            cols,
            pad,
            entry,
            buf: String::with_capacity(256),
        })
    }

    fn write(&mut self, row: &Row, extra_field: bool) -> Result<(), GenError> {
        self.buf.clear();
        for (i, c) in self.cols.iter().enumerate() {
            if i > 0 {
                self.buf.push(self.delim);
            }
            fmt::push_field(&mut self.buf, row.get(*c), self.delim);
        }
        if extra_field {
            self.buf.push(self.delim);
            self.buf.push_str("EXTRA");
        }
        self.buf.push_str(self.eol);
        self.w.write_all(self.buf.as_bytes())?;
        self.entry.records += 1;
        Ok(())
    }

    /// A row whose first field opens a quote that is never closed: the rest of the line (and the file) is
    /// swallowed into one field, so the record has too few fields.
    fn write_unterminated(&mut self, row: &Row) -> Result<(), GenError> {
        self.buf.clear();
        self.buf.push('"');
        for (i, c) in self.cols.iter().enumerate() {
            if i > 0 {
                self.buf.push(self.delim);
            }
            self.buf.push_str(&row.get(*c).replace('"', ""));
        }
        self.buf.push_str(self.eol);
        self.w.write_all(self.buf.as_bytes())?;
        self.entry.records += 1;
        Ok(())
    }
}

pub(crate) struct InvoicesOutcome {
    pub files: Vec<FileEntry>,
    pub records: u64,
    pub rejects: RejectCounts,
    pub duplicates_by_facture_id: u64,
    pub duplicates_derived_id: u64,
    pub distinct_valid: u64,
    pub total_cents: i64,
    pub monthly: BTreeMap<String, MonthTotals>,
    pub as_of: Option<NaiveDate>,
    pub unknown_ids: Vec<u32>,
    pub par_nom_valid: u64,
}

struct Gen<'a> {
    cfg: &'a GenConfig,
    pop: &'a Population,
    last_month: NaiveDate,
    next_facture: u64,
    derived_keys: HashSet<(u32, i64, NaiveDate)>,
    distinct_valid: u64,
    total_cents: i64,
    monthly: BTreeMap<String, MonthTotals>,
    as_of: Option<NaiveDate>,
}

fn days_in_month(m: NaiveDate) -> u32 {
    ((m + Months::new(1)) - m).num_days() as u32
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|i| i.1).sum();
    let mut x = rng.random_range(0..total);
    for (v, w) in items {
        if x < *w {
            return *v;
        }
        x -= w;
    }
    items[items.len() - 1].0
}

fn pad(rng: &mut ChaCha8Rng, s: String, p: f64) -> String {
    if !s.is_empty() && rng.random_bool(p) {
        match rng.random_range(0..3) {
            0 => format!(" {s}"),
            1 => format!("{s} "),
            _ => format!("  {s} "),
        }
    } else {
        s
    }
}

impl Gen<'_> {
    fn new_facture_id(&mut self) -> String {
        self.next_facture += 1;
        format!("F-{:06}", self.next_facture)
    }

    fn record_valid(&mut self, cents: i64, date: NaiveDate) {
        self.distinct_valid += 1;
        self.total_cents += cents;
        let e = self
            .monthly
            .entry(date.format("%Y-%m").to_string())
            .or_default();
        e.invoices += 1;
        e.montant_cents += cents;
        if self.as_of.is_none_or(|a| date > a) {
            self.as_of = Some(date);
        }
    }

    /// A valid row (or the base of an invalid one when `count` is false). Returns the row and whether it
    /// carries a facture_id.
    fn valid_row(
        &mut self,
        rng: &mut ChaCha8Rng,
        idx: usize,
        month: NaiveDate,
        iso_only: bool,
        pad_p: f64,
        count: bool,
    ) -> (Row, bool) {
        let f = &self.pop.freelancers[idx];
        let tarif_cents = i64::from(f.tarif) * 100;
        let jours = 1 + (rng.random_range(0..22i64) + rng.random_range(0..22i64)) / 2;
        let mut cents = jours * tarif_cents;
        if rng.random_bool(0.2) {
            cents += rng.random_range(1_000..35_000); // expenses
        }
        let form = if iso_only {
            DateForm::Iso
        } else {
            pick(
                rng,
                &[
                    (DateForm::Iso, 65),
                    (DateForm::DayFirst, 22),
                    (DateForm::MonthAbbrHyphen, 5),
                    (DateForm::MonthFr, 4),
                    (DateForm::MonthEn, 2),
                    (DateForm::YearMonth, 2),
                    (DateForm::MonthAbbrDot, 2),
                ],
            )
        };
        let day = if form.is_month_only() {
            1
        } else {
            rng.random_range(1..=days_in_month(month))
        };
        let date = month.with_day(day).expect("valid day");
        let mut has_id = rng.random_bool(0.9);
        if count && !has_id && !self.derived_keys.insert((f.id, cents, date)) {
            has_id = true; // would collide with another id-less invoice: give it an explicit id
        }
        let facture_id = if has_id {
            self.new_facture_id()
        } else {
            String::new()
        };
        let money_form = pick(rng, INVOICE_MONEY_FORMS);
        let echeance = if rng.random_bool(0.85) {
            let form = if rng.random_bool(0.7) {
                DateForm::Iso
            } else {
                DateForm::DayFirst
            };
            fmt::date(date + Duration::days(30), form)
        } else {
            String::new()
        };
        let age = (self.last_month.year() - month.year()) * 12 + self.last_month.month() as i32
            - month.month() as i32;
        let p_pending = match age {
            0 => 0.65,
            1 => 0.4,
            2 => 0.28,
            _ => 0.2,
        };
        let statut = if rng.random_bool(p_pending) {
            pick(rng, &[("en_attente", 60), ("pending", 25), ("", 15)])
        } else {
            pick(rng, &[("payee", 60), ("paid", 25), ("payée", 15)])
        };
        let jours_s = if rng.random_bool(0.4) {
            let x2 = ((2 * cents) as f64 / tarif_cents as f64).round() as i64;
            if x2 % 2 == 0 {
                format!("{}", x2 / 2)
            } else {
                format!("{}.5", x2 / 2)
            }
        } else {
            String::new()
        };
        let client = if rng.random_bool(0.85) {
            CLIENTS.choose(rng).expect("non-empty").to_string()
        } else {
            String::new()
        };
        let row = Row {
            facture_id,
            freelance: pad(rng, f.id.to_string(), pad_p),
            montant: pad(rng, fmt::money(cents, money_form), pad_p),
            date: pad(rng, fmt::date(date, form), pad_p),
            echeance: pad(rng, echeance, pad_p),
            statut: pad(rng, statut.to_string(), pad_p),
            jours: jours_s,
            client: pad(rng, client, pad_p),
        };
        if count {
            self.record_valid(cents, date);
        }
        (row, has_id)
    }
}

#[derive(Clone, Copy)]
enum BadInvoice {
    Amount(&'static str),
    Date(&'static str),
    Unknown,
}

const BAD_AMOUNTS: [&str; 6] = ["abc", "", "0", "-50", "4..5", "0,00 €"];
const BAD_DATES: [&str; 5] = ["2025-13-45", "32/01/2025", "", "2025-02-30", "31/04/2024"];

pub(crate) fn write_invoices(
    cfg: &GenConfig,
    pop: &Population,
    invalid_only_ids: &[u32],
    rng: &mut ChaCha8Rng,
    out_dir: &Path,
) -> Result<InvoicesOutcome, GenError> {
    let months: Vec<NaiveDate> = (0..cfg.months)
        .rev()
        .map(|back| cfg.end_month - Months::new(back))
        .collect();
    let mut g = Gen {
        cfg,
        pop,
        last_month: cfg.end_month,
        next_facture: 0,
        derived_keys: HashSet::new(),
        distinct_valid: 0,
        total_cents: 0,
        monthly: BTreeMap::new(),
        as_of: None,
    };
    let mut rejects = RejectCounts::default();
    let plant_invalid = cfg.invalid_ratio > 0.0;
    let invalid_base = crate::profiles::invalid_only_base(cfg);
    let max_ghost = invalid_only_ids
        .iter()
        .copied()
        .max()
        .unwrap_or(invalid_base);
    let unknown_base = (invalid_base + 2242).max(max_ghost + 1000);
    let unknown_ids: Vec<u32> = (0..3).map(|k| unknown_base + k).collect();

    // --- the small by-name file ---
    let par_nom = write_par_nom(&mut g, rng, out_dir, &months, plant_invalid, &mut rejects)?;
    let par_nom_valid = g.distinct_valid;

    // --- main files ---
    let mut outs: Vec<Out> = Vec::with_capacity(cfg.invoice_files as usize);
    for k in 1..=cfg.invoice_files {
        outs.push(Out::create(out_dir, k, rng)?);
    }
    let n_files = outs.len();
    let target = cfg.invoices as f64;
    let n_dup_target = (target * cfg.duplicate_ratio).round();
    let n_invalid_target = if plant_invalid {
        ((target * cfg.invalid_ratio).round() - 4.0).max(0.0)
    } else {
        0.0
    };
    let n_valid_base =
        (target - n_dup_target - n_invalid_target - par_nom.entry.records as f64).max(0.0);
    let p_invalid = if n_valid_base > 0.0 {
        (n_invalid_target / n_valid_base).min(1.0)
    } else {
        0.0
    };
    let p_dup = if n_valid_base > 0.0 {
        (n_dup_target / n_valid_base).min(0.5)
    } else {
        0.0
    };
    // 70% of duplicates repeat a line with a facture_id (90% of lines), 30% a line without one (10%).
    let p_dup_id = (p_dup * 0.7 / 0.9).min(1.0);
    let p_dup_noid = (p_dup * 0.3 / 0.1).min(1.0);

    // monthly volumes: seasonality x trend x small noise
    let weights: Vec<f64> = months
        .iter()
        .enumerate()
        .map(|(i, m)| {
            SEASON[m.month0() as usize]
                * TREND_PER_MONTH.powi(i as i32)
                * (1.0 + rng.random_range(-0.03..0.03))
        })
        .collect();
    let wsum: f64 = weights.iter().sum();
    let counts: Vec<u64> = weights
        .iter()
        .map(|w| (n_valid_base * w / wsum).round() as u64)
        .collect();

    let fl_w = WeightedIndex::new(pop.freelancers.iter().map(|f| f.activity)).expect("weights");
    // freelancers that must invoice in the last month: en mission, and the ids above the nominal range
    let forced_last: Vec<usize> = pop
        .freelancers
        .iter()
        .enumerate()
        .filter(|(_, f)| f.en_mission == Some(true) || f.id > cfg.freelancers)
        .map(|(i, _)| i)
        .collect();
    let valid_idx: Vec<usize> = (0..pop.freelancers.len()).collect();

    let mut pending: Vec<(u64, Row, bool)> = Vec::new();
    let mut dup_id = 0u64;
    let mut dup_derived = 0u64;
    let mut emitted = 0u64;
    let mid = (n_valid_base as u64 / 2).max(1);
    let mut wrong_fields_done = !plant_invalid;

    for (mi, &month) in months.iter().enumerate() {
        let last = mi + 1 == months.len();
        let forced: &[usize] = if last { &forced_last } else { &[] };
        let n = counts[mi].max(forced.len() as u64);
        for j in 0..n as usize {
            let (idx, iso_only) = if j < forced.len() {
                (forced[j], true)
            } else {
                (fl_w.sample(rng), false)
            };
            let fi = rng.random_range(0..n_files);
            let (row, has_id) = g.valid_row(rng, idx, month, iso_only, outs[fi].pad, true);
            outs[fi].write(&row, false)?;
            emitted += 1;
            if rng.random_bool(if has_id { p_dup_id } else { p_dup_noid }) {
                pending.push((emitted + rng.random_range(1..=3000), row, has_id));
            }
            if rng.random_bool(p_invalid) {
                let kind = match rng.random_range(0..100) {
                    0..40 => BadInvoice::Amount(BAD_AMOUNTS.choose(rng).expect("non-empty")),
                    40..75 => BadInvoice::Date(BAD_DATES.choose(rng).expect("non-empty")),
                    _ => BadInvoice::Unknown,
                };
                let fi = rng.random_range(0..n_files);
                let base_idx = *valid_idx.choose(rng).expect("non-empty");
                let (mut row, _) = g.valid_row(rng, base_idx, month, false, outs[fi].pad, false);
                if row.facture_id.is_empty() && rng.random_bool(0.5) {
                    row.facture_id = g.new_facture_id();
                }
                let rule = match kind {
                    BadInvoice::Amount(a) => {
                        row.montant = a.to_string();
                        // an empty cell is a missing required value (ff-core: missing_field)
                        if a.is_empty() {
                            Rule::MissingField
                        } else {
                            Rule::InvalidAmount
                        }
                    }
                    BadInvoice::Date(d) => {
                        row.date = d.to_string();
                        // explicit, valid due date: nothing else depends on the broken date
                        let day = rng.random_range(1..=days_in_month(month));
                        row.echeance = fmt::date(
                            month.with_day(day).expect("day") + Duration::days(30),
                            DateForm::Iso,
                        );
                        if d.is_empty() {
                            Rule::MissingField
                        } else {
                            Rule::InvalidDate
                        }
                    }
                    BadInvoice::Unknown => {
                        let id = if !invalid_only_ids.is_empty() && rng.random_bool(0.4) {
                            *invalid_only_ids.choose(rng).expect("non-empty")
                        } else {
                            *unknown_ids.choose(rng).expect("non-empty")
                        };
                        row.freelance = id.to_string();
                        Rule::UnknownFreelance
                    }
                };
                outs[fi].write(&row, false)?;
                outs[fi].entry.rejects.add(rule);
                rejects.add(rule);
            }
            if !wrong_fields_done && emitted >= mid {
                let fi = rng.random_range(0..n_files);
                let (mut row, _) = g.valid_row(rng, 0, month, true, 0.0, false);
                row.facture_id = g.new_facture_id();
                outs[fi].write(&row, true)?;
                outs[fi].entry.rejects.add(Rule::InvalidCsv);
                rejects.add(Rule::InvalidCsv);
                wrong_fields_done = true;
            }
            // release due duplicates
            let mut k = 0;
            while k < pending.len() {
                if pending[k].0 <= emitted {
                    let (_, row, has_id) = pending.swap_remove(k);
                    let fi = rng.random_range(0..n_files);
                    outs[fi].write(&row, false)?;
                    outs[fi].entry.duplicates += 1;
                    if has_id {
                        dup_id += 1;
                    } else {
                        dup_derived += 1;
                    }
                } else {
                    k += 1;
                }
            }
        }
    }
    pending.sort_by_key(|p| p.0);
    for (_, row, has_id) in pending {
        let fi = rng.random_range(0..n_files);
        outs[fi].write(&row, false)?;
        outs[fi].entry.duplicates += 1;
        if has_id {
            dup_id += 1;
        } else {
            dup_derived += 1;
        }
    }
    if !wrong_fields_done {
        let (mut row, _) = g.valid_row(rng, 0, cfg.end_month, true, 0.0, false);
        row.facture_id = g.new_facture_id();
        outs[0].write(&row, true)?;
        outs[0].entry.rejects.add(Rule::InvalidCsv);
        rejects.add(Rule::InvalidCsv);
    }
    if plant_invalid {
        // the very last line of the first file opens a quote that is never closed
        let (mut row, _) = g.valid_row(rng, 0, cfg.end_month, true, 0.0, false);
        row.facture_id = g.new_facture_id();
        outs[0].write_unterminated(&row)?;
        outs[0].entry.rejects.add(Rule::InvalidCsv);
        rejects.add(Rule::InvalidCsv);
    }

    let mut files = Vec::with_capacity(n_files + 1);
    let mut records = par_nom.entry.records;
    for mut o in outs {
        o.w.flush()?;
        records += o.entry.records;
        files.push(o.entry);
    }
    files.push(par_nom.entry);
    Ok(InvoicesOutcome {
        files,
        records,
        rejects,
        duplicates_by_facture_id: dup_id,
        duplicates_derived_id: dup_derived,
        distinct_valid: g.distinct_valid,
        total_cents: g.total_cents,
        monthly: g.monthly,
        as_of: g.as_of,
        unknown_ids,
        par_nom_valid,
    })
}

struct ParNom {
    entry: FileEntry,
}

pub const PAR_NOM_FILE: &str = "factures_par_nom.csv";

/// `freelance, montant, date` with the freelancer's name, as in the original design's sample.
fn write_par_nom(
    g: &mut Gen<'_>,
    rng: &mut ChaCha8Rng,
    out_dir: &Path,
    months: &[NaiveDate],
    plant_invalid: bool,
    rejects: &mut RejectCounts,
) -> Result<ParNom, GenError> {
    let mut w = BufWriter::new(File::create(out_dir.join(PAR_NOM_FILE))?);
    w.write_all(b"freelance, montant, date\n")?;
    let mut entry = FileEntry::new(PAR_NOM_FILE.into(), FileKind::Invoices, "csv", 0);
    entry.delimiter = Some(',');
    let unique: Vec<usize> = (0..g.pop.freelancers.len())
        .filter(|&i| g.pop.is_unique_name(&g.pop.freelancers[i].nom))
        .collect();
    let mut chosen: Vec<usize> = unique.choose_multiple(rng, 12).copied().collect();
    chosen.sort_unstable();
    let mut lines: Vec<(String, bool)> = Vec::new();
    for idx in chosen {
        let f = &g.pop.freelancers[idx];
        let tarif_cents = i64::from(f.tarif) * 100;
        loop {
            let month = *months.choose(rng).expect("non-empty");
            let jours = rng.random_range(1..=22i64);
            let cents = jours * tarif_cents
                + if rng.random_bool(0.25) {
                    rng.random_range(100..9_999)
                } else {
                    0
                };
            let form = pick(
                rng,
                &[
                    (DateForm::MonthAbbrHyphen, 40),
                    (DateForm::MonthFr, 20),
                    (DateForm::Iso, 25),
                    (DateForm::DayFirst, 15),
                ],
            );
            let day = if form.is_month_only() {
                1
            } else {
                rng.random_range(1..=days_in_month(month))
            };
            let date = month.with_day(day).expect("day");
            if !g.derived_keys.insert((f.id, cents, date)) {
                continue;
            }
            // forms without a comma: this file's values are written unquoted after ", "
            let money_form = pick(
                rng,
                &[
                    (MoneyForm::EuroSuffix, 40),
                    (MoneyForm::EurPrefix, 20),
                    (MoneyForm::Plain, 25),
                    (MoneyForm::PlainDecimals, 15),
                ],
            );
            g.record_valid(cents, date);
            lines.push((
                format!(
                    "{}, {}, {}",
                    f.nom,
                    fmt::money(cents, money_form),
                    fmt::date(date, form)
                ),
                true,
            ));
            break;
        }
    }
    if plant_invalid {
        // a name carried by several valid freelancers: ambiguous
        if let Some(f) = g.pop.freelancers.iter().find(|f| {
            g.pop
                .name_counts
                .get(&f.nom.to_lowercase())
                .is_some_and(|&c| c >= 2)
        }) {
            let cents = i64::from(f.tarif) * 500;
            lines.push((
                format!(
                    "{}, {}, {}",
                    f.nom,
                    fmt::money(cents, MoneyForm::EuroSuffix),
                    fmt::date(g.cfg.end_month, DateForm::MonthAbbrHyphen)
                ),
                false,
            ));
        }
        // nobody has this name
        lines.push((
            format!(
                "Zorglub, 3200€, {}",
                fmt::date(g.cfg.end_month, DateForm::MonthFr)
            ),
            false,
        ));
    }
    // keep the valid lines in id order but put the two bad ones at random places
    let mut valid: Vec<(String, bool)> = lines.iter().filter(|l| l.1).cloned().collect();
    for bad in lines.into_iter().filter(|l| !l.1) {
        let pos = rng.random_range(0..=valid.len());
        valid.insert(pos, bad);
    }
    for (line, ok) in &valid {
        w.write_all(line.as_bytes())?;
        w.write_all(b"\n")?;
        entry.records += 1;
        if !ok {
            entry.rejects.add(Rule::UnknownFreelance);
            rejects.add(Rule::UnknownFreelance);
        }
    }
    w.flush()?;
    Ok(ParNom { entry })
}
