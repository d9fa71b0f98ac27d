#!/usr/bin/env bash
# Stops the sources' nginx and docker-registry (by pidfile; fine on a half-built state).
# Keeps the generated key, password and content for the next up; --purge removes them too.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "$LAB_ROOT/sources/common.sh"

stop_pid "$NGINX_PID" nginx "$NGINX_CONF"
stop_pid "$REGISTRY_PID" docker-registry "$REGISTRY_CONF"
if [ -d "$GNUPGHOME" ]; then gpgconf --kill gpg-agent 2>/dev/null || true; fi
rm -f "$LAB_DIR/sources.env"
if [ "${1:-}" = --purge ]; then
  rm -rf "$SRC_DIR"
  log "sources: purged $SRC_DIR"
fi
log "sources: down"
