# shellcheck shell=bash
# shellcheck disable=SC2034  # sets globals for the scripts that source it
# Paths and daemon helpers shared by the sources scripts (sourced after ../lib.sh).

SRC_DIR="$LAB_DIR/sources"
WWW_CHARTS="$SRC_DIR/www/charts"      # chart repo root (basic auth)
WWW_MIRROR="$SRC_DIR/www/mirror"      # apt repo + files mirror root
NGINX_CONF="$SRC_DIR/nginx/nginx.conf"
NGINX_PID="$SRC_DIR/nginx.pid"
REGISTRY_CONF="$SRC_DIR/registry/config.yml"
REGISTRY_PID="$SRC_DIR/registry.pid"
HTPASSWD_FILE="$SRC_DIR/chart-repo.htpasswd"
PASSWORD_FILE="$SRC_DIR/chart-repo.password"
export GNUPGHOME="$SRC_DIR/gnupg"
CHART_REPO_USER=lab
: "${LAB_REGISTRY_AUTH_PORT:=5001}"   # nginx: the registry behind basic auth (user lab)
: "${LAB_APT_REVISION:=1.1}"           # pkgs.k8s.io names packages <version>-1.1

# A private helm home so the lab never touches the invoking user's helm config.
export HELM_CONFIG_HOME="$SRC_DIR/helm-home/config" HELM_CACHE_HOME="$SRC_DIR/helm-home/cache"
export HELM_DATA_HOME="$SRC_DIR/helm-home/data"

bridge_up() { [[ "$(ip -4 -o addr show dev "$LAB_BRIDGE" 2>/dev/null)" == *" inet $LAB_BRIDGE_IP/"* ]]; }

# Addresses the servers listen on: loopback, plus the lab bridge when it exists.
listen_ips() { echo 127.0.0.1; if bridge_up; then echo "$LAB_BRIDGE_IP"; fi; }

# pid_alive PIDFILE NAME: the pidfile names a live process whose command is NAME.
pid_alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -qa "$2" "/proc/$pid/cmdline" 2>/dev/null
}

# stop_pid PIDFILE NAME [CONFIG]: TERM, wait up to 10 s, then KILL; removes the pidfile. Without a usable
# pidfile, a process started with our own CONFIG path (unique to this lab dir) is found by that path.
stop_pid() {
  local pid="" i
  if pid_alive "$1" "$2"; then
    pid=$(cat "$1")
  elif [ -n "${3:-}" ]; then
    pid=$(pgrep -o -f -- "$2.* $3\$" || true)
  fi
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    log "sources: stopped $2 (pid $pid)"
  fi
  rm -f "$1"
}

# wait_http URL [CODE]: until URL answers with CODE (default 200), 15 s at most.
wait_http() {
  local code i
  for i in $(seq 75); do
    code=$(curl --noproxy '*' -s -o /dev/null -w '%{http_code}' "$1" || true)
    [ "$code" = "${2:-200}" ] && return 0
    sleep 0.2
  done
  if [[ "$1" == *":$LAB_REGISTRY_PORT/"* ]]; then show_tail "$SRC_DIR/log/registry.log"; else show_tail "$SRC_DIR/log/nginx-error.log"; fi
  die "sources: $1 did not answer ${2:-200} (last: $code); the server's log's end is above"
}

# port_free IP PORT: nothing listens on IP:PORT nor on the wildcard address at PORT.
port_free() { ! ss -Hltn | awk '{print $4}' | grep -E >/dev/null "^(${1//./\\.}|0\.0\.0\.0|\*|\[::\]):$2\$"; }
