//! `Dashboard`: the dashboards Deployment and Service.

use std::sync::Arc;

use ff_crds::{Dashboard, DashboardStatus};
use k8s_openapi::api::apps::v1::Deployment;
use kube::{api::Api, runtime::controller::Action};

use super::{
    owner,
    processing_cluster::{cluster, deployment_ready},
    write_status, RESYNC, WAIT,
};
use crate::{
    apply::{apply_all, is_paused},
    builders::{dashboard as build, processing::master_url},
    conditions::Outcome,
    context::Context,
    error::{KubeContext, Result},
};

pub const CONTROLLER: &str = "dashboard";

pub async fn reconcile(d: Arc<Dashboard>, ctx: Arc<Context>) -> Result<Action> {
    super::instrumented(CONTROLLER, d, ctx, reconcile_inner).await
}

async fn reconcile_inner(d: Arc<Dashboard>, ctx: Arc<Context>) -> Result<Action> {
    let o = owner(d.as_ref());
    let previous = d.status.clone();
    let mut status = DashboardStatus::default();
    let pc = &d.spec.processing_cluster_ref.name;
    let cluster = match cluster(&ctx, &o.namespace, pc).await? {
        Ok(c) => c,
        Err((missing, why)) => {
            let outcome = Outcome::waiting(missing, why);
            write_status(&ctx, d.as_ref(), previous.as_ref(), status, &outcome).await?;
            return Ok(Action::requeue(WAIT));
        }
    };
    let children = build::build(&o, &d.spec, &cluster, &master_url(pc, &o.namespace));
    if !is_paused(d.as_ref()) {
        apply_all(&ctx.client, &children.manifests()).await?;
    }
    let api: Api<Deployment> = Api::namespaced(ctx.client.clone(), &o.namespace);
    let name = format!("{}-dashboard", o.name);
    let deployment = api
        .get_opt(&name)
        .await
        .context(|| "read the dashboards Deployment".into())?;
    status.available_replicas = deployment
        .as_ref()
        .and_then(|x| x.status.as_ref())
        .and_then(|s| s.available_replicas)
        .or(Some(0));
    status.url = Some(format!("http://{name}.{}.svc", o.namespace));
    let (outcome, requeue) = if deployment.as_ref().is_some_and(deployment_ready) {
        (
            Outcome::ready(format!("{} replica(s) available", d.spec.replicas)),
            RESYNC,
        )
    } else {
        (
            Outcome::progressing("RollingOut", "waiting for the dashboards to be available"),
            WAIT,
        )
    };
    write_status(&ctx, d.as_ref(), previous.as_ref(), status, &outcome).await?;
    Ok(Action::requeue(requeue))
}
