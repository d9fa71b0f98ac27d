#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The images part of the lab (`tests/lab/lab.sh up images`, in the default list): the images that
# `kubeadm config images list --kubernetes-version $LAB_K8S_VERSION` names, built from the lab's own
# static binaries (tests/lab/controlplane/build.sh, tests/lab/images/build.sh) as single-layer OCI images
# (tests/lab/images/oci.py, no Docker) and pushed to the lab's registry under registry.k8s.io's
# repository names, so kubeadm's `imageRepository: <registry>` pulls them. Needs the sources component
# (the registry) up. Layouts are cached by tag in $CACHE_DIR/lab-images/oci/ and pushes skip blobs the
# registry has, so a warm run takes seconds.
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ -f "$LAB_DIR/sources.env" ] || die "images: the sources component (the registry) is not up: tests/lab/lab.sh up sources"
curl --noproxy '*' -fsS -o /dev/null "http://$LAB_REGISTRY/v2/" || die "images: no registry at $LAB_REGISTRY"
for c in kube-apiserver kube-controller-manager kube-scheduler; do
  [ -x "$K8S_BIN/$c" ] || "$LAB_ROOT/controlplane/build.sh"
done
"$IMG_HERE/build.sh"
"$IMG_HERE/iptables.sh"

"$IMG_HERE/push.sh"
ETCD_TAG="${LAB_ETCD_VERSION#v}-0"
write_env images "LAB_IMAGE_REPOSITORY=$LAB_REGISTRY" \
  "LAB_IMAGE_REPOSITORY_BRIDGE=$LAB_BRIDGE_IP:$LAB_REGISTRY_PORT" \
  "LAB_ETCD_IMAGE_TAG=$ETCD_TAG" "LAB_COREDNS_IMAGE_TAG=$LAB_COREDNS_VERSION" \
  "LAB_PAUSE_IMAGE_TAG=$LAB_PAUSE_VERSION" \
  "LAB_BUSYBOX_IMAGE=lab/busybox:$(cat "$IMG_CACHE/busybox/version")"
log "images: up ($LAB_DIR/images.env)"
