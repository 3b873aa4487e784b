//! Request-level tests of the reconcilers against a fake API server (see `support`): what they read,
//! apply (server-side apply, one field manager), which status and Events they write, with the paused
//! annotation, finalizers, rollbacks and the error policy.

mod support;

use std::{collections::BTreeMap, time::Duration};

use ff_crds::{KafkaTopic, ProcessingCluster, Warehouse};
use ff_operator::{
    builders::processing,
    controllers::{self, error_policy},
    kafka::TopicState,
};
use kube::runtime::controller::Action;
use serde_json::{json, Value};
use support::{condition, harness, path_of, typed, Harness};

const NS: &str = "freelanceflow";

fn topic_path(name: &str) -> String {
    path_of("freelanceflow.io/v1alpha1", "kafkatopics", NS, name)
}

fn topic(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "freelanceflow.io/v1alpha1", "kind": "KafkaTopic",
           "metadata": {"name": name, "namespace": NS}, "spec": spec})
}

#[tokio::test]
async fn a_new_topic_is_created_and_reported_ready() {
    let h = harness();
    let p = topic_path("factures");
    h.api.insert(&p, topic("factures", json!({"partitions": 2, "replicationFactor": 2, "bootstrapServers": "kafka:9092", "config": {"retention.ms": "1000"}})));
    let action = controllers::kafka_topic::reconcile(typed(&h.api, &p), h.ctx.clone())
        .await
        .unwrap();
    assert_eq!(action, Action::requeue(controllers::RESYNC));
    assert_eq!(*h.kafka.calls.lock().unwrap(), vec!["create factures 2 2"]);
    let status = h.api.status(&p);
    assert_eq!(status["topicName"], "factures");
    assert_eq!(status["partitions"], 2);
    assert_eq!(status["observedGeneration"], 1);
    assert_eq!(condition(&status, "Ready")["status"], "True");
    assert_eq!(condition(&status, "Paused")["status"], "False");
    // the status is written with server-side apply, under the operator's field manager
    let status_patch = h
        .api
        .calls()
        .into_iter()
        .find(|c| c.path.ends_with("/status"))
        .unwrap();
    assert!(
        status_patch
            .content_type
            .starts_with("application/apply-patch"),
        "{}",
        status_patch.content_type
    );
    assert!(
        status_patch
            .query
            .contains("fieldManager=freelanceflow-operator")
            && status_patch.query.contains("force=true")
    );
    assert!(
        h.api
            .events()
            .iter()
            .any(|(t, r, _)| t == "Normal" && r == "TopicCreated"),
        "{:?}",
        h.api.events()
    );
    // Retain (the default): no finalizer was added
    assert!(h.api.get(&p).unwrap()["metadata"]["finalizers"].is_null());
    // the reconcile was counted
    assert!(h
        .metrics
        .render()
        .contains("freelanceflow_reconcile_total{controller=\"kafkatopic\"} 1"));
}

#[tokio::test]
async fn growing_is_applied_and_shrinking_is_refused_with_not_supported() {
    let h = harness();
    let p = topic_path("profils");
    h.kafka.topics.lock().unwrap().insert(
        "profils".into(),
        TopicState {
            partitions: 2,
            config: BTreeMap::new(),
        },
    );
    h.api.insert(
        &p,
        topic(
            "profils",
            json!({"partitions": 4, "bootstrapServers": "kafka:9092"}),
        ),
    );
    controllers::kafka_topic::reconcile(typed(&h.api, &p), h.ctx.clone())
        .await
        .unwrap();
    assert_eq!(
        *h.kafka.calls.lock().unwrap(),
        vec!["add_partitions profils 4"]
    );
    assert_eq!(h.api.status(&p)["partitions"], 4);

    h.api.insert(
        &p,
        topic(
            "profils",
            json!({"partitions": 3, "bootstrapServers": "kafka:9092"}),
        ),
    );
    h.api.0.lock().unwrap().objects.get_mut(&p).unwrap()["metadata"]["generation"] = json!(2);
    let action = controllers::kafka_topic::reconcile(typed(&h.api, &p), h.ctx.clone())
        .await
        .unwrap();
    assert_eq!(
        h.kafka.calls.lock().unwrap().len(),
        1,
        "no admin call for a decrease"
    );
    assert_eq!(h.kafka.topics.lock().unwrap()["profils"].partitions, 4);
    let status = h.api.status(&p);
    let ready = condition(&status, "Ready");
    assert_eq!(
        (ready["status"].as_str(), ready["reason"].as_str()),
        (Some("False"), Some("NotSupported"))
    );
    assert!(ready["message"]
        .as_str()
        .unwrap()
        .contains("cannot remove partitions"));
    assert_eq!(condition(&status, "Degraded")["status"], "True");
    assert_eq!(ready["observedGeneration"], 2);
    assert!(
        h.api
            .events()
            .iter()
            .any(|(t, r, _)| t == "Warning" && r == "NotSupported"),
        "{:?}",
        h.api.events()
    );
    assert_eq!(action, Action::requeue(controllers::WAIT));
}

#[tokio::test]
async fn delete_policy_adds_a_finalizer_and_deletes_the_kafka_topic() {
    let h = harness();
    let p = topic_path("old");
    h.api.insert(
        &p,
        topic(
            "old",
            json!({"partitions": 1, "bootstrapServers": "kafka:9092", "deletionPolicy": "Delete"}),
        ),
    );
    // first reconcile: only the finalizer
    controllers::kafka_topic::reconcile(typed(&h.api, &p), h.ctx.clone())
        .await
        .unwrap();
    assert_eq!(
        h.api.get(&p).unwrap()["metadata"]["finalizers"],
        json!([controllers::kafka_topic::FINALIZER])
    );
    controllers::kafka_topic::reconcile(typed(&h.api, &p), h.ctx.clone())
        .await
        .unwrap();
    assert!(h.kafka.topics.lock().unwrap().contains_key("old"));

    // kubectl delete: the API server sets deletionTimestamp and waits for the finalizer
    h.api.0.lock().unwrap().objects.get_mut(&p).unwrap()["metadata"]["deletionTimestamp"] =
        json!("2026-11-21T10:00:00Z");
    controllers::kafka_topic::reconcile(typed(&h.api, &p), h.ctx.clone())
        .await
        .unwrap();
    assert!(
        !h.kafka.topics.lock().unwrap().contains_key("old"),
        "the Kafka topic is deleted"
    );
    assert_eq!(h.api.get(&p).unwrap()["metadata"]["finalizers"], json!([]));
    assert!(h.api.events().iter().any(|(_, r, _)| r == "TopicDeleted"));
}

#[tokio::test]
async fn retain_policy_never_deletes_the_kafka_topic() {
    let h = harness();
    let p = topic_path("kept");
    h.api.insert(
        &p,
        topic(
            "kept",
            json!({"partitions": 1, "bootstrapServers": "kafka:9092"}),
        ),
    );
    controllers::kafka_topic::reconcile(typed(&h.api, &p), h.ctx.clone())
        .await
        .unwrap();
    h.api.0.lock().unwrap().objects.get_mut(&p).unwrap()["metadata"]["deletionTimestamp"] =
        json!("2026-11-21T10:00:00Z");
    let action = controllers::kafka_topic::reconcile(typed(&h.api, &p), h.ctx.clone())
        .await
        .unwrap();
    assert_eq!(action, Action::await_change());
    assert!(h.kafka.topics.lock().unwrap().contains_key("kept"));
    assert!(!h
        .kafka
        .calls
        .lock()
        .unwrap()
        .iter()
        .any(|c| c.starts_with("delete")));
}

#[tokio::test]
async fn a_paused_topic_is_not_changed_but_its_status_stays_current() {
    let h = harness();
    let p = topic_path("paused");
    h.kafka.topics.lock().unwrap().insert(
        "paused".into(),
        TopicState {
            partitions: 2,
            config: BTreeMap::new(),
        },
    );
    let mut t = topic(
        "paused",
        json!({"partitions": 6, "bootstrapServers": "kafka:9092"}),
    );
    t["metadata"]["annotations"] = json!({"freelanceflow.io/paused": "true"});
    h.api.insert(&p, t);
    controllers::kafka_topic::reconcile(typed(&h.api, &p), h.ctx.clone())
        .await
        .unwrap();
    assert!(
        h.kafka.calls.lock().unwrap().is_empty(),
        "no change while paused"
    );
    let status = h.api.status(&p);
    assert_eq!(status["partitions"], 2, "the status reports what Kafka has");
    assert_eq!(condition(&status, "Paused")["status"], "True");
    assert_eq!(condition(&status, "Progressing")["reason"], "Paused");
}

#[tokio::test]
async fn an_invalid_spec_becomes_a_condition_not_a_retry_loop() {
    let h = harness();
    let p = topic_path("bad");
    h.api.insert(&p, topic("bad", json!({"partitions": 1, "bootstrapServers": "kafka:9092", "config": {"Retention MS": "1"}})));
    let action = controllers::kafka_topic::reconcile(typed(&h.api, &p), h.ctx.clone())
        .await
        .unwrap();
    assert_eq!(action, Action::await_change());
    let ready = condition(&h.api.status(&p), "Ready");
    assert_eq!(ready["reason"], "InvalidSpec");
    assert!(ready["message"]
        .as_str()
        .unwrap()
        .contains("\"Retention MS\""));
    assert!(h.kafka.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_invalid_topic_does_not_hold_back_a_valid_one() {
    let h = harness();
    let (bad, good) = (topic_path("bad"), topic_path("good"));
    h.api.insert(&bad, topic("bad", json!({"partitions": 1, "bootstrapServers": "kafka:9092", "config": {"Not A Key": "1"}})));
    h.api.insert(
        &good,
        topic(
            "good",
            json!({"partitions": 3, "bootstrapServers": "kafka:9092"}),
        ),
    );
    // the controller runs reconciles concurrently, one per object: run both at once
    let (a, b) = tokio::join!(
        controllers::kafka_topic::reconcile(typed(&h.api, &bad), h.ctx.clone()),
        controllers::kafka_topic::reconcile(typed(&h.api, &good), h.ctx.clone()),
    );
    assert_eq!(a.unwrap(), Action::await_change());
    assert_eq!(b.unwrap(), Action::requeue(controllers::RESYNC));
    assert_eq!(*h.kafka.calls.lock().unwrap(), vec!["create good 3 1"]);
    assert_eq!(condition(&h.api.status(&good), "Ready")["status"], "True");
    assert_eq!(
        condition(&h.api.status(&bad), "Ready")["reason"],
        "InvalidSpec"
    );
}

#[tokio::test]
async fn a_config_change_is_applied_through_the_admin_api() {
    let h = harness();
    let p = topic_path("cfg");
    h.kafka.topics.lock().unwrap().insert(
        "cfg".into(),
        TopicState {
            partitions: 1,
            config: BTreeMap::from([("retention.ms".into(), "1000".into())]),
        },
    );
    h.api.insert(&p, topic("cfg", json!({"partitions": 1, "bootstrapServers": "kafka:9092", "config": {"retention.ms": "2000"}})));
    controllers::kafka_topic::reconcile(typed(&h.api, &p), h.ctx.clone())
        .await
        .unwrap();
    assert_eq!(*h.kafka.calls.lock().unwrap(), vec!["set_config cfg"]);
    assert_eq!(
        h.kafka.topics.lock().unwrap()["cfg"].config["retention.ms"],
        "2000"
    );
    assert!(h
        .api
        .events()
        .iter()
        .any(|(_, r, note)| r == "ConfigChanged" && note.contains("retention.ms")));
    // unchanged afterwards: no second call
    controllers::kafka_topic::reconcile(typed(&h.api, &p), h.ctx.clone())
        .await
        .unwrap();
    assert_eq!(h.kafka.calls.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn api_errors_are_counted_and_retried_with_a_delay() {
    let h = harness();
    let p = topic_path("flaky");
    h.api.insert(
        &p,
        topic(
            "flaky",
            json!({"partitions": 1, "bootstrapServers": "kafka:9092"}),
        ),
    );
    h.api.0.lock().unwrap().fail_writes.insert(p.clone(), 500);
    let obj = typed::<KafkaTopic>(&h.api, &p);
    let err = controllers::kafka_topic::reconcile(obj.clone(), h.ctx.clone())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("update the status of KafkaTopic flaky"),
        "{err}"
    );
    assert_eq!(
        error_policy(obj, &err, h.ctx.clone()),
        Action::requeue(Duration::from_secs(30))
    );
    let events = h.api.events();
    assert!(
        events.iter().any(|(t, r, note)| t == "Warning"
            && r == "KubernetesApiError"
            && note.contains("500")),
        "{events:?}"
    );
    let metrics = h.metrics.render();
    assert!(
        metrics.contains("freelanceflow_reconcile_errors_total{controller=\"kafkatopic\",reason=\"KubernetesApiError\"} 1"),
        "{metrics}"
    );
}

// ---- ProcessingCluster ----

fn pc_path() -> String {
    path_of(
        "freelanceflow.io/v1alpha1",
        "processingclusters",
        NS,
        "pipeline",
    )
}

/// Ready topics and warehouse, and a processing cluster with `image`.
fn pipeline(h: &Harness, image: &str) {
    for name in ["profils", "factures"] {
        let p = topic_path(name);
        h.api.insert(
            &p,
            topic(
                name,
                json!({"partitions": 2, "bootstrapServers": "kafka:9092"}),
            ),
        );
        h.api.set_status(&p, json!({"topicName": name, "partitions": 2, "conditions": [{"type": "Ready", "status": "True", "reason": "Ready", "message": "", "lastTransitionTime": "2026-11-21T00:00:00Z"}]}));
    }
    let wp = path_of("freelanceflow.io/v1alpha1", "warehouses", NS, "warehouse");
    h.api.insert(&wp, json!({"apiVersion": "freelanceflow.io/v1alpha1", "kind": "Warehouse", "metadata": {"name": "warehouse", "namespace": NS}, "spec": {"managed": {}}}));
    h.api.set_status(&wp, json!({"urlSecret": {"name": "warehouse-credentials", "key": "url"}, "conditions": [{"type": "Ready", "status": "True", "reason": "Ready", "message": "", "lastTransitionTime": "2026-11-21T00:00:00Z"}]}));
    set_pc(h, image);
}

fn set_pc(h: &Harness, image: &str) {
    let previous = h.api.get(&pc_path());
    let mut pc = json!({"apiVersion": "freelanceflow.io/v1alpha1", "kind": "ProcessingCluster",
        "metadata": {"name": "pipeline", "namespace": NS},
        "spec": {"image": image, "bootstrapServers": "kafka:9092", "warehouseRef": {"name": "warehouse"}, "progressDeadlineSeconds": 600}});
    if let Some(prev) = previous {
        pc["metadata"] = prev["metadata"].clone();
        pc["metadata"]["generation"] = json!(prev["metadata"]["generation"].as_i64().unwrap() + 1);
        pc["status"] = prev["status"].clone();
    }
    h.api
        .0
        .lock()
        .unwrap()
        .objects
        .insert(pc_path(), pc.clone());
    if pc["metadata"].get("uid").is_none() {
        h.api.0.lock().unwrap().objects.remove(&pc_path());
        h.api.insert(&pc_path(), pc);
    }
}

fn deployment_path() -> String {
    path_of("apps/v1", "deployments", NS, "pipeline-master")
}

fn statefulset_path() -> String {
    path_of("apps/v1", "statefulsets", NS, "pipeline-worker")
}

/// What the kubelet and the workload controllers would report once the pods run the template.
fn children_become_ready(h: &Harness) {
    let gen = |p: &str| h.api.get(p).unwrap()["metadata"]["generation"].clone();
    h.api.set_status(&deployment_path(), json!({"observedGeneration": gen(&deployment_path()), "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1, "readyReplicas": 1}));
    h.api.set_status(&statefulset_path(), json!({"observedGeneration": gen(&statefulset_path()), "replicas": 2, "readyReplicas": 2, "updatedReplicas": 2, "currentRevision": "r", "updateRevision": "r"}));
}

fn image_of(h: &Harness, path: &str) -> String {
    h.api.get(path).unwrap()["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_processing_cluster_applies_its_children_with_owner_references() {
    let h = harness();
    pipeline(&h, "ff:1");
    controllers::processing_cluster::reconcile(typed(&h.api, &pc_path()), h.ctx.clone())
        .await
        .unwrap();
    let applied: Vec<String> = h
        .api
        .writes()
        .iter()
        .filter(|c| c.method == "PATCH" && !c.path.ends_with("/status"))
        .map(|c| c.path.clone())
        .collect();
    assert_eq!(
        applied,
        vec![
            path_of("v1", "configmaps", NS, "pipeline-config"),
            deployment_path(),
            path_of("v1", "services", NS, "pipeline-master"),
            statefulset_path(),
            path_of("v1", "services", NS, "pipeline-workers"),
            path_of("policy/v1", "poddisruptionbudgets", NS, "pipeline-worker"),
        ]
    );
    for c in h.api.writes().iter().filter(|c| c.method == "PATCH") {
        assert!(
            c.query.contains("fieldManager=freelanceflow-operator"),
            "{} {}",
            c.path,
            c.query
        );
        assert!(
            c.content_type.starts_with("application/apply-patch"),
            "{}",
            c.path
        );
    }
    let sts = h.api.get(&statefulset_path()).unwrap();
    let owner = &sts["metadata"]["ownerReferences"][0];
    assert_eq!(
        (
            owner["kind"].as_str(),
            owner["name"].as_str(),
            owner["controller"].as_bool()
        ),
        (Some("ProcessingCluster"), Some("pipeline"), Some(true))
    );
    assert_eq!(sts["spec"]["replicas"], 2);
    let config = h
        .api
        .get(&path_of("v1", "configmaps", NS, "pipeline-config"))
        .unwrap();
    assert_eq!(config["data"]["FF_PARTITIONER"], "range:500,1000");
    let status = h.api.status(&pc_path());
    assert_eq!(condition(&status, "Progressing")["reason"], "RollingOut");
    assert!(status["rolloutStartedAt"].is_string());

    children_become_ready(&h);
    controllers::processing_cluster::reconcile(typed(&h.api, &pc_path()), h.ctx.clone())
        .await
        .unwrap();
    let status = h.api.status(&pc_path());
    assert_eq!(condition(&status, "Ready")["status"], "True");
    assert_eq!(status["lastGoodRevision"]["image"], "ff:1");
    assert_eq!(status["readyWorkers"], 2);
}

#[tokio::test]
async fn a_rollout_past_its_deadline_is_rolled_back_to_the_last_good_revision() {
    let h = harness();
    pipeline(&h, "ff:1");
    controllers::processing_cluster::reconcile(typed(&h.api, &pc_path()), h.ctx.clone())
        .await
        .unwrap();
    children_become_ready(&h);
    controllers::processing_cluster::reconcile(typed(&h.api, &pc_path()), h.ctx.clone())
        .await
        .unwrap();
    let good = h.api.status(&pc_path())["lastGoodRevision"]["hash"].clone();

    // a new image whose pods never become ready
    set_pc(&h, "ff:2-broken");
    controllers::processing_cluster::reconcile(typed(&h.api, &pc_path()), h.ctx.clone())
        .await
        .unwrap();
    assert_eq!(image_of(&h, &deployment_path()), "ff:2-broken");
    let status = h.api.status(&pc_path());
    assert_eq!(condition(&status, "Progressing")["status"], "True");
    let new_hash = status["currentRevision"].clone();
    assert_ne!(new_hash, good);

    // the deadline passes (the rollout started 601 s ago)
    let mut st = h.api.status(&pc_path());
    st["rolloutStartedAt"] =
        json!((jiff::Timestamp::now() - jiff::SignedDuration::from_secs(601)).to_string());
    h.api.set_status(&pc_path(), st);
    h.api.clear_calls();
    let action =
        controllers::processing_cluster::reconcile(typed(&h.api, &pc_path()), h.ctx.clone())
            .await
            .unwrap();
    assert_eq!(action, Action::requeue(Duration::from_secs(1)));
    let status = h.api.status(&pc_path());
    assert_eq!(status["failedRevision"], new_hash);
    assert_eq!(condition(&status, "Degraded")["reason"], "RolledBack");
    let events = h.api.events();
    assert!(
        events.iter().any(|(t, r, note)| t == "Warning"
            && r == "RolledBack"
            && note.contains("not ready within 600 s")),
        "{events:?}"
    );

    // the next reconcile applies the last good revision again, and keeps it while the spec is unchanged
    controllers::processing_cluster::reconcile(typed(&h.api, &pc_path()), h.ctx.clone())
        .await
        .unwrap();
    assert_eq!(image_of(&h, &deployment_path()), "ff:1");
    assert_eq!(image_of(&h, &statefulset_path()), "ff:1");
    children_become_ready(&h);
    controllers::processing_cluster::reconcile(typed(&h.api, &pc_path()), h.ctx.clone())
        .await
        .unwrap();
    let status = h.api.status(&pc_path());
    assert_eq!(image_of(&h, &deployment_path()), "ff:1");
    assert_eq!(condition(&status, "Ready")["reason"], "RolledBack");
    assert_eq!(status["currentRevision"], good);

    // a new spec is tried again
    set_pc(&h, "ff:3");
    controllers::processing_cluster::reconcile(typed(&h.api, &pc_path()), h.ctx.clone())
        .await
        .unwrap();
    assert_eq!(image_of(&h, &deployment_path()), "ff:3");
}

#[tokio::test]
async fn a_processing_cluster_waits_for_its_dependencies_and_names_them() {
    let h = harness();
    h.api.insert(&pc_path(), json!({"apiVersion": "freelanceflow.io/v1alpha1", "kind": "ProcessingCluster",
        "metadata": {"name": "pipeline", "namespace": NS},
        "spec": {"image": "ff:1", "bootstrapServers": "kafka:9092", "warehouseRef": {"name": "warehouse"}}}));
    controllers::processing_cluster::reconcile(typed(&h.api, &pc_path()), h.ctx.clone())
        .await
        .unwrap();
    let ready = condition(&h.api.status(&pc_path()), "Ready");
    assert_eq!(ready["reason"], "DependencyMissing");
    assert_eq!(ready["message"], "KafkaTopic profils does not exist");
    assert!(
        h.api.writes().iter().all(|c| c.path.ends_with("/status")),
        "nothing applied: {:?}",
        h.api.writes()
    );
    let _: std::sync::Arc<ProcessingCluster> = typed(&h.api, &pc_path());
    let _ = processing::master_name("x");
}

#[tokio::test]
async fn a_paused_processing_cluster_applies_nothing() {
    let h = harness();
    pipeline(&h, "ff:1");
    h.api.0.lock().unwrap().objects.get_mut(&pc_path()).unwrap()["metadata"]["annotations"] =
        json!({"freelanceflow.io/paused": "true"});
    controllers::processing_cluster::reconcile(typed(&h.api, &pc_path()), h.ctx.clone())
        .await
        .unwrap();
    assert!(
        h.api.writes().iter().all(|c| c.path.ends_with("/status")),
        "{:?}",
        h.api.writes()
    );
    assert_eq!(
        condition(&h.api.status(&pc_path()), "Paused")["status"],
        "True"
    );
}

// ---- Warehouse ----

#[tokio::test]
async fn a_managed_warehouse_generates_credentials_once_then_migrates_when_postgres_is_ready() {
    let h = harness();
    let p = path_of("freelanceflow.io/v1alpha1", "warehouses", NS, "warehouse");
    h.api.insert(&p, json!({"apiVersion": "freelanceflow.io/v1alpha1", "kind": "Warehouse", "metadata": {"name": "warehouse", "namespace": NS}, "spec": {"managed": {}}}));
    controllers::warehouse::reconcile(typed(&h.api, &p), h.ctx.clone())
        .await
        .unwrap();
    let secret_path = path_of("v1", "secrets", NS, "warehouse-credentials");
    let password = h.api.get(&secret_path).unwrap()["data"]["password"].clone();
    assert!(password.is_string());
    assert!(
        h.warehouse.calls.lock().unwrap().is_empty(),
        "no migration before PostgreSQL is ready"
    );
    assert_eq!(
        condition(&h.api.status(&p), "Progressing")["reason"],
        "Starting"
    );

    let sts = path_of("apps/v1", "statefulsets", NS, "warehouse-postgres");
    let gen = h.api.get(&sts).unwrap()["metadata"]["generation"].clone();
    h.api.set_status(&sts, json!({"observedGeneration": gen, "replicas": 1, "readyReplicas": 1, "updatedReplicas": 1, "currentRevision": "a", "updateRevision": "a"}));
    controllers::warehouse::reconcile(typed(&h.api, &p), h.ctx.clone())
        .await
        .unwrap();
    assert_eq!(
        h.api.get(&secret_path).unwrap()["data"]["password"],
        password,
        "the password is kept"
    );
    let calls = h.warehouse.calls.lock().unwrap().clone();
    assert!(
        calls[0].starts_with("migrate postgres://freelanceflow:")
            && calls[0].contains("@warehouse-postgres.freelanceflow.svc:5432/freelances_db"),
        "{calls:?}"
    );
    assert_eq!(calls[1], "reader freelanceflow_grafana");
    let status = h.api.status(&p);
    assert_eq!(
        status["schemaVersion"],
        ff_warehouse::latest_embedded_version()
    );
    assert_eq!(status["mode"], "Managed");
    assert_eq!(status["readerSecret"], "warehouse-reader");
    assert_eq!(condition(&status, "Ready")["status"], "True");
    assert!(h.api.events().iter().any(|(_, r, _)| r == "Migrated"));
    let _: std::sync::Arc<Warehouse> = typed(&h.api, &p);
}

#[tokio::test]
async fn a_failed_migration_is_reported_as_degraded() {
    let h = harness();
    *h.warehouse.fail.lock().unwrap() = Some("relation already exists".into());
    let p = path_of("freelanceflow.io/v1alpha1", "warehouses", NS, "ext");
    h.api.insert(&path_of("v1", "secrets", NS, "db"), json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": NS}, "data": {"url": "cG9zdGdyZXM6Ly94QGRiL2Q="}}));
    h.api.insert(&p, json!({"apiVersion": "freelanceflow.io/v1alpha1", "kind": "Warehouse", "metadata": {"name": "ext", "namespace": NS}, "spec": {"external": {"urlSecret": {"name": "db", "key": "url"}}}}));
    controllers::warehouse::reconcile(typed(&h.api, &p), h.ctx.clone())
        .await
        .unwrap();
    assert_eq!(
        h.warehouse.calls.lock().unwrap()[0],
        "migrate postgres://x@db/d"
    );
    let status = h.api.status(&p);
    assert_eq!(condition(&status, "Degraded")["reason"], "MigrationFailed");
    assert!(condition(&status, "Ready")["message"]
        .as_str()
        .unwrap()
        .contains("relation already exists"));
    assert!(h
        .api
        .events()
        .iter()
        .any(|(t, r, _)| t == "Warning" && r == "MigrationFailed"));
}
