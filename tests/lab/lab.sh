#!/usr/bin/env bash
# The lab's entry point: tests/lab/lab.sh up|down|status|info [component...]
# Components come up in dependency order and each is reused when already up; `down` tears down in reverse
# order and continues past failures so a half-built lab is still cleaned up.
source "$(dirname "$0")/lib.sh"

ALL=(hosts controlplane helm sources patroni)
cmd=${1:-status}; shift || true
comps=("$@"); [ ${#comps[@]} -gt 0 ] || comps=("${ALL[@]}")
for c in "${comps[@]}"; do [ -d "$LAB_ROOT/$c" ] || die "unknown component '$c' (known: ${ALL[*]})"; done

up_script() { [ "$1" = helm ] && echo "$LAB_ROOT/helm/install.sh" || echo "$LAB_ROOT/$1/up.sh"; }

case "$cmd" in
  up)
    need_root
    for c in "${comps[@]}"; do
      start=$(date +%s)
      log "up: $c"
      "$(up_script "$c")"
      log "up: $c ready in $(( $(date +%s) - start ))s"
    done ;;
  down)
    rc=0
    for (( i=${#comps[@]}-1; i>=0; i-- )); do
      c=${comps[$i]}; [ -x "$LAB_ROOT/$c/down.sh" ] || continue
      log "down: $c"; "$LAB_ROOT/$c/down.sh" || { log "down: $c failed (continuing)"; rc=1; }
    done
    exit $rc ;;
  status)
    for c in "${comps[@]}"; do
      if [ -f "$LAB_DIR/$c.env" ]; then echo "$c: up ($LAB_DIR/$c.env)"; else echo "$c: down"; fi
    done ;;
  info)
    # shellcheck source=/dev/null
    for c in "${comps[@]}"; do [ -f "$LAB_DIR/$c.env" ] && source "$LAB_DIR/$c.env"; done
    cat <<INFO
The lab:
  kubeconfig    export KUBECONFIG=${KUBECONFIG:-<controlplane down>}
  hosts         ssh -i $LAB_DIR/ssh/id_ed25519 root@${LAB_HOST_IP[master]}   (inventory: inventories/lab/hosts.yml)
  helm          ${LAB_HELM:-<helm down>} (HELM_PLUGINS=${HELM_PLUGINS:-})
  chart repo    ${LAB_CHART_REPO_URL:-<sources down>} (user ${LAB_CHART_REPO_USER:-lab}, password in ${LAB_CHART_REPO_PASSWORD_FILE:-$LAB_DIR/sources/chart-repo.password})
  OCI registry  ${LAB_OCI_CHARTS_URL:-<sources down>} (basic auth: ${LAB_OCI_REGISTRY_AUTH:-})
  apt repo      ${LAB_APT_REPO_URL:-<sources down>} (key ${LAB_APT_KEY_URL:-})
  files mirror  ${LAB_FILES_URL:-<sources down>}
  Patroni 3     ${PATRONI_API_URLS:-<patroni down>} (REST password in ${PATRONI_SECRETS_FILE:-})
  Patroni 4     ${PATRONI4_API_URLS:-<not started>}
  tear down     make lab-down
INFO
    ;;
  *) die "usage: lab.sh up|down|status|info [component...]" ;;
esac
