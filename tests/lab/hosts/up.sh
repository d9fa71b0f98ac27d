#!/usr/bin/env bash
# The lab's four hosts: Debian machines booted with systemd-nspawn on the lab bridge, reachable by
# ssh with the lab key, apt through the lab's apt-cacher-ng. Idempotent: reuses what is running.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=SCRIPTDIR/common.sh
source "$HERE/common.sh"
# shellcheck source=SCRIPTDIR/apt_proxy.sh
source "$HERE/apt_proxy.sh"
# shellcheck source=SCRIPTDIR/rootfs.sh
source "$HERE/rootfs.sh"
: "${LAB_BOOT_TIMEOUT:=180}"   # seconds per host until ssh works and systemd is up

check_prereqs() {
  need_root
  need_cmd systemd-nspawn "apt-get install -y systemd-container"
  need_cmd debootstrap "apt-get install -y debootstrap"
  need_cmd apt-cacher-ng "apt-get install -y apt-cacher-ng"
  need_cmd ssh "apt-get install -y openssh-client"
  need_cmd ip "apt-get install -y iproute2"
  need_cmd curl "apt-get install -y curl"
  local need_mb=3000 avail_mb dir
  [ -f "$(rootfs_tarball)" ] && need_mb=2000
  for dir in "$LAB_DIR" "$CACHE_DIR"; do
    mkdir -p "$dir"
    avail_mb=$(df -Pm "$dir" | awk 'NR==2 {print $4}')
    [ "$avail_mb" -ge "$need_mb" ] ||
      die "only ${avail_mb} MB free under $dir, the hosts need ~${need_mb} MB: free space or set BMK8S_LAB_DIR/BMK8S_CACHE_DIR"
  done
}

ensure_ssh_key() {
  [ -f "$SSH_KEY" ] && return 0
  install -d -m 0700 "$(dirname "$SSH_KEY")"
  ssh-keygen -q -t ed25519 -N '' -C bmk8s-lab -f "$SSH_KEY"
  chmod 0600 "$SSH_KEY"
}

# A private bridge with the lab's /24; nothing forwards or NATs off it (hosts reach the bridge only).
bridge_up() {
  ip link show "$LAB_BRIDGE" >/dev/null 2>&1 || ip link add "$LAB_BRIDGE" type bridge
  ip addr replace "$LAB_BRIDGE_IP/24" dev "$LAB_BRIDGE"
  ip link set "$LAB_BRIDGE" up
  sysctl -qw "net.ipv4.conf.$LAB_BRIDGE.forwarding=0"
}

boot_host() {
  local name=$1 dir="$HOSTS_DIR/$1"
  pid_alive "$dir/nspawn.pid" && return 0
  log "booting $name (${LAB_HOST_IP[$name]})"
  remove_veth "$name"
  # --register=no/--keep-unit: no host systemd here. On SIGTERM nspawn shuts the guest down cleanly.
  # The subshell joins the host's own cgroups, then becomes nspawn (same pid, for the pidfile).
  # shellcheck disable=SC2086
  (
    exec_in_cgroup "$name" setsid systemd-nspawn --register=no --keep-unit --quiet -D "$dir/rootfs" -M "$name" --boot \
      --network-bridge="$LAB_BRIDGE" --resolv-conf=off --timezone=off --link-journal=no \
      --console=read-only --capability="$LAB_NSPAWN_CAPS" --system-call-filter="$LAB_NSPAWN_SYSCALLS" \
      ${LAB_NSPAWN_EXTRA_ARGS:-}
  ) >"$dir/console.log" 2>&1 </dev/null &
  echo $! > "$dir/nspawn.pid"
}

wait_host() {
  local name=$1 state="" deadline=$((SECONDS + LAB_BOOT_TIMEOUT))
  while [ $SECONDS -lt "$deadline" ]; do
    if ! pid_alive "$HOSTS_DIR/$name/nspawn.pid"; then
      show_tail "$HOSTS_DIR/$name/console.log" 30
      die "$name exited while booting: its console's end is above ($HOSTS_DIR/$name/console.log)"
    fi
    state=$(lab_ssh "$name" systemctl is-system-running 2>/dev/null) || true
    case "$state" in running|degraded) return 0 ;; esac
    sleep 1
  done
  show_tail "$HOSTS_DIR/$name/console.log" 30
  die "$name not up after ${LAB_BOOT_TIMEOUT}s (state '${state}'): its console's end is above ($HOSTS_DIR/$name/console.log)"
}

check_prereqs
ensure_ssh_key
bridge_up
tunables_up
proxy_up
rootfs_build_tarball
for h in "${LAB_HOSTS[@]}"; do rootfs_prepare_host "$h"; boot_host "$h"; done
for h in "${LAB_HOSTS[@]}"; do wait_host "$h"; done

# The inventory: the committed one for the default four hosts, else one written beside it (so that it shares
# inventories/lab/group_vars) with the same groups and the first workers' labels.
inventory="$REPO_ROOT/inventories/lab/hosts.yml"
if [ "${#LAB_HOSTS[@]}" != 4 ]; then
  inventory="$REPO_ROOT/inventories/lab/hosts-${#LAB_HOSTS[@]}.yml"
  {
    echo "---"
    echo "# Written by tests/lab/hosts/up.sh for LAB_NODES=$LAB_NODES (not committed); see inventories/lab/hosts.yml."
    echo "all:"
    echo "  children:"
    echo "    k8s_cluster:"
    echo "      children:"
    echo "        kube_control_plane:"
    echo "          hosts:"
    echo "            master: {ansible_host: ${LAB_HOST_IP[master]}}"
    echo "        kube_node:"
    echo "          hosts:"
    for h in "${LAB_HOSTS[@]:1}"; do echo "            $h: {ansible_host: ${LAB_HOST_IP[$h]}}"; done
    echo "    k8s_api:"
    echo "      hosts:"
    echo "        master:"
  } > "$inventory"
fi
env_lines=("LAB_INVENTORY=$inventory" "LAB_NODES=$LAB_NODES" "LAB_SSH_KEY=$SSH_KEY"
           "LAB_HOSTS='${LAB_HOSTS[*]}'" "LAB_BRIDGE=$LAB_BRIDGE" "LAB_BRIDGE_IP=$LAB_BRIDGE_IP"
           "LAB_APT_PROXY_URL=$LAB_APT_PROXY_URL")
for h in "${LAB_HOSTS[@]}"; do
  var="LAB_HOST_IP_$(echo "$h" | tr 'a-z-' 'A-Z_')"
  env_lines+=("$var=${LAB_HOST_IP[$h]}")
done
write_env hosts "${env_lines[@]}"
log "hosts up: ${LAB_HOSTS[*]} (inventory ${inventory#"$REPO_ROOT"/}, env $LAB_DIR/hosts.env)"
