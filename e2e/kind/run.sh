#!/usr/bin/env bash
# End-to-end run of the operator in a local kind cluster (needs Docker, kind, kubectl and helm; see
# e2e/kind/README.md): builds both images from the repository's Dockerfile, loads them into kind, installs
# the chart, a single-node Kafka and the example pipeline (examples/pipeline.yaml with replication
# factor 1 and the `dev` images), generates sample data into a PVC, waits until every FreelanceFlow
# resource is Ready, runs the ingestion once and checks that the warehouse computed the indicators.
#
#   bash e2e/kind/run.sh              # from any directory; the cluster is kept afterwards
#   FF_E2E_DELETE_CLUSTER=1 bash e2e/kind/run.sh   # delete the cluster at the end, pass or fail
#   FF_E2E_SKIP_BUILD=1 bash e2e/kind/run.sh       # reuse the images already built
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

# --- names (examples/pipeline.yaml and the chart) ---------------------------------------------------------
CLUSTER="${FF_E2E_CLUSTER:-freelanceflow}"
TAG="${FF_E2E_TAG:-dev}"
IMAGE="ghcr.io/freelanceflow/freelanceflow:$TAG"
OPERATOR_IMAGE="ghcr.io/freelanceflow/freelanceflow-operator:$TAG"
RELEASE=freelanceflow
OPERATOR_NAMESPACE=freelanceflow-system
NAMESPACE=freelanceflow                 # the namespace of every resource of examples/pipeline.yaml
EXAMPLE=examples/pipeline.yaml
TOPICS=(profils factures)               # KafkaTopic resources
WAREHOUSE=warehouse                     # Warehouse
PROCESSING_CLUSTER=pipeline             # ProcessingCluster
INGESTION=daily-load                    # Ingestion
INGESTION_CRONJOB=daily-load-loader     # the CronJob the operator makes for it
INCOMING_PVC=incoming                   # the Ingestion's source PersistentVolumeClaim
DASHBOARD=dashboards                    # Dashboard
MONITORING=monitoring                   # MonitoringStack
INVOICES="${FF_E2E_INVOICES:-5000}"     # invoice lines of the generated sample data
READY_TIMEOUT="${FF_E2E_READY_TIMEOUT:-15m}"
LOAD_TIMEOUT="${FF_E2E_LOAD_TIMEOUT:-10m}"
KPI_TIMEOUT_SECONDS="${FF_E2E_KPI_TIMEOUT_SECONDS:-600}"

log() { printf '\033[1m[e2e-kind]\033[0m %s\n' "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

for tool in docker kind kubectl helm; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is missing (see e2e/kind/README.md)"
done
docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed)"
[ -f "$EXAMPLE" ] || die "$EXAMPLE is missing"

diagnostics() {
    log "diagnostics"
    kubectl get freelanceflow -n "$NAMESPACE" -o wide || true
    kubectl get pods,jobs,pvc -n "$NAMESPACE" -o wide || true
    kubectl get events -n "$NAMESPACE" --sort-by=.lastTimestamp 2>/dev/null | tail -n 30 || true
    kubectl logs -n "$OPERATOR_NAMESPACE" "deploy/$RELEASE" --tail=100 || true
}
finish() {
    local rc=$?
    if [ "$rc" -ne 0 ]; then diagnostics; fi
    if [ "${FF_E2E_DELETE_CLUSTER:-0}" = 1 ]; then
        kind delete cluster --name "$CLUSTER" || true
    else
        log "the cluster is kept: kind delete cluster --name $CLUSTER"
    fi
    exit "$rc"
}
trap finish EXIT

# --- cluster and images -----------------------------------------------------------------------------------
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
    log "reusing kind cluster $CLUSTER"
else
    kind create cluster --name "$CLUSTER" --wait 120s
fi
kubectl config use-context "kind-$CLUSTER" >/dev/null

if [ "${FF_E2E_SKIP_BUILD:-0}" != 1 ]; then
    log "building $IMAGE and $OPERATOR_IMAGE (the first build takes a while)"
    docker build -t "$IMAGE" .
    docker build --target operator -t "$OPERATOR_IMAGE" .
fi
kind load docker-image --name "$CLUSTER" "$IMAGE" "$OPERATOR_IMAGE"

# --- the operator -------------------------------------------------------------------------------------------
# IfNotPresent: the images were loaded into the nodes, no registry has the `dev` tag
helm upgrade --install "$RELEASE" charts/freelanceflow \
    --namespace "$OPERATOR_NAMESPACE" --create-namespace \
    --set image.tag="$TAG" --set image.pullPolicy=IfNotPresent \
    --wait --timeout 5m
kubectl rollout status -n "$OPERATOR_NAMESPACE" "deploy/$RELEASE" --timeout=3m

# --- Kafka and the sample data ----------------------------------------------------------------------------
kubectl create namespace "$NAMESPACE" --dry-run=client -o yaml | kubectl apply -f -
log "single-node Kafka (e2e/kind/kafka.yaml)"
kubectl apply -f e2e/kind/kafka.yaml
kubectl rollout status -n "$NAMESPACE" statefulset/kafka --timeout=5m

log "sample data: PVC $INCOMING_PVC filled by 'freelanceflow generate'"
kubectl apply -f - <<EOF
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: $INCOMING_PVC
  namespace: $NAMESPACE
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
EOF
kubectl delete job -n "$NAMESPACE" e2e-generate --ignore-not-found
kubectl apply -f - <<EOF
apiVersion: batch/v1
kind: Job
metadata:
  name: e2e-generate
  namespace: $NAMESPACE
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        fsGroup: 65532
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: generate
          image: $IMAGE
          imagePullPolicy: IfNotPresent
          # the PVC's root is /data/incoming: the files land at the root of the volume, where the
          # Ingestion reads them (source.path empty)
          command: [freelanceflow, generate, --out, /data/incoming, --invoices, "$INVOICES"]
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: [ALL]
          volumeMounts:
            - name: incoming
              mountPath: /data/incoming
      volumes:
        - name: incoming
          persistentVolumeClaim:
            claimName: $INCOMING_PVC
EOF
kubectl wait -n "$NAMESPACE" --for=condition=complete job/e2e-generate --timeout=5m

# --- the example pipeline ---------------------------------------------------------------------------------
# No kustomize: the example is applied through sed, with replication factor 1 (one Kafka broker here)
# instead of 2, and every FreelanceFlow image at the `dev` tag loaded above.
log "applying $EXAMPLE (sed: replicationFactor 2 -> 1, images -> :$TAG)"
sed -E \
    -e 's/(replicationFactor:[[:space:]]*)2([[:space:]]*(#.*)?)$/\11\2/' \
    -e "s#(ghcr\.io/freelanceflow/freelanceflow(-operator)?):[A-Za-z0-9._-]+#\1:$TAG#g" \
    -e 's/(imagePullPolicy:[[:space:]]*)Always/\1IfNotPresent/' \
    "$EXAMPLE" | kubectl apply -f -

resources=()
for t in "${TOPICS[@]}"; do resources+=("kafkatopic/$t"); done
resources+=("warehouse/$WAREHOUSE" "processingcluster/$PROCESSING_CLUSTER" "ingestion/$INGESTION"
    "dashboard/$DASHBOARD" "monitoringstack/$MONITORING")
log "waiting for Ready: ${resources[*]} (timeout $READY_TIMEOUT)"
kubectl wait -n "$NAMESPACE" --for=condition=Ready "${resources[@]}" --timeout="$READY_TIMEOUT"
kubectl get freelanceflow -n "$NAMESPACE"

# --- one ingestion run ------------------------------------------------------------------------------------
load_job="e2e-load-$(date +%s)"
log "running the ingestion once: job/$load_job from cronjob/$INGESTION_CRONJOB"
kubectl create job -n "$NAMESPACE" --from="cronjob/$INGESTION_CRONJOB" "$load_job"
kubectl wait -n "$NAMESPACE" --for=condition=complete "job/$load_job" --timeout="$LOAD_TIMEOUT"
kubectl logs -n "$NAMESPACE" "job/$load_job" --tail=20 || true

# --- the indicators in the warehouse ---------------------------------------------------------------------
# the warehouse's pod: ordinal 0 of the StatefulSet the Warehouse owns
sts="$(kubectl get statefulset -n "$NAMESPACE" -o \
    jsonpath='{range .items[*]}{.metadata.name}{" "}{.metadata.ownerReferences[0].kind}{" "}{.metadata.ownerReferences[0].name}{"\n"}{end}' |
    awk -v w="$WAREHOUSE" '$2 == "Warehouse" && $3 == w { print $1; exit }')"
[ -n "$sts" ] || die "no StatefulSet owned by Warehouse $WAREHOUSE"
pod="${FF_E2E_WAREHOUSE_POD:-$sts-0}"
# the pipeline's database URL, from the Secret the Warehouse status names
secret="$(kubectl get warehouse -n "$NAMESPACE" "$WAREHOUSE" -o jsonpath='{.status.urlSecret.name}')"
key="$(kubectl get warehouse -n "$NAMESPACE" "$WAREHOUSE" -o jsonpath='{.status.urlSecret.key}')"
psql_target=(-U postgres -d freelances_db)
if [ -n "$secret" ] && [ -n "$key" ]; then
    url="$(kubectl get secret -n "$NAMESPACE" "$secret" -o "jsonpath={.data.${key//./\\.}}" | base64 -d)"
    psql_target=("$url")
fi
container=()
if [ -n "${FF_E2E_WAREHOUSE_CONTAINER:-}" ]; then container=(-c "$FF_E2E_WAREHOUSE_CONTAINER"); fi
psql_in_warehouse() {
    kubectl exec -n "$NAMESPACE" "$pod" "${container[@]}" -- psql "${psql_target[@]}" -v ON_ERROR_STOP=1 "$@"
}

log "waiting for the indicators (T3) in $pod (timeout ${KPI_TIMEOUT_SECONDS}s)"
deadline=$(( $(date +%s) + KPI_TIMEOUT_SECONDS ))
rows=0
while :; do
    rows="$(psql_in_warehouse -qtAX -c 'SELECT count(*) FROM indicateurs' 2>/dev/null | tr -d '[:space:]' || true)"
    if [ -n "$rows" ] && [ "$rows" -gt 0 ] 2>/dev/null; then break; fi
    [ "$(date +%s)" -lt "$deadline" ] || die "no rows in indicateurs after ${KPI_TIMEOUT_SECONDS}s"
    sleep 10
done
psql_in_warehouse -c 'SELECT * FROM indicateurs'
log "PASSED: $rows rows in indicateurs"
