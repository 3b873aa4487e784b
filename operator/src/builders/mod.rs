//! Pure builders: a validated spec (and what was dereferenced) in, the desired child objects out.
//! No client, no clock: golden-file tests pin their output (`tests/golden/`), and every output is
//! checked with `kubernetes-validate --strict` and `checkov` by `scripts/check-k8s.sh`.

pub mod dashboard;
pub mod ingestion;
pub mod monitoring;
pub mod processing;
pub mod warehouse;

use std::collections::BTreeMap;

use k8s_openapi::{
    api::core::v1::{
        Capabilities, Container, EnvVar, EnvVarSource, KeyToPath, ObjectFieldSelector,
        PodSecurityContext, ResourceRequirements, SeccompProfile, Secret, SecretKeySelector,
        SecretVolumeSource, SecurityContext, Volume, VolumeMount,
    },
    apimachinery::pkg::{
        api::resource::Quantity,
        apis::meta::v1::{ObjectMeta, OwnerReference},
    },
};
use k8s_openapi::{
    api::core::v1::{ContainerPort, HTTPGetAction, Probe, ServicePort},
    apimachinery::pkg::util::intstr::IntOrString,
    ByteString,
};
use sha2::{Digest, Sha256};

pub const FIELD_MANAGER: &str = "freelanceflow-operator";
/// Pod template annotation: a hash of the rendered configuration, so a change rolls the pods.
pub const CONFIG_HASH_ANNOTATION: &str = "freelanceflow.io/config-hash";
/// The port every FreelanceFlow HTTP server listens on in a pod.
pub const HTTP_PORT: i32 = 8080;

/// Who the children belong to: name, namespace and the owner reference to set on each.
#[derive(Clone, Debug, PartialEq)]
pub struct Owner {
    pub name: String,
    pub namespace: String,
    pub reference: OwnerReference,
}

impl Owner {
    /// Metadata of a child: name, namespace, owner reference, the standard labels.
    pub fn meta(&self, name: impl Into<String>, component: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: Some(self.namespace.clone()),
            owner_references: Some(vec![self.reference.clone()]),
            labels: Some(self.labels(component)),
            ..ObjectMeta::default()
        }
    }

    /// The labels of a component's objects and pods.
    pub fn labels(&self, component: &str) -> BTreeMap<String, String> {
        let mut labels = self.selector(component);
        labels.insert("app.kubernetes.io/part-of".into(), "freelanceflow".into());
        labels.insert("app.kubernetes.io/managed-by".into(), FIELD_MANAGER.into());
        labels
    }

    /// The stable subset used in selectors (immutable on Deployments and StatefulSets).
    pub fn selector(&self, component: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            (
                "app.kubernetes.io/name".to_string(),
                "freelanceflow".to_string(),
            ),
            ("app.kubernetes.io/instance".to_string(), self.name.clone()),
            (
                "app.kubernetes.io/component".to_string(),
                component.to_string(),
            ),
        ])
    }
}

/// An Opaque Secret owned by `owner`, from text values.
pub fn opaque_secret(
    owner: &Owner,
    name: impl Into<String>,
    component: &str,
    data: BTreeMap<String, String>,
) -> Secret {
    Secret {
        metadata: owner.meta(name, component),
        type_: Some("Opaque".into()),
        data: Some(
            data.into_iter()
                .map(|(k, v)| (k, ByteString(v.into_bytes())))
                .collect(),
        ),
        ..Secret::default()
    }
}

/// A short, stable hash of anything serializable (config hashes, revisions).
pub fn hash_of<T: serde::Serialize>(value: &T) -> String {
    let bytes = serde_json::to_vec(value).expect("serializable");
    hex::encode(&Sha256::digest(bytes)[..8])
}

/// The security context of every container the operator runs: non-root, read-only root filesystem,
/// no privilege escalation, no capabilities.
pub fn restricted_container() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            add: None,
        }),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            localhost_profile: None,
        }),
        ..SecurityContext::default()
    }
}

pub fn restricted_pod(uid: i64) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(uid),
        run_as_group: Some(uid),
        fs_group: Some(uid),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            localhost_profile: None,
        }),
        ..PodSecurityContext::default()
    }
}

/// `resources` if the spec gave some, else modest requests and limits (a limit is always set).
pub fn resources_or(
    spec: &Option<ResourceRequirements>,
    cpu: (&str, &str),
    memory: (&str, &str),
) -> ResourceRequirements {
    spec.clone().unwrap_or_else(|| ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_string(), Quantity(cpu.0.into())),
            ("memory".to_string(), Quantity(memory.0.into())),
        ])),
        limits: Some(BTreeMap::from([
            ("cpu".to_string(), Quantity(cpu.1.into())),
            ("memory".to_string(), Quantity(memory.1.into())),
        ])),
        ..ResourceRequirements::default()
    })
}

pub fn env(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        value_from: None,
    }
}

/// Where the warehouse URL is mounted in the pipeline's pods (`FF_DATABASE_URL_FILE` points to it).
pub const DATABASE_URL_FILE: &str = "/etc/freelanceflow/warehouse/url";

/// Keys of a Secret mounted read-only as files in `dir` (secrets as files, not environment variables:
/// they do not show in `kubectl describe`, crash dumps or child processes).
pub fn secret_files(
    volume: &str,
    secret: &str,
    keys: &[(&str, &str)],
    dir: &str,
) -> (Volume, VolumeMount) {
    (
        Volume {
            name: volume.into(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(secret.into()),
                items: Some(
                    keys.iter()
                        .map(|(key, file)| KeyToPath {
                            key: (*key).into(),
                            path: (*file).into(),
                            mode: None,
                        })
                        .collect(),
                ),
                default_mode: Some(0o440),
                optional: Some(false),
            }),
            ..Volume::default()
        },
        VolumeMount {
            name: volume.into(),
            mount_path: dir.into(),
            read_only: Some(true),
            ..VolumeMount::default()
        },
    )
}

/// The warehouse URL of a pipeline pod: the Secret key as a file, and `FF_DATABASE_URL_FILE`.
pub fn database_url_file(db: &ff_crds::SecretKeyRef) -> (Volume, VolumeMount, EnvVar) {
    let (dir, file) = DATABASE_URL_FILE
        .rsplit_once('/')
        .expect("an absolute path");
    let (v, m) = secret_files("warehouse-url", &db.name, &[(&db.key, file)], dir);
    (v, m, env("FF_DATABASE_URL_FILE", DATABASE_URL_FILE))
}

pub fn env_from_secret(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: None,
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.into(),
                key: key.into(),
                optional: Some(false),
            }),
            ..EnvVarSource::default()
        }),
    }
}

pub fn env_from_field(name: &str, path: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: None,
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: path.into(),
                api_version: None,
            }),
            ..EnvVarSource::default()
        }),
    }
}

/// The FreelanceFlow HTTP port (`http`, 8080) of a container, with liveness and readiness probes on
/// `/healthz`.
pub fn serve_http(c: &mut Container) {
    c.ports = Some(vec![ContainerPort {
        name: Some("http".into()),
        container_port: HTTP_PORT,
        ..ContainerPort::default()
    }]);
    let probe = |period| Probe {
        http_get: Some(HTTPGetAction {
            path: Some("/healthz".into()),
            port: IntOrString::String("http".into()),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(period),
        ..Probe::default()
    };
    c.liveness_probe = Some(probe(20));
    c.readiness_probe = Some(probe(5));
}

/// The Service port `http` of the FreelanceFlow HTTP servers.
pub fn http_service_port(port: i32) -> ServicePort {
    ServicePort {
        name: Some("http".into()),
        port,
        target_port: Some(IntOrString::String("http".into())),
        ..ServicePort::default()
    }
}

/// A container with the restricted security context and the pull policy `Always` unless the spec says
/// otherwise (the registry checks the pull credentials at every start; layers stay cached on the node).
pub fn container(name: &str, image: &str, pull_policy: Option<&str>) -> Container {
    Container {
        name: name.into(),
        image: Some(image.into()),
        image_pull_policy: Some(pull_policy.unwrap_or("Always").into()),
        security_context: Some(restricted_container()),
        ..Container::default()
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    pub fn owner(kind: &str, name: &str) -> Owner {
        Owner {
            name: name.into(),
            namespace: "freelanceflow".into(),
            reference: OwnerReference {
                api_version: "freelanceflow.io/v1alpha1".into(),
                kind: kind.into(),
                name: name.into(),
                uid: "00000000-0000-0000-0000-000000000001".into(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            },
        }
    }
}
