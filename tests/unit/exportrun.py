"""A role run in export mode (k8s_export_dir) on localhost: the chart values it would install, no cluster."""

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def run_export(tmp_path: Path, role: str, extra: dict, release: str) -> tuple[subprocess.CompletedProcess, dict | None]:
    """Runs baremetal.k8s.<role> on localhost with k8s_export_dir=<tmp_path>/out and these extra vars; returns the
    process and the values the role exported for release <namespace>/<name> (None when it wrote none)."""
    play = [{"hosts": "localhost", "gather_facts": False, "roles": [f"baremetal.k8s.{role}"]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    (tmp_path / "extra.json").write_text(json.dumps({"k8s_export_dir": str(tmp_path / "out")} | extra))
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    proc = subprocess.run(
        [
            Path(sys.executable).with_name("ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            tmp_path / "play.yml",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            "-e",
            f"@{tmp_path / 'extra.json'}",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    values_file = tmp_path / "out" / release / "values.yaml"
    return proc, (yaml.safe_load(values_file.read_text()) if values_file.exists() else None)
