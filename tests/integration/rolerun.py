"""Run one of the collection's roles on the lab's nspawn hosts (inventories/lab) and look at the hosts over ssh."""

import json
import os
import subprocess
from pathlib import Path

import labenv

REPO = labenv.REPO
INVENTORY = REPO / "inventories" / "lab" / "hosts.yml"
HOSTS = ["master", "node-0", "node-1", "node-2"]


def write_playbook(tmp_path: Path, role: str) -> Path:
    play = tmp_path / f"{role}.yml"
    play.write_text(
        f"- name: {role}\n  hosts: k8s_cluster\n  gather_facts: true\n  roles:\n    - role: baremetal.k8s.{role}\n"
    )
    return play


def run(
    play: Path, tmp_path: Path, *flags: str, extra: dict | None = None, inventory: Path = INVENTORY
) -> tuple[subprocess.CompletedProcess, dict]:
    """ansible-playbook with the json callback; returns the process and {host: stats}."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    cmd = [str(REPO / ".venv/bin/ansible-playbook"), "-i", str(inventory), str(play), *flags]
    if extra is not None:
        path = tmp_path / "extra.json"
        path.write_text(json.dumps(extra))
        cmd += ["-e", f"@{path}"]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=900)
    try:
        stats = json.loads(proc.stdout)["stats"]
    except (ValueError, KeyError):
        stats = {}
    return proc, stats


def converge_twice_and_check(play: Path, tmp_path: Path, hosts: list[str], *flags: str, extra: dict | None = None):
    """Converge, then assert a second run and `--check --diff` report changed=0 on every host; returns the first run."""
    proc, stats = run(play, tmp_path, *flags, extra=extra)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert sorted(stats) == sorted(hosts)
    for mode in ((), ("--check", "--diff")):
        again, stats = run(play, tmp_path, *flags, *mode, extra=extra)
        assert again.returncode == 0, again.stdout[-4000:]
        assert changed(stats) == dict.fromkeys(hosts, 0), (mode, changed(stats), changed_tasks(again))
    return proc


def changed_tasks(proc: subprocess.CompletedProcess) -> list[str]:
    """'host: task name' for every changed task result of a json-callback run (to say why a run was not a no-op)."""
    try:
        plays = json.loads(proc.stdout)["plays"]
    except (ValueError, KeyError):
        return ["(no json output)"]
    return [
        f"{host}: {task['task']['name']}"
        for play in plays
        for task in play["tasks"]
        for host, res in task["hosts"].items()
        if res.get("changed")
    ]


def changed(stats: dict) -> dict:
    return {host: s.get("changed") for host, s in stats.items()}


def ssh(env: dict, host: str, command: str) -> subprocess.CompletedProcess:
    ip = env[f"LAB_HOST_IP_{host.upper().replace('-', '_')}"]
    return subprocess.run(
        [
            "ssh",
            "-i",
            env["LAB_SSH_KEY"],
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "BatchMode=yes",
            f"root@{ip}",
            command,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
