//! `ProcessingCluster`: master and workers, rolled out revision by revision; a revision that is not
//! ready within `progressDeadlineSeconds` is rolled back to the last good one.

use std::sync::Arc;

use ff_crds::{KafkaTopic, ProcessingCluster, SecretKeyRef, Warehouse};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use kube::{api::Api, runtime::controller::Action, ResourceExt};

use super::{owner, warehouse::statefulset_ready, write_status, RESYNC, WAIT};
use crate::{
    apply::{apply_all, event, is_paused},
    builders::processing::{self as build, Resolved, Rollout},
    conditions::Outcome,
    context::Context,
    error::{KubeContext, Result},
};

pub const CONTROLLER: &str = "processingcluster";

pub fn deployment_ready(d: &Deployment) -> bool {
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let Some(s) = &d.status else { return false };
    s.observed_generation >= d.metadata.generation
        && s.updated_replicas.unwrap_or(0) >= want
        && s.available_replicas.unwrap_or(0) >= want
        && s.replicas.unwrap_or(0) == want
}

/// The warehouse's URL Secret, if the warehouse is ready.
pub async fn warehouse_url(
    ctx: &Context,
    ns: &str,
    name: &str,
) -> Result<Result<SecretKeyRef, (bool, String)>> {
    let api: Api<Warehouse> = Api::namespaced(ctx.client.clone(), ns);
    let wh = api
        .get_opt(name)
        .await
        .context(|| format!("read Warehouse {name}"))?;
    Ok(match wh {
        None => Err((true, format!("Warehouse {name} does not exist"))),
        Some(wh) => match wh.status.as_ref() {
            Some(s) if s.common.is_true("Ready") && s.url_secret.is_some() => {
                Ok(s.url_secret.clone().unwrap())
            }
            _ => Err((false, format!("waiting for Warehouse {name} to be ready"))),
        },
    })
}

/// Reads what the cluster names: the two topics (their names in Kafka and partition count) and the
/// warehouse's URL Secret. Err((missing, why)) when one does not exist (missing) or is not ready.
async fn dereference(
    ctx: &Context,
    pc: &ProcessingCluster,
) -> Result<Result<Resolved, (bool, String)>> {
    let api: Api<KafkaTopic> =
        Api::namespaced(ctx.client.clone(), &pc.namespace().unwrap_or_default());
    let mut found = Vec::new();
    for name in [&pc.spec.topics.profils, &pc.spec.topics.factures] {
        let Some(t) = api
            .get_opt(name)
            .await
            .context(|| format!("read KafkaTopic {name}"))?
        else {
            return Ok(Err((true, format!("KafkaTopic {name} does not exist"))));
        };
        let ready = t.status.as_ref().is_some_and(|s| s.common.is_true("Ready"));
        let Some(partitions) = t
            .status
            .as_ref()
            .and_then(|s| s.partitions)
            .filter(|_| ready)
        else {
            return Ok(Err((
                false,
                format!("waiting for KafkaTopic {name} to be ready"),
            )));
        };
        found.push((t.topic_name(), partitions));
    }
    let (profils, factures) = (found[0].clone(), found[1].clone());
    if profils.1 != factures.1 {
        return Ok(Err((
            true,
            format!(
                "topics {} and {} have {} and {} partitions: both need the same partitioning",
                profils.0, factures.0, profils.1, factures.1
            ),
        )));
    }
    let ns = pc.namespace().unwrap_or_default();
    Ok(warehouse_url(ctx, &ns, &pc.spec.warehouse_ref.name)
        .await?
        .map(|database_url| Resolved {
            profils: profils.0,
            factures: factures.0,
            partitions: factures.1,
            database_url,
        }))
}

pub async fn reconcile(pc: Arc<ProcessingCluster>, ctx: Arc<Context>) -> Result<Action> {
    super::instrumented(CONTROLLER, pc, ctx, reconcile_inner).await
}

async fn reconcile_inner(pc: Arc<ProcessingCluster>, ctx: Arc<Context>) -> Result<Action> {
    let o = owner(pc.as_ref());
    let previous = pc.status.clone();
    // the rollout bookkeeping survives reconciles that stop early; write_status sets the conditions
    let mut status = previous.clone().unwrap_or_default();
    // dereference
    let resolved = match dereference(&ctx, &pc).await? {
        Ok(r) => r,
        Err((missing, why)) => {
            write_status(
                &ctx,
                pc.as_ref(),
                previous.as_ref(),
                status,
                &Outcome::waiting(missing, why),
            )
            .await?;
            return Ok(Action::requeue(WAIT));
        }
    };
    // validate
    let partitioner = match build::validate(&pc.spec, resolved.partitions) {
        Ok(p) => p,
        Err(why) => {
            write_status(
                &ctx,
                pc.as_ref(),
                previous.as_ref(),
                status,
                &Outcome::failed("InvalidSpec", why),
            )
            .await?;
            return Ok(Action::await_change());
        }
    };
    // build
    let wanted = build::revision(
        &pc.spec.image,
        build::settings(&o, &pc.spec, &resolved, &partitioner),
    );
    let applied = build::revision_to_apply(&wanted, &status);
    let children = build::build(&o, &pc.spec, &resolved, &applied);
    // apply
    if !is_paused(pc.as_ref()) {
        apply_all(&ctx.client, &children.manifests()).await?;
    }
    // observe
    let deployments: Api<Deployment> = Api::namespaced(ctx.client.clone(), &o.namespace);
    let statefulsets: Api<StatefulSet> = Api::namespaced(ctx.client.clone(), &o.namespace);
    let master = deployments
        .get_opt(&build::master_name(&o.name))
        .await
        .context(|| "read the master Deployment".into())?;
    let workers = statefulsets
        .get_opt(&build::workers_name(&o.name))
        .await
        .context(|| "read the workers StatefulSet".into())?;
    status.ready_workers = workers
        .as_ref()
        .and_then(|w| w.status.as_ref())
        .and_then(|s| s.ready_replicas)
        .or(Some(0));
    let on_revision = |template: Option<&k8s_openapi::api::core::v1::PodTemplateSpec>| {
        template
            .and_then(|t| t.metadata.as_ref())
            .and_then(|m| m.annotations.as_ref())
            .and_then(|a| a.get(crate::builders::CONFIG_HASH_ANNOTATION))
            .is_some_and(|h| *h == applied.hash)
    };
    let ready = master
        .as_ref()
        .is_some_and(|d| deployment_ready(d) && on_revision(d.spec.as_ref().map(|s| &s.template)))
        && workers.as_ref().is_some_and(|w| {
            statefulset_ready(w) && on_revision(w.spec.as_ref().map(|s| &s.template))
        });

    if is_paused(pc.as_ref()) {
        let outcome = if ready {
            Outcome::ready("paused; master and workers ready")
        } else {
            Outcome::progressing("Paused", "paused while not ready")
        };
        write_status(&ctx, pc.as_ref(), previous.as_ref(), status, &outcome).await?;
        return Ok(Action::requeue(WAIT));
    }

    // status: where the rollout stands
    let now = jiff::Timestamp::now();
    let started = if status.current_revision.as_deref() == Some(applied.hash.as_str()) {
        status
            .rollout_started_at
            .as_deref()
            .and_then(|t| t.parse().ok())
    } else {
        None
    };
    let step = build::rollout(
        &wanted,
        &applied,
        ready,
        started,
        status.last_good_revision.as_ref(),
        pc.spec.progress_deadline_seconds,
        now,
    );
    let (outcome, requeue) = match step {
        Rollout::Ready => {
            status.current_revision = Some(applied.hash.clone());
            status.rollout_started_at = None;
            status.last_good_revision = Some(applied.clone());
            status.failed_revision = None;
            (
                Outcome::ready(format!(
                    "master and {} workers ready on revision {}",
                    pc.spec.workers.replicas, applied.hash
                )),
                RESYNC,
            )
        }
        Rollout::Progressing { since } => {
            status.current_revision = Some(applied.hash.clone());
            status.rollout_started_at = Some(since.to_string());
            (
                Outcome::progressing(
                    "RollingOut",
                    format!("rolling out revision {} since {since}", applied.hash),
                ),
                WAIT,
            )
        }
        Rollout::RollBack { failed, to } => {
            status.failed_revision = Some(failed.clone());
            status.current_revision = Some(to.hash.clone());
            status.rollout_started_at = Some(now.to_string());
            let why = format!(
                "revision {failed} was not ready within {} s; rolled back to revision {} (image {})",
                pc.spec.progress_deadline_seconds, to.hash, to.image
            );
            event(&ctx, pc.as_ref(), true, "RolledBack", why.clone()).await;
            // the next reconcile applies the last good revision at once
            (
                Outcome::failed("RolledBack", why),
                std::time::Duration::from_secs(1),
            )
        }
        Rollout::Stuck { since } => {
            status.current_revision = Some(applied.hash.clone());
            status.rollout_started_at = Some(since.to_string());
            let why = format!(
                "revision {} not ready within {} s and no earlier revision to roll back to",
                applied.hash, pc.spec.progress_deadline_seconds
            );
            (Outcome::failed("ProgressDeadlineExceeded", why), WAIT)
        }
        Rollout::RolledBack { failed } => {
            if ready {
                status.current_revision = Some(applied.hash.clone());
                status.rollout_started_at = None;
            }
            let why = format!(
                "revision {failed} of the spec failed its rollout; running the last good revision {} until the spec changes",
                applied.hash
            );
            (
                Outcome {
                    ready: crate::conditions::State::no("RolledBack", why.clone()),
                    ..Outcome::failed("RolledBack", why)
                },
                if ready { RESYNC } else { WAIT },
            )
        }
    };
    write_status(&ctx, pc.as_ref(), previous.as_ref(), status, &outcome).await?;
    Ok(Action::requeue(requeue))
}

/// What ingestion and dashboards need of a processing cluster: image, name, warehouse URL. Err((missing,
/// why)) when it does not exist (missing) or is not usable yet.
pub async fn cluster(
    ctx: &Context,
    ns: &str,
    name: &str,
) -> Result<Result<crate::builders::ingestion::Cluster, (bool, String)>> {
    let api: Api<ProcessingCluster> = Api::namespaced(ctx.client.clone(), ns);
    let Some(pc) = api
        .get_opt(name)
        .await
        .context(|| format!("read ProcessingCluster {name}"))?
    else {
        return Ok(Err((
            true,
            format!("ProcessingCluster {name} does not exist"),
        )));
    };
    if pc
        .status
        .as_ref()
        .and_then(|s| s.current_revision.as_ref())
        .is_none()
    {
        return Ok(Err((
            false,
            format!("waiting for ProcessingCluster {name} to roll out"),
        )));
    }
    Ok(warehouse_url(ctx, ns, &pc.spec.warehouse_ref.name)
        .await?
        .map(|database_url| crate::builders::ingestion::Cluster {
            name: name.into(),
            image: pc.spec.image.clone(),
            database_url,
        }))
}
