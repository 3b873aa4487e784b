//! `Dashboard` children: the dashboards Deployment and its Service.

use ff_crds::{dashboard::ServiceType, DashboardSpec};
use k8s_openapi::{
    api::{
        apps::v1::{Deployment, DeploymentSpec},
        core::v1::{
            KeyToPath, PodSpec, PodTemplateSpec, SecretVolumeSource, Service, ServiceSpec, Volume,
            VolumeMount,
        },
    },
    apimachinery::pkg::apis::meta::v1::LabelSelector,
};

use super::{
    container, database_url_file, env, http_service_port, ingestion::Cluster, resources_or,
    restricted_pod, serve_http, Owner, HTTP_PORT,
};

pub struct Children {
    pub deployment: Deployment,
    pub service: Service,
}

impl Children {
    pub fn manifests(&self) -> Vec<serde_json::Value> {
        vec![
            serde_json::to_value(&self.deployment).unwrap(),
            serde_json::to_value(&self.service).unwrap(),
        ]
    }
}

pub fn build(owner: &Owner, spec: &DashboardSpec, cluster: &Cluster, master_url: &str) -> Children {
    let mut c = container(
        "dashboard",
        spec.image.as_deref().unwrap_or(&cluster.image),
        None,
    );
    c.args = Some(vec!["dashboard".into()]);
    let mut envs = vec![
        env("FF_DASHBOARD_LISTEN", format!("0.0.0.0:{HTTP_PORT}")),
        env("FF_MASTER_URL", master_url),
        env("FF_LOG_FORMAT", "json"),
    ];
    let (url_volume, url_mount, url_env) = database_url_file(&cluster.database_url);
    envs.push(url_env);
    let mut volumes = vec![url_volume];
    let mut mounts = vec![url_mount];
    if let Some(users) = &spec.users_secret {
        envs.push(env("FF_DASHBOARD_USERS", "/etc/freelanceflow/users/users"));
        volumes.push(Volume {
            name: "users".into(),
            secret: Some(SecretVolumeSource {
                secret_name: Some(users.name.clone()),
                items: Some(vec![KeyToPath {
                    key: users.key.clone(),
                    path: "users".into(),
                    mode: Some(0o440),
                }]),
                ..SecretVolumeSource::default()
            }),
            ..Volume::default()
        });
        mounts.push(VolumeMount {
            name: "users".into(),
            mount_path: "/etc/freelanceflow/users".into(),
            read_only: Some(true),
            ..VolumeMount::default()
        });
    }
    c.volume_mounts = Some(mounts);
    if let Some(header) = &spec.auth_header {
        envs.push(env("FF_DASHBOARD_AUTH_HEADER", header.clone()));
    }
    c.env = Some(envs);
    serve_http(&mut c);
    c.resources = Some(resources_or(
        &spec.resources,
        ("100m", "1"),
        ("128Mi", "512Mi"),
    ));
    let mut pod_meta = owner.meta(String::new(), "dashboard");
    (pod_meta.name, pod_meta.namespace, pod_meta.owner_references) = (None, None, None);
    let deployment = Deployment {
        metadata: owner.meta(format!("{}-dashboard", owner.name), "dashboard"),
        spec: Some(DeploymentSpec {
            replicas: Some(spec.replicas),
            selector: LabelSelector {
                match_labels: Some(owner.selector("dashboard")),
                match_expressions: None,
            },
            template: PodTemplateSpec {
                metadata: Some(pod_meta),
                spec: Some(PodSpec {
                    containers: vec![c],
                    volumes: Some(volumes),
                    security_context: Some(restricted_pod(65532)),
                    automount_service_account_token: Some(false),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        status: None,
    };
    let service = Service {
        metadata: owner.meta(format!("{}-dashboard", owner.name), "dashboard"),
        spec: Some(ServiceSpec {
            type_: Some(
                match spec.service_type {
                    ServiceType::ClusterIP => "ClusterIP",
                    ServiceType::NodePort => "NodePort",
                    ServiceType::LoadBalancer => "LoadBalancer",
                }
                .into(),
            ),
            selector: Some(owner.selector("dashboard")),
            ports: Some(vec![http_service_port(80)]),
            ..ServiceSpec::default()
        }),
        status: None,
    };
    Children {
        deployment,
        service,
    }
}
