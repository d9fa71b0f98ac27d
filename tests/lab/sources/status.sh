#!/usr/bin/env bash
# The sources' daemons (nginx, docker-registry), one `NAME up|down` line each (see lab.sh status).
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$LAB_ROOT/sources/common.sh"

[ -f "$NGINX_PID" ] || [ -f "$REGISTRY_PID" ] || [ -f "$LAB_DIR/sources.env" ] || exit 0
REPORT_NAME=nginx report pidfile_running "$NGINX_PID" nginx
REPORT_NAME=docker-registry report pidfile_running "$REGISTRY_PID" docker-registry
