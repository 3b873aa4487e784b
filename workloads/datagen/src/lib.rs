//! Seeded, reproducible generator of realistic, messy FreelanceFlow input files (profiles JSON, invoices CSV) with a manifest of what it planted.

mod data;
mod fmt;
mod invoices;
mod profiles;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub use invoices::PAR_NOM_FILE;

/// Name of the manifest written next to the data; loaders skip files whose name starts with `_`.
pub const MANIFEST_FILE: &str = "_manifest.json";

/// What to generate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GenConfig {
    /// Seed of the ChaCha8 generator: same seed and config, same bytes.
    pub seed: u64,
    /// Freelancers in the nominal range: ids 1..=freelancers.
    pub freelancers: u32,
    /// Valid freelancers above the nominal range: ids freelancers+1..=freelancers+extra_ids.
    pub extra_ids: u32,
    /// Number of months of invoices (24+ for a seasonal forecast).
    pub months: u32,
    /// First day of the last month of invoices.
    pub end_month: NaiveDate,
    /// Target number of invoice lines across the invoice files (valid, invalid and duplicates).
    pub invoices: u64,
    /// Share of invalid records planted (profiles and invoices). 0 plants none, not even the broken lines.
    pub invalid_ratio: f64,
    /// Share of duplicate invoice lines planted (also drives the number of updated profiles).
    pub duplicate_ratio: f64,
    /// Number of `factures_<k>.csv` files.
    pub invoice_files: u32,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            seed: 42,
            freelancers: 1000,
            extra_ids: 5,
            months: 26,
            end_month: NaiveDate::from_ymd_opt(2025, 10, 1).expect("valid date"),
            invoices: 30_000,
            invalid_ratio: 0.03,
            duplicate_ratio: 0.01,
            invoice_files: 4,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error("invalid generator config: {0}")]
    Config(String),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("json error: {0}")]
    Json(#[from] serde_json::Error),
}

/// Reject rule codes of the data contract (section 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    InvalidJson,
    InvalidCsv,
    MissingField,
    InvalidEmail,
    InvalidAmount,
    InvalidDate,
    UnknownFreelance,
}

impl Rule {
    pub const ALL: [Rule; 7] = [
        Rule::InvalidJson,
        Rule::InvalidCsv,
        Rule::MissingField,
        Rule::InvalidEmail,
        Rule::InvalidAmount,
        Rule::InvalidDate,
        Rule::UnknownFreelance,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Rule::InvalidJson => "invalid_json",
            Rule::InvalidCsv => "invalid_csv",
            Rule::MissingField => "missing_field",
            Rule::InvalidEmail => "invalid_email",
            Rule::InvalidAmount => "invalid_amount",
            Rule::InvalidDate => "invalid_date",
            Rule::UnknownFreelance => "unknown_freelance",
        }
    }
}

/// Planted rejects by rule code.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectCounts {
    pub invalid_json: u64,
    pub invalid_csv: u64,
    pub missing_field: u64,
    pub invalid_email: u64,
    pub invalid_amount: u64,
    pub invalid_date: u64,
    pub unknown_freelance: u64,
}

impl RejectCounts {
    fn slot(&mut self, r: Rule) -> &mut u64 {
        match r {
            Rule::InvalidJson => &mut self.invalid_json,
            Rule::InvalidCsv => &mut self.invalid_csv,
            Rule::MissingField => &mut self.missing_field,
            Rule::InvalidEmail => &mut self.invalid_email,
            Rule::InvalidAmount => &mut self.invalid_amount,
            Rule::InvalidDate => &mut self.invalid_date,
            Rule::UnknownFreelance => &mut self.unknown_freelance,
        }
    }
    pub fn add(&mut self, r: Rule) {
        *self.slot(r) += 1;
    }
    pub fn get(&self, r: Rule) -> u64 {
        match r {
            Rule::InvalidJson => self.invalid_json,
            Rule::InvalidCsv => self.invalid_csv,
            Rule::MissingField => self.missing_field,
            Rule::InvalidEmail => self.invalid_email,
            Rule::InvalidAmount => self.invalid_amount,
            Rule::InvalidDate => self.invalid_date,
            Rule::UnknownFreelance => self.unknown_freelance,
        }
    }
    pub fn total(&self) -> u64 {
        Rule::ALL.iter().map(|r| self.get(*r)).sum()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Profiles,
    Invoices,
}

/// One written file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    pub kind: FileKind,
    /// `json_object`, `json_lines`, `json_array` or `csv`.
    pub format: String,
    /// Data records: objects / lines (including broken ones) / CSV rows after the header.
    pub records: u64,
    pub delimiter: Option<char>,
    pub bom: bool,
    pub crlf: bool,
    /// Planted rejects in this file.
    pub rejects: RejectCounts,
    /// Planted duplicates in this file (repeated invoice lines, or later versions of a profile).
    pub duplicates: u64,
}

impl FileEntry {
    fn new(name: String, kind: FileKind, format: &str, records: u64) -> Self {
        FileEntry {
            name,
            kind,
            format: format.into(),
            records,
            delimiter: None,
            bom: false,
            crlf: false,
            rejects: RejectCounts::default(),
            duplicates: 0,
        }
    }
}

/// Totals for one source (profiles or invoices).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceSummary {
    pub files: u64,
    /// All data records written (valid, invalid, duplicates).
    pub records: u64,
    pub rejects: RejectCounts,
    /// Profiles: later versions of an already-seen id. Invoices: repeated lines.
    pub duplicates: u64,
    /// Distinct valid entities after deduplication.
    pub distinct_valid: u64,
}

/// A profile that appears twice: the later (final) version must win.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileUpdate {
    pub id: u32,
    pub first_tarif_jour: u32,
    pub final_tarif_jour: u32,
    pub first_file: String,
    pub final_file: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthTotals {
    pub invoices: u64,
    pub montant_cents: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceDuplicates {
    /// Exact repeats of a line carrying a `facture_id`.
    pub by_facture_id: u64,
    /// Exact repeats of a line without `facture_id` (same freelancer, amount, date: one derived id).
    pub derived_id: u64,
}

/// What a correct pipeline must end up with.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Expected {
    pub distinct_valid_freelancers: u64,
    pub distinct_valid_invoices: u64,
    /// Sum of `montant`, in cents, over distinct valid invoices.
    pub total_montant_cents: i64,
    /// Per calendar month (`YYYY-MM`) of the invoice date, over distinct valid invoices.
    pub monthly: BTreeMap<String, MonthTotals>,
    /// Latest valid invoice date (the default `as_of`).
    pub as_of: Option<NaiveDate>,
    /// Valid freelancers whose latest profile says `en_mission`.
    pub statut_en_mission: u64,
    /// Valid freelancers whose latest profile has no statut.
    pub statut_absent: u64,
    /// Valid freelancers whose `nom` is carried by no other valid freelancer.
    pub unique_names: u64,
    /// Valid invoices of `factures_par_nom.csv` (resolved by name).
    pub invoices_by_name: u64,
}

/// Everything planted by [`generate`]; also written as `_manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub generator: String,
    pub seed: u64,
    pub config: GenConfig,
    pub files: Vec<FileEntry>,
    pub profiles: SourceSummary,
    pub invoices: SourceSummary,
    pub invoice_duplicates: InvoiceDuplicates,
    pub profile_updates: Vec<ProfileUpdate>,
    /// The freelancer id of the single-object profile file.
    pub single_profile_id: u32,
    /// Ids that only have invalid profiles (so invoices for them are `unknown_freelance`).
    pub invalid_only_profile_ids: Vec<u32>,
    /// Ids used by invoices that have no profile at all.
    pub unknown_invoice_ids: Vec<u32>,
    pub expected: Expected,
    /// Conventions the counts rely on.
    pub notes: Vec<String>,
}

fn validate(cfg: &GenConfig) -> Result<(), GenError> {
    let err = |m: &str| Err(GenError::Config(m.to_string()));
    if cfg.freelancers == 0 {
        return err("freelancers must be >= 1");
    }
    if cfg.months == 0 {
        return err("months must be >= 1");
    }
    if cfg.end_month.day() != 1 {
        return err("end_month must be the first day of a month");
    }
    if cfg.invoice_files == 0 {
        return err("invoice_files must be >= 1");
    }
    if !(0.0..=0.5).contains(&cfg.invalid_ratio) || !(0.0..=0.5).contains(&cfg.duplicate_ratio) {
        return err("invalid_ratio and duplicate_ratio must be within 0..=0.5");
    }
    if cfg
        .freelancers
        .checked_add(cfg.extra_ids)
        .is_none_or(|t| t > 10_000_000)
    {
        return err("too many freelancers");
    }
    Ok(())
}

/// Generate the input files into `out_dir` (created if needed) and return the manifest.
///
/// Writes `profils.jsonl`, `profils_array.json` and one `profil_<id>.json` (profiles, contract 1.1);
/// `factures_<k>.csv` for k in 1..=`invoice_files` and [`PAR_NOM_FILE`] (invoices, contract 1.2); and
/// [`MANIFEST_FILE`], which loaders skip (its name starts with `_`). Files are meant to be read in
/// lexicographic name order: a later record of the same profile id is the later Kafka offset.
/// Rows are streamed; memory only grows with the keys of the invoices without `facture_id` (~10%).
pub fn generate(cfg: &GenConfig, out_dir: &Path) -> Result<Manifest, GenError> {
    validate(cfg)?;
    fs::create_dir_all(out_dir)?;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut pop = profiles::build_population(cfg, &mut rng);
    let prof = profiles::write_profiles(cfg, &mut pop, &mut rng, out_dir)?;
    let inv = invoices::write_invoices(cfg, &pop, &prof.invalid_only_ids, &mut rng, out_dir)?;

    let n_valid_freelancers = pop.freelancers.len() as u64;
    let expected = Expected {
        distinct_valid_freelancers: n_valid_freelancers,
        distinct_valid_invoices: inv.distinct_valid,
        total_montant_cents: inv.total_cents,
        monthly: inv.monthly,
        as_of: inv.as_of,
        statut_en_mission: pop
            .freelancers
            .iter()
            .filter(|f| f.en_mission == Some(true))
            .count() as u64,
        statut_absent: pop
            .freelancers
            .iter()
            .filter(|f| f.en_mission.is_none())
            .count() as u64,
        unique_names: pop
            .freelancers
            .iter()
            .filter(|f| pop.is_unique_name(&f.nom))
            .count() as u64,
        invoices_by_name: inv.par_nom_valid,
    };
    let profiles = SourceSummary {
        files: prof.files.len() as u64,
        records: prof.records,
        rejects: prof.rejects,
        duplicates: prof.updates.len() as u64,
        distinct_valid: n_valid_freelancers,
    };
    let invoices = SourceSummary {
        files: inv.files.len() as u64,
        records: inv.records,
        rejects: inv.rejects,
        duplicates: inv.duplicates_by_facture_id + inv.duplicates_derived_id,
        distinct_valid: inv.distinct_valid,
    };
    let mut files = prof.files;
    files.extend(inv.files);
    let manifest = Manifest {
        generator: format!("ff-datagen {}", env!("CARGO_PKG_VERSION")),
        seed: cfg.seed,
        config: cfg.clone(),
        files,
        profiles,
        invoices,
        invoice_duplicates: InvoiceDuplicates {
            by_facture_id: inv.duplicates_by_facture_id,
            derived_id: inv.duplicates_derived_id,
        },
        profile_updates: prof.updates,
        single_profile_id: prof.single_file_id,
        invalid_only_profile_ids: prof.invalid_only_ids,
        unknown_invoice_ids: inv.unknown_ids,
        expected,
        notes: NOTES.iter().map(|s| s.to_string()).collect(),
    };
    let mut w = std::io::BufWriter::new(fs::File::create(out_dir.join(MANIFEST_FILE))?);
    serde_json::to_writer_pretty(&mut w, &manifest)?;
    w.write_all(b"\n")?;
    w.flush()?;
    Ok(manifest)
}

const NOTES: &[&str] = &[
    "files whose name starts with '_' (this manifest) are not input data",
    "read files in lexicographic name order: a later record of the same profile id wins",
    "each planted invalid record fails exactly one rule",
    "an empty (or blank) montant or date cell is a missing required value: missing_field, as ff-core decides",
    "a missing required profile key (id, nom, email) counts as missing_field",
    "one JSON Lines line is not JSON (invalid_json); one CSV row has an extra field and the last row of factures_1.csv opens a quote never closed (invalid_csv)",
    "factures_par_nom.csv: one ambiguous name and one unknown name (unknown_freelance); other names are unique among valid freelancers",
    "invoices for ids that only have invalid profiles are unknown_freelance",
    "duplicate invoice lines are exact repeats: by facture_id, or without facture_id (same freelancer, montant, date)",
];

/// Write the original design's exact sample records into `out_dir/sample/`.
pub fn write_sample(out_dir: &Path) -> Result<(), GenError> {
    let dir = out_dir.join("sample");
    fs::create_dir_all(&dir)?;
    fs::write(
        dir.join("profils.json"),
        "[{\"id\": 1, \"email\": \"dupont@example.com\", \"nom\": \"Dupont\", \"compétences\": [\"Python\"], \"tarif_jour\": \"450€\"}]\n",
    )?;
    fs::write(
        dir.join("factures.csv"),
        "freelance, montant, date\nDupont, 4500€, Oct-2025\n",
    )?;
    Ok(())
}
