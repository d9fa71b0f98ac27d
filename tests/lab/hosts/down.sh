#!/usr/bin/env bash
# Stops the lab hosts and removes their state; safe on a half-built or already-removed lab.
# Keeps the rootfs tarball and the apt cache (in $CACHE_DIR) and the lab ssh key.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=common.sh
source "$HERE/common.sh"
# shellcheck source=apt_proxy.sh
source "$HERE/apt_proxy.sh"
need_root
: "${LAB_STOP_TIMEOUT:=30}"   # seconds for a clean guest shutdown before SIGKILL

# Processes whose root directory is inside this host's rootfs (left behind if nspawn itself died).
guest_pids() {
  local root=$1 p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && echo "${p#/proc/}"
  done
  return 0
}

stop_host() {
  local dir=$1 pid i root
  root="$dir/rootfs"
  if pid_alive "$dir/nspawn.pid"; then
    pid=$(cat "$dir/nspawn.pid")
    log "stopping $(basename "$dir")"
    kill -TERM "$pid"    # nspawn passes it on as SIGRTMIN+3: an orderly poweroff of the guest
    for i in $(seq $((LAB_STOP_TIMEOUT * 5))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  [ -d "$root" ] || return 0
  # shellcheck disable=SC2046
  kill -KILL $(guest_pids "$root") 2>/dev/null || true
  for i in $(seq 25); do [ -z "$(guest_pids "$root")" ] && break; sleep 0.2; done
}

unmount_under() {
  local m
  awk '{print $5}' /proc/self/mountinfo | grep -E "^$1(/|$)" | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
}

if [ -d "$HOSTS_DIR" ]; then
  for d in "$HOSTS_DIR"/*/; do [ -d "$d" ] && stop_host "${d%/}"; done
  unmount_under "$HOSTS_DIR"
fi
ip link show "$LAB_BRIDGE" >/dev/null 2>&1 && ip link del "$LAB_BRIDGE"
proxy_down
rm -rf "$HOSTS_DIR" "$LAB_DIR/hosts.env"
log "hosts down"
