//! Starts the six controllers on one client; each watches its kind and the children it owns.

use std::sync::{atomic::Ordering, Arc};

use ff_crds::{Dashboard, Ingestion, KafkaTopic, MonitoringStack, ProcessingCluster, Warehouse};
use futures::StreamExt;
use k8s_openapi::api::{
    apps::v1::{Deployment, StatefulSet},
    batch::v1::CronJob,
    core::v1::ConfigMap,
};
use kube::{
    runtime::{controller::Controller, reflector::ObjectRef, watcher},
    Api, Client, Resource,
};

use crate::{
    context::Context,
    controllers::{self, count, error_policy},
    server::Health,
};

fn api<K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>>(
    client: &Client,
    namespace: Option<&str>,
) -> Api<K> {
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// The controller names, as in the metrics' `controller` label.
pub const CONTROLLERS: [&str; 6] = [
    "kafkatopic",
    "warehouse",
    "processingcluster",
    "ingestion",
    "dashboard",
    "monitoringstack",
];

pub async fn run(ctx: Arc<Context>, namespace: Option<String>, health: Health) {
    ctx.metrics.init(&CONTROLLERS);
    let client = ctx.client.clone();
    let ns = namespace.as_deref();
    let cfg = watcher::Config::default;
    let topics = Controller::new(api::<KafkaTopic>(&client, ns), cfg());
    let topic_store = topics.store();
    let topics = topics.run(
        controllers::kafka_topic::reconcile,
        error_policy,
        ctx.clone(),
    );
    let warehouses = Controller::new(api::<Warehouse>(&client, ns), cfg());
    let warehouse_store = warehouses.store();
    let warehouses = warehouses.owns(api::<StatefulSet>(&client, ns), cfg()).run(
        controllers::warehouse::reconcile,
        error_policy,
        ctx.clone(),
    );
    // a cluster also follows its topics and warehouse (same namespace, referenced by name)
    let pcs = Controller::new(api::<ProcessingCluster>(&client, ns), cfg());
    let pc_store = pcs.store();
    let pc_store2 = pcs.store();
    let pc_store3 = pcs.store();
    let pcs = pcs
        .owns(api::<Deployment>(&client, ns), cfg())
        .owns(api::<StatefulSet>(&client, ns), cfg())
        .owns(api::<ConfigMap>(&client, ns), cfg())
        .watches(
            api::<KafkaTopic>(&client, ns),
            cfg(),
            move |t: KafkaTopic| {
                let ns = t.metadata.namespace.clone();
                let name = t.metadata.name.clone().unwrap_or_default();
                pc_store
                    .state()
                    .into_iter()
                    .filter(|pc| {
                        pc.metadata.namespace == ns
                            && (pc.spec.topics.profils == name || pc.spec.topics.factures == name)
                    })
                    .map(|pc| ObjectRef::from_obj(pc.as_ref()))
                    .collect::<Vec<_>>()
            },
        )
        .watches(api::<Warehouse>(&client, ns), cfg(), move |w: Warehouse| {
            let ns = w.metadata.namespace.clone();
            let name = w.metadata.name.clone().unwrap_or_default();
            pc_store2
                .state()
                .into_iter()
                .filter(|pc| pc.metadata.namespace == ns && pc.spec.warehouse_ref.name == name)
                .map(|pc| ObjectRef::from_obj(pc.as_ref()))
                .collect::<Vec<_>>()
        })
        .run(
            controllers::processing_cluster::reconcile,
            error_policy,
            ctx.clone(),
        );
    let ingestions = Controller::new(api::<Ingestion>(&client, ns), cfg());
    let ingestion_store = ingestions.store();
    let ingestions = ingestions.owns(api::<CronJob>(&client, ns), cfg()).run(
        controllers::ingestion::reconcile,
        error_policy,
        ctx.clone(),
    );
    let dashboards = Controller::new(api::<Dashboard>(&client, ns), cfg());
    let dashboard_store = dashboards.store();
    let dashboards = dashboards.owns(api::<Deployment>(&client, ns), cfg()).run(
        controllers::dashboard::reconcile,
        error_policy,
        ctx.clone(),
    );
    let monitoring = Controller::new(api::<MonitoringStack>(&client, ns), cfg());
    let monitoring_store = monitoring.store();
    let monitoring = monitoring.owns(api::<Deployment>(&client, ns), cfg()).run(
        controllers::monitoring_stack::reconcile,
        error_policy,
        ctx.clone(),
    );
    // ready once every kind has been listed; then the resource and paused gauges follow the stores
    let metrics = ctx.metrics.clone();
    tokio::spawn(async move {
        let _ = futures::join!(
            topic_store.wait_until_ready(),
            warehouse_store.wait_until_ready(),
            pc_store3.wait_until_ready(),
            ingestion_store.wait_until_ready(),
            dashboard_store.wait_until_ready(),
            monitoring_store.wait_until_ready(),
        );
        health.ready.store(true, Ordering::Relaxed);
        loop {
            count(&metrics, "kafkatopic", &topic_store.state());
            count(&metrics, "warehouse", &warehouse_store.state());
            count(&metrics, "processingcluster", &pc_store3.state());
            count(&metrics, "ingestion", &ingestion_store.state());
            count(&metrics, "dashboard", &dashboard_store.state());
            count(&metrics, "monitoringstack", &monitoring_store.state());
            tokio::time::sleep(std::time::Duration::from_secs(10)).await;
        }
    });
    futures::join!(
        topics.for_each(log("kafkatopic")),
        warehouses.for_each(log("warehouse")),
        pcs.for_each(log("processingcluster")),
        ingestions.for_each(log("ingestion")),
        dashboards.for_each(log("dashboard")),
        monitoring.for_each(log("monitoringstack")),
    );
}

fn log<T, E: std::fmt::Display>(
    controller: &'static str,
) -> impl FnMut(Result<T, E>) -> futures::future::Ready<()> {
    move |r| {
        if let Err(e) = r {
            tracing::debug!(controller, error = %e, "reconcile not run");
        }
        futures::future::ready(())
    }
}
