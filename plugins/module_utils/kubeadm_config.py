# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kubeadm's configuration (kubeadm.k8s.io/v1beta4) as data: the documents `kubeadm init --config` reads.

Built from a few inputs with the defaults kubeadm's users expect (containerd's socket, the systemd cgroup
driver), then each document's overrides are merged in last, so any field kubeadm accepts can be set from
inventory without a template per field.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.baremetal.k8s.plugins.module_utils.containerd_config import merge

KUBEADM_API = "kubeadm.k8s.io/v1beta4"
CRI_SOCKET = "unix:///run/containerd/containerd.sock"
INIT_TOKEN_TTL = "15m0s"
_VERSION = re.compile(r"^v?([0-9]+)\.([0-9]+)\.([0-9]+)$")


class KubeadmConfigError(ValueError):
    pass


def network(name, value):
    try:
        return str(ipaddress.ip_network(str(value), strict=True))
    except ValueError as exc:
        raise KubeadmConfigError("%s must be a network in CIDR form (%s): %s" % (name, value, exc)) from None


def check_subnets(pod_subnet, service_subnet):
    """Both networks valid and not overlapping; returns them normalized."""
    pods, services = network("pod subnet", pod_subnet), network("service subnet", service_subnet)
    if ipaddress.ip_network(pods).overlaps(ipaddress.ip_network(services)):
        raise KubeadmConfigError("the pod subnet %s overlaps the service subnet %s" % (pods, services))
    return pods, services


def documents(
    kubernetes_version,
    advertise_address,
    node_name,
    *,
    pod_subnet="192.168.0.0/16",
    service_subnet="10.96.0.0/12",
    dns_domain="cluster.local",
    cluster_name="kubernetes",
    bind_port=6443,
    control_plane_endpoint="",
    image_repository="",
    cert_sans=(),
    cri_socket=CRI_SOCKET,
    init_overrides=None,
    cluster_overrides=None,
    kubelet_overrides=None,
    kube_proxy_overrides=None,
):
    """[InitConfiguration, ClusterConfiguration, KubeletConfiguration, KubeProxyConfiguration (when overridden)]."""
    match = _VERSION.match(str(kubernetes_version))
    if not match:
        raise KubeadmConfigError("kubernetes version must be MAJOR.MINOR.PATCH, got %r" % (kubernetes_version,))
    try:
        ipaddress.ip_address(str(advertise_address))
    except ValueError:
        raise KubeadmConfigError("advertise address must be an IP address, got %r" % (advertise_address,)) from None
    pods, services = check_subnets(pod_subnet, service_subnet)
    init = {
        "apiVersion": KUBEADM_API,
        "kind": "InitConfiguration",
        "localAPIEndpoint": {"advertiseAddress": str(advertise_address), "bindPort": int(bind_port)},
        "nodeRegistration": {"name": str(node_name), "criSocket": cri_socket},
        # kubeadm init always makes a bootstrap token (24 h by default); workers join with their own token made at
        # join time, so this one only has to outlive the init.
        "bootstrapTokens": [{"ttl": INIT_TOKEN_TTL, "description": "made by kubeadm init (baremetal.k8s)"}],
    }
    cluster = {
        "apiVersion": KUBEADM_API,
        "kind": "ClusterConfiguration",
        "clusterName": cluster_name,
        "kubernetesVersion": "v%s.%s.%s" % match.groups(),
        "networking": {"podSubnet": pods, "serviceSubnet": services, "dnsDomain": dns_domain},
    }
    if control_plane_endpoint:
        cluster["controlPlaneEndpoint"] = control_plane_endpoint
    if image_repository:
        cluster["imageRepository"] = image_repository
    if cert_sans:
        cluster["apiServer"] = {"certSANs": [str(s) for s in cert_sans]}
    kubelet = {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration", "cgroupDriver": "systemd"}
    docs = [merge(init, init_overrides), merge(cluster, cluster_overrides), merge(kubelet, kubelet_overrides)]
    if kube_proxy_overrides:
        proxy = {"apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration"}
        docs.append(merge(proxy, kube_proxy_overrides))
    return docs


def join_document(api_server_endpoint, token, ca_cert_hashes, node_name, *, cri_socket=CRI_SOCKET, overrides=None):
    """A JoinConfiguration for a worker: bootstrap-token discovery pinned by the CA's public key hash(es)."""
    if not re.match(r"^[^\s/:]+:[0-9]+$", str(api_server_endpoint)):
        raise KubeadmConfigError("the API server endpoint must be HOST:PORT, got %r" % (api_server_endpoint,))
    if not re.match(r"^[a-z0-9]{6}\.[a-z0-9]{16}$", str(token)):
        raise KubeadmConfigError("the bootstrap token is not in the form [a-z0-9]{6}.[a-z0-9]{16}")
    hashes = [str(h) for h in ca_cert_hashes]
    if not hashes or not all(re.match(r"^sha256:[0-9a-f]{64}$", h) for h in hashes):
        raise KubeadmConfigError("CA certificate hashes must be sha256:<64 hex digits>, got %r" % (hashes,))
    join = {
        "apiVersion": KUBEADM_API,
        "kind": "JoinConfiguration",
        "discovery": {
            "bootstrapToken": {
                "apiServerEndpoint": str(api_server_endpoint),
                "token": str(token),
                "caCertHashes": hashes,
            }
        },
        "nodeRegistration": {"name": str(node_name), "criSocket": cri_socket},
    }
    return merge(join, overrides)


_JOIN_COMMAND = re.compile(
    r"kubeadm join (?P<endpoint>\S+) --token (?P<token>\S+)\s+(?P<hashes>(?:--discovery-token-ca-cert-hash \S+\s*)+)"
)


def parse_join_command(text):
    """(endpoint, token, [hashes]) from `kubeadm token create --print-join-command`'s output."""
    match = _JOIN_COMMAND.search(" ".join(str(text).replace("\\", " ").split()))
    if not match:
        raise KubeadmConfigError("no join command in `kubeadm token create --print-join-command`'s output")
    hashes = re.findall(r"--discovery-token-ca-cert-hash (\S+)", match.group("hashes"))
    return match.group("endpoint"), match.group("token"), hashes


# ClusterConfiguration fields that must match between the running cluster and the inventory, and what to do
# when they do not: the version moves with playbooks/upgrade.yml; the others are fixed when the cluster is made.
DRIFT_FIELDS = (
    ("kubernetesVersion", "kubernetes_version", "upgrade with playbooks/upgrade.yml"),
    ("clusterName", "cluster_name", "fixed at kubeadm init"),
    ("networking.podSubnet", "pod_subnet", "fixed at kubeadm init"),
    ("networking.serviceSubnet", "service_subnet", "fixed at kubeadm init"),
    ("networking.dnsDomain", "dns_domain", "fixed at kubeadm init"),
    ("controlPlaneEndpoint", "endpoint", "fixed at kubeadm init"),
    ("imageRepository", "image_repository", "change it with playbooks/upgrade.yml"),
    ("apiServer.certSANs", "cert_sans", "the API server certificate was made with the cluster's SANs"),
)


def _field(doc, path):
    for key in path.split("."):
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc


def drift(running, desired):
    """[{field, option, running, desired, hint}] where the running cluster's ClusterConfiguration (the
    kube-system/kubeadm-config ConfigMap) differs from the desired one. Fields left unset in the desired
    document take kubeadm's defaults; they count as a difference only where kubeadm has no default."""
    defaults = {
        "clusterName": "kubernetes",
        "networking.dnsDomain": "cluster.local",
        "imageRepository": "registry.k8s.io",
    }
    out = []
    for path, option, hint in DRIFT_FIELDS:
        have, want = _field(running, path), _field(desired, path)
        have = defaults.get(path) if have in (None, "", []) else have
        want = defaults.get(path) if want in (None, "", []) else want
        if path == "apiServer.certSANs":
            have, want = sorted(have or []), sorted(want or [])
        if have != want:
            out.append({"field": path, "option": option, "running": have, "desired": want, "hint": hint})
    return out
