//! What every reconcile gets: the client, the Event recorder, metrics, and the external systems.

use std::sync::Arc;

use kube::{runtime::events::Recorder, Client};

use crate::{kafka::TopicAdmin, metrics::Metrics, warehouse_db::WarehouseDb};

pub struct Context {
    pub client: Client,
    pub recorder: Recorder,
    pub metrics: Metrics,
    pub kafka: Arc<dyn TopicAdmin>,
    pub warehouse: Arc<dyn WarehouseDb>,
}

impl Context {
    pub fn new(
        client: Client,
        metrics: Metrics,
        kafka: Arc<dyn TopicAdmin>,
        warehouse: Arc<dyn WarehouseDb>,
    ) -> Arc<Self> {
        let reporter = kube::runtime::events::Reporter {
            controller: crate::builders::FIELD_MANAGER.into(),
            instance: std::env::var("POD_NAME").ok(),
        };
        Arc::new(Context {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            metrics,
            kafka,
            warehouse,
        })
    }
}

/// A random password of letters and digits (for generated credentials).
pub fn generate_password() -> String {
    use rand::{distr::Alphanumeric, Rng};
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}
