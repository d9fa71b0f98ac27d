#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The control plane's processes, one `NAME up|down` line each (see lab.sh status).
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ -d "$CP_DIR" ] || [ -f "$LAB_DIR/controlplane.env" ] || exit 0
for REPORT_NAME in etcd kube-apiserver kube-controller-manager kube-scheduler kwok lab-provisioner lab-cluster-provisioner lab-loadbalancer; do
  report alive "$REPORT_NAME"
done
# A provisioner of this lab dir that no pid file names (e.g. one started from another clone) serves claims too.
tracked=$(cat "$CP_DIR/lab-provisioner.pid" 2>/dev/null || true)
for pid in $(pgrep -f "lab_provisioner.py --kubeconfig $ADMIN_CONF " || true); do
  [ "$pid" = "$tracked" ] || echo "untracked-lab-provisioner-pid-$pid up"
done
