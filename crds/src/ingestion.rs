//! `Ingestion`: the loader, on a schedule.

use k8s_openapi::api::core::v1::ResourceRequirements;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{impl_common_status, CommonStatus, LocalRef};

/// The loader as a CronJob (daily by default): it publishes the profile and invoice files of a volume
/// to the topics of a `ProcessingCluster`, with its partitioning, and records loaded files in its
/// warehouse (a file is published once).
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "freelanceflow.io",
    version = "v1alpha1",
    kind = "Ingestion",
    namespaced,
    status = "IngestionStatus",
    shortname = "ing",
    category = "freelanceflow",
    printcolumn = r#"{"name":"Schedule","type":"string","jsonPath":".spec.schedule"}"#,
    printcolumn = r#"{"name":"Suspended","type":"boolean","jsonPath":".spec.suspend"}"#,
    printcolumn = r#"{"name":"Last Run","type":"date","jsonPath":".status.lastScheduleTime"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct IngestionSpec {
    /// The FreelanceFlow image (default: the processing cluster's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512))]
    pub image: Option<String>,
    /// The `ProcessingCluster` whose topics, partitioning and warehouse the loader uses.
    pub processing_cluster_ref: LocalRef,
    /// Cron schedule (default: every day at 01:00).
    #[serde(default = "default_schedule")]
    #[schemars(length(min = 9, max = 64))]
    #[x_kube(validation = Rule::new("self.split(' ').filter(f, f != '').size() == 5 || self.startsWith('@')")
        .message("schedule is a cron expression with 5 fields, e.g. '0 1 * * *', or a macro such as @daily"))]
    pub schedule: String,
    /// Stop scheduling new loads.
    #[serde(default)]
    pub suspend: bool,
    /// Where the files are.
    pub source: IngestionSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
}

fn default_schedule() -> String {
    "0 1 * * *".into()
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngestionSource {
    /// PersistentVolumeClaim holding the input files (mounted read-only).
    #[schemars(length(min = 1, max = 253))]
    pub persistent_volume_claim: String,
    /// Folder inside the volume (default: its root).
    #[serde(default)]
    #[schemars(length(max = 1024), regex(pattern = r"^[^.][^:]*$"))]
    pub path: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngestionStatus {
    #[serde(flatten)]
    pub common: CommonStatus,
    /// When the CronJob last started a load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_schedule_time: Option<String>,
    /// When a load last succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_successful_time: Option<String>,
}

impl_common_status!(IngestionStatus);
