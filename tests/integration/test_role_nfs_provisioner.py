"""roles/nfs_provisioner on the lab's API server (the nfs-server-provisioner fixture chart from the lab's
basic-auth repository; its volume bound by the lab's stand-in for the OpenEBS hostpath provisioner): the
ReadWriteMany class exists and is not the default, the export's claim asks the backing class for the size, a second
run and --check change nothing, bad input fails before any change."""

import json

import pytest
from apirun import helm, kubectl, kubectl_json, lab_api, lab_repo, run_role

BACKING = "nfs-backing-it"
RWX = "nfs-rwx-it"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    env = lab_api(tmp_path_factory, "nfs")
    backing = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": BACKING},
        "provisioner": "openebs.io/local",
        "volumeBindingMode": "WaitForFirstConsumer",
    }
    path = tmp_path_factory.mktemp("sc") / "backing.json"
    path.write_text(json.dumps(backing))
    kubectl(env, "apply", "-f", str(path), check=True)
    yield env
    helm(env, "uninstall", "-n", env["NAMESPACE"], "local-storage-nfs", "--ignore-not-found", "--wait")
    kubectl(env, "delete", "namespace", env["NAMESPACE"], "--ignore-not-found", "--wait=false")
    kubectl(env, "delete", "storageclass", BACKING, RWX, "--ignore-not-found")


def variables(env, **extra):
    return {
        "nfs_provisioner_namespace": env["NAMESPACE"],
        "nfs_provisioner_repo": lab_repo(env),
        "nfs_provisioner_backing_storage_class": BACKING,
        "nfs_provisioner_storage_class": RWX,
        "nfs_provisioner_size": "8Gi",
        "nfs_provisioner_kubeconfig": env["KUBECONFIG"],
        "nfs_provisioner_helm_binary": env["LAB_HELM"],
    } | extra


def test_rwx_class_on_a_backing_volume(lab, tmp_path):
    rc, stats, out = run_role(lab, tmp_path, "nfs_provisioner", variables(lab))
    assert rc == 0, out[-6000:]
    sc = kubectl_json(lab, "get", "storageclass", RWX)
    assert (sc["metadata"].get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class") != "true"
    claims = kubectl_json(lab, "get", "pvc", "-n", lab["NAMESPACE"])["items"]
    assert [(c["spec"]["storageClassName"], c["spec"]["resources"]["requests"]["storage"]) for c in claims] == [
        (BACKING, "8Gi")
    ]
    assert claims[0]["status"]["phase"] == "Bound"
    for flags in ((), ("--check", "--diff")):
        rc, stats, out = run_role(lab, tmp_path, "nfs_provisioner", variables(lab), *flags)
        assert rc == 0 and stats.get("changed") == 0, (flags, out[-4000:])


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"nfs_provisioner_size": "8 TB"}, "nfs_provisioner_size"),
        ({"nfs_provisioner_storage_class": BACKING}, "nfs_provisioner_storage_class"),
    ],
)
def test_bad_input_fails_before_any_change(lab, tmp_path, change, named):
    rc, stats, out = run_role(lab, tmp_path, "nfs_provisioner", variables(lab) | change)
    assert rc != 0 and named in out, out[-3000:]
    assert stats.get("changed", 0) == 0
