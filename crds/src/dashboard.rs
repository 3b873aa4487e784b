//! `Dashboard`: the built-in web dashboards.

use k8s_openapi::api::core::v1::ResourceRequirements;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{impl_common_status, CommonStatus, LocalRef, SecretKeyRef};

/// The web dashboards (Financier, Ressources, Temps réel) and their JSON API: a Deployment and a
/// Service. Sessions read the warehouse with the read-only role.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "freelanceflow.io",
    version = "v1alpha1",
    kind = "Dashboard",
    namespaced,
    status = "DashboardStatus",
    shortname = "ffdash",
    category = "freelanceflow",
    printcolumn = r#"{"name":"Replicas","type":"integer","jsonPath":".spec.replicas"}"#,
    printcolumn = r#"{"name":"Available","type":"integer","jsonPath":".status.availableReplicas"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[x_kube(validation = Rule::new("has(self.usersSecret) || has(self.authHeader)")
    .message("set usersSecret (argon2 users file) or authHeader (trusted OIDC proxy header): the dashboards are never open"))]
#[serde(rename_all = "camelCase")]
pub struct DashboardSpec {
    /// The FreelanceFlow image (default: the processing cluster's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512))]
    pub image: Option<String>,
    /// The `ProcessingCluster` whose master and warehouse the dashboards show.
    pub processing_cluster_ref: LocalRef,
    #[serde(default = "default_replicas")]
    #[schemars(range(min = 0, max = 20))]
    pub replicas: i32,
    /// Secret key holding the users file (`freelanceflow dashboard-user` prints its lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users_secret: Option<SecretKeyRef>,
    /// Trust this request header as the user name (set by an OIDC proxy in front).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128), regex(pattern = r"^[A-Za-z0-9-]+$"))]
    pub auth_header: Option<String>,
    #[serde(default)]
    pub service_type: ServiceType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
}

fn default_replicas() -> i32 {
    1
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum ServiceType {
    #[default]
    ClusterIP,
    NodePort,
    LoadBalancer,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DashboardStatus {
    #[serde(flatten)]
    pub common: CommonStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_replicas: Option<i32>,
    /// In-cluster URL of the dashboards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl_common_status!(DashboardStatus);
