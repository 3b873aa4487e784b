//! Test 1: the exact sample records of the original design, through the real broker and database.

use ff_e2e::Pipeline;

#[tokio::test(flavor = "multi_thread")]
async fn dupont_sample_through_kafka() {
    let p = Pipeline::new("sample").await;
    let dir = tempfile::tempdir().unwrap();
    ff_datagen::write_sample(dir.path()).unwrap();
    let _master = p.master();
    let _w1 = p.worker("worker-1");
    let _w2 = p.worker("worker-2");
    let summary = p.load(dir.path(), &[]);
    assert!(summary.contains("sample/profils.json"), "{summary}");
    p.wait(120);

    assert_eq!(
        p.scalar("SELECT id || '|' || nom || '|' || email || '|' || array_to_string(competences, ',') || '|' || tarif_jour FROM freelances").await,
        "1|Dupont|dupont@example.com|Python|450.00"
    );
    assert_eq!(
        p.scalar("SELECT freelance_id || '|' || montant || '|' || date || '|' || echeance || '|' || statut || '|' || jours FROM factures").await,
        "1|4500.00|2025-10-01|2025-10-31|en_attente|10.00"
    );
    assert_eq!(p.scalar("SELECT count(*)::text FROM rejets").await, "0");
    assert_eq!(
        p.scalar("SELECT value::text FROM indicateurs WHERE kpi = 'ca_total' AND period = 'all'")
            .await,
        "4500.00"
    );
    assert_eq!(
        p.scalar("SELECT value::text FROM indicateurs WHERE kpi = 'ca_freelance' AND period = '2025-10' AND dimension = '1'").await,
        "4500.00"
    );
    // the master knows who holds freelancer #1 (partition 0) and #501 (partition 1)
    let locate: serde_json::Value = reqwest::get(format!("{}/locate/1", p.master_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(locate["partition"], 0);
    assert_eq!(locate["known"], true);
    assert!(
        locate["worker"].as_str().unwrap().starts_with("worker-"),
        "{locate}"
    );
    let locate: serde_json::Value = reqwest::get(format!("{}/locate/501", p.master_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(locate["partition"], 1);
    assert_eq!(locate["known"], false);
}
