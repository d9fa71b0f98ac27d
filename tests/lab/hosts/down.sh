#!/usr/bin/env bash
# Stops the lab hosts and removes their state; safe on a half-built or already-removed lab.
# Keeps the rootfs tarball and the apt cache (in $CACHE_DIR) and the lab ssh key.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=SCRIPTDIR/common.sh
source "$HERE/common.sh"
# shellcheck source=SCRIPTDIR/apt_proxy.sh
source "$HERE/apt_proxy.sh"
need_root
: "${LAB_STOP_TIMEOUT:=30}"   # seconds for a clean guest shutdown before SIGKILL

names=()
[ -d "$HOSTS_DIR" ] && for d in "$HOSTS_DIR"/*/; do [ -d "$d" ] && names+=("$(basename "$d")"); done
names+=("${LAB_HOSTS[@]}" rootfs-build)
mapfile -t names < <(printf '%s\n' "${names[@]}" | sort -u)

# All at once: SIGTERM makes nspawn send SIGRTMIN+3, an orderly poweroff of the guest.
for n in "${names[@]}"; do
  pid_alive "$HOSTS_DIR/$n/nspawn.pid" && { log "stopping $n"; kill -TERM "$(cat "$HOSTS_DIR/$n/nspawn.pid")"; }
done
deadline=$((SECONDS + LAB_STOP_TIMEOUT))
for n in "${names[@]}"; do
  while pid_alive "$HOSTS_DIR/$n/nspawn.pid" && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
done
# Whatever is left (a guest whose nspawn was killed, a hung shutdown) is still in the host's cgroups.
for n in "${names[@]}"; do
  # shellcheck disable=SC2046
  kill -KILL $(host_pids "$n") 2>/dev/null || true
  for _ in $(seq 25); do [ -z "$(host_pids "$n")" ] && break; sleep 0.2; done
  remove_cgroups "$n"
  remove_kubelet_cgroups "$n"
  remove_veth "$n"
done
for cg in $(host_cgroups lab); do rmdir "$(dirname "$cg")" 2>/dev/null || true; done

if [ -d "$HOSTS_DIR" ]; then
  awk '{print $5}' /proc/self/mountinfo | grep -E "^$HOSTS_DIR(/|$)" | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done || true
fi
ip link show "$LAB_BRIDGE" >/dev/null 2>&1 && ip link del "$LAB_BRIDGE"
proxy_down
tunables_down
rm -rf "$HOSTS_DIR" "$LAB_DIR/hosts.env"
log "hosts down"
