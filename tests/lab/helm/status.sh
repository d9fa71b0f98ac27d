#!/usr/bin/env bash
# helm runs no process: it is up when its env file names binaries that are there (see lab.sh status).
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

[ -f "$LAB_DIR/helm.env" ] || exit 0
# shellcheck source=/dev/null
source "$LAB_DIR/helm.env"
REPORT_NAME=helm report test -x "${LAB_HELM:-/nonexistent}"
REPORT_NAME=kubectl report test -x "${LAB_LAYER_KUBECTL:-/nonexistent}"
