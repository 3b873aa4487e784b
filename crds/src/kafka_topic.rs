//! `KafkaTopic`: a topic reconciled through the Kafka admin API.

use std::collections::BTreeMap;

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use crate::common::{impl_common_status, CommonStatus};

/// A Kafka topic: created, grown and configured through the Kafka admin API. Partitions can only grow
/// (a decrease is refused with reason `NotSupported`); the topic is deleted from Kafka only with
/// `deletionPolicy: Delete`.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "freelanceflow.io",
    version = "v1alpha1",
    kind = "KafkaTopic",
    namespaced,
    status = "KafkaTopicStatus",
    shortname = "kt",
    category = "freelanceflow",
    printcolumn = r#"{"name":"Topic","type":"string","jsonPath":".status.topicName"}"#,
    printcolumn = r#"{"name":"Partitions","type":"integer","jsonPath":".spec.partitions"}"#,
    printcolumn = r#"{"name":"Replication","type":"integer","jsonPath":".spec.replicationFactor"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason","priority":1}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[x_kube(
    validation = Rule::new("has(self.bootstrapServers) != has(self.bootstrapServersFrom)")
        .message("set exactly one of bootstrapServers and bootstrapServersFrom"),
    validation = Rule::new("has(self.topicName) == has(oldSelf.topicName)")
        .message("topicName cannot be added or removed after creation")
)]
#[serde(rename_all = "camelCase")]
pub struct KafkaTopicSpec {
    /// Name of the topic in Kafka (default: the resource's name). Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 249), regex(pattern = r"^[a-zA-Z0-9._-]+$"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("topicName is immutable"))]
    pub topic_name: Option<String>,
    /// Number of partitions. Can grow; a decrease is refused (Kafka cannot remove partitions).
    #[schemars(range(min = 1, max = 10000))]
    pub partitions: i32,
    /// Replicas of every partition. Immutable: changing it needs a partition reassignment.
    #[serde(default = "default_replication_factor")]
    #[schemars(range(min = 1, max = 32))]
    #[x_kube(validation = Rule::new("self == oldSelf").message(
        "replicationFactor is immutable: changing it needs a partition reassignment"
    ))]
    pub replication_factor: i32,
    /// Topic configuration (e.g. `retention.ms`, `cleanup.policy`), applied with the admin API.
    /// The operator refuses keys that are not Kafka setting names (reason `InvalidSpec`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("maxProperties" = 64))]
    pub config: BTreeMap<String, String>,
    /// Bootstrap servers, `host:port[,host:port...]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub bootstrap_servers: Option<String>,
    /// Or: the bootstrap servers read from a ConfigMap key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap_servers_from: Option<ConfigMapKeyRef>,
    /// `Retain` (default) keeps the Kafka topic and its data when this resource is deleted;
    /// `Delete` deletes the topic too.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
}

fn default_replication_factor() -> i32 {
    1
}

/// A key of a ConfigMap in the same namespace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMapKeyRef {
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}

#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum DeletionPolicy {
    #[default]
    Retain,
    Delete,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KafkaTopicStatus {
    #[serde(flatten)]
    pub common: CommonStatus,
    /// The topic's name in Kafka.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic_name: Option<String>,
    /// Partitions the topic has in Kafka.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partitions: Option<i32>,
}

impl_common_status!(KafkaTopicStatus);

impl KafkaTopic {
    /// The topic's name in Kafka.
    pub fn topic_name(&self) -> String {
        self.spec
            .topic_name
            .clone()
            .or_else(|| self.metadata.name.clone())
            .unwrap_or_default()
    }
}
