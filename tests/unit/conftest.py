"""Fixtures shared by the unit tests: the lab's pinned helm, installed into the cache when there is none (so a
fresh machine's `make unit` needs no lab), and a module's main() run with given arguments."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from ansible.module_utils import basic

REPO = Path(__file__).resolve().parents[2]
CACHE_DIR = Path(os.environ.get("BMK8S_CACHE_DIR", Path.home() / ".cache" / "baremetal-k8s"))
HELM_INSTALL = REPO / "tests" / "lab" / "helm" / "install.sh"


def find_helm():
    candidates = [os.environ.get("LAB_HELM"), shutil.which("helm"), str(CACHE_DIR / "bin" / "helm")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def helm_binary():
    """The lab's pinned helm; installed into the cache (tests/lab/helm/install.sh) when there is none."""
    helm = find_helm()
    if helm is None:
        res = subprocess.run([HELM_INSTALL], capture_output=True, text=True, check=False)
        helm = find_helm()
        if helm is None:
            pytest.fail(f"no helm, and tests/lab/helm/install.sh failed (rc={res.returncode}): {res.stderr[-2000:]}")
    return helm


@pytest.fixture
def run_module(monkeypatch, capsys):
    """run_module(main, args) -> the result a module's main() prints for these arguments (failed ones included)."""

    def runner(main, args):
        monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode())
        monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy")
        with pytest.raises(SystemExit):
            main()
        return json.loads(capsys.readouterr().out)

    return runner
