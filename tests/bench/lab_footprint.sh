#!/usr/bin/env bash
# Memory and disk the running lab uses: proportional set size (PSS) of every lab process, each counted once
# and grouped by component, plus the size of the runtime dir and of the build cache.
set -euo pipefail
source "$(dirname "$0")/../lab/lib.sh"

declare -A owner=()   # pid -> component; the first component that claims a pid keeps it
claim() {  # claim COMPONENT PID...
  local c=$1 pid; shift
  for pid in "$@"; do [ -n "${owner[$pid]:-}" ] || owner[$pid]=$c; done
}
# Hosts: every process in a host's cgroup subtree (the nspawn payload), and the nspawn processes themselves.
for h in "${LAB_HOSTS[@]}"; do
  while read -r cg; do
    mapfile -t pids < <(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)
    claim hosts "${pids[@]}"
  done < <(find /sys/fs/cgroup -maxdepth 3 -type d -path "*bmk8s-lab/$h" 2>/dev/null)
done
mapfile -t p < <(pgrep -f "systemd-nspawn.*$LAB_DIR" || true); claim hosts "${p[@]}"
mapfile -t p < <(pgrep -f "$LAB_DIR/patroni" || true); claim patroni "${p[@]}"
mapfile -t p < <(pgrep -u postgres || true); claim patroni "${p[@]}"
mapfile -t p < <(pgrep -f "$CACHE_DIR/k8s-|$LAB_DIR/controlplane|lab_provisioner" || true); claim controlplane "${p[@]}"
mapfile -t p < <(pgrep -f "$LAB_DIR/sources|$LAB_DIR/apt-cacher-ng|apt-cacher-ng" || true); claim sources "${p[@]}"

declare -A kb=([hosts]=0 [controlplane]=0 [sources]=0 [patroni]=0)
for pid in "${!owner[@]}"; do
  v=$(awk '/^Pss:/{print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || true)
  [ -n "$v" ] || v=$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
  kb[${owner[$pid]}]=$(( ${kb[${owner[$pid]}]} + ${v:-0} ))
done
total=0
for c in hosts controlplane sources patroni; do
  printf 'bench: lab memory %-12s %6d MiB\n' "$c" $(( kb[$c] / 1024 )); total=$((total + kb[$c]))
done
printf 'bench: lab memory %-12s %6d MiB (%d processes)\n' total $(( total / 1024 )) "${#owner[@]}"
printf 'bench: lab disk runtime %s, cache %s\n' "$(du -sh "$LAB_DIR" 2>/dev/null | cut -f1)" "$(du -sh "$CACHE_DIR" 2>/dev/null | cut -f1)"
