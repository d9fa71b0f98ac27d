"""roles/helm_release on the lab's API server (kwok nodes; real helm, real chart sources), run from localhost as
an AWX execution environment would: the nfs-server-provisioner fixture chart from the basic-auth HTTP repository,
from a chart directory and from the OCI registry behind basic auth. The namespace gets its labels, the image pull
Secret exists, the release holds the values merged in the documented order, a second run and --check change
nothing, a values change shows in --check --diff and upgrades, passwords appear in no form at -vvv, bad input
fails before any change, and state=absent uninstalls."""

import base64
import gzip
import json
from pathlib import Path

import pytest
import yaml
from apirun import helm, kubectl, kubectl_json, lab_api, lab_repo, run_role
from leaks import leaked
from rolerun import REPO

CHART = "nfs-server-provisioner"
CHART_DIR = REPO / "tests" / "charts" / CHART
VERSION = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())["version"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    env = lab_api(tmp_path_factory, "hr")
    yield env
    helm(
        env,
        "uninstall",
        "-n",
        env["NAMESPACE"],
        "hr-repo",
        "hr-path",
        "hr-oci",
        "hr-atomic",
        "hr-nowait",
        "--ignore-not-found",
    )
    kubectl(env, "delete", "namespace", env["NAMESPACE"], "--ignore-not-found", "--wait=false")


def releases(env):
    """{release: (status, chart-version)} in the test namespace."""
    listed = json.loads(helm(env, "list", "-n", env["NAMESPACE"], "-a", "-o", "json").stdout)
    return {r["name"]: (r["status"], r["chart"]) for r in listed}


def run(env, tmp_path, variables, *flags):
    base = {
        "helm_release_namespace": env["NAMESPACE"],
        "helm_release_kubeconfig": env["KUBECONFIG"],
        "helm_release_binary": env["LAB_HELM"],
        "helm_release_kubectl": env["LAB_KUBECTL"],
        "helm_release_timeout": "3m",
    }
    return run_role(env, tmp_path, "helm_release", base | variables, *flags)


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
        "helm_release_repo": lab_repo(env),
        "helm_release_values_files": [str(values_file)],
        "helm_release_values": {"storageClass": {"name": env["NAMESPACE"] + "-repo"}},
        "helm_release_namespace_labels": {"team": "storage"},
        "helm_release_image_pull_secrets": [
            {"name": "regcred", "registry": "10.77.0.1:5000", "username": "lab", "password": "pull-" + env["PASSWORD"]}
        ],
    } | extra


def task_result(out, name):
    """localhost's result of the first task whose name contains name, from the JSON callback's output."""
    data, _end = json.JSONDecoder().raw_decode(out)  # stdout (the JSON) comes first, stderr after it
    task = next(t for t in data["plays"][0]["tasks"] if name in t["task"]["name"])
    return task["hosts"]["localhost"]


def task_names(out):
    data, _end = json.JSONDecoder().raw_decode(out)
    return [t["task"]["name"] for t in data["plays"][0]["tasks"]]


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
    # auto (values, for a repo chart): the release and the namespace are read in one module run, and neither the
    # namespace task, the repository nor kubernetes.core.helm runs; diff: kubernetes.core.helm runs and its helm
    # diff finds nothing either
    rc, stats, out = run(lab, tmp_path, repo_vars(lab))
    assert rc == 0 and stats.get("changed") == 0, out[-4000:]
    state = task_result(out, "The deployed release and its namespace")
    assert (state["up_to_date"], state["namespace_up_to_date"]) == (True, True), state
    for task in ("Namespace with its labels", "Chart source, then install"):
        assert task_result(out, task).get("skipped") is True, task
    assert not [t for t in task_names(out) if "Chart repository" in t or "Install or upgrade" in t]
    rc, stats, out = run(lab, tmp_path, repo_vars(lab, helm_release_change_detection="diff"))
    assert rc == 0 and stats.get("changed") == 0, out[-4000:]
    assert task_result(out, "Install or upgrade").get("skipped") is not True
    # a new namespace label is seen by the same read and applied; without kubectl the namespace is applied each run
    rc, stats, out = run(lab, tmp_path, repo_vars(lab, helm_release_namespace_labels={"team": "storage", "tier": "2"}))
    assert rc == 0 and stats.get("changed") == 1, out[-4000:]
    assert task_result(out, "The deployed release and its namespace")["namespace_reason"] == "labels differ: tier"
    assert kubectl_json(lab, "get", "namespace", lab["NAMESPACE"])["metadata"]["labels"]["tier"] == "2"
    rc, stats, out = run(lab, tmp_path, repo_vars(lab, helm_release_kubectl="/nonexistent/kubectl"))
    assert rc == 0 and stats.get("changed") == 0, out[-4000:]
    assert task_result(out, "Namespace with its labels").get("skipped") is not True

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


def test_a_failing_upgrade_rolls_back_and_names_the_release(lab, tmp_path):
    """atomic: an upgrade the API server rejects (new parameters on an existing StorageClass: they are immutable)
    fails the play with the release named, and helm has rolled the release back to the revision that worked."""
    good = {
        "helm_release_name": "hr-atomic",
        "helm_release_source": "path",
        "helm_release_chart": str(CHART_DIR),
        "helm_release_create_namespace": True,
        "helm_release_values": {"persistence": {"enabled": False}, "storageClass": {"name": lab["NAMESPACE"] + "-a"}},
    }
    rc, _stats, out = run(lab, tmp_path, good)
    assert rc == 0, out[-4000:]
    storage_class = good["helm_release_values"]["storageClass"] | {"parameters": {"archiveOnDelete": "false"}}
    bad = good | {"helm_release_values": good["helm_release_values"] | {"storageClass": storage_class}}
    rc, stats, out = run(lab, tmp_path, bad)
    assert rc != 0 and stats.get("failures") == 1, out[-4000:]
    assert f"{lab['NAMESPACE']}/hr-atomic" in out and "parameters" in out, out[-4000:]
    history = json.loads(helm(lab, "history", "hr-atomic", "-n", lab["NAMESPACE"], "-o", "json").stdout)
    assert [h["status"] for h in history] == ["superseded", "failed", "deployed"], history
    assert history[-1]["description"] == "Rollback to 1", history
    assert values_of(lab, "hr-atomic")["storageClass"] == {"name": lab["NAMESPACE"] + "-a"}
    helm(lab, "uninstall", "hr-atomic", "-n", lab["NAMESPACE"])


def test_without_wait_a_failing_upgrade_stays_failed(lab, tmp_path):
    """helm_release_wait false: --atomic (which waits whatever --wait says) is not passed, so the same rejected
    upgrade leaves the failed revision in place, not a rollback."""
    good = {
        "helm_release_name": "hr-nowait",
        "helm_release_source": "path",
        "helm_release_chart": str(CHART_DIR),
        "helm_release_create_namespace": True,
        "helm_release_wait": False,
        "helm_release_values": {"persistence": {"enabled": False}, "storageClass": {"name": lab["NAMESPACE"] + "-w"}},
    }
    rc, _stats, out = run(lab, tmp_path, good)
    assert rc == 0, out[-4000:]
    storage_class = good["helm_release_values"]["storageClass"] | {"parameters": {"archiveOnDelete": "false"}}
    rc, stats, out = run(
        lab, tmp_path, good | {"helm_release_values": good["helm_release_values"] | {"storageClass": storage_class}}
    )
    assert rc != 0 and stats.get("failures") == 1, out[-4000:]
    history = json.loads(helm(lab, "history", "hr-nowait", "-n", lab["NAMESPACE"], "-o", "json").stdout)
    assert [h["status"] for h in history] == ["deployed", "failed"], history
    helm(lab, "uninstall", "hr-nowait", "-n", lab["NAMESPACE"])


def test_a_wrong_repository_password_fails_naming_the_repository(lab, tmp_path):
    wrong = "wrong-" + lab["PASSWORD"]
    repo = lab_repo(lab) | {"name": "hr-wrong-repo", "password": wrong}
    rc, _stats, out = run(lab, tmp_path, repo_vars(lab, helm_release_name="hr-wrong", helm_release_repo=repo), "-vvv")
    assert rc != 0, out[-4000:]
    assert "hr-wrong-repo" in out and "401" in out, out[-4000:]
    assert leaked(out, wrong) == []
    assert helm(lab, "status", "hr-wrong", "-n", lab["NAMESPACE"]).returncode != 0


def mark_pending(env, release, status):
    """Make the release's latest revision look like one an interrupted helm run left (the status in helm's stored
    record and in its Secret's label, as helm writes them)."""
    secrets = kubectl_json(env, "get", "secrets", "-n", env["NAMESPACE"], "-l", f"owner=helm,name={release}")["items"]
    latest = max(secrets, key=lambda s: int(s["metadata"]["labels"]["version"]))
    record = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(latest["data"]["release"]))))
    record["info"]["status"] = status
    encoded = base64.b64encode(base64.b64encode(gzip.compress(json.dumps(record).encode()))).decode()
    patch = {"data": {"release": encoded}, "metadata": {"labels": {"status": status}}}
    kubectl(
        env,
        "patch",
        "secret",
        latest["metadata"]["name"],
        "-n",
        env["NAMESPACE"],
        "--type",
        "merge",
        "-p",
        json.dumps(patch),
        check=True,
    )
    assert releases(env)[release][0] == status


def test_a_release_left_pending_stops_the_role_unless_recovery_is_allowed(lab, tmp_path):
    """pending-upgrade: without helm_release_recover_pending the role stops naming the variable and changes nothing;
    with it, helm rolls back to the last revision and the upgrade goes on; the next run changes nothing.
    pending-install: the same, by uninstalling the never deployed release first."""
    base = {
        "helm_release_name": "hr-pending",
        "helm_release_source": "path",
        "helm_release_chart": str(CHART_DIR),
        "helm_release_create_namespace": True,
    }

    def with_class(suffix):
        return base | {
            "helm_release_values": {
                "persistence": {"enabled": False},
                "storageClass": {"name": lab["NAMESPACE"] + suffix},
            }
        }

    for suffix in ("-p1", "-p2"):
        rc, _stats, out = run(lab, tmp_path, with_class(suffix))
        assert rc == 0, out[-4000:]
    mark_pending(lab, "hr-pending", "pending-upgrade")
    rc, stats, out = run(lab, tmp_path, with_class("-p3"))
    assert rc != 0 and "helm_release_recover_pending" in out and "pending-upgrade" in out, out[-4000:]
    assert releases(lab)["hr-pending"][0] == "pending-upgrade"
    allowed = with_class("-p3") | {"helm_release_recover_pending": True}
    rc, stats, out = run(lab, tmp_path, allowed)
    assert rc == 0 and stats.get("changed") == 2, out[-4000:]  # the rollback, the upgrade
    history = json.loads(helm(lab, "history", "hr-pending", "-n", lab["NAMESPACE"], "-o", "json").stdout)
    assert history[-2]["description"] == "Rollback to 1" and history[-1]["status"] == "deployed", history
    assert values_of(lab, "hr-pending")["storageClass"]["name"] == lab["NAMESPACE"] + "-p3"
    rc, stats, out = run(lab, tmp_path, allowed)
    assert rc == 0 and stats.get("changed") == 0, out[-4000:]

    helm(lab, "uninstall", "hr-pending", "-n", lab["NAMESPACE"], "--wait")
    rc, _stats, out = run(lab, tmp_path, with_class("-p4"))
    assert rc == 0, out[-4000:]
    mark_pending(lab, "hr-pending", "pending-install")
    rc, stats, out = run(lab, tmp_path, with_class("-p4"))
    assert rc != 0 and "uninstall it" in out and releases(lab)["hr-pending"][0] == "pending-install", out[-4000:]
    rc, stats, out = run(lab, tmp_path, with_class("-p4") | {"helm_release_recover_pending": True})
    assert rc == 0 and stats.get("changed") == 2, out[-4000:]  # the uninstall, the install
    assert releases(lab)["hr-pending"][0] == "deployed"
    history = json.loads(helm(lab, "history", "hr-pending", "-n", lab["NAMESPACE"], "-o", "json").stdout)
    assert [h["revision"] for h in history] == [1], history
    helm(lab, "uninstall", "hr-pending", "-n", lab["NAMESPACE"])
