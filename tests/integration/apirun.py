"""Run a collection role on localhost against the lab's API server, as an AWX execution environment would: the
lab's admin kubeconfig, the lab's helm with a private helm home, the repository's Python (kubernetes library)."""

import json
import os
import subprocess
import uuid
from pathlib import Path

import labenv
import yaml
from rolerun import REPO


def lab_api(tmp_path_factory, prefix: str) -> dict:
    """The merged env of controlplane, helm and sources, a private helm home and a fresh namespace name."""
    env = labenv.require("controlplane", "helm", "sources")
    env["PASSWORD"] = Path(env["LAB_CHART_REPO_PASSWORD_FILE"]).read_text().strip()
    home = tmp_path_factory.mktemp("helm-home")
    env["HELM_HOME_ENV"] = {
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_DATA_HOME": str(home / "data"),
        "HELM_PLUGINS": env["HELM_PLUGINS"],
    }
    env["NAMESPACE"] = f"{prefix}-{uuid.uuid4().hex[:8]}"
    return env


def lab_repo(env: dict) -> dict:
    """The lab's basic-auth chart repository as helm_release_repo takes it."""
    return {"name": "lab-charts", "url": env["LAB_CHART_REPO_URL"], "username": "lab", "password": env["PASSWORD"]}


def helm(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [env["LAB_HELM"], "--kubeconfig", env["KUBECONFIG"], *args],
        env=dict(os.environ, **env["HELM_HOME_ENV"]),
        capture_output=True,
        text=True,
        check=False,
    )


def kubectl(env: dict, *args: str, check: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        [env["LAB_KUBECTL"], "--kubeconfig", env["KUBECONFIG"], *args], capture_output=True, text=True, check=check
    )


def kubectl_json(env: dict, *args: str) -> dict:
    return json.loads(kubectl(env, *args, "-o", "json", check=True).stdout)


def run_role(env: dict, tmp_path: Path, role: str, variables: dict, *flags: str) -> tuple[int, dict, str]:
    """The role on localhost with variables as extra vars; returns (rc, localhost's stats, the whole output)."""
    play = [{"name": role, "hosts": "localhost", "gather_facts": False, "roles": [f"baremetal.k8s.{role}"]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    callback = "ansible.builtin.default" if "-vvv" in flags else "ansible.posix.json"
    proc_env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK=callback,
        **env["HELM_HOME_ENV"],
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


class LoadBalancerStandin:
    """Plays MetalLB's controller for LoadBalancer Services in the given namespaces (the lab's nodes are kwok's, so
    the real controller never runs): tests/lab/controlplane/lab_loadbalancer.py, the same stand-in the lab runs for
    its kubeadm cluster, gives each an address from the pool its `metallb.io/address-pool` annotation names."""

    def __init__(self, env: dict, namespaces: list[str]):
        self.cmd = [
            str(REPO / ".venv/bin/python"),
            str(REPO / "tests/lab/controlplane/lab_loadbalancer.py"),
            "--kubeconfig",
            env["KUBECONFIG"],
            "--namespaces",
            ",".join(namespaces),
        ]
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
