"""roles/node_labels against the lab's API server, whose Nodes are the four lab hosts (registered by kwok):
labels and taints from host variables, converged, unchanged on a second run and in --check; dropped ones stay
until node_labels_prune, and then only what the role set goes; bad input on several hosts is reported at once
before any change; a host without a Node fails by name."""

import json

import labenv
import pytest
import yaml
from kubernetes import client, config
from rolerun import REPO, changed, run

NODES = ["master", "node-0", "node-1", "node-2"]
DB_TAINT = {"key": "dedicated", "value": "devstats-db", "effect": "NoSchedule"}
FOREIGN = {"key": "example.com/theirs", "effect": "PreferNoSchedule"}


@pytest.fixture(scope="module")
def api():
    env = labenv.require("controlplane")
    config.load_kube_config(config_file=env["KUBECONFIG"])
    core = client.CoreV1Api()
    yield env, core
    for name in NODES:  # leave the Nodes as kwok made them
        node = core.read_node(name)
        ann = node.metadata.annotations or {}
        labels = {k: None for k in (node.metadata.labels or {}) if k in ("node", "node2")}
        drop = {k: None for k in ann if k.startswith("baremetal.k8s.io/")}
        taints = [t for t in node.spec.taints or [] if t.key not in ("dedicated", FOREIGN["key"])]
        core.patch_node(name, {"metadata": {"labels": labels, "annotations": drop}, "spec": {"taints": taints or None}})


def write_inventory(tmp_path, kubeconfig, hostvars):
    hosts = {name: dict(hostvars.get(name, {})) for name in NODES}
    inventory = {
        "all": {
            "hosts": {
                "localhost": {
                    "ansible_connection": "local",
                    "ansible_python_interpreter": str(REPO / ".venv/bin/python"),
                    "node_labels_kubeconfig": kubeconfig,
                }
            },
            "children": {"k8s_cluster": {"hosts": hosts}},
        }
    }
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(inventory))
    return path


@pytest.fixture()
def play(tmp_path):
    path = tmp_path / "node_labels.yml"
    play = [
        {"name": "node_labels", "hosts": "localhost", "gather_facts": False, "roles": ["baremetal.k8s.node_labels"]}
    ]
    path.write_text(yaml.safe_dump(play))
    return path


def state(core, name):
    node = core.read_node(name)
    taints = sorted(
        (t.key, t.value or "", t.effect) for t in node.spec.taints or [] if not t.key.startswith("node.kubernetes.io/")
    )
    return node.metadata.labels or {}, taints, node.metadata.annotations or {}


def test_labels_and_taints_converge_then_prune(api, play, tmp_path):
    env, core = api
    kubeconfig = env["KUBECONFIG"]
    seed = {"node-0": {"node_labels": {"node": "devstats-app"}}, "node-1": {"node_labels": {"node": "devstats-app"}}}
    seed["node-2"] = {"node_labels": {"node2": "devstats-db"}, "node_taints": [DB_TAINT]}
    inventory = write_inventory(tmp_path, kubeconfig, seed)
    core.patch_node("node-2", {"spec": {"taints": [FOREIGN]}})  # set by someone else: never touched

    proc, stats = run(play, tmp_path, inventory=inventory)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert changed(stats) == {"localhost": 1}
    labels, taints, ann = state(core, "node-2")
    assert labels["node2"] == "devstats-db" and "node" not in labels
    assert taints == sorted([("dedicated", "devstats-db", "NoSchedule"), (FOREIGN["key"], "", "PreferNoSchedule")])
    assert json.loads(ann["baremetal.k8s.io/managed-labels"]) == ["node2"]
    assert json.loads(ann["baremetal.k8s.io/managed-taints"]) == ["dedicated:NoSchedule"]
    for name in ("node-0", "node-1"):
        assert state(core, name)[0]["node"] == "devstats-app"
    assert "node" not in state(core, "master")[0]

    again, stats = run(play, tmp_path, inventory=inventory)
    assert again.returncode == 0 and changed(stats) == {"localhost": 0}, again.stdout[-3000:]
    check, stats = run(play, tmp_path, "--check", "--diff", inventory=inventory)
    assert check.returncode == 0 and changed(stats) == {"localhost": 0}, check.stdout[-3000:]

    # node-2 dropped from inventory: kept without prune, removed with it (its own only)
    del seed["node-2"]
    inventory = write_inventory(tmp_path, kubeconfig, seed)
    kept, stats = run(play, tmp_path, inventory=inventory)
    assert kept.returncode == 0 and changed(stats) == {"localhost": 0}, kept.stdout[-3000:]
    assert state(core, "node-2")[0]["node2"] == "devstats-db"

    check, stats = run(play, tmp_path, "--check", inventory=inventory, extra={"node_labels_prune": True})
    assert check.returncode == 0 and changed(stats) == {"localhost": 1}, check.stdout[-3000:]
    assert state(core, "node-2")[0]["node2"] == "devstats-db"  # --check changed nothing

    pruned, stats = run(play, tmp_path, inventory=inventory, extra={"node_labels_prune": True})
    assert pruned.returncode == 0 and changed(stats) == {"localhost": 1}, pruned.stdout[-3000:]
    labels, taints, ann = state(core, "node-2")
    assert "node2" not in labels and "kubernetes.io/hostname" in labels
    assert taints == [(FOREIGN["key"], "", "PreferNoSchedule")]
    assert not any(k.startswith("baremetal.k8s.io/") for k in ann)
    assert state(core, "node-0")[0]["node"] == "devstats-app"


def test_bad_input_on_several_hosts_is_reported_at_once(api, play, tmp_path):
    env, core = api
    before = {name: state(core, name) for name in NODES}
    hostvars = {
        "node-0": {"node_labels": {"node": "devstats-app"}},
        "node-1": {"node_labels": {"bad key": "x"}},
        "node-2": {"node_taints": [{"key": "dedicated", "effect": "Sometimes"}]},
    }
    proc, stats = run(play, tmp_path, inventory=write_inventory(tmp_path, env["KUBECONFIG"], hostvars))
    assert proc.returncode != 0
    assert "node-1: 'bad key'" in proc.stdout and "node-2: node_taints dedicated: effect must be" in proc.stdout
    assert changed(stats) == {"localhost": 0}
    assert {name: state(core, name) for name in NODES} == before


def test_a_host_without_a_node_fails_by_name(api, play, tmp_path):
    env, _core = api
    hostvars = {"node-0": {"node_labels_node_name": "ghost", "node_labels": {"node": "x"}}}
    proc, stats = run(play, tmp_path, inventory=write_inventory(tmp_path, env["KUBECONFIG"], hostvars))
    assert proc.returncode != 0
    assert "no Node for ghost" in proc.stdout
    assert changed(stats) == {"localhost": 0}
