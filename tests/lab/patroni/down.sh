#!/usr/bin/env bash
# Stops the Patroni lab clusters and their etcd, then removes $LAB_DIR/patroni and patroni.env.
# Works on a half-built state: stops whatever pid files and postmaster.pid files are left.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"
# shellcheck source=common.sh
source "$HERE/common.sh"
need_root

shopt -s nullglob
for pidfile in "$PDIR"/lab*/pg*.pid; do stop_pidfile "$pidfile"; done
# A postmaster whose Patroni was killed hard keeps running: stop it from its data dir.
for pm in "$PDIR"/lab*/pg*/data/postmaster.pid; do
  pid=$(head -1 "$pm")
  if kill -0 "$pid" 2>/dev/null; then
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
done
stop_pidfile "$PDIR/etcd.pid"
rm -rf "$PDIR" "$LAB_DIR/patroni.env"
log "patroni: down"
