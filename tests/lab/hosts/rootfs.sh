# shellcheck shell=bash
# The hosts' root filesystem: one debootstrap tarball in $CACHE_DIR (built once, through the apt
# proxy), unpacked per host and given that host's identity, network, ssh key and apt proxy.

rootfs_build_tarball() {
  local tarball build mirror
  tarball=$(rootfs_tarball)
  [ -f "$tarball" ] && return 0
  mirror=$(host_debian_mirror)
  mkdir -p "$CACHE_DIR"
  build=$(mktemp -d "$CACHE_DIR/rootfs-build.XXXXXX")
  log "debootstrap $LAB_DEBIAN_SUITE (minbase + ${#ROOTFS_PACKAGES[@]} packages) via the apt proxy; once"
  http_proxy="http://127.0.0.1:$LAB_APT_PROXY_PORT" debootstrap --variant=minbase --components=main \
    --include="$(IFS=,; echo "${ROOTFS_PACKAGES[*]}")" "$LAB_DEBIAN_SUITE" "$build/root" "$mirror" \
    >"$build/debootstrap.log" 2>&1 || { rm -rf "$build"; die "debootstrap failed; rerun with the log: $build"; }
  cat > "$build/root/etc/apt/sources.list" <<EOF
deb $mirror $LAB_DEBIAN_SUITE main
deb $mirror $LAB_DEBIAN_SUITE-updates main
deb ${mirror%/}-security $LAB_DEBIAN_SUITE-security main
EOF
  # Pick up point releases and security fixes with the same proxy, then drop every cache.
  (exec_in_cgroup rootfs-build systemd-nspawn --register=no --keep-unit --quiet -D "$build/root" \
    --setenv=DEBIAN_FRONTEND=noninteractive \
    sh -c "apt-get -qq -o Acquire::http::Proxy=http://127.0.0.1:$LAB_APT_PROXY_PORT update &&
           apt-get -qq -y -o Acquire::http::Proxy=http://127.0.0.1:$LAB_APT_PROXY_PORT dist-upgrade &&
           apt-get clean") >>"$build/debootstrap.log" 2>&1 || { rm -rf "$build"; die "rootfs upgrade failed: $build"; }
  remove_cgroups rootfs-build
  rm -rf "$build/root/var/lib/apt/lists/"* "$build/root/etc/ssh/ssh_host_"*
  : > "$build/root/etc/machine-id"
  tar -C "$build/root" --numeric-owner --xattrs -cf "$tarball.partial" .
  mv "$tarball.partial" "$tarball"
  rm -rf "$build"
}

# Give one unpacked rootfs its identity: hostname, machine-id, static address, apt proxy, ssh.
rootfs_customize() {
  local name=$1 root=$2 h
  echo "$name" > "$root/etc/hostname"
  systemd-id128 new > "$root/etc/machine-id"
  ln -sfn /etc/machine-id "$root/var/lib/dbus/machine-id"   # debootstrap left the build's id there
  {
    echo "127.0.0.1 localhost"
    echo "$LAB_BRIDGE_IP lab-gateway"
    for h in "${LAB_HOSTS[@]}"; do echo "${LAB_HOST_IP[$h]} $h"; done
  } > "$root/etc/hosts"
  rm -f "$root/etc/resolv.conf"
  echo "# the lab has no DNS; apt goes through the proxy at $LAB_APT_PROXY_URL" > "$root/etc/resolv.conf"

  mkdir -p "$root/etc/systemd/network"
  cat > "$root/etc/systemd/network/10-host0.network" <<EOF
[Match]
Name=host0

[Network]
Address=${LAB_HOST_IP[$name]}/24
Gateway=$LAB_BRIDGE_IP
LinkLocalAddressing=no
IPv6AcceptRA=no
EOF
  for h in "${LAB_HOSTS[@]}"; do   # the stand-in for Calico's routing: every other host's pod /24 via that host
    [ "$h" = "$name" ] || printf '\n[Route]\nDestination=%s\nGateway=%s\n' "${LAB_HOST_POD_CIDR[$h]}" "${LAB_HOST_IP[$h]}"
  done >> "$root/etc/systemd/network/10-host0.network"
  rootfs_kubelet_ready "$name" "$root"
  echo "Acquire::http::Proxy \"$LAB_APT_PROXY_URL\";" > "$root/etc/apt/apt.conf.d/01lab-proxy"

  install -d -m 0700 "$root/root/.ssh"
  install -m 0600 "$SSH_KEY.pub" "$root/root/.ssh/authorized_keys"
  cat > "$root/etc/ssh/sshd_config.d/lab.conf" <<EOF
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
EOF
  ssh-keygen -q -A -f "$root" >/dev/null    # this host's own host keys

  systemctl --root="$root" --quiet enable systemd-networkd.service ssh.service
  # Timers that would grab the dpkg lock in the middle of a playbook run.
  systemctl --root="$root" --quiet mask apt-daily.timer apt-daily-upgrade.timer
}

# What a kubelet needs in an nspawn host that a bare-metal host has (docs/lab.md, "Kubelets in nspawn hosts"):
# writable per-host cgroup v1 subtrees and /dev/kmsg before containerd starts (lab-cgroups.service), an
# upstream resolv.conf for CoreDNS that is not loopback, and the pod network the lab stands in for Calico with.
rootfs_kubelet_ready() {
  local name=$1 root=$2
  install -D -m 0755 "$LAB_ROOT/hosts/host-cgroups.sh" "$root/usr/local/sbin/lab-cgroups"
  cat > "$root/etc/systemd/system/lab-cgroups.service" <<EOF
[Unit]
Description=lab: per-host cgroup v1 subtrees and /dev/kmsg for containerd and the kubelet
DefaultDependencies=no
After=local-fs.target
Before=containerd.service kubelet.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/lab-cgroups

[Install]
WantedBy=multi-user.target
EOF
  systemctl --root="$root" --quiet enable lab-cgroups.service
  # CoreDNS forwards to the kubelet's resolvConf; the hosts' own one has no nameserver (= 127.0.0.1: a loop).
  mkdir -p "$root/etc/kubernetes" "$root/etc/cni/net.d"
  echo "nameserver $LAB_BRIDGE_IP" > "$root/etc/kubernetes/upstream-resolv.conf"
  # The pod network: the CNI plugins' bridge with this host's static /24 (routes to the others' in networkd).
  cat > "$root/etc/cni/net.d/10-lab-bridge.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "lab-bridge", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "${LAB_HOST_POD_CIDR[$name]}"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF
}

rootfs_prepare_host() {
  local name=$1 dir="$HOSTS_DIR/$1"
  [ -f "$dir/.ready" ] && return 0
  rm -rf "$dir/rootfs"
  mkdir -p "$dir/rootfs"
  tar -C "$dir/rootfs" --numeric-owner --xattrs -xpf "$(rootfs_tarball)"
  rootfs_customize "$name" "$dir/rootfs"
  touch "$dir/.ready"
}
