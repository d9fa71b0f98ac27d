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
    cri_socket="unix:///run/containerd/containerd.sock",
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
