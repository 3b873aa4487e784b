#!/usr/bin/env bash
# Checks the Prometheus alert rules (observability/prometheus/alerts.yaml, loaded by the Prometheus of a
# MonitoringStack or written as its PrometheusRule):
#  - `promtool check rules`: syntax, PromQL, templates;
#  - `promtool test rules` on observability/prometheus/alerts_test.yaml: each alert fires with its labels
#    and annotations once its `for` has elapsed, and does not fire in the near misses.
# Needs promtool (Debian package prometheus, installed by scripts/install-deps.sh). Runs from any directory.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RULES="$ROOT/observability/prometheus"

if ! command -v promtool >/dev/null 2>&1; then
    echo "check-alerts: 'promtool' is missing. Run scripts/install-deps.sh (Debian package prometheus:" \
        "sudo apt-get install -y --no-install-recommends prometheus)" >&2
    exit 1
fi

echo "== promtool check rules ($(promtool --version 2>&1 | head -n1))"
promtool check rules "$RULES/alerts.yaml"
echo "== promtool test rules"
# rule_files in the test file are relative to the test file itself
promtool test rules "$RULES/alerts_test.yaml"
echo "check-alerts: all checks passed"
