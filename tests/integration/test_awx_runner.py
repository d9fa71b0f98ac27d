"""site.yml run the way AWX runs a job: ansible-runner (the engine of AWX's job runs, pinned in requirements.txt)
on a private data directory laid out as AWX lays it out, with no tty and no stdin:

  project/         the project's checkout (here: this repository), the job's working directory (its ansible.cfg)
  inventory/hosts  an executable printing the inventory as JSON, as AWX writes the inventory it imported from
                   the project's inventory file (here: `ansible-inventory --list` of inventories/lab)
  env/extravars    the survey answers (strings for multiplechoice questions, as AWX sends them) and what a
                   custom credential type's injector puts into extra vars: the chart repository credential's
                   <role>_repo for every chart role (here: the lab's authenticated repository and its password)
  env/envvars      what credential injectors put into the environment
  env/ssh_key      the machine credential's private key (ansible-runner hands it to an ssh-agent); the
                   inventory carries no key file, so the hosts are reached only through that credential

The job must end with rc 0, its events and stdout must not contain the credential's secrets (the same forms the
other leak tests look for), and a second run's stats must show changed=0 on every host."""

import json
import os
import stat
import subprocess
from pathlib import Path

import labenv
import pytest
import yaml
from leaks import leaked
from rolerun import HOSTS, INVENTORY, REPO


@pytest.fixture(scope="module")
def env():
    return labenv.require("hosts", "sources")


def awx_inventory_script(path: Path) -> None:
    """inventory/hosts: an executable that prints the imported inventory, without the lab's key file path."""
    listed = subprocess.run(
        [str(REPO / ".venv/bin/ansible-inventory"), "-i", str(INVENTORY), "--list"],
        env=dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg")),
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(listed.stdout)
    for hostvars in data["_meta"]["hostvars"].values():
        hostvars.pop("ansible_ssh_private_key_file", None)
    path.write_text("#!/usr/bin/env python3\nimport sys\nsys.stdout.write(" + repr(json.dumps(data)) + ")\n")
    path.chmod(0o755)


def chart_repository_injection(env: dict) -> dict:
    """What the chart repository credential's injector writes (roles/awx_configure): <role>_repo of every role whose
    defaults define one, all set to the credential's repository (here the lab's, over the bridge, as master reaches
    it)."""
    repo = {
        "name": "lab-charts",
        "url": env["LAB_CHART_REPO_URL_BRIDGE"],
        "username": "lab",
        "password": Path(env["LAB_CHART_REPO_PASSWORD_FILE"]).read_text().strip(),
    }
    roles = [
        p.parent.parent.name
        for p in sorted((REPO / "roles").glob("*/defaults/main.yml"))
        if f"{p.parent.parent.name}_repo" in (yaml.safe_load(p.read_text()) or {})
    ]
    assert {"calico", "openebs", "exadeploy"} <= set(roles), roles
    return {f"{role}_repo": repo for role in roles}


def private_data_dir(tmp_path: Path, env: dict) -> Path:
    pdd = tmp_path / "pdd"
    for sub in ("inventory", "env"):
        (pdd / sub).mkdir(parents=True)
    (pdd / "project").symlink_to(REPO)
    awx_inventory_script(pdd / "inventory" / "hosts")
    # AWX sends a bool option's survey answer as the string "true"/"false" (a multiplechoice question)
    survey_answers = {
        "containerd_install_method": "distro",
        "node_prep_swap_disable": "true",
        "node_prep_data_disk_enabled": "false",
        "kubernetes_packages_hold": "true",
        "helm_diff_enabled": "true",
        "preflight_fail_fast": "true",
    }
    (pdd / "env" / "extravars").write_text(json.dumps(survey_answers | chart_repository_injection(env)))
    (pdd / "env" / "envvars").write_text(
        json.dumps({"ANSIBLE_COLLECTIONS_PATH": str(REPO / ".collections"), "ANSIBLE_FORCE_COLOR": "false"})
    )
    key = pdd / "env" / "ssh_key"
    key.write_text(Path(env["LAB_SSH_KEY"]).read_text())
    key.chmod(stat.S_IRUSR | stat.S_IWUSR)
    return pdd


def run_job(pdd: Path, ident: str) -> tuple[int, str, list[dict]]:
    proc = subprocess.run(
        [str(REPO / ".venv/bin/ansible-runner"), "run", str(pdd), "-p", "playbooks/site.yml", "--ident", ident],
        stdin=subprocess.DEVNULL,
        env=dict(os.environ, PATH=f"{REPO / '.venv/bin'}:{os.environ['PATH']}"),  # ansible on PATH, as in an EE
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    artifacts = pdd / "artifacts" / ident
    rc = int((artifacts / "rc").read_text())
    events = [json.loads(p.read_text()) for p in sorted((artifacts / "job_events").glob("*.json"))]
    return rc, proc.stdout + (artifacts / "stdout").read_text(), events


def stats(events: list[dict]) -> dict:
    (final,) = [e for e in events if e.get("event") == "playbook_on_stats"]
    data = final["event_data"]
    return {host: data.get("changed", {}).get(host, 0) for host in data.get("ok", {})}


def test_site_yml_headless_like_awx(env, tmp_path):
    pdd = private_data_dir(tmp_path, env)
    rc, output, events = run_job(pdd, "first")
    assert rc == 0, output[-6000:]
    assert set(stats(events)) == set(HOSTS)
    everything = output + "\n".join(json.dumps(e) for e in events)
    key_lines = Path(env["LAB_SSH_KEY"]).read_text().splitlines()[1:-1]
    password = Path(env["LAB_CHART_REPO_PASSWORD_FILE"]).read_text().strip()
    assert leaked(everything, password, *key_lines) == []

    rc, output, events = run_job(pdd, "second")
    assert rc == 0, output[-6000:]
    assert stats(events) == dict.fromkeys(HOSTS, 0), stats(events)
