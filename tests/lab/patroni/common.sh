# shellcheck shell=bash
# shellcheck disable=SC2034  # a library: the sourcing scripts use its variables
# Shared by up.sh/down.sh/status.sh of the Patroni lab component (sourced after ../lib.sh).
PDIR="$LAB_DIR/patroni"
PG_BIN=/usr/lib/postgresql/15/bin
: "${LAB_PATRONI4:=1}"                                    # also run the PyPI patroni 4.x cluster
: "${LAB_PATRONI4_VERSION:=4.1.5}"                        # PyPI patroni, pinned
: "${LAB_PATRONI4_PSYCOPG_VERSION:=3.3.9}"                # PyPI psycopg[binary], pinned
: "${LAB_PATRONI4_REST_BASE:=$((LAB_PATRONI_REST_BASE + 3))}"
: "${LAB_PATRONI4_PG_BASE:=$((LAB_PATRONI_PG_BASE + 3))}"
: "${LAB_PATRONI_STANDBY:=1}"                             # also run lab3s, a standby cluster of lab3
: "${LAB_PATRONI_STANDBY_MEMBERS:=2}"
: "${LAB_PATRONI_STANDBY_REST_BASE:=$((LAB_PATRONI_REST_BASE + 6))}"
: "${LAB_PATRONI_STANDBY_PG_BASE:=$((LAB_PATRONI_PG_BASE + 6))}"
: "${LAB_PATRONI_START_TIMEOUT:=120}"                     # seconds for a cluster to become healthy
: "${LAB_PATRONI_STOP_TIMEOUT:=30}"                       # seconds for processes to stop before SIGKILL

gen_pw() { python3 -c 'import secrets; print(secrets.token_urlsafe(24))'; }
# as_pg CMD...: exec CMD as postgres from $PDIR (a directory postgres can read: the caller's working
# directory may be a clone under a 0700 home). Used as `as_pg ... &`, so $! is the pid of CMD itself.
as_pg() {
  cd "$PDIR" || exit 1
  exec setpriv --reuid=postgres --regid=postgres --init-groups env HOME=/var/lib/postgresql "$@"
}
# ours PID: PID runs something of this component (its command line names a path under $PDIR), so a
# stale pid file whose pid was reused is never mistaken for ours.
ours() { [ -n "$1" ] && grep -qaF -- "$PDIR/" "/proc/$1/cmdline" 2>/dev/null; }
alive() { [ -s "$1" ] && ours "$(cat "$1")"; }

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

# member_tails SCOPE NAME...: what each member printed (startup errors) and its Patroni log.
member_tails() {
  local scope=$1 name; shift
  for name in "$@"; do
    show_tail "$PDIR/$scope/$name.out"
    show_tail "$PDIR/$scope/log/$name/patroni.log"
  done
}

# Pid files of processes started by this run of up.sh (stopped again when it fails).
STARTED=()

start_etcd() {
  local d="$PDIR/etcd" port=$LAB_PATRONI_ETCD_PORT i
  if alive "$PDIR/etcd.pid"; then return 0; fi
  install -d -o postgres -g postgres -m 0700 "$d"
  log "patroni: starting etcd on 127.0.0.1:$port"
  as_pg setsid etcd --name e1 --data-dir "$d" \
    --listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port" \
    --listen-peer-urls "http://127.0.0.1:$((port + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((port + 1))" \
    --initial-cluster "e1=http://127.0.0.1:$((port + 1))" >>"$PDIR/etcd.log" 2>&1 </dev/null &
  echo $! >"$PDIR/etcd.pid"
  STARTED+=("$PDIR/etcd.pid")
  for i in $(seq 100); do
    http_json "http://127.0.0.1:$port/health" >/dev/null && return 0
    alive "$PDIR/etcd.pid" || break
    sleep 0.2
  done
  show_tail "$PDIR/etcd.log"
  die "patroni: etcd did not become healthy on 127.0.0.1:$port (log: $PDIR/etcd.log)"
}

# member_config SCOPE NAME REST_PORT PG_PORT [STANDBY_OF_PORT]: the member's Patroni YAML on stdout.
# With STANDBY_OF_PORT the cluster bootstraps as a standby cluster replicating from 127.0.0.1:that port. Its
# max_connections is well above the source's: a hot standby pauses replay when the primary's value passes its
# own, and the module tests raise lab3's.
member_config() {
  local scope=$1 name=$2 rest=$3 pg=$4 standby_of=${5:-} d="$PDIR/$1" max_conn=100
  [ -z "$standby_of" ] || max_conn=500
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
YAML
  if [ -n "$standby_of" ]; then
    cat <<YAML
    standby_cluster:
      host: 127.0.0.1
      port: $standby_of
      create_replica_methods: [basebackup]
YAML
  fi
  cat <<YAML
    postgresql:
      use_pg_rewind: true
      parameters:
        max_connections: $max_conn
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

# cluster_check SCOPE REST_BASE COUNT [leader]: exit 0 when the cluster is healthy: COUNT members running,
# one leader (or standby_leader) and the replicas streaming with a known lag. With `leader`, only that
# some member holds the leader key. Otherwise prints the members that are not yet fine.
cluster_check() {
  local body
  body=$(http_json "http://127.0.0.1:$2/cluster" 2>/dev/null) || { echo "(REST API of $1 on port $2 not answering)"; return 1; }
  python3 -c '
import json, sys
want, mode = int(sys.argv[1]), sys.argv[2]
m = json.loads(sys.argv[3]).get("members", [])
leads = ("leader", "standby_leader")
if mode == "leader":
    sys.exit(0 if any(x.get("role") in leads for x in m) else 1)
ok = [x for x in m if x.get("state") in ("running", "streaming")]
ok = [x for x in ok if x["role"] in leads or isinstance(x.get("lag"), int)]
leaders = [x for x in ok if x["role"] in leads]
if len(ok) == want and len(leaders) == 1:
    sys.exit(0)
print(" ".join("%s:%s/%s" % (x.get("name"), x.get("role"), x.get("state")) for x in m if x not in ok) or "(no leader)")
sys.exit(1)' "$3" "${4:-healthy}" "$body"
}

# wait_for_cluster SCOPE REST_BASE COUNT [leader]: polls cluster_check; fails early when a member's Patroni
# exits, and on failure prints the tail of what the failing members wrote.
wait_for_cluster() {
  local scope=$1 rest=$2 count=$3 mode=${4:-healthy} deadline=$((SECONDS + LAB_PATRONI_START_TIMEOUT)) i name out=""
  while :; do
    out=$(cluster_check "$scope" "$rest" "$count" "$mode") && return 0
    for ((i = 0; i < count; i++)); do
      name=pg$((i + 1))
      [ -f "$PDIR/$scope/$name.yml" ] || continue
      if ! alive "$PDIR/$scope/$name.pid"; then
        member_tails "$scope" "$name"
        die "patroni: $scope/$name (Patroni) exited while starting; output above (files: $PDIR/$scope/$name.out, $PDIR/$scope/log/$name)"
      fi
    done
    [ $SECONDS -lt "$deadline" ] || break
    sleep 0.5
  done
  local failing=()
  for ((i = 0; i < count; i++)); do
    name=pg$((i + 1))
    if [[ " $out " == *" $name:"* ]] || [[ "$out" == "("* ]]; then failing+=("$name"); fi
  done
  [ ${#failing[@]} -gt 0 ] || failing=(pg1)
  member_tails "$scope" "${failing[@]}"
  local what="healthy (1 leader, $((count - 1)) replicas streaming)"
  [ "$mode" = healthy ] || what="bootstrapped (no member holds the leader key)"
  die "patroni: cluster $scope not $what after ${LAB_PATRONI_START_TIMEOUT} s: ${out:-?}; output above (files: $PDIR/$scope)"
}

# start_member SCOPE INDEX REST_BASE PG_BASE PATRONI_BIN [STANDBY_OF_PORT]: starts one member.
# Patroni runs beneath subreaper.py, which reaps the postmaster Patroni detaches as soon as it exits; the
# member's pid file names Patroni itself (written by subreaper.py), subreaper's own pid is in NAME.reaper.pid.
start_member() {
  local scope=$1 i=$2 rest=$3 pg=$4 bin=$5 standby_of=${6:-} name cfg
  name=pg$((i + 1)); cfg="$PDIR/$scope/$name.yml"
  install -d -o postgres -g postgres -m 0700 "$PDIR/$scope/$name" "$PDIR/$scope/log/$name"
  (umask 077; member_config "$scope" "$name" $((rest + i)) $((pg + i)) "$standby_of" >"$cfg")
  chown postgres:postgres "$cfg"
  rm -f "$PDIR/$scope/$name.pid"
  log "patroni: starting $scope/$name (REST $((rest + i)), PG $((pg + i)))"
  as_pg setsid /usr/bin/python3 "$PDIR/subreaper.py" "$PDIR/$scope/$name.pid" "$bin" "$cfg" \
    >>"$PDIR/$scope/$name.out" 2>&1 </dev/null &
  echo $! >"$PDIR/$scope/$name.reaper.pid"
  STARTED+=("$PDIR/$scope/$name.reaper.pid")
  for _ in $(seq 100); do [ -s "$PDIR/$scope/$name.pid" ] && break; sleep 0.05; done
  if ! alive "$PDIR/$scope/$name.pid"; then
    member_tails "$scope" "$name"
    die "patroni: $scope/$name did not start; output above"
  fi
}

# start_cluster SCOPE REST_BASE PG_BASE PATRONI_BIN COUNT [STANDBY_OF_PORT]: starts the members that are
# not running. A new pg1 gets the cluster's leader key before the others start (no bootstrap race).
start_cluster() {
  local scope=$1 rest=$2 pg=$3 bin=$4 count=$5 standby_of=${6:-} i
  install -d -o postgres -g postgres -m 0700 "$PDIR/$scope" "$PDIR/$scope/log"
  for ((i = 0; i < count; i++)); do
    alive "$PDIR/$scope/pg$((i + 1)).pid" && continue
    start_member "$scope" "$i" "$rest" "$pg" "$bin" "$standby_of"
    if [ "$i" = 0 ] && [ "$count" -gt 1 ]; then wait_for_cluster "$scope" "$rest" 1 leader; fi
  done
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

# stop_pids SIGNAL PID...: signals every one of ours at once, waits up to LAB_PATRONI_STOP_TIMEOUT for
# all of them, then SIGKILLs what is left.
stop_pids() {
  local sig=$1 pid left deadline=$((SECONDS + LAB_PATRONI_STOP_TIMEOUT)); shift
  local pids=()
  for pid in "$@"; do ours "$pid" && pids+=("$pid"); done
  [ ${#pids[@]} -gt 0 ] || return 0
  kill "-$sig" "${pids[@]}" 2>/dev/null || true
  while :; do
    left=()
    for pid in "${pids[@]}"; do ours "$pid" && left+=("$pid"); done
    [ ${#left[@]} -gt 0 ] || return 0
    [ $SECONDS -lt "$deadline" ] || break
    sleep 0.1
  done
  log "patroni: SIGKILL to ${left[*]} (did not stop within ${LAB_PATRONI_STOP_TIMEOUT} s)"
  kill -KILL "${left[@]}" 2>/dev/null || true
}

# stop_members PIDFILE...: stops Patroni members (by their NAME.pid or NAME.reaper.pid), their postmasters
# and their subreapers, all members at once; etcd.pid is stopped last.
stop_members() {
  local f base patronis=() postmasters=() reapers=() etcd=() pm
  for f in "$@"; do
    if [ "$f" = "$PDIR/etcd.pid" ]; then etcd+=("$(cat "$f" 2>/dev/null || true)"); continue; fi
    base=${f%.pid}; base=${base%.reaper}
    patronis+=("$(cat "$base.pid" 2>/dev/null || true)")
    reapers+=("$(cat "$base.reaper.pid" 2>/dev/null || true)")
  done
  stop_pids TERM "${patronis[@]}"
  # A postmaster whose Patroni was killed hard keeps running: stop it from its data dir (fast shutdown).
  for f in "$@"; do
    base=${f%.pid}; base=${base%.reaper}; pm="$base/data/postmaster.pid"
    if [ -s "$pm" ]; then postmasters+=("$(head -1 "$pm" 2>/dev/null || true)"); fi
  done
  stop_pids INT "${postmasters[@]}"
  stop_pids TERM "${reapers[@]}"
  stop_pids TERM "${etcd[@]}"
}
