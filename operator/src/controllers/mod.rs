//! One controller per kind. Each reconcile runs the same steps: dereference (read what the resource
//! points to), validate (what CEL cannot check), build (pure, `crate::builders`), apply (server-side
//! apply, skipped while paused), status (conditions from what was observed). An invalid spec or a
//! missing dependency ends as a condition and a Warning Event, never as an error that retries forever.

pub mod dashboard;
pub mod ingestion;
pub mod kafka_topic;
pub mod monitoring_stack;
pub mod processing_cluster;
pub mod warehouse;

use std::{sync::Arc, time::Duration};

use ff_crds::HasCommonStatus;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{api::Api, runtime::controller::Action, Resource, ResourceExt};
use serde::{de::DeserializeOwned, Serialize};
use tracing::Instrument;

use crate::{
    apply::{event, is_paused, patch_status},
    builders::Owner,
    conditions::{merge, Outcome},
    context::Context,
    error::{Error, Result},
    metrics::{ErrorLabels, Metrics},
};

/// Requeue period when everything is ready (drift is also caught by the watches on children).
pub const RESYNC: Duration = Duration::from_secs(300);
/// Requeue period while waiting for children or dependencies.
pub const WAIT: Duration = Duration::from_secs(10);

/// The owner of children of `obj`: its name, namespace and controller reference.
pub fn owner<K: Resource<DynamicType = ()>>(obj: &K) -> Owner {
    Owner {
        name: obj.name_any(),
        namespace: obj.namespace().unwrap_or_default(),
        reference: obj
            .controller_owner_ref(&())
            .expect("a namespaced object from the API server has a uid"),
    }
}

/// Writes the status: the kind's own fields (`extra`, a status struct) with the merged conditions and
/// the observed generation. Publishes a Warning Event when the resource turns degraded.
pub async fn write_status<K, S>(
    ctx: &Context,
    obj: &K,
    previous: Option<&S>,
    mut status: S,
    outcome: &Outcome,
) -> Result<()>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
    S: HasCommonStatus + Serialize,
{
    let now = Time(jiff::Timestamp::now());
    let previous_conditions = previous
        .map(|p| p.common().conditions.clone())
        .unwrap_or_default();
    let was_degraded =
        previous.is_some_and(|p| p.common().is_true(ff_crds::common::condition::DEGRADED));
    let generation = obj.meta().generation;
    let common = status.common_mut();
    common.observed_generation = generation;
    common.conditions = merge(
        &previous_conditions,
        outcome,
        is_paused(obj),
        generation,
        &now,
    );
    if outcome.degraded.status && !was_degraded {
        event(
            ctx,
            obj,
            true,
            &outcome.degraded.reason,
            outcome.degraded.message.clone(),
        )
        .await;
    }
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
    patch_status(
        &api,
        &obj.name_any(),
        serde_json::to_value(&status).expect("status serializes"),
    )
    .await
}

/// Runs one reconcile with its span (controller, object, a trace id), metrics and paused gauge.
pub async fn instrumented<K, F, Fut>(
    controller: &'static str,
    obj: Arc<K>,
    ctx: Arc<Context>,
    f: F,
) -> Result<Action>
where
    K: Resource<DynamicType = ()>,
    F: FnOnce(Arc<K>, Arc<Context>) -> Fut,
    Fut: std::future::Future<Output = Result<Action>>,
{
    let trace_id = format!("{:016x}", rand::random::<u64>());
    let span = tracing::info_span!("reconcile", controller, object = %format!("{}/{}", obj.namespace().unwrap_or_default(), obj.name_any()), trace_id);
    let label = Metrics::label(controller);
    ctx.metrics.reconciles.get_or_create(&label).inc();
    let started = std::time::Instant::now();
    let result = f(obj.clone(), ctx.clone()).instrument(span.clone()).await;
    ctx.metrics
        .duration
        .get_or_create(&label)
        .observe(started.elapsed().as_secs_f64());
    if let Err(e) = &result {
        ctx.metrics
            .errors
            .get_or_create(&ErrorLabels {
                controller: controller.into(),
                reason: e.reason().into(),
            })
            .inc();
        span.in_scope(|| tracing::warn!(error = %e, "reconcile failed"));
        // `kubectl describe` shows why; the recorder folds repeats into one Event series
        event(&ctx, obj.as_ref(), true, e.reason(), e.to_string()).await;
    }
    result
}

/// After a failed reconcile: retry with a delay; the object's other reconciles are not blocked.
pub fn error_policy<K>(_obj: Arc<K>, error: &Error, _ctx: Arc<Context>) -> Action {
    match error {
        Error::Kube {
            source: kube::Error::Api(e),
            ..
        } if e.code == 409 => Action::requeue(Duration::from_secs(1)),
        _ => Action::requeue(Duration::from_secs(30)),
    }
}

/// Counts the resources of a controller and the paused ones (gauges), from the controller's store.
pub fn count<K: Resource>(metrics: &Metrics, controller: &str, objects: &[Arc<K>]) {
    let label = Metrics::label(controller);
    metrics
        .resources
        .get_or_create(&label)
        .set(objects.len() as i64);
    metrics
        .paused
        .get_or_create(&label)
        .set(objects.iter().filter(|o| is_paused(o.as_ref())).count() as i64);
}
