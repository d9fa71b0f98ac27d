#!/usr/bin/env bash
# Time and peak memory of bringing the whole lab up from down:
#   tests/bench/lab_up.sh          warm: the build cache (~/.cache/baremetal-k8s) is reused
#   tests/bench/lab_up.sh --cold   cold: empty build, Go and pip caches in a temp dir (deleted afterwards)
# Peak memory is the highest (MemTotal - MemAvailable) seen during bring-up minus the value before it.
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/lab/lib.sh
need_root
mode=warm
if [ "${1:-}" = --cold ]; then
  mode=cold; cold=$(mktemp -d /var/tmp/bmk8s-cold.XXXX)
  export BMK8S_CACHE_DIR=$cold/cache GOCACHE=$cold/go-build GOMODCACHE=$cold/go-mod npm_config_cache=$cold/npm
  trap 'chmod -R u+w "$cold" 2>/dev/null; rm -rf "$cold"' EXIT
fi
used_kb() { awk '/^MemTotal:/{t=$2} /^MemAvailable:/{a=$2} END{print t-a}' /proc/meminfo; }

tests/lab/lab.sh down >/dev/null 2>&1 || true
sync; base=$(used_kb); peak_file=$(mktemp)
( peak=0; while :; do u=$(used_kb); [ "$u" -gt "$peak" ] && peak=$u && echo "$peak" > "$peak_file"; sleep 1; done ) &
sampler=$!
start=$EPOCHREALTIME
tests/lab/lab.sh up
end=$EPOCHREALTIME
kill "$sampler"; wait "$sampler" 2>/dev/null || true
peak=$(cat "$peak_file"); rm -f "$peak_file"
awk -v a="$start" -v b="$end" -v m="$mode" 'BEGIN{printf "bench: lab up (%s, from down): %.0f s\n", m, b-a}'
echo "bench: lab up peak memory above baseline: $(( (peak - base) / 1024 )) MiB"
tests/bench/lab_footprint.sh
