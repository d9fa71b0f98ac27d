#!/usr/bin/env bash
# The Patroni lab's processes, one `NAME up|down` line each (see lab.sh status): etcd and every member
# that has a config, plus any untracked process running as postgres from $LAB_DIR/patroni.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"
# shellcheck source=common.sh
source "$HERE/common.sh"

[ -d "$PDIR" ] || [ -f "$LAB_DIR/patroni.env" ] || exit 0
known=()
line() { if alive "$2"; then echo "$1 up"; known+=("$(cat "$2" 2>/dev/null || true)"); else echo "$1 down"; fi; }
line etcd "$PDIR/etcd.pid"
shopt -s nullglob
for cfg in "$PDIR"/lab*/pg*.yml; do
  base=${cfg%.yml}
  line "$(basename "$(dirname "$cfg")")/$(basename "$base")" "$base.pid"
  if alive "$base.reaper.pid"; then known+=("$(cat "$base.reaper.pid" 2>/dev/null || true)"); fi
  pm="$base/data/postmaster.pid"
  if [ -s "$pm" ]; then known+=("$(head -1 "$pm" 2>/dev/null || true)"); fi
done
while read -r pid; do
  [[ " ${known[*]} " == *" $pid "* ]] || echo "untracked-pid-$pid up"
done < <(pgrep -u postgres -f -- "$PDIR/" || true)
