//! `ProcessingCluster` children: ConfigMap, master Deployment + Service, workers StatefulSet + headless
//! Service, PodDisruptionBudget. And the pure parts of the rollout: validation, settings, revisions.

use std::collections::BTreeMap;

use ff_crds::{
    processing_cluster::{PartitioningStrategy, Revision},
    ProcessingClusterSpec, SecretKeyRef,
};
use k8s_openapi::{
    api::{
        apps::v1::{
            Deployment, DeploymentSpec, DeploymentStrategy, StatefulSet, StatefulSetSpec,
            StatefulSetUpdateStrategy,
        },
        core::v1::{
            ConfigMap, ConfigMapEnvSource, EnvFromSource, PodSpec, PodTemplateSpec, Service,
            ServiceSpec,
        },
        policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec},
    },
    apimachinery::pkg::{apis::meta::v1::LabelSelector, util::intstr::IntOrString},
};

use super::{
    container, database_url_file, env_from_field, hash_of, http_service_port, resources_or,
    restricted_pod, serve_http, Owner, CONFIG_HASH_ANNOTATION, HTTP_PORT,
};

/// What the controller dereferenced: the topics' names in Kafka and their partition count, and the
/// warehouse's URL secret.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    pub profils: String,
    pub factures: String,
    pub partitions: i32,
    pub database_url: SecretKeyRef,
}

/// Checks what CEL cannot: the ranges are contiguous, there is one per partition, the settings are
/// FreelanceFlow settings. Returns the `--partitioner` argument.
pub fn validate(spec: &ProcessingClusterSpec, partitions: i32) -> Result<String, String> {
    for key in spec.settings.keys() {
        if !key.starts_with("FF_") || key.contains('=') {
            return Err(format!(
                "settings: {key:?} is not a FreelanceFlow setting (FF_...)"
            ));
        }
        if matches!(key.as_str(), "FF_DATABASE_URL" | "FF_WORKER_ID") {
            return Err(format!("settings: {key} is set by the operator"));
        }
    }
    if spec.workers.replicas > partitions {
        return Err(format!(
            "{} workers for {partitions} partitions: a worker would stay idle (at most one worker per partition)",
            spec.workers.replicas
        ));
    }
    match spec.partitioning.strategy {
        PartitioningStrategy::Hash => Ok("hash".into()),
        PartitioningStrategy::Range => {
            let ranges = &spec.partitioning.ranges;
            if ranges.len() != partitions as usize {
                return Err(format!(
                    "{} id ranges for topics of {partitions} partitions: partition i takes range i",
                    ranges.len()
                ));
            }
            let mut expected = 1;
            for r in ranges {
                if r.from != expected {
                    return Err(format!("ranges: {}-{} should start at {expected} (ranges are contiguous, in order)", r.from, r.to));
                }
                expected = r.to + 1;
            }
            Ok(format!(
                "range:{}",
                ranges
                    .iter()
                    .map(|r| r.to.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            ))
        }
    }
}

/// The environment of master and workers (the ConfigMap): derived settings, then the spec's overrides.
pub fn settings(
    owner: &Owner,
    spec: &ProcessingClusterSpec,
    resolved: &Resolved,
    partitioner: &str,
) -> BTreeMap<String, String> {
    let mut s = BTreeMap::from([
        (
            "FF_KAFKA_BROKERS".to_string(),
            spec.bootstrap_servers.clone(),
        ),
        ("FF_TOPIC_PROFILS".to_string(), resolved.profils.clone()),
        ("FF_TOPIC_FACTURES".to_string(), resolved.factures.clone()),
        ("FF_TOPIC_DLQ".to_string(), spec.topics.dead_letters.clone()),
        ("FF_GROUP".to_string(), format!("{}-workers", owner.name)),
        ("FF_PARTITIONS".to_string(), resolved.partitions.to_string()),
        ("FF_PARTITIONER".to_string(), partitioner.to_string()),
        (
            "FF_MASTER_LISTEN".to_string(),
            format!("0.0.0.0:{HTTP_PORT}"),
        ),
        ("FF_LOG_FORMAT".to_string(), "json".to_string()),
    ]);
    s.extend(spec.settings.clone());
    s
}

/// The revision the spec asks for: image and settings, and their hash.
pub fn revision(image: &str, settings: BTreeMap<String, String>) -> Revision {
    Revision {
        hash: hash_of(&(image, &settings)),
        image: image.into(),
        settings,
    }
}

pub struct Children {
    pub config: ConfigMap,
    pub master: Deployment,
    pub master_service: Service,
    pub workers: StatefulSet,
    pub workers_service: Service,
    pub budget: PodDisruptionBudget,
}

impl Children {
    pub fn manifests(&self) -> Vec<serde_json::Value> {
        [
            serde_json::to_value(&self.config),
            serde_json::to_value(&self.master),
            serde_json::to_value(&self.master_service),
            serde_json::to_value(&self.workers),
            serde_json::to_value(&self.workers_service),
            serde_json::to_value(&self.budget),
        ]
        .into_iter()
        .map(|v| v.expect("serializable"))
        .collect()
    }
}

pub fn master_name(owner: &str) -> String {
    format!("{owner}-master")
}

pub fn workers_name(owner: &str) -> String {
    format!("{owner}-worker")
}

pub fn config_name(owner: &str) -> String {
    format!("{owner}-config")
}

/// The in-cluster URL of the master's API.
pub fn master_url(owner: &str, namespace: &str) -> String {
    format!("http://{}.{namespace}.svc:{HTTP_PORT}", master_name(owner))
}

fn pod(
    owner: &Owner,
    component: &str,
    revision: &Revision,
    spec: &ProcessingClusterSpec,
    db: &SecretKeyRef,
) -> PodTemplateSpec {
    let mut c = container(
        component,
        &revision.image,
        spec.image_pull_policy.map(|p| match p {
            ff_crds::processing_cluster::PullPolicy::Always => "Always",
            ff_crds::processing_cluster::PullPolicy::IfNotPresent => "IfNotPresent",
            ff_crds::processing_cluster::PullPolicy::Never => "Never",
        }),
    );
    c.args = Some(vec![component.into()]);
    c.env_from = Some(vec![EnvFromSource {
        config_map_ref: Some(ConfigMapEnvSource {
            name: config_name(&owner.name),
            optional: Some(false),
        }),
        ..EnvFromSource::default()
    }]);
    let (url_volume, url_mount, url_env) = database_url_file(db);
    c.volume_mounts = Some(vec![url_mount]);
    let mut env = vec![url_env];
    if component == "worker" {
        // the pod name (`<cluster>-worker-<ordinal>`) is the worker id: stable across restarts
        env.push(env_from_field("FF_WORKER_ID", "metadata.name"));
        env.push(super::env(
            "FF_METRICS_LISTEN",
            format!("0.0.0.0:{HTTP_PORT}"),
        ));
    }
    c.env = Some(env);
    c.resources = Some(if component == "master" {
        resources_or(&spec.master.resources, ("100m", "1"), ("128Mi", "512Mi"))
    } else {
        resources_or(&spec.workers.resources, ("500m", "2"), ("512Mi", "2Gi"))
    });
    // master and workers serve /healthz and /metrics on the same port (the workers with
    // FF_METRICS_LISTEN, see `freelanceflow worker --help`)
    serve_http(&mut c);
    let mut meta = owner.meta(String::new(), component);
    meta.name = None;
    meta.namespace = None;
    meta.owner_references = None;
    meta.annotations = Some(BTreeMap::from([(
        CONFIG_HASH_ANNOTATION.to_string(),
        revision.hash.clone(),
    )]));
    PodTemplateSpec {
        metadata: Some(meta),
        spec: Some(PodSpec {
            containers: vec![c],
            volumes: Some(vec![url_volume]),
            security_context: Some(restricted_pod(65532)),
            automount_service_account_token: Some(false),
            termination_grace_period_seconds: Some(30),
            ..PodSpec::default()
        }),
    }
}

/// Every child of a `ProcessingCluster`, for the given revision (the spec's, or the last good one
/// during a rollback).
pub fn build(
    owner: &Owner,
    spec: &ProcessingClusterSpec,
    resolved: &Resolved,
    revision: &Revision,
) -> Children {
    let config = ConfigMap {
        metadata: owner.meta(config_name(&owner.name), "config"),
        data: Some(revision.settings.clone()),
        ..ConfigMap::default()
    };
    let master = Deployment {
        metadata: owner.meta(master_name(&owner.name), "master"),
        spec: Some(DeploymentSpec {
            // one master: partition ownership and T3 must never run twice
            replicas: Some(1),
            strategy: Some(DeploymentStrategy {
                type_: Some("Recreate".into()),
                rolling_update: None,
            }),
            selector: LabelSelector {
                match_labels: Some(owner.selector("master")),
                match_expressions: None,
            },
            template: pod(owner, "master", revision, spec, &resolved.database_url),
            progress_deadline_seconds: Some(spec.progress_deadline_seconds),
            revision_history_limit: Some(5),
            ..DeploymentSpec::default()
        }),
        status: None,
    };
    let master_service = Service {
        metadata: owner.meta(master_name(&owner.name), "master"),
        spec: Some(ServiceSpec {
            selector: Some(owner.selector("master")),
            ports: Some(vec![http_service_port(HTTP_PORT)]),
            ..ServiceSpec::default()
        }),
        status: None,
    };
    let workers_service_name = format!("{}-workers", owner.name);
    let workers = StatefulSet {
        metadata: owner.meta(workers_name(&owner.name), "worker"),
        spec: Some(StatefulSetSpec {
            replicas: Some(spec.workers.replicas),
            service_name: Some(workers_service_name.clone()),
            // workers are independent: start and replace them all at once
            pod_management_policy: Some("Parallel".into()),
            update_strategy: Some(StatefulSetUpdateStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: None,
            }),
            selector: LabelSelector {
                match_labels: Some(owner.selector("worker")),
                match_expressions: None,
            },
            template: pod(owner, "worker", revision, spec, &resolved.database_url),
            revision_history_limit: Some(5),
            ..StatefulSetSpec::default()
        }),
        status: None,
    };
    let workers_service = Service {
        metadata: owner.meta(workers_service_name, "worker"),
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".into()),
            selector: Some(owner.selector("worker")),
            // named, so a ServiceMonitor finds the workers' /metrics
            ports: Some(vec![http_service_port(HTTP_PORT)]),
            ..ServiceSpec::default()
        }),
        status: None,
    };
    let budget = PodDisruptionBudget {
        metadata: owner.meta(workers_name(&owner.name), "worker"),
        spec: Some(PodDisruptionBudgetSpec {
            // a drain takes one worker at a time; its partitions move to the others meanwhile
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(LabelSelector {
                match_labels: Some(owner.selector("worker")),
                match_expressions: None,
            }),
            ..PodDisruptionBudgetSpec::default()
        }),
        status: None,
    };
    Children {
        config,
        master,
        master_service,
        workers,
        workers_service,
        budget,
    }
}

/// Where a rollout stands, from the status and what the children report.
#[derive(Clone, Debug, PartialEq)]
pub enum Rollout {
    /// The applied revision is ready: it becomes the last good one.
    Ready,
    /// Still rolling out, within the deadline.
    Progressing { since: jiff::Timestamp },
    /// Not ready within the deadline and a last good revision exists: roll back to it.
    RollBack { failed: String, to: Revision },
    /// Not ready within the deadline and nothing to roll back to.
    Stuck { since: jiff::Timestamp },
    /// The spec's revision failed before; the last good revision is running instead.
    RolledBack { failed: String },
}

/// The revision to apply: the spec's, unless it already failed its rollout and a last good revision
/// exists.
pub fn revision_to_apply(wanted: &Revision, status: &ff_crds::ProcessingClusterStatus) -> Revision {
    match (&status.failed_revision, &status.last_good_revision) {
        (Some(failed), Some(good)) if *failed == wanted.hash => good.clone(),
        _ => wanted.clone(),
    }
}

/// Decides the rollout step. `started` is when the applied revision's rollout began (None: it just
/// started now).
pub fn rollout(
    wanted: &Revision,
    applied: &Revision,
    ready: bool,
    started: Option<jiff::Timestamp>,
    last_good: Option<&Revision>,
    deadline_seconds: i32,
    now: jiff::Timestamp,
) -> Rollout {
    if applied.hash != wanted.hash {
        return Rollout::RolledBack {
            failed: wanted.hash.clone(),
        };
    }
    if ready {
        return Rollout::Ready;
    }
    let since = started.unwrap_or(now);
    if now.duration_since(since).as_secs() < i64::from(deadline_seconds) {
        return Rollout::Progressing { since };
    }
    match last_good {
        Some(good) if good.hash != applied.hash => Rollout::RollBack {
            failed: applied.hash.clone(),
            to: good.clone(),
        },
        _ => Rollout::Stuck { since },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builders::testing::owner;

    fn spec() -> ProcessingClusterSpec {
        serde_json::from_value(serde_json::json!({
            "image": "ghcr.io/freelanceflow/freelanceflow:0.1.0",
            "bootstrapServers": "kafka:9092",
            "warehouseRef": {"name": "warehouse"},
        }))
        .unwrap()
    }

    fn resolved() -> Resolved {
        Resolved {
            profils: "profils".into(),
            factures: "factures".into(),
            partitions: 2,
            database_url: SecretKeyRef {
                name: "warehouse-credentials".into(),
                key: "url".into(),
            },
        }
    }

    #[test]
    fn the_original_design_validates_to_the_range_partitioner() {
        assert_eq!(validate(&spec(), 2).unwrap(), "range:500,1000");
        let err = validate(&spec(), 3).unwrap_err();
        assert!(
            err.contains("2 id ranges for topics of 3 partitions"),
            "{err}"
        );
        let mut gap = spec();
        gap.partitioning.ranges[1].from = 502;
        assert!(validate(&gap, 2)
            .unwrap_err()
            .contains("should start at 501"));
        let mut bad = spec();
        bad.settings.insert("FF_DATABASE_URL".into(), "x".into());
        assert!(validate(&bad, 2)
            .unwrap_err()
            .contains("set by the operator"));
        let mut many = spec();
        many.workers.replicas = 3;
        assert!(validate(&many, 2)
            .unwrap_err()
            .contains("3 workers for 2 partitions"));
    }

    #[test]
    fn a_settings_change_changes_the_pod_template_hash() {
        let o = owner("ProcessingCluster", "pipeline");
        let s = spec();
        let rev = revision(&s.image, settings(&o, &s, &resolved(), "range:500,1000"));
        let mut changed = s.clone();
        changed
            .settings
            .insert("FF_MAX_BATCH".into(), "5000".into());
        let rev2 = revision(
            &changed.image,
            settings(&o, &changed, &resolved(), "range:500,1000"),
        );
        assert_ne!(rev.hash, rev2.hash);
        let a = build(&o, &s, &resolved(), &rev);
        let b = build(&o, &changed, &resolved(), &rev2);
        let hash = |d: &Children| {
            d.workers
                .spec
                .as_ref()
                .unwrap()
                .template
                .metadata
                .as_ref()
                .unwrap()
                .annotations
                .as_ref()
                .unwrap()[CONFIG_HASH_ANNOTATION]
                .clone()
        };
        assert_eq!(hash(&a), rev.hash);
        assert_eq!(hash(&b), rev2.hash);
        assert_eq!(b.config.data.as_ref().unwrap()["FF_MAX_BATCH"], "5000");
    }

    #[test]
    fn rollout_decisions() {
        let t = |s| jiff::Timestamp::from_second(s).unwrap();
        let good = revision("img:1", BTreeMap::new());
        let new = revision("img:2", BTreeMap::new());
        assert_eq!(
            rollout(&new, &new, true, Some(t(0)), Some(&good), 600, t(10)),
            Rollout::Ready
        );
        assert_eq!(
            rollout(&new, &new, false, None, Some(&good), 600, t(10)),
            Rollout::Progressing { since: t(10) }
        );
        assert_eq!(
            rollout(&new, &new, false, Some(t(0)), Some(&good), 600, t(599)),
            Rollout::Progressing { since: t(0) }
        );
        assert_eq!(
            rollout(&new, &new, false, Some(t(0)), Some(&good), 600, t(600)),
            Rollout::RollBack {
                failed: new.hash.clone(),
                to: good.clone()
            }
        );
        assert_eq!(
            rollout(&new, &new, false, Some(t(0)), None, 600, t(601)),
            Rollout::Stuck { since: t(0) }
        );
        assert_eq!(
            rollout(&new, &good, true, None, Some(&good), 600, t(700)),
            Rollout::RolledBack {
                failed: new.hash.clone()
            }
        );

        let status = ff_crds::ProcessingClusterStatus {
            failed_revision: Some(new.hash.clone()),
            last_good_revision: Some(good.clone()),
            ..Default::default()
        };
        assert_eq!(revision_to_apply(&new, &status), good);
        let newer = revision("img:3", BTreeMap::new());
        assert_eq!(
            revision_to_apply(&newer, &status),
            newer,
            "a new spec is tried again"
        );
    }
}
