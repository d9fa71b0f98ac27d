#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# PKI of the lab control plane (openssl): CA, apiserver serving cert, service-account keypair, client
# certs for admin (system:masters), controller-manager and scheduler, and a front-proxy CA + client (as
# kubeadm makes; aggregated API servers and delegated authentication need it). Keeps existing files.
# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
need_cmd openssl "apt-get install openssl"

PKI="$LAB_DIR/controlplane/pki"
mkdir -p "$PKI" && chmod 0700 "$PKI"
cd "$PKI"
umask 077

key() { [ -s "$1.key" ] || openssl genrsa -out "$1.key" 2048 2>/dev/null; }

# ca NAME CN: self-signed CA
ca() {
  [ -s "$1.crt" ] && return 0
  key "$1"
  openssl req -x509 -new -key "$1.key" -sha256 -days 3650 -subj "/CN=$2" -out "$1.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
}
ca ca bmk8s-lab-ca
ca front-proxy-ca bmk8s-lab-front-proxy-ca

# sign NAME SUBJECT EXTENDED_USAGE [SANS] [CA]
sign() {
  local name=$1 subj=$2 eku=$3 sans=${4:-} ca=${5:-ca}
  [ -s "$name.crt" ] && return 0
  key "$name"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [ -z "$sans" ] || echo "subjectAltName=$sans"
  } > "$name.ext"
  openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial -days 825 -sha256 \
    -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

sign apiserver "/CN=kube-apiserver" serverAuth \
  "IP:127.0.0.1,IP:$LAB_BRIDGE_IP,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
sign admin "/O=system:masters/CN=kubernetes-admin" clientAuth
sign controller-manager "/CN=system:kube-controller-manager" clientAuth
sign scheduler "/CN=system:kube-scheduler" clientAuth
sign front-proxy-client "/CN=front-proxy-client" clientAuth "" front-proxy-ca

if [ ! -s sa.key ]; then
  key sa
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
fi
