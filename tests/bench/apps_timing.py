"""Benchmark (prints numbers): playbooks/apps.yml with all four applications on the lab's fixture control plane, run
from localhost as an AWX execution environment would: first converge, no-op re-run, `--check --diff`.

The inputs and lab objects are the ones the integration tests set up (their module fixtures, reused here), so the
bench measures the same releases the tests assert. The apps run on the fast fixture API server (kwok pods), not on
the kubeadm cluster: the apps' images have no stand-ins there. DevStats runs its Patroni step against the lab's real
Patroni cluster; its bootstrap stage is left out (kwok runs no bootstrap container to finish).

    .venv/bin/python tests/bench/apps_timing.py      (root; brings up controlplane, helm, sources, patroni)
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))

import test_role_codescoring as codescoring  # noqa: E402
import test_role_cvat as cvat  # noqa: E402
import test_role_devstats as devstats  # noqa: E402
import test_role_exadeploy as exadeploy  # noqa: E402


class TmpFactory:
    """What the fixtures ask of pytest's tmp_path_factory."""

    def mktemp(self, name):
        return Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))


def apps_run(tmp: Path, helm_env: dict, variables: dict, *flags: str) -> tuple[float, dict, str]:
    inventory = tmp / "inventory.ini"
    inventory.write_text("[k8s_api]\nlocalhost ansible_connection=local\n")
    (tmp / "vars.json").write_text(json.dumps(variables))
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        **helm_env,
    )
    cmd = [
        str(REPO / ".venv/bin/ansible-playbook"),
        "-i",
        str(inventory),
        str(REPO / "playbooks" / "apps.yml"),
        "-e",
        f"@{tmp / 'vars.json'}",
        *flags,
    ]
    start = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=1800)
    took = time.monotonic() - start
    try:
        stats = json.loads(proc.stdout)["stats"].get("localhost", {})
    except (ValueError, KeyError):
        stats = {}
    if proc.returncode != 0:
        tail = proc.stdout[-4000:] + proc.stderr[-2000:]
        sys.exit(f"apps.yml {' '.join(flags)} failed (rc {proc.returncode}):\n{tail}")
    return took, stats, proc.stdout


def main():
    factory = TmpFactory()
    fixtures = [mod.lab._get_wrapped_function()(factory) for mod in (codescoring, cvat, exadeploy, devstats)]
    envs = [next(f) for f in fixtures]
    try:
        cs_env, cvat_env, exa_env, dv_env = envs
        stages = [s for s in devstats.FIRST_STAGES if s != "bootstrap"]
        variables = (
            {"apps_enabled": ["codescoring", "cvat", "exadeploy", "devstats"], "k8s_api_python": sys.executable}
            | codescoring.variables(cs_env)
            | cvat.variables(cvat_env)
            | exadeploy.variables(exa_env)
            | devstats.variables(dv_env, devstats_stages=stages)
        )
        tmp = factory.mktemp("apps")
        for label, flags in (
            ("apps.yml (four apps) first converge", ()),
            ("apps.yml no-op re-run", ()),
            ("apps.yml --check --diff", ("--check", "--diff")),
        ):
            took, stats, _out = apps_run(tmp, cs_env["HELM_HOME_ENV"], variables, *flags)
            print(f"bench: {label}: {took:.1f} s (changed={stats.get('changed', 0)})", flush=True)
    finally:
        for fixture in fixtures:
            for _ in fixture:  # the fixtures' teardown
                pass


if __name__ == "__main__":
    main()
