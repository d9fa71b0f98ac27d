# shellcheck shell=bash
# shellcheck disable=SC2034  # a library: the sourcing scripts use its variables
# Versions, paths and the Go build helper shared by tests/lab/images/*.sh (sourced after ../lib.sh).
# What the lab's kubeadm-made cluster pulls and downloads: kubeadm's images and the release tarballs.

# What kubeadm $LAB_K8S_VERSION asks for (`kubeadm config images list`): etcd, CoreDNS and pause tags.
: "${LAB_ETCD_VERSION:=v3.5.24}"        # image tag 3.5.24-0 (kubeadm 1.33's DefaultEtcdVersion)
: "${LAB_COREDNS_VERSION:=v1.12.0}"     # kubeadm 1.33's CoreDNSVersion
: "${LAB_PAUSE_VERSION:=3.10}"          # kubeadm 1.33's PauseVersion; the lab's own static pause (pause.c)
# Upstream application images the add-on and application fixture charts name, which the lab stands in for on its
# kubeadm cluster: "<image> <mode> [<exit-on words>]" (modes in standin.sh: idle, exit, http:PORT; the words, comma-
# separated, name the image's run-to-completion commands or first arguments). Each is the lab's busybox (so a chart's
# `sh -c ...` or `chmod` runs for real) with standin.sh as its entrypoint (and as each LAB_STANDIN_COMMANDS path, a
# bare name under /usr/local/bin, for a chart that sets `command:`), pushed as
# mirror/<registry>/<repository>:<tag>; the lab inventory points containerd's mirror for each registry there
# (hosts.toml, override_path), the way an air-gapped site points it at its own mirror.
LAB_STANDIN_IMAGES=(
  "docker.io/openebs/provisioner-localpv:4.3.0 idle"
  "quay.io/tigera/operator:v1.38.6 idle"
  "quay.io/metallb/controller:v0.15.2 idle"
  "quay.io/metallb/speaker:v0.15.2 idle"
  "registry.k8s.io/ingress-nginx/controller:v1.13.5 http:10254"
  "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.6.4 exit"
  "quay.io/jetstack/cert-manager-controller:v1.18.2 idle"
  "quay.io/jetstack/cert-manager-webhook:v1.18.2 idle"
  "quay.io/jetstack/cert-manager-cainjector:v1.18.2 idle"
  "quay.io/jetstack/cert-manager-startupapicheck:v1.18.2 exit"
  # the applications (the lab inventory's apps_enabled)
  "docker.io/library/busybox:1.36 idle"
  "registry-one.codescoring.ru/codescoring/backend:2025.47.0 http:8000 python"
  "registry-one.codescoring.ru/codescoring/frontend:2025.47.0 idle"
  "registry-one.codescoring.ru/codescoring/osa-api:2025.47.0 idle"
  "registry-one.codescoring.ru/codescoring/pgbouncer:2025.47.0 idle"
  "docker.io/library/postgres:15.10 idle"
  "docker.io/library/redis:7.2.7 idle"
  "docker.io/cvat/server:v2.56.1 idle init"
  "docker.io/cvat/ui:v2.56.1 idle"
  "docker.io/openpolicyagent/opa:0.63.0 idle"
  "docker.io/apache/kvrocks:2.7.0 idle"
  "docker.io/bitnami/postgresql:15.1.0 idle"
  "docker.io/bitnami/redis:7.2.5 idle"
  "docker.io/exafunction/scheduler:0.10.0 idle"
  "docker.io/exafunction/module_repository:0.10.0 idle"
  "docker.io/lukaszgryglicki/devstats-patroni-new:latest idle"
  "docker.io/lukaszgryglicki/devstats-static-test:latest idle"
  "docker.io/lukaszgryglicki/devstats-test:latest exit"
)
# Commands the fixture charts set: tigera-operator runs `operator`, CodeScoring's migration init container
# `python manage.py migrate`, DevStats' bootstrap pod ./devstats-helm/bootstrap.sh (from the image's root).
LAB_STANDIN_COMMANDS=(operator python /devstats-helm/bootstrap.sh)
# Release tarballs for the files mirror (all built through the Go module proxy).
: "${LAB_CONTAINERD_VERSION:=v2.1.4}"
: "${LAB_RUNC_VERSION:=v1.3.3}"
: "${LAB_CNI_PLUGINS_VERSION:=v1.7.1}"
: "${LAB_CRI_TOOLS_VERSION:=v1.34.0}"   # v1.33.x is not served by the module proxy; 1.34 speaks CRI v1 like 1.33

IMG_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
K8S_BIN="$CACHE_DIR/k8s-$LAB_K8S_VERSION/bin"
IMG_CACHE="$CACHE_DIR/lab-images"        # <name>-<version>/bin (binaries), oci/<name>-<tag> (OCI layouts)
REL_CACHE="$CACHE_DIR/lab-releases"     # <project>/<version>/<upstream release file names>
: "${LAB_REGISTRY:=127.0.0.1:$LAB_REGISTRY_PORT}"
: "${LAB_PYTHON3:=$(command -v python3)}"

export GOFLAGS=-buildvcs=false GOTOOLCHAIN=local

# module_dir MODULE@VERSION: download the module through the Go module proxy; print its (read-only) dir.
module_dir() {
  local info dir
  info=$(go mod download -json "$1") || die "images: $1 is not served by the Go module proxy"
  dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p' <<<"$info")
  [ -d "$dir" ] || die "images: no source dir for $1"
  echo "$dir"
}

# build_in_tree MODULE@VERSION OUT_DIR [go build args...] -- PKG...: build packages of the module in a
# writable copy of its source, with its own go.mod/go.sum (its own replace lines apply; -mod=mod: module
# zips keep a vendor/modules.txt without the vendored code), into OUT_DIR.
build_in_tree() {
  local mod=$1 out=$2 src work; shift 2
  src=$(module_dir "$mod")
  work=$(mktemp -d "${TMPDIR:-/tmp}/bmk8s-build.XXXXXX")
  cp -r "$src/." "$work/" && chmod -R u+w "$work"
  # A replace line pointing at a nested module (not in the module zip) falls back to the published module.
  local old
  for old in $(cd "$work" && go mod edit -json | "$LAB_PYTHON3" -c 'import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    if r["New"]["Path"].startswith("."): print(r["Old"]["Path"] + "\t" + r["New"]["Path"])' \
      | while IFS=$'\t' read -r o n; do [ -d "$work/$n" ] || echo "$o"; done); do
    log "images: $mod: dropping replace $old (its directory is not in the module zip)"
    (cd "$work" && go mod edit -dropreplace "$old")
  done
  mkdir -p "$out"
  local args=() pkgs=() seen=0 a
  for a in "$@"; do
    if [ "$a" = -- ]; then seen=1; elif [ $seen = 0 ]; then args+=("$a"); else pkgs+=("$a"); fi
  done
  (cd "$work" && nice -n 10 go build -mod=mod -trimpath "${args[@]}" -o "$out/" "${pkgs[@]}") \
    || { rm -rf "$work"; die "images: building $mod failed"; }
  rm -rf "$work"
}

# timed NAME CMD...: run CMD and log how long it took.
timed() {
  local name=$1 t0; t0=$(date +%s); shift
  "$@"
  log "images: $name built in $(( $(date +%s) - t0 ))s"
}
