# shellcheck shell=bash
# shellcheck disable=SC2034  # a library: the sourcing scripts use its variables
# Paths and process helpers shared by the controlplane scripts (sourced after ../lib.sh).
K8S_BIN="$CACHE_DIR/k8s-$LAB_K8S_VERSION/bin"
CP_DIR="$LAB_DIR/controlplane"
PKI="$CP_DIR/pki"
CP_LOGS="$CP_DIR/logs"
CP_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KUBECTL="$K8S_BIN/kubectl"
ADMIN_CONF="$LAB_DIR/admin.conf"
: "${LAB_ETCD_BIN:=$(command -v etcd || true)}"
: "${LAB_PYTHON:=$REPO_ROOT/.venv/bin/python}"
# Provisioner names the lab provisioner serves (stand-in for openebs hostpath and the NFS provisioners).
: "${LAB_PV_PROVISIONERS:=openebs.io/local,cluster.local/nfs-server-provisioner,cluster.local/nfs-subdir-external-provisioner,nfs.csi.k8s.io}"

# ours PID: PID is a running process of this component (guards against stale, reused pids).
ours() {
  [ -n "$1" ] && [ -r "/proc/$1/cmdline" ] \
    && tr '\0' ' ' < "/proc/$1/cmdline" | grep -qF -e "$K8S_BIN/" -e "$CP_DIR/" -e "$CP_HERE/lab_provisioner.py"
}

# alive NAME: the process in $CP_DIR/NAME.pid is running.
alive() {
  local pid
  pid=$(cat "$CP_DIR/$1.pid" 2>/dev/null) || return 1
  ours "$pid"
}

# start NAME CMD...: run CMD detached with its log and pidfile. A running instance is reused when it was
# started with the same command line, and replaced when the command line changed (edited flags).
start() {
  local name=$1 pid cmdline; shift
  cmdline=$(printf '%q ' "$@")
  if alive "$name"; then
    [ "$(cat "$CP_DIR/$name.cmdline" 2>/dev/null)" = "$cmdline" ] && return 0
    pid=$(cat "$CP_DIR/$name.pid")
    log "controlplane: restarting $name (command line changed)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  mkdir -p "$CP_LOGS"
  setsid "$@" >>"$CP_LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$CP_DIR/$name.pid"
  printf '%s' "$cmdline" > "$CP_DIR/$name.cmdline"
  log "controlplane: started $name (pid $!)"
}

# wait_for WHAT SECONDS CMD...: retry CMD until it succeeds.
wait_for() {
  local what=$1 secs=$2 i; shift 2
  for ((i = 0; i < secs * 2; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  die "controlplane: $what not ready after ${secs}s (logs: $CP_LOGS)"
}
