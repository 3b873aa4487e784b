//! Test 5: a malformed file and a flood of invalid rows: clear errors naming file and line, every
//! reject in `rejets` with its rule, nothing else lost.

use std::fmt::Write as _;

use ff_e2e::Pipeline;

#[tokio::test(flavor = "multi_thread")]
async fn malformed_files_and_a_flood_of_invalid_rows() {
    let p = Pipeline::new("badinput").await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // a valid profile file, and a profile file broken in the middle of its array
    std::fs::write(
        d.join("a_profils.json"),
        r#"[{"id": 1, "nom": "Dupont", "email": "dupont@example.com", "tarif_jour": "450€", "statut": "disponible"},
{"id": 2, "nom": "Martin", "email": "martin@example.com", "tarif_jour": 500}]"#,
    )
    .unwrap();
    std::fs::write(
        d.join("b_casse.json"),
        "[\n{\"id\": 3, \"nom\": \"Ok\", \"email\": \"ok@example.com\", \"tarif_jour\": 300},\n{\"id\": 4, \"nom\": \"Cut\n",
    )
    .unwrap();
    std::fs::write(d.join("c_lignes.jsonl"), "{\"id\": 5, \"nom\": \"L\", \"email\": \"l@example.com\", \"tarif_jour\": 200}\nnot json\n[1,2]\n").unwrap();

    // 3000 invoice lines: one valid line out of three, and every kind of invalid row
    let mut csv = String::from("\u{feff}freelance_id;montant;date;statut\n");
    let mut expected_rules = std::collections::BTreeMap::<&str, u64>::new();
    let mut valid = 0u64;
    for i in 0..3000u64 {
        let id = 1 + i % 2;
        let (line, rule) = match i % 6 {
            0 | 3 => (
                format!("{id};{},50 €;2025-0{}-1{};paid", 100 + i, 1 + i % 9, i % 10),
                None,
            ),
            1 => (format!("{id};abc;2025-01-01;paid"), Some("invalid_amount")),
            2 => (format!("{id};100;2025-13-45;paid"), Some("invalid_date")),
            4 => (format!("{id};;2025-01-01;paid"), Some("missing_field")),
            _ => (
                format!("9999;{};2025-01-01;paid", 100 + i),
                Some("unknown_freelance"),
            ),
        };
        writeln!(csv, "{line}").unwrap();
        match rule {
            Some(r) => *expected_rules.entry(r).or_default() += 1,
            None => valid += 1,
        }
    }
    writeln!(csv, "1;100;2025-01-01;paid;extra;fields").unwrap();
    *expected_rules.entry("invalid_csv").or_default() += 1;
    std::fs::write(d.join("flood.csv"), csv).unwrap();
    std::fs::write(d.join("vide.csv"), "").unwrap();

    let _master = p.master();
    let _w1 = p.worker("worker-1");
    let _w2 = p.worker("worker-2");
    let (ok, out, err) = ff_e2e::run(&["loader", "--input", d.to_str().unwrap()], &p.env());
    assert!(ok, "{out}\n{err}");
    // clear errors naming file and line
    assert!(
        err.contains("b_casse.json") && err.contains("line=3"),
        "{err}"
    );
    assert!(
        err.contains("c_lignes.jsonl") && err.contains("line=2"),
        "{err}"
    );
    assert!(
        err.contains("flood.csv") && err.contains("line=3002"),
        "{err}"
    );
    assert!(out.contains("flood.csv") && out.contains("3001"), "{out}");
    p.wait(180);

    assert_eq!(
        p.scalar("SELECT string_agg(id::text, ',' ORDER BY id) FROM freelances")
            .await,
        "1,2,3,5"
    );
    assert_eq!(
        p.scalar("SELECT count(*)::text FROM factures").await,
        valid.to_string()
    );
    for (rule, n) in &expected_rules {
        let got = p
            .scalar(&format!("SELECT count(*)::text FROM rejets WHERE source_file = 'flood.csv' AND rule = '{rule}'"))
            .await;
        assert_eq!(got, n.to_string(), "rule {rule}");
    }
    // every invalid line of the flood is in rejets with its line number, and nothing else is
    let lines_ok = p
        .scalar("SELECT (count(DISTINCT source_line) = count(*) AND min(source_line) >= 2 AND max(source_line) <= 3002)::text FROM rejets WHERE source_file = 'flood.csv'")
        .await;
    assert_eq!(lines_ok, "true");
    let total_flood: u64 = expected_rules.values().sum();
    assert_eq!(total_flood + valid, 3001);
    // the broken JSON: the rest of the array from line 3, the JSONL's two bad lines
    let json_rejects: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT source_file, source_line, rule FROM rejets WHERE source_file LIKE '%.json%' ORDER BY 1, 2",
    )
    .fetch_all(&p.pool)
    .await
    .unwrap();
    assert_eq!(
        json_rejects,
        vec![
            ("b_casse.json".into(), 3, "invalid_json".into()),
            ("c_lignes.jsonl".into(), 2, "invalid_json".into()),
            ("c_lignes.jsonl".into(), 3, "invalid_json".into()),
        ]
    );
    let msg = p.scalar("SELECT message FROM rejets WHERE source_file = 'flood.csv' AND rule = 'invalid_amount' LIMIT 1").await;
    assert!(msg.contains("montant") && msg.contains("abc"), "{msg}");
}
