//! The CEL rules (`x-kubernetes-validations`) of the committed CRDs, evaluated with kube's client-side
//! CEL engine (kube-cel, the same rules and defaulting the API server applies at admission).

use kube::core::cel::{compile_schema, Validator};
use serde_json::{json, Value};

/// The openAPIV3Schema of a kind, read from the committed YAML (what `kubectl apply` installs).
fn schema(plural: &str) -> Value {
    let path = format!("{}/yaml/{plural}.yaml", env!("CARGO_MANIFEST_DIR"));
    let crd: Value = serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
}

fn check(plural: &str, spec: Value, old_spec: Option<Value>) -> Result<(), String> {
    let object =
        json!({"apiVersion": "freelanceflow.io/v1alpha1", "metadata": {"name": "x"}, "spec": spec});
    let old = old_spec.map(|s| json!({"apiVersion": "freelanceflow.io/v1alpha1", "metadata": {"name": "x"}, "spec": s}));
    Validator::new()
        .validate(&schema(plural), &object, old.as_ref())
        .map_err(|e| e.to_string())
}

fn refused(plural: &str, spec: Value, old: Option<Value>, message: &str) {
    match check(plural, spec.clone(), old) {
        Ok(()) => panic!("{plural}: {spec} was accepted, expected: {message}"),
        Err(e) => assert!(
            e.contains(message),
            "{plural}: {spec} refused with {e:?}, expected {message:?}"
        ),
    }
}

#[test]
fn every_rule_compiles() {
    for plural in [
        "kafkatopics",
        "warehouses",
        "processingclusters",
        "ingestions",
        "dashboards",
        "monitoringstacks",
    ] {
        let compiled = compile_schema(&schema(plural));
        let errors: Vec<String> = compiled
            .compilation_errors()
            .iter()
            .map(|e| format!("{e:?}"))
            .collect();
        assert!(errors.is_empty(), "{plural}: {errors:?}");
    }
}

#[test]
fn kafka_topic_rules() {
    let topic = json!({"partitions": 2, "replicationFactor": 2, "bootstrapServers": "kafka:9092"});
    check("kafkatopics", topic.clone(), None).unwrap();
    refused(
        "kafkatopics",
        json!({"partitions": 2}),
        None,
        "set exactly one of bootstrapServers and bootstrapServersFrom",
    );
    refused(
        "kafkatopics",
        json!({"partitions": 2, "bootstrapServers": "k:9092", "bootstrapServersFrom": {"name": "kafka", "key": "servers"}}),
        None,
        "set exactly one",
    );
    // transitions: partitions may change (the operator refuses a decrease), replication and name may not
    check(
        "kafkatopics",
        json!({"partitions": 4, "replicationFactor": 2, "bootstrapServers": "kafka:9092"}),
        Some(topic.clone()),
    )
    .unwrap();
    refused(
        "kafkatopics",
        json!({"partitions": 2, "replicationFactor": 3, "bootstrapServers": "kafka:9092"}),
        Some(topic.clone()),
        "replicationFactor is immutable",
    );
    let named = json!({"partitions": 2, "topicName": "a", "bootstrapServers": "kafka:9092"});
    refused(
        "kafkatopics",
        json!({"partitions": 2, "topicName": "b", "bootstrapServers": "kafka:9092"}),
        Some(named.clone()),
        "topicName is immutable",
    );
    refused(
        "kafkatopics",
        named,
        Some(topic),
        "topicName cannot be added or removed",
    );
}

#[test]
fn warehouse_rules() {
    let managed = json!({"managed": {}});
    check("warehouses", managed.clone(), None).unwrap();
    check(
        "warehouses",
        json!({"external": {"urlSecret": {"name": "db", "key": "url"}}}),
        None,
    )
    .unwrap();
    refused(
        "warehouses",
        json!({}),
        None,
        "set exactly one of managed and external",
    );
    refused(
        "warehouses",
        json!({"managed": {}, "external": {"urlSecret": {"name": "db", "key": "url"}}}),
        None,
        "set exactly one of managed and external",
    );
    refused(
        "warehouses",
        json!({"external": {"urlSecret": {"name": "db", "key": "url"}}}),
        Some(managed.clone()),
        "cannot switch between managed and external",
    );
    refused(
        "warehouses",
        json!({"managed": {"storageSize": "20Gi"}}),
        Some(json!({"managed": {"storageSize": "10Gi"}})),
        "storageSize is immutable",
    );
    // the default database name is filled in before the rules run, so changing it is a transition
    refused(
        "warehouses",
        json!({"managed": {}, "database": "other"}),
        Some(managed),
        "database is immutable",
    );
}

#[test]
fn processing_cluster_rules() {
    let base =
        json!({"image": "ff:1", "bootstrapServers": "kafka:9092", "warehouseRef": {"name": "wh"}});
    // defaults: 2 workers, ranges 1-500 and 501-1000
    check("processingclusters", base.clone(), None).unwrap();
    let with = |workers: i64, ranges: Value| {
        let mut spec = base.clone();
        spec["workers"] = json!({"replicas": workers});
        spec["partitioning"] = json!({"strategy": "Range", "ranges": ranges});
        spec
    };
    check(
        "processingclusters",
        with(
            3,
            json!([{"from": 1, "to": 300}, {"from": 301, "to": 600}, {"from": 601, "to": 1000}]),
        ),
        None,
    )
    .unwrap();
    refused(
        "processingclusters",
        with(
            3,
            json!([{"from": 1, "to": 500}, {"from": 501, "to": 1000}]),
        ),
        None,
        "one range per worker",
    );
    refused(
        "processingclusters",
        with(
            2,
            json!([{"from": 1, "to": 600}, {"from": 501, "to": 1000}]),
        ),
        None,
        "ranges must not overlap",
    );
    refused(
        "processingclusters",
        with(2, json!([{"from": 1, "to": 500}, {"from": 900, "to": 501}])),
        None,
        "every range has from <= to",
    );
    refused(
        "processingclusters",
        with(
            2,
            json!([{"from": 2, "to": 500}, {"from": 501, "to": 1000}]),
        ),
        None,
        "the first range starts at id 1",
    );
    // hash partitioning ignores the ranges
    let mut hash = with(4, json!([]));
    hash["partitioning"]["strategy"] = json!("Hash");
    check("processingclusters", hash, None).unwrap();
}

#[test]
fn ingestion_and_dashboard_rules() {
    let ingestion = |schedule: &str| json!({"processingClusterRef": {"name": "pc"}, "schedule": schedule, "source": {"persistentVolumeClaim": "incoming"}});
    check("ingestions", ingestion("0 1 * * *"), None).unwrap();
    check("ingestions", ingestion("@daily   "), None).unwrap();
    refused(
        "ingestions",
        ingestion("0 1 * * * *"),
        None,
        "cron expression with 5 fields",
    );
    refused(
        "ingestions",
        ingestion("every day"),
        None,
        "cron expression with 5 fields",
    );

    let dashboard = json!({"processingClusterRef": {"name": "pc"}, "usersSecret": {"name": "users", "key": "users"}});
    check("dashboards", dashboard, None).unwrap();
    check(
        "dashboards",
        json!({"processingClusterRef": {"name": "pc"}, "authHeader": "X-Forwarded-User"}),
        None,
    )
    .unwrap();
    refused(
        "dashboards",
        json!({"processingClusterRef": {"name": "pc"}}),
        None,
        "the dashboards are never open",
    );
}
