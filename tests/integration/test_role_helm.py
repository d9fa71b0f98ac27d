"""roles/helm on the lab host `master` (the API host: kube_control_plane[0]): helm and the helm-diff plugin from
the lab's files mirror, checked against their sha256 files, and the pinned kubernetes library in its virtualenv
from the mirror's wheel directory; a second run and --check change nothing; a wrong checksum and bad input fail
before anything is replaced."""

import labenv
import pytest
from rolerun import changed, run, ssh

VENV_PY = "/opt/baremetal-k8s/venv/bin/python"


@pytest.fixture(scope="module")
def env():
    return labenv.require("hosts", "sources")


@pytest.fixture()
def play(tmp_path):
    path = tmp_path / "helm.yml"
    path.write_text("- name: helm\n  hosts: master\n  gather_facts: true\n  roles:\n    - role: baremetal.k8s.helm\n")
    return path


def test_converge_then_no_change_and_check(env, play, tmp_path):
    proc, stats = run(play, tmp_path)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert ssh(env, "master", "helm version --template '{{ .Version }}'").stdout == "v3.18.0"
    plugins = ssh(env, "master", "helm plugin list").stdout
    assert any(line.split()[:2] == ["diff", "3.12.5+lab"] for line in plugins.splitlines()), plugins
    lib = ssh(env, "master", f"{VENV_PY} -c 'import kubernetes; print(kubernetes.__version__)'")
    assert lib.stdout.strip() == "37.0.2", lib.stderr
    assert ssh(env, "master", "stat -c %a /usr/local/bin/helm").stdout.strip() == "755"

    again, stats = run(play, tmp_path)
    assert again.returncode == 0, again.stdout[-4000:]
    assert changed(stats) == {"master": 0}, changed(stats)
    check, stats = run(play, tmp_path, "--check", "--diff")
    assert check.returncode == 0, check.stdout[-4000:]
    assert changed(stats) == {"master": 0}, changed(stats)


def test_a_download_that_does_not_match_its_checksum_is_refused(env, play, tmp_path):
    # helm is downloaded only when the installed binary is not the pinned version: stand in one that reports another
    fake = '#!/bin/sh\ncase $1 in version) echo v3.17.0;; *) exec /root/helm.saved "$@";; esac\n'
    ssh(env, "master", f"cp -p /usr/local/bin/helm /root/helm.saved && printf '{fake}' > /usr/local/bin/helm")
    try:
        before = ssh(env, "master", "sha256sum /usr/local/bin/helm").stdout
        proc, stats = run(play, tmp_path, extra={"helm_checksum": "sha256:" + "0" * 64})
        assert proc.returncode != 0
        assert "did not match" in proc.stdout, proc.stdout[-3000:]
        assert changed(stats) == {"master": 0}, changed(stats)
        assert ssh(env, "master", "sha256sum /usr/local/bin/helm").stdout == before
        # with the right checksum the pinned helm replaces it (the archive and its unpacked files may be there already)
        proc, stats = run(play, tmp_path)
        assert proc.returncode == 0, proc.stdout[-4000:]
        assert ssh(env, "master", "helm version --template '{{ .Version }}'").stdout == "v3.18.0"
        assert changed(stats)["master"] >= 1, proc.stdout[-4000:]
    finally:
        ssh(env, "master", "helm version | grep -q v3.18.0 || cp -p /root/helm.saved /usr/local/bin/helm")
        ssh(env, "master", "rm -f /root/helm.saved")


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"helm_version": "v3.18"}, "helm_version"),
        ({"helm_python_packages": ["kubernetes"]}, "helm_python_packages"),
        ({"helm_diff_enabled": "perhaps"}, "helm_diff_enabled"),
        ({"helm_diff_checksum": "md5:00"}, "helm_diff_checksum"),
    ],
)
def test_bad_input_fails_before_any_change(env, play, tmp_path, extra, named):
    proc, stats = run(play, tmp_path, extra=extra)
    assert proc.returncode != 0
    assert named in proc.stdout
    assert changed(stats) == {"master": 0}, changed(stats)
