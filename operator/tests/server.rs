//! The operator's HTTP endpoints, served for real on a loopback port.

use std::sync::atomic::Ordering;

use ff_operator::{metrics::Metrics, server};

#[tokio::test]
async fn healthz_readyz_and_metrics() {
    let metrics = Metrics::default();
    metrics.init(&ff_operator::run::CONTROLLERS);
    metrics
        .reconciles
        .get_or_create(&Metrics::label("warehouse"))
        .inc();
    let health = server::Health::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = server::router(metrics, health.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let get = |path: &str| {
        let url = format!("{base}{path}");
        async move {
            let r = reqwest::get(url).await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    assert_eq!(get("/healthz").await.0, 200);
    let (code, body) = get("/readyz").await;
    assert_eq!(code, 503, "not ready before the controllers watch: {body}");
    health.ready.store(true, Ordering::Relaxed);
    assert_eq!(get("/readyz").await.0, 200);
    let (code, body) = get("/metrics").await;
    assert_eq!(code, 200);
    assert!(
        body.contains("freelanceflow_reconcile_total{controller=\"warehouse\"} 1"),
        "{body}"
    );
    assert!(
        body.contains("# TYPE freelanceflow_reconcile_duration_seconds histogram"),
        "{body}"
    );
}
