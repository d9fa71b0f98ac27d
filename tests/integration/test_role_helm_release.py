"""roles/helm_release on the lab's API server (kwok nodes; real helm, real chart sources), run from localhost as
an AWX execution environment would: the nfs-server-provisioner fixture chart from the basic-auth HTTP repository,
from a chart directory and from the OCI registry behind basic auth. The namespace gets its labels, the image pull
Secret exists, the release holds the values merged in the documented order, a second run and --check change
nothing, a values change shows in --check --diff and upgrades, passwords appear in no form at -vvv, bad input
fails before any change, and state=absent uninstalls."""

import json
import os
import subprocess
import uuid
from pathlib import Path

import labenv
import pytest
import yaml
from leaks import leaked
from rolerun import REPO

CHART = "nfs-server-provisioner"
CHART_DIR = REPO / "tests" / "charts" / CHART
VERSION = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())["version"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    env = labenv.require("controlplane", "helm", "sources")
    env["PASSWORD"] = Path(env["LAB_CHART_REPO_PASSWORD_FILE"]).read_text().strip()
    home = tmp_path_factory.mktemp("helm-home")
    env["HELM_HOME_ENV"] = {
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_DATA_HOME": str(home / "data"),
        "HELM_PLUGINS": env["HELM_PLUGINS"],
    }
    env["NAMESPACE"] = "hr-" + uuid.uuid4().hex[:8]
    yield env
    helm(env, "uninstall", "-n", env["NAMESPACE"], "hr-repo", "hr-path", "hr-oci", "--ignore-not-found")
    subprocess.run(
        [
            env["LAB_KUBECTL"],
            "--kubeconfig",
            env["KUBECONFIG"],
            "delete",
            "namespace",
            env["NAMESPACE"],
            "--ignore-not-found",
            "--wait=false",
        ],
        capture_output=True,
        check=False,
    )


def helm(env, *args):
    return subprocess.run(
        [env["LAB_HELM"], "--kubeconfig", env["KUBECONFIG"], *args],
        env=dict(os.environ, **env["HELM_HOME_ENV"]),
        capture_output=True,
        text=True,
        check=False,
    )


def releases(env):
    """{release: (status, chart-version)} in the test namespace."""
    listed = json.loads(helm(env, "list", "-n", env["NAMESPACE"], "-a", "-o", "json").stdout)
    return {r["name"]: (r["status"], r["chart"]) for r in listed}


def kubectl_json(env, *args):
    out = subprocess.run(
        [env["LAB_KUBECTL"], "--kubeconfig", env["KUBECONFIG"], *args, "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def run(env, tmp_path, variables, *flags):
    """The role on localhost with variables as extra vars; returns (rc, {changed, ok...} of localhost, output)."""
    play = [
        {"name": "helm_release", "hosts": "localhost", "gather_facts": False, "roles": ["baremetal.k8s.helm_release"]}
    ]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    base = {
        "helm_release_namespace": env["NAMESPACE"],
        "helm_release_kubeconfig": env["KUBECONFIG"],
        "helm_release_binary": env["LAB_HELM"],
        "helm_release_timeout": "3m",
    }
    (tmp_path / "vars.json").write_text(json.dumps(base | variables))
    callback = "ansible.builtin.default" if "-vvv" in flags else "ansible.posix.json"
    proc_env = dict(
        os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK=callback, **env["HELM_HOME_ENV"]
    )
    cmd = [
        str(REPO / ".venv/bin/ansible-playbook"),
        "-i",
        "localhost,",
        "-c",
        "local",
        str(tmp_path / "play.yml"),
        "-e",
        "ansible_python_interpreter=" + str(REPO / ".venv/bin/python"),
        "-e",
        f"@{tmp_path / 'vars.json'}",
        *flags,
    ]
    proc = subprocess.run(cmd, env=proc_env, capture_output=True, text=True, check=False, timeout=900)
    stats = {}
    if callback == "ansible.posix.json":
        try:
            stats = json.loads(proc.stdout)["stats"].get("localhost", {})
        except (ValueError, KeyError):
            pass
    return proc.returncode, stats, proc.stdout + proc.stderr


def repo_vars(env, **extra):
    values_file = Path(env["HELM_HOME_ENV"]["HELM_CONFIG_HOME"]).parent / "values-base.yaml"
    values_file.write_text(
        yaml.safe_dump(
            {"persistence": {"enabled": False}, "storageClass": {"name": "from-file", "reclaimPolicy": "Retain"}}
        )
    )
    return {
        "helm_release_name": "hr-repo",
        "helm_release_chart": CHART,
        "helm_release_chart_version": VERSION,
        "helm_release_repo": {
            "name": "lab-charts",
            "url": env["LAB_CHART_REPO_URL"],
            "username": "lab",
            "password": env["PASSWORD"],
        },
        "helm_release_values_files": [str(values_file)],
        "helm_release_values": {"storageClass": {"name": env["NAMESPACE"] + "-repo"}},
        "helm_release_namespace_labels": {"team": "storage"},
        "helm_release_image_pull_secrets": [
            {"name": "regcred", "registry": "10.77.0.1:5000", "username": "lab", "password": "pull-" + env["PASSWORD"]}
        ],
    } | extra


def values_of(env, release):
    return yaml.safe_load(helm(env, "get", "values", release, "-n", env["NAMESPACE"], "-o", "yaml").stdout)


def test_repo_source_converges_idempotent_then_upgrades(lab, tmp_path):
    rc, stats, out = run(lab, tmp_path, repo_vars(lab))
    assert rc == 0, out[-6000:]
    assert values_of(lab, "hr-repo") == {
        "persistence": {"enabled": False},
        "storageClass": {"name": lab["NAMESPACE"] + "-repo", "reclaimPolicy": "Retain"},  # file, then the dict
    }
    assert releases(lab)["hr-repo"] == ("deployed", f"{CHART}-{VERSION}")
    assert kubectl_json(lab, "get", "namespace", lab["NAMESPACE"])["metadata"]["labels"]["team"] == "storage"
    secret = kubectl_json(lab, "get", "secret", "regcred", "-n", lab["NAMESPACE"])
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    assert kubectl_json(lab, "get", "storageclass", lab["NAMESPACE"] + "-repo")["provisioner"]

    for flags in ((), ("--check", "--diff")):
        rc, stats, out = run(lab, tmp_path, repo_vars(lab), *flags)
        assert rc == 0 and stats.get("changed") == 0, (flags, out[-4000:])

    changed_values = {"storageClass": {"name": lab["NAMESPACE"] + "-repo", "allowVolumeExpansion": False}}
    rc, stats, out = run(lab, tmp_path, repo_vars(lab, helm_release_values=changed_values), "--check", "--diff")
    assert rc == 0 and stats.get("changed") == 1, out[-4000:]
    assert "allowVolumeExpansion" in out
    assert values_of(lab, "hr-repo")["storageClass"].get("allowVolumeExpansion") is None  # --check changed nothing
    rc, stats, out = run(lab, tmp_path, repo_vars(lab, helm_release_values=changed_values))
    assert rc == 0 and stats.get("changed") == 1, out[-4000:]
    assert values_of(lab, "hr-repo")["storageClass"]["allowVolumeExpansion"] is False
    assert kubectl_json(lab, "get", "storageclass", lab["NAMESPACE"] + "-repo")["allowVolumeExpansion"] is False


def test_passwords_in_no_form_at_vvv(lab, tmp_path):
    rc, _stats, out = run(lab, tmp_path, repo_vars(lab), "-vvv", "--diff")
    assert rc == 0, out[-4000:]
    assert "ESTABLISH LOCAL CONNECTION" in out
    assert leaked(out, lab["PASSWORD"], "pull-" + lab["PASSWORD"]) == []


def test_path_and_oci_sources(lab, tmp_path):
    base = {"helm_release_values": {"persistence": {"enabled": False}}, "helm_release_create_namespace": True}
    path = base | {"helm_release_name": "hr-path", "helm_release_source": "path", "helm_release_chart": str(CHART_DIR)}
    path["helm_release_values"] = path["helm_release_values"] | {"storageClass": {"name": lab["NAMESPACE"] + "-path"}}
    rc, stats, out = run(lab, tmp_path, path)
    assert rc == 0, out[-4000:]
    rc, stats, out = run(lab, tmp_path, path)
    assert rc == 0 and stats.get("changed") == 0, out[-4000:]

    registry = lab["LAB_OCI_REGISTRY_AUTH"]
    oci = base | {
        "helm_release_name": "hr-oci",
        "helm_release_source": "oci",
        "helm_release_chart": f"oci://{registry}/charts/{CHART}",
        "helm_release_chart_version": VERSION,
        "helm_release_oci_login": {"registry": registry, "username": "lab", "password": lab["PASSWORD"]},
        "helm_release_plain_http": True,
    }
    oci["helm_release_values"] = oci["helm_release_values"] | {"storageClass": {"name": lab["NAMESPACE"] + "-oci"}}
    rc, stats, out = run(lab, tmp_path, oci)
    assert rc == 0, out[-4000:]
    rc, stats, out = run(lab, tmp_path, oci)
    assert rc == 0 and stats.get("changed") == 0, out[-4000:]
    assert releases(lab)["hr-path"][0] == "deployed" and releases(lab)["hr-oci"][0] == "deployed"

    gone = {"helm_release_name": "hr-oci", "helm_release_state": "absent"}
    rc, stats, out = run(lab, tmp_path, gone)
    assert rc == 0 and stats.get("changed") == 1, out[-4000:]
    assert helm(lab, "status", "hr-oci", "-n", lab["NAMESPACE"]).returncode != 0
    rc, stats, out = run(lab, tmp_path, gone)
    assert rc == 0 and stats.get("changed") == 0, out[-4000:]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"helm_release_chart_version": ""}, "helm_release_chart_version"),
        ({"helm_release_name": "Bad_Name"}, "helm_release_name"),
        ({"helm_release_source": "git"}, "helm_release_source"),
        ({"helm_release_timeout": "ten minutes"}, "helm_release_timeout"),
        ({"helm_release_repo": {"name": "x"}}, "helm_release_repo"),
    ],
)
def test_bad_input_fails_before_any_change(lab, tmp_path, change, named):
    rc, stats, out = run(lab, tmp_path, repo_vars(lab, helm_release_name="hr-bad") | change)
    assert rc != 0 and named in out, out[-3000:]
    assert stats.get("changed", 0) == 0
    assert helm(lab, "status", "hr-bad", "-n", lab["NAMESPACE"]).returncode != 0
