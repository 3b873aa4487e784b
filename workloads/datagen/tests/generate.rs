mod common;

use std::collections::BTreeMap;
use std::path::Path;

use ff_datagen::{
    generate, write_sample, FileKind, GenConfig, Manifest, Rule, MANIFEST_FILE, PAR_NOM_FILE,
};

fn small(seed: u64) -> GenConfig {
    GenConfig {
        seed,
        invoices: 6_000,
        ..GenConfig::default()
    }
}

fn dir_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn check_recount(m: &Manifest, dir: &Path) {
    let p = common::recount_profiles(dir);
    assert_eq!(p.records, m.profiles.records, "profile records");
    assert_eq!(p.rejects, m.profiles.rejects, "profile rejects");
    assert_eq!(p.updates, m.profiles.duplicates, "profile updates");
    assert_eq!(p.valid.len() as u64, m.expected.distinct_valid_freelancers);
    for u in &m.profile_updates {
        assert_eq!(
            p.valid[&u.id].1,
            i64::from(u.final_tarif_jour) * 100,
            "later version wins for {}",
            u.id
        );
    }
    let i = common::recount_invoices(dir, &p);
    assert_eq!(i.records, m.invoices.records, "invoice records");
    assert_eq!(i.rejects, m.invoices.rejects, "invoice rejects");
    assert_eq!(i.duplicates, m.invoices.duplicates, "invoice duplicates");
    assert_eq!(
        i.valid.len() as u64,
        m.expected.distinct_valid_invoices,
        "distinct invoices"
    );
    assert_eq!(
        i.total_cents(),
        m.expected.total_montant_cents,
        "total montant"
    );
    let monthly: BTreeMap<String, (u64, i64)> = m
        .expected
        .monthly
        .iter()
        .map(|(k, v)| (k.clone(), (v.invoices, v.montant_cents)))
        .collect();
    assert_eq!(i.monthly(), monthly);
    assert_eq!(i.valid.values().map(|v| v.2).max(), m.expected.as_of);
    for f in &m.files {
        let n = match f.kind {
            FileKind::Profiles => p.per_file_records[&f.name],
            FileKind::Invoices => i.per_file_records[&f.name],
        };
        assert_eq!(n, f.records, "records of {}", f.name);
    }
    // per-file figures add up
    for r in Rule::ALL {
        let sum: u64 = m
            .files
            .iter()
            .filter(|f| f.kind == FileKind::Invoices)
            .map(|f| f.rejects.get(r))
            .sum();
        assert_eq!(sum, m.invoices.rejects.get(r));
        let sum: u64 = m
            .files
            .iter()
            .filter(|f| f.kind == FileKind::Profiles)
            .map(|f| f.rejects.get(r))
            .sum();
        assert_eq!(sum, m.profiles.rejects.get(r));
    }
}

#[test]
fn manifest_matches_a_recount() {
    let dir = tempfile::tempdir().unwrap();
    let m = generate(&GenConfig::default(), dir.path()).unwrap();
    check_recount(&m, dir.path());
    // every rule is planted, and the manifest on disk is the returned one
    for r in [
        Rule::InvalidJson,
        Rule::MissingField,
        Rule::InvalidEmail,
        Rule::InvalidAmount,
        Rule::InvalidDate,
    ] {
        assert!(m.profiles.rejects.get(r) > 0, "profiles {r:?}");
    }
    for r in [
        Rule::InvalidCsv,
        Rule::MissingField,
        Rule::InvalidAmount,
        Rule::InvalidDate,
        Rule::UnknownFreelance,
    ] {
        assert!(m.invoices.rejects.get(r) > 0, "invoices {r:?}");
    }
    assert_eq!(m.invoices.rejects.invalid_csv, 2);
    assert!(m.invoice_duplicates.by_facture_id > 0 && m.invoice_duplicates.derived_id > 0);
    assert!(!m.profile_updates.is_empty());
    let on_disk: Manifest =
        serde_json::from_slice(&std::fs::read(dir.path().join(MANIFEST_FILE)).unwrap()).unwrap();
    assert_eq!(on_disk, m);
    let lines = m.invoices.records as f64;
    assert!(
        (lines - 30_000.0).abs() < 1_500.0,
        "about 30000 invoice lines, got {lines}"
    );
    let bad = m.invoices.rejects.total() as f64 / lines;
    assert!((0.02..0.045).contains(&bad), "invalid ratio {bad}");
    let dup = m.invoices.duplicates as f64 / lines;
    assert!((0.005..0.02).contains(&dup), "duplicate ratio {dup}");
}

#[test]
fn recount_holds_for_other_seeds_and_shapes() {
    for (seed, cfg) in [
        (
            7,
            GenConfig {
                freelancers: 40,
                extra_ids: 2,
                invoices: 800,
                invoice_files: 1,
                ..small(7)
            },
        ),
        (
            8,
            GenConfig {
                invoice_files: 7,
                duplicate_ratio: 0.05,
                invalid_ratio: 0.1,
                ..small(8)
            },
        ),
        (
            9,
            GenConfig {
                invalid_ratio: 0.0,
                duplicate_ratio: 0.0,
                months: 12,
                ..small(9)
            },
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let m = generate(
            &GenConfig {
                seed,
                ..cfg.clone()
            },
            dir.path(),
        )
        .unwrap();
        check_recount(&m, dir.path());
        if cfg.invalid_ratio == 0.0 {
            assert_eq!(m.profiles.rejects.total() + m.invoices.rejects.total(), 0);
            assert_eq!(m.invoices.duplicates, 0);
        }
    }
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    generate(&small(1), a.path()).unwrap();
    generate(&small(1), b.path()).unwrap();
    generate(&small(2), c.path()).unwrap();
    let (a, b, c) = (
        dir_bytes(a.path()),
        dir_bytes(b.path()),
        dir_bytes(c.path()),
    );
    assert_eq!(a, b);
    for name in [
        "profils.jsonl",
        "profils_array.json",
        "factures_1.csv",
        "factures_2.csv",
        PAR_NOM_FILE,
    ] {
        assert_ne!(a.get(name), c.get(name), "{name} should depend on the seed");
    }
}

#[test]
fn all_ids_have_a_valid_profile() {
    let dir = tempfile::tempdir().unwrap();
    let m = generate(&small(3), dir.path()).unwrap();
    let p = common::recount_profiles(dir.path());
    for id in 1..=1005u32 {
        assert!(p.valid.contains_key(&id), "id {id} missing");
    }
    assert!(p.valid.keys().all(|id| *id <= 1005));
    assert_eq!(m.expected.distinct_valid_freelancers, 1005);
    assert!(dir
        .path()
        .join(format!("profil_{}.json", m.single_profile_id))
        .exists());
    // ids above the range invoice too
    let i = common::recount_invoices(dir.path(), &p);
    for id in 1001..=1005 {
        assert!(i.valid.values().any(|v| v.0 == id), "no invoice for {id}");
    }
}

#[test]
fn seasonality_and_trend_are_visible() {
    let dir = tempfile::tempdir().unwrap();
    let m = generate(&GenConfig::default(), dir.path()).unwrap();
    let cents = |k: &str| m.expected.monthly[k].montant_cents;
    assert_eq!(m.expected.monthly.len(), 26);
    for y in [2024, 2025] {
        assert!(
            cents(&format!("{y}-08")) < cents(&format!("{y}-07")),
            "August < July in {y}"
        );
        assert!(
            cents(&format!("{y}-08")) < cents(&format!("{y}-09")),
            "August < September in {y}"
        );
    }
    assert!(cents("2024-12") < cents("2024-11"));
    let first_year: i64 = m
        .expected
        .monthly
        .iter()
        .take(12)
        .map(|(_, v)| v.montant_cents)
        .sum();
    let second_year: i64 = m
        .expected
        .monthly
        .iter()
        .skip(12)
        .take(12)
        .map(|(_, v)| v.montant_cents)
        .sum();
    assert!(second_year > first_year, "upward trend");
    assert_eq!(
        m.expected.as_of.unwrap().format("%Y-%m").to_string(),
        "2025-10"
    );
}

#[test]
fn csv_quoting_with_comma_delimiter() {
    let dir = tempfile::tempdir().unwrap();
    let m = generate(&small(4), dir.path()).unwrap();
    let f1 = m.files.iter().find(|f| f.name == "factures_1.csv").unwrap();
    assert_eq!(f1.delimiter, Some(','));
    let text = std::fs::read_to_string(dir.path().join("factures_1.csv")).unwrap();
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let width = rdr.headers().unwrap().len();
    let montant = rdr
        .headers()
        .unwrap()
        .iter()
        .position(|h| h.trim() == "montant")
        .unwrap();
    let mut with_comma = 0;
    let mut bad_width = 0;
    for r in rdr.records() {
        let r = r.unwrap();
        if r.len() != width {
            bad_width += 1;
            continue;
        }
        let v = r.get(montant).unwrap();
        if v.contains(',') {
            with_comma += 1;
            assert!(
                common::parse_money(v).is_some() || v.trim() == "0,00 €",
                "{v:?}"
            );
        }
    }
    assert!(with_comma > 50, "amounts with a comma: {with_comma}");
    // only the planted invalid_csv rows of this file have the wrong width
    assert_eq!(bad_width, f1.rejects.invalid_csv);
    assert!(text.contains("\"4 ") || text.contains("\"1,") || text.contains("\"1 "));
}

#[test]
fn by_name_file_uses_unique_names() {
    let dir = tempfile::tempdir().unwrap();
    let m = generate(&small(5), dir.path()).unwrap();
    let text = std::fs::read_to_string(dir.path().join(PAR_NOM_FILE)).unwrap();
    assert!(text.starts_with("freelance, montant, date\n"));
    let par_nom = m.files.iter().find(|f| f.name == PAR_NOM_FILE).unwrap();
    assert_eq!(par_nom.rejects.unknown_freelance, 2);
    assert_eq!(par_nom.records, m.expected.invoices_by_name + 2);
    assert!(m.expected.invoices_by_name > 0);
}

#[test]
fn sample_files_are_exact() {
    let dir = tempfile::tempdir().unwrap();
    write_sample(dir.path()).unwrap();
    let csv = std::fs::read_to_string(dir.path().join("sample/factures.csv")).unwrap();
    assert_eq!(csv, "freelance, montant, date\nDupont, 4500€, Oct-2025\n");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("sample/profils.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        json,
        serde_json::json!([{"id": 1, "email": "dupont@example.com", "nom": "Dupont", "compétences": ["Python"], "tarif_jour": "450€"}])
    );
}

#[test]
fn rejects_bad_config() {
    let dir = tempfile::tempdir().unwrap();
    let bad = GenConfig {
        end_month: chrono::NaiveDate::from_ymd_opt(2025, 10, 15).unwrap(),
        ..GenConfig::default()
    };
    assert!(generate(&bad, dir.path()).is_err());
    assert!(generate(
        &GenConfig {
            invoice_files: 0,
            ..GenConfig::default()
        },
        dir.path()
    )
    .is_err());
}

#[test]
fn large_run_streams() {
    let n: u64 = std::env::var("FF_DATAGEN_BIG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir().unwrap();
    let t = std::time::Instant::now();
    let m = generate(
        &GenConfig {
            invoices: n,
            ..GenConfig::default()
        },
        dir.path(),
    )
    .unwrap();
    eprintln!("{n} invoices in {:?}", t.elapsed());
    assert!((m.invoices.records as f64 - n as f64).abs() < n as f64 * 0.02);
}
