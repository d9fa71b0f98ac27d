#!/usr/bin/env bash
# Build the execution environment image with podman, runc as the OCI runtime (crun cannot set rlimits on this kind of
# machine), from a local Debian bookworm base made with debootstrap and `podman import` (no registry needed), then
# check it at build time: `ansible-playbook --syntax-check` of every playbook of the collection and an ansible-runner
# job inside the image (tests/ee/Containerfile, stage check).
#
#   sudo tests/ee/build.sh [WORKDIR]        WORKDIR default /var/tmp/bmk8s-ee (rootfs, build context, logs)
#
# Pinned: Debian suite and package set below; the Python toolchain from requirements.txt (ansible, ansible-runner,
# kubernetes, jmespath). Environment: EE_DEBIAN_MIRROR (default http://deb.debian.org/debian), EE_BUILD_CA (the CA
# bundle pip trusts in the build, default the host's /etc/ssl/certs/ca-certificates.crt), EE_IMAGE (the tag, default
# localhost/baremetal-k8s-ee:<collection version>). Needs root, podman, runc and debootstrap
# (apt-get install podman runc debootstrap). Nothing is written to the repository.
# Not in this image (unlike meta/execution-environment.yml): helm and kubectl, which that build downloads from
# get.helm.sh and dl.k8s.io; the playbooks run them on the k8s_api host, which the helm role provisions.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${1:-/var/tmp/bmk8s-ee}
SUITE=bookworm
MIRROR=${EE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PACKAGES=python3,python3-venv,python3-pip,openssh-client,git,ca-certificates,tar,gzip
BASE=localhost/bmk8s-debian-${SUITE}:base
CA=${EE_BUILD_CA:-/etc/ssl/certs/ca-certificates.crt}
PODMAN=(podman --runtime runc)

pin() { # the version requirements.txt pins for a package
    sed -n "s/^$1==\([^ ;#]*\).*/\1/p" "$REPO/requirements.txt" | head -n1
}
VERSION=$(sed -n 's/^version: *//p' "$REPO/galaxy.yml" | tr -d '"'"'"' ')
IMAGE=${EE_IMAGE:-localhost/baremetal-k8s-ee:$VERSION}

[ "$(id -u)" = 0 ] || { echo "build.sh: run as root (debootstrap, podman)" >&2; exit 2; }
for tool in podman runc debootstrap; do
    command -v "$tool" >/dev/null || { echo "build.sh: $tool is missing: apt-get install podman runc debootstrap" >&2; exit 2; }
done
mkdir -p "$WORK"

# 1. the base image: a minimal Debian rootfs, imported once (rebuilt when the package list changes)
STAMP="$SUITE $PACKAGES"
if [ "$(cat "$WORK/rootfs.stamp" 2>/dev/null)" != "$STAMP" ] || ! "${PODMAN[@]}" image exists "$BASE"; then
    rm -rf "$WORK/rootfs"
    debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$WORK/rootfs" "$MIRROR" > "$WORK/debootstrap.log" 2>&1 \
        || { tail -20 "$WORK/debootstrap.log" >&2; exit 1; }
    tar -C "$WORK/rootfs" -c . | "${PODMAN[@]}" import - "$BASE" >/dev/null
    echo "$STAMP" > "$WORK/rootfs.stamp"
fi

# 2. the build context: the collection as it is in this checkout, the Containerfile, the smoke play, the CA bundle
rm -rf "$WORK/ctx" && mkdir -p "$WORK/ctx"
"$REPO/.venv/bin/ansible-galaxy" collection build "$REPO" --output-path "$WORK/ctx" >/dev/null
cp "$REPO/tests/ee/Containerfile" "$REPO/tests/ee/smoke.yml" "$WORK/ctx/"
cp "$CA" "$WORK/ctx/build-ca.crt"

ARGS=(--network host --pull=never --build-arg "BASE_IMAGE=$BASE"
      --build-arg "ANSIBLE_VERSION=$(pin ansible)" --build-arg "ANSIBLE_RUNNER_VERSION=$(pin ansible-runner)"
      --build-arg "KUBERNETES_VERSION=$(pin kubernetes)" --build-arg "JMESPATH_VERSION=$(pin jmespath)"
      -f "$WORK/ctx/Containerfile")

# 3. the image, then its checks (a separate target, so the image itself carries no check layers)
"${PODMAN[@]}" build "${ARGS[@]}" --target ee -t "$IMAGE" "$WORK/ctx" 2>&1 | tee "$WORK/build.log"
"${PODMAN[@]}" build "${ARGS[@]}" --target check "$WORK/ctx" 2>&1 | tee "$WORK/check.log"
echo "build.sh: $IMAGE built and checked (logs in $WORK)"
