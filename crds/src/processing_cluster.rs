//! `ProcessingCluster`: the master and the workers.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ResourceRequirements;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{impl_common_status, CommonStatus, LocalRef};

/// The processing cluster: a master (Deployment + Service) and N workers (StatefulSet with stable
/// ordinals: worker i owns partition i), a PodDisruptionBudget and a ConfigMap. A hash of the rendered
/// configuration on the pod templates rolls the pods when it changes. A rollout that is not ready
/// within `progressDeadlineSeconds` is rolled back to the last good revision.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "freelanceflow.io",
    version = "v1alpha1",
    kind = "ProcessingCluster",
    namespaced,
    status = "ProcessingClusterStatus",
    shortname = "pc",
    category = "freelanceflow",
    printcolumn = r#"{"name":"Workers","type":"integer","jsonPath":".spec.workers.replicas"}"#,
    printcolumn = r#"{"name":"Ready Workers","type":"integer","jsonPath":".status.readyWorkers"}"#,
    printcolumn = r#"{"name":"Partitioning","type":"string","jsonPath":".spec.partitioning.strategy"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason","priority":1}"#,
    printcolumn = r#"{"name":"Image","type":"string","jsonPath":".spec.image","priority":1}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[x_kube(validation = Rule::new(
    "self.partitioning.strategy == 'Hash' || size(self.partitioning.ranges) == self.workers.replicas"
).message("with range partitioning there is one range per worker (worker i owns partition i)"))]
#[serde(rename_all = "camelCase")]
pub struct ProcessingClusterSpec {
    /// The FreelanceFlow image (one binary with the `master` and `worker` subcommands).
    #[schemars(length(min = 1, max = 512))]
    pub image: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<PullPolicy>,
    /// Kafka bootstrap servers, `host:port[,host:port...]`.
    #[schemars(length(min = 1, max = 1024))]
    pub bootstrap_servers: String,
    /// The `KafkaTopic` resources (same namespace) the pipeline reads.
    #[serde(default)]
    pub topics: Topics,
    /// The `Warehouse` (same namespace) the results land in.
    pub warehouse_ref: LocalRef,
    #[serde(default)]
    pub master: MasterSpec,
    #[serde(default)]
    pub workers: WorkersSpec,
    #[serde(default)]
    pub partitioning: Partitioning,
    /// Seconds a rollout may take to become ready before it is rolled back to the last good revision.
    #[serde(default = "default_progress_deadline")]
    #[schemars(range(min = 30, max = 86400))]
    pub progress_deadline_seconds: i32,
    /// Extra `FF_*` settings for master and workers (e.g. `FF_MAX_BATCH`), see `freelanceflow --help`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("maxProperties" = 32))]
    pub settings: BTreeMap<String, String>,
}

fn default_progress_deadline() -> i32 {
    600
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Topics {
    /// `KafkaTopic` of the profiles.
    #[schemars(length(min = 1, max = 253))]
    pub profils: String,
    /// `KafkaTopic` of the invoices.
    #[schemars(length(min = 1, max = 253))]
    pub factures: String,
    /// Kafka topic of the records the loader could not parse.
    #[serde(default = "default_dead_letters")]
    #[schemars(length(min = 1, max = 249))]
    pub dead_letters: String,
}

fn default_dead_letters() -> String {
    "freelanceflow-dlq".into()
}

impl Default for Topics {
    fn default() -> Self {
        Topics {
            profils: "profils".into(),
            factures: "factures".into(),
            dead_letters: default_dead_letters(),
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MasterSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkersSpec {
    /// Number of workers (default 2).
    #[serde(default = "default_workers")]
    #[schemars(range(min = 1, max = 64))]
    pub replicas: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
}

fn default_workers() -> i32 {
    2
}

impl Default for WorkersSpec {
    fn default() -> Self {
        WorkersSpec {
            replicas: default_workers(),
            resources: None,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, JsonSchema)]
pub enum PartitioningStrategy {
    /// Contiguous freelancer id ranges, one per partition.
    #[default]
    Range,
    /// Kafka's murmur2 hash of the freelancer id.
    Hash,
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Partitioning {
    #[serde(default)]
    pub strategy: PartitioningStrategy,
    /// Freelancer id ranges (inclusive), partition i = range i; ids above the last range go to the last
    /// partition. Default 1-500, 501-1000.
    #[serde(default = "default_ranges")]
    #[schemars(length(max = 64))]
    #[x_kube(
        validation = Rule::new("self.all(r, r.from <= r.to)").message("every range has from <= to"),
        validation = Rule::new("size(self) == 0 || self[0].from == 1").message("the first range starts at id 1"),
        validation = Rule::new("self.all(a, self.all(b, a == b || a.to < b.from || b.to < a.from))")
            .message("ranges must not overlap")
    )]
    pub ranges: Vec<IdRange>,
}

fn default_ranges() -> Vec<IdRange> {
    vec![
        IdRange { from: 1, to: 500 },
        IdRange {
            from: 501,
            to: 1000,
        },
    ]
}

impl Default for Partitioning {
    fn default() -> Self {
        Partitioning {
            strategy: PartitioningStrategy::Range,
            ranges: default_ranges(),
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub struct IdRange {
    #[schemars(range(min = 1))]
    pub from: i64,
    #[schemars(range(min = 1))]
    pub to: i64,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProcessingClusterStatus {
    #[serde(flatten)]
    pub common: CommonStatus,
    /// Workers ready on the current revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_workers: Option<i32>,
    /// The revision being rolled out (a hash of image and configuration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_revision: Option<String>,
    /// When the current revision's rollout started (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout_started_at: Option<String>,
    /// The last revision that became ready, kept to roll back to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_good_revision: Option<Revision>,
    /// A revision that did not become ready in time; it is not retried until the spec changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_revision: Option<String>,
}

/// What a rollback restores: the image and the rendered settings.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    pub hash: String,
    pub image: String,
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
}

impl_common_status!(ProcessingClusterStatus);
