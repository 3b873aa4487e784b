//! `MonitoringStack` children. Builtin mode: Prometheus (ServiceAccount, Role, RoleBinding, ConfigMap
//! with the scrape config and the alert rules, Deployment, Service) and Grafana (ConfigMaps provisioning
//! the warehouse data source and the dashboards of `observability/grafana`, Deployment, Service).
//! PrometheusOperator mode: a `ServiceMonitor` and a `PrometheusRule` instead of Prometheus.

use std::collections::BTreeMap;

use ff_crds::MonitoringStackSpec;
use serde_json::{json, Value};

use super::{resources_or, restricted_container, Owner, HTTP_PORT};

pub const ALERT_RULES: &str = include_str!("../../../observability/prometheus/alerts.yaml");
const GRAFANA_DATASOURCE: &str =
    include_str!("../../../observability/grafana/datasources/warehouse.yaml");
const GRAFANA_PROVIDER: &str = include_str!("../../../observability/grafana/dashboards.yaml");
const DASHBOARDS: [(&str, &str); 3] = [
    (
        "financier.json",
        include_str!("../../../observability/grafana/dashboards/financier.json"),
    ),
    (
        "ressources.json",
        include_str!("../../../observability/grafana/dashboards/ressources.json"),
    ),
    (
        "temps-reel.json",
        include_str!("../../../observability/grafana/dashboards/temps-reel.json"),
    ),
];

/// The secrets Grafana reads: its admin account and the warehouse's read-only login.
#[derive(Clone, Debug, PartialEq)]
pub struct GrafanaSecrets {
    pub admin: String,
    pub reader: String,
}

/// The Prometheus configuration: every pipeline pod of the namespace with an `http` port is scraped.
pub fn prometheus_config(namespace: &str) -> String {
    let config = json!({
        "global": {"scrape_interval": "15s", "evaluation_interval": "15s"},
        "rule_files": ["/etc/prometheus/alerts.yaml"],
        "scrape_configs": [{
            "job_name": "freelanceflow-pods",
            "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": [namespace]}}],
            "relabel_configs": [
                {"source_labels": ["__meta_kubernetes_pod_label_app_kubernetes_io_part_of"], "regex": "freelanceflow", "action": "keep"},
                {"source_labels": ["__meta_kubernetes_pod_container_port_name"], "regex": "http|http-metrics", "action": "keep"},
                {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
                {"source_labels": ["__meta_kubernetes_pod_label_app_kubernetes_io_component"], "target_label": "component"},
                {"source_labels": ["__meta_kubernetes_pod_label_app_kubernetes_io_instance"], "target_label": "instance_name"},
            ],
        }],
    });
    serde_yaml::to_string(&config).expect("yaml")
}

fn meta(owner: &Owner, name: &str, component: &str) -> Value {
    serde_json::to_value(owner.meta(name, component)).expect("meta")
}

fn pod_meta(owner: &Owner, component: &str, hash: Option<&str>) -> Value {
    let mut m = json!({"labels": owner.labels(component)});
    if let Some(h) = hash {
        m["annotations"] = json!({super::CONFIG_HASH_ANNOTATION: h});
    }
    m
}

fn pod_security(uid: i64) -> Value {
    serde_json::to_value(super::restricted_pod(uid)).expect("security")
}

/// Builtin Prometheus and, when enabled, Grafana.
pub fn build_builtin(
    owner: &Owner,
    spec: &MonitoringStackSpec,
    secrets: &GrafanaSecrets,
) -> Vec<Value> {
    let ns = &owner.namespace;
    let prom = format!("{}-prometheus", owner.name);
    let config = BTreeMap::from([
        ("prometheus.yaml".to_string(), prometheus_config(ns)),
        ("alerts.yaml".to_string(), ALERT_RULES.to_string()),
    ]);
    let hash = super::hash_of(&config);
    let container = {
        let mut c =
            serde_json::to_value(super::container("prometheus", &spec.prometheus.image, None))
                .unwrap();
        c["args"] = json!([
            "--config.file=/etc/prometheus/prometheus.yaml",
            "--storage.tsdb.path=/prometheus",
            format!(
                "--storage.tsdb.retention.time={}",
                spec.prometheus.retention
            ),
        ]);
        c["ports"] = json!([{"name": "web", "containerPort": 9090}]);
        c["readinessProbe"] =
            json!({"httpGet": {"path": "/-/ready", "port": "web"}, "periodSeconds": 10});
        c["livenessProbe"] =
            json!({"httpGet": {"path": "/-/healthy", "port": "web"}, "periodSeconds": 30});
        c["resources"] = serde_json::to_value(resources_or(
            &spec.prometheus.resources,
            ("200m", "1"),
            ("512Mi", "2Gi"),
        ))
        .unwrap();
        c["volumeMounts"] = json!([
            {"name": "config", "mountPath": "/etc/prometheus", "readOnly": true},
            {"name": "data", "mountPath": "/prometheus"},
        ]);
        c
    };
    let mut out = vec![
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(owner, &prom, "prometheus"),
               "automountServiceAccountToken": true}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta(owner, &prom, "prometheus"),
        "rules": [
            {"apiGroups": [""], "resources": ["pods", "services", "endpoints"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
        ]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta(owner, &prom, "prometheus"),
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": prom},
               "subjects": [{"kind": "ServiceAccount", "name": prom, "namespace": ns}]}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(owner, &prom, "prometheus"), "data": config}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(owner, &prom, "prometheus"),
        "spec": {
            "replicas": 1,
            // one writer of the TSDB at a time
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": owner.selector("prometheus")},
            "template": {
                "metadata": pod_meta(owner, "prometheus", Some(&hash)),
                "spec": {
                    "serviceAccountName": prom,
                    "securityContext": pod_security(65534),
                    "containers": [container],
                    "volumes": [
                        {"name": "config", "configMap": {"name": prom}},
                        {"name": "data", "emptyDir": {}},
                    ],
                },
            },
        }}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": meta(owner, &prom, "prometheus"),
               "spec": {"selector": owner.selector("prometheus"), "ports": [{"name": "web", "port": 9090, "targetPort": "web"}]}}),
    ];
    if spec.grafana.enabled {
        out.extend(grafana(owner, spec, secrets, &prom));
    }
    out
}

/// Where Grafana finds the warehouse's read-only login.
const READER_DIR: &str = "/etc/grafana/warehouse-reader";

/// The warehouse data source of `observability/grafana`, reading the login from the mounted Secret
/// instead of environment variables.
pub fn datasource_from_files() -> String {
    let mut text = GRAFANA_DATASOURCE.to_string();
    for (var, file) in [
        ("FF_GRAFANA_DB_HOST", "address"),
        ("FF_GRAFANA_DB_USER", "username"),
        ("FF_GRAFANA_DB_PASSWORD", "password"),
    ] {
        let from = format!("${{{var}}}");
        assert!(text.contains(&from), "the data source uses {from}");
        text = text.replace(&from, &format!("$__file{{{READER_DIR}/{file}}}"));
    }
    text
}

fn grafana(
    owner: &Owner,
    spec: &MonitoringStackSpec,
    secrets: &GrafanaSecrets,
    prometheus: &str,
) -> Vec<Value> {
    let name = format!("{}-grafana", owner.name);
    let prometheus_source = json!({"apiVersion": 1, "datasources": [{
        "name": "Prometheus", "uid": "freelanceflow-prometheus", "type": "prometheus", "access": "proxy",
        "url": format!("http://{prometheus}.{}.svc:9090", owner.namespace), "editable": false,
    }]});
    let provisioning = BTreeMap::from([
        ("warehouse.yaml".to_string(), datasource_from_files()),
        (
            "prometheus.yaml".to_string(),
            serde_yaml::to_string(&prometheus_source).unwrap(),
        ),
        ("dashboards.yaml".to_string(), GRAFANA_PROVIDER.to_string()),
    ]);
    let dashboards: BTreeMap<String, String> = DASHBOARDS
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let hash = super::hash_of(&(&provisioning, &dashboards));
    let container = json!({
        "name": "grafana",
        "image": spec.grafana.image,
        "imagePullPolicy": "Always",
        "securityContext": serde_json::to_value(restricted_container()).unwrap(),
        // secrets as files: Grafana reads `__FILE` variables, and `$__file{}` in provisioning files
        "env": [
            {"name": "FF_GRAFANA_DB_SSLMODE", "value": "disable"},
            {"name": "GF_SECURITY_ADMIN_PASSWORD__FILE", "value": "/etc/grafana/admin/admin-password"},
            {"name": "GF_SECURITY_ADMIN_USER__FILE", "value": "/etc/grafana/admin/admin-user"},
            {"name": "GF_PATHS_DATA", "value": "/var/lib/grafana"},
            {"name": "GF_PATHS_PROVISIONING", "value": "/etc/grafana/provisioning"},
            {"name": "GF_ANALYTICS_REPORTING_ENABLED", "value": "false"},
            {"name": "GF_ANALYTICS_CHECK_FOR_UPDATES", "value": "false"},
        ],
        "ports": [{"name": "http", "containerPort": 3000}],
        "readinessProbe": {"httpGet": {"path": "/api/health", "port": "http"}, "periodSeconds": 10},
        "livenessProbe": {"httpGet": {"path": "/api/health", "port": "http"}, "periodSeconds": 30},
        "resources": serde_json::to_value(resources_or(&spec.grafana.resources, ("100m", "1"), ("256Mi", "1Gi"))).unwrap(),
        "volumeMounts": [
            {"name": "datasources", "mountPath": "/etc/grafana/provisioning/datasources", "readOnly": true},
            {"name": "providers", "mountPath": "/etc/grafana/provisioning/dashboards", "readOnly": true},
            {"name": "dashboards", "mountPath": "/var/lib/grafana/dashboards/freelanceflow", "readOnly": true},
            {"name": "data", "mountPath": "/var/lib/grafana"},
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "admin", "mountPath": "/etc/grafana/admin", "readOnly": true},
            {"name": "reader", "mountPath": READER_DIR, "readOnly": true},
        ],
    });
    let item = |key: &str| json!({"key": key, "path": key});
    vec![
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(owner, &format!("{name}-provisioning"), "grafana"),
               "data": provisioning}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(owner, &format!("{name}-dashboards"), "grafana"),
               "data": dashboards}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(owner, &name, "grafana"),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": owner.selector("grafana")},
            "template": {
                "metadata": pod_meta(owner, "grafana", Some(&hash)),
                "spec": {
                    "automountServiceAccountToken": false,
                    "securityContext": pod_security(10472),
                    "containers": [container],
                    "volumes": [
                        {"name": "datasources", "configMap": {"name": format!("{name}-provisioning"),
                            "items": [item("warehouse.yaml"), item("prometheus.yaml")]}},
                        {"name": "providers", "configMap": {"name": format!("{name}-provisioning"), "items": [item("dashboards.yaml")]}},
                        {"name": "dashboards", "configMap": {"name": format!("{name}-dashboards")}},
                        {"name": "data", "emptyDir": {}},
                        {"name": "tmp", "emptyDir": {}},
                        {"name": "admin", "secret": {"secretName": secrets.admin, "defaultMode": 0o440,
                            "items": [item("admin-user"), item("admin-password")]}},
                        {"name": "reader", "secret": {"secretName": secrets.reader, "defaultMode": 0o440,
                            "items": [item("address"), item("username"), item("password")]}},
                    ],
                },
            },
        }}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": meta(owner, &name, "grafana"),
               "spec": {"selector": owner.selector("grafana"), "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}),
    ]
}

/// With an existing prometheus-operator: a ServiceMonitor for the Services of the pipeline (port `http`)
/// and the alert rules as a PrometheusRule. The relabelings give the series the same `job` and
/// `component` labels as the builtin Prometheus, so the alert rules work in both modes.
pub fn build_prometheus_operator(owner: &Owner) -> Vec<Value> {
    let rules: Value = serde_yaml::from_str(ALERT_RULES).expect("the alert rules are YAML");
    vec![
        json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": meta(owner, &owner.name, "monitoring"),
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/part-of": "freelanceflow"}},
            "endpoints": [{
                "port": "http", "path": "/metrics", "interval": "15s",
                "relabelings": [
                    {"targetLabel": "job", "replacement": "freelanceflow-pods", "action": "replace"},
                    {"sourceLabels": ["__meta_kubernetes_pod_label_app_kubernetes_io_component"], "targetLabel": "component", "action": "replace"},
                ],
            }],
        }}),
        json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": meta(owner, &owner.name, "monitoring"),
               "spec": rules}),
    ]
}

/// The port the pipeline pods are scraped on.
pub const SCRAPE_PORT: i32 = HTTP_PORT;
