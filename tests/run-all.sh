#!/usr/bin/env bash
# `make test`: every tier in order: lint, sanity, pytest (unit + integration, which brings up the lab parts
# each test needs), molecule. Runs every tier even after a failure, then prints a summary whose last line is
# pytest's closing line. Exits non-zero if any tier failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
mkdir -p tests/output
declare -A result; order=()
tier() {
  local name=$1; shift; order+=("$name")
  echo "=== tier $name: $*"
  local start=$SECONDS
  if "$@"; then result[$name]="passed"; else result[$name]="FAILED"; fi
  result[$name]+=" ($((SECONDS - start))s)"
}
tier lint make --no-print-directory lint
tier sanity make --no-print-directory sanity
tier pytest bash -c 'set -o pipefail; pytest tests/unit tests/integration ${PYTEST_ARGS:-} 2>&1 | tee tests/output/pytest.log'
tier molecule make --no-print-directory molecule

echo "=== summary"
rc=0
for t in "${order[@]}"; do echo "  $t: ${result[$t]}"; [[ ${result[$t]} == passed* ]] || rc=1; done
closing=$(grep -E '^=+ .*(passed|failed|error).* in [0-9.]+s' tests/output/pytest.log | tail -1 || true)
echo "${closing:-pytest printed no closing line}"
[ -n "$closing" ] || rc=1
exit $rc
