# shellcheck shell=bash source-path=SCRIPTDIR
# Shared by the hosts component's scripts: paths, the apt proxy and ssh helpers.
# shellcheck source=../lib.sh disable=SC2034  # a library: its variables are used by the sourcing scripts
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"

HOSTS_DIR="$LAB_DIR/hosts"                  # one dir per machine: rootfs/, nspawn.pid, console.log
PROXY_DIR="$LAB_DIR/apt-cacher-ng"          # lab-owned apt-cacher-ng config, pid and logs
PROXY_CACHE="$CACHE_DIR/apt-cacher-ng"      # downloaded .debs survive `down.sh`
SSH_KEY="$LAB_DIR/ssh/id_ed25519"
LAB_APT_PROXY_URL="http://$LAB_BRIDGE_IP:$LAB_APT_PROXY_PORT"

# Packages on top of debootstrap's minbase; the rootfs tarball is keyed by this list.
ROOTFS_PACKAGES=(systemd systemd-sysv dbus openssh-server python3 python3-apt iproute2 iputils-ping apt
                 ca-certificates gnupg sudo curl kmod procps iptables)
# Capabilities beyond nspawn's default set that containerd/kubelet-style roles need
# (CAP_SYS_MODULE and CAP_SYS_TIME stay out: modules are built in, the clock is the host's).
: "${LAB_NSPAWN_CAPS:=CAP_IPC_LOCK,CAP_BPF,CAP_PERFMON,CAP_SYSLOG,CAP_NET_ADMIN,CAP_SYS_RESOURCE}"
: "${LAB_NSPAWN_SYSCALLS:=@keyring bpf perf_event_open}"

rootfs_hash() { printf '%s\n' "$LAB_DEBIAN_SUITE" "${ROOTFS_PACKAGES[@]}" | sha256sum | cut -c1-12; }
rootfs_tarball() { echo "$CACHE_DIR/rootfs-$LAB_DEBIAN_SUITE-$(rootfs_hash).tar"; }

# The Debian mirror this machine's own apt uses (first http URI of the main archive).
host_debian_mirror() {
  local uri
  uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
        grep -Eo 'https?://[^ ]+/debian/?( |$)' | grep -v -- '-security' | head -n1 | tr -d ' ')
  echo "${uri:-http://deb.debian.org/debian}"
}

# The cgroups one host's nspawn runs in. Each host needs its own: nspawn puts the guest in
# "<own cgroup>/payload", so hosts started from one cgroup would share their units' cgroups and
# stopping a service on one host would kill it on all of them.
host_cgroups() {
  local name=$1
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    echo "/sys/fs/cgroup/bmk8s-lab/$name"                  # unified hierarchy
  else
    [ -d /sys/fs/cgroup/systemd ] && echo "/sys/fs/cgroup/systemd/bmk8s-lab/$name"
    [ -d /sys/fs/cgroup/unified ] && echo "/sys/fs/cgroup/unified/bmk8s-lab/$name"
  fi
  return 0
}

# Run a command (exec, same pid) in its own lab cgroups, named after $1.
exec_in_cgroup() {
  local name=$1 cg; shift
  for cg in $(host_cgroups "$name"); do mkdir -p "$cg"; echo "$BASHPID" > "$cg/cgroup.procs"; done
  exec "$@"
}

remove_cgroups() {
  local cg
  for cg in $(host_cgroups "$1"); do
    if [ -d "$cg" ]; then find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true; fi
  done
}

# Every process of a host (nspawn and the guest), from its cgroups.
host_pids() {
  local d
  for d in $(host_cgroups "$1"); do
    [ -d "$d" ] && find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -un
}

# The host side of the veth pair nspawn creates for --network-bridge.
host_veth() { echo "vb-${1:0:12}"; }

# A veth left by a guest whose network namespace is still being torn down blocks the next boot.
remove_veth() {
  local veth
  veth=$(host_veth "$1")
  if ip link show "$veth" >/dev/null 2>&1; then ip link del "$veth" 2>/dev/null || true; fi
}

# Kernel tunables the kubelet checks or writes but a host cannot set (vm.*, kernel.*, fs.* are the machine's:
# the kernel is shared). Set at the outer level by up.sh, the old values put back by down.sh.
# fs.inotify.max_user_instances: every host's systemd, containerd and kubelet take inotify instances of the one
# root user; with 8 hosts the default 128 runs out ("inotify_init: too many open files" in the kubelet).
LAB_TUNABLES=(vm.overcommit_memory=1 kernel.panic=10 kernel.panic_on_oops=1 fs.inotify.max_user_instances=8192)
TUNABLES_SAVED="$LAB_DIR/hosts-sysctl.orig"

tunables_up() {
  [ -f "$TUNABLES_SAVED" ] || sysctl -e "${LAB_TUNABLES[@]%%=*}" | sed 's/ = /=/' > "$TUNABLES_SAVED"
  sysctl -q -w "${LAB_TUNABLES[@]}"
}

tunables_down() {
  [ -f "$TUNABLES_SAVED" ] || return 0
  sysctl -q -p "$TUNABLES_SAVED" && rm -f "$TUNABLES_SAVED"
}

# The per-host cgroup v1 subtrees a host's lab-cgroups unit made (bmk8s-<host> under every controller; the
# memory one under this machine's own cgroup) outlive the host: kill what is left in them, then remove them
# bottom-up, retrying while the last exits are reaped.
remove_kubelet_cgroups() {
  local name=$1 i
  for ((i = 0; i < 20; i++)); do
    find /sys/fs/cgroup/*/ -path "*/bmk8s-$name/*" -name cgroup.procs -exec cat {} + 2>/dev/null |
      while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done
    find /sys/fs/cgroup/*/ -depth -type d \( -path "*/bmk8s-$name/*" -o -name "bmk8s-$name" \) \
      -exec rmdir {} + 2>/dev/null || true
    [ -z "$(find /sys/fs/cgroup/*/ -maxdepth 4 -type d -name "bmk8s-$name" 2>/dev/null)" ] && return 0
    sleep 0.5
  done
  log "hosts: cgroup directories of $name are left: find /sys/fs/cgroup -name bmk8s-$name"
}

pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

lab_ssh() {
  local host=$1; shift
  ssh -i "$SSH_KEY" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
      -o LogLevel=ERROR -o ConnectTimeout=3 "root@${LAB_HOST_IP[$host]}" "$@"
}
