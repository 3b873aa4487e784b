//! `Ingestion` child: the loader CronJob.

use ff_crds::{IngestionSpec, SecretKeyRef};
use k8s_openapi::api::{
    batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec},
    core::v1::{
        ConfigMapEnvSource, EnvFromSource, PersistentVolumeClaimVolumeSource, PodSpec,
        PodTemplateSpec, Volume, VolumeMount,
    },
};

use super::{
    container, database_url_file, env, processing::config_name, resources_or, restricted_pod, Owner,
};

/// What the controller read from the referenced `ProcessingCluster`.
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    pub name: String,
    pub image: String,
    pub database_url: SecretKeyRef,
}

pub fn cronjob_name(owner: &str) -> String {
    format!("{owner}-loader")
}

pub fn build(owner: &Owner, spec: &IngestionSpec, cluster: &Cluster) -> CronJob {
    let image = spec.image.as_deref().unwrap_or(&cluster.image);
    let mut loader = container("loader", image, None);
    let input = format!("/data/{}", spec.source.path.trim_start_matches('/'));
    loader.args = Some(vec!["loader".into(), "--json".into()]);
    // the cluster's settings: brokers, topics, partitioner; so loader and workers always agree
    loader.env_from = Some(vec![EnvFromSource {
        config_map_ref: Some(ConfigMapEnvSource {
            name: config_name(&cluster.name),
            optional: Some(false),
        }),
        ..EnvFromSource::default()
    }]);
    let (url_volume, url_mount, url_env) = database_url_file(&cluster.database_url);
    loader.env = Some(vec![url_env, env("FF_INPUT", input.trim_end_matches('/'))]);
    loader.volume_mounts = Some(vec![
        VolumeMount {
            name: "input".into(),
            mount_path: "/data".into(),
            read_only: Some(true),
            ..VolumeMount::default()
        },
        url_mount,
    ]);
    loader.resources = Some(resources_or(
        &spec.resources,
        ("200m", "1"),
        ("128Mi", "1Gi"),
    ));
    let mut pod_meta = owner.meta(String::new(), "loader");
    (pod_meta.name, pod_meta.namespace, pod_meta.owner_references) = (None, None, None);
    CronJob {
        metadata: owner.meta(cronjob_name(&owner.name), "loader"),
        spec: CronJobSpec {
            schedule: spec.schedule.trim().to_string(),
            suspend: Some(spec.suspend),
            // two loads at once would publish the same new files twice before the ledger records them
            concurrency_policy: Some("Forbid".into()),
            starting_deadline_seconds: Some(3600),
            successful_jobs_history_limit: Some(3),
            failed_jobs_history_limit: Some(5),
            job_template: JobTemplateSpec {
                metadata: None,
                spec: Some(JobSpec {
                    backoff_limit: Some(3),
                    template: PodTemplateSpec {
                        metadata: Some(pod_meta),
                        spec: Some(PodSpec {
                            containers: vec![loader],
                            volumes: Some(vec![
                                Volume {
                                    name: "input".into(),
                                    persistent_volume_claim: Some(
                                        PersistentVolumeClaimVolumeSource {
                                            claim_name: spec.source.persistent_volume_claim.clone(),
                                            read_only: Some(true),
                                        },
                                    ),
                                    ..Volume::default()
                                },
                                url_volume,
                            ]),
                            restart_policy: Some("OnFailure".into()),
                            security_context: Some(restricted_pod(65532)),
                            automount_service_account_token: Some(false),
                            ..PodSpec::default()
                        }),
                    },
                    ..JobSpec::default()
                }),
            },
            ..CronJobSpec::default()
        },
        status: None,
    }
}
