#!/usr/bin/env bash
# The lab hosts' processes (one systemd-nspawn per host, the apt proxy), one `NAME up|down` line each
# (see lab.sh status).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=SCRIPTDIR/common.sh
source "$HERE/common.sh"
# shellcheck source=SCRIPTDIR/apt_proxy.sh
source "$HERE/apt_proxy.sh"

[ -d "$HOSTS_DIR" ] || [ -d "$PROXY_DIR" ] || [ -f "$LAB_DIR/hosts.env" ] || exit 0
for REPORT_NAME in "${LAB_HOSTS[@]}"; do
  report pidfile_running "$HOSTS_DIR/$REPORT_NAME/nspawn.pid" systemd-nspawn
done
REPORT_NAME=apt-cacher-ng report pidfile_running "$(proxy_pidfile)" apt-cacher-ng
