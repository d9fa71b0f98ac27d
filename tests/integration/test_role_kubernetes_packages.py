"""roles/kubernetes_packages on the lab's four nspawn hosts against the lab's signed apt repo (laid out like
pkgs.k8s.io): pinned versions installed and held, a second run and --check change nothing, bad input is refused
before any change, a version the repo lacks fails naming the package version."""

import labenv
import pytest
import rolerun
from rolerun import HOSTS, changed, run, ssh

VERSION = "1.33.13-1.1"
PACKAGES = ["kubeadm", "kubectl", "kubelet"]


@pytest.fixture(scope="module")
def env():
    return labenv.require("hosts", "sources")


@pytest.fixture()
def play(tmp_path):
    return rolerun.write_playbook(tmp_path, "kubernetes_packages")


def test_converge_then_no_change_and_check(env, play, tmp_path):
    proc, stats = run(play, tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert sorted(stats) == HOSTS
    for host in HOSTS:
        versions = ssh(env, host, "dpkg-query -W -f '${Package}=${Version} ' " + " ".join(PACKAGES)).stdout.split()
        assert versions == [f"{p}={VERSION}" for p in PACKAGES], (host, versions)
        held = sorted(ssh(env, host, "apt-mark showhold").stdout.split())
        assert set(PACKAGES) <= set(held), (host, held)
        sources = ssh(env, host, "cat /etc/apt/sources.list.d/kubernetes.sources").stdout
        assert "Signed-By: /etc/apt/keyrings/kubernetes-apt-keyring.asc" in sources
        assert "URIs: http://10.77.0.1:8081/core:/stable:/v1.33/deb/" in sources
        key = ssh(env, host, "head -1 /etc/apt/keyrings/kubernetes-apt-keyring.asc").stdout
        assert key.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")

    again, stats = run(play, tmp_path)
    assert again.returncode == 0, again.stdout[-4000:]
    assert changed(stats) == dict.fromkeys(HOSTS, 0), changed(stats)

    check, stats = run(play, tmp_path, "--check", "--diff")
    assert check.returncode == 0, check.stdout[-4000:]
    assert changed(stats) == dict.fromkeys(HOSTS, 0), changed(stats)


def test_drift_in_the_repository_file_and_hold_is_seen_and_undone(env, play, tmp_path):
    """The role reads the host once (host_probe) and skips what already matches: an edited sources file, a keyrings
    directory with another mode and a released hold must still be found and undone, on that host only."""
    host = "node-2"
    ssh(env, host, "echo '# drift' >> /etc/apt/sources.list.d/kubernetes.sources && chmod 0700 /etc/apt/keyrings")
    ssh(env, host, "apt-mark unhold kubelet")
    proc, stats = run(play, tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:]
    # the sources file, the keyrings directory, apt's refreshed lists after the repository change, the hold
    assert changed(stats)[host] >= 3, (changed(stats), proc.stdout[-4000:])
    assert all(changed(stats)[h] == 0 for h in HOSTS if h != host), changed(stats)
    assert "# drift" not in ssh(env, host, "cat /etc/apt/sources.list.d/kubernetes.sources").stdout
    assert ssh(env, host, "stat -c %a /etc/apt/keyrings").stdout.strip() == "755"
    assert "kubelet" in ssh(env, host, "apt-mark showhold").stdout.split()
    again, stats = run(play, tmp_path)
    assert changed(stats) == dict.fromkeys(HOSTS, 0), changed(stats)


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"kubernetes_packages_version": "1.33"}, "kubernetes_packages_version"),
        ({"kubernetes_packages_repo_url": "pkgs.k8s.io/core"}, "kubernetes_packages_repo_url"),
        ({"kubernetes_packages_hold": "maybe"}, "kubernetes_packages_hold"),
        ({"kubernetes_packages_repo_proxy": "sometimes"}, "kubernetes_packages_repo_proxy"),
    ],
)
def test_bad_input_fails_before_any_change(env, play, tmp_path, extra, named):
    proc, stats = run(play, tmp_path, extra=extra)
    assert proc.returncode != 0
    assert named in proc.stdout
    assert changed(stats) == dict.fromkeys(HOSTS, 0), changed(stats)


def test_a_version_the_repo_lacks_fails_and_leaves_the_pinned_one(env, play, tmp_path):
    proc, stats = run(play, tmp_path, "--limit", "node-0", extra={"kubernetes_packages_version": "1.33.99"})
    assert proc.returncode != 0
    assert "1.33.99-1.1" in proc.stdout
    assert changed(stats) == {"node-0": 0}, changed(stats)
    versions = ssh(env, "node-0", "dpkg-query -W -f '${Version} ' " + " ".join(PACKAGES)).stdout.split()
    assert versions == [VERSION] * 3
