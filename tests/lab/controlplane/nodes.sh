#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# nodes.sh [create|delete]: create the lab's nodes (master, node-0..2) as kwok-managed fake nodes and
# wait until they are Ready; nodes that already exist (e.g. registered by a real kubelet on a lab host)
# are left alone. `delete` removes only the kwok-managed ones, making room for real kubelets.
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
kc() { "$KUBECTL" --kubeconfig "$ADMIN_CONF" "$@"; }

if [ "${1:-create}" = delete ]; then
  for node in "${LAB_HOSTS[@]}"; do
    fake=$(kc get node "$node" -o 'jsonpath={.metadata.annotations.kwok\.x-k8s\.io/node}' 2>/dev/null || true)
    if [ "$fake" = fake ]; then kc delete node "$node" >/dev/null && log "controlplane: deleted fake node $node"; fi
  done
  exit 0
fi

for node in "${LAB_HOSTS[@]}"; do
  kc get node "$node" >/dev/null 2>&1 && continue
  role_label=""
  [ "$node" = master ] && role_label='"node-role.kubernetes.io/control-plane": ""'
  kc create -f - >/dev/null <<YAML
apiVersion: v1
kind: Node
metadata:
  name: $node
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: $node
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
    ${role_label}
status:
  addresses:
    - {type: InternalIP, address: "${LAB_HOST_IP[$node]}"}
    - {type: Hostname, address: "$node"}
  capacity: {cpu: "4", memory: 16Gi, pods: "110", ephemeral-storage: 100Gi}
  allocatable: {cpu: "4", memory: 16Gi, pods: "110", ephemeral-storage: 100Gi}
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    osImage: Debian GNU/Linux 12 (bookworm)
    kubeletVersion: $LAB_K8S_VERSION
    kubeProxyVersion: $LAB_K8S_VERSION
    containerRuntimeVersion: containerd://1.6.20
YAML
  log "controlplane: created fake node $node"
done
kc wait --for=condition=Ready --timeout=60s "${LAB_HOSTS[@]/#/node/}" >/dev/null
