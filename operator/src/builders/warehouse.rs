//! `Warehouse` children (managed mode): credentials Secret, headless Service, PostgreSQL 15 StatefulSet
//! with its volume claim, and the `pg_dump` backup CronJob.

use std::collections::BTreeMap;

use ff_crds::warehouse::ManagedWarehouse;
use k8s_openapi::{
    api::{
        apps::v1::{StatefulSet, StatefulSetSpec},
        batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec},
        core::v1::{
            EmptyDirVolumeSource, ExecAction, PersistentVolumeClaim, PersistentVolumeClaimSpec,
            PodSpec, PodTemplateSpec, Probe, Secret, Service, ServicePort, ServiceSpec, Volume,
            VolumeMount, VolumeResourceRequirements,
        },
    },
    apimachinery::pkg::{
        api::resource::Quantity,
        apis::meta::v1::{LabelSelector, ObjectMeta},
    },
};

use super::{container, env, opaque_secret, resources_or, restricted_pod, secret_files, Owner};

pub const POSTGRES_PORT: i32 = 5432;
/// The login role of the pipeline in a managed warehouse (the owner of the database).
pub const USER: &str = "freelanceflow";
/// A high uid for PostgreSQL: the official images run under any uid (their entrypoint provides the
/// passwd entry) as long as the data folder is writable, which fsGroup ensures.
const POSTGRES_UID: i64 = 10999;

/// Where the PostgreSQL password is mounted in the warehouse and backup pods.
const CREDENTIALS_DIR: &str = "/etc/postgres/credentials";

pub fn credentials_name(owner: &str) -> String {
    format!("{owner}-credentials")
}

pub fn service_name(owner: &str) -> String {
    format!("{owner}-postgres")
}

pub fn host(owner: &Owner) -> String {
    format!("{}.{}.svc", service_name(&owner.name), owner.namespace)
}

/// The credentials Secret: the password is generated once by the controller and kept afterwards.
pub fn credentials(owner: &Owner, database: &str, password: &str) -> Secret {
    let host = host(owner);
    let data = BTreeMap::from([
        ("username".to_string(), USER.to_string()),
        ("password".to_string(), password.to_string()),
        ("database".to_string(), database.to_string()),
        ("host".to_string(), host.clone()),
        ("port".to_string(), POSTGRES_PORT.to_string()),
        (
            "url".to_string(),
            format!("postgres://{USER}:{password}@{host}:{POSTGRES_PORT}/{database}"),
        ),
    ]);
    opaque_secret(owner, credentials_name(&owner.name), "warehouse", data)
}

pub struct Children {
    pub service: Service,
    pub postgres: StatefulSet,
    pub backup: Option<CronJob>,
}

impl Children {
    pub fn manifests(&self) -> Vec<serde_json::Value> {
        let mut out = vec![
            serde_json::to_value(&self.service),
            serde_json::to_value(&self.postgres),
        ];
        out.extend(self.backup.iter().map(serde_json::to_value));
        out.into_iter().map(|v| v.expect("serializable")).collect()
    }
}

fn scratch(name: &str, path: &str) -> (Volume, VolumeMount) {
    (
        Volume {
            name: name.into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Volume::default()
        },
        VolumeMount {
            name: name.into(),
            mount_path: path.into(),
            ..VolumeMount::default()
        },
    )
}

pub fn build(owner: &Owner, spec: &ManagedWarehouse, database: &str) -> Children {
    let secret = credentials_name(&owner.name);
    let service = Service {
        metadata: owner.meta(service_name(&owner.name), "warehouse"),
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".into()),
            selector: Some(owner.selector("warehouse")),
            ports: Some(vec![ServicePort {
                name: Some("postgres".into()),
                port: POSTGRES_PORT,
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        status: None,
    };
    let ready = Probe {
        exec: Some(ExecAction {
            command: Some(vec![
                "pg_isready".into(),
                "-U".into(),
                USER.into(),
                "-d".into(),
                database.into(),
            ]),
        }),
        period_seconds: Some(10),
        ..Probe::default()
    };
    let (run_vol, run_mount) = scratch("run", "/var/run/postgresql");
    let (tmp_vol, tmp_mount) = scratch("tmp", "/tmp");
    let mut pg = container("postgres", &spec.image, None);
    // the password as a file (the image's POSTGRES_PASSWORD_FILE), never in the environment
    let (cred_vol, cred_mount) = secret_files(
        "credentials",
        &secret,
        &[("password", "password")],
        CREDENTIALS_DIR,
    );
    pg.env = Some(vec![
        env("POSTGRES_USER", USER),
        env(
            "POSTGRES_PASSWORD_FILE",
            format!("{CREDENTIALS_DIR}/password"),
        ),
        env("POSTGRES_DB", database),
        env("PGDATA", "/var/lib/postgresql/data/pgdata"),
    ]);
    pg.ports = Some(vec![k8s_openapi::api::core::v1::ContainerPort {
        name: Some("postgres".into()),
        container_port: POSTGRES_PORT,
        ..Default::default()
    }]);
    pg.readiness_probe = Some(ready.clone());
    pg.liveness_probe = Some(Probe {
        period_seconds: Some(30),
        failure_threshold: Some(6),
        ..ready
    });
    pg.resources = Some(resources_or(
        &spec.resources,
        ("250m", "2"),
        ("512Mi", "2Gi"),
    ));
    pg.volume_mounts = Some(vec![
        VolumeMount {
            name: "data".into(),
            mount_path: "/var/lib/postgresql/data".into(),
            ..VolumeMount::default()
        },
        run_mount,
        tmp_mount,
        cred_mount.clone(),
    ]);
    let mut pod_meta = owner.meta(String::new(), "warehouse");
    (pod_meta.name, pod_meta.namespace, pod_meta.owner_references) = (None, None, None);
    let claim = PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some("data".into()),
            labels: Some(owner.labels("warehouse")),
            ..ObjectMeta::default()
        },
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            storage_class_name: spec.storage_class_name.clone(),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_string(),
                    Quantity(spec.storage_size.clone()),
                )])),
                limits: None,
            }),
            ..PersistentVolumeClaimSpec::default()
        }),
        status: None,
    };
    let postgres = StatefulSet {
        metadata: owner.meta(service_name(&owner.name), "warehouse"),
        spec: Some(StatefulSetSpec {
            replicas: Some(1),
            service_name: Some(service_name(&owner.name)),
            selector: LabelSelector {
                match_labels: Some(owner.selector("warehouse")),
                match_expressions: None,
            },
            template: PodTemplateSpec {
                metadata: Some(pod_meta.clone()),
                spec: Some(PodSpec {
                    containers: vec![pg],
                    volumes: Some(vec![run_vol, tmp_vol, cred_vol.clone()]),
                    security_context: Some(restricted_pod(POSTGRES_UID)),
                    automount_service_account_token: Some(false),
                    termination_grace_period_seconds: Some(60),
                    ..PodSpec::default()
                }),
            },
            volume_claim_templates: Some(vec![claim]),
            // deleting the Warehouse keeps the data volume: deleting data is a human decision
            persistent_volume_claim_retention_policy: None,
            ..StatefulSetSpec::default()
        }),
        status: None,
    };
    let backup = spec.backup.as_ref().map(|b| {
        let (dump_vol, dump_mount) = scratch("dump", "/backup");
        let mut dump = container("pg-dump", &spec.image, None);
        dump.command = Some(vec!["/bin/sh".into(), "-c".into()]);
        dump.args = Some(vec![format!(
            "PGPASSWORD=\"$(cat {CREDENTIALS_DIR}/password)\" exec pg_dump --format=custom --file=/backup/warehouse.dump"
        )]);
        dump.env = Some(vec![env("PGDATABASE", database), env("PGHOST", host(owner)), env("PGUSER", USER)]);
        dump.volume_mounts = Some(vec![dump_mount.clone(), cred_mount.clone()]);
        dump.resources = Some(resources_or(&None, ("100m", "1"), ("128Mi", "512Mi")));
        let mut upload = container("upload", &b.uploader_image, None);
        upload.command = Some(vec!["/bin/sh".into(), "-c".into()]);
        // the S3 keys are read from files into the upload's own environment only
        upload.args = Some(vec![
            "AWS_ACCESS_KEY_ID=\"$(cat /etc/s3/AWS_ACCESS_KEY_ID)\" AWS_SECRET_ACCESS_KEY=\"$(cat /etc/s3/AWS_SECRET_ACCESS_KEY)\" \
             exec aws s3 cp /backup/warehouse.dump \"s3://$BUCKET/${PREFIX}$(date -u +%Y%m%dT%H%M%SZ).dump\" --endpoint-url \"$ENDPOINT\""
                .into(),
        ]);
        upload.env = Some(vec![
            env("BUCKET", b.bucket.clone()),
            env("ENDPOINT", b.endpoint.clone()),
            env("HOME", "/tmp"),
            env("PREFIX", b.prefix.clone()),
        ]);
        let (utmp_vol, utmp_mount) = scratch("upload-tmp", "/tmp");
        let (s3_vol, s3_mount) = secret_files(
            "s3-credentials",
            &b.credentials_secret,
            &[("AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"), ("AWS_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY")],
            "/etc/s3",
        );
        upload.volume_mounts = Some(vec![VolumeMount { read_only: Some(true), ..dump_mount }, utmp_mount, s3_mount]);
        upload.resources = Some(resources_or(&None, ("100m", "1"), ("128Mi", "512Mi")));
        CronJob {
            metadata: owner.meta(format!("{}-backup", owner.name), "backup"),
            spec: CronJobSpec {
                schedule: b.schedule.clone(),
                concurrency_policy: Some("Forbid".into()),
                successful_jobs_history_limit: Some(3),
                failed_jobs_history_limit: Some(3),
                job_template: JobTemplateSpec {
                    metadata: None,
                    spec: Some(JobSpec {
                        backoff_limit: Some(2),
                        template: PodTemplateSpec {
                            metadata: Some({
                                let mut m = pod_meta.clone();
                                m.labels = Some(owner.labels("backup"));
                                m
                            }),
                            spec: Some(PodSpec {
                                // dump first, then upload: the dump runs as an init container
                                init_containers: Some(vec![dump]),
                                containers: vec![upload],
                                volumes: Some(vec![dump_vol, utmp_vol, cred_vol.clone(), s3_vol]),
                                restart_policy: Some("OnFailure".into()),
                                security_context: Some(restricted_pod(POSTGRES_UID)),
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
    });
    Children {
        service,
        postgres,
        backup,
    }
}
