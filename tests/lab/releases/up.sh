#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The lab's release downloads, for the containerd role's `release` and `docker` methods: containerd, runc,
# CNI plugins and crictl built through the Go module proxy (build.sh, cached in $CACHE_DIR/lab-releases) and
# published in the files mirror in GitHub's release layout, plus a Docker-layout apt repo with containerd.io
# (docker_repo.sh). Needs the sources component (nginx serves both). Writes releases.env.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=../images/common.sh
source "$LAB_ROOT/images/common.sh"
# shellcheck source=../sources/common.sh
source "$LAB_ROOT/sources/common.sh"
# shellcheck source=../sources/aptrepo.sh
source "$LAB_ROOT/sources/aptrepo.sh"
# shellcheck source=docker_repo.sh
source "$LAB_ROOT/releases/docker_repo.sh"

[ -f "$LAB_DIR/sources.env" ] || die "releases: the sources component (the files mirror) is not up: tests/lab/lab.sh up sources"
# shellcheck source=/dev/null
source "$LAB_DIR/sources.env"
"$LAB_ROOT/releases/build.sh" publish
publish_docker_repo
publish_apt_repo   # again, now with cri-tools and kubernetes-cni from these tarballs
bridge="http://$LAB_BRIDGE_IP:$LAB_MIRROR_PORT"
write_env releases "LAB_RELEASES_URL=$LAB_FILES_URL" "LAB_RELEASES_URL_BRIDGE=$bridge/files" \
  "LAB_CONTAINERD_VERSION=$LAB_CONTAINERD_VERSION" "LAB_RUNC_VERSION=$LAB_RUNC_VERSION" \
  "LAB_CNI_PLUGINS_VERSION=$LAB_CNI_PLUGINS_VERSION" "LAB_CRI_TOOLS_VERSION=$LAB_CRI_TOOLS_VERSION" \
  "LAB_DOCKER_REPO_URL=$LAB_APT_BASE_URL/docker/linux/debian" "LAB_DOCKER_REPO_URL_BRIDGE=$bridge/docker/linux/debian" \
  "LAB_CONTAINERD_IO_VERSION=$CONTAINERD_IO_VERSION"
log "releases: up ($LAB_DIR/releases.env)"
