//! An independent, minimal re-implementation of the data contract's validation, used to recount what the
//! generator planted by reading its files back.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use chrono::NaiveDate;
use ff_datagen::{RejectCounts, Rule};
use serde_json::Value;

pub fn fold(s: &str) -> String {
    s.trim()
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'à' | 'â' => 'a',
            'û' | 'ù' => 'u',
            'ô' => 'o',
            'î' | 'ï' => 'i',
            'ç' => 'c',
            c => c,
        })
        .collect()
}

pub fn parse_money(s: &str) -> Option<i64> {
    let mut t: String = s.trim().to_string();
    for cur in ["€", "EUR", "eur", "Eur"] {
        t = t.replace(cur, "");
    }
    let t: String = t.chars().filter(|c| *c != ' ' && *c != '\u{a0}').collect();
    if t.is_empty() {
        return None;
    }
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r.to_string()),
        None => (false, t),
    };
    let last_comma = t.rfind(',');
    let last_dot = t.rfind('.');
    let normalized = match (last_comma, last_dot) {
        (Some(c), Some(d)) if c > d => t.replace('.', "").replace(',', "."),
        (Some(_), Some(_)) => t.replace(',', ""),
        (Some(_), None) => t.replace(',', "."),
        _ => t,
    };
    let (int, frac) = match normalized.split_once('.') {
        Some((i, f)) => (i.to_string(), f.to_string()),
        None => (normalized.clone(), String::new()),
    };
    if int.is_empty()
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 2
    {
        return None;
    }
    let cents = int.parse::<i64>().ok()? * 100 + format!("{frac:0<2}").parse::<i64>().ok()?;
    Some(if neg { -cents } else { cents })
}

const MONTHS: [&[&str]; 12] = [
    &["jan", "january", "janvier", "janv"],
    &["feb", "february", "fevrier", "fevr"],
    &["mar", "march", "mars"],
    &["apr", "april", "avril", "avr"],
    &["may", "mai"],
    &["jun", "june", "juin"],
    &["jul", "july", "juillet", "juil"],
    &["aug", "august", "aout"],
    &["sep", "sept", "september", "septembre"],
    &["oct", "october", "octobre"],
    &["nov", "november", "novembre"],
    &["dec", "december", "decembre"],
];

pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d);
    }
    if s.len() == 10 && s.as_bytes()[2] == b'/' {
        return NaiveDate::parse_from_str(s, "%d/%m/%Y").ok();
    }
    if s.len() == 7 && s.as_bytes()[4] == b'-' {
        let y: i32 = s[..4].parse().ok()?;
        let m: u32 = s[5..].parse().ok()?;
        return NaiveDate::from_ymd_opt(y, m, 1);
    }
    let f = fold(s);
    let (name, year) = f.rsplit_once(['-', ' '])?;
    let name = name.trim().trim_end_matches('.');
    let y: i32 = year.parse().ok()?;
    let m = MONTHS.iter().position(|names| names.contains(&name))? as u32 + 1;
    NaiveDate::from_ymd_opt(y, m, 1)
}

fn plausible_email(e: &str) -> bool {
    let e = e.trim().to_lowercase();
    if e.contains(char::is_whitespace) || e.matches('@').count() != 1 {
        return false;
    }
    let (local, domain) = e.split_once('@').unwrap();
    !local.is_empty() && domain.split('.').count() >= 2 && domain.split('.').all(|p| !p.is_empty())
}

#[derive(Debug, Default)]
pub struct ProfileRecount {
    pub records: u64,
    pub rejects: RejectCounts,
    /// valid records whose id was already seen
    pub updates: u64,
    /// id -> (nom, tarif cents), the latest valid version
    pub valid: BTreeMap<u32, (String, i64)>,
    pub per_file_records: HashMap<String, u64>,
}

fn profile_rule(obj: &serde_json::Map<String, Value>) -> Result<(u32, String, i64), Rule> {
    let mut f: HashMap<&str, &Value> = HashMap::new();
    for (k, v) in obj {
        let canon = match fold(k).as_str() {
            "id" | "freelance_id" | "id_freelance" => "id",
            "nom" | "name" | "last_name" => "nom",
            "email" | "mail" => "email",
            "tarif_jour" | "tjm" | "daily_rate" | "tarif" => "tarif",
            "date_inscription" | "signup_date" | "created_at" => "date",
            _ => continue,
        };
        f.insert(canon, v);
    }
    let id = f
        .get("id")
        .and_then(|v| v.as_u64())
        .filter(|i| *i >= 1)
        .ok_or(Rule::MissingField)? as u32;
    let nom = f
        .get("nom")
        .and_then(|v| v.as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(Rule::MissingField)?;
    let email = f.get("email").ok_or(Rule::MissingField)?;
    if !email.as_str().is_some_and(plausible_email) {
        return Err(Rule::InvalidEmail);
    }
    let tarif = f.get("tarif").ok_or(Rule::MissingField)?;
    let cents = match tarif {
        Value::Number(n) => n.as_f64().map(|x| (x * 100.0).round() as i64),
        Value::String(s) => parse_money(s),
        _ => None,
    };
    let cents = cents.filter(|c| *c > 0).ok_or(Rule::InvalidAmount)?;
    if let Some(d) = f.get("date") {
        if d.as_str().is_none_or(|s| parse_date(s).is_none()) {
            return Err(Rule::InvalidDate);
        }
    }
    Ok((id, nom.to_string(), cents))
}

pub fn recount_profiles(dir: &Path) -> ProfileRecount {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with('_') && (n.ends_with(".json") || n.ends_with(".jsonl")))
        .collect();
    names.sort();
    let mut rc = ProfileRecount::default();
    for name in names {
        let text = std::fs::read_to_string(dir.join(&name)).unwrap();
        let mut records: Vec<Result<Value, ()>> = Vec::new();
        if name.ends_with(".jsonl") {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                records.push(serde_json::from_str(line).map_err(|_| ()));
            }
        } else {
            match serde_json::from_str::<Value>(&text).unwrap() {
                Value::Array(a) => records.extend(a.into_iter().map(Ok)),
                v => records.push(Ok(v)),
            }
        }
        *rc.per_file_records.entry(name.clone()).or_default() += records.len() as u64;
        for r in records {
            rc.records += 1;
            let Ok(Value::Object(obj)) = r else {
                rc.rejects.add(Rule::InvalidJson);
                continue;
            };
            match profile_rule(&obj) {
                Ok((id, nom, cents)) => {
                    if rc.valid.insert(id, (nom, cents)).is_some() {
                        rc.updates += 1;
                    }
                }
                Err(rule) => rc.rejects.add(rule),
            }
        }
    }
    rc
}

#[derive(Debug, Default)]
pub struct InvoiceRecount {
    pub records: u64,
    pub rejects: RejectCounts,
    pub duplicates: u64,
    /// key -> (freelancer, cents, date)
    pub valid: HashMap<String, (u32, i64, NaiveDate)>,
    pub per_file_records: HashMap<String, u64>,
}

impl InvoiceRecount {
    pub fn total_cents(&self) -> i64 {
        self.valid.values().map(|v| v.1).sum()
    }
    pub fn monthly(&self) -> BTreeMap<String, (u64, i64)> {
        let mut m: BTreeMap<String, (u64, i64)> = BTreeMap::new();
        for (_, c, d) in self.valid.values() {
            let e = m.entry(d.format("%Y-%m").to_string()).or_default();
            e.0 += 1;
            e.1 += c;
        }
        m
    }
}

pub fn recount_invoices(dir: &Path, profiles: &ProfileRecount) -> InvoiceRecount {
    let ids: HashSet<u32> = profiles.valid.keys().copied().collect();
    let mut by_name: HashMap<String, Vec<u32>> = HashMap::new();
    for (id, (nom, _)) in &profiles.valid {
        by_name
            .entry(nom.trim().to_lowercase())
            .or_default()
            .push(*id);
    }
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with('_') && n.ends_with(".csv"))
        .collect();
    names.sort();
    let mut rc = InvoiceRecount::default();
    for name in names {
        let bytes = std::fs::read(dir.join(&name)).unwrap();
        let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
        let first_line = bytes.split(|b| *b == b'\n').next().unwrap();
        let delim = if first_line.iter().filter(|b| **b == b';').count()
            > first_line.iter().filter(|b| **b == b',').count()
        {
            b';'
        } else {
            b','
        };
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(delim)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(bytes);
        let headers: Vec<String> = rdr
            .headers()
            .unwrap()
            .iter()
            .map(|h| {
                match fold(h).as_str() {
                    "facture_id" | "id_facture" | "invoice_id" | "id" => "facture_id",
                    "freelance_id" | "id_freelance" => "freelance_id",
                    "freelance" => "freelance",
                    "montant" | "amount" => "montant",
                    "date" | "date_facture" | "invoice_date" => "date",
                    "echeance" | "due_date" => "echeance",
                    "statut" | "status" => "statut",
                    "jours" | "days" => "jours",
                    "client" | "customer" => "client",
                    other => panic!("unknown header {other:?} in {name}"),
                }
                .to_string()
            })
            .collect();
        let col = |n: &str| headers.iter().position(|h| h == n);
        let mut file_records = 0;
        for rec in rdr.records() {
            file_records += 1;
            rc.records += 1;
            let rec = match rec {
                Ok(r) if r.len() == headers.len() => r,
                _ => {
                    rc.rejects.add(Rule::InvalidCsv);
                    continue;
                }
            };
            let get = |n: &str| col(n).map(|i| rec.get(i).unwrap().trim()).unwrap_or("");
            let fid = if col("freelance_id").is_some() {
                get("freelance_id")
                    .parse::<u32>()
                    .ok()
                    .filter(|i| ids.contains(i))
            } else {
                by_name
                    .get(&get("freelance").to_lowercase())
                    .filter(|v| v.len() == 1)
                    .map(|v| v[0])
            };
            let Some(fid) = fid else {
                rc.rejects.add(Rule::UnknownFreelance);
                continue;
            };
            if get("montant").is_empty() || get("date").is_empty() {
                rc.rejects.add(Rule::MissingField);
                continue;
            }
            let Some(cents) = parse_money(get("montant")).filter(|c| *c > 0) else {
                rc.rejects.add(Rule::InvalidAmount);
                continue;
            };
            let Some(date) = parse_date(get("date")) else {
                rc.rejects.add(Rule::InvalidDate);
                continue;
            };
            if !get("echeance").is_empty() && parse_date(get("echeance")).is_none() {
                rc.rejects.add(Rule::InvalidDate);
                continue;
            }
            let jours = get("jours");
            assert!(
                jours.is_empty() || jours.parse::<f64>().unwrap() > 0.0,
                "bad jours {jours:?}"
            );
            let statut = get("statut");
            assert!(
                ["", "payee", "paid", "payée", "en_attente", "pending"].contains(&statut),
                "bad statut {statut:?}"
            );
            let key = match get("facture_id") {
                "" => format!("D:{fid}:{cents}:{date}"),
                id => format!("F:{id}"),
            };
            if rc.valid.insert(key, (fid, cents, date)).is_some() {
                rc.duplicates += 1;
            }
        }
        rc.per_file_records.insert(name, file_records);
    }
    rc
}
