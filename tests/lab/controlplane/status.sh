#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The control plane's processes, one `NAME up|down` line each (see lab.sh status).
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ -d "$CP_DIR" ] || [ -f "$LAB_DIR/controlplane.env" ] || exit 0
for REPORT_NAME in etcd kube-apiserver kube-controller-manager kube-scheduler kwok lab-provisioner; do
  report alive "$REPORT_NAME"
done
