"""kubeadm's configuration documents from inputs and overrides, and the checks before they reach kubeadm."""

import pytest
import yaml
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
    # init's own bootstrap token is short-lived: workers join with a token made at join time
    assert [t["ttl"] for t in init["bootstrapTokens"]] == ["15m0s"]
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


JOIN_OUTPUT = (
    "kubeadm join 10.77.0.10:6443 --token abcdef.0123456789abcdef \\\n"
    "\t--discovery-token-ca-cert-hash sha256:" + "a" * 64 + " \n"
)


def test_join_config_from_the_print_join_command_output():
    doc = F["kubeadm_join_config"](JOIN_OUTPUT, "node-0", overrides={"nodeRegistration": {"taints": []}})
    assert doc == {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "JoinConfiguration",
        "discovery": {
            "bootstrapToken": {
                "apiServerEndpoint": "10.77.0.10:6443",
                "token": "abcdef.0123456789abcdef",
                "caCertHashes": ["sha256:" + "a" * 64],
            }
        },
        "nodeRegistration": {"name": "node-0", "criSocket": "unix:///run/containerd/containerd.sock", "taints": []},
    }


def test_join_config_keeps_every_ca_hash():
    out = JOIN_OUTPUT.rstrip() + " --discovery-token-ca-cert-hash sha256:" + "b" * 64
    doc = F["kubeadm_join_config"](out, "node-1")
    assert doc["discovery"]["bootstrapToken"]["caCertHashes"] == ["sha256:" + "a" * 64, "sha256:" + "b" * 64]


@pytest.mark.parametrize(
    "output, message",
    [
        ("", "no join command"),
        ("kubeadm join 10.77.0.10:6443 --token short.x --discovery-token-ca-cert-hash sha256:" + "a" * 64, "token"),
        ("kubeadm join 10.77.0.10:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash md5:a", "sha256"),
        (
            "kubeadm join https://10.77.0.10:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash "
            "sha256:" + "a" * 64,
            "HOST:PORT",
        ),
    ],
)
def test_join_config_refuses_what_kubeadm_would_not_take(output, message):
    with pytest.raises(AnsibleFilterError, match=message) as err:
        F["kubeadm_join_config"](output, "node-0")
    assert "0123456789abcdef" not in str(err.value)  # the token's secret half never in a message


def running_cluster(**changes):
    docs = F["kubeadm_config"]("1.33.13", "10.77.0.10", "master", pod_subnet="10.244.0.0/16")
    cluster = dict(by_kind(docs)["ClusterConfiguration"])
    cluster.update(changes)
    return docs, cluster


def test_no_drift_when_the_cluster_was_made_from_the_same_inputs():
    docs, cluster = running_cluster()
    assert F["kubeadm_drift"](cluster, docs) == []


def test_no_drift_for_kubeadm_defaults_written_back_by_the_cluster():
    docs, cluster = running_cluster(imageRepository="registry.k8s.io", apiServer={"certSANs": []})
    assert F["kubeadm_drift"](cluster, docs) == []


def test_drift_names_every_field_and_what_to_do():
    docs, cluster = running_cluster(
        kubernetesVersion="v1.33.12",
        networking={"podSubnet": "192.168.0.0/16", "serviceSubnet": "10.96.0.0/12", "dnsDomain": "cluster.local"},
        apiServer={"certSANs": ["k8s.example.internal"]},
    )
    found = {d["field"]: d for d in F["kubeadm_drift"](cluster, docs)}
    assert sorted(found) == ["apiServer.certSANs", "kubernetesVersion", "networking.podSubnet"]
    assert found["kubernetesVersion"]["running"] == "v1.33.12"
    assert found["kubernetesVersion"]["desired"] == "v1.33.13"
    assert "upgrade.yml" in found["kubernetesVersion"]["hint"]
    assert found["networking.podSubnet"]["option"] == "pod_subnet"
    assert found["networking.podSubnet"]["desired"] == "10.244.0.0/16"


def test_drift_reads_the_config_map_yaml():
    docs, cluster = running_cluster(clusterName="devstats")
    found = F["kubeadm_drift"](yaml.safe_dump(cluster), docs)
    assert [d["field"] for d in found] == ["clusterName"]
