//! `Ingestion`: the loader CronJob of a processing cluster.

use std::sync::Arc;

use ff_crds::{Ingestion, IngestionStatus};
use k8s_openapi::api::batch::v1::CronJob;
use kube::{api::Api, runtime::controller::Action};

use super::{owner, processing_cluster::cluster, write_status, RESYNC, WAIT};
use crate::{
    apply::{apply, is_paused},
    builders::ingestion as build,
    conditions::Outcome,
    context::Context,
    error::{KubeContext, Result},
};

pub const CONTROLLER: &str = "ingestion";

pub async fn reconcile(ing: Arc<Ingestion>, ctx: Arc<Context>) -> Result<Action> {
    super::instrumented(CONTROLLER, ing, ctx, reconcile_inner).await
}

async fn reconcile_inner(ing: Arc<Ingestion>, ctx: Arc<Context>) -> Result<Action> {
    let o = owner(ing.as_ref());
    let previous = ing.status.clone();
    let mut status = IngestionStatus::default();
    let cluster = match cluster(&ctx, &o.namespace, &ing.spec.processing_cluster_ref.name).await? {
        Ok(c) => c,
        Err((missing, why)) => {
            let outcome = Outcome::waiting(missing, why);
            write_status(&ctx, ing.as_ref(), previous.as_ref(), status, &outcome).await?;
            return Ok(Action::requeue(WAIT));
        }
    };
    let cronjob = build::build(&o, &ing.spec, &cluster);
    if !is_paused(ing.as_ref()) {
        apply(&ctx.client, &serde_json::to_value(&cronjob).unwrap()).await?;
    }
    let api: Api<CronJob> = Api::namespaced(ctx.client.clone(), &o.namespace);
    let stored = api
        .get_opt(&build::cronjob_name(&o.name))
        .await
        .context(|| "read the loader CronJob".into())?;
    let observed = stored.as_ref().and_then(|c| c.status.as_ref());
    status.last_schedule_time = observed
        .and_then(|s| s.last_schedule_time.as_ref())
        .map(|t| t.0.to_string());
    status.last_successful_time = observed
        .and_then(|s| s.last_successful_time.as_ref())
        .map(|t| t.0.to_string());
    let outcome = match stored {
        Some(_) if ing.spec.suspend => Outcome::ready("loader scheduled, suspended"),
        Some(_) => Outcome::ready(format!(
            "loader scheduled at '{}'",
            ing.spec.schedule.trim()
        )),
        None => Outcome::progressing("Paused", "paused before the loader CronJob was created"),
    };
    write_status(&ctx, ing.as_ref(), previous.as_ref(), status, &outcome).await?;
    Ok(Action::requeue(RESYNC))
}
