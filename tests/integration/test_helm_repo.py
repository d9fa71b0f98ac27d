"""baremetal.k8s.helm_repo against the lab's basic-auth chart repository (real nginx, real helm): added with the
password on helm's standard input, idempotent (a changed password is a change), check and diff mode, a wrong
password fails naming the repository, removal; the password is in no command line and in no form in -vvv
output."""

import json
import os
import stat
import subprocess
from pathlib import Path

import labenv
import pytest
import yaml
from leaks import leaked
from rolerun import REPO

REPO_NAME = "lab-charts"


@pytest.fixture(scope="module")
def sources():
    env = labenv.require("helm", "sources")
    env["PASSWORD"] = Path(env["LAB_CHART_REPO_PASSWORD_FILE"]).read_text().strip()
    return env


def run(sources, tmp_path, *flags, **args):
    """One helm_repo task on localhost; returns (rc, the task's result, the whole output)."""
    task = {
        "baremetal.k8s.helm_repo": {
            "name": REPO_NAME,
            "binary_path": sources["LAB_HELM"],
            "repository_config": str(tmp_path / "repositories.yaml"),
            "repository_cache": str(tmp_path / "cache"),
            "registry_config": str(tmp_path / "registry.json"),
            **args,
        },
        "register": "out",
    }
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [task, {"ansible.builtin.debug": {"var": "out"}}]}]
    path = tmp_path / "play.yml"
    path.write_text(yaml.safe_dump(play))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    cmd = [str(REPO / ".venv/bin/ansible-playbook"), "-i", "localhost,", "-c", "local", str(path), *flags]
    cmd += ["-e", "ansible_python_interpreter=" + str(REPO / ".venv/bin/python")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=300)
    try:
        tasks = json.loads(proc.stdout)["plays"][0]["tasks"]
        result = tasks[0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError):
        result = {}
    return proc.returncode, result, proc.stdout + proc.stderr


def entry(tmp_path):
    data = yaml.safe_load((tmp_path / "repositories.yaml").read_text())
    return next(e for e in data["repositories"] if e["name"] == REPO_NAME)


def test_add_idempotent_password_change_and_remove(sources, tmp_path):
    url, user, password = sources["LAB_CHART_REPO_URL"], sources["LAB_CHART_REPO_USER"], sources["PASSWORD"]
    rc, res, out = run(sources, tmp_path, "--check", "--diff", url=url, username=user, password=password)
    assert rc == 0 and res["changed"] is True, out[-3000:]
    assert not (tmp_path / "repositories.yaml").exists()  # --check changed nothing

    rc, res, out = run(sources, tmp_path, url=url, username=user, password=password)
    assert rc == 0 and res["changed"] is True, out[-3000:]
    assert res["command"].endswith("--username lab --password-stdin")
    assert res["repository"]["password"] == "********"
    assert (entry(tmp_path)["url"], entry(tmp_path)["username"], entry(tmp_path)["password"]) == (url, user, password)
    assert stat.S_IMODE((tmp_path / "repositories.yaml").stat().st_mode) == 0o600
    assert list((tmp_path / "cache").glob(f"{REPO_NAME}-index.yaml")), "helm fetched no index"

    for flags in ((), ("--check", "--diff")):
        rc, res, out = run(sources, tmp_path, *flags, url=url, username=user, password=password)
        assert rc == 0 and res["changed"] is False, out[-3000:]

    rc, res, out = run(sources, tmp_path, "--check", "--diff", url=url, username=user, password=password + "x")
    assert rc == 0 and res["changed"] is True
    assert res["diff"]["after"]["password"] == "<changed>"

    rc, res, out = run(sources, tmp_path, url=url, username=user, password="wrong-" + password)
    assert rc != 0 and "401" in res.get("msg", ""), out[-3000:]
    assert entry(tmp_path)["password"] == password  # the failed add kept the working entry

    rc, res, out = run(sources, tmp_path, state="absent")
    assert rc == 0 and res["changed"] is True
    assert not yaml.safe_load((tmp_path / "repositories.yaml").read_text())["repositories"]
    rc, res, out = run(sources, tmp_path, state="absent")
    assert rc == 0 and res["changed"] is False


def test_reports_whether_the_pinned_chart_version_is_cached(sources, tmp_path):
    url, user, password = sources["LAB_CHART_REPO_URL"], sources["LAB_CHART_REPO_USER"], sources["PASSWORD"]
    version = yaml.safe_load((REPO / "tests/charts/metallb/Chart.yaml").read_text())["version"]
    creds = dict(url=url, username=user, password=password)
    rc, res, out = run(sources, tmp_path, "--check", **creds, chart="metallb", chart_version=version)
    assert rc == 0 and res["changed"] is True and res["version_cached"] is False, out[-3000:]  # not added yet
    # added: helm fetched its index
    rc, res, out = run(sources, tmp_path, **creds, chart="metallb", chart_version=version)
    assert rc == 0 and res["changed"] is True and res["version_cached"] is True, out[-3000:]
    rc, res, out = run(sources, tmp_path, **creds, chart="metallb", chart_version=version)
    assert rc == 0 and res["changed"] is False and res["version_cached"] is True, out[-3000:]
    rc, res, out = run(sources, tmp_path, **creds, chart="metallb", chart_version="99.0.0")
    assert rc == 0 and res["changed"] is False and res["version_cached"] is False, out[-3000:]
    # a chart whose name merely contains the asked one is not it
    rc, res, out = run(sources, tmp_path, **creds, chart="metal", chart_version=version)
    assert rc == 0 and res["version_cached"] is False, out[-3000:]


def test_password_in_no_form_at_vvv(sources, tmp_path):
    password = sources["PASSWORD"]
    url, user = sources["LAB_CHART_REPO_URL"], sources["LAB_CHART_REPO_USER"]
    rc, _res, out = run(sources, tmp_path, "-vvv", "--diff", url=url, username=user, password=password)
    assert rc == 0, out[-3000:]
    assert "ESTABLISH LOCAL CONNECTION" in out  # really -vvv
    assert leaked(out, password) == []
    rc, _res, out = run(sources, tmp_path, "-vvv", url=url, username=user, password="wrong-" + password)
    assert rc != 0
    assert leaked(out, "wrong-" + password) == []


def test_oci_registry_login_idempotent_and_logout(sources, tmp_path):
    registry, password = sources["LAB_OCI_REGISTRY_AUTH"], sources["PASSWORD"]
    login = {"name": registry, "type": "oci", "plain_http": True, "username": "lab", "password": password}
    rc, res, out = run(sources, tmp_path, "--diff", **login)
    assert rc == 0 and res["changed"] is True, out[-3000:]
    assert res["command"] == f"helm registry login {registry} --username lab --password-stdin --plain-http"
    assert stat.S_IMODE((tmp_path / "registry.json").stat().st_mode) == 0o600
    # the login works: helm pulls a chart that anonymous pulls may not
    pull = subprocess.run(
        [sources["LAB_HELM"], "show", "chart", f"oci://{registry}/charts/metallb", "--plain-http"],
        env=dict(os.environ, HELM_REGISTRY_CONFIG=str(tmp_path / "registry.json")),
        capture_output=True,
        text=True,
        check=False,
    )
    assert pull.returncode == 0 and "name: metallb" in pull.stdout, pull.stderr
    for flags in ((), ("--check",)):
        rc, res, out = run(sources, tmp_path, *flags, **login)
        assert rc == 0 and res["changed"] is False, out[-3000:]
    rc, res, out = run(sources, tmp_path, "-vvv", **(login | {"password": "wrong-" + password}))
    assert rc != 0 and "401" in out and leaked(out, "wrong-" + password) == []
    rc, res, out = run(sources, tmp_path, name=registry, type="oci", state="absent")
    assert rc == 0 and res["changed"] is True
    rc, res, out = run(sources, tmp_path, name=registry, type="oci", state="absent")
    assert rc == 0 and res["changed"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "type=http with state=present needs url"),
        ({"url": "http://x", "username": "u"}, "parameters are required together: username, password"),
        ({"url": "http://x", "state": "gone"}, "value of state must be one of"),
        ({"url": "http://x", "chart": "metallb"}, "parameters are required together: chart, chart_version"),
    ],
)
def test_bad_arguments(sources, tmp_path, args, message):
    rc, res, out = run(sources, tmp_path, **args)
    assert rc != 0 and message in res.get("msg", ""), out[-2000:]
