//! `Warehouse`: the PostgreSQL warehouse, managed by the operator or external.

use k8s_openapi::api::core::v1::ResourceRequirements;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{impl_common_status, CommonStatus, SecretKeyRef};

/// The PostgreSQL warehouse (`freelances_db`): either managed (a PostgreSQL 15 StatefulSet with its
/// headless Service, generated credentials and a PVC, plus an optional `pg_dump` backup CronJob to
/// S3-compatible storage) or an external database given by a Secret. In both cases the operator
/// applies the project's migrations and reports the schema version.
#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[kube(
    group = "freelanceflow.io",
    version = "v1alpha1",
    kind = "Warehouse",
    namespaced,
    status = "WarehouseStatus",
    shortname = "wh",
    category = "freelanceflow",
    printcolumn = r#"{"name":"Mode","type":"string","jsonPath":".status.mode"}"#,
    printcolumn = r#"{"name":"Schema","type":"integer","jsonPath":".status.schemaVersion"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].reason","priority":1}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[x_kube(
    validation = Rule::new("has(self.managed) != has(self.external)")
        .message("set exactly one of managed and external"),
    validation = Rule::new("has(self.managed) == has(oldSelf.managed)")
        .message("a warehouse cannot switch between managed and external")
)]
#[serde(rename_all = "camelCase")]
pub struct WarehouseSpec {
    /// A PostgreSQL run by the operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed: Option<ManagedWarehouse>,
    /// Or an existing database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalWarehouse>,
    /// Database name (managed mode). Immutable.
    #[serde(default = "default_database")]
    #[schemars(length(min = 1, max = 63), regex(pattern = r"^[a-z_][a-z0-9_]*$"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("database is immutable"))]
    pub database: String,
}

fn default_database() -> String {
    "freelances_db".into()
}

#[derive(KubeSchema, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ManagedWarehouse {
    /// PostgreSQL 15 image.
    #[serde(default = "default_postgres_image")]
    #[schemars(length(min = 1, max = 512))]
    pub image: String,
    /// Size of the data volume. Immutable here (a StatefulSet's volume claim template cannot change):
    /// to grow the volume, edit the PersistentVolumeClaim `data-<name>-postgres-0` when the storage class
    /// allows expansion.
    #[serde(default = "default_storage_size")]
    #[schemars(length(min = 1, max = 32), regex(pattern = r"^[0-9]+(Mi|Gi|Ti)$"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message(
        "storageSize is immutable: expand the PersistentVolumeClaim data-<name>-postgres-0 instead"
    ))]
    pub storage_size: String,
    /// Storage class of the data volume (default: the cluster's default class). Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("storageClassName is immutable"))]
    pub storage_class_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
    /// Daily `pg_dump` to S3-compatible storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<Backup>,
}

fn default_postgres_image() -> String {
    "docker.io/library/postgres:15.10".into()
}

fn default_storage_size() -> String {
    "10Gi".into()
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Backup {
    /// Cron schedule of the dump (default: every day at 02:00).
    #[serde(default = "default_backup_schedule")]
    #[schemars(length(min = 9, max = 64))]
    pub schedule: String,
    /// S3 endpoint URL, e.g. `https://s3.eu-west-3.amazonaws.com` or a MinIO service.
    #[schemars(length(min = 1, max = 512), regex(pattern = r"^https?://"))]
    pub endpoint: String,
    #[schemars(length(min = 3, max = 63))]
    pub bucket: String,
    /// Key prefix of the dumps.
    #[serde(default = "default_backup_prefix")]
    #[schemars(length(max = 512))]
    pub prefix: String,
    /// Secret with `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`.
    #[schemars(length(min = 1, max = 253))]
    pub credentials_secret: String,
    /// Image with the `aws` CLI that uploads the dump.
    #[serde(default = "default_uploader_image")]
    #[schemars(length(min = 1, max = 512))]
    pub uploader_image: String,
}

fn default_backup_schedule() -> String {
    "0 2 * * *".into()
}

fn default_backup_prefix() -> String {
    "freelanceflow/".into()
}

fn default_uploader_image() -> String {
    "docker.io/amazon/aws-cli:2.22.35".into()
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalWarehouse {
    /// Secret key holding the PostgreSQL URL (`postgres://user:password@host:port/db`) of a role
    /// that may create tables.
    pub url_secret: SecretKeyRef,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WarehouseStatus {
    #[serde(flatten)]
    pub common: CommonStatus,
    /// `Managed` or `External`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The latest migration applied (see `migrations/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<i64>,
    /// Secret key with the database URL the pipeline uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_secret: Option<SecretKeyRef>,
    /// Secret of the read-only login (keys `username`, `password`, `address`, `database`) for Grafana.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reader_secret: Option<String>,
}

impl_common_status!(WarehouseStatus);
