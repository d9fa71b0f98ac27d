#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Bring up the lab control plane: etcd, kube-apiserver, controller-manager, scheduler, kwok (fake nodes)
# and the lab PV provisioner; write admin kubeconfigs and $LAB_DIR/controlplane.env. Idempotent.
# Set LAB_CP_SKIP_NODES=1 to skip creating the kwok nodes (when real lab hosts register instead).
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_root
on_exit() { local rc=$?; if [ "$rc" != 0 ]; then stop_started; fi; exit "$rc"; }
trap on_exit EXIT
[ -n "$LAB_ETCD_BIN" ] || die "missing 'etcd': apt-get install etcd-server"
[ -x "$LAB_PYTHON" ] || die "missing $LAB_PYTHON: create the venv (make venv)"
"$CP_HERE/build.sh"
"$CP_HERE/pki.sh"
mkdir -p "$CP_LOGS" "$LAB_DIR/pv"

APISERVER_LOCAL="https://127.0.0.1:$LAB_APISERVER_PORT"
# Address published in the `kubernetes` Service's endpoints. Not 127.0.0.1: Endpoints reject loopback
# addresses, and pods on real lab hosts reach the API server over the bridge anyway.
: "${LAB_APISERVER_ADVERTISE:=$LAB_BRIDGE_IP}"

# kubeconfig FILE USER SERVER: client-cert kubeconfig with embedded certs (mode 0600).
kubeconfig() {
  local file=$1 user=$2 server=$3
  [ -s "$file" ] && grep -q "server: $server\$" "$file" && return 0
  rm -f "$file"
  (umask 077
   "$KUBECTL" --kubeconfig "$file" config set-cluster lab --server "$server" \
     --certificate-authority "$PKI/ca.crt" --embed-certs >/dev/null
   "$KUBECTL" --kubeconfig "$file" config set-credentials "$user" --client-certificate "$PKI/$user.crt" \
     --client-key "$PKI/$user.key" --embed-certs >/dev/null
   "$KUBECTL" --kubeconfig "$file" config set-context "$user@lab" --cluster lab --user "$user" >/dev/null
   "$KUBECTL" --kubeconfig "$file" config use-context "$user@lab" >/dev/null)
}
kubeconfig "$ADMIN_CONF" admin "$APISERVER_LOCAL"
kubeconfig "$LAB_DIR/admin-bridge.conf" admin "https://$LAB_BRIDGE_IP:$LAB_APISERVER_PORT"
kubeconfig "$CP_DIR/controller-manager.conf" controller-manager "$APISERVER_LOCAL"
kubeconfig "$CP_DIR/scheduler.conf" scheduler "$APISERVER_LOCAL"

ETCD_URL="http://127.0.0.1:$LAB_K8S_ETCD_PORT"
ETCD_PEER="http://127.0.0.1:$((LAB_K8S_ETCD_PORT + 1))"
# etcd listens on loopback only, plain HTTP (lab; the apiserver is the only client).
start etcd "$LAB_ETCD_BIN" --name bmk8s-cp --data-dir "$CP_DIR/etcd" \
  --listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
  --listen-peer-urls "$ETCD_PEER" --initial-advertise-peer-urls "$ETCD_PEER" \
  --initial-cluster "bmk8s-cp=$ETCD_PEER" --initial-cluster-state new \
  --quota-backend-bytes 1073741824 --auto-compaction-retention 1h
wait_for etcd 30 curl -fsS "$ETCD_URL/health"

start kube-apiserver "$K8S_BIN/kube-apiserver" \
  --etcd-servers "$ETCD_URL" \
  --secure-port "$LAB_APISERVER_PORT" --bind-address 0.0.0.0 --advertise-address "$LAB_APISERVER_ADVERTISE" \
  --service-cluster-ip-range 10.96.0.0/12 \
  --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
  --client-ca-file "$PKI/ca.crt" \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
  --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
  --enable-bootstrap-token-auth --allow-privileged \
  --requestheader-client-ca-file "$PKI/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
  --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
  --requestheader-extra-headers-prefix X-Remote-Extra- \
  --proxy-client-cert-file "$PKI/front-proxy-client.crt" --proxy-client-key-file "$PKI/front-proxy-client.key" \
  --cert-dir "$PKI" --profiling=false
wait_for kube-apiserver 90 "$KUBECTL" --kubeconfig "$ADMIN_CONF" get --raw /readyz

start kube-controller-manager "$K8S_BIN/kube-controller-manager" \
  --kubeconfig "$CP_DIR/controller-manager.conf" \
  --authentication-kubeconfig "$CP_DIR/controller-manager.conf" \
  --authorization-kubeconfig "$CP_DIR/controller-manager.conf" \
  --bind-address 127.0.0.1 --controllers '*' --leader-elect=false --use-service-account-credentials \
  --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
  --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
  --service-cluster-ip-range 10.96.0.0/12 --cluster-name bmk8s-lab --profiling=false
start kube-scheduler "$K8S_BIN/kube-scheduler" \
  --kubeconfig "$CP_DIR/scheduler.conf" \
  --authentication-kubeconfig "$CP_DIR/scheduler.conf" \
  --authorization-kubeconfig "$CP_DIR/scheduler.conf" \
  --bind-address 127.0.0.1 --leader-elect=false --profiling=false

# kwok: no Stage configs given, so it uses its built-in default stages: node-initialize and
# node-heartbeat-with-lease for nodes, pod-ready / pod-complete (Job-owned pods) / pod-delete for pods.
start kwok "$K8S_BIN/kwok" --kubeconfig "$ADMIN_CONF" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
  --cidr 10.244.0.0/16 --node-lease-duration-seconds 40

# Stand-in for the real dynamic provisioners (see lab_provisioner.py).
start lab-provisioner "$LAB_PYTHON" "$CP_HERE/lab_provisioner.py" --kubeconfig "$ADMIN_CONF" \
  --provisioners "$LAB_PV_PROVISIONERS" --root "$LAB_DIR/pv"
# The same for the lab's kubeadm cluster (the openebs-hostpath class of the openebs role; the provisioner image is an
# idle stand-in there), with the nodes' directories under OpenEBS's default base path.
start lab-cluster-provisioner "$LAB_PYTHON" "$CP_HERE/lab_provisioner.py" --kubeconfig "$CLUSTER_ADMIN_CONF" \
  --provisioners openebs.io/local --root /var/openebs/local --node-paths
# Stand-in for MetalLB's controller on the lab's kubeadm cluster (see lab_loadbalancer.py): it waits until
# `kubeadm init` has written the cluster's admin kubeconfig on master.
start lab-loadbalancer "$LAB_PYTHON" "$CP_HERE/lab_loadbalancer.py" --kubeconfig "$CLUSTER_ADMIN_CONF"

wait_for kube-controller-manager 60 curl -fsSk https://127.0.0.1:10257/healthz
wait_for kube-scheduler 60 curl -fsSk https://127.0.0.1:10259/healthz
wait_for "default service account" 60 "$KUBECTL" --kubeconfig "$ADMIN_CONF" -n default get serviceaccount default

[ "${LAB_CP_SKIP_NODES:-0}" = 1 ] || "$CP_HERE/nodes.sh"

write_env controlplane "KUBECONFIG=$ADMIN_CONF" "LAB_KUBECONFIG_BRIDGE=$LAB_DIR/admin-bridge.conf" \
  "LAB_KUBECTL=$KUBECTL" "LAB_K8S_BIN=$K8S_BIN" "LAB_K8S_PKI=$PKI"
log "controlplane: up ($APISERVER_LOCAL, KUBECONFIG=$ADMIN_CONF)"
