#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Build the binaries of the images `kubeadm config images list` names that the controlplane build does not
# make (kube-proxy, etcd, CoreDNS, pause) into $CACHE_DIR/lab-images/<name>-<version>/bin, static
# (CGO_ENABLED=0; pause with `gcc -static`). Skips whatever is already there.
# kube-apiserver, kube-controller-manager and kube-scheduler come from tests/lab/controlplane/build.sh.
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
export CGO_ENABLED=0
need_cmd go "install Go (golang) >= 1.24"

# kube-proxy from k8s.io/kubernetes, the same way as controlplane/build.sh (a throwaway module that
# maps each staging module to its published version), with the same version stamps.
build_kube_proxy() {
  local ver=$LAB_K8S_VERSION staging_ver="v0.${LAB_K8S_VERSION#v1.}" out=$1 info mod commit info_file built src X="" pkg
  info=$(go mod download -json "k8s.io/kubernetes@$ver") || die "images: k8s.io/kubernetes@$ver not served"
  mod=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p' <<<"$info")
  commit=$(sed -n 's/^[[:space:]]*"Hash": "\([0-9a-f]\{40\}\)",*$/\1/p' <<<"$info" | head -1)
  : "${commit:=0000000000000000000000000000000000000000}"
  info_file=$(sed -n 's/^[[:space:]]*"Info": "\(.*\)",*$/\1/p' <<<"$info")
  built=$(grep -o '"Time": *"[^"]*"' "$info_file" | cut -d'"' -f4 || true)
  src=$(mktemp -d "${TMPDIR:-/tmp}/bmk8s-kube-proxy.XXXXXX")
  {
    printf 'module lab.local/kube-proxy-build\n\ngo 1.24.0\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$ver"
    sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\t\1 => \1 '"$staging_ver"'#p' "$mod"
    echo ")"
  } > "$src/go.mod"
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    X+=" -X $pkg.gitVersion=$ver -X $pkg.gitMajor=1 -X $pkg.gitMinor=$(cut -d. -f2 <<<"$ver")"
    X+=" -X $pkg.gitCommit=$commit -X $pkg.gitTreeState=clean -X $pkg.buildDate=${built:-1970-01-01T00:00:00Z}"
  done
  mkdir -p "$out"
  (cd "$src" && nice -n 10 go build -mod=mod -trimpath -ldflags "-s -w$X" -o "$out/kube-proxy" \
    k8s.io/kubernetes/cmd/kube-proxy) || { rm -rf "$src"; die "images: building kube-proxy failed"; }
  rm -rf "$src"
}

# etcd's server module points at its sibling modules with ../ replace lines, so it is built from a
# throwaway module that requires it (the siblings resolve to their published versions).
build_etcd() {
  local out=$1 src
  src=$(mktemp -d "${TMPDIR:-/tmp}/bmk8s-etcd.XXXXXX")
  printf 'module lab.local/etcd-build\n\ngo 1.23\n\nrequire go.etcd.io/etcd/server/v3 %s\n' \
    "$LAB_ETCD_VERSION" > "$src/go.mod"
  mkdir -p "$out"
  (cd "$src" && nice -n 10 go build -mod=mod -trimpath \
    -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=lab" -o "$out/etcd" go.etcd.io/etcd/server/v3) \
    || { rm -rf "$src"; die "images: building etcd failed"; }
  rm -rf "$src"
}

build_coredns() {
  build_in_tree "github.com/coredns/coredns@$LAB_COREDNS_VERSION" "$1" \
    -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=lab" -- .
}

build_pause() {
  need_cmd gcc "apt-get install -y gcc libc6-dev"
  mkdir -p "$1"
  nice -n 10 gcc -Os -static -Wall -Werror -DPAUSE_VERSION="\"$LAB_PAUSE_VERSION\"" \
    -o "$1/pause" "$IMG_HERE/pause.c"
  strip "$1/pause"
}

start=$(date +%s)
d="$IMG_CACHE/etcd-$LAB_ETCD_VERSION/bin";          [ -x "$d/etcd" ] || timed etcd build_etcd "$d"
d="$IMG_CACHE/coredns-$LAB_COREDNS_VERSION/bin";    [ -x "$d/coredns" ] || timed coredns build_coredns "$d"
d="$IMG_CACHE/pause-$LAB_PAUSE_VERSION/bin";        [ -x "$d/pause" ] || timed pause build_pause "$d"
d="$IMG_CACHE/kube-proxy-$LAB_K8S_VERSION/bin";     [ -x "$d/kube-proxy" ] || timed kube-proxy build_kube_proxy "$d"
# (grep without -q reads the whole output: with pipefail, -q exiting first can fail the writer with SIGPIPE)
"$IMG_CACHE/etcd-$LAB_ETCD_VERSION/bin/etcd" --version | grep "etcd Version: ${LAB_ETCD_VERSION#v}" >/dev/null \
  || die "images: built etcd does not report ${LAB_ETCD_VERSION#v}"
log "images: binaries ready in $IMG_CACHE ($(( $(date +%s) - start ))s)"
