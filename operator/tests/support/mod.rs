//! A fake Kubernetes API server for request-level reconcile tests (the idea of kube-rs's
//! `ApiServerVerifier`): the operator's real `kube::Client` talks HTTP to an in-memory object store
//! that answers GET, server-side apply, status patches, merge patches, DELETE and Event POSTs like the
//! API server does for these calls, and records every request for the assertions. Plus a fake Kafka
//! admin for the tests that do not use the real broker.
#![allow(dead_code)]

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use ff_operator::{
    context::Context,
    error::{Error, Result},
    kafka::{TopicAdmin, TopicState},
    metrics::Metrics,
    warehouse_db::WarehouseDb,
};
use http::{Request, Response};
use kube::client::Body;
use serde_json::{json, Value};

#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub query: String,
    pub content_type: String,
    pub body: Value,
}

#[derive(Default)]
pub struct State {
    pub objects: BTreeMap<String, Value>,
    pub calls: Vec<Call>,
    /// Paths (object keys) whose writes fail with this HTTP status (fault injection).
    pub fail_writes: BTreeMap<String, u16>,
    next_uid: u64,
}

#[derive(Clone, Default)]
pub struct FakeApi(pub Arc<Mutex<State>>);

/// The object key of a request path: without the query and the `/status` subresource.
fn key(path: &str) -> String {
    path.trim_end_matches("/status").to_string()
}

/// The collection path and object key of a custom resource or core object.
pub fn path_of(api_version: &str, plural: &str, ns: &str, name: &str) -> String {
    if api_version.contains('/') {
        format!("/apis/{api_version}/namespaces/{ns}/{plural}/{name}")
    } else {
        format!("/api/{api_version}/namespaces/{ns}/{plural}/{name}")
    }
}

fn status_json(code: u16, reason: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": reason, "code": code, "message": reason})
}

impl FakeApi {
    pub fn client(&self) -> kube::Client {
        let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let api = self.clone();
        tokio::spawn(async move {
            while let Some((request, send)) = handle.next_request().await {
                let (parts, body) = request.into_parts();
                let bytes = body.collect_bytes().await.unwrap_or_default();
                let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                let (code, out) = api.handle(
                    parts.method.as_str(),
                    parts.uri.path(),
                    parts.uri.query().unwrap_or_default(),
                    parts
                        .headers
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default(),
                    body,
                );
                let response = Response::builder()
                    .status(code)
                    .header("content-type", "application/json")
                    .body(Body::from(serde_json::to_vec(&out).unwrap()))
                    .unwrap();
                send.send_response(response);
            }
        });
        kube::Client::new(service, "default")
    }

    /// Puts an object in the store (as if created by a user), with a uid and generation 1.
    pub fn insert(&self, path: &str, mut obj: Value) {
        let mut s = self.0.lock().unwrap();
        s.next_uid += 1;
        let uid = format!("00000000-0000-4000-8000-{:012}", s.next_uid);
        let meta = obj["metadata"].as_object_mut().expect("metadata");
        meta.entry("uid").or_insert(json!(uid));
        meta.entry("generation").or_insert(json!(1));
        meta.entry("resourceVersion").or_insert(json!("1"));
        s.objects.insert(path.to_string(), obj);
    }

    pub fn get(&self, path: &str) -> Option<Value> {
        self.0.lock().unwrap().objects.get(path).cloned()
    }

    pub fn set_status(&self, path: &str, status: Value) {
        let mut s = self.0.lock().unwrap();
        s.objects
            .get_mut(path)
            .unwrap_or_else(|| panic!("no object {path}"))["status"] = status;
    }

    pub fn calls(&self) -> Vec<Call> {
        self.0.lock().unwrap().calls.clone()
    }

    pub fn clear_calls(&self) {
        self.0.lock().unwrap().calls.clear();
    }

    /// The writes (PATCH, POST, DELETE) without the Events.
    pub fn writes(&self) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method != "GET" && !c.path.contains("/events"))
            .collect()
    }

    /// The Events published: (type, reason, note).
    pub fn events(&self) -> Vec<(String, String, String)> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == "POST" && c.path.contains("/events"))
            .map(|c| {
                let s = |k: &str| c.body[k].as_str().unwrap_or_default().to_string();
                (s("type"), s("reason"), s("note"))
            })
            .collect()
    }

    /// The last status written to an object.
    pub fn status(&self, path: &str) -> Value {
        self.get(path)
            .map(|o| o["status"].clone())
            .unwrap_or(Value::Null)
    }

    fn handle(
        &self,
        method: &str,
        path: &str,
        query: &str,
        content_type: &str,
        body: Value,
    ) -> (u16, Value) {
        let mut s = self.0.lock().unwrap();
        s.calls.push(Call {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            content_type: content_type.into(),
            body: body.clone(),
        });
        let k = key(path);
        if method != "GET" {
            if let Some(code) = s.fail_writes.get(&k) {
                return (*code, status_json(*code, "InternalError"));
            }
        }
        match method {
            "GET" => match s.objects.get(&k) {
                Some(o) => (200, o.clone()),
                None => (404, status_json(404, "NotFound")),
            },
            "POST" => (201, body),
            "DELETE" => match s.objects.remove(&k) {
                Some(_) => (
                    200,
                    json!({"kind": "Status", "apiVersion": "v1", "status": "Success", "metadata": {}}),
                ),
                None => (404, status_json(404, "NotFound")),
            },
            "PATCH" if path.ends_with("/status") => match s.objects.get_mut(&k) {
                Some(o) => {
                    o["status"] = body["status"].clone();
                    (200, o.clone())
                }
                None => (404, status_json(404, "NotFound")),
            },
            "PATCH" if content_type.starts_with("application/merge-patch") => {
                match s.objects.get_mut(&k) {
                    Some(o) => {
                        if let Some(f) = body["metadata"].get("finalizers") {
                            o["metadata"]["finalizers"] = f.clone();
                        }
                        (200, o.clone())
                    }
                    None => (404, status_json(404, "NotFound")),
                }
            }
            "PATCH" => {
                // server-side apply: the applied fields replace ours, the status stays the API server's
                s.next_uid += 1;
                let uid = format!("00000000-0000-4000-9000-{:012}", s.next_uid);
                let previous = s.objects.get(&k).cloned();
                let mut obj = body.clone();
                let old_gen = previous
                    .as_ref()
                    .and_then(|p| p["metadata"]["generation"].as_i64())
                    .unwrap_or(0);
                let changed = previous
                    .as_ref()
                    .is_none_or(|p| p.get("spec") != obj.get("spec"));
                obj["metadata"]["generation"] = json!(if changed { old_gen + 1 } else { old_gen });
                obj["metadata"]["uid"] = previous
                    .as_ref()
                    .map(|p| p["metadata"]["uid"].clone())
                    .unwrap_or(json!(uid));
                obj["metadata"]["resourceVersion"] = json!("2");
                if let Some(status) = previous.as_ref().and_then(|p| p.get("status")) {
                    obj["status"] = status.clone();
                }
                s.objects.insert(k, obj.clone());
                (200, obj)
            }
            _ => (405, status_json(405, "MethodNotAllowed")),
        }
    }
}

/// A Kafka admin API in memory, recording its calls.
#[derive(Default)]
pub struct FakeKafka {
    pub topics: Mutex<BTreeMap<String, TopicState>>,
    pub calls: Mutex<Vec<String>>,
}

#[async_trait]
impl TopicAdmin for FakeKafka {
    async fn describe(
        &self,
        _servers: &str,
        topic: &str,
        _with_config: bool,
    ) -> Result<Option<TopicState>> {
        Ok(self.topics.lock().unwrap().get(topic).cloned())
    }
    async fn create(
        &self,
        _: &str,
        topic: &str,
        partitions: i32,
        replication: i32,
        config: &BTreeMap<String, String>,
    ) -> Result<()> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("create {topic} {partitions} {replication}"));
        self.topics.lock().unwrap().insert(
            topic.into(),
            TopicState {
                partitions,
                config: config.clone(),
            },
        );
        Ok(())
    }
    async fn add_partitions(&self, _: &str, topic: &str, total: i32) -> Result<()> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("add_partitions {topic} {total}"));
        self.topics
            .lock()
            .unwrap()
            .get_mut(topic)
            .unwrap()
            .partitions = total;
        Ok(())
    }
    async fn set_config(
        &self,
        _: &str,
        topic: &str,
        config: &BTreeMap<String, String>,
    ) -> Result<()> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("set_config {topic}"));
        self.topics.lock().unwrap().get_mut(topic).unwrap().config = config.clone();
        Ok(())
    }
    async fn delete(&self, _: &str, topic: &str) -> Result<()> {
        self.calls.lock().unwrap().push(format!("delete {topic}"));
        self.topics.lock().unwrap().remove(topic);
        Ok(())
    }
}

/// Migrations and logins in memory.
#[derive(Default)]
pub struct FakeWarehouse {
    pub calls: Mutex<Vec<String>>,
    pub fail: Mutex<Option<String>>,
}

#[async_trait]
impl WarehouseDb for FakeWarehouse {
    async fn migrate(&self, url: &str) -> Result<i64> {
        self.calls.lock().unwrap().push(format!("migrate {url}"));
        match self.fail.lock().unwrap().clone() {
            Some(e) => Err(Error::Warehouse(e)),
            None => Ok(ff_warehouse::latest_embedded_version()),
        }
    }
    async fn ensure_reader_login(&self, _url: &str, role: &str, _password: &str) -> Result<()> {
        self.calls.lock().unwrap().push(format!("reader {role}"));
        Ok(())
    }
}

pub struct Harness {
    pub api: FakeApi,
    pub kafka: Arc<FakeKafka>,
    pub warehouse: Arc<FakeWarehouse>,
    pub ctx: Arc<Context>,
    pub metrics: Metrics,
}

pub fn harness() -> Harness {
    harness_with(None, None)
}

pub fn harness_with(
    kafka: Option<Arc<dyn TopicAdmin>>,
    warehouse: Option<Arc<dyn WarehouseDb>>,
) -> Harness {
    let api = FakeApi::default();
    let fake_kafka = Arc::new(FakeKafka::default());
    let fake_wh = Arc::new(FakeWarehouse::default());
    let metrics = Metrics::default();
    let ctx = Context::new(
        api.client(),
        metrics.clone(),
        kafka.unwrap_or_else(|| fake_kafka.clone()),
        warehouse.unwrap_or_else(|| fake_wh.clone()),
    );
    Harness {
        api,
        kafka: fake_kafka,
        warehouse: fake_wh,
        ctx,
        metrics,
    }
}

/// Reads an object of the store as a typed resource (what the controller's watch would deliver).
pub fn typed<K: serde::de::DeserializeOwned>(api: &FakeApi, path: &str) -> Arc<K> {
    Arc::new(
        serde_json::from_value(api.get(path).unwrap_or_else(|| panic!("no object {path}")))
            .unwrap(),
    )
}

/// The condition `type_` of a status.
pub fn condition(status: &Value, type_: &str) -> Value {
    status["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == type_).cloned())
        .unwrap_or(Value::Null)
}
