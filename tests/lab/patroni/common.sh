# shellcheck shell=bash
# Shared by up.sh/down.sh of the Patroni lab component (sourced after ../lib.sh).
PDIR="$LAB_DIR/patroni"
PG_BIN=/usr/lib/postgresql/15/bin
: "${LAB_PATRONI4:=1}"                                    # also run the PyPI patroni 4.x cluster
: "${LAB_PATRONI4_VERSION:=4.1.5}"                        # PyPI patroni, pinned
: "${LAB_PATRONI4_PSYCOPG_VERSION:=3.3.9}"                # PyPI psycopg[binary], pinned
: "${LAB_PATRONI4_REST_BASE:=$((LAB_PATRONI_REST_BASE + 3))}"
: "${LAB_PATRONI4_PG_BASE:=$((LAB_PATRONI_PG_BASE + 3))}"
MEMBERS=(pg1 pg2 pg3)

gen_pw() { python3 -c 'import secrets; print(secrets.token_urlsafe(24))'; }
# as_pg CMD...: exec CMD as postgres; used as `as_pg ... &` so that $! is the pid of CMD itself.
as_pg() { exec setpriv --reuid=postgres --regid=postgres --init-groups env HOME=/var/lib/postgresql "$@"; }
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# http_json URL: prints the body of a GET (exit 1 when unreachable or not 2xx/503).
http_json() {
  python3 - "$1" <<'PY'
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode())
except urllib.error.HTTPError as e:
    print(e.read().decode()); sys.exit(0 if e.code == 503 else 1)
except Exception:
    sys.exit(1)
PY
}

start_etcd() {
  local d="$PDIR/etcd" port=$LAB_PATRONI_ETCD_PORT
  if alive "$PDIR/etcd.pid"; then return 0; fi
  install -d -o postgres -g postgres -m 0700 "$d"
  log "patroni: starting etcd on 127.0.0.1:$port"
  as_pg setsid etcd --name e1 --data-dir "$d" \
    --listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port" \
    --listen-peer-urls "http://127.0.0.1:$((port + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((port + 1))" \
    --initial-cluster "e1=http://127.0.0.1:$((port + 1))" >>"$PDIR/etcd.log" 2>&1 </dev/null &
  echo $! >"$PDIR/etcd.pid"
  local i
  for i in $(seq 50); do http_json "http://127.0.0.1:$port/health" >/dev/null && return 0; sleep 0.2; done
  die "patroni: etcd did not become healthy (see $PDIR/etcd.log)"
}

# member_config SCOPE NAME REST_PORT PG_PORT: the member's Patroni YAML on stdout.
member_config() {
  local scope=$1 name=$2 rest=$3 pg=$4 d="$PDIR/$1"
  cat <<YAML
scope: $scope
name: $name
log:
  dir: $d/log/$name
  level: INFO
  loggers: {patroni.api: DEBUG}   # request lines ("PATCH /config") for the tests
restapi:
  listen: 127.0.0.1:$rest
  connect_address: 127.0.0.1:$rest
  authentication: {username: $PATRONI_REST_USERNAME, password: $PATRONI_REST_PASSWORD}
etcd3:
  hosts: 127.0.0.1:$LAB_PATRONI_ETCD_PORT
bootstrap:
  dcs:
    ttl: 30
    loop_wait: 5
    retry_timeout: 10
    maximum_lag_on_failover: 1048576
    postgresql:
      use_pg_rewind: true
      parameters:
        max_connections: 100
        shared_buffers: 32MB
        work_mem: 4MB
        wal_level: replica
        hot_standby: 'on'
        wal_log_hints: 'on'
        max_wal_senders: 10
        max_replication_slots: 10
  initdb: [{encoding: UTF8}, data-checksums]
postgresql:
  listen: 127.0.0.1:$pg
  connect_address: 127.0.0.1:$pg
  data_dir: $d/$name/data
  bin_dir: $PG_BIN
  pgpass: $d/$name/pgpass
  pg_hba:
    - local all postgres peer
    - host all all 127.0.0.1/32 scram-sha-256
    - host replication replicator 127.0.0.1/32 scram-sha-256
  authentication:
    superuser: {username: $PATRONI_PG_SUPERUSER, password: $PATRONI_PG_PASSWORD}
    replication: {username: replicator, password: $PATRONI_REPL_PASSWORD}
    rewind: {username: rewinder, password: $PATRONI_REWIND_PASSWORD}
  parameters:
    unix_socket_directories: $d/$name
YAML
}

# start_cluster SCOPE REST_BASE PG_BASE PATRONI_BIN: starts the members that are not running.
start_cluster() {
  local scope=$1 rest=$2 pg=$3 bin=$4 i name cfg
  install -d -o postgres -g postgres -m 0700 "$PDIR/$scope" "$PDIR/$scope/log"
  for i in 0 1 2; do
    name=${MEMBERS[$i]}; cfg="$PDIR/$scope/$name.yml"
    alive "$PDIR/$scope/$name.pid" && continue
    install -d -o postgres -g postgres -m 0700 "$PDIR/$scope/$name" "$PDIR/$scope/log/$name"
    (umask 077; member_config "$scope" "$name" $((rest + i)) $((pg + i)) >"$cfg")
    chown postgres:postgres "$cfg"
    log "patroni: starting $scope/$name (REST $((rest + i)), PG $((pg + i)))"
    as_pg setsid "$bin" "$cfg" >>"$PDIR/$scope/$name.out" 2>&1 </dev/null &
    echo $! >"$PDIR/$scope/$name.pid"
    if [ "$i" = 0 ]; then sleep 2; fi   # let the first member win the initial leader race
  done
}

# wait_cluster SCOPE REST_BASE: until one leader and two replicas run (replicas streaming).
wait_cluster() {
  local scope=$1 rest=$2 i
  for i in $(seq 120); do
    if http_json "http://127.0.0.1:$rest/cluster" 2>/dev/null | python3 -c '
import json, sys
m = json.load(sys.stdin).get("members", [])
ok = [x for x in m if x.get("state") in ("running", "streaming")]
leaders = [x for x in ok if x["role"] == "leader"]
lagging = [x for x in ok if x["role"] != "leader" and not isinstance(x.get("lag"), int)]
sys.exit(0 if len(ok) == 3 and len(leaders) == 1 and not lagging else 1)'; then
      return 0
    fi
    sleep 1
  done
  die "patroni: cluster $scope not healthy after 120 s (see $PDIR/$scope/log and $PDIR/$scope/*.out)"
}

# ensure_venv4: PyPI patroni 4.x in a venv postgres can read; wheels cached in CACHE_DIR by version.
ensure_venv4() {
  local want="$LAB_PATRONI4_VERSION" wheels="$CACHE_DIR/patroni-$LAB_PATRONI4_VERSION/wheels"
  local pkgs=("patroni[etcd3]==$LAB_PATRONI4_VERSION" "psycopg[binary]==$LAB_PATRONI4_PSYCOPG_VERSION")
  if [ -x "$PDIR/venv4/bin/patroni" ] && [ "$("$PDIR/venv4/bin/patroni" --version | awk '{print $2}')" = "$want" ]; then
    return 0
  fi
  if [ ! -f "$wheels/.complete" ]; then
    log "patroni: downloading PyPI ${pkgs[*]} into $wheels"
    mkdir -p "$wheels"
    /usr/bin/python3 -m pip download -q -d "$wheels" "${pkgs[@]}" || die "patroni: cannot fetch ${pkgs[*]} from PyPI (or set LAB_PATRONI4=0)"
    touch "$wheels/.complete"
  fi
  rm -rf "$PDIR/venv4"
  /usr/bin/python3 -m venv "$PDIR/venv4"
  "$PDIR/venv4/bin/pip" install -q --no-build-isolation --no-index --find-links "$wheels" "${pkgs[@]}"
  chmod -R go+rX "$PDIR/venv4"
}

# stop_pidfile FILE: TERM, wait up to 30 s, then KILL.
stop_pidfile() {
  local f=$1 pid i
  [ -s "$f" ] || { rm -f "$f"; return 0; }
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}
