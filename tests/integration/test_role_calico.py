"""roles/calico on the lab's API server (the tigera-operator fixture chart with upstream's keys and CRDs): the
Installation's pool is the cluster's pod network, the role waits for the operator, a second run and --check change
nothing; a pod CIDR that differs from kubeadm's podSubnet (a kube-system/kubeadm-config ConfigMap as kubeadm writes
it) and one that is not a network fail before any change, naming the variable."""

import json

import pytest
import yaml
from apirun import helm, kubectl, kubectl_json, lab_api, lab_repo, run_role


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    env = lab_api(tmp_path_factory, "cal")
    yield env
    kubectl(env, "delete", "configmap", "-n", "kube-system", "kubeadm-config", "--ignore-not-found")
    helm(env, "uninstall", "-n", env["NAMESPACE"], "calico", "--ignore-not-found", "--wait")
    kubectl(env, "delete", "namespace", env["NAMESPACE"], "--ignore-not-found", "--wait=false")


def variables(env, **extra):
    return {
        "calico_namespace": env["NAMESPACE"],
        "calico_repo": lab_repo(env),
        "kubernetes_pod_subnet": "10.244.0.0/16",
        "calico_ready_timeout": 120,
        "calico_kubeconfig": env["KUBECONFIG"],
        "calico_helm_binary": env["LAB_HELM"],
    } | extra


def test_installation_follows_the_pod_subnet(lab, tmp_path):
    rc, stats, out = run_role(lab, tmp_path, "calico", variables(lab))
    assert rc == 0, out[-6000:]
    installation = kubectl_json(lab, "get", "installations.operator.tigera.io", "default")["spec"]
    (pool,) = installation["calicoNetwork"]["ipPools"]
    assert (pool["cidr"], pool["encapsulation"]) == ("10.244.0.0/16", "VXLAN")
    assert installation["calicoNetwork"]["bgp"] == "Disabled"
    for flags in ((), ("--check", "--diff")):
        rc, stats, out = run_role(lab, tmp_path, "calico", variables(lab), *flags)
        assert rc == 0 and stats.get("changed") == 0, (flags, out[-4000:])


def test_a_pod_cidr_other_than_kubeadms_is_refused(lab, tmp_path):
    cluster = {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "ClusterConfiguration",
        "networking": {"podSubnet": "10.244.0.0/16"},
    }
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
        "data": {"ClusterConfiguration": yaml.safe_dump(cluster)},
    }
    (tmp_path / "cm.json").write_text(json.dumps(cm))
    kubectl(lab, "apply", "-f", str(tmp_path / "cm.json"), check=True)
    try:
        rc, stats, out = run_role(lab, tmp_path, "calico", variables(lab, kubernetes_pod_subnet="192.168.0.0/16"))
        assert rc != 0 and "calico_pod_cidr 192.168.0.0/16 differs from kubeadm's podSubnet 10.244.0.0/16" in out
        assert stats.get("changed", 0) == 0
        rc, stats, out = run_role(lab, tmp_path, "calico", variables(lab))  # the same one passes
        assert rc == 0 and stats.get("changed") == 0, out[-4000:]
    finally:
        kubectl(lab, "delete", "configmap", "-n", "kube-system", "kubeadm-config", "--ignore-not-found")


def test_not_a_network_is_refused(lab, tmp_path):
    rc, stats, out = run_role(lab, tmp_path, "calico", variables(lab, kubernetes_pod_subnet="10.244.0.1/16"))
    assert rc != 0 and "calico_pod_cidr must be a network" in out
    assert stats.get("changed", 0) == 0
