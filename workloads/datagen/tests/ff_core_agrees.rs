//! Recount the generated files with ff-core's own validators (the contract in code) and compare with the
//! manifest.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use ff_core::{invoice_freelance_ref, validate_invoice, validate_profile, FreelanceRef, RuleCode};
use ff_datagen::{generate, GenConfig, Manifest, Rule};
use serde_json::{Map, Value};

fn rule(r: RuleCode) -> Rule {
    match r {
        RuleCode::InvalidJson => Rule::InvalidJson,
        RuleCode::InvalidCsv => Rule::InvalidCsv,
        RuleCode::MissingField => Rule::MissingField,
        RuleCode::InvalidEmail => Rule::InvalidEmail,
        RuleCode::InvalidAmount => Rule::InvalidAmount,
        RuleCode::InvalidDate => Rule::InvalidDate,
        RuleCode::UnknownFreelance => Rule::UnknownFreelance,
    }
}

fn sorted_files(dir: &Path, exts: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with('_') && exts.iter().any(|x| n.ends_with(x)))
        .collect();
    v.sort();
    v
}

fn check(m: &Manifest, dir: &Path) {
    // profiles
    let mut prof_rejects: BTreeMap<Rule, u64> = BTreeMap::new();
    let mut valid: BTreeMap<i64, ff_core::Profile> = BTreeMap::new();
    let mut updates = 0;
    for name in sorted_files(dir, &[".json", ".jsonl"]) {
        let text = std::fs::read_to_string(dir.join(&name)).unwrap();
        let records: Vec<Option<Value>> = if name.ends_with(".jsonl") {
            text.lines().map(|l| serde_json::from_str(l).ok()).collect()
        } else {
            match serde_json::from_str(&text).unwrap() {
                Value::Array(a) => a.into_iter().map(Some).collect(),
                v => vec![Some(v)],
            }
        };
        for r in records {
            let Some(Value::Object(obj)) = r else {
                *prof_rejects.entry(Rule::InvalidJson).or_default() += 1;
                continue;
            };
            match validate_profile(&obj) {
                Ok(p) => {
                    if valid.insert(p.id, p).is_some() {
                        updates += 1;
                    }
                }
                Err(rej) => *prof_rejects.entry(rule(rej.rule)).or_default() += 1,
            }
        }
    }
    for r in Rule::ALL {
        assert_eq!(
            prof_rejects.get(&r).copied().unwrap_or(0),
            m.profiles.rejects.get(r),
            "profiles {r:?}"
        );
    }
    assert_eq!(updates, m.profiles.duplicates);
    assert_eq!(valid.len() as u64, m.expected.distinct_valid_freelancers);
    for u in &m.profile_updates {
        assert_eq!(
            valid[&i64::from(u.id)].tarif_jour.0,
            i64::from(u.final_tarif_jour) * 100
        );
    }
    let mut by_name: HashMap<String, Vec<i64>> = HashMap::new();
    for p in valid.values() {
        by_name
            .entry(p.nom.trim().to_lowercase())
            .or_default()
            .push(p.id);
    }

    // invoices
    let mut inv_rejects: BTreeMap<Rule, u64> = BTreeMap::new();
    let mut invoices: HashMap<String, ff_core::Invoice> = HashMap::new();
    let mut dups = 0;
    for name in sorted_files(dir, &[".csv"]) {
        let bytes = std::fs::read(dir.join(&name)).unwrap();
        let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
        let first = bytes.split(|b| *b == b'\n').next().unwrap();
        let semi = first.iter().filter(|b| **b == b';').count();
        let comma = first.iter().filter(|b| **b == b',').count();
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(if semi > comma { b';' } else { b',' })
            .flexible(true)
            .from_reader(bytes);
        let headers: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
        for rec in rdr.records() {
            let rec = match rec {
                Ok(r) if r.len() == headers.len() => r,
                _ => {
                    *inv_rejects.entry(Rule::InvalidCsv).or_default() += 1;
                    continue;
                }
            };
            let fields: Map<String, Value> = headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.clone(), Value::String(v.to_string())))
                .collect();
            let resolved = match invoice_freelance_ref(&fields) {
                Some(FreelanceRef::Name(n)) => by_name
                    .get(&n.to_lowercase())
                    .filter(|ids| ids.len() == 1)
                    .map(|ids| ids[0]),
                _ => None,
            };
            match validate_invoice(&fields, resolved) {
                Ok(inv) if !valid.contains_key(&inv.freelance_id) => {
                    *inv_rejects.entry(Rule::UnknownFreelance).or_default() += 1
                }
                Ok(inv) => {
                    if invoices.insert(inv.facture_id.clone(), inv).is_some() {
                        dups += 1;
                    }
                }
                Err(rej) => *inv_rejects.entry(rule(rej.rule)).or_default() += 1,
            }
        }
    }
    for r in Rule::ALL {
        assert_eq!(
            inv_rejects.get(&r).copied().unwrap_or(0),
            m.invoices.rejects.get(r),
            "invoices {r:?}"
        );
    }
    assert_eq!(dups, m.invoices.duplicates);
    assert_eq!(invoices.len() as u64, m.expected.distinct_valid_invoices);
    assert_eq!(
        invoices.values().map(|i| i.montant.0).sum::<i64>(),
        m.expected.total_montant_cents
    );
    assert_eq!(invoices.values().map(|i| i.date).max(), m.expected.as_of);
}

#[test]
fn ff_core_validators_agree_with_the_manifest() {
    for cfg in [
        GenConfig::default(),
        GenConfig {
            seed: 11,
            invoice_files: 6,
            invalid_ratio: 0.08,
            duplicate_ratio: 0.04,
            invoices: 8_000,
            ..GenConfig::default()
        },
    ] {
        let dir = tempfile::tempdir().unwrap();
        let m = generate(&cfg, dir.path()).unwrap();
        check(&m, dir.path());
    }
}
