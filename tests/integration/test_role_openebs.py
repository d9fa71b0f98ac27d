"""roles/openebs on the lab's API server (the openebs fixture chart from the lab's basic-auth repository, which has
the upstream 4.x keys): hostpath only, its base path and StorageClass from variables, that class the only default
class afterwards (another default is demoted and named in a warning), a second run and --check change nothing, a new
base path upgrades the release, bad input fails before any change."""

import json

import pytest
from apirun import helm, kubectl, kubectl_json, lab_api, lab_repo, run_role

CLASS = "openebs-hostpath-it"
OTHER = "other-default-it"
DEFAULT = "storageclass.kubernetes.io/is-default-class"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    env = lab_api(tmp_path_factory, "oe")
    before = {
        sc["metadata"]["name"]: (sc["metadata"].get("annotations") or {}).get(DEFAULT)
        for sc in kubectl_json(env, "get", "storageclass")["items"]
    }
    yield env
    helm(env, "uninstall", "-n", env["NAMESPACE"], "openebs", "--ignore-not-found")
    kubectl(env, "delete", "storageclass", OTHER, "--ignore-not-found")
    kubectl(env, "delete", "namespace", env["NAMESPACE"], "--ignore-not-found", "--wait=false")
    for name, value in before.items():  # put the lab's defaults back as they were
        if value is not None:
            kubectl(env, "annotate", "storageclass", name, f"{DEFAULT}={value}", "--overwrite")


def variables(env, **extra):
    return {
        "openebs_namespace": env["NAMESPACE"],
        "openebs_repo": lab_repo(env),
        "openebs_storage_class": CLASS,
        "openebs_kubeconfig": env["KUBECONFIG"],
        "openebs_helm_binary": env["LAB_HELM"],
    } | extra


def defaults(env):
    return sorted(
        sc["metadata"]["name"]
        for sc in kubectl_json(env, "get", "storageclass")["items"]
        if (sc["metadata"].get("annotations") or {}).get(DEFAULT) == "true"
    )


def test_hostpath_only_and_the_only_default(lab, tmp_path):
    other = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": OTHER, "annotations": {DEFAULT: "true"}},
        "provisioner": "example.com/none",
    }
    (tmp_path / "other.json").write_text(json.dumps(other))
    kubectl(lab, "apply", "-f", str(tmp_path / "other.json"), check=True)

    rc, stats, out = run_role(lab, tmp_path, "openebs", variables(lab))
    assert rc == 0, out[-6000:]
    assert defaults(lab) == [CLASS]
    assert f"demoted: {OTHER}" in out
    sc = kubectl_json(lab, "get", "storageclass", CLASS)
    assert sc["provisioner"] == "openebs.io/local"
    assert "/var/openebs/local" in sc["metadata"]["annotations"]["cas.openebs.io/config"]
    values = json.loads(helm(lab, "get", "values", "openebs", "-n", lab["NAMESPACE"], "-o", "json").stdout)
    assert values["engines"] == {
        "local": {"lvm": {"enabled": False}, "zfs": {"enabled": False}},
        "replicated": {"mayastor": {"enabled": False}},
    }
    assert values["loki"] == {"enabled": False} and values["alloy"] == {"enabled": False}

    for flags in ((), ("--check", "--diff")):
        rc, stats, out = run_role(lab, tmp_path, "openebs", variables(lab), *flags)
        assert rc == 0 and stats.get("changed") == 0, (flags, out[-4000:])

    rc, stats, out = run_role(lab, tmp_path, "openebs", variables(lab, openebs_base_path="/disk/openebs"))
    assert rc == 0 and stats.get("changed") == 1, out[-4000:]
    annotations = kubectl_json(lab, "get", "storageclass", CLASS)["metadata"]["annotations"]
    assert "/disk/openebs" in annotations["cas.openebs.io/config"]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"openebs_chart_version": "3.10.0"}, "openebs_chart_version"),
        ({"openebs_base_path": "var/openebs"}, "openebs_base_path"),
        ({"openebs_default_class": "sometimes"}, "openebs_default_class"),
    ],
)
def test_bad_input_fails_before_any_change(lab, tmp_path, change, named):
    rc, stats, out = run_role(lab, tmp_path, "openebs", variables(lab) | change)
    assert rc != 0 and named in out, out[-3000:]
    assert stats.get("changed", 0) == 0
