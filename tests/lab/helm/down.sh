#!/usr/bin/env bash
# The helm part runs nothing: down only removes $LAB_DIR/helm.env. The binaries and the diff plugin
# stay cached in $CACHE_DIR/helm-<version> for the next up.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

rm -f "$LAB_DIR/helm.env"
log "helm: down (binaries kept in $CACHE_DIR)"
