"""Helpers of scripts/check-k8s.sh; run with the Python of the tools venv (scripts/python-tools.sh).

    render CHART OUT_DIR VALUES_FILE...   render the chart (default values + each file), lint it, check the
                                          renders; writes OUT_DIR/<name>.yaml per values set
    split OUT_DIR ROOT FILE...            copy every document kubernetes-validate can check into
                                          OUT_DIR, one file per input; custom resources of the groups in
                                          CUSTOM_GROUPS are left out, with a note; their count goes to
                                          OUT_DIR/../validate-expected
    skips SKIPS_FILE SCOPE                print the checkov ids to skip (comma-separated) in the run of
                                          SCOPE (chart or golden); refuse an entry without a written
                                          justification
    checkov-summary RESULTS_JSON SCOPE    read checkov's JSON report: fail on a failed check, a parsing
                                          error or nothing checked

Every failure is printed as a line starting with FAIL and makes the command exit with 1.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any

import yaml

RELEASE = "freelanceflow"
NAMESPACE = "freelanceflow-system"
KUBE_VERSION = "v1.36.0"

CRD_NAMES = {
    f"{plural}.freelanceflow.io"
    for plural in (
        "kafkatopics",
        "warehouses",
        "processingclusters",
        "ingestions",
        "dashboards",
        "monitoringstacks",
    )
}

# API groups whose kinds kubernetes-validate has no schema for (it would only print a WARN and pass).
CUSTOM_GROUPS = {
    "freelanceflow.io": "a FreelanceFlow custom resource: checked against its CRD by the Rust tests, "
    "not by kubernetes-validate",
    "monitoring.coreos.com": "a prometheus-operator custom resource: kubernetes-validate has no schema "
    "for it",
}

STANDARD_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/part-of",
    "helm.sh/chart",
)
CLUSTER_SCOPED = {"ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "Namespace"}
LEAST_PRIVILEGE_FORBIDDEN_VERBS = {"*", "bind", "escalate", "impersonate", "deletecollection"}

failures: list[str] = []


def fail(message: str) -> None:
    failures.append(message)
    print(f"FAIL {message}", file=sys.stderr, flush=True)


def check(condition: bool, message: str) -> None:
    if not condition:
        fail(message)


def api_group(doc: dict[str, Any]) -> str:
    api_version = str(doc.get("apiVersion", ""))
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def describe(doc: dict[str, Any]) -> str:
    meta = doc.get("metadata") or {}
    return f"{doc.get('kind')}/{meta.get('name')}"


# ---------------------------------------------------------------------------------------------- render


def render(chart_dir: str, out_dir: str, values_files: list[str]) -> None:
    import helm_python as helm

    print(f"helm SDK {helm.helm_sdk_version()} (helm-python-sdk {helm.__version__})")
    os.makedirs(out_dir, exist_ok=True)
    sets: list[tuple[str, dict[str, Any]]] = [("default", {})]
    for path in values_files:
        with open(path, encoding="utf-8") as f:
            sets.append((os.path.splitext(os.path.basename(path))[0], yaml.safe_load(f) or {}))

    renders: dict[str, list[dict[str, Any]]] = {}
    notes: dict[str, str] = {}
    with helm.Chart.load(chart_dir) as chart:
        for name, values in sets:
            lint_chart(helm, chart_dir, name, values)
            try:
                rendered = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
            except helm.HelmError as exc:
                fail(f"render [{name}]: {exc}")
                continue
            docs, text = [], []
            for source in sorted(rendered):
                body = rendered[source]
                if source.endswith("NOTES.txt"):
                    notes[name] = body
                    continue
                for doc in yaml.safe_load_all(body):
                    if not doc:
                        continue
                    docs.append(doc)
                    text.append(f"# Source: {source}\n" + yaml.safe_dump(doc, sort_keys=False))
            path = os.path.join(out_dir, f"{name}.yaml")
            with open(path, "w", encoding="utf-8") as f:
                f.write("---\n".join(text))
            print(f"render [{name}]: {len(docs)} objects -> {path}")
            renders[name] = docs

    if "default" in renders:
        check_default(renders["default"], notes.get("default", ""))
    if "namespaced-values" in renders:
        check_namespaced(renders["namespaced-values"])
    for name, docs in renders.items():
        check_common(name, docs)


def lint_chart(helm: Any, chart_dir: str, name: str, values: dict[str, Any]) -> None:
    report = helm.lint(chart_dir, values, strict=True, namespace=NAMESPACE, kube_version=KUBE_VERSION)
    severities = {0: "UNKNOWN", 1: "INFO", 2: "WARNING", 3: "ERROR"}
    worst = 0
    for msg in report.get("messages", []):
        severity = int(msg.get("severity", 0))
        worst = max(worst, severity)
        print(f"lint [{name}] {severities.get(severity, severity)} {msg.get('path')}: {msg.get('error')}")
    for err in report.get("errors") or []:
        fail(f"lint [{name}]: {err}")
    # the SDK gives every message a severity: warnings fail as errors do, info is only printed
    check(worst < 2, f"lint [{name}]: warnings or errors (see above)")
    if worst < 2 and not report.get("errors"):
        print(f"lint [{name}]: no warnings, no errors ({report.get('total_charts_linted')} chart)")


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d.get("kind") == kind]


def the_deployment(name: str, docs: list[dict[str, Any]]) -> dict[str, Any] | None:
    deployments = by_kind(docs, "Deployment")
    check(len(deployments) == 1, f"[{name}] expected one Deployment, found {len(deployments)}")
    return deployments[0] if deployments else None


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env") or []}


def check_deployment(name: str, dep: dict[str, Any]) -> dict[str, Any]:
    spec = dep.get("spec") or {}
    check(spec.get("replicas") == 1, f"[{name}] Deployment replicas must be 1 (no leader election)")
    check(
        (spec.get("strategy") or {}).get("type") == "Recreate",
        f"[{name}] Deployment strategy must be Recreate (two operators must never run at once)",
    )
    pod = (spec.get("template") or {}).get("spec") or {}
    check(pod.get("automountServiceAccountToken") is not False,
          f"[{name}] the operator needs its ServiceAccount token")
    pod_sc = pod.get("securityContext") or {}
    containers = pod.get("containers") or []
    check(len(containers) == 1, f"[{name}] expected one container, found {len(containers)}")
    c = containers[0] if containers else {}
    sc = c.get("securityContext") or {}
    check(sc.get("readOnlyRootFilesystem") is True, f"[{name}] container readOnlyRootFilesystem must be true")
    check(sc.get("allowPrivilegeEscalation") is False, f"[{name}] container allowPrivilegeEscalation must be false")
    check("ALL" in ((sc.get("capabilities") or {}).get("drop") or []), f"[{name}] container must drop ALL capabilities")
    check(sc.get("privileged") is not True, f"[{name}] container must not be privileged")
    check(
        sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True,
        f"[{name}] runAsNonRoot must be true",
    )
    check(pod_sc.get("runAsNonRoot") is True, f"[{name}] pod securityContext runAsNonRoot must be true")
    for key in ("runAsUser", "runAsGroup", "fsGroup"):
        check(pod_sc.get(key) == 65532, f"[{name}] pod securityContext {key} must be 65532")
    seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
    check(seccomp == "RuntimeDefault", f"[{name}] seccompProfile must be RuntimeDefault, is {seccomp}")
    limits = (c.get("resources") or {}).get("limits") or {}
    requests = (c.get("resources") or {}).get("requests") or {}
    for key in ("cpu", "memory"):
        check(key in limits, f"[{name}] container needs a {key} limit")
        check(key in requests, f"[{name}] container needs a {key} request")
    check(c.get("command") == ["freelanceflow-operator"], f"[{name}] command must be freelanceflow-operator")
    check("--listen=0.0.0.0:8080" in (c.get("args") or []), f"[{name}] args must contain --listen=0.0.0.0:8080")
    ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
    check(ports.get("http-metrics") == 8080, f"[{name}] port http-metrics must be 8080")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        got = ((c.get(probe) or {}).get("httpGet") or {}).get("path")
        check(got == path, f"[{name}] {probe} must GET {path}, has {got}")
    check(c.get("imagePullPolicy") in ("Always", "IfNotPresent", "Never"), f"[{name}] imagePullPolicy must be set")
    env = env_of(c)
    for key in ("FF_LOG_FORMAT", "RUST_LOG", "FF_OPERATOR_NAMESPACE", "POD_NAMESPACE"):
        check(key in env, f"[{name}] env {key} missing")
    pod_namespace = env.get("POD_NAMESPACE")
    field_path = (pod_namespace.get("fieldRef") or {}).get("fieldPath") if isinstance(pod_namespace, dict) else None
    check(field_path == "metadata.namespace", f"[{name}] POD_NAMESPACE must come from the downward API")
    return c


def check_rules(name: str, role: dict[str, Any]) -> None:
    for rule in role.get("rules") or []:
        for field in ("apiGroups", "resources", "verbs"):
            check("*" not in (rule.get(field) or []), f"[{name}] {describe(role)}: wildcard in {field}")
        bad = LEAST_PRIVILEGE_FORBIDDEN_VERBS & set(rule.get("verbs") or [])
        check(not bad, f"[{name}] {describe(role)}: verbs {sorted(bad)} are not needed")
        if "" in (rule.get("apiGroups") or []) and "pods" in (rule.get("resources") or []):
            check(set(rule.get("verbs") or []) <= {"get", "list", "watch"}, f"[{name}] pods must be read only")


def check_default(docs: list[dict[str, Any]], notes: str) -> None:
    crds = {d["metadata"]["name"]: d for d in by_kind(docs, "CustomResourceDefinition")}
    check(set(crds) == CRD_NAMES, f"[default] expected the 6 CRDs {sorted(CRD_NAMES)}, found {sorted(crds)}")
    for crd_name, crd in crds.items():
        keep = ((crd.get("metadata") or {}).get("annotations") or {}).get("helm.sh/resource-policy")
        check(keep == "keep", f"[default] CRD {crd_name} must be annotated helm.sh/resource-policy: keep")
    dep = the_deployment("default", docs)
    if dep:
        c = check_deployment("default", dep)
        env = env_of(c)
        check(env.get("FF_LOG_FORMAT") == "json", "[default] FF_LOG_FORMAT must default to json")
        check(env.get("FF_OPERATOR_NAMESPACE") == "", "[default] FF_OPERATOR_NAMESPACE must be empty (all namespaces)")
        check(c.get("image") == "ghcr.io/freelanceflow/freelanceflow-operator:0.1.0",
              f"[default] image must default to the appVersion tag, is {c.get('image')}")
        limits = (c.get("resources") or {}).get("limits") or {}
        check(limits == {"cpu": "500m", "memory": "256Mi"}, f"[default] limits must be 500m/256Mi, are {limits}")
    check(len(by_kind(docs, "ClusterRole")) == 1 and len(by_kind(docs, "ClusterRoleBinding")) == 1,
          "[default] expected one ClusterRole and one ClusterRoleBinding")
    check(not by_kind(docs, "Role") and not by_kind(docs, "RoleBinding"), "[default] no Role/RoleBinding expected")
    check(not by_kind(docs, "ServiceMonitor"), "[default] no ServiceMonitor expected (disabled by default)")
    check(len(by_kind(docs, "Service")) == 1, "[default] expected the metrics Service")
    check('freelanceflow.io/paused="true"' in notes, "[default] NOTES.txt must explain the paused annotation")
    check("kubectl get freelanceflow" in notes, "[default] NOTES.txt must show `kubectl get freelanceflow`")


def check_namespaced(docs: list[dict[str, Any]]) -> None:
    name = "namespaced-values"
    check(not by_kind(docs, "CustomResourceDefinition"), f"[{name}] no CRD expected with crds.create=false")
    dep = the_deployment(name, docs)
    if dep:
        c = check_deployment(name, dep)
        env = env_of(c)
        check(env.get("FF_OPERATOR_NAMESPACE") == "freelanceflow", f"[{name}] FF_OPERATOR_NAMESPACE must be freelanceflow")
        check(env.get("FF_LOG_FORMAT") == "text", f"[{name}] FF_LOG_FORMAT must be text")
        check(str(c.get("image", "")).endswith(":0.1.0-rc.1"), f"[{name}] image tag must be 0.1.0-rc.1")
    roles = by_kind(docs, "Role")
    check(len(roles) == 1 and roles[0]["metadata"].get("namespace") == "freelanceflow",
          f"[{name}] expected one Role in namespace freelanceflow")
    bindings = by_kind(docs, "RoleBinding")
    check(len(bindings) == 1 and bindings[0]["metadata"].get("namespace") == "freelanceflow",
          f"[{name}] expected one RoleBinding in namespace freelanceflow")
    for cr in by_kind(docs, "ClusterRole"):
        groups = {g for rule in cr.get("rules") or [] for g in rule.get("apiGroups") or []}
        check(groups == {"apiextensions.k8s.io"},
              f"[{name}] the ClusterRole of a namespaced install may only read CRDs, grants {sorted(groups)}")
    check(len(by_kind(docs, "ServiceMonitor")) == 1, f"[{name}] expected a ServiceMonitor")


def check_common(name: str, docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        meta = doc.get("metadata") or {}
        if doc.get("kind") in ("ClusterRole", "Role"):
            check_rules(name, doc)
        if doc.get("kind") == "CustomResourceDefinition":
            continue  # generated from Rust, labelled there
        labels = meta.get("labels") or {}
        missing = [label for label in STANDARD_LABELS if label not in labels]
        check(not missing, f"[{name}] {describe(doc)} lacks the labels {missing}")
        check(labels.get("app.kubernetes.io/part-of") == "freelanceflow", f"[{name}] {describe(doc)}: part-of must be freelanceflow")
        if doc.get("kind") not in CLUSTER_SCOPED:
            check(bool(meta.get("namespace")), f"[{name}] {describe(doc)} has no metadata.namespace")


# ----------------------------------------------------------------------------------------------- split


def split(out_dir: str, root: str, files: list[str]) -> None:
    os.makedirs(out_dir, exist_ok=True)
    kept_total = 0
    for path in files:
        rel = os.path.relpath(path, root)
        if rel.startswith(".."):  # a render: name it after its folder, e.g. rendered/default.yaml
            rel = os.path.join(os.path.basename(os.path.dirname(path)), os.path.basename(path))
        try:
            with open(path, encoding="utf-8") as f:
                docs = [d for d in yaml.safe_load_all(f) if d]
        except (OSError, yaml.YAMLError) as exc:
            fail(f"{rel}: not readable YAML: {exc}")
            continue
        kept = []
        for doc in docs:
            if not isinstance(doc, dict) or "kind" not in doc or "apiVersion" not in doc:
                fail(f"{rel}: a document without apiVersion/kind")
                continue
            group = api_group(doc)
            if group in CUSTOM_GROUPS:
                print(f"SKIP {rel}: {describe(doc)} ({doc['apiVersion']}) is {CUSTOM_GROUPS[group]}")
                continue
            kept.append(doc)
        if not kept:
            print(f"SKIP {rel}: nothing left for kubernetes-validate")
            continue
        target = os.path.join(out_dir, re.sub(r"[^A-Za-z0-9._-]+", "__", rel))
        with open(target, "w", encoding="utf-8") as f:
            yaml.safe_dump_all(kept, f, sort_keys=False)
        kept_total += len(kept)
        print(f"validate {rel}: {len(kept)} documents")
    print(f"{kept_total} documents to validate in {out_dir}")
    # what the caller compares kubernetes-validate's count of passed resources with
    with open(os.path.join(os.path.dirname(os.path.abspath(out_dir)), "validate-expected"), "w") as f:
        f.write(f"{kept_total}\n")


# ----------------------------------------------------------------------------------------------- skips

SKIP_ID = re.compile(r"^CKV2?_[A-Z0-9]+_[0-9]+$")
PLACEHOLDER = re.compile(r"^\s*(todo|tbd|fixme|n/?a|none|-|\.+|skip|skipped|ignore)\s*\.?\s*$", re.I)
SCOPES = ("chart", "golden")


def skips(path: str, scope: str) -> None:
    """Prints the ids to skip in the checkov run of `scope` (chart or golden); checks every entry."""
    if scope not in SCOPES:
        fail(f"unknown scope {scope!r}, expected one of {SCOPES}")
        return
    with open(path, encoding="utf-8") as f:
        entries = yaml.safe_load(f) or []
    if not isinstance(entries, list):
        fail(f"{path}: must be a YAML list of {{id, why}}")
        entries = []
    ids: list[str] = []
    seen: set[tuple[str, str]] = set()
    for i, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            fail(f"{path}: entry {i} is not a mapping with id and why")
            continue
        unknown = set(entry) - {"id", "why", "scope"}
        check(not unknown, f"{path}: entry {i} has unknown keys {sorted(unknown)}")
        check_id = str(entry.get("id") or "").strip()
        why = entry.get("why")
        entry_scopes = entry.get("scope", list(SCOPES))
        if isinstance(entry_scopes, str):
            entry_scopes = [entry_scopes]
        if not SKIP_ID.match(check_id):
            fail(f"{path}: entry {i}: id {check_id!r} is not a checkov check id such as CKV_K8S_43")
            continue
        if not isinstance(why, str) or len(why.split()) < 8 or PLACEHOLDER.match(why):
            fail(f"{path}: {check_id} has no written justification (`why:`, a sentence or more)")
            continue
        if not isinstance(entry_scopes, list) or not entry_scopes or set(entry_scopes) - set(SCOPES):
            fail(f"{path}: {check_id}: scope must be one or more of {SCOPES}, is {entry_scopes!r}")
            continue
        for entry_scope in entry_scopes:
            if (check_id, entry_scope) in seen:
                fail(f"{path}: {check_id} is listed twice for {entry_scope}")
            seen.add((check_id, entry_scope))
        if scope in entry_scopes and check_id not in ids:
            ids.append(check_id)
            print(f"  skip {check_id} [{'+'.join(entry_scopes)}]: {' '.join(why.split())}", file=sys.stderr)
    print(",".join(ids))


# ------------------------------------------------------------------------------------ checkov summary


def checkov_summary(results_json: str, scope: str) -> None:
    """Reads checkov's JSON report: fails on failed checks, parsing errors, or nothing checked."""
    with open(results_json, encoding="utf-8") as f:
        report = json.load(f)
    reports = report if isinstance(report, list) else [report]
    total = {"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0, "resource_count": 0}
    for r in reports:
        summary = r.get("summary", r)
        for key in total:
            total[key] += int(summary.get(key) or 0)
    print(
        f"checkov [{scope}]: {total['resource_count']} resources, {total['passed']} checks passed, "
        f"{total['failed']} failed, {total['parsing_errors']} parsing errors"
    )
    check(total["failed"] == 0, f"checkov [{scope}]: {total['failed']} failed checks (listed above): fix the "
          "manifests, or list a check in scripts/checkov-skips.yaml with a written justification")
    check(total["parsing_errors"] == 0, f"checkov [{scope}]: {total['parsing_errors']} files it could not parse")
    check(total["resource_count"] > 0, f"checkov [{scope}]: no resource checked")


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "render" and len(args) >= 2:
        render(args[0], args[1], args[2:])
    elif cmd == "split" and len(args) >= 2:
        split(args[0], args[1], args[2:])
    elif cmd == "checkov-summary" and len(args) == 2:
        checkov_summary(args[0], args[1])
    elif cmd == "skips" and len(args) == 2:
        skips(args[0], args[1])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
