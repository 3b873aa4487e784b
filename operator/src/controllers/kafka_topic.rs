//! `KafkaTopic`: create, grow, configure through the Kafka admin API; refuse a partition decrease; delete
//! the Kafka topic only with `deletionPolicy: Delete` (the only kind with a finalizer: the topic is
//! state outside Kubernetes).

use std::{collections::BTreeMap, sync::Arc};

use ff_crds::{DeletionPolicy, KafkaTopic, KafkaTopicStatus};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::{
    api::{Api, Patch, PatchParams},
    runtime::controller::Action,
    ResourceExt,
};
use serde_json::json;

use super::{write_status, RESYNC, WAIT};
use crate::{
    apply::{event, is_paused},
    conditions::Outcome,
    context::Context,
    error::{Error, KubeContext, Result},
};

pub const CONTROLLER: &str = "kafkatopic";
pub const FINALIZER: &str = "freelanceflow.io/delete-kafka-topic";

/// Topic setting names are dotted lower-case words (`retention.ms`).
pub fn validate(topic: &KafkaTopic) -> Result<(), String> {
    for key in topic.spec.config.keys() {
        let ok = !key.is_empty()
            && key.split('.').all(|w| {
                !w.is_empty()
                    && w.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            });
        if !ok {
            return Err(format!(
                "config: {key:?} is not a Kafka topic setting name (like retention.ms)"
            ));
        }
    }
    Ok(())
}

/// The settings to change: those of the spec whose value differs in Kafka.
pub fn config_changes(
    wanted: &BTreeMap<String, String>,
    actual: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    wanted
        .iter()
        .filter(|(k, v)| actual.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

async fn bootstrap_servers(ctx: &Context, topic: &KafkaTopic) -> Result<Result<String, String>> {
    if let Some(s) = &topic.spec.bootstrap_servers {
        return Ok(Ok(s.clone()));
    }
    let Some(from) = &topic.spec.bootstrap_servers_from else {
        return Ok(Err("no bootstrap servers".into()));
    };
    let api: Api<ConfigMap> =
        Api::namespaced(ctx.client.clone(), &topic.namespace().unwrap_or_default());
    let cm = api
        .get_opt(&from.name)
        .await
        .context(|| format!("read ConfigMap {}", from.name))?;
    Ok(
        match cm
            .and_then(|c| c.data)
            .and_then(|d| d.get(&from.key).cloned())
        {
            Some(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            _ => Err(format!("ConfigMap {} has no key {}", from.name, from.key)),
        },
    )
}

async fn set_finalizer(ctx: &Context, topic: &KafkaTopic, present: bool) -> Result<()> {
    let mut finalizers: Vec<String> = topic
        .finalizers()
        .iter()
        .filter(|f| *f != FINALIZER)
        .cloned()
        .collect();
    if present {
        finalizers.push(FINALIZER.into());
    }
    let api: Api<KafkaTopic> =
        Api::namespaced(ctx.client.clone(), &topic.namespace().unwrap_or_default());
    // a merge patch replaces the whole list; the resourceVersion makes it fail rather than drop another
    // controller's finalizer added meanwhile
    let patch = json!({"metadata": {"finalizers": finalizers, "resourceVersion": topic.resource_version()}});
    let params = PatchParams {
        field_manager: Some(crate::builders::FIELD_MANAGER.into()),
        ..PatchParams::default()
    };
    api.patch(&topic.name_any(), &params, &Patch::Merge(&patch))
        .await
        .context(|| format!("update the finalizers of KafkaTopic {}", topic.name_any()))?;
    Ok(())
}

pub async fn reconcile(topic: Arc<KafkaTopic>, ctx: Arc<Context>) -> Result<Action> {
    super::instrumented(CONTROLLER, topic, ctx, reconcile_inner).await
}

async fn reconcile_inner(topic: Arc<KafkaTopic>, ctx: Arc<Context>) -> Result<Action> {
    let name = topic.topic_name();
    let wants_finalizer = topic.spec.deletion_policy == DeletionPolicy::Delete;
    let has_finalizer = topic.finalizers().iter().any(|f| f == FINALIZER);

    // deletion: only our finalizer holds the object, and only with deletionPolicy Delete
    if topic.metadata.deletion_timestamp.is_some() {
        if has_finalizer {
            if wants_finalizer && !is_paused(topic.as_ref()) {
                match bootstrap_servers(&ctx, &topic).await? {
                    Ok(servers) => {
                        ctx.kafka.delete(&servers, &name).await?;
                        event(
                            &ctx,
                            topic.as_ref(),
                            false,
                            "TopicDeleted",
                            format!("deleted Kafka topic {name}"),
                        )
                        .await;
                    }
                    Err(why) => {
                        // cannot reach Kafka: keep the finalizer, say why
                        event(
                            &ctx,
                            topic.as_ref(),
                            true,
                            "DeleteBlocked",
                            format!("cannot delete Kafka topic {name}: {why}"),
                        )
                        .await;
                        return Ok(Action::requeue(WAIT));
                    }
                }
            } else if is_paused(topic.as_ref()) {
                return Ok(Action::requeue(WAIT));
            }
            set_finalizer(&ctx, &topic, false).await?;
        }
        return Ok(Action::await_change());
    }
    if wants_finalizer != has_finalizer && !is_paused(topic.as_ref()) {
        set_finalizer(&ctx, &topic, wants_finalizer).await?;
        // the update triggers the next reconcile
        return Ok(Action::await_change());
    }

    let previous = topic.status.clone();
    let mut status = KafkaTopicStatus {
        topic_name: Some(name.clone()),
        ..Default::default()
    };
    if let Err(why) = validate(&topic) {
        write_status(
            &ctx,
            topic.as_ref(),
            previous.as_ref(),
            status,
            &Outcome::failed("InvalidSpec", why),
        )
        .await?;
        return Ok(Action::await_change());
    }
    let servers = match bootstrap_servers(&ctx, &topic).await? {
        Ok(s) => s,
        Err(why) => {
            write_status(
                &ctx,
                topic.as_ref(),
                previous.as_ref(),
                status,
                &Outcome::failed("DependencyMissing", why),
            )
            .await?;
            return Ok(Action::requeue(WAIT));
        }
    };
    let spec = &topic.spec;
    // the configuration is only read when the spec manages some
    let actual = ctx
        .kafka
        .describe(&servers, &name, !spec.config.is_empty())
        .await?;
    let paused = is_paused(topic.as_ref());
    let outcome = match actual {
        None if paused => Outcome::progressing(
            "Paused",
            format!("topic {name} does not exist; paused, not created"),
        ),
        None => {
            ctx.kafka
                .create(
                    &servers,
                    &name,
                    spec.partitions,
                    spec.replication_factor,
                    &spec.config,
                )
                .await?;
            event(
                &ctx,
                topic.as_ref(),
                false,
                "TopicCreated",
                format!(
                    "created Kafka topic {name} with {} partitions",
                    spec.partitions
                ),
            )
            .await;
            status.partitions = Some(spec.partitions);
            Outcome::ready(format!("topic {name}: {} partitions", spec.partitions))
        }
        Some(state) => {
            status.partitions = Some(state.partitions);
            let changes = config_changes(&spec.config, &state.config);
            if state.partitions > spec.partitions {
                Outcome::failed(
                    "NotSupported",
                    format!(
                        "topic {name} has {} partitions; Kafka cannot remove partitions, so {} is refused (create a new topic to shrink)",
                        state.partitions, spec.partitions
                    ),
                )
            } else if paused {
                if state.partitions < spec.partitions || !changes.is_empty() {
                    Outcome::progressing(
                        "Paused",
                        "changes are waiting for the paused annotation to be removed",
                    )
                } else {
                    Outcome::ready(format!("topic {name}: {} partitions", state.partitions))
                }
            } else {
                match grow_and_configure(&ctx, &topic, &servers, &name, &state, &changes).await? {
                    Some(unsupported) => unsupported,
                    None => {
                        status.partitions = Some(spec.partitions.max(state.partitions));
                        Outcome::ready(format!("topic {name}: {} partitions", spec.partitions))
                    }
                }
            }
        }
    };
    let requeue = if outcome.ready.status { RESYNC } else { WAIT };
    write_status(&ctx, topic.as_ref(), previous.as_ref(), status, &outcome).await?;
    Ok(Action::requeue(requeue))
}

/// Adds partitions and applies the configuration. A broker that does not implement the admin call
/// (e.g. tansu has no CreatePartitions) gives a `BrokerUnsupported` condition, not a retry loop.
async fn grow_and_configure(
    ctx: &Context,
    topic: &KafkaTopic,
    servers: &str,
    name: &str,
    state: &crate::kafka::TopicState,
    changes: &BTreeMap<String, String>,
) -> Result<Option<Outcome>> {
    let unsupported = |e: &Error| matches!(e, Error::Kafka { message, .. } if message.contains("UnsupportedFeature") || message.contains("UnsupportedVersion"));
    let spec = &topic.spec;
    if state.partitions < spec.partitions {
        match ctx
            .kafka
            .add_partitions(servers, name, spec.partitions)
            .await
        {
            Ok(()) => {
                let note = format!(
                    "{name}: {} -> {} partitions",
                    state.partitions, spec.partitions
                );
                event(ctx, topic, false, "PartitionsAdded", note).await;
            }
            Err(e) if unsupported(&e) => {
                return Ok(Some(Outcome::failed(
                    "BrokerUnsupported",
                    format!("the broker cannot add partitions to {name} (CreatePartitions): {e}"),
                )))
            }
            Err(e) => return Err(e),
        }
    }
    if !changes.is_empty() {
        match ctx.kafka.set_config(servers, name, &spec.config).await {
            Ok(()) => {
                let note = format!(
                    "{name}: set {}",
                    changes.keys().cloned().collect::<Vec<_>>().join(", ")
                );
                event(ctx, topic, false, "ConfigChanged", note).await;
            }
            Err(e) if unsupported(&e) => {
                return Ok(Some(Outcome::failed(
                    "BrokerUnsupported",
                    format!(
                        "the broker cannot change the configuration of {name} (AlterConfigs): {e}"
                    ),
                )))
            }
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}
