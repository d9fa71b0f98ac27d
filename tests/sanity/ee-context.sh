#!/usr/bin/env bash
# Proves meta/execution-environment.yml produces an ansible-builder 3 build context (no image is built here).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -n "$(ls build/baremetal-k8s-*.tar.gz 2>/dev/null)" ] || ansible-galaxy collection build --output-path build --force >/dev/null
rm -rf context
ansible-builder create -f meta/execution-environment.yml -c context --output-filename Containerfile >/dev/null
cf=context/Containerfile
for want in "quay.io/centos/centos:stream9" "ansible-core==2.19.14" "ansible-galaxy collection install /build/collections/" \
            "/usr/local/bin/helm" "/usr/local/bin/kubectl"; do
  grep -qF -- "$want" "$cf" || { echo "ee-context: $cf lacks '$want'" >&2; exit 1; }
done
for f in requirements.yml requirements.txt bindep.txt; do
  cmp -s "meta/$f" "context/_build/$f" || { echo "ee-context: context/_build/$f differs from meta/$f" >&2; exit 1; }
done
ls context/_build/collections/baremetal-k8s-*.tar.gz >/dev/null || { echo "ee-context: collection tarball missing" >&2; exit 1; }
echo "ee-context: build context in ./context ok"
