"""The preflight role run by ansible-playbook on localhost (no lab): every problem reported at once, fatal by
default, warnings (not an ignored failure) with preflight_fail_fast=false."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PLAY = """
- hosts: k8s_cluster
  gather_facts: true
  tasks:
    - ansible.builtin.include_role:
        name: baremetal.k8s.preflight
    - ansible.builtin.debug:
        msg: "after preflight on {{ inventory_hostname }}"
"""


def run(tmp_path: Path, hosts: dict, extra: dict) -> subprocess.CompletedProcess:
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory = {
        "all": {
            "children": {
                "k8s_cluster": {
                    "children": {
                        "kube_control_plane": {
                            "hosts": {h: {**local, **v} for h, v in hosts.items() if v.pop("cp", False)}
                        },
                        "kube_node": {"hosts": {h: {**local, **v} for h, v in hosts.items()}},
                    }
                },
                "k8s_api": {"hosts": {next(iter(hosts)): {}}},
            }
        }
    }
    (tmp_path / "hosts.yml").write_text(json.dumps(inventory))
    (tmp_path / "play.yml").write_text(PLAY)
    # no network here: the package index check is proven on the lab (tests/integration/test_site_cluster.py)
    (tmp_path / "extra.json").write_text(json.dumps({"preflight_check_packages": False, **extra}))
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    }
    return subprocess.run(
        [
            Path(sys.executable).with_name("ansible-playbook"),
            "-i",
            tmp_path / "hosts.yml",
            tmp_path / "play.yml",
            "-e",
            f"@{tmp_path / 'extra.json'}",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        check=False,
        timeout=300,
    )


def test_every_problem_at_once_and_fatal(tmp_path):
    hosts = {"Bad_Name": {"ansible_host": "127.0.0.1"}, "ok-name": {"ansible_host": "127.0.0.1", "cp": True}}
    res = run(tmp_path, hosts, {"preflight_node_min_memory_mb": 10**8, "preflight_control_plane_min_memory_mb": 10**8})
    out = res.stdout
    assert res.returncode != 0
    assert "not a valid Kubernetes node name" in out
    assert "two cluster hosts share an address: 127.0.0.1, 127.0.0.1" in out
    assert "MiB of memory; this host needs 100000000" in out
    assert "after preflight" not in out


def test_fail_fast_false_warns_and_continues(tmp_path):
    hosts = {"master": {"cp": True}}  # no ansible_host: the inventory name is the address
    res = run(tmp_path, hosts, {"preflight_fail_fast": False, "preflight_control_plane_min_memory_mb": 10**8})
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert "[WARNING]: preflight on master: only" in out
    assert "MiB of memory; this host needs 100000000" in out
    assert "after preflight on master" in out
    assert "ignoring" not in out and "failed=0" in out


@pytest.mark.parametrize("extra", [{"preflight_fail_fast": "sometimes"}, {"preflight_control_plane_min_cpus": "two"}])
def test_bad_input_names_the_variable(tmp_path, extra):
    res = run(tmp_path, {"master": {"cp": True}}, extra)
    assert res.returncode != 0
    assert next(iter(extra)) in res.stdout


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"kubernetes_pod_subnet": "10.244.0.0/33"}, "kubernetes_pod_subnet"),
        ({"kubernetes_service_subnet": "10.96.0.1/12"}, "kubernetes_service_subnet"),
        ({"kubernetes_version": "1.33"}, "kubernetes_version must be MAJOR.MINOR.PATCH"),
        # the later roles' argument specs, checked here so that nothing has changed yet
        ({"containerd_install_method": "podman"}, "containerd_install_method must be one of"),
        ({"kubeadm_join_timeout": "soon"}, "kubeadm_join_timeout"),
    ],
)
def test_shared_cluster_inputs_are_checked(tmp_path, extra, message):
    res = run(tmp_path, {"master": {"cp": True}}, extra)
    assert res.returncode != 0
    assert message in res.stdout
    assert "after preflight" not in res.stdout
