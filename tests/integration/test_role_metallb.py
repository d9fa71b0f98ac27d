"""roles/metallb on the lab's API server (the metallb fixture chart from the lab's basic-auth repository): the
namespace labelled for privileged pods, pools and L2 advertisements from inventory after the controller is
available, a second run and --check change nothing, a changed range updates its pool, a pool dropped from inventory
is removed (and only the role's own), overlapping pools fail before any change."""

import json

import pytest
from apirun import helm, kubectl, kubectl_json, lab_api, lab_repo, run_role

SEED_POOLS = {"test": {"addresses": ["10.77.0.200-10.77.0.209"]}, "prod": {"addresses": ["10.77.0.224/28"]}}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    env = lab_api(tmp_path_factory, "mlb")
    yield env
    helm(env, "uninstall", "-n", env["NAMESPACE"], "metallb", "--ignore-not-found", "--wait")
    kubectl(env, "delete", "namespace", env["NAMESPACE"], "--ignore-not-found", "--wait=false")


def variables(env, pools, **extra):
    return {
        "metallb_namespace": env["NAMESPACE"],
        "metallb_repo": lab_repo(env),
        "metallb_pools": pools,
        "metallb_ready_timeout": 120,
        "metallb_kubeconfig": env["KUBECONFIG"],
        "metallb_helm_binary": env["LAB_HELM"],
    } | extra


def objects(env, kind):
    items = kubectl_json(env, "get", kind, "-n", env["NAMESPACE"])["items"]
    return {i["metadata"]["name"]: i["spec"] for i in items}


def test_pools_converge_update_and_prune(lab, tmp_path):
    rc, stats, out = run_role(lab, tmp_path, "metallb", variables(lab, SEED_POOLS))
    assert rc == 0, out[-6000:]
    labels = kubectl_json(lab, "get", "namespace", lab["NAMESPACE"])["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    assert objects(lab, "ipaddresspools.metallb.io") == {
        "test": {"addresses": ["10.77.0.200-10.77.0.209"], "autoAssign": True, "avoidBuggyIPs": False},
        "prod": {"addresses": ["10.77.0.224/28"], "autoAssign": True, "avoidBuggyIPs": False},
    }  # avoidBuggyIPs: the CRD's default
    assert objects(lab, "l2advertisements.metallb.io") == {
        "test": {"ipAddressPools": ["test"]},
        "prod": {"ipAddressPools": ["prod"]},
    }
    for flags in ((), ("--check", "--diff")):
        rc, stats, out = run_role(lab, tmp_path, "metallb", variables(lab, SEED_POOLS), *flags)
        assert rc == 0 and stats.get("changed") == 0, (flags, out[-4000:])

    # someone else's pool in the namespace is left alone when the role prunes
    theirs = {
        "apiVersion": "metallb.io/v1beta1",
        "kind": "IPAddressPool",
        "metadata": {"name": "theirs", "namespace": lab["NAMESPACE"]},
        "spec": {"addresses": ["10.77.0.250/32"]},
    }
    (tmp_path / "theirs.json").write_text(json.dumps(theirs))
    kubectl(lab, "apply", "-f", str(tmp_path / "theirs.json"), check=True)

    changed_pools = {"test": {"addresses": ["10.77.0.200-10.77.0.219"]}}
    rc, stats, out = run_role(lab, tmp_path, "metallb", variables(lab, changed_pools))
    assert rc == 0 and stats.get("changed", 0) >= 1, out[-4000:]
    assert objects(lab, "ipaddresspools.metallb.io") == {
        "test": {"addresses": ["10.77.0.200-10.77.0.219"], "autoAssign": True, "avoidBuggyIPs": False},
        "theirs": {"addresses": ["10.77.0.250/32"], "autoAssign": True, "avoidBuggyIPs": False},
    }
    assert set(objects(lab, "l2advertisements.metallb.io")) == {"test"}


@pytest.mark.parametrize(
    ("pools", "message"),
    [
        ({"a": {"addresses": ["10.77.0.0/28"]}, "b": {"addresses": ["10.77.0.8-10.77.0.9"]}}, "overlaps"),
        ({"a": {"addresses": ["10.77.0.1/28"]}}, "is not a CIDR"),
    ],
)
def test_bad_pools_fail_before_any_change(lab, tmp_path, pools, message):
    before = (
        objects(lab, "ipaddresspools.metallb.io")
        if helm(lab, "status", "metallb", "-n", lab["NAMESPACE"]).returncode == 0
        else None
    )
    rc, stats, out = run_role(lab, tmp_path, "metallb", variables(lab, pools))
    assert rc != 0 and "metallb_pools" in out and message in out, out[-3000:]
    assert stats.get("changed", 0) == 0
    if before is not None:
        assert objects(lab, "ipaddresspools.metallb.io") == before
