//! Tests 2 and 3: on a generated data set every indicator equals an independent computation (plain SQL
//! over the cleaned tables, and the generator's own ground truth); loading the same files again changes
//! no row and no indicator.

use ff_e2e::Pipeline;

/// Every indicator recomputed from `freelances`, `factures` and `rejets` only, written apart from the
/// T3 SQL under test. as_of = the latest invoice date (the master's default).
const INDEPENDENT: &str = r#"
WITH a AS (SELECT max(date) AS as_of FROM factures),
skills AS (SELECT DISTINCT f.id, lower(btrim(s)) AS skill FROM freelances f, unnest(f.competences) s),
mission AS (
    SELECT f.id,
           coalesce(f.statut = 'en_mission',
                    f.id IN (SELECT x.freelance_id FROM factures x, a WHERE x.date >= a.as_of - 29 AND x.date <= a.as_of)) AS on_mission
    FROM freelances f),
win AS (SELECT (date_trunc('month', as_of) - interval '11 months')::date AS lo,
               (date_trunc('month', as_of) + interval '1 month')::date AS hi FROM a),
topdays AS (
    SELECT k.skill, sum(x.jours) AS d FROM skills k JOIN factures x ON x.freelance_id = k.id, win
    WHERE x.date >= win.lo AND x.date < win.hi GROUP BY k.skill)
SELECT 'ca_freelance', 'all', freelance_id::text, sum(montant) FROM factures GROUP BY freelance_id
UNION ALL SELECT 'ca_freelance', to_char(date, 'YYYY-MM'), freelance_id::text, sum(montant) FROM factures GROUP BY 2, 3
UNION ALL SELECT 'ca_total', 'all', '', sum(montant) FROM factures
UNION ALL SELECT 'ca_total', to_char(date, 'YYYY-MM'), '', sum(montant) FROM factures GROUP BY 2
UNION ALL SELECT 'revenus_mensuels', to_char(date, 'YYYY-MM'), '', sum(montant) FROM factures GROUP BY 2
UNION ALL SELECT 'jours_factures', 'all', '', sum(jours) FROM factures
UNION ALL SELECT 'jours_factures', to_char(date, 'YYYY-MM'), '', sum(jours) FROM factures GROUP BY 2
UNION ALL SELECT 'nb_factures', 'all', '', count(*) FROM factures
UNION ALL SELECT 'nb_freelances', 'all', '', count(*) FROM freelances
UNION ALL SELECT 'tjm_moyen', 'all', '', avg(tarif_jour) FROM freelances
UNION ALL SELECT 'tjm_moyen_competence', 'all', k.skill, avg(f.tarif_jour) FROM skills k JOIN freelances f ON f.id = k.id GROUP BY k.skill
UNION ALL SELECT 'top_competences', to_char(lo, 'YYYY-MM') || '/' || to_char(hi - 1, 'YYYY-MM'), skill, d FROM topdays, win
UNION ALL SELECT 'top_competences_rang', to_char(lo, 'YYYY-MM') || '/' || to_char(hi - 1, 'YYYY-MM'), skill,
                 rank() OVER (ORDER BY d DESC, skill) FROM topdays, win
UNION ALL SELECT 'freelances_en_mission', a.as_of::text, '', count(*) FILTER (WHERE on_mission) FROM mission, a GROUP BY a.as_of
UNION ALL SELECT 'freelances_disponibles', a.as_of::text, '', count(*) FILTER (WHERE NOT on_mission) FROM mission, a GROUP BY a.as_of
UNION ALL SELECT 'taux_occupation', a.as_of::text, '', 100.0 * count(*) FILTER (WHERE on_mission) / count(*) FROM mission, a GROUP BY a.as_of
UNION ALL SELECT 'freelances_disponibles', a.as_of::text, k.skill, count(*) FROM skills k JOIN mission m ON m.id = k.id, a
          WHERE NOT m.on_mission GROUP BY a.as_of, k.skill
UNION ALL SELECT 'factures_en_retard', a.as_of::text, '', count(*) FROM factures x, a WHERE x.statut <> 'payee' AND x.echeance < a.as_of GROUP BY a.as_of
UNION ALL SELECT 'montant_en_retard', a.as_of::text, '', sum(montant) FROM factures x, a WHERE x.statut <> 'payee' AND x.echeance < a.as_of GROUP BY a.as_of
UNION ALL SELECT 'nouvelles_factures_du_jour', current_date::text, '', count(*) FROM factures WHERE ingested_at::date = current_date
UNION ALL SELECT 'nb_rejets', 'all', '', count(*) FROM rejets
"#;

async fn mismatches(p: &Pipeline) -> Vec<String> {
    let q = format!(
        "WITH e(kpi, period, dimension, value) AS ({INDEPENDENT})
         SELECT coalesce(e.kpi, i.kpi) || ' ' || coalesce(e.period, i.period) || ' ' || coalesce(e.dimension, i.dimension)
                || ': expected ' || coalesce(e.value::text, 'nothing') || ', got ' || coalesce(i.value::text, 'nothing')
         FROM e FULL JOIN indicateurs i USING (kpi, period, dimension)
         WHERE e.value IS NULL OR i.value IS NULL OR abs(e.value - i.value) > 1e-9
         ORDER BY 1 LIMIT 20"
    );
    sqlx::query_scalar(&q).fetch_all(&p.pool).await.unwrap()
}

/// A digest of every row the pipeline writes, every column (timestamps of the T3 run excluded).
const SNAPSHOT: &str = "SELECT md5(
    (SELECT string_agg(f::text, '|' ORDER BY id) FROM freelances f) ||
    (SELECT string_agg(x::text, '|' ORDER BY facture_id) FROM factures x) ||
    (SELECT string_agg(c::text, '|' ORDER BY freelance_id, mois) FROM ca_freelance_mensuel c) ||
    (SELECT string_agg(r.fingerprint || r.rule || r.message, '|' ORDER BY r.fingerprint) FROM rejets r) ||
    (SELECT string_agg(kpi || period || dimension || value, '|' ORDER BY kpi, period, dimension) FROM indicateurs))";

/// A digest of the business content: every row and value, without the bookkeeping columns that record
/// when and from which Kafka offset a row was last written (updated_at, source_*).
const CONTENT: &str = "SELECT md5(
    (SELECT string_agg(concat_ws(',', id, nom, prenom, email, competences, tarif_jour, ville, statut, date_inscription, extra), '|' ORDER BY id) FROM freelances) ||
    (SELECT string_agg(concat_ws(',', facture_id, freelance_id, montant, date, echeance, statut, jours, jours_derives, client, ingested_at), '|' ORDER BY facture_id) FROM factures) ||
    (SELECT string_agg(c::text, '|' ORDER BY freelance_id, mois) FROM ca_freelance_mensuel c) ||
    (SELECT string_agg(r.fingerprint || r.rule || r.message, '|' ORDER BY r.fingerprint) FROM rejets r) ||
    (SELECT count(*)::text FROM factures_en_attente) ||
    (SELECT string_agg(kpi || period || dimension || value, '|' ORDER BY kpi, period, dimension) FROM indicateurs))";

#[tokio::test(flavor = "multi_thread")]
async fn every_kpi_equals_an_independent_computation_and_a_reload_changes_nothing() {
    let p = Pipeline::new("kpis").await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = ff_datagen::GenConfig {
        invoices: 12_000,
        ..Default::default()
    };
    let manifest = ff_datagen::generate(&cfg, dir.path()).unwrap();
    let _master = p.master();
    let _w1 = p.worker("worker-1");
    let _w2 = p.worker("worker-2");
    p.load(dir.path(), &[]);
    p.wait(300);

    // Test 2a: the generator's ground truth.
    let e = &manifest.expected;
    p.assert_ground_truth(e).await;
    assert_eq!(
        p.scalar("SELECT (value * 100)::bigint::text FROM indicateurs WHERE kpi = 'ca_total' AND period = 'all'").await,
        e.total_montant_cents.to_string()
    );
    for (month, totals) in &e.monthly {
        let got = p
            .scalar(&format!("SELECT coalesce((value * 100)::bigint::text, '0') FROM indicateurs WHERE kpi = 'revenus_mensuels' AND period = '{month}'"))
            .await;
        assert_eq!(
            got,
            totals.montant_cents.to_string(),
            "revenus_mensuels {month}"
        );
    }
    let planted = |r: &ff_datagen::RejectCounts, rule: &str| -> u64 {
        serde_json::to_value(r).unwrap()[rule].as_u64().unwrap()
    };
    for rule in [
        "missing_field",
        "invalid_email",
        "invalid_amount",
        "invalid_date",
        "unknown_freelance",
    ] {
        for (entity, counts) in [
            ("profil", &manifest.profiles.rejects),
            ("facture", &manifest.invoices.rejects),
        ] {
            let got = p
                .scalar(&format!("SELECT count(*)::text FROM rejets WHERE entity = '{entity}' AND rule = '{rule}'"))
                .await;
            assert_eq!(got, planted(counts, rule).to_string(), "{entity} {rule}");
        }
    }
    let unparseable = planted(&manifest.profiles.rejects, "invalid_json")
        + planted(&manifest.invoices.rejects, "invalid_csv");
    assert_eq!(
        p.scalar("SELECT count(*)::text FROM rejets WHERE rule IN ('invalid_json', 'invalid_csv')")
            .await,
        unparseable.to_string()
    );
    assert_eq!(
        p.scalar("SELECT count(*)::text FROM factures_en_attente")
            .await,
        "0"
    );
    assert_eq!(
        p.scalar("SELECT as_of::text FROM v_occupation").await,
        e.as_of.unwrap().to_string()
    );

    // Test 2b: every indicator equals plain SQL over the cleaned tables.
    let diff = mismatches(&p).await;
    assert!(
        diff.is_empty(),
        "indicators differ from the independent computation:\n{}",
        diff.join("\n")
    );
    let kinds = p
        .scalar("SELECT count(DISTINCT kpi)::text FROM indicateurs")
        .await;
    assert!(
        kinds.parse::<i32>().unwrap() >= 16,
        "{kinds} kinds of indicator"
    );

    // Test 3: the same files again. The ledger knows them: not one column of one row changes.
    let before = p.scalar(SNAPSHOT).await;
    let content_before = p.scalar(CONTENT).await;
    let out = p.load(dir.path(), &[]);
    assert!(out.contains("already loaded"), "{out}");
    p.wait(300);
    assert_eq!(
        before,
        p.scalar(SNAPSHOT).await,
        "a second load changed the warehouse"
    );
    // Forced through Kafka again, every record is re-consumed: no row, value, reject or indicator
    // changes (superseded profile versions may rewrite a row in between, so its updated_at moves).
    let out = p.load(dir.path(), &["--force"]);
    assert!(
        out.contains("loaded") && !out.contains("already loaded"),
        "{out}"
    );
    p.wait(300);
    assert_eq!(
        content_before,
        p.scalar(CONTENT).await,
        "a forced second load changed the warehouse"
    );
    assert!(mismatches(&p).await.is_empty());
}
