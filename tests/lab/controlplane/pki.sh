#!/usr/bin/env bash
# PKI of the lab control plane (openssl): CA, apiserver serving cert, service-account keypair and client
# certs for admin (system:masters), controller-manager and scheduler. Keeps existing files.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
need_cmd openssl "apt-get install openssl"

PKI="$LAB_DIR/controlplane/pki"
mkdir -p "$PKI" && chmod 0700 "$PKI"
cd "$PKI"
umask 077

key() { [ -s "$1.key" ] || openssl genrsa -out "$1.key" 2048 2>/dev/null; }

if [ ! -s ca.crt ]; then
  key ca
  openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=bmk8s-lab-ca" -out ca.crt \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"
fi

# sign NAME SUBJECT EXTENDED_USAGE [SANS]
sign() {
  local name=$1 subj=$2 eku=$3 sans=${4:-}
  [ -s "$name.crt" ] && return 0
  key "$name"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [ -z "$sans" ] || echo "subjectAltName=$sans"
  } > "$name.ext"
  openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -sha256 \
    -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

sign apiserver "/CN=kube-apiserver" serverAuth \
  "IP:127.0.0.1,IP:$LAB_BRIDGE_IP,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
sign admin "/O=system:masters/CN=kubernetes-admin" clientAuth
sign controller-manager "/CN=system:kube-controller-manager" clientAuth
sign scheduler "/CN=system:kube-scheduler" clientAuth

if [ ! -s sa.key ]; then
  key sa
  openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
fi
