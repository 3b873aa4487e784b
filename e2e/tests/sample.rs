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
    // the master knows who holds freelancer #1 (partition 0) and #501 (partition 1); while the group
    // rebalances a partition has no owner for a moment, so ask until it has one
    let locate = |id: u32| {
        let url = format!("{}/locate/{id}", p.master_url);
        async move {
            for _ in 0..100 {
                let v: serde_json::Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
                if v["worker"].is_string() {
                    return v;
                }
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            panic!("no worker owns the partition of freelancer {id}");
        }
    };
    let one = locate(1).await;
    assert_eq!(one["partition"], 0);
    assert_eq!(one["known"], true);
    assert!(
        one["worker"].as_str().unwrap().starts_with("worker-"),
        "{one}"
    );
    let other = locate(501).await;
    assert_eq!(other["partition"], 1);
    assert_eq!(other["known"], false);
}
