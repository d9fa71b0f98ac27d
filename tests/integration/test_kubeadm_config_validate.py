"""The kubeadm_config filter's documents pass the real `kubeadm config validate` (v1.33.13 from the lab's
control-plane build, offline): defaults, every option the filter has, and the lab's overrides; and kubeadm itself
refuses a document the filter was told to break, so the check can fail."""

import subprocess

import labenv
import pytest
import yaml
from ansible_collections.baremetal.k8s.plugins.filter.kubeadm import FilterModule

F = FilterModule().filters()

VARIANTS = {
    "defaults": {},
    "every option": {
        "pod_subnet": "10.244.0.0/16",
        "service_subnet": "10.112.0.0/12",
        "dns_domain": "k8s.local",
        "cluster_name": "devstats",
        "control_plane_endpoint": "k8s.example.internal:6443",
        "image_repository": "10.77.0.1:5000",
        "cert_sans": ["k8s.example.internal", "203.0.113.10"],
        "init_overrides": {"nodeRegistration": {"taints": []}},
        "kubelet_overrides": {"resolvConf": "/etc/kubernetes/upstream-resolv.conf", "failSwapOn": False},
        "kube_proxy_overrides": {"conntrack": {"maxPerCore": 0}},
    },
}


@pytest.fixture(scope="module")
def kubeadm():
    return labenv.require("controlplane")["LAB_K8S_BIN"] + "/kubeadm"


def validate(kubeadm, docs, tmp_path):
    path = tmp_path / "kubeadm.yaml"
    path.write_text("---\n".join(yaml.safe_dump(d, sort_keys=False) for d in docs))
    return subprocess.run(
        [kubeadm, "config", "validate", "--config", str(path)], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("variant", VARIANTS)
def test_kubeadm_accepts_the_documents(kubeadm, tmp_path, variant):
    docs = F["kubeadm_config"]("1.33.13", "10.77.0.10", "master", **VARIANTS[variant])
    res = validate(kubeadm, docs, tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr


def test_kubeadm_refuses_a_broken_override(kubeadm, tmp_path):
    docs = F["kubeadm_config"](
        "1.33.13", "10.77.0.10", "master", cluster_overrides={"networking": {"serviceSubnet": "nope"}}
    )
    res = validate(kubeadm, docs, tmp_path)
    assert res.returncode != 0 and "serviceSubnet" in res.stdout + res.stderr
