#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Build the lab's Kubernetes binaries from the Go module proxy into $CACHE_DIR/k8s-$LAB_K8S_VERSION/bin:
# kube-apiserver, kube-controller-manager, kube-scheduler, kubeadm, kubelet, kubectl (one `go build`,
# shared compilation) and kwok. Skips whatever is already there. etcd comes from Debian (etcd-server).
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

K8S_DIR="$CACHE_DIR/k8s-$LAB_K8S_VERSION"
BIN_DIR="$K8S_DIR/bin"
K8S_CMDS=(kube-apiserver kube-controller-manager kube-scheduler kubeadm kubelet kubectl)
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local

need_cmd go "install Go (golang) >= 1.24"
mkdir -p "$BIN_DIR"

missing_k8s() { local c; for c in "${K8S_CMDS[@]}"; do [ -x "$BIN_DIR/$c" ] || return 0; done; return 1; }

build_kubernetes() {
  local ver=$LAB_K8S_VERSION staging_ver="v0.${LAB_K8S_VERSION#v1.}" src="$K8S_DIR/src" info mod
  log "controlplane: building kubernetes $ver (staging modules at $staging_ver); this takes a while"
  info=$(go mod download -json "k8s.io/kubernetes@$ver") || die "k8s.io/kubernetes@$ver not on the Go proxy"
  mod=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p' <<<"$info")
  local commit; commit=$(sed -n 's/^[[:space:]]*"Hash": "\([0-9a-f]\{40\}\)",*$/\1/p' <<<"$info" | head -1)
  : "${commit:=0000000000000000000000000000000000000000}"  # the proxy usually has no Origin for k8s.io/kubernetes
  local info_file built
  info_file=$(sed -n 's/^[[:space:]]*"Info": "\(.*\)",*$/\1/p' <<<"$info")
  built=$(grep -o '"Time": *"[^"]*"' "$info_file" | cut -d'"' -f4 || true)  # release time, reproducible
  # Throwaway wrapper module: require k8s.io/kubernetes and map each staging module (v0.0.0 plus a
  # ./staging replace in kubernetes' own go.mod) to its published version.
  rm -rf "$src" && mkdir -p "$src"
  {
    echo "module lab.local/k8s-build"
    echo
    echo "go 1.24.0"
    echo
    echo "require k8s.io/kubernetes $ver"
    echo
    echo "replace ("
    sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\t\1 => \1 '"$staging_ver"'#p' "$mod"
    echo ")"
  } > "$src/go.mod"
  local X="" pkg pkgs=()
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    X+=" -X $pkg.gitVersion=$ver -X $pkg.gitMajor=1 -X $pkg.gitMinor=$(cut -d. -f2 <<<"$ver")"
    X+=" -X $pkg.gitCommit=$commit -X $pkg.gitTreeState=clean -X $pkg.buildDate=${built:-1970-01-01T00:00:00Z}"
  done
  for pkg in "${K8S_CMDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$pkg"); done
  local tmp_out; tmp_out=$(mktemp -d "$K8S_DIR/out.XXXXXX")
  (cd "$src" && nice -n 10 go build -mod=mod -trimpath -ldflags "-s -w$X" -o "$tmp_out/" "${pkgs[@]}")
  mv -f "$tmp_out"/* "$BIN_DIR/" && rmdir "$tmp_out"
}

build_kwok() {
  log "controlplane: building kwok $LAB_KWOK_VERSION"
  GOBIN="$BIN_DIR" nice -n 10 go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$LAB_KWOK_VERSION"
}

start=$(date +%s)
if missing_k8s; then build_kubernetes; fi
[ -x "$BIN_DIR/kwok" ] || build_kwok
[[ "$("$BIN_DIR/kubectl" version --client 2>/dev/null)" == *"Client Version: $LAB_K8S_VERSION"* ]] \
  || die "built kubectl does not report $LAB_K8S_VERSION; rm -rf $K8S_DIR and rebuild"
log "controlplane: binaries ready in $BIN_DIR ($(( $(date +%s) - start ))s)"
