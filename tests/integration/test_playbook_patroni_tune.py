"""playbooks/patroni_tune.yml against the lab's real Patroni 3.0.2 cluster: a reload-only change applies,
a second run changes nothing, and bad input is refused before any request."""

import json
import os
import subprocess
import urllib.request

import labenv
import pytest

REPO = labenv.REPO


@pytest.fixture(scope="module")
def lab():
    env = labenv.up("patroni")
    return env, labenv.read_env(env["PATRONI_SECRETS_FILE"])


def playbook(lab, tmp_path, config):
    env, secrets = lab
    extra = tmp_path / "vars.json"  # the password goes in a file, never on the command line
    extra.write_text(
        json.dumps(
            {
                "patroni_tune_api_url": env["PATRONI_API_URL"],
                "patroni_tune_username": secrets["PATRONI_REST_USERNAME"],
                "patroni_tune_password": secrets["PATRONI_REST_PASSWORD"],
                "patroni_tune_config": config,
            }
        )
    )
    extra.chmod(0o600)
    run_env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    proc = subprocess.run(
        [REPO / ".venv/bin/ansible-playbook", "playbooks/patroni_tune.yml", "-e", f"@{extra}"],
        cwd=REPO,
        env=run_env,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc, json.loads(proc.stdout)["stats"]["localhost"] if proc.stdout.startswith("{") else None


def work_mem(lab):
    env, _ = lab
    with urllib.request.urlopen(env["PATRONI_API_URL"] + "/config", timeout=10) as r:  # noqa: S310 (loopback)
        return json.load(r)["postgresql"]["parameters"].get("work_mem")


def test_reload_only_change_then_no_op(lab, tmp_path):
    target = "6MB" if work_mem(lab) != "6MB" else "7MB"
    proc, stats = playbook(lab, tmp_path, {"postgresql": {"parameters": {"work_mem": target}}})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert stats["changed"] == 1
    assert work_mem(lab) == target
    proc, stats = playbook(lab, tmp_path, {"postgresql": {"parameters": {"work_mem": target}}})
    assert proc.returncode == 0 and stats["changed"] == 0


def test_empty_config_is_refused(lab, tmp_path):
    before = work_mem(lab)
    proc, _ = playbook(lab, tmp_path, {})
    assert proc.returncode != 0
    assert "patroni_tune_config must be a non-empty mapping" in proc.stdout
    assert work_mem(lab) == before
