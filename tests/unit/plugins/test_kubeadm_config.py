"""kubeadm's configuration documents from inputs and overrides, and the checks before they reach kubeadm."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.baremetal.k8s.plugins.filter.kubeadm import FilterModule

F = FilterModule().filters()


def by_kind(docs):
    return {d["kind"]: d for d in docs}


def test_defaults_kubeadm_users_expect():
    docs = by_kind(F["kubeadm_config"]("1.33.13", "10.0.0.10", "master"))
    assert list(docs) == ["InitConfiguration", "ClusterConfiguration", "KubeletConfiguration"]
    init, cluster, kubelet = docs.values()
    assert init["apiVersion"] == cluster["apiVersion"] == "kubeadm.k8s.io/v1beta4"
    assert init["localAPIEndpoint"] == {"advertiseAddress": "10.0.0.10", "bindPort": 6443}
    assert init["nodeRegistration"] == {"name": "master", "criSocket": "unix:///run/containerd/containerd.sock"}
    assert cluster["kubernetesVersion"] == "v1.33.13"
    assert cluster["networking"] == {
        "podSubnet": "192.168.0.0/16",
        "serviceSubnet": "10.96.0.0/12",
        "dnsDomain": "cluster.local",
    }
    assert "controlPlaneEndpoint" not in cluster and "imageRepository" not in cluster and "apiServer" not in cluster
    assert kubelet == {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "cgroupDriver": "systemd",
    }


def test_options_and_overrides():
    docs = by_kind(
        F["kubeadm_config"](
            "v1.33.13",
            "10.0.0.10",
            "master",
            pod_subnet="10.244.0.0/16",
            control_plane_endpoint="k8s.example.internal:6443",
            image_repository="registry.example.internal/k8s",
            cert_sans=["k8s.example.internal", "203.0.113.10"],
            kubelet_overrides={"resolvConf": "/etc/kubernetes/upstream-resolv.conf", "cgroupDriver": "systemd"},
            kube_proxy_overrides={"conntrack": {"maxPerCore": 0}},
            cluster_overrides={"networking": {"dnsDomain": "k8s.local"}},
        )
    )
    cluster = docs["ClusterConfiguration"]
    assert cluster["networking"] == {
        "podSubnet": "10.244.0.0/16",
        "serviceSubnet": "10.96.0.0/12",
        "dnsDomain": "k8s.local",
    }
    assert cluster["controlPlaneEndpoint"] == "k8s.example.internal:6443"
    assert cluster["imageRepository"] == "registry.example.internal/k8s"
    assert cluster["apiServer"] == {"certSANs": ["k8s.example.internal", "203.0.113.10"]}
    assert docs["KubeletConfiguration"]["resolvConf"] == "/etc/kubernetes/upstream-resolv.conf"
    assert docs["KubeProxyConfiguration"] == {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "conntrack": {"maxPerCore": 0},
    }


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("1.33", "10.0.0.10", "m"), {}, "MAJOR.MINOR.PATCH"),
        (("1.33.13", "master.example", "m"), {}, "advertise address must be an IP"),
        (("1.33.13", "10.0.0.10", "m"), {"pod_subnet": "192.168.0.1/16"}, "pod subnet must be a network"),
        (("1.33.13", "10.0.0.10", "m"), {"pod_subnet": "not-a-cidr"}, "pod subnet must be a network"),
        (("1.33.13", "10.0.0.10", "m"), {"pod_subnet": "10.96.0.0/16"}, "overlaps the service subnet"),
    ],
)
def test_refused_before_kubeadm_sees_it(args, kwargs, message):
    if (
        message is None
    ):  # a bare address is a /32 network: valid for Python, useless as a pod subnet, but kubeadm's call
        F["kubeadm_config"](*args, **kwargs)
        return
    with pytest.raises(AnsibleFilterError, match=message):
        F["kubeadm_config"](*args, **kwargs)


@pytest.mark.parametrize(
    ("value", "ok"),
    [("192.168.0.0/16", True), ("10.244.0.0/16", True), ("fd00::/48", True), ("192.168.0.1/16", False), ("x", False)],
)
def test_network_error(value, ok):
    error = F["network_error"](value, "kubernetes_pod_subnet")
    assert (error == "") is ok
    if not ok:
        assert error.startswith("kubernetes_pod_subnet must be a network")
