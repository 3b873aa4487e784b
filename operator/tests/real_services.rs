//! The parts of the operator that talk to Kafka and PostgreSQL, against the real local broker (tansu)
//! and the real local PostgreSQL (`scripts/stack.sh up`): `KafkaTopic` reconciles through rdkafka's
//! admin API, `Warehouse` migrations and the reader login through ff-warehouse. The Kubernetes side is
//! the fake API server of `support`.

mod support;

use std::sync::Arc;

use ff_operator::{
    controllers,
    kafka::{RdKafkaAdmin, TopicAdmin},
    warehouse_db::{Postgres, WarehouseDb},
};
use serde_json::json;
use sqlx::Connection;
use support::{condition, harness_with, path_of, typed};

const NS: &str = "freelanceflow";

#[tokio::test]
async fn kafka_topic_reconciles_against_the_real_broker() {
    let brokers = ff_e2e::brokers();
    let admin = Arc::new(RdKafkaAdmin::default());
    let h = harness_with(Some(admin.clone()), None);
    let name = ff_e2e::unique("optopic").replace('_', "-");
    let p = path_of("freelanceflow.io/v1alpha1", "kafkatopics", NS, &name);
    let topic = |partitions: i32, generation: i64| {
        json!({"apiVersion": "freelanceflow.io/v1alpha1", "kind": "KafkaTopic",
               "metadata": {"name": name, "namespace": NS, "generation": generation},
               "spec": {"partitions": partitions, "bootstrapServers": brokers, "deletionPolicy": "Delete"}})
    };
    assert!(
        admin
            .describe(&brokers, &name, false)
            .await
            .unwrap()
            .is_none(),
        "a fresh name"
    );
    h.api.insert(&p, topic(2, 1));
    // finalizer first (deletionPolicy Delete), then the topic
    controllers::kafka_topic::reconcile(typed(&h.api, &p), h.ctx.clone())
        .await
        .unwrap();
    controllers::kafka_topic::reconcile(typed(&h.api, &p), h.ctx.clone())
        .await
        .unwrap();
    let state = admin
        .describe(&brokers, &name, false)
        .await
        .unwrap()
        .expect("the topic exists in Kafka");
    assert_eq!(state.partitions, 2);
    let status = h.api.status(&p);
    assert_eq!(condition(&status, "Ready")["status"], "True", "{status}");
    assert_eq!(status["partitions"], 2);

    // grow to 3 partitions
    let finalizers = h.api.get(&p).unwrap()["metadata"]["finalizers"].clone();
    let mut grown = topic(3, 2);
    grown["metadata"]["finalizers"] = finalizers.clone();
    grown["status"] = status;
    h.api.0.lock().unwrap().objects.insert(p.clone(), grown);
    controllers::kafka_topic::reconcile(typed(&h.api, &p), h.ctx.clone())
        .await
        .unwrap();
    let partitions = admin
        .describe(&brokers, &name, false)
        .await
        .unwrap()
        .unwrap()
        .partitions;
    let ready = condition(&h.api.status(&p), "Ready");
    if partitions == 2 {
        // tansu 0.6 has no CreatePartitions: the operator says so instead of retrying forever (growth
        // itself is covered by the fake-admin test and the kind script's real Kafka)
        assert_eq!(ready["reason"], "BrokerUnsupported", "{ready}");
        assert!(
            ready["message"]
                .as_str()
                .unwrap()
                .contains("CreatePartitions"),
            "{ready}"
        );
    } else {
        assert_eq!(partitions, 3, "partitions added in Kafka");
        assert_eq!(ready["status"], "True");
    }

    // shrinking is refused, Kafka is untouched
    let mut shrunk = topic(1, 3);
    shrunk["metadata"]["finalizers"] = finalizers.clone();
    h.api.0.lock().unwrap().objects.insert(p.clone(), shrunk);
    controllers::kafka_topic::reconcile(typed(&h.api, &p), h.ctx.clone())
        .await
        .unwrap();
    assert_eq!(
        condition(&h.api.status(&p), "Ready")["reason"],
        "NotSupported"
    );
    assert_eq!(
        admin
            .describe(&brokers, &name, false)
            .await
            .unwrap()
            .unwrap()
            .partitions,
        partitions
    );

    // deletion with deletionPolicy Delete removes the Kafka topic
    h.api.0.lock().unwrap().objects.get_mut(&p).unwrap()["metadata"]["deletionTimestamp"] =
        json!("2026-11-21T10:00:00Z");
    controllers::kafka_topic::reconcile(typed(&h.api, &p), h.ctx.clone())
        .await
        .unwrap();
    assert!(
        admin
            .describe(&brokers, &name, false)
            .await
            .unwrap()
            .is_none(),
        "the topic is deleted from Kafka"
    );
    assert_eq!(h.api.get(&p).unwrap()["metadata"]["finalizers"], json!([]));
}

#[tokio::test]
async fn warehouse_migrations_and_reader_login_on_the_real_postgresql() {
    // an empty database the operator migrates, given as an external warehouse
    let admin_url = ff_e2e::admin_url();
    let db = ff_e2e::unique("opwh").to_lowercase();
    let mut conn = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("the local PostgreSQL (scripts/stack.sh up)");
    sqlx::raw_sql(&format!("CREATE DATABASE {db}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let url = format!("{}/{db}", admin_url.rsplit_once('/').unwrap().0);

    let h = harness_with(None, Some(Arc::new(Postgres)));
    let secret = path_of("v1", "secrets", NS, "db");
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(&url);
    h.api.insert(&secret, json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": NS}, "data": {"url": encoded}}));
    let p = path_of("freelanceflow.io/v1alpha1", "warehouses", NS, "ext");
    h.api.insert(&p, json!({"apiVersion": "freelanceflow.io/v1alpha1", "kind": "Warehouse", "metadata": {"name": "ext", "namespace": NS},
        "spec": {"external": {"urlSecret": {"name": "db", "key": "url"}}}}));
    controllers::warehouse::reconcile(typed(&h.api, &p), h.ctx.clone())
        .await
        .unwrap();
    let status = h.api.status(&p);
    assert_eq!(condition(&status, "Ready")["status"], "True", "{status}");
    assert_eq!(
        status["schemaVersion"],
        ff_warehouse::latest_embedded_version()
    );

    // the tables exist, and the reader login can read the views but not write
    let pool = ff_warehouse::connect(&url, 1).await.unwrap();
    let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE tablename IN ('freelances', 'factures', 'indicateurs')")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(tables, 3);
    // a key of the reader Secret, as stored now
    let field = |k: &str| {
        let reader = h
            .api
            .get(&path_of("v1", "secrets", NS, "ext-reader"))
            .expect("reader Secret");
        let b = base64::engine::general_purpose::STANDARD
            .decode(reader["data"][k].as_str().unwrap())
            .unwrap();
        String::from_utf8(b).unwrap()
    };
    assert_eq!(field("username"), "freelanceflow_grafana");
    assert_eq!(field("database"), db, "the database of the URL");
    assert_eq!(
        field("address"),
        url.rsplit('@').next().unwrap().split('/').next().unwrap()
    );
    let reader_url = format!(
        "postgres://freelanceflow_grafana:{}@{}/{db}",
        field("password"),
        field("address")
    );
    let mut r = sqlx::PgConnection::connect(&reader_url)
        .await
        .expect("the reader logs in");
    sqlx::query("SET ROLE freelanceflow_reader")
        .execute(&mut r)
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM v_kpis")
        .fetch_one(&mut r)
        .await
        .expect("reads a view");
    assert_eq!(n, 0);
    let denied = sqlx::query("DELETE FROM indicateurs")
        .execute(&mut r)
        .await
        .unwrap_err();
    assert!(denied.to_string().contains("permission denied"), "{denied}");

    // idempotent: a second reconcile migrates nothing new and keeps the password
    let before = field("password");
    controllers::warehouse::reconcile(typed(&h.api, &p), h.ctx.clone())
        .await
        .unwrap();
    assert_eq!(field("password"), before);
    assert_eq!(
        Postgres.migrate(&url).await.unwrap(),
        ff_warehouse::latest_embedded_version()
    );
}
