//! Types shared by every kind: the status every resource reports, references, condition names.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub const GROUP: &str = "freelanceflow.io";
pub const VERSION: &str = "v1alpha1";
/// Set to `"true"` on any resource: the operator stops changing its children but keeps its status current.
pub const PAUSED_ANNOTATION: &str = "freelanceflow.io/paused";

/// The standard condition types every kind reports.
pub mod condition {
    pub const READY: &str = "Ready";
    pub const PROGRESSING: &str = "Progressing";
    pub const DEGRADED: &str = "Degraded";
    pub const PAUSED: &str = "Paused";
}

/// `observedGeneration` and the conditions, flattened into every status.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommonStatus {
    /// The `metadata.generation` the status was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready`, `Progressing`, `Degraded` and `Paused`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
}

impl CommonStatus {
    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }

    pub fn is_true(&self, type_: &str) -> bool {
        self.condition(type_).is_some_and(|c| c.status == "True")
    }
}

/// A reference to another FreelanceFlow resource in the same namespace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalRef {
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// A key of a Secret in the same namespace.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}

/// Implemented by every kind's status, so the operator's shared code can read and write conditions.
pub trait HasCommonStatus {
    fn common(&self) -> &CommonStatus;
    fn common_mut(&mut self) -> &mut CommonStatus;
}

macro_rules! impl_common_status {
    ($($t:ty),*) => {$(
        impl $crate::common::HasCommonStatus for $t {
            fn common(&self) -> &$crate::common::CommonStatus { &self.common }
            fn common_mut(&mut self) -> &mut $crate::common::CommonStatus { &mut self.common }
        }
    )*};
}
pub(crate) use impl_common_status;
