"""containerd_registry_hosts end to end on a temporary directory: writes, idempotence, check and diff modes, removal
of its own directories only, bad input."""

import os
import tomllib

import pytest
from ansible_collections.baremetal.k8s.plugins.modules import containerd_registry_hosts as mod

MARKER = "# Managed by baremetal.k8s.containerd"
MIRROR = {
    "hosts": {"http://10.0.0.1:5000/v2/mirror/docker.io": {"capabilities": ["pull", "resolve"], "override_path": True}}
}
PLAIN = {"server": "http://10.0.0.1:5000"}


@pytest.fixture
def run(run_module, tmp_path):
    """run(registries, check=False, diff=False) -> the module's result on tmp_path/certs.d."""

    def runner(registries, check=False, diff=False, **extra):
        args = dict(
            path=str(tmp_path / "certs.d"), registries=registries, _ansible_check_mode=check, _ansible_diff=diff
        )
        args.update(extra)
        return run_module(mod.main, args)

    return runner


def read(tmp_path, registry):
    return (tmp_path / "certs.d" / registry / "hosts.toml").read_text()


def test_writes_each_registry_then_changes_nothing(run, tmp_path):
    res = run({"docker.io": MIRROR, "10.0.0.1:5000": PLAIN})
    assert res["changed"] is True and res["written"] == ["10.0.0.1:5000", "docker.io"] and res["removed"] == []
    text = read(tmp_path, "docker.io")
    assert text.splitlines()[0] == MARKER
    assert tomllib.loads(text)["host"]["http://10.0.0.1:5000/v2/mirror/docker.io"]["override_path"] is True
    # the plain-HTTP server is also a host entry (containerd 1.6 would try HTTPS otherwise)
    assert tomllib.loads(read(tmp_path, "10.0.0.1:5000"))["host"]["http://10.0.0.1:5000"]["capabilities"] == [
        "pull",
        "resolve",
    ]
    assert oct(os.stat(tmp_path / "certs.d" / "docker.io" / "hosts.toml").st_mode & 0o777) == "0o644"
    again = run({"docker.io": MIRROR, "10.0.0.1:5000": PLAIN})
    assert again["changed"] is False and again["written"] == [] and again["removed"] == []


def test_check_mode_reports_and_writes_nothing(run, tmp_path):
    res = run({"docker.io": MIRROR}, check=True, diff=True)
    assert res["changed"] is True and res["written"] == ["docker.io"]
    assert not (tmp_path / "certs.d").exists()
    assert res["diff"][0]["before"] == "" and res["diff"][0]["after"].startswith(MARKER + "\n")


def test_a_changed_entry_is_rewritten_with_a_diff(run, tmp_path):
    run({"docker.io": MIRROR})
    res = run({"docker.io": PLAIN}, diff=True)
    assert res["changed"] is True and res["written"] == ["docker.io"]
    assert "override_path" in res["diff"][0]["before"] and "override_path" not in res["diff"][0]["after"]
    assert "override_path" not in read(tmp_path, "docker.io")


def test_a_changed_mode_is_put_back(run, tmp_path):
    run({"docker.io": MIRROR})
    os.chmod(tmp_path / "certs.d" / "docker.io" / "hosts.toml", 0o600)
    assert run({"docker.io": MIRROR})["written"] == ["docker.io"]
    assert os.stat(tmp_path / "certs.d" / "docker.io" / "hosts.toml").st_mode & 0o777 == 0o644


def test_removes_only_its_own_unlisted_directories(run, tmp_path):
    run({"docker.io": MIRROR, "quay.io": MIRROR})
    foreign = tmp_path / "certs.d" / "ghcr.io"
    foreign.mkdir()
    (foreign / "hosts.toml").write_text('server = "https://ghcr.io"\n')
    check = run({"docker.io": MIRROR}, check=True)
    assert check["changed"] is True and check["removed"] == [str(tmp_path / "certs.d" / "quay.io")]
    assert (tmp_path / "certs.d" / "quay.io").exists()
    res = run({"docker.io": MIRROR})
    assert res["removed"] == [str(tmp_path / "certs.d" / "quay.io")]
    assert not (tmp_path / "certs.d" / "quay.io").exists() and foreign.exists()
    assert run({"docker.io": MIRROR})["changed"] is False


@pytest.mark.parametrize(
    "registries, words",
    [
        ({"../etc": PLAIN}, "registry name '../etc'"),
        ({"docker.io": {"mirrors": []}}, "registry docker.io: unknown registry keys mirrors"),
        ({"docker.io": {}}, "registry docker.io: a registry entry needs server or hosts"),
    ],
)
def test_bad_entries_fail_before_any_write(run, tmp_path, registries, words):
    res = run(registries)
    assert res["failed"] is True and words in res["msg"] and res["msg"].startswith("registries: ")
    assert not (tmp_path / "certs.d").exists()


def test_a_marker_must_be_one_line(run):
    assert run({"docker.io": MIRROR}, marker="a\nb")["msg"] == "marker must be one non-empty line"
