#!/usr/bin/env bash
# Real Patroni clusters on loopback, run as user postgres without systemd:
#   lab3:  3 members of Debian's patroni 3.0.2 + PostgreSQL 15 (REST $LAB_PATRONI_REST_BASE.., PG $LAB_PATRONI_PG_BASE..)
#   lab4:  3 members of PyPI patroni $LAB_PATRONI4_VERSION (ports +3), to cover the 4.x role names (LAB_PATRONI4=0: skip)
#   lab3s: $LAB_PATRONI_STANDBY_MEMBERS members of patroni 3.0.2 (ports +6..), a standby cluster replicating from
#          lab3's primary (bootstrap.dcs.standby_cluster); its leader has the role standby_leader (LAB_PATRONI_STANDBY=0: skip)
# All use one etcd on 127.0.0.1:$LAB_PATRONI_ETCD_PORT. Idempotent: reuses whatever is already running.
# Every process runs from $LAB_DIR/patroni (never the caller's directory, which postgres may not read), and
# Patroni runs beneath subreaper.py so the postmasters it detaches are reaped the moment they exit.
# When a start fails, the output that says why is printed and whatever this run started is stopped again.
# The REST API needs basic auth for unsafe methods; passwords are generated once into $LAB_DIR/patroni/secrets (0600).
# Debian's postgresql package may have created a 'main' cluster on 5432: it is left alone.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib.sh
source "$HERE/../lib.sh"
# shellcheck source=common.sh
source "$HERE/common.sh"

need_root
need_cmd patroni "apt-get install patroni postgresql-15 etcd-server python3-etcd"
need_cmd etcd "apt-get install etcd-server"
[ -x "$PG_BIN/postgres" ] || die "missing PostgreSQL 15: apt-get install postgresql-15"
/usr/bin/python3 -c 'import etcd' 2>/dev/null || die "missing python3-etcd: apt-get install python3-etcd"
need_cmd setpriv "apt-get install util-linux"

# On failure (die or any failing command): stop what this run started, so nothing is left running
# behind a `patroni: down` status; files and logs stay for a look.
on_exit() {
  local rc=$?
  [ "$rc" = 0 ] && return 0
  if [ ${#STARTED[@]} -gt 0 ]; then
    log "patroni: start failed, stopping the ${#STARTED[@]} process(es) this run started"
    stop_members "${STARTED[@]}" || true
  fi
  rm -f "$LAB_DIR/patroni.env"
  log "patroni: down (failed start; logs in $PDIR)"
  exit "$rc"
}
trap on_exit EXIT

install -d -o postgres -g postgres -m 0700 "$PDIR"
install -o postgres -g postgres -m 0644 "$HERE/subreaper.py" "$PDIR/subreaper.py"
if [ ! -s "$PDIR/secrets" ]; then
  umask 077
  { echo "PATRONI_REST_USERNAME=patroni"; echo "PATRONI_REST_PASSWORD=$(gen_pw)"
    echo "PATRONI_PG_SUPERUSER=postgres"; echo "PATRONI_PG_PASSWORD=$(gen_pw)"
    echo "PATRONI_REPL_PASSWORD=$(gen_pw)"; echo "PATRONI_REWIND_PASSWORD=$(gen_pw)"; } > "$PDIR/secrets.tmp"
  mv "$PDIR/secrets.tmp" "$PDIR/secrets"
fi
chmod 0600 "$PDIR/secrets"
# shellcheck disable=SC1091
source "$PDIR/secrets"

# leader_pg_port REST_BASE: the PostgreSQL port of the cluster's current leader.
leader_pg_port() {
  http_json "http://127.0.0.1:$1/cluster" | python3 -c '
import json, sys
print(next(m["port"] for m in json.load(sys.stdin)["members"] if m["role"] == "leader"))'
}

start_etcd
start_cluster lab3 "$LAB_PATRONI_REST_BASE" "$LAB_PATRONI_PG_BASE" /usr/bin/patroni 3
if [ "$LAB_PATRONI4" = 1 ]; then
  ensure_venv4
  start_cluster lab4 "$LAB_PATRONI4_REST_BASE" "$LAB_PATRONI4_PG_BASE" "$PDIR/venv4/bin/patroni" 3
fi
wait_for_cluster lab3 "$LAB_PATRONI_REST_BASE" 3
if [ "$LAB_PATRONI_STANDBY" = 1 ]; then
  primary_port=$(leader_pg_port "$LAB_PATRONI_REST_BASE")
  start_cluster lab3s "$LAB_PATRONI_STANDBY_REST_BASE" "$LAB_PATRONI_STANDBY_PG_BASE" /usr/bin/patroni \
    "$LAB_PATRONI_STANDBY_MEMBERS" "$primary_port"
fi
if [ "$LAB_PATRONI4" = 1 ]; then wait_for_cluster lab4 "$LAB_PATRONI4_REST_BASE" 3; fi
if [ "$LAB_PATRONI_STANDBY" = 1 ]; then
  wait_for_cluster lab3s "$LAB_PATRONI_STANDBY_REST_BASE" "$LAB_PATRONI_STANDBY_MEMBERS"
fi

urls() { local base=$1 n=${2:-3} i out=(); for ((i = 0; i < n; i++)); do out+=("http://127.0.0.1:$((base + i))"); done; local IFS=,; echo "${out[*]}"; }
pgports() { local base=$1 n=${2:-3} i out=(); for ((i = 0; i < n; i++)); do out+=("$((base + i))"); done; local IFS=,; echo "${out[*]}"; }
env_lines=(
  "PATRONI_API_URL=http://127.0.0.1:$LAB_PATRONI_REST_BASE"
  "PATRONI_API_URLS=$(urls "$LAB_PATRONI_REST_BASE")"
  "PATRONI_PG_PORTS=$(pgports "$LAB_PATRONI_PG_BASE")"
  "PATRONI_SCOPE=lab3"
  "PATRONI_CONFIG_FILE=$PDIR/lab3/pg1.yml"
  "PATRONI_LOG_DIRS=$PDIR/lab3/log"
  "PATRONI_SECRETS_FILE=$PDIR/secrets"
  "PATRONI_VERSION=$(/usr/bin/patroni --version | awk '{print $2}')"
)
if [ "$LAB_PATRONI4" = 1 ]; then
  env_lines+=(
    "PATRONI4_API_URL=http://127.0.0.1:$LAB_PATRONI4_REST_BASE"
    "PATRONI4_API_URLS=$(urls "$LAB_PATRONI4_REST_BASE")"
    "PATRONI4_PG_PORTS=$(pgports "$LAB_PATRONI4_PG_BASE")"
    "PATRONI4_SCOPE=lab4"
    "PATRONI4_CONFIG_FILE=$PDIR/lab4/pg1.yml"
    "PATRONI4_LOG_DIRS=$PDIR/lab4/log"
    "PATRONI4_VERSION=$LAB_PATRONI4_VERSION"
    "PATRONI4_PATRONICTL=$PDIR/venv4/bin/patronictl"
  )
fi
if [ "$LAB_PATRONI_STANDBY" = 1 ]; then
  n=$LAB_PATRONI_STANDBY_MEMBERS
  env_lines+=(
    "PATRONI_STANDBY_API_URL=http://127.0.0.1:$LAB_PATRONI_STANDBY_REST_BASE"
    "PATRONI_STANDBY_API_URLS=$(urls "$LAB_PATRONI_STANDBY_REST_BASE" "$n")"
    "PATRONI_STANDBY_PG_PORTS=$(pgports "$LAB_PATRONI_STANDBY_PG_BASE" "$n")"
    "PATRONI_STANDBY_SCOPE=lab3s"
    "PATRONI_STANDBY_CONFIG_FILE=$PDIR/lab3s/pg1.yml"
    "PATRONI_STANDBY_LOG_DIRS=$PDIR/lab3s/log"
    "PATRONI_STANDBY_VERSION=$(/usr/bin/patroni --version | awk '{print $2}')"
    "PATRONI_STANDBY_OF=lab3"
  )
fi
write_env patroni "${env_lines[@]}"
log "patroni: up ($LAB_DIR/patroni.env)"
