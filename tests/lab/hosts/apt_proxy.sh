# shellcheck shell=bash
# apt-cacher-ng for the lab hosts, run as a plain daemon from a lab-owned config dir (the host has
# no systemd). It only serves the Debian archives this machine's apt already uses (ForceManaged).

proxy_pidfile() { echo "$PROXY_DIR/pid"; }

proxy_write_config() {
  local mirror security conf="$PROXY_DIR/conf"
  mirror=$(host_debian_mirror)
  security="${mirror%/}"; security="${security%/debian}/debian-security"
  mkdir -p "$conf" "$PROXY_DIR/log" "$PROXY_CACHE"
  cat > "$conf/acng.conf" <<EOF
# Written by tests/lab/hosts/up.sh; the lab's apt proxy (hosts reach it on the bridge address).
CacheDir: $PROXY_CACHE
LogDir: $PROXY_DIR/log
SupportDir: /usr/lib/apt-cacher-ng
PidFile: $(proxy_pidfile)
SocketPath: $PROXY_DIR/socket
Port: $LAB_APT_PROXY_PORT
BindAddress: 127.0.0.1 $LAB_BRIDGE_IP
ConnectProto: v4
ForeGround: 0
ForceManaged: 1
ExThreshold: 4
Remap-debrep: file:deb_mirror*.gz /debian ; file:backends_debian
Remap-secdeb: security.debian.org security.debian.org/debian-security deb.debian.org/debian-security /debian-security ; $security
EOF
  echo "$mirror" > "$conf/backends_debian"
}

proxy_up() {
  if pid_alive "$(proxy_pidfile)"; then return 0; fi
  need_cmd apt-cacher-ng "apt-get install -y apt-cacher-ng"
  proxy_write_config
  log "starting apt-cacher-ng on 127.0.0.1 and $LAB_BRIDGE_IP port $LAB_APT_PROXY_PORT"
  apt-cacher-ng -c "$PROXY_DIR/conf" >"$PROXY_DIR/log/stdout.log" 2>&1
  for _ in $(seq 50); do
    pid_alive "$(proxy_pidfile)" || { sleep 0.2; continue; }
    # Any HTTP answer means it listens (it answers 403/500 for unknown paths).
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$LAB_APT_PROXY_PORT/" || true)" != 000 ] && return 0
    sleep 0.2
  done
  die "apt-cacher-ng did not start (see $PROXY_DIR/log); is port $LAB_APT_PROXY_PORT taken? (ss -ltnp)"
}

proxy_down() {
  local pidfile pid
  pidfile=$(proxy_pidfile)
  pid_alive "$pidfile" || { rm -rf "$PROXY_DIR"; return 0; }
  pid=$(cat "$pidfile")
  kill -TERM "$pid"
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  rm -rf "$PROXY_DIR"
}
