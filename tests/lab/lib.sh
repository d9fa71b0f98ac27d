# shellcheck shell=bash
# shellcheck disable=SC2034  # sets globals for the scripts that source it
# Shared settings of the lab. Every lab script sources this file; every value can be overridden
# from the environment. The lab only ever uses loopback and its own bridge/namespaces.
set -euo pipefail

# Close the descriptors inherited above stderr (bash keeps the running script on 255). `flock LOCK command`
# leaves LOCK open in command and everything it starts, so a daemon started here would hold the caller's
# lab lock for as long as it runs, and every later `flock LOCK ...` would wait forever.
for _fd in /proc/$$/fd/*; do
  _fd=${_fd##*/}
  case $_fd in 0 | 1 | 2 | 255) ;; *) eval "exec $_fd>&-" 2>/dev/null || true ;; esac
done
unset _fd

LAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$LAB_ROOT/../.." && pwd)"
: "${BMK8S_LAB_DIR:=/var/tmp/bmk8s-lab}"              # runtime state: pids, certs, rootfs copies, env files
: "${BMK8S_CACHE_DIR:=$HOME/.cache/baremetal-k8s}"     # slow-to-build artefacts, keyed by version
LAB_DIR="$BMK8S_LAB_DIR"
CACHE_DIR="$BMK8S_CACHE_DIR"

# Pinned external versions.
: "${LAB_K8S_VERSION:=v1.33.13}"        # k8s.io/kubernetes built from the Go module proxy
: "${LAB_KWOK_VERSION:=v0.7.0}"         # sigs.k8s.io/kwok
: "${LAB_DEBIAN_SUITE:=bookworm}"

# Network: a private bridge owned by the lab; hosts get static addresses on it.
: "${LAB_BRIDGE:=bmk8s0}"
: "${LAB_NET_PREFIX:=10.77.0}"
LAB_BRIDGE_IP="${LAB_NET_PREFIX}.1"
# Hosts: master (.10) and node-0..node-(LAB_NODES-1) (.11 up); LAB_NODES=7 gives the 8-host scale lab.
: "${LAB_NODES:=3}"
[[ "$LAB_NODES" =~ ^[1-9][0-9]?$ ]] && [ "$LAB_NODES" -le 40 ] || { echo "lab: LAB_NODES must be 1-40, got '$LAB_NODES'" >&2; exit 1; }
LAB_HOSTS=(master)
declare -A LAB_HOST_IP=([master]="${LAB_NET_PREFIX}.10")
declare -A LAB_HOST_POD_CIDR=([master]="${LAB_POD_NET_PREFIX:=10.244}.0.0/24")   # the lab's stand-in for Calico routes these
for ((_i = 0; _i < LAB_NODES; _i++)); do
  LAB_HOSTS+=("node-$_i")
  LAB_HOST_IP[node-$_i]="${LAB_NET_PREFIX}.$((11 + _i))"
  LAB_HOST_POD_CIDR[node-$_i]="${LAB_POD_NET_PREFIX}.$((1 + _i)).0/24"
done
unset _i

# Ports (on 127.0.0.1 and, where hosts need them, on the bridge address).
: "${LAB_APISERVER_PORT:=6443}"
: "${LAB_K8S_ETCD_PORT:=22379}"          # etcd of the lab control plane (peer port +1)
: "${LAB_CHART_REPO_PORT:=8080}"         # nginx, basic auth, Helm HTTP repo
: "${LAB_MIRROR_PORT:=8081}"             # nginx, signed apt repo + files mirror
: "${LAB_REGISTRY_PORT:=5000}"           # docker-registry (OCI charts)
: "${LAB_APT_PROXY_PORT:=3142}"          # apt-cacher-ng for the hosts
: "${LAB_PATRONI_ETCD_PORT:=12379}"      # etcd of the Patroni cluster (peer port +1)
: "${LAB_PATRONI_REST_BASE:=18008}"      # Patroni REST API ports: 3.x cluster base..+2, 4.x cluster +3..+5
: "${LAB_PATRONI_PG_BASE:=25432}"        # PostgreSQL ports: 3.x cluster base..+2, 4.x cluster +3..+5, standby +6..+7
# Every lab port stays below the kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by default):
# a port in it can be taken as the source port of any outgoing connection, and then the server cannot bind it.

die()  { echo "lab: $*" >&2; exit 1; }
log()  { echo "lab: $*" >&2; }
need_root() { [ "$(id -u)" = 0 ] || die "must run as root (sudo make lab)"; }
# show_tail FILE [LINES]: the end of a log on stderr, so that a failed start says why, not only where to look.
show_tail() {
  [ -s "$1" ] || return 0
  echo "----- last ${2:-20} lines of $1" >&2
  tail -n "${2:-20}" "$1" >&2
}
need_cmd() { command -v "$1" >/dev/null 2>&1 || die "missing '$1': $2"; }

# Each component writes $LAB_DIR/<component>.env (shell `export K=V` lines) when it is up;
# tests and other components read them. Component scripts: tests/lab/<component>/{up,down}.sh.
write_env() { local comp=$1; shift; mkdir -p "$LAB_DIR"; printf 'export %s\n' "$@" > "$LAB_DIR/$comp.env"; }

# pidfile_running PIDFILE [PATTERN]: the pid file names a live process (whose command line contains PATTERN).
# Reads /proc only, so it also works for `lab.sh status` run without root.
pidfile_running() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && { [ -z "${2:-}" ] || grep -qaF -- "$2" "/proc/$pid/cmdline"; }
}

# Each component's status.sh prints one `NAME up|down` line per process it runs (`lab.sh status` compares
# them with the component's env file).
report() { if "$@"; then echo "$REPORT_NAME up"; else echo "$REPORT_NAME down"; fi; }
