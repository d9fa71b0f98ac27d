#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# A kubeadm-made cluster on nspawn hosts OUTSIDE the lab (issue 8 groundwork; docs/lab-kubeadm.md):
#   tests/lab/kubeadm/scratch.sh up [NODES]   boot kmaster + NODES workers (default 1), kubeadm init/join
#   tests/lab/kubeadm/scratch.sh down         stop everything, put the kernel tunables back
# SCRATCH_RUNTIME=release: containerd and runc from releases/build.sh's tarballs (installed the way their
# release notes say) instead of Debian's containerd 1.6 and runc.
# Own bridge (bmk8sk0, 10.78.0.0/24), own docker-registry (10.78.0.1:15099) filled by
# tests/lab/images/push.sh, hosts from a cached debootstrap (Debian's containerd 1.6 and runc), the
# lab-built kubelet/kubeadm/kubectl, crictl and CNI plugins (tests/lab/releases/build.sh). It shares
# nothing with the lab but the caches, so it needs no lab lock. Root only; not part of make test/lab.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=../images/common.sh
source "$LAB_ROOT/images/common.sh"
# shellcheck source=../hosts/common.sh
source "$LAB_ROOT/hosts/common.sh"   # host_debian_mirror, LAB_NSPAWN_CAPS, LAB_NSPAWN_SYSCALLS

HERE="$LAB_ROOT/kubeadm"
: "${SCRATCH_DIR:=/var/tmp/bmk8s-kscratch}"
: "${SCRATCH_BRIDGE:=bmk8sk0}"
: "${SCRATCH_NET:=10.78.0}"
: "${SCRATCH_RUNTIME:=debian}"   # debian | release
GW="$SCRATCH_NET.1"
REG="$GW:15099"
ROOTFS_PKGS=(systemd systemd-sysv dbus iproute2 iputils-ping containerd runc iptables procps kmod
             ca-certificates curl)
ROOTFS_TAR="$CACHE_DIR/kubeadm-scratch-rootfs-$LAB_DEBIAN_SUITE-$(printf '%s\n' "${ROOTFS_PKGS[@]}" | sha256sum | cut -c1-12).tar"
K8S_BIN="$CACHE_DIR/k8s-$LAB_K8S_VERSION/bin"
# fs.inotify.max_user_instances: every host's systemd, containerd and kubelet take inotify instances of the
# one root user; with 8 hosts the default 128 runs out ("inotify_init: too many open files" in the kubelet).
TUNABLES=(vm.overcommit_memory=1 kernel.panic=10 kernel.panic_on_oops=1 fs.inotify.max_user_instances=8192)

hosts() { local n; n=$(cat "$SCRATCH_DIR/nodes" 2>/dev/null || echo 1); echo kmaster; for ((i = 0; i < n; i++)); do echo "knode-$i"; done; }
host_ip() { if [ "$1" = kmaster ]; then echo "$SCRATCH_NET.10"; else echo "$SCRATCH_NET.$((11 + ${1#knode-}))"; fi; }
leader() { pgrep -P "$(cat "$SCRATCH_DIR/$1/nspawn.pid")" | head -n1; }
in_host() { local h=$1; shift; nsenter -t "$(leader "$h")" -a "$@"; }
kctl() { in_host kmaster env KUBECONFIG=/etc/kubernetes/admin.conf kubectl "$@"; }
node_ready() { [ "$(kctl get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
poll() { local what=$1 secs=$2 i; shift 2; for ((i = 0; i < secs; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done; die "scratch: $what not after ${secs}s"; }

rootfs_tarball() {
  [ -f "$ROOTFS_TAR" ] && return 0
  local build; build=$(mktemp -d "$CACHE_DIR/kscratch-rootfs.XXXXXX")
  log "scratch: debootstrap $LAB_DEBIAN_SUITE with ${ROOTFS_PKGS[*]} (once)"
  nice -n 10 debootstrap --variant=minbase --components=main --include="$(IFS=,; echo "${ROOTFS_PKGS[*]}")" \
    "$LAB_DEBIAN_SUITE" "$build/root" "$(host_debian_mirror)" > "$build/debootstrap.log" 2>&1 \
    || die "scratch: debootstrap failed: $build/debootstrap.log"
  rm -rf "$build/root/var/cache/apt/archives/"*.deb
  : > "$build/root/etc/machine-id"
  systemctl --root="$build/root" --quiet disable containerd.service
  tar -C "$build/root" --numeric-owner -cf "$ROOTFS_TAR.partial" . && mv "$ROOTFS_TAR.partial" "$ROOTFS_TAR"
  rm -rf "$build"
}

# containerd_release ROOT: containerd 2.x and runc from the lab's release files over Debian's (whose unit
# is kept, with a drop-in for /usr/local/bin/containerd), with a config version 3 and a hosts.toml.
containerd_release() {
  local r=$1
  tar -C "$r/usr/local" -xzf "$REL_CACHE/containerd/$LAB_CONTAINERD_VERSION/containerd-${LAB_CONTAINERD_VERSION#v}-linux-amd64.tar.gz"
  install -m 0755 "$REL_CACHE/runc/$LAB_RUNC_VERSION/runc.amd64" "$r/usr/local/sbin/runc"
  mkdir -p "$r/etc/systemd/system/containerd.service.d" "$r/etc/containerd/certs.d/$REG"
  printf '[Service]\nExecStart=\nExecStart=/usr/local/bin/containerd\n' > "$r/etc/systemd/system/containerd.service.d/10-release.conf"
  printf 'server = "http://%s"\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' "$REG" "$REG" \
    > "$r/etc/containerd/certs.d/$REG/hosts.toml"
  cat > "$r/etc/containerd/config.toml" <<EOF
version = 3
[plugins.'io.containerd.cri.v1.images']
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = '$REG/pause:$LAB_PAUSE_VERSION'
  [plugins.'io.containerd.cri.v1.images'.registry]
    config_path = '/etc/containerd/certs.d'
[plugins.'io.containerd.cri.v1.runtime']
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
    runtime_type = 'io.containerd.runc.v2'
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
      SystemdCgroup = true
      BinaryName = '/usr/local/sbin/runc'
EOF
}

# prepare_host NAME: its rootfs, with the kubelet, containerd 1.6 config, cgroup unit and kubeadm drop-in.
prepare_host() {
  local h=$1 r="$SCRATCH_DIR/$1/rootfs" x
  rm -rf "$r" && mkdir -p "$r"
  tar -C "$r" --numeric-owner -xpf "$ROOTFS_TAR"
  echo "$h" > "$r/etc/hostname"
  systemd-id128 new > "$r/etc/machine-id"
  { echo "127.0.0.1 localhost"; for x in $(hosts); do echo "$(host_ip "$x") $x"; done; } > "$r/etc/hosts"
  echo "# no DNS in the scratch lab" > "$r/etc/resolv.conf"
  mkdir -p "$r/etc/systemd/network" "$r/etc/kubernetes" "$r/etc/containerd" "$r/opt/cni/bin" "$r/etc/cni/net.d" \
    "$r/etc/systemd/system/kubelet.service.d"
  printf '[Match]\nName=host0\n[Network]\nAddress=%s/24\nGateway=%s\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n' \
    "$(host_ip "$h")" "$GW" > "$r/etc/systemd/network/10-host0.network"
  # CoreDNS forwards to the kubelet's resolvConf: a loopback nameserver would be a loop (plugin/loop).
  echo "nameserver $GW" > "$r/etc/kubernetes/upstream-resolv.conf"
  install -m 0755 "$HERE/host-cgroups.sh" "$r/usr/local/sbin/lab-cgroups"
  cat > "$r/etc/systemd/system/lab-cgroups.service" <<EOF
[Unit]
Description=lab: per-host cgroup v1 subtrees, /dev/kmsg, IPv4 forwarding
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
  if [ "$SCRATCH_RUNTIME" = release ]; then containerd_release "$r"; else cat > "$r/etc/containerd/config.toml" <<EOF
version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$REG/pause:$LAB_PAUSE_VERSION"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = true
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."$REG"]
    endpoint = ["http://$REG"]
EOF
  fi
  install -m 0755 "$K8S_BIN/kubelet" "$K8S_BIN/kubeadm" "$K8S_BIN/kubectl" "$r/usr/local/bin/"
  tar -C "$r/usr/local/bin" -xzf "$REL_CACHE/cri-tools/$LAB_CRI_TOOLS_VERSION/crictl-$LAB_CRI_TOOLS_VERSION-linux-amd64.tar.gz"
  tar -C "$r/opt/cni/bin" -xzf "$REL_CACHE/cni-plugins/$LAB_CNI_PLUGINS_VERSION/cni-plugins-linux-amd64-$LAB_CNI_PLUGINS_VERSION.tgz"
  printf 'runtime-endpoint: unix:///run/containerd/containerd.sock\nimage-endpoint: unix:///run/containerd/containerd.sock\n' \
    > "$r/etc/crictl.yaml"
  printf '[Unit]\nDescription=kubelet\nWants=network-online.target\nAfter=network-online.target containerd.service\n[Service]\nExecStart=/usr/local/bin/kubelet\nRestart=always\nRestartSec=5\n[Install]\nWantedBy=multi-user.target\n' \
    > "$r/etc/systemd/system/kubelet.service"
  cat > "$r/etc/systemd/system/kubelet.service.d/10-kubeadm.conf" <<'EOF'
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
EOF
  systemctl --root="$r" --quiet enable systemd-networkd.service lab-cgroups.service containerd.service kubelet.service
}

boot_host() {
  local h=$1 d="$SCRATCH_DIR/$1" cg="/sys/fs/cgroup/systemd/bmk8s-kscratch/$1"
  mkdir -p "$cg"
  # A veth left by a guest whose network namespace was still going away blocks the boot ("File exists").
  if ip link show "vb-${h:0:12}" >/dev/null 2>&1; then ip link del "vb-${h:0:12}" 2>/dev/null || true; fi
  (echo "$BASHPID" > "$cg/cgroup.procs"
   exec setsid systemd-nspawn --register=no --keep-unit --quiet -D "$d/rootfs" -M "$h" --boot \
     --network-bridge="$SCRATCH_BRIDGE" --resolv-conf=off --timezone=off --link-journal=no \
     --console=read-only --capability="$LAB_NSPAWN_CAPS" --system-call-filter="$LAB_NSPAWN_SYSCALLS" \
     ) > "$d/console.log" 2>&1 < /dev/null &
  echo $! > "$d/nspawn.pid"
}

# cni HOST: a bridge + host-local conflist for the Node's podCIDR, and routes to the other hosts' pods.
cni() {
  local h=$1 cidr="" i
  for ((i = 0; i < 120; i++)); do   # kube-controller-manager allocates it shortly after the Node appears
    cidr=$(kctl get node "$h" -o jsonpath='{.spec.podCIDR}' 2>/dev/null || true)
    [ -z "$cidr" ] || break
    sleep 1
  done
  [ -n "$cidr" ] || die "scratch: node $h has no podCIDR after 120s"
  cat > "$SCRATCH_DIR/$h/rootfs/etc/cni/net.d/10-lab-bridge.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "lab-bridge", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$cidr"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF
  echo "$cidr" > "$SCRATCH_DIR/$h/podcidr"
}

routes() {
  local h o
  for h in $(hosts); do for o in $(hosts); do
    [ "$h" = "$o" ] || in_host "$h" ip route replace "$(cat "$SCRATCH_DIR/$o/podcidr")" via "$(host_ip "$o")"
  done; done
}

up() {
  local nodes=${1:-1} t0 h token hash
  t0=$(date +%s)
  need_root; need_cmd debootstrap "apt-get install -y debootstrap"; need_cmd docker-registry "apt-get install -y docker-registry"
  [ ! -e "$SCRATCH_DIR/nodes" ] || die "scratch: already up ($SCRATCH_DIR); run down first"
  mkdir -p "$SCRATCH_DIR" && echo "$nodes" > "$SCRATCH_DIR/nodes"
  "$LAB_ROOT/controlplane/build.sh"; "$HERE/../images/build.sh"; "$HERE/../images/iptables.sh"; "$HERE/../releases/build.sh"
  rootfs_tarball
  # Kernel tunables the kubelet insists on: only the outer level can set them (the kernel is shared).
  [ -f "$SCRATCH_DIR/sysctl.orig" ] || sysctl -e "${TUNABLES[@]%%=*}" | sed 's/ = /=/' > "$SCRATCH_DIR/sysctl.orig"
  sysctl -q -w "${TUNABLES[@]}"
  ip link show "$SCRATCH_BRIDGE" >/dev/null 2>&1 || ip link add "$SCRATCH_BRIDGE" type bridge
  ip addr replace "$GW/24" dev "$SCRATCH_BRIDGE" && ip link set "$SCRATCH_BRIDGE" up
  mkdir -p "$SCRATCH_DIR/registry"
  printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' \
    "$SCRATCH_DIR/registry/data" "$REG" > "$SCRATCH_DIR/registry/config.yml"
  setsid docker-registry serve "$SCRATCH_DIR/registry/config.yml" > "$SCRATCH_DIR/registry/log" 2>&1 < /dev/null &
  echo $! > "$SCRATCH_DIR/registry/pid"
  poll "registry" 15 curl --noproxy '*' -fsS "http://$REG/v2/"
  LAB_REGISTRY=$REG "$HERE/../images/push.sh"
  for h in $(hosts); do prepare_host "$h"; boot_host "$h"; done
  for h in $(hosts); do poll "$h booted" 60 in_host "$h" systemctl is-active containerd.service; done
  log "scratch: hosts up in $(( $(date +%s) - t0 ))s; kubeadm init on kmaster"
  cat > "$SCRATCH_DIR/kmaster/rootfs/root/kubeadm.yaml" <<EOF
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint: {advertiseAddress: $(host_ip kmaster), bindPort: 6443}
nodeRegistration: {name: kmaster, criSocket: unix:///run/containerd/containerd.sock}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: $LAB_K8S_VERSION
imageRepository: $REG
networking: {podSubnet: 10.244.0.0/16, serviceSubnet: 10.96.0.0/12}
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
failSwapOn: false
resolvConf: /etc/kubernetes/upstream-resolv.conf
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
conntrack: {maxPerCore: 0}
EOF
  in_host kmaster kubeadm init --config /root/kubeadm.yaml > "$SCRATCH_DIR/kubeadm-init.log" 2>&1 \
    || die "scratch: kubeadm init failed: $SCRATCH_DIR/kubeadm-init.log"
  log "scratch: kubeadm init done at $(( $(date +%s) - t0 ))s"
  cni kmaster
  # The join secret goes through a 0600 file in the node, never a command line.
  token=$(in_host kmaster kubeadm token create --ttl 1h)
  hash=$(in_host kmaster sh -c "openssl x509 -pubkey -in /etc/kubernetes/pki/ca.crt 2>/dev/null | openssl pkey -pubin -outform der 2>/dev/null | sha256sum | cut -d' ' -f1")
  for h in $(hosts); do
    [ "$h" = kmaster ] && continue
    (umask 077; cat > "$SCRATCH_DIR/$h/rootfs/root/join.yaml" <<EOF
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken: {apiServerEndpoint: "$(host_ip kmaster):6443", token: "$token", caCertHashes: ["sha256:$hash"]}
nodeRegistration: {name: $h, criSocket: unix:///run/containerd/containerd.sock}
EOF
    )
    in_host "$h" kubeadm join --config /root/join.yaml > "$SCRATCH_DIR/$h/kubeadm-join.log" 2>&1 \
      || die "scratch: kubeadm join on $h failed: $SCRATCH_DIR/$h/kubeadm-join.log"
    cni "$h"
  done
  routes
  for h in $(hosts); do poll "node $h Ready" 120 node_ready "$h"; done
  kctl -n kube-system wait --for=condition=Ready pod --all --timeout=180s >/dev/null
  kctl get nodes -o wide
  kctl get pods -A -o wide
  # The API server that answers serves a certificate of the CA kubeadm wrote; kubeadm upgrade plan runs.
  in_host kmaster sh -c "echo | openssl s_client -connect $(host_ip kmaster):6443 -CAfile /etc/kubernetes/pki/ca.crt -verify_return_error 2>/dev/null | grep -q 'Verify return code: 0 (ok)'" \
    || die "scratch: the API server's certificate does not verify against /etc/kubernetes/pki/ca.crt"
  in_host kmaster kubeadm upgrade plan > "$SCRATCH_DIR/kubeadm-upgrade-plan.log" 2>&1 \
    || die "scratch: kubeadm upgrade plan failed: $SCRATCH_DIR/kubeadm-upgrade-plan.log"
  log "scratch: API server certificate verified against kubeadm's CA; kubeadm upgrade plan ran"
  log "scratch: cluster up in $(( $(date +%s) - t0 ))s (kubectl: nsenter -t \$(pgrep -P \$(cat $SCRATCH_DIR/kmaster/nspawn.pid)) -a env KUBECONFIG=/etc/kubernetes/admin.conf kubectl ...)"
}

down() {
  local h pid i d alive hs=() pids=()
  for d in "$SCRATCH_DIR"/k*/; do [ -f "$d/nspawn.pid" ] && hs+=("$(basename "$d")"); done
  # nspawn shuts its guest down cleanly on TERM: all hosts at once, then wait for them together.
  for h in "${hs[@]}"; do
    pid=$(cat "$SCRATCH_DIR/$h/nspawn.pid")
    if kill -0 "$pid" 2>/dev/null; then kill "$pid"; pids+=("$pid"); fi
  done
  for ((i = 0; i < 120; i++)); do
    alive=0; for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.5
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for h in "${hs[@]}"; do
    # Any process left in the host's cgroups (a container whose shim outlived the guest) goes too; the
    # directories go once their last process is gone (reaping can lag a second or two on this machine).
    for ((i = 0; i < 20; i++)); do
      for pid in $(find "/sys/fs/cgroup/systemd/bmk8s-kscratch/$h" /sys/fs/cgroup/*/ -path "*bmk8s-kscratch/$h*" \
                     -name cgroup.procs -exec cat {} + 2>/dev/null) \
                 $(find /sys/fs/cgroup/*/ -path "*/bmk8s-$h/*" -name cgroup.procs -exec cat {} + 2>/dev/null); do
        kill -KILL "$pid" 2>/dev/null || true
      done
      find /sys/fs/cgroup/*/ -depth -type d \( -path "*/bmk8s-$h/*" -o -name "bmk8s-$h" \) -exec rmdir {} + 2>/dev/null || true
      find "/sys/fs/cgroup/systemd/bmk8s-kscratch/$h" -depth -type d -exec rmdir {} + 2>/dev/null || true
      [ -z "$(find /sys/fs/cgroup/ -maxdepth 4 \( -name "bmk8s-$h" -o -path "*bmk8s-kscratch/$h" \) 2>/dev/null)" ] && break
      sleep 0.5
    done
    if ip link show "vb-${h:0:12}" >/dev/null 2>&1; then ip link del "vb-${h:0:12}" 2>/dev/null || true; fi
  done
  rmdir /sys/fs/cgroup/systemd/bmk8s-kscratch 2>/dev/null || true
  if [ -f "$SCRATCH_DIR/registry/pid" ]; then kill "$(cat "$SCRATCH_DIR/registry/pid")" 2>/dev/null || true; fi
  if ip link show "$SCRATCH_BRIDGE" >/dev/null 2>&1; then ip link del "$SCRATCH_BRIDGE"; fi
  if [ -f "$SCRATCH_DIR/sysctl.orig" ]; then sysctl -q -p "$SCRATCH_DIR/sysctl.orig"; fi
  rm -rf "$SCRATCH_DIR"
  local left; left=$(find /sys/fs/cgroup/ -maxdepth 4 -name 'bmk8s-k*' 2>/dev/null | wc -l)
  [ "$left" = 0 ] || log "scratch: $left cgroup directories could not be removed (find /sys/fs/cgroup -name 'bmk8s-k*')"
  log "scratch: down"
}

case "${1:-}" in
  up) up "${2:-1}" ;;
  down) down ;;
  *) die "usage: scratch.sh up [NODES]|down" ;;
esac
