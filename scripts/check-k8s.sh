#!/usr/bin/env bash
# Checks every Kubernetes manifest of the repository, offline (no cluster, no helm binary):
#  1. the Helm chart (charts/freelanceflow): rendered with helm-python-sdk (Helm 4's Go SDK) for the
#     default values and for each charts/freelanceflow/ci/*-values.yaml, linted by the SDK (warnings fail),
#     and the renders checked (the 6 CRDs by default and none with crds.create=false, a Recreate
#     single-replica Deployment with a hardened security context and resource limits, least-privilege RBAC,
#     standard labels): scripts/check_k8s.py;
#  2. kubernetes-validate (Kubernetes 1.36 schemas, strict: unknown fields fail) on the renders, on
#     crds/yaml/*.yaml, on operator/tests/golden/**/*.yaml, on e2e/kind/*.yaml and on examples/*.yaml.
#     It has no schema for custom resources (freelanceflow.io, monitoring.coreos.com): those documents are
#     left out with a printed note (the examples' FreelanceFlow resources are checked against their CRDs
#     by the Rust tests). Any other kind without a schema fails: kubernetes-validate itself only warns;
#  3. checkov (kubernetes framework) on the renders and on operator/tests/golden/: any failed check fails,
#     except those listed with a justification in scripts/checkov-skips.yaml.
# The tools come from the venv of scripts/python-tools.sh (installed on first use). Outputs are kept in
# $FF_K8S_CHECK_DIR (default $CARGO_TARGET_DIR/k8s-check) for inspection. Runs from any directory.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHART="$ROOT/charts/freelanceflow"
KUBE_VERSION=1.36.0
SKIPS="$ROOT/scripts/checkov-skips.yaml"
GOLDEN="$ROOT/operator/tests/golden"

BIN="$(bash "$ROOT/scripts/python-tools.sh")"
PY="$BIN/python"
export PYTHONUNBUFFERED=1
OUT="${FF_K8S_CHECK_DIR:-${CARGO_TARGET_DIR:-$HOME/.cache/freelanceflow/target}/k8s-check}"
# only what this script writes there (the folder may be one a user named)
rm -rf "$OUT/rendered" "$OUT/validate" "$OUT/checkov-chart" "$OUT/checkov-golden"
rm -f "$OUT/validate-expected" "$OUT"/kubernetes-validate.log "$OUT"/checkov-*.log
mkdir -p "$OUT/rendered" "$OUT/validate"

declare -a summary=()
failed=0
step() { # name status
    summary+=("$(printf '%-34s %s' "$1" "$2")")
    case "$2" in ok*) ;; *) failed=1 ;; esac
}

echo "== 1. helm render + lint ($CHART)"
shopt -s nullglob
values_files=("$CHART"/ci/*-values.yaml)
if "$PY" "$ROOT/scripts/check_k8s.py" render "$CHART" "$OUT/rendered" "${values_files[@]}"; then
    step "helm render, lint, render checks" ok
else
    step "helm render, lint, render checks" FAILED
fi

echo
echo "== 2. kubernetes-validate -k $KUBE_VERSION --strict"
inputs=("$OUT"/rendered/*.yaml "$ROOT"/crds/yaml/*.yaml "$ROOT"/e2e/kind/*.yaml "$ROOT"/examples/*.yaml)
golden=()
if [ -d "$GOLDEN" ]; then
    while IFS= read -r -d '' f; do golden+=("$f"); done < <(find "$GOLDEN" -type f \( -name '*.yaml' -o -name '*.yml' \) -print0 | sort -z)
    inputs+=("${golden[@]}")
    echo "operator/tests/golden: ${#golden[@]} files"
else
    echo "NOTE operator/tests/golden/ does not exist (yet): no golden files to check"
fi
if [ -z "$(compgen -G "$ROOT/examples/*.yaml" || true)" ]; then
    echo "NOTE examples/*.yaml: none (yet)"
fi
validate_ok=1
"$PY" "$ROOT/scripts/check_k8s.py" split "$OUT/validate" "$ROOT" "${inputs[@]}" || validate_ok=0
to_validate=("$OUT"/validate/*)
if [ "${#to_validate[@]}" -eq 0 ]; then
    echo "FAIL nothing to validate"
    validate_ok=0
else
    kv_rc=0
    "$BIN/kubernetes-validate" -k "$KUBE_VERSION" --strict "${to_validate[@]}" >"$OUT/kubernetes-validate.log" 2>&1 || kv_rc=$?
    passed=$(grep -c '^INFO .* passed for resource' "$OUT/kubernetes-validate.log" || true)
    # WARN is how kubernetes-validate reports a kind it has no schema for (and still exits 0): every custom
    # resource group it cannot know was left out above, so a WARN here is a typo'd or unknown kind.
    if grep -v '^INFO ' "$OUT/kubernetes-validate.log"; then validate_ok=0; fi
    if [ "$kv_rc" -ne 0 ]; then
        echo "FAIL kubernetes-validate exited with $kv_rc"
        validate_ok=0
    fi
    expected="$(cat "$OUT/validate-expected" 2>/dev/null || echo '?')"
    echo "kubernetes-validate: $passed of $expected resources passed (log: $OUT/kubernetes-validate.log)"
    if [ "$passed" != "$expected" ]; then
        echo "FAIL kubernetes-validate passed $passed resources, $expected were given"
        validate_ok=0
    fi
fi
if [ "$validate_ok" = 1 ]; then step "kubernetes-validate $KUBE_VERSION strict" ok; else step "kubernetes-validate $KUBE_VERSION strict" FAILED; fi

echo
echo "== 3. checkov (kubernetes)"
export BC_SKIP_MAPPING=TRUE
run_checkov() { # scope file...
    local scope="$1" ids rc=0 f
    shift
    if ! ids="$("$PY" "$ROOT/scripts/check_k8s.py" skips "$SKIPS" "$scope")"; then
        echo "FAIL $SKIPS: every entry needs an id and a written justification (see above)"
        return 1
    fi
    # files one by one (-f): checkov's directory walk skips hidden folders such as ~/.cache
    local args=(--skip-download --framework kubernetes --quiet --compact -o cli -o json
        --output-file-path "$OUT/checkov-$scope")
    for f in "$@"; do args+=(-f "$f"); done
    if [ -n "$ids" ]; then args+=(--skip-check "$ids"); fi
    echo "-- checkov [$scope] on $# files (skipped checks: ${ids:-none})"
    "$BIN/checkov" "${args[@]}" >"$OUT/checkov-$scope.log" 2>&1 || rc=$?
    if [ -s "$OUT/checkov-$scope/results_cli.txt" ]; then
        cat "$OUT/checkov-$scope/results_cli.txt"
    fi
    if [ ! -f "$OUT/checkov-$scope/results_json.json" ]; then
        cat "$OUT/checkov-$scope.log"
        echo "FAIL checkov [$scope] wrote no report (exit code $rc)"
        return 1
    fi
    "$PY" "$ROOT/scripts/check_k8s.py" checkov-summary "$OUT/checkov-$scope/results_json.json" "$scope" || return 1
    if [ "$rc" -ne 0 ]; then
        echo "FAIL checkov [$scope] exited with $rc (log: $OUT/checkov-$scope.log)"
        return 1
    fi
}
if run_checkov chart "$OUT"/rendered/*.yaml; then step "checkov chart renders" ok; else step "checkov chart renders" FAILED; fi
if [ "${#golden[@]}" -gt 0 ]; then
    if run_checkov golden "${golden[@]}"; then step "checkov operator/tests/golden" ok; else step "checkov operator/tests/golden" FAILED; fi
else
    step "checkov operator/tests/golden" "ok (no golden files yet)"
fi

echo
echo "== summary (outputs in $OUT)"
printf '%s\n' "${summary[@]}"
if [ "$failed" = 1 ]; then
    echo "check-k8s: FAILED"
    exit 1
fi
echo "check-k8s: all Kubernetes checks passed"
