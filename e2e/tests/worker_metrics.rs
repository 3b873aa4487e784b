//! A worker started with `--metrics-listen` serves /healthz and /metrics (Prometheus scrapes the
//! workers of a ProcessingCluster on their `http` port; the kubelet probes /healthz).

use ff_e2e::{free_port, Pipeline};

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_reports_its_commits_on_metrics() {
    let p = Pipeline::new("wmetrics").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cfg = ff_datagen::GenConfig {
        invoices: 800,
        ..Default::default()
    };
    ff_datagen::generate(&cfg, &data).unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let _procs = [p.master(), p.worker_with_metrics("worker-m", &listen)];
    let http = reqwest::Client::new();
    let get = |path: &str| {
        let request = http.get(format!("http://{listen}{path}")).send();
        async move { request.await.ok()?.text().await.ok() }
    };
    // served before anything is consumed
    let mut healthz = None;
    for _ in 0..100 {
        healthz = get("/healthz").await;
        if healthz.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(healthz.as_deref(), Some("ok"));
    assert!(get("/metrics")
        .await
        .unwrap()
        .contains("freelanceflow_worker_committed_records_total 0"));

    p.load(&data, &[]);
    p.wait(300);
    let text = get("/metrics").await.unwrap();
    let value = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing from {text}"))
            .parse()
            .unwrap()
    };
    // the one worker owns both partitions, so it committed every record the warehouse holds
    let committed: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM freelances) + (SELECT count(*) FROM factures)",
    )
    .fetch_one(&p.pool)
    .await
    .unwrap();
    assert!(
        value("freelanceflow_worker_committed_records_total") >= committed as f64,
        "{text}"
    );
    assert!(
        value("freelanceflow_worker_committed_batches_total") >= 1.0,
        "{text}"
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        (now - value("freelanceflow_worker_last_commit_timestamp_seconds")).abs() < 600.0,
        "{text}"
    );
}
