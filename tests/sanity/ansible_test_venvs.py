"""Give `ansible-test sanity` ready virtual environments, so it never bootstraps pip from the network.

ansible-test runs each sanity test that has requirements in its own virtual environment under
~/.ansible/test/venv/<label>/<python>/<hash>, where <hash> is a digest of the pip commands it would run, and
reuses one whose marker.txt exists. Creating one itself starts with a pip bootstrap script downloaded from a
host this project does not reach. This script computes those paths with ansible-test's own functions and
fills them (run it with HOME pointing at ansible-test's home for this checkout):

* import.plugin (what plugins may import on the controller) gets a real, minimal virtual environment:
  `python -m venv --without-pip`, then .venv's pip installs ansible-test's pinned sanity.import.plugin.txt
  into it from the package index.
* every other test's environment is a `bin/python` that runs .venv's Python, where `make venv` installed the
  pinned tools (requirements-sanity.txt).
* import.module has no requirements; ansible-test creates that empty environment itself, without pip.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ansible_test._internal.commands.sanity import hash_pip_commands
from ansible_test._internal.host_configs import NativePythonConfig
from ansible_test._internal.python_requirements import collect_requirements
from ansible_test._internal.util import ANSIBLE_TEST_DATA_ROOT

ISOLATED = {"import.plugin"}  # minimal environments: must not see .venv's packages


def venv_path(python: NativePythonConfig, name: str, minimize: bool) -> Path:
    """The directory create_sanity_virtualenv() uses for sanity test `name` (see its source)."""
    commands = collect_requirements(
        python=python, controller=True, command=None, ansible=False, coverage=False, minimize=minimize, sanity=name
    )
    label = f"sanity.{name}" if commands else "sanity"
    return Path.home() / ".ansible" / "test" / "venv" / label / python.version / hash_pip_commands(commands)


def has_libyaml(python: str) -> bool:
    out = subprocess.run(
        [python, "-c", "import yaml; print(yaml.__with_libyaml__)"], capture_output=True, text=True, check=True
    )
    return out.stdout.strip() == "True"


def main() -> int:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    python = NativePythonConfig(version=version, path=sys.executable)
    pip = Path(sys.executable).parent / "pip"
    requirements = Path(ANSIBLE_TEST_DATA_ROOT) / "requirements"
    names = sorted(p.name.removeprefix("sanity.").removesuffix(".txt") for p in requirements.glob("sanity.*.txt"))
    for name in names:
        isolated = name in ISOLATED
        path = venv_path(python, name, minimize=isolated)
        marker = path / "marker.txt"
        if marker.exists():
            continue
        shutil.rmtree(path, ignore_errors=True)
        if isolated:
            subprocess.run([sys.executable, "-m", "venv", "--without-pip", path], check=True)
            subprocess.run(
                [pip, "--python", path / "bin" / "python", "install", "-q", "-r", requirements / f"sanity.{name}.txt"],
                check=True,
            )
        else:
            (path / "bin").mkdir(parents=True)
            wrapper = path / "bin" / "python"
            wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
            wrapper.chmod(0o755)
        (path / "meta.yaml.json").write_text(json.dumps(has_libyaml(str(path / "bin" / "python"))))
        (path / "meta.install.json").write_text("[]")
        marker.touch()
        print(f"ansible-test venv for {name}: {'isolated' if isolated else '.venv'} at {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
