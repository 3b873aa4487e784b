//! `MonitoringStack`: Prometheus, the alert rules and Grafana.

use k8s_openapi::api::core::v1::ResourceRequirements;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{impl_common_status, CommonStatus, LocalRef};

/// Monitoring of the pipeline: a Prometheus scraping every pipeline pod with the alert rules, and a
/// Grafana with the warehouse data source and the dashboards of `observability/` provisioned. When the
/// prometheus-operator CRDs are installed (mode `Auto`) the operator writes `ServiceMonitor` and
/// `PrometheusRule` objects instead of running its own Prometheus.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "freelanceflow.io",
    version = "v1alpha1",
    kind = "MonitoringStack",
    namespaced,
    status = "MonitoringStackStatus",
    shortname = "ffmon",
    category = "freelanceflow",
    printcolumn = r#"{"name":"Mode","type":"string","jsonPath":".status.mode"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct MonitoringStackSpec {
    #[serde(default)]
    pub mode: MonitoringMode,
    /// The `ProcessingCluster` whose warehouse Grafana reads.
    pub processing_cluster_ref: LocalRef,
    #[serde(default)]
    pub prometheus: PrometheusSpec,
    #[serde(default)]
    pub grafana: GrafanaSpec,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum MonitoringMode {
    /// `PrometheusOperator` when its CRDs are installed, `Builtin` otherwise.
    #[default]
    Auto,
    /// A Prometheus Deployment run by this operator.
    Builtin,
    /// `ServiceMonitor` and `PrometheusRule` objects for an existing prometheus-operator.
    PrometheusOperator,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrometheusSpec {
    #[serde(default = "default_prometheus_image")]
    #[schemars(length(min = 1, max = 512))]
    pub image: String,
    /// How long samples are kept.
    #[serde(default = "default_retention")]
    #[schemars(regex(pattern = r"^[0-9]+(h|d|w|y)$"))]
    pub retention: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
}

fn default_prometheus_image() -> String {
    "quay.io/prometheus/prometheus:v3.5.0".into()
}

fn default_retention() -> String {
    "15d".into()
}

impl Default for PrometheusSpec {
    fn default() -> Self {
        PrometheusSpec {
            image: default_prometheus_image(),
            retention: default_retention(),
            resources: None,
        }
    }
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GrafanaSpec {
    #[serde(default = "default_true")]
    pub enabled: bool,
    #[serde(default = "default_grafana_image")]
    #[schemars(length(min = 1, max = 512))]
    pub image: String,
    /// Secret with `admin-user` and `admin-password` (generated when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_secret: Option<LocalRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
}

fn default_true() -> bool {
    true
}

fn default_grafana_image() -> String {
    "docker.io/grafana/grafana:12.2.1".into()
}

impl Default for GrafanaSpec {
    fn default() -> Self {
        GrafanaSpec {
            enabled: true,
            image: default_grafana_image(),
            admin_secret: None,
            resources: None,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MonitoringStackStatus {
    #[serde(flatten)]
    pub common: CommonStatus,
    /// The mode in effect: `Builtin` or `PrometheusOperator`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

impl_common_status!(MonitoringStackStatus);
