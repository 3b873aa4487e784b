//! Talking to the API server: server-side apply of children with one field manager, status patches,
//! Events, the paused annotation.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::{
    api::{Api, DynamicObject, Patch, PatchParams},
    core::{ApiResource, GroupVersionKind},
    runtime::events::{Event, EventType},
    Client, Resource, ResourceExt,
};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::{
    builders::FIELD_MANAGER,
    context::Context,
    error::{Error, KubeContext, Result},
};

/// `freelanceflow.io/paused: "true"`.
pub fn is_paused<K: Resource>(obj: &K) -> bool {
    obj.meta()
        .annotations
        .as_ref()
        .and_then(|a| a.get(ff_crds::PAUSED_ANNOTATION))
        .is_some_and(|v| v == "true")
}

/// The resource (plural) of a child kind the operator writes.
pub fn api_resource(api_version: &str, kind: &str) -> Result<ApiResource> {
    let plural = match kind {
        "ConfigMap" => "configmaps",
        "Secret" => "secrets",
        "Service" => "services",
        "ServiceAccount" => "serviceaccounts",
        "Deployment" => "deployments",
        "StatefulSet" => "statefulsets",
        "CronJob" => "cronjobs",
        "PodDisruptionBudget" => "poddisruptionbudgets",
        "Role" => "roles",
        "RoleBinding" => "rolebindings",
        "ServiceMonitor" => "servicemonitors",
        "PrometheusRule" => "prometheusrules",
        other => {
            return Err(Error::Other(format!(
                "the operator does not manage {other} objects"
            )))
        }
    };
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    Ok(ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(group, version, kind),
        plural,
    ))
}

/// Server-side apply of one desired object (forcing our field manager's ownership), returning what the
/// API server stored, status included.
pub async fn apply(client: &Client, desired: &Value) -> Result<DynamicObject> {
    let kind = desired["kind"].as_str().unwrap_or_default();
    let ar = api_resource(desired["apiVersion"].as_str().unwrap_or_default(), kind)?;
    let namespace = desired["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default();
    let name = desired["metadata"]["name"].as_str().unwrap_or_default();
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &ar);
    api.patch(
        name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(desired),
    )
    .await
    .context(|| format!("apply {kind} {namespace}/{name}"))
}

/// Applies every object, in order; returns them as stored.
pub async fn apply_all(client: &Client, desired: &[Value]) -> Result<Vec<DynamicObject>> {
    let mut out = Vec::with_capacity(desired.len());
    for d in desired {
        out.push(apply(client, d).await?);
    }
    Ok(out)
}

/// Deletes a child if it exists (e.g. the backup CronJob after `backup` was removed from the spec).
pub async fn delete_if_exists(
    client: &Client,
    api_version: &str,
    kind: &str,
    namespace: &str,
    name: &str,
) -> Result<()> {
    let ar = api_resource(api_version, kind)?;
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &ar);
    match api.delete(name, &Default::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(Error::Kube {
            action: format!("delete {kind} {namespace}/{name}"),
            source: e,
        }),
    }
}

/// A stored object read back as its typed form (e.g. a Deployment to read its status).
pub fn typed<T: DeserializeOwned>(obj: &DynamicObject) -> Result<T> {
    serde_json::to_value(obj)
        .and_then(serde_json::from_value)
        .map_err(|e| Error::Other(format!("reading back {}: {e}", obj.name_any())))
}

/// Writes the whole status with server-side apply (the same field manager as the children).
pub async fn patch_status<K>(api: &Api<K>, name: &str, status: Value) -> Result<()>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    let patch = json!({"apiVersion": K::api_version(&()), "kind": K::kind(&()), "status": status});
    api.patch_status(
        name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await
    .context(|| format!("update the status of {} {name}", K::kind(&())))?;
    Ok(())
}

/// Publishes a Kubernetes Event about `obj`; a failure to publish is logged, never fatal.
pub async fn event<K: Resource<DynamicType = ()>>(
    ctx: &Context,
    obj: &K,
    warning: bool,
    reason: &str,
    note: String,
) {
    let reference: ObjectReference = obj.object_ref(&());
    let ev = Event {
        type_: if warning {
            EventType::Warning
        } else {
            EventType::Normal
        },
        reason: reason.into(),
        note: Some(note),
        action: "Reconcile".into(),
        secondary: None,
    };
    if let Err(e) = ctx.recorder.publish(&ev, &reference).await {
        tracing::warn!(error = %e, reason, "could not publish an Event");
    }
}
