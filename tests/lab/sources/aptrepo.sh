# shellcheck shell=bash
# shellcheck disable=SC2034  # sets globals for the scripts that source it
# A signed flat apt repository laid out like pkgs.k8s.io: /core:/stable:/v1.XX/deb/ with Release.key.

K8S_BIN="$CACHE_DIR/k8s-$LAB_K8S_VERSION/bin"
APT_DEB_ARCH=amd64

# binary_version BIN: its release version (v1.33.13), or the lab's pinned one when the binary has none.
binary_version() {
  local out
  out=$("$1" version --client -o json 2>/dev/null | sed -n 's/.*"gitVersion": *"\(v[^"]*\)".*/\1/p' | head -1) || true
  [ -n "$out" ] || out=$("$1" version -o short 2>/dev/null) || true
  [ -n "$out" ] || out=$("$1" --version 2>/dev/null | awk '{print $2}') || true
  [[ "$out" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || out=$LAB_K8S_VERSION
  echo "$out"
}

# k8s_binary NAME: the lab's build, or for kubectl the layer's release binary when there is no build yet.
k8s_binary() {
  if [ -x "$K8S_BIN/$1" ]; then echo "$K8S_BIN/$1"
  elif [ "$1" = kubectl ] && [ -x "${LAB_LAYER_KUBECTL:-}" ]; then echo "$LAB_LAYER_KUBECTL"
  fi
}

write_kubelet_units() {
  local root=$1
  mkdir -p "$root/usr/lib/systemd/system/kubelet.service.d" "$root/etc/default"
  cat > "$root/usr/lib/systemd/system/kubelet.service" <<'EOF'
[Unit]
Description=kubelet: the Kubernetes node agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
EOF
  # kubeadm writes /var/lib/kubelet/kubeadm-flags.env and config.yaml; this drop-in hands them to kubelet.
  cat > "$root/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf" <<'EOF'
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
EOF
  echo 'KUBELET_EXTRA_ARGS=' > "$root/etc/default/kubelet"
  printf '/etc/default/kubelet\n' > "$root/DEBIAN/conffiles"
  cat > "$root/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || true
  systemctl enable kubelet.service >/dev/null 2>&1 || true
fi
EOF
  chmod 0755 "$root/DEBIAN/postinst"
}

# build_deb NAME VERSION DEPENDS DESCRIPTION FILE:DEST...: one .deb into $1's pool, reused when present.
build_deb() {
  local name=$1 version=$2 depends=$3 description=$4 pool=$5; shift 5
  local deb="$pool/${name}_${version}_${APT_DEB_ARCH}.deb" root spec sources=""
  for spec in "$@"; do sources+=$(sha256sum "${spec%%:*}" | cut -c1-64); done
  sources+=" $depends"
  # Reused while the same binaries built it (a rebuilt binary of the same version makes a new .deb).
  [ -s "$deb" ] && [ "$(cat "$deb.sources" 2>/dev/null)" = "$sources" ] && return 0
  root=$(mktemp -d)
  mkdir -p "$root/DEBIAN"
  for spec in "$@"; do
    install -D -m 0755 "${spec%%:*}" "$root/${spec#*:}"
  done
  if [ "$name" = kubelet ]; then write_kubelet_units "$root"; fi
  {
    echo "Package: $name"
    echo "Version: $version"
    echo "Architecture: $APT_DEB_ARCH"
    echo "Maintainer: baremetal.k8s lab <lab@bmk8s.invalid>"
    echo "Section: admin"
    echo "Priority: optional"
    echo "Homepage: https://kubernetes.io"
    [ -z "$depends" ] || echo "Depends: $depends"
    echo "Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)"
    echo "Description: $description"
    echo " Built by the baremetal.k8s lab from the lab's own binaries."
  } > "$root/DEBIAN/control"
  dpkg-deb --root-owner-group -Zgzip -z1 --build "$root" "$deb.tmp" >/dev/null
  mv "$deb.tmp" "$deb"
  echo "$sources" > "$deb.sources"
  rm -rf "$root"
}

ensure_gpg_key() {
  mkdir -p "$GNUPGHOME" && chmod 0700 "$GNUPGHOME"
  gpg --batch --list-secret-keys 2>/dev/null | grep . >/dev/null && return 0
  gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
    --quick-gen-key "baremetal.k8s lab apt <apt@bmk8s.invalid>" rsa3072 sign never 2>/dev/null
  log "sources: generated the lab apt signing key"
}

# publish_apt_repo: debs for whatever binaries exist, indexes, signatures; sets APT_REPO_PATH.
# release_tarball PROJECT GLOB: the newest of the releases part's tarballs (tests/lab/releases/build.sh), or "".
release_tarball() {
  { find "$CACHE_DIR/lab-releases/$1" -name "$2" 2>/dev/null || true; } | sort -V | tail -n1
}

publish_apt_repo() {
  local kubectl kubelet kubeadm crictl version minor repo pool dep_kubelet='' unpack cni_tgz crictl_tgz cni_version=''
  local crictl_version="" spec cni_specs=() kubelet_deps="iptables (>= 1.4.21), iproute2, mount, util-linux, conntrack, ethtool, socat"
  kubectl=$(k8s_binary kubectl) kubelet=$(k8s_binary kubelet) kubeadm=$(k8s_binary kubeadm)
  crictl=$(k8s_binary crictl)
  # cri-tools and kubernetes-cni from the release tarballs, once the releases part has built them (its up.sh
  # publishes the repo again); kubelet then depends on kubernetes-cni as pkgs.k8s.io's does.
  unpack=$(mktemp -d)
  crictl_tgz=$(release_tarball cri-tools 'crictl-v*-linux-amd64.tar.gz')
  if [ -z "$crictl" ] && [ -n "$crictl_tgz" ]; then
    tar -C "$unpack" -xzf "$crictl_tgz" crictl && crictl=$unpack/crictl
    crictl_version=$(basename "$(dirname "$crictl_tgz")")
  fi
  cni_tgz=$(release_tarball cni-plugins 'cni-plugins-linux-amd64-v*.tgz')
  if [ -n "$cni_tgz" ]; then
    mkdir -p "$unpack/cni" && tar -C "$unpack/cni" -xzf "$cni_tgz"
    cni_version=$(basename "$(dirname "$cni_tgz")")
    for spec in "$unpack"/cni/*; do
      [ -x "$spec" ] && [ -f "$spec" ] && cni_specs+=("$spec:opt/cni/bin/$(basename "$spec")")
    done
    kubelet_deps="kubernetes-cni (>= 1.2.0), $kubelet_deps"
  fi
  [ -n "$kubectl$kubelet$kubeadm" ] || die "sources: no kubernetes binaries in $K8S_BIN (run tests/lab/helm/install.sh for kubectl)"
  version=$(binary_version "${kubeadm:-${kubelet:-$kubectl}}")
  minor=$(echo "$version" | cut -d. -f1-2)
  APT_REPO_PATH="core:/stable:/$minor/deb"
  repo="$WWW_MIRROR/$APT_REPO_PATH"
  pool="$repo/$APT_DEB_ARCH"
  mkdir -p "$pool"
  if [ -n "$kubectl" ]; then
    build_deb kubectl "$(binary_version "$kubectl" | cut -c2-)-$LAB_APT_REVISION" "" \
      "Command-line client of the Kubernetes API" "$pool" "$kubectl:usr/bin/kubectl"
  fi
  if [ -n "$crictl" ]; then
    build_deb cri-tools "$(echo "${crictl_version:-$(binary_version "$crictl")}" | cut -c2-)-$LAB_APT_REVISION" "" \
      "Command-line client of CRI runtimes" "$pool" "$crictl:usr/bin/crictl"
  fi
  if [ -n "$cni_version" ]; then
    build_deb kubernetes-cni "${cni_version#v}-$LAB_APT_REVISION" "" \
      "Container Network Interface plugins for the kubelet" "$pool" "${cni_specs[@]}"
  fi
  if [ -n "$kubelet" ]; then
    build_deb kubelet "$(binary_version "$kubelet" | cut -c2-)-$LAB_APT_REVISION" "$kubelet_deps" \
      "Kubernetes node agent" "$pool" "$kubelet:usr/bin/kubelet"
    dep_kubelet="kubelet (>= 1.30.0), "
  fi
  if [ -n "$kubeadm" ]; then
    build_deb kubeadm "$(binary_version "$kubeadm" | cut -c2-)-$LAB_APT_REVISION" \
      "${dep_kubelet}kubectl (>= 1.30.0)${crictl:+, cri-tools}" \
      "Kubernetes cluster bootstrapping tool" "$pool" "$kubeadm:usr/bin/kubeadm"
  fi
  ensure_gpg_key
  (
    cd "$repo" || exit 1
    apt-ftparchive packages "$APT_DEB_ARCH" > Packages 2>/dev/null
    gzip -9nc Packages > Packages.gz
    rm -f Release InRelease Release.gpg
    apt-ftparchive -o APT::FTPArchive::Release::Origin="bmk8s-lab:core:stable:$minor" \
      -o APT::FTPArchive::Release::Label="bmk8s-lab:core:stable:$minor" \
      -o APT::FTPArchive::Release::Architectures="$APT_DEB_ARCH" release . > Release.new
    mv Release.new Release
    gpg --batch --yes --armor --detach-sign -o Release.gpg Release
    gpg --batch --yes --clearsign -o InRelease Release
    gpg --batch --armor --export > Release.key
  )
  gpgconf --kill gpg-agent 2>/dev/null || true
  rm -rf "$unpack"
  APT_PACKAGE_VERSION="$(echo "$version" | cut -c2-)-$LAB_APT_REVISION"
  log "sources: apt repo /$APT_REPO_PATH/ with $(grep -c '^Package:' "$repo/Packages") package(s)"
}
