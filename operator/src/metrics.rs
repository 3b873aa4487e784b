//! The operator's Prometheus metrics: reconciles, errors and durations by controller, resources and
//! paused resources by controller.

use std::sync::{atomic::AtomicI64, Arc};

use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ControllerLabel {
    pub controller: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub controller: String,
    pub reason: String,
}

#[derive(Clone)]
pub struct Metrics {
    pub reconciles: Family<ControllerLabel, Counter>,
    pub errors: Family<ErrorLabels, Counter>,
    pub duration: Family<ControllerLabel, Histogram>,
    pub resources: Family<ControllerLabel, Gauge<i64, AtomicI64>>,
    pub paused: Family<ControllerLabel, Gauge<i64, AtomicI64>>,
    registry: Arc<Registry>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("freelanceflow");
        let reconciles = Family::<ControllerLabel, Counter>::default();
        let errors = Family::<ErrorLabels, Counter>::default();
        let duration = Family::<ControllerLabel, Histogram>::new_with_constructor(|| {
            Histogram::new([0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0])
        });
        let resources = Family::<ControllerLabel, Gauge<i64, AtomicI64>>::default();
        let paused = Family::<ControllerLabel, Gauge<i64, AtomicI64>>::default();
        registry.register(
            "reconcile",
            "Reconciliations by controller",
            reconciles.clone(),
        );
        registry.register(
            "reconcile_errors",
            "Failed reconciliations by controller and reason",
            errors.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Duration of reconciliations",
            duration.clone(),
        );
        registry.register(
            "resources",
            "Resources watched by controller",
            resources.clone(),
        );
        registry.register(
            "paused_resources",
            "Resources with the paused annotation",
            paused.clone(),
        );
        Metrics {
            reconciles,
            errors,
            duration,
            resources,
            paused,
            registry: Arc::new(registry),
        }
    }
}

impl Metrics {
    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("metrics encode to a String");
        out
    }

    /// Creates every series of the controllers at zero, so that `rate()` and the alert rules see them
    /// from the start (a family only shows the label sets it has seen).
    pub fn init(&self, controllers: &[&str]) {
        for c in controllers {
            let label = Self::label(c);
            let _ = self.reconciles.get_or_create(&label);
            let _ = self.duration.get_or_create(&label);
            let _ = self.resources.get_or_create(&label);
            let _ = self.paused.get_or_create(&label);
        }
    }

    pub fn label(controller: &str) -> ControllerLabel {
        ControllerLabel {
            controller: controller.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_metric_names_are_exposed() {
        let m = Metrics::default();
        m.reconciles
            .get_or_create(&Metrics::label("kafkatopic"))
            .inc();
        m.errors
            .get_or_create(&ErrorLabels {
                controller: "kafkatopic".into(),
                reason: "KafkaError".into(),
            })
            .inc();
        m.duration
            .get_or_create(&Metrics::label("kafkatopic"))
            .observe(0.2);
        m.paused.get_or_create(&Metrics::label("kafkatopic")).set(1);
        let text = m.render();
        for needle in [
            "freelanceflow_reconcile_total{controller=\"kafkatopic\"} 1",
            "freelanceflow_reconcile_errors_total{controller=\"kafkatopic\",reason=\"KafkaError\"} 1",
            "freelanceflow_reconcile_duration_seconds_count{controller=\"kafkatopic\"} 1",
            "freelanceflow_paused_resources{controller=\"kafkatopic\"} 1",
        ] {
            assert!(text.contains(needle), "{needle} missing from\n{text}");
        }
    }
}
