#!/usr/bin/env bash
# Installs the pinned Python tools the Kubernetes checks use into a virtualenv outside the clone
# (default ~/.cache/freelanceflow/venv, FF_VENV to change it) and prints the venv's bin folder.
#   kubernetes-validate: manifests against the Kubernetes OpenAPI schemas, offline
#   helm-python-sdk:     Helm's Go SDK as a shared library (render, lint); there is no helm binary here
#   checkov:             security policies on the rendered manifests
# Re-running is cheap: pip is skipped when the pinned versions are already there.
set -euo pipefail
VENV="${FF_VENV:-$HOME/.cache/freelanceflow/venv}"
PINS=(kubernetes-validate==1.37.0 helm-python-sdk==0.2.2 checkov==3.3.30)
stamp="$VENV/.freelanceflow-pins"
if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "${PINS[*]}" ]; then
    echo "$VENV/bin"
    exit 0
fi
if ! python3 -m venv --help >/dev/null 2>&1; then
    echo "python-tools: python3 with the venv module is missing. On Debian/Ubuntu: sudo apt-get install -y python3-venv" >&2
    exit 1
fi
echo "python-tools: installing ${PINS[*]} into $VENV" >&2
python3 -m venv "$VENV" >&2
"$VENV/bin/pip" install --quiet --disable-pip-version-check "${PINS[@]}" >&2
echo "${PINS[*]}" >"$stamp"
echo "$VENV/bin"
