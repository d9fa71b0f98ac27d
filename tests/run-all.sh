#!/usr/bin/env bash
# Runs test tiers in order and prints a summary: `make test` runs all of them, `make check` the ones that need
# neither root nor the lab.
#   tests/run-all.sh [-j] [tier...]    tiers: lint sanity unit lab-up lab-test integration molecule (default: all)
# Every tier runs even after a failure (collection tests then fail, naming the lab part that is missing and the
# command that brings it up); each tier's output is also kept in tests/output/tier-<name>.log. -j runs the tiers
# at once (only for tiers that do not need each other: lint sanity unit). Exits non-zero if any tier failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
parallel=0
if [ "${1:-}" = -j ]; then parallel=1; shift; fi
all=(lint sanity unit lab-up lab-test integration molecule)
[ $# -gt 0 ] || set -- "${all[@]}"
for t in "$@"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "run-all: unknown tier '$t' (known: ${all[*]})" >&2; exit 2; }
done
mkdir -p tests/output
start=$SECONDS

run_tier() {  # $1 tier: its make target, output to the terminal (sequential) and its log; status in a file
  local name=$1 log=tests/output/tier-$1.log t0=$SECONDS rc=0
  if [ "$parallel" = 1 ]; then
    make --no-print-directory "$name" >"$log" 2>&1 || rc=$?
  else
    echo "=== tier $name: make $name"
    make --no-print-directory "$name" 2>&1 | tee "$log" || rc=$?
  fi
  echo "$rc $((SECONDS - t0))" >"tests/output/tier-$name.status"
}

for t in "$@"; do rm -f "tests/output/tier-$t.status"; done
if [ "$parallel" = 1 ]; then
  for t in "$@"; do run_tier "$t" & done
  wait
  for t in "$@"; do echo "=== tier $t: make $t"; cat "tests/output/tier-$t.log"; done
else
  for t in "$@"; do run_tier "$t"; done
fi

echo "=== summary ($((SECONDS - start))s)"
rc=0
for t in "$@"; do
  read -r trc secs <"tests/output/tier-$t.status" || { trc=1; secs="?"; }
  if [ "$trc" = 0 ]; then state=passed; else state=FAILED; rc=1; fi
  # pytest's closing line, for the tiers that run pytest
  closing=$(grep -E '^=+ .*(passed|failed|error).* in [0-9.]+s' "tests/output/tier-$t.log" | tail -1 || true)
  printf '  %-12s %s (%ss)%s\n' "$t:" "$state" "$secs" "${closing:+  $closing}"
done
exit $rc
