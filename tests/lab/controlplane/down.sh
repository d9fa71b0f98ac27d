#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Stop the lab control plane and remove its runtime state ($LAB_DIR/controlplane, kubeconfigs, PVs,
# env file). Works on a half-built state; keeps the binary cache.
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_root

# Our processes: pidfiles first, then anything still running from our binaries or with our state dir.
pids=()
for f in "$CP_DIR"/*.pid; do
  pid=$(cat "$f" 2>/dev/null || true)
  if ours "$pid"; then pids+=("$pid"); fi
done
while read -r pid; do pids+=("$pid"); done < <(
  pgrep -f "^$K8S_BIN/(kube-apiserver|kube-controller-manager|kube-scheduler|kwok) " || true
  pgrep -f "^$LAB_ETCD_BIN --name bmk8s-cp --data-dir $CP_DIR/etcd" || true
  pgrep -f "lab_provisioner.py --kubeconfig $ADMIN_CONF " || true   # from any clone, for this lab dir
  pgrep -f "lab_provisioner.py --kubeconfig $CLUSTER_ADMIN_CONF " || true
  pgrep -f "lab_loadbalancer.py --kubeconfig $CLUSTER_ADMIN_CONF" || true
)
# SIGTERM everything, wait up to 10s, then SIGKILL what is left.
for pid in "${pids[@]}"; do
  kill "$pid" 2>/dev/null || true
done
for _ in $(seq 40); do
  left=0
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then left=1; fi
  done
  [ "$left" = 0 ] && break
  sleep 0.25
done
for pid in "${pids[@]}"; do
  kill -KILL "$pid" 2>/dev/null || true
done

rm -rf "$CP_DIR" "$LAB_DIR/pv" "$ADMIN_CONF" "$LAB_DIR/admin-bridge.conf" "$LAB_DIR/controlplane.env"
log "controlplane: down"
