"""playbooks/patroni_tune.yml against the lab's real Patroni 3.0.2 cluster: a reload-only change applies,
a second run changes nothing, bad input is refused before any request, and the REST password never shows
in -vvv output."""

import base64
import json
import os
import subprocess
import urllib.request

import labenv
import pytest

REPO = labenv.REPO
PLAYBOOK = [REPO / ".venv/bin/ansible-playbook", "playbooks/patroni_tune.yml"]


@pytest.fixture(scope="module")
def lab():
    env = labenv.require("patroni")
    return env, labenv.read_env(env["PATRONI_SECRETS_FILE"])


def write_vars(lab, tmp_path, config):
    """The inputs as a 0600 vars file: the password goes in a file, never on the command line."""
    env, secrets = lab
    extra = tmp_path / "vars.json"
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
    return extra


def run_playbook(lab, tmp_path, config, *flags, callback="ansible.posix.json"):
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK=callback)
    extra = write_vars(lab, tmp_path, config)
    cmd = [*PLAYBOOK, "-e", f"@{extra}", *flags]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)


def stats(proc):
    return json.loads(proc.stdout)["stats"]["localhost"]


def work_mem(lab):
    env = lab[0]
    with urllib.request.urlopen(env["PATRONI_API_URL"] + "/config", timeout=10) as r:  # noqa: S310 (loopback)
        return json.load(r)["postgresql"]["parameters"].get("work_mem")


def test_reload_only_change_then_no_op(lab, tmp_path):
    target = "6MB" if work_mem(lab) != "6MB" else "7MB"
    config = {"postgresql": {"parameters": {"work_mem": target}}}
    proc = run_playbook(lab, tmp_path, config)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert stats(proc)["changed"] == 1
    assert work_mem(lab) == target
    proc = run_playbook(lab, tmp_path, config)
    assert proc.returncode == 0 and stats(proc)["changed"] == 0


def test_empty_config_is_refused(lab, tmp_path):
    before = work_mem(lab)
    proc = run_playbook(lab, tmp_path, {})
    assert proc.returncode != 0
    assert "patroni_tune_config must be a non-empty mapping" in proc.stdout
    assert work_mem(lab) == before


def test_rest_password_never_in_verbose_output(lab, tmp_path):
    """-vvv output of a change and of a refusal holds neither the REST password nor an encoded form of it."""
    secrets = lab[1]
    user, password = secrets["PATRONI_REST_USERNAME"], secrets["PATRONI_REST_PASSWORD"]
    forms = {
        password,
        base64.b64encode(password.encode()).decode(),
        base64.b64encode(f"{user}:{password}".encode()).decode(),  # the Authorization header
        json.dumps(password)[1:-1],
    }
    target = "8MB" if work_mem(lab) != "8MB" else "9MB"
    change = run_playbook(
        lab, tmp_path, {"postgresql": {"parameters": {"work_mem": target}}}, "-vvv", callback="default"
    )
    refusal = run_playbook(lab, tmp_path, {"loop_wait": 100}, "-vvv", callback="default")  # breaks the ttl rule
    assert change.returncode == 0 and "changed=1" in change.stdout, change.stdout[-2000:]
    assert refusal.returncode != 0 and "failed=1" in refusal.stdout, refusal.stdout[-2000:]
    outputs = [p.stdout + p.stderr for p in (change, refusal)]
    found = sum(out.count(form) for form in forms for out in outputs)
    assert found == 0, f"{found} occurrence(s) of the REST password (or an encoding of it) in -vvv output"
