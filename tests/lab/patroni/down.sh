#!/usr/bin/env bash
# Stops the Patroni lab clusters and their etcd, then removes $LAB_DIR/patroni and patroni.env.
# Works on a half-built state: stops every member at once (pid files, postmaster.pid files), then
# anything still running as postgres from $LAB_DIR/patroni.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"
# shellcheck source=common.sh
source "$HERE/common.sh"
need_root

shopt -s nullglob
pidfiles=("$PDIR"/lab*/pg*.reaper.pid)
for f in "$PDIR"/lab*/pg*.pid; do [[ "$f" == *.reaper.pid ]] || pidfiles+=("$f"); done
[ -f "$PDIR/etcd.pid" ] && pidfiles+=("$PDIR/etcd.pid")
if [ ${#pidfiles[@]} -gt 0 ]; then stop_members "${pidfiles[@]}"; fi
# Anything left that runs from our state dir as postgres (a member whose pid file was lost).
mapfile -t rest < <(pgrep -u postgres -f -- "$PDIR/" || true)
if [ ${#rest[@]} -gt 0 ]; then
  log "patroni: stopping leftover processes ${rest[*]}"
  stop_pids TERM "${rest[@]}"
fi
rm -rf "$PDIR" "$LAB_DIR/patroni.env"
log "patroni: down"
