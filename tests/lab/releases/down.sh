#!/usr/bin/env bash
# The releases part runs no process: down forgets it (the built files stay cached for the next up).
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
rm -f "$LAB_DIR/releases.env"
log "releases: down"
