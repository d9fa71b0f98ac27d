# shellcheck shell=bash
# shellcheck disable=SC2034  # sets globals for the scripts that source it
# The files mirror under /files/, in the upstream download layouts, so roles' offline mode is exercised:
#   /files/helm/helm-<ver>-linux-amd64.tar.gz(.sha256sum|.sha256)     like get.helm.sh (also under /files/helm/<ver>/)
#   /files/helm-diff/v<ver>/helm-diff-linux-amd64.tgz                  like the plugin's release downloads
#   /files/kubernetes/release/<ver>/bin/linux/amd64/<bin>(.sha256)     like dl.k8s.io, for binaries that exist
#   /files/pypi/<wheel>.whl                                            a wheel directory (pip --find-links) with the
#                                                                      kubernetes library the helm role pins, and its deps

# link_or_copy SRC DEST: hardlink when possible (same file system), else copy.
link_or_copy() { ln -f "$1" "$2" 2>/dev/null || cp -f "$1" "$2"; }

# checksums FILE: FILE.sha256 (hash only) and FILE.sha256sum (hash and name), as the upstreams publish.
checksums() {
  local sum
  sum=$(sha256sum "$1" | cut -d' ' -f1)
  echo "$sum" > "$1.sha256"
  echo "$sum  $(basename "$1")" > "$1.sha256sum"
}

publish_files() {
  local files="$WWW_MIRROR/files" name tarball stage bin diff_dir
  name="helm-$LAB_HELM_VERSION-linux-amd64.tar.gz"
  tarball="$files/helm/$LAB_HELM_VERSION/$name"
  mkdir -p "$files/helm/$LAB_HELM_VERSION"
  if [ ! -s "$tarball" ]; then
    stage=$(mktemp -d)
    mkdir "$stage/linux-amd64"
    cp "$(readlink -f "$LAB_HELM")" "$stage/linux-amd64/helm"
    printf 'helm %s for linux/amd64, repackaged by the baremetal.k8s lab.\n' "$LAB_HELM_VERSION" \
      > "$stage/linux-amd64/README.md"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$stage" -cf - linux-amd64 \
      | gzip -n > "$tarball.tmp"
    mv "$tarball.tmp" "$tarball"
    rm -rf "$stage"
    checksums "$tarball"
  fi
  for f in "$tarball" "$tarball.sha256" "$tarball.sha256sum"; do link_or_copy "$f" "$files/helm/"; done
  HELM_TARBALL_SHA256=$(cat "$tarball.sha256")

  diff_dir="$files/helm-diff/v$LAB_HELM_DIFF_VERSION"
  mkdir -p "$diff_dir"
  link_or_copy "$LAB_HELM_DIFF_TARBALL" "$diff_dir/helm-diff-linux-amd64.tgz"
  checksums "$diff_dir/helm-diff-linux-amd64.tgz"

  mkdir -p "$files/kubernetes/release/$LAB_K8S_VERSION/bin/linux/amd64"
  for bin in kubeadm kubelet kubectl crictl; do
    [ -x "$K8S_BIN/$bin" ] || continue
    link_or_copy "$K8S_BIN/$bin" "$files/kubernetes/release/$LAB_K8S_VERSION/bin/linux/amd64/$bin"
    sha256sum "$K8S_BIN/$bin" | cut -d' ' -f1 > "$files/kubernetes/release/$LAB_K8S_VERSION/bin/linux/amd64/$bin.sha256"
  done
  publish_wheels "$files/pypi"
}

# publish_wheels DIR: the helm role's pinned Python requirements and their dependencies as wheels for the hosts
# (same Python and platform as this machine: Debian bookworm, 3.11), downloaded once into the cache.
publish_wheels() {
  local dest=$1 reqs cache python=python3
  reqs=$(sed -n 's/^  - \([A-Za-z0-9_.-]*==[^ ]*\)$/\1/p' "$REPO_ROOT/roles/helm/defaults/main.yml")
  [ -n "$reqs" ] || die "sources: no pinned helm_python_packages in roles/helm/defaults/main.yml"
  cache="$CACHE_DIR/wheels/$(echo "$reqs" | sha256sum | cut -c1-12)"
  if [ -x "$REPO_ROOT/.venv/bin/python" ]; then python="$REPO_ROOT/.venv/bin/python"; fi
  if [ ! -f "$cache/.complete" ]; then
    mkdir -p "$cache"
    # shellcheck disable=SC2086  # one requirement per word
    "$python" -m pip download -q --only-binary=:all: -d "$cache" $reqs || die "sources: pip download $reqs failed"
    touch "$cache/.complete"
  fi
  mkdir -p "$dest"
  find "$dest" -name '*.whl' -delete
  for f in "$cache"/*.whl; do link_or_copy "$f" "$dest/"; done
}
