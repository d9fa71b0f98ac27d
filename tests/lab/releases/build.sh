#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Release files for a release-tarball container runtime install, built through the Go module proxy and laid
# out like the projects' GitHub release assets, into $CACHE_DIR/lab-releases/<project>/<version>/:
#   containerd/v2.1.4/containerd-2.1.4-linux-amd64.tar.gz (+ .sha256sum)   bin/{containerd,containerd-shim-runc-v2,ctr,containerd-stress}
#   runc/v1.3.3/runc.amd64 + runc.sha256sum                               static, with seccomp (libseccomp-dev)
#   cni-plugins/v1.7.1/cni-plugins-linux-amd64-v1.7.1.tgz (+ .sha1/.sha256/.sha512)
#   cri-tools/v1.34.0/crictl-v1.34.0-linux-amd64.tar.gz (+ .sha256/.sha512, hash only)
# `build.sh publish` (what `lab.sh up releases` runs) also links them into the files mirror ($LAB_DIR/sources/www/mirror/files/<project>/...),
# so `$LAB_FILES_URL/<project>` stands in for `https://github.com/<owner>/<project>/releases/download`.
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=../images/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../images/common.sh"
need_cmd go "install Go (golang) >= 1.24"

TAR=(tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner)
CNI_PLUGINS=(ipam/dhcp ipam/host-local ipam/static main/bridge main/dummy main/host-device main/ipvlan
             main/loopback main/macvlan main/ptp main/tap main/vlan meta/bandwidth meta/firewall
             meta/portmap meta/sbr meta/tuning meta/vrf)

# sums FILE KIND...: FILE.<kind> for each kind; "sum" style is "<hash>  <name>", "hash" style the hash alone.
sums() {
  local file=$1 style=$2 kind; shift 2
  for kind in "$@"; do
    if [ "$style" = sum ]; then
      (cd "$(dirname "$file")" && "${kind%sum}sum" "$(basename "$file")") > "$file.$kind.tmp"
    else
      "${kind}sum" "$file" | cut -d' ' -f1 > "$file.$kind.tmp"
    fi
    mv "$file.$kind.tmp" "$file.$kind"
  done
}

build_containerd() {
  local v=$LAB_CONTAINERD_VERSION dir="$REL_CACHE/containerd/$LAB_CONTAINERD_VERSION" stage
  local name="containerd-${v#v}-linux-amd64.tar.gz"
  [ -s "$dir/$name.sha256sum" ] && return 0
  stage=$(mktemp -d)
  CGO_ENABLED=0 build_in_tree "github.com/containerd/containerd/v2@$v" "$stage/bin" -tags "no_btrfs urfave_cli_no_docs" \
    -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$v -X github.com/containerd/containerd/v2/version.Revision=lab" \
    -- ./cmd/containerd ./cmd/containerd-shim-runc-v2 ./cmd/ctr ./cmd/containerd-stress
  mkdir -p "$dir"
  "${TAR[@]}" -C "$stage" -cf - bin | gzip -n > "$dir/$name"
  rm -rf "$stage"
  (cd "$dir" && sha256sum "$name" > "$name.sha256sum")
}

build_runc() {
  local v=$LAB_RUNC_VERSION dir="$REL_CACHE/runc/$LAB_RUNC_VERSION" stage
  [ -s "$dir/runc.sha256sum" ] && return 0
  [ -f /usr/lib/x86_64-linux-gnu/libseccomp.a ] || die "releases: runc needs libseccomp.a: apt-get install -y libseccomp-dev"
  stage=$(mktemp -d)
  # runc needs cgo (its nsenter part is C); static like upstream's release, with seccomp.
  CGO_ENABLED=1 build_in_tree "github.com/opencontainers/runc@$v" "$stage" \
    -tags "seccomp urfave_cli_no_docs netgo osusergo" -ldflags "-s -w -X main.gitCommit=lab -extldflags -static" -- .
  mkdir -p "$dir"
  mv "$stage/runc" "$dir/runc.amd64"
  rm -rf "$stage"
  (cd "$dir" && sha256sum runc.amd64 > runc.sha256sum)
}

build_cni_plugins() {
  local v=$LAB_CNI_PLUGINS_VERSION dir="$REL_CACHE/cni-plugins/$LAB_CNI_PLUGINS_VERSION" stage src p pkgs=()
  local name="cni-plugins-linux-amd64-$v.tgz"
  # .layout-2: the tarball's "./" is 0755 like upstream's (an earlier layout had mktemp's 0700, which an
  # unpack onto /opt/cni/bin then applied to that directory).
  [ -s "$dir/$name.sha256" ] && [ -f "$dir/.layout-2" ] && return 0
  for p in "${CNI_PLUGINS[@]}"; do pkgs+=("./plugins/$p"); done
  stage=$(mktemp -d)
  chmod 0755 "$stage"
  CGO_ENABLED=0 build_in_tree "github.com/containernetworking/plugins@$v" "$stage" \
    -ldflags "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=$v" -- "${pkgs[@]}"
  src=$(module_dir "github.com/containernetworking/plugins@$v")
  cp "$src/LICENSE" "$src/README.md" "$stage/" && chmod 0644 "$stage/LICENSE" "$stage/README.md"
  mkdir -p "$dir"
  "${TAR[@]}" -C "$stage" -cf - . | gzip -n > "$dir/$name"
  rm -rf "$stage"
  sums "$dir/$name" sum sha1 sha256 sha512
  touch "$dir/.layout-2"
}

build_cri_tools() {
  local v=$LAB_CRI_TOOLS_VERSION dir="$REL_CACHE/cri-tools/$LAB_CRI_TOOLS_VERSION" stage
  local name="crictl-$v-linux-amd64.tar.gz"
  [ -s "$dir/$name.sha256" ] && return 0
  stage=$(mktemp -d)
  CGO_ENABLED=0 build_in_tree "sigs.k8s.io/cri-tools@$v" "$stage" \
    -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$v" -- ./cmd/crictl
  mkdir -p "$dir"
  "${TAR[@]}" -C "$stage" -cf - crictl | gzip -n > "$dir/$name"
  rm -rf "$stage"
  sums "$dir/$name" hash sha256 sha512
}

publish() {
  [ -f "$LAB_DIR/sources.env" ] || die "releases: the sources component (files mirror) is not up"
  local files="$LAB_DIR/sources/www/mirror/files" p
  for p in containerd runc cni-plugins cri-tools; do
    mkdir -p "$files/$p"
    cp -rl "$REL_CACHE/$p/." "$files/$p/" 2>/dev/null || cp -r "$REL_CACHE/$p/." "$files/$p/"
  done
  log "releases: published under $files/{containerd,runc,cni-plugins,cri-tools}"
}

start=$(date +%s)
timed "containerd $LAB_CONTAINERD_VERSION" build_containerd
timed "runc $LAB_RUNC_VERSION" build_runc
timed "cni-plugins $LAB_CNI_PLUGINS_VERSION" build_cni_plugins
timed "cri-tools $LAB_CRI_TOOLS_VERSION" build_cri_tools
log "releases: ready in $REL_CACHE ($(( $(date +%s) - start ))s)"
[ "${1:-}" != publish ] || publish
