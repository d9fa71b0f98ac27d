#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Build (once per input) the OCI layouts of kubeadm's images from the lab's binaries and push them to
# $LAB_REGISTRY (default the lab's, 127.0.0.1:$LAB_REGISTRY_PORT; any plain-HTTP registry works) under
# registry.k8s.io's repository names. Needs the binaries (build.sh, iptables.sh, controlplane/build.sh).
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

curl --noproxy '*' -fsS -o /dev/null "http://$LAB_REGISTRY/v2/" || die "images: no registry at $LAB_REGISTRY"
OCI="$IMG_CACHE/oci"
ETCD_TAG="${LAB_ETCD_VERSION#v}-0"
BASE="$IMG_CACHE/base"   # /etc/passwd, /etc/group, /etc/nsswitch.conf: what distroless images carry
mkdir -p "$OCI" "$BASE/etc"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' \
  > "$BASE/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' > "$BASE/etc/group"
printf 'hosts: files dns\n' > "$BASE/etc/nsswitch.conf"

# image NAME TAG oci.py-build-args...: build the layout once per NAME:TAG (and input change), then push.
image() {
  local name=$1 tag=$2 layout stamp a prev="" inputs=(); shift 2
  layout="$OCI/${name//\//_}-$tag"
  for a in "$@"; do
    [ "$prev" != --add ] || inputs+=("${a%%=*}")
    [ "$prev" != --tree ] || inputs+=("$a")
    prev=$a
  done
  # The layout is rebuilt when the arguments or an added file or tree (names, sizes, mtimes) changed.
  stamp=$({ printf '%s\n' "$@"; find "${inputs[@]}" -printf '%p %s %T@\n' | sort; } | sha256sum | cut -c1-16)
  if [ "$(cat "$layout/.args" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$layout"
    "$LAB_PYTHON3" "$IMG_HERE/oci.py" build --out "$layout" --tree "$BASE" --dir /tmp:1777 "$@" >&2
    echo "$stamp" > "$layout/.args"
  fi
  "$LAB_PYTHON3" "$IMG_HERE/oci.py" push --layout "$layout" --registry "$LAB_REGISTRY" --repo "$name" --tag "$tag"
}

start=$(date +%s)
for c in kube-apiserver kube-controller-manager kube-scheduler; do
  image "$c" "$LAB_K8S_VERSION" --add "$K8S_BIN/$c=/usr/local/bin/$c" --entrypoint "[\"/usr/local/bin/$c\"]"
done
# kube-proxy runs iptables (nf_tables backend, as on the lab hosts): Debian's iptables and its libraries.
image kube-proxy "$LAB_K8S_VERSION" --add "$IMG_CACHE/kube-proxy-$LAB_K8S_VERSION/bin/kube-proxy=/usr/local/bin/kube-proxy" \
  --tree "$IMG_CACHE/iptables/root" --entrypoint '["/usr/local/bin/kube-proxy"]'
image etcd "$ETCD_TAG" --add "$IMG_CACHE/etcd-$LAB_ETCD_VERSION/bin/etcd=/usr/local/bin/etcd" \
  --dir /var/lib/etcd:0700 --entrypoint '["/usr/local/bin/etcd"]'
# registry.k8s.io keeps CoreDNS at coredns/coredns; kubeadm asks for <imageRepository>/coredns when the
# repository is not registry.k8s.io, so both names are pushed.
for repo in coredns/coredns coredns; do
  image "$repo" "$LAB_COREDNS_VERSION" --add "$IMG_CACHE/coredns-$LAB_COREDNS_VERSION/bin/coredns=/coredns" \
    --entrypoint '["/coredns"]'
done
image pause "$LAB_PAUSE_VERSION" --add "$IMG_CACHE/pause-$LAB_PAUSE_VERSION/bin/pause=/pause" \
  --entrypoint '["/pause"]' --user 65535:65535
# The lab's own small image with a shell (for fixture charts' pods and `kubectl exec`), not kubeadm's.
BUSYBOX_TAG=$("$IMG_HERE/busybox.sh")
image lab/busybox "$BUSYBOX_TAG" --tree "$IMG_CACHE/busybox/root" --entrypoint '["/bin/sh"]'
# Stand-ins for upstream application images (LAB_STANDIN_IMAGES, standin.sh): a Deployment, DaemonSet or Job that
# runs the image's entrypoint or a listed command becomes ready or complete (nothing of the application runs).
standin_args=(--tree "$IMG_CACHE/busybox-dyn/root" --add "$IMG_HERE/standin.sh=/lab-standin" --add "$IMG_HERE/nc.sh=/usr/local/bin/nc")
for c in "${LAB_STANDIN_COMMANDS[@]}"; do
  case $c in /*) standin_args+=(--symlink "$c=/lab-standin") ;; *) standin_args+=(--symlink "/usr/local/bin/$c=/lab-standin") ;; esac
done
# LAB_STANDIN_IMAGE makes each image's digest its own: containerd reports a pod's image by digest, and two upstream
# names with one digest could show up under each other's name.
for entry in "${LAB_STANDIN_IMAGES[@]}"; do
  read -r ref mode exit_on <<<"$entry"
  image "mirror/${ref%:*}" "${ref##*:}" "${standin_args[@]}" --env "LAB_STANDIN_MODE=$mode" \
    --env "LAB_STANDIN_EXIT_ON=${exit_on//,/ }" --env "LAB_STANDIN_IMAGE=$ref" --entrypoint '["/lab-standin"]'
done
log "images: pushed to $LAB_REGISTRY in $(( $(date +%s) - start ))s"
