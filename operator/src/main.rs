//! `freelanceflow-operator`: runs the controllers of the FreelanceFlow custom resources.

use std::{net::SocketAddr, sync::Arc};

use clap::Parser;
use ff_operator::{
    context::Context, kafka::RdKafkaAdmin, metrics::Metrics, run, server, warehouse_db::Postgres,
};

/// The FreelanceFlow operator: reconciles KafkaTopic, Warehouse, ProcessingCluster, Ingestion, Dashboard
/// and MonitoringStack resources (group freelanceflow.io). Run one replica (the Helm chart uses the
/// Recreate strategy): two operators must not reconcile at once.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address of /metrics, /healthz and /readyz.
    #[arg(long, env = "FF_OPERATOR_LISTEN", default_value = "0.0.0.0:8080")]
    listen: SocketAddr,
    /// Watch only this namespace (empty: all namespaces).
    #[arg(long, env = "FF_OPERATOR_NAMESPACE", default_value = "")]
    namespace: String,
    /// Log format: `json` (one object per line, with the reconcile's trace id) or `text`.
    #[arg(long, env = "FF_LOG_FORMAT", default_value = "json")]
    log_format: String,
    /// Print the CRDs as YAML and exit (same as crds/yaml/).
    #[arg(long)]
    print_crds: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.print_crds {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        for crd in ff_crds::crds() {
            // a closed pipe (`| head`) ends the listing quietly
            if writeln!(out, "---\n{}", ff_crds::crd_yaml(&crd)?).is_err() {
                break;
            }
        }
        return Ok(());
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,kube=warn".into());
    if args.log_format == "json" {
        tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let client = kube::Client::try_default().await.map_err(|e| {
        anyhow::anyhow!(
            "cannot configure a Kubernetes client (in-cluster ServiceAccount or KUBECONFIG): {e}"
        )
    })?;
    let metrics = Metrics::default();
    let health = server::Health::default();
    let ctx = Context::new(
        client,
        metrics.clone(),
        Arc::new(RdKafkaAdmin::default()),
        Arc::new(Postgres),
    );
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    tracing::info!(listen = %args.listen, namespace = %args.namespace, "freelanceflow-operator starting");
    let app = server::router(metrics, health.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let namespace = (!args.namespace.is_empty()).then_some(args.namespace);
    run::run(ctx, namespace, health).await;
    Ok(())
}
