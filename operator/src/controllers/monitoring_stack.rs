//! `MonitoringStack`: a Prometheus and Grafana of its own, or ServiceMonitor and PrometheusRule objects when
//! the prometheus-operator is installed.

use std::{collections::BTreeMap, sync::Arc};

use ff_crds::{
    monitoring_stack::MonitoringMode, MonitoringStack, MonitoringStackStatus, Warehouse,
};
use k8s_openapi::{
    api::{apps::v1::Deployment, core::v1::Secret},
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{api::Api, runtime::controller::Action};

use super::{owner, processing_cluster::deployment_ready, write_status, RESYNC, WAIT};
use crate::{
    apply::{apply, apply_all, is_paused},
    builders::monitoring::{self as build, GrafanaSecrets},
    conditions::Outcome,
    context::{generate_password, Context},
    error::{KubeContext, Result},
};

pub const CONTROLLER: &str = "monitoringstack";

async fn prometheus_operator_installed(ctx: &Context) -> Result<bool> {
    let api: Api<CustomResourceDefinition> = Api::all(ctx.client.clone());
    Ok(api
        .get_opt("podmonitors.monitoring.coreos.com")
        .await
        .context(|| "look for the prometheus-operator CRDs".into())?
        .is_some())
}

pub async fn reconcile(m: Arc<MonitoringStack>, ctx: Arc<Context>) -> Result<Action> {
    super::instrumented(CONTROLLER, m, ctx, reconcile_inner).await
}

async fn reconcile_inner(m: Arc<MonitoringStack>, ctx: Arc<Context>) -> Result<Action> {
    let o = owner(m.as_ref());
    let previous = m.status.clone();
    let mut status = MonitoringStackStatus::default();
    let operator_mode = match m.spec.mode {
        MonitoringMode::PrometheusOperator => true,
        MonitoringMode::Builtin => false,
        MonitoringMode::Auto => prometheus_operator_installed(&ctx).await?,
    };
    let paused = is_paused(m.as_ref());
    if operator_mode {
        status.mode = Some("PrometheusOperator".into());
        if !paused {
            apply_all(&ctx.client, &build::build_prometheus_operator(&o)).await?;
        }
        write_status(
            &ctx,
            m.as_ref(),
            previous.as_ref(),
            status,
            &Outcome::ready("ServiceMonitor and PrometheusRule written"),
        )
        .await?;
        return Ok(Action::requeue(RESYNC));
    }
    status.mode = Some("Builtin".into());
    // Grafana reads the warehouse of the processing cluster with its read-only login
    let reader = {
        let pcs: Api<ff_crds::ProcessingCluster> =
            Api::namespaced(ctx.client.clone(), &o.namespace);
        let pc_name = &m.spec.processing_cluster_ref.name;
        let wh_name = pcs
            .get_opt(pc_name)
            .await
            .context(|| format!("read ProcessingCluster {pc_name}"))?
            .map(|pc| pc.spec.warehouse_ref.name);
        let whs: Api<Warehouse> = Api::namespaced(ctx.client.clone(), &o.namespace);
        let wh = match &wh_name {
            Some(n) => whs
                .get_opt(n)
                .await
                .context(|| format!("read Warehouse {n}"))?,
            None => None,
        };
        wh.and_then(|w| w.status).and_then(|s| s.reader_secret)
    };
    let Some(reader) = reader else {
        let why = format!(
            "waiting for the warehouse of ProcessingCluster {} and its reader login",
            m.spec.processing_cluster_ref.name
        );
        write_status(
            &ctx,
            m.as_ref(),
            previous.as_ref(),
            status,
            &Outcome::progressing("WaitingForDependencies", why),
        )
        .await?;
        return Ok(Action::requeue(WAIT));
    };
    let admin = match &m.spec.grafana.admin_secret {
        Some(s) => s.name.clone(),
        None => {
            let name = format!("{}-grafana-admin", o.name);
            let api: Api<Secret> = Api::namespaced(ctx.client.clone(), &o.namespace);
            if api
                .get_opt(&name)
                .await
                .context(|| format!("read Secret {name}"))?
                .is_none()
                && !paused
            {
                let data = BTreeMap::from([
                    ("admin-user".to_string(), "admin".to_string()),
                    ("admin-password".to_string(), generate_password()),
                ]);
                let secret = crate::builders::opaque_secret(&o, name.clone(), "grafana", data);
                apply(&ctx.client, &serde_json::to_value(secret).unwrap()).await?;
            }
            name
        }
    };
    let objects = build::build_builtin(&o, &m.spec, &GrafanaSecrets { admin, reader });
    if !paused {
        apply_all(&ctx.client, &objects).await?;
    }
    let api: Api<Deployment> = Api::namespaced(ctx.client.clone(), &o.namespace);
    let mut ready = true;
    for name in std::iter::once(format!("{}-prometheus", o.name)).chain(
        m.spec
            .grafana
            .enabled
            .then(|| format!("{}-grafana", o.name)),
    ) {
        ready &= api
            .get_opt(&name)
            .await
            .context(|| format!("read Deployment {name}"))?
            .as_ref()
            .is_some_and(deployment_ready);
    }
    let (outcome, requeue) = if ready {
        (Outcome::ready("Prometheus and Grafana available"), RESYNC)
    } else {
        (
            Outcome::progressing("RollingOut", "waiting for Prometheus and Grafana"),
            WAIT,
        )
    };
    write_status(&ctx, m.as_ref(), previous.as_ref(), status, &outcome).await?;
    Ok(Action::requeue(requeue))
}
