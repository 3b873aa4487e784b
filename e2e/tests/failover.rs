//! Test 4: SIGKILL one worker in the middle of a load: the other takes its partition over from the
//! offsets stored in the warehouse; the final numbers are exact, no row duplicated or lost.

use std::time::{Duration, Instant};

use ff_e2e::Pipeline;

#[tokio::test(flavor = "multi_thread")]
async fn killing_a_worker_mid_load_loses_and_duplicates_nothing() {
    let mut p = Pipeline::new("failover").await;
    p.set("FF_MAX_BATCH", "500");
    let dir = tempfile::tempdir().unwrap();
    let cfg = ff_datagen::GenConfig {
        invoices: 40_000,
        ..Default::default()
    };
    let manifest = ff_datagen::generate(&cfg, dir.path()).unwrap();
    // create the topics (a load of nothing), so that the group can share their partitions
    let empty = tempfile::tempdir().unwrap();
    p.load(empty.path(), &[]);
    let _master = p.master();
    let mut w1 = p.worker("worker-1");
    let _w2 = p.worker("worker-2");
    // both workers own a partition before the load starts
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let owners = p
            .scalar("SELECT count(DISTINCT owner)::text FROM consumer_offsets WHERE owner IS NOT NULL AND consumer_group LIKE '%workers'")
            .await;
        if owners == "2" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the two workers never shared the partitions"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let loader_env: Vec<(String, String)> = p
        .env()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let input = dir.path().to_path_buf();
    let loader = std::thread::spawn(move || {
        let env: Vec<(&str, &str)> = loader_env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        ff_e2e::run(&["loader", "--input", input.to_str().unwrap()], &env)
    });

    // kill worker-1 once it has committed some, but far from all, of its partition
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let n: i64 = p
            .scalar("SELECT count(*)::text FROM factures WHERE freelance_id <= 500")
            .await
            .parse()
            .unwrap();
        if n > 500 {
            break;
        }
        assert!(Instant::now() < deadline, "worker-1 committed nothing");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    w1.kill9();
    let at_kill: i64 = p
        .scalar("SELECT count(*)::text FROM factures WHERE freelance_id <= 500")
        .await
        .parse()
        .unwrap();
    let (ok, out, err) = loader.join().unwrap();
    assert!(ok, "{out}\n{err}");
    p.wait(300);

    let e = &manifest.expected;
    assert!(
        (at_kill as u64) < e.distinct_valid_invoices / 2 - 1000,
        "worker-1 was killed too late to prove anything ({at_kill} rows committed)"
    );
    p.assert_ground_truth(e).await;
    let planted: u64 = [&manifest.profiles.rejects, &manifest.invoices.rejects]
        .iter()
        .map(|r| {
            serde_json::to_value(r)
                .unwrap()
                .as_object()
                .unwrap()
                .values()
                .map(|v| v.as_u64().unwrap())
                .sum::<u64>()
        })
        .sum();
    assert_eq!(
        p.scalar("SELECT count(*)::text FROM rejets").await,
        planted.to_string()
    );
    // T2 deltas applied exactly once: they equal a recomputation from the invoices
    assert_eq!(
        p.scalar("SELECT count(*)::text FROM (
                    SELECT freelance_id, date_trunc('month', date)::date AS mois, sum(montant) AS ca, sum(jours) AS jours, count(*) AS n
                    FROM factures GROUP BY 1, 2
                    EXCEPT SELECT freelance_id, mois, ca, jours, nb_factures FROM ca_freelance_mensuel) d")
            .await,
        "0"
    );
    assert_eq!(
        p.scalar("SELECT (sum(ca) * 100)::bigint::text FROM ca_freelance_mensuel")
            .await,
        e.total_montant_cents.to_string()
    );
    // worker-2 took partition 0 over (a newer epoch than worker-1's claim)
    assert_eq!(
        p.scalar("SELECT string_agg(DISTINCT owner, ',') FROM consumer_offsets WHERE consumer_group LIKE '%workers'").await,
        "worker-2"
    );
    assert_eq!(
        p.scalar("SELECT bool_and(epoch >= 2)::text FROM consumer_offsets WHERE consumer_group LIKE '%workers' AND partition = 0").await,
        "true"
    );
}
