#!/usr/bin/env bash
# The lab's entry point: tests/lab/lab.sh up|down|status|info|inventory [component...]
# Components come up in dependency order and each is reused when already up; `down` tears down in reverse
# order and continues past failures so a half-built lab is still cleaned up.
source "$(dirname "$0")/lib.sh"

ALL=(hosts controlplane helm sources releases images patroni)
cmd=${1:-status}; shift || true
comps=("$@"); [ ${#comps[@]} -gt 0 ] || comps=("${ALL[@]}")
for c in "${comps[@]}"; do [ -d "$LAB_ROOT/$c" ] || die "unknown component '$c' (known: ${ALL[*]})"; done

# up and down hold an exclusive lock on $LAB_DIR.lock, so two of them (two checkouts, a CI run and a developer)
# take turns instead of building or tearing down the same parts at once.
: "${LAB_LOCK_TIMEOUT:=3600}"
lab_lock() {
  mkdir -p "$(dirname "$LAB_DIR")"
  exec 9>>"$LAB_DIR.lock"
  flock -n 9 && return 0
  log "$cmd: another lab.sh up/down holds $LAB_DIR.lock; waiting up to ${LAB_LOCK_TIMEOUT}s"
  flock -w "$LAB_LOCK_TIMEOUT" 9 || die "$cmd: $LAB_DIR.lock still held after ${LAB_LOCK_TIMEOUT}s (LAB_LOCK_TIMEOUT)"
}

up_script() { [ "$1" = helm ] && echo "$LAB_ROOT/helm/install.sh" || echo "$LAB_ROOT/$1/up.sh"; }

case "$cmd" in
  up)
    need_root
    lab_lock
    for c in "${comps[@]}"; do
      start=$(date +%s)
      log "up: $c"
      "$(up_script "$c")" 9>&-   # the lock stays with lab.sh: daemons started by the part must not inherit it
      log "up: $c ready in $(( $(date +%s) - start ))s"
    done ;;
  down)
    lab_lock
    rc=0
    for (( i=${#comps[@]}-1; i>=0; i-- )); do
      c=${comps[$i]}; [ -x "$LAB_ROOT/$c/down.sh" ] || continue
      log "down: $c"; "$LAB_ROOT/$c/down.sh" 9>&- || { log "down: $c failed (continuing)"; rc=1; }
    done
    exit $rc ;;
  status)
    # A part is up when its env file exists and every process it runs is alive (its status.sh says which);
    # processes running without an env file (a failed start) are reported too. Exit 1 on either mismatch.
    rc=0
    for c in "${comps[@]}"; do
      ups=(); downs=()
      if [ -x "$LAB_ROOT/$c/status.sh" ]; then
        while read -r name state; do
          if [ "$state" = up ]; then ups+=("$name"); else downs+=("$name"); fi
        done < <("$LAB_ROOT/$c/status.sh")
      fi
      if [ -f "$LAB_DIR/$c.env" ]; then
        if [ ${#downs[@]} -eq 0 ]; then
          echo "$c: up (${#ups[@]} checked: ${ups[*]}; $LAB_DIR/$c.env)"
        else
          echo "$c: BROKEN, not running: ${downs[*]} (bring it back: lab.sh up $c)"; rc=1
        fi
      elif [ ${#ups[@]} -gt 0 ]; then
        echo "$c: down, but still running: ${ups[*]} (stop them: lab.sh down $c)"; rc=1
      else
        echo "$c: down"
      fi
    done
    exit $rc ;;
  info)
    # shellcheck source=/dev/null
    for c in "${comps[@]}"; do [ -f "$LAB_DIR/$c.env" ] && source "$LAB_DIR/$c.env"; done
    kubectl_bin=${LAB_KUBECTL:-${LAB_LAYER_KUBECTL:-}}
    cat <<INFO
The lab:
  kubeconfig    export KUBECONFIG=${KUBECONFIG:-<controlplane down>}
  kubectl       ${kubectl_bin:-<helm down>}   (not on PATH: use this path, or export PATH=${LAB_BIN_DIR:-$CACHE_DIR/bin}:\$PATH)
  hosts         ssh -i $LAB_DIR/ssh/id_ed25519 root@${LAB_HOST_IP[master]}   (inventory: $REPO_ROOT/inventories/lab/hosts.yml)
  helm          ${LAB_HELM:-<helm down>} (HELM_PLUGINS=${HELM_PLUGINS:-})
  chart repo    ${LAB_CHART_REPO_URL:-<sources down>} (user ${LAB_CHART_REPO_USER:-lab}, password in ${LAB_CHART_REPO_PASSWORD_FILE:-$LAB_DIR/sources/chart-repo.password})
  OCI registry  ${LAB_OCI_CHARTS_URL:-<sources down>} (basic auth: ${LAB_OCI_REGISTRY_AUTH:-})
  apt repo      ${LAB_APT_REPO_URL:-<sources down>} (key ${LAB_APT_KEY_URL:-})
  files mirror  ${LAB_FILES_URL:-<sources down>}
  releases      ${LAB_RELEASES_URL:-<releases down>} (containerd, runc, CNI plugins, crictl); Docker-layout apt repo ${LAB_DOCKER_REPO_URL:-<releases down>}
  Patroni 3     ${PATRONI_API_URLS:-<patroni down>} (REST password in ${PATRONI_SECRETS_FILE:-})
  Patroni 4     ${PATRONI4_API_URLS:-<not started>}
  standby       ${PATRONI_STANDBY_API_URLS:-<not started>} (standby cluster of ${PATRONI_STANDBY_OF:-lab3})
  collection    from any directory: export ANSIBLE_CONFIG=$REPO_ROOT/ansible.cfg
                (e.g. ANSIBLE_CONFIG=$REPO_ROOT/ansible.cfg ansible-playbook -i $REPO_ROOT/inventories/lab/hosts.yml ...)
  status        $LAB_ROOT/lab.sh status
  tear down     make lab-down   (or $LAB_ROOT/lab.sh down)
INFO
    ;;
  inventory)
    # the hosts' inventory: inventories/lab/hosts.yml, or the one hosts/up.sh wrote for another LAB_NODES
    if [ -f "$LAB_DIR/hosts.env" ]; then (source "$LAB_DIR/hosts.env" && echo "$LAB_INVENTORY"); else echo "$REPO_ROOT/inventories/lab/hosts.yml"; fi ;;
  *) die "usage: lab.sh up|down|status|info|inventory [component...]" ;;
esac
