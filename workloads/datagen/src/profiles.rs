//! Freelancer population and the profile files (JSON array, JSON Lines, one single-object file).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{Datelike, Months, NaiveDate};
use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};

use crate::data::{
    ascii_fold, CITIES, COMMON_NOMS, DOMAINS, GHOST_NOMS, PRENOMS, RARE_NOMS, SKILLS,
};
use crate::fmt::{self, DateForm, MoneyForm};
use crate::{FileEntry, FileKind, GenConfig, GenError, ProfileUpdate, RejectCounts, Rule};

/// One freelancer as the data set finally knows it (the latest valid profile).
#[derive(Clone, Debug)]
pub(crate) struct Freelancer {
    pub id: u32,
    pub nom: String,
    pub prenom: &'static str,
    pub email: String,
    pub skills: Vec<&'static str>,
    /// Final daily rate in euros (the one of the latest valid record).
    pub tarif: u32,
    pub ville: Option<&'static str>,
    /// `Some(true)` = en_mission, `Some(false)` = disponible, `None` = no statut field.
    pub en_mission: Option<bool>,
    pub signup: Option<NaiveDate>,
    /// Relative invoicing frequency.
    pub activity: f64,
}

pub(crate) struct Population {
    /// Index = id - 1; ids 1..=freelancers+extra_ids, all with a valid profile.
    pub freelancers: Vec<Freelancer>,
    /// Lower-cased nom -> number of valid freelancers carrying it.
    pub name_counts: HashMap<String, u32>,
}

impl Population {
    pub fn is_unique_name(&self, nom: &str) -> bool {
        self.name_counts.get(&nom.to_lowercase()) == Some(&1)
    }
}

pub(crate) fn build_population(cfg: &GenConfig, rng: &mut ChaCha8Rng) -> Population {
    let total = cfg.freelancers + cfg.extra_ids;
    let skill_w = WeightedIndex::new(SKILLS.iter().map(|s| s.1)).expect("weights");
    let city_w = WeightedIndex::new(CITIES.iter().map(|c| c.1)).expect("weights");
    let first_signup = NaiveDate::from_ymd_opt(2018, 1, 1).expect("date");
    let signup_span = (cfg.end_month - first_signup).num_days().max(1);
    let mut freelancers = Vec::with_capacity(total as usize);
    for id in 1..=total {
        let nom = if rng.random_bool(0.12) {
            let a = RARE_NOMS.choose(rng).expect("non-empty");
            let mut b = RARE_NOMS.choose(rng).expect("non-empty");
            while b == a {
                b = RARE_NOMS.choose(rng).expect("non-empty");
            }
            format!("{a}-{b}")
        } else {
            COMMON_NOMS.choose(rng).expect("non-empty").to_string()
        };
        let prenom = *PRENOMS.choose(rng).expect("non-empty");
        let domain = DOMAINS.choose(rng).expect("non-empty");
        let email = format!(
            "{}.{}{}@{}",
            ascii_fold(prenom),
            ascii_fold(&nom),
            id,
            domain
        );
        let n_skills = [2usize, 2, 3, 3, 3, 4, 4, 5, 6][rng.random_range(0..9)];
        let mut skills: Vec<&'static str> = Vec::with_capacity(n_skills);
        while skills.len() < n_skills {
            let s = SKILLS[skill_w.sample(rng)].0;
            if !skills.contains(&s) {
                skills.push(s);
            }
        }
        let mut premiums: Vec<u32> = skills
            .iter()
            .map(|s| SKILLS.iter().find(|x| x.0 == *s).map_or(0, |x| x.2))
            .collect();
        premiums.sort_unstable_by(|a, b| b.cmp(a));
        let seniority: f64 = rng.random::<f64>().powf(1.4) * 20.0;
        let raw = 280.0
            + premiums.iter().take(2).sum::<u32>() as f64
            + 24.0 * seniority
            + rng.random_range(-40.0..40.0);
        let step = if rng.random_bool(0.3) { 50.0 } else { 10.0 };
        let tarif = ((raw / step).round() * step).clamp(250.0, 1200.0) as u32;
        let ville = rng.random_bool(0.9).then(|| CITIES[city_w.sample(rng)].0);
        let en_mission = rng.random_bool(0.7).then(|| rng.random_bool(0.55));
        let signup = rng
            .random_bool(0.85)
            .then(|| first_signup + chrono::Duration::days(rng.random_range(0..signup_span)));
        let mut activity = rng.random_range(0.3..2.0);
        if en_mission == Some(true) {
            activity *= 1.3;
        }
        freelancers.push(Freelancer {
            id,
            nom,
            prenom,
            email,
            skills,
            tarif,
            ville,
            en_mission,
            signup,
            activity,
        });
    }
    let mut name_counts = HashMap::new();
    for f in &freelancers {
        *name_counts.entry(f.nom.to_lowercase()).or_insert(0u32) += 1;
    }
    Population {
        freelancers,
        name_counts,
    }
}

/// Key spellings chosen for one record.
struct Keys {
    id: &'static str,
    nom: &'static str,
    prenom: &'static str,
    email: &'static str,
    skills: &'static str,
    tarif: &'static str,
    ville: &'static str,
    statut: &'static str,
    date: &'static str,
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

fn choose_keys(rng: &mut ChaCha8Rng) -> Keys {
    Keys {
        id: pick(
            rng,
            &[("id", 70), ("freelance_id", 20), ("id_freelance", 10)],
        ),
        nom: pick(rng, &[("nom", 70), ("name", 20), ("last_name", 10)]),
        prenom: pick(rng, &[("prenom", 60), ("prénom", 20), ("first_name", 20)]),
        email: pick(rng, &[("email", 70), ("mail", 20), ("Email", 10)]),
        skills: pick(
            rng,
            &[("competences", 40), ("compétences", 35), ("skills", 25)],
        ),
        tarif: pick(
            rng,
            &[
                ("tarif_jour", 50),
                ("tjm", 20),
                ("daily_rate", 15),
                ("tarif", 10),
                ("TJM", 5),
            ],
        ),
        ville: pick(rng, &[("ville", 70), ("city", 30)]),
        statut: pick(rng, &[("statut", 70), ("status", 30)]),
        date: pick(
            rng,
            &[
                ("date_inscription", 60),
                ("signup_date", 25),
                ("created_at", 15),
            ],
        ),
    }
}

fn tarif_value(rng: &mut ChaCha8Rng, euros: u32) -> Value {
    let cents = i64::from(euros) * 100;
    match rng.random_range(0..9) {
        0 | 1 => json!(euros),
        2 => json!(f64::from(euros)),
        3 => Value::String(fmt::money(cents, MoneyForm::EuroSuffix)),
        4 => Value::String(fmt::money(cents, MoneyForm::French { nbsp: false })),
        5 => Value::String(fmt::money(cents, MoneyForm::French { nbsp: true })),
        6 => Value::String(fmt::money(cents, MoneyForm::EurPrefix)),
        7 => Value::String(format!("{euros} EUR")),
        _ => Value::String(fmt::money(cents, MoneyForm::PlainDecimals)),
    }
}

fn skills_value(rng: &mut ChaCha8Rng, skills: &[&str]) -> Value {
    let mut list: Vec<String> = skills.iter().map(|s| s.to_string()).collect();
    if rng.random_bool(0.12) {
        // duplicate with a different case, removed downstream
        let s = skills.choose(rng).expect("non-empty");
        let variant = if rng.random_bool(0.5) {
            s.to_lowercase()
        } else {
            s.to_uppercase()
        };
        let pos = rng.random_range(0..=list.len());
        list.insert(pos, variant);
    }
    if rng.random_bool(0.3) {
        let sep = if rng.random_bool(0.5) { ", " } else { "," };
        Value::String(list.join(sep))
    } else {
        Value::Array(list.into_iter().map(Value::String).collect())
    }
}

fn date_value(rng: &mut ChaCha8Rng, d: NaiveDate) -> String {
    let form = pick(
        rng,
        &[
            (DateForm::Iso, 50),
            (DateForm::DayFirst, 25),
            (DateForm::YearMonth, 7),
            (DateForm::MonthFr, 7),
            (DateForm::MonthAbbrHyphen, 6),
            (DateForm::MonthEn, 4),
            (DateForm::MonthAbbrDot, 2),
        ],
    );
    let d = if form.is_month_only() {
        d.with_day(1).expect("day 1")
    } else {
        d
    };
    fmt::date(d, form)
}

fn statut_value(rng: &mut ChaCha8Rng, en_mission: bool) -> &'static str {
    if en_mission {
        pick(
            rng,
            &[("en_mission", 70), ("en mission", 15), ("on_mission", 15)],
        )
    } else {
        pick(rng, &[("disponible", 80), ("available", 20)])
    }
}

fn build_record(
    rng: &mut ChaCha8Rng,
    f: &Freelancer,
    tarif: u32,
    keys: &Keys,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(keys.id.into(), json!(f.id));
    let nom = if rng.random_bool(0.03) {
        format!(" {} ", f.nom)
    } else {
        f.nom.clone()
    };
    m.insert(keys.nom.into(), Value::String(nom));
    if rng.random_bool(0.9) {
        m.insert(keys.prenom.into(), Value::String(f.prenom.into()));
    }
    let email = if rng.random_bool(0.1) {
        uppercase_first(&f.email)
    } else {
        f.email.clone()
    };
    m.insert(keys.email.into(), Value::String(email));
    m.insert(keys.skills.into(), skills_value(rng, &f.skills));
    m.insert(keys.tarif.into(), tarif_value(rng, tarif));
    if let Some(v) = f.ville {
        m.insert(keys.ville.into(), Value::String(v.into()));
    }
    if let Some(em) = f.en_mission {
        m.insert(
            keys.statut.into(),
            Value::String(statut_value(rng, em).into()),
        );
    }
    if let Some(d) = f.signup {
        m.insert(keys.date.into(), Value::String(date_value(rng, d)));
    }
    if rng.random_bool(0.12) {
        m.insert(
            "linkedin".into(),
            Value::String(format!(
                "https://www.linkedin.com/in/{}-{}-{}",
                ascii_fold(f.prenom),
                ascii_fold(&f.nom),
                f.id
            )),
        );
    }
    if rng.random_bool(0.05) {
        m.insert(
            "source".into(),
            Value::String(
                pick(
                    rng,
                    &[("malt", 1), ("crème de la crème", 1), ("cooptation", 1)],
                )
                .into(),
            ),
        );
    }
    if rng.random_bool(0.15) {
        // unordered keys
        let mut entries: Vec<(String, Value)> = m.into_iter().collect();
        entries.shuffle(rng);
        m = entries.into_iter().collect();
    }
    m
}

fn uppercase_first(email: &str) -> String {
    let mut c = email.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// The kinds of invalid profile planted; each fails exactly one rule.
#[derive(Clone, Copy, Debug)]
enum BadProfile {
    MissingId,
    MissingNom,
    MissingEmail,
    EmailTrailingAt,
    EmailSpace,
    TarifAbc,
    TarifZero,
    TarifNegative,
    BadDate,
}

impl BadProfile {
    const REUSABLE: [BadProfile; 8] = [
        BadProfile::MissingEmail,
        BadProfile::EmailTrailingAt,
        BadProfile::TarifAbc,
        BadProfile::BadDate,
        BadProfile::MissingNom,
        BadProfile::EmailSpace,
        BadProfile::TarifZero,
        BadProfile::TarifNegative,
    ];
    const NEW_ID: [BadProfile; 9] = [
        BadProfile::EmailSpace,
        BadProfile::TarifZero,
        BadProfile::MissingId,
        BadProfile::BadDate,
        BadProfile::MissingEmail,
        BadProfile::TarifNegative,
        BadProfile::EmailTrailingAt,
        BadProfile::MissingNom,
        BadProfile::TarifAbc,
    ];

    fn rule(self) -> Rule {
        match self {
            BadProfile::MissingId | BadProfile::MissingNom | BadProfile::MissingEmail => {
                Rule::MissingField
            }
            BadProfile::EmailTrailingAt | BadProfile::EmailSpace => Rule::InvalidEmail,
            BadProfile::TarifAbc | BadProfile::TarifZero | BadProfile::TarifNegative => {
                Rule::InvalidAmount
            }
            BadProfile::BadDate => Rule::InvalidDate,
        }
    }

    fn corrupt(self, m: &mut Map<String, Value>, keys: &Keys, f: &Freelancer) {
        match self {
            BadProfile::MissingId => {
                m.shift_remove(keys.id);
            }
            BadProfile::MissingNom => {
                m.shift_remove(keys.nom);
            }
            BadProfile::MissingEmail => {
                m.shift_remove(keys.email);
            }
            BadProfile::EmailTrailingAt => {
                let local = f.email.split('@').next().unwrap_or("jean.dupont");
                m.insert(keys.email.into(), Value::String(format!("{local}@")));
            }
            BadProfile::EmailSpace => {
                m.insert(
                    keys.email.into(),
                    Value::String(format!(
                        "{} {}@example.fr",
                        ascii_fold(f.prenom),
                        ascii_fold(&f.nom)
                    )),
                );
            }
            BadProfile::TarifAbc => {
                m.insert(keys.tarif.into(), Value::String("abc".into()));
            }
            BadProfile::TarifZero => {
                m.insert(
                    keys.tarif.into(),
                    if f.id & 1 == 0 {
                        json!(0)
                    } else {
                        Value::String("0 €".into())
                    },
                );
            }
            BadProfile::TarifNegative => {
                m.insert(keys.tarif.into(), json!(-300));
            }
            BadProfile::BadDate => {
                m.insert(keys.date.into(), Value::String("2025-13-45".into()));
            }
        }
    }
}

enum Line {
    Obj(Map<String, Value>),
    Raw(String),
}

/// A profile file under construction: original records, plus records inserted after a given original
/// (`slots[0]` = before the first original, `slots[k]` = after original k-1).
struct Draft {
    originals: Vec<Line>,
    slots: Vec<Vec<Line>>,
}

impl Draft {
    fn new() -> Self {
        Draft {
            originals: Vec::new(),
            slots: vec![Vec::new()],
        }
    }
    fn push(&mut self, l: Line) {
        self.originals.push(l);
        self.slots.push(Vec::new());
    }
    /// Insert somewhere strictly after original `idx` (or anywhere when `idx` is None).
    fn insert_after(&mut self, rng: &mut ChaCha8Rng, idx: Option<usize>, l: Line) {
        let lo = idx.map_or(0, |i| i + 1);
        let slot = rng.random_range(lo..=self.originals.len());
        self.slots[slot].push(l);
    }
    fn into_lines(self) -> Vec<Line> {
        let mut out = Vec::new();
        let mut slots = self.slots.into_iter();
        out.extend(slots.next().expect("slot 0"));
        for (o, s) in self.originals.into_iter().zip(slots) {
            out.push(o);
            out.extend(s);
        }
        out
    }
}

pub(crate) struct ProfilesOutcome {
    pub files: Vec<FileEntry>,
    pub records: u64,
    pub rejects: RejectCounts,
    pub updates: Vec<ProfileUpdate>,
    pub invalid_only_ids: Vec<u32>,
    pub single_file_id: u32,
}

pub(crate) fn write_profiles(
    cfg: &GenConfig,
    pop: &mut Population,
    rng: &mut ChaCha8Rng,
    out_dir: &Path,
) -> Result<ProfilesOutcome, GenError> {
    let total = pop.freelancers.len();
    let single_idx = rng.random_range(0..total);
    // 0 = jsonl, 1 = array
    let mut drafts = [Draft::new(), Draft::new()];
    // (file, index in that file's originals) per freelancer index
    let mut place: Vec<Option<(usize, usize)>> = vec![None; total];
    let mut keys_of: Vec<Option<Keys>> = (0..total).map(|_| None).collect();

    // Profile updates: the first version carries an older tarif; the latest (valid) version the final one.
    let n_updates = if cfg.duplicate_ratio > 0.0 && total > 1 {
        ((cfg.duplicate_ratio * total as f64).round() as usize).clamp(1, total - 1)
    } else {
        0
    };
    let mut candidates: Vec<usize> = (0..total).filter(|&i| i != single_idx).collect();
    candidates.shuffle(rng);
    let updated: Vec<usize> = candidates.iter().copied().take(n_updates).collect();
    let mut old_tarif: HashMap<usize, u32> = HashMap::new();
    for &i in &updated {
        let t = pop.freelancers[i].tarif;
        let delta = [-50i64, -30, -20, 20, 30, 50, 80, 100][rng.random_range(0..8)];
        let old = (i64::from(t) - delta).clamp(250, 1200) as u32;
        let old = if old == t { t - 10 } else { old };
        old_tarif.insert(i, old);
    }

    let mut single: Option<Map<String, Value>> = None;
    for i in 0..total {
        let keys = choose_keys(rng);
        let f = &pop.freelancers[i];
        let tarif = old_tarif.get(&i).copied().unwrap_or(f.tarif);
        let rec = build_record(rng, f, tarif, &keys);
        if i == single_idx {
            single = Some(rec);
        } else {
            let file = usize::from(rng.random_bool(0.5));
            place[i] = Some((file, drafts[file].originals.len()));
            drafts[file].push(Line::Obj(rec));
        }
        keys_of[i] = Some(keys);
    }

    let mut file_rejects = [RejectCounts::default(), RejectCounts::default()];
    let mut file_dups = [0u64; 2];
    let mut updates = Vec::new();
    for &i in &updated {
        let (file, idx) = place[i].expect("placed");
        let f = &pop.freelancers[i];
        let keys = choose_keys(rng);
        let rec = build_record(rng, f, f.tarif, &keys);
        let cross = file == 0 && rng.random_bool(0.4) && !drafts[1].originals.is_empty();
        if cross {
            drafts[1].insert_after(rng, None, Line::Obj(rec));
            file_dups[1] += 1;
        } else {
            drafts[file].insert_after(rng, Some(idx), Line::Obj(rec));
            file_dups[file] += 1;
        }
        updates.push(ProfileUpdate {
            id: f.id,
            first_tarif_jour: old_tarif[&i],
            final_tarif_jour: f.tarif,
            first_file: PROFILE_FILES[file].to_string(),
            final_file: PROFILE_FILES[if cross { 1 } else { file }].to_string(),
        });
    }
    updates.sort_by_key(|u| u.id);

    let mut rejects = RejectCounts::default();
    let mut invalid_only_ids = Vec::new();
    if cfg.invalid_ratio > 0.0 {
        let n_invalid = ((cfg.invalid_ratio * total as f64).round() as usize).max(3);
        // one broken JSON line
        let broken_id = pop.freelancers[rng.random_range(0..total)].id;
        drafts[0].insert_after(
            rng,
            None,
            Line::Raw(format!("{{\"id\": {broken_id}, \"nom\": \"Broken\"")),
        );
        rejects.add(Rule::InvalidJson);
        file_rejects[0].add(Rule::InvalidJson);
        let rest = n_invalid - 1;
        let n_reuse = rest / 2;
        let n_new = rest - n_reuse;
        // invalid later records for ids that have a valid record earlier in the same file
        let reusable: Vec<usize> = candidates
            .iter()
            .copied()
            .skip(n_updates)
            .filter(|&i| place[i].is_some())
            .take(n_reuse)
            .collect();
        for (k, &i) in reusable.iter().enumerate() {
            let (file, idx) = place[i].expect("placed");
            let kind = BadProfile::REUSABLE[k % BadProfile::REUSABLE.len()];
            let f = &pop.freelancers[i];
            let keys = keys_of[i].take().expect("keys");
            let mut rec = build_record(rng, f, f.tarif, &keys);
            kind.corrupt(&mut rec, &keys, f);
            drafts[file].insert_after(rng, Some(idx), Line::Obj(rec));
            rejects.add(kind.rule());
            file_rejects[file].add(kind.rule());
        }
        // invalid records for fresh ids that never get a valid version
        let base = invalid_only_base(cfg);
        for k in 0..n_new {
            let kind = BadProfile::NEW_ID[k % BadProfile::NEW_ID.len()];
            let id = base + k as u32;
            let nom = GHOST_NOMS[k % GHOST_NOMS.len()].to_string();
            let ghost = Freelancer {
                id,
                email: format!("{}.{}{}@example.fr", "contact", ascii_fold(&nom), id),
                nom,
                prenom: PRENOMS.choose(rng).expect("non-empty"),
                skills: vec![SKILLS[rng.random_range(0..SKILLS.len())].0],
                tarif: 400,
                ville: Some("Paris"),
                en_mission: None,
                signup: Some(cfg.end_month - Months::new(3)),
                activity: 0.0,
            };
            let keys = choose_keys(rng);
            let mut rec = build_record(rng, &ghost, ghost.tarif, &keys);
            kind.corrupt(&mut rec, &keys, &ghost);
            let file = usize::from(rng.random_bool(0.5));
            drafts[file].insert_after(rng, None, Line::Obj(rec));
            rejects.add(kind.rule());
            file_rejects[file].add(kind.rule());
            if !matches!(kind, BadProfile::MissingId) {
                invalid_only_ids.push(id);
            }
        }
    }

    // write
    let mut files = Vec::new();
    let mut records = 0u64;
    let [jsonl, array] = drafts;
    {
        let single_id = pop.freelancers[single_idx].id;
        let name = format!("profil_{single_id}.json");
        let mut w = BufWriter::new(File::create(out_dir.join(&name))?);
        serde_json::to_writer_pretty(&mut w, &Value::Object(single.expect("single")))?;
        w.write_all(b"\n")?;
        w.flush()?;
        files.push(FileEntry::new(name, FileKind::Profiles, "json_object", 1));
        records += 1;
    }
    {
        let lines = jsonl.into_lines();
        let mut w = BufWriter::new(File::create(out_dir.join(PROFILE_FILES[0]))?);
        for l in &lines {
            match l {
                Line::Obj(m) => serde_json::to_writer(&mut w, m)?,
                Line::Raw(s) => w.write_all(s.as_bytes())?,
            }
            w.write_all(b"\n")?;
        }
        w.flush()?;
        let mut e = FileEntry::new(
            PROFILE_FILES[0].into(),
            FileKind::Profiles,
            "json_lines",
            lines.len() as u64,
        );
        e.rejects = file_rejects[0].clone();
        e.duplicates = file_dups[0];
        files.push(e);
        records += lines.len() as u64;
    }
    {
        let lines = array.into_lines();
        let values: Vec<Value> = lines
            .into_iter()
            .map(|l| match l {
                Line::Obj(m) => Value::Object(m),
                Line::Raw(s) => Value::String(s),
            })
            .collect();
        let mut w = BufWriter::new(File::create(out_dir.join(PROFILE_FILES[1]))?);
        serde_json::to_writer_pretty(&mut w, &values)?;
        w.write_all(b"\n")?;
        w.flush()?;
        let mut e = FileEntry::new(
            PROFILE_FILES[1].into(),
            FileKind::Profiles,
            "json_array",
            values.len() as u64,
        );
        e.rejects = file_rejects[1].clone();
        e.duplicates = file_dups[1];
        files.push(e);
        records += values.len() as u64;
    }
    let single_file_id = pop.freelancers[single_idx].id;
    Ok(ProfilesOutcome {
        files,
        records,
        rejects,
        updates,
        invalid_only_ids,
        single_file_id,
    })
}

pub(crate) const PROFILE_FILES: [&str; 2] = ["profils.jsonl", "profils_array.json"];

/// First id used for invalid-only profiles: 2000, or the next thousand above the valid range.
pub(crate) fn invalid_only_base(cfg: &GenConfig) -> u32 {
    let top = cfg.freelancers + cfg.extra_ids;
    ((top / 1000 + 1) * 1000).max(2000)
}
