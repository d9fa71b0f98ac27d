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
# The lab's kubeadm cluster's admin kubeconfig, as `kubeadm init` writes it in master's root filesystem.
CLUSTER_ADMIN_CONF="$LAB_DIR/hosts/master/rootfs/etc/kubernetes/admin.conf"
: "${LAB_ETCD_BIN:=$(command -v etcd || true)}"
: "${LAB_PYTHON:=$REPO_ROOT/.venv/bin/python}"
# Provisioner names the lab provisioner serves (stand-in for openebs hostpath and the NFS provisioners).
: "${LAB_PV_PROVISIONERS:=openebs.io/local,cluster.local/nfs-server-provisioner,cluster.local/nfs-subdir-external-provisioner,nfs.csi.k8s.io}"

# ours PID: PID is a running process of this component (guards against stale, reused pids).
ours() {
  [ -n "$1" ] && [ -r "/proc/$1/cmdline" ] \
    && tr '\0' ' ' < "/proc/$1/cmdline" | grep -qF -e "$K8S_BIN/" -e "$CP_DIR/" -e "lab_provisioner.py --kubeconfig $ADMIN_CONF" \
        -e "lab_provisioner.py --kubeconfig $CLUSTER_ADMIN_CONF" \
        -e "lab_loadbalancer.py --kubeconfig $CLUSTER_ADMIN_CONF"
}

# alive NAME: the process in $CP_DIR/NAME.pid is running.
alive() {
  local pid
  pid=$(cat "$CP_DIR/$1.pid" 2>/dev/null) || return 1
  ours "$pid"
}

# exited NAME: the process in $CP_DIR/NAME.pid is gone (no such pid, or a zombie). Unlike `! alive`, a process
# in the middle of exec (its /proc/PID/cmdline briefly empty) does not count as gone.
exited() {
  local pid state
  pid=$(cat "$CP_DIR/$1.pid" 2>/dev/null) || return 0
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 0
  [ -z "$state" ] || [ "$state" = Z ] || [ "$state" = X ]
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
  STARTED+=("$name")
  log "controlplane: started $name (pid $!)"
}

# Names started by this run of up.sh: stopped again when it fails, so a failed start leaves nothing running.
STARTED=()

# stop_started: TERM what this run started, wait up to 10 s, then KILL.
stop_started() {
  local name pids=() remaining=() pid
  for name in "${STARTED[@]}"; do
    if alive "$name"; then pids+=("$(cat "$CP_DIR/$name.pid")"); fi
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  log "controlplane: start failed, stopping what this run started: ${STARTED[*]}"
  kill "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 40); do
    remaining=()
    for pid in "${pids[@]}"; do if ours "$pid"; then remaining+=("$pid"); fi; done
    [ ${#remaining[@]} -gt 0 ] || return 0
    sleep 0.25
  done
  kill -KILL "${remaining[@]}" 2>/dev/null || true
}

# wait_for WHAT SECONDS CMD...: retry CMD until it succeeds. WHAT names a started process (or, for the
# default service account, the controller-manager creates it); when that process exits, or at the end,
# fails with the tail of its log and the probe's last output.
wait_for() {
  local what=$1 secs=$2 i proc out=""; shift 2
  proc=$what; [ "$what" = "default service account" ] && proc=kube-controller-manager
  for ((i = 0; i < secs * 2; i++)); do
    if out=$("$@" 2>&1); then return 0; fi
    if [ -f "$CP_DIR/$proc.pid" ] && exited "$proc"; then
      show_tail "$CP_LOGS/$proc.log"
      die "controlplane: $proc exited while starting; its log's end is above ($CP_LOGS/$proc.log)"
    fi
    sleep 0.5
  done
  show_tail "$CP_LOGS/$proc.log"
  die "controlplane: $what not ready after ${secs}s (last probe: ${out:0:300}); $proc's log's end is above"
}
