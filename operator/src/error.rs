//! Typed errors of the reconcilers. An invalid spec or a missing dependency is not an error of the
//! operator: it becomes a condition on the resource (see `Outcome`), and only transient failures (API
//! server, broker, database) are retried with backoff.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error("Kubernetes API: {action}: {source}")]
    Kube {
        action: String,
        #[source]
        source: kube::Error,
    },
    #[error("Kafka admin API ({servers}): {message}")]
    Kafka { servers: String, message: String },
    #[error("warehouse: {0}")]
    Warehouse(String),
    #[error("{0}")]
    Other(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Adds what the operator was doing to a `kube::Error`.
pub trait KubeContext<T> {
    fn context(self, action: impl FnOnce() -> String) -> Result<T>;
}

impl<T> KubeContext<T> for Result<T, kube::Error> {
    fn context(self, action: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Kube {
            action: action(),
            source,
        })
    }
}

impl Error {
    /// A short CamelCase reason for conditions, Events and metrics labels.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::Kube { .. } => "KubernetesApiError",
            Error::Kafka { .. } => "KafkaError",
            Error::Warehouse(_) => "WarehouseError",
            Error::Other(_) => "Error",
        }
    }
}
