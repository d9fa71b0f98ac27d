"""The lab's releases part: containerd, runc, CNI plugins and crictl built from upstream sources and served in
GitHub's release layout with checksum files that match, and the Docker-layout apt repo whose containerd.io
package apt verifies and can download.

Brings sources and releases up (needs root; reuses what is up)."""

import hashlib
import io
import subprocess
import tarfile

import labenv
import pytest
from test_lab_sources import apt_config, fetch, run

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def releases() -> dict:
    return labenv.up("sources", "releases")


def checksum_for(sums: bytes, name: str) -> str:
    """The hash for name in a "<hash>  <name>" file, or the only hash of a hash-only file."""
    lines = [line.split() for line in sums.decode().splitlines() if line.strip()]
    if len(lines) == 1 and len(lines[0]) == 1:
        return lines[0][0]
    return next(parts[0] for parts in lines if parts[-1].lstrip("*") == name)


@pytest.mark.parametrize(
    ("project", "version_key", "name", "sums", "members"),
    [
        (
            "containerd",
            "LAB_CONTAINERD_VERSION",
            "containerd-{v}-linux-amd64.tar.gz",
            "{name}.sha256sum",
            ["bin/containerd", "bin/containerd-shim-runc-v2", "bin/ctr"],
        ),
        ("runc", "LAB_RUNC_VERSION", "runc.amd64", "runc.sha256sum", None),
        (
            "cni-plugins",
            "LAB_CNI_PLUGINS_VERSION",
            "cni-plugins-linux-amd64-v{v}.tgz",
            "{name}.sha256",
            ["./bridge", "./host-local", "./loopback", "./portmap"],
        ),
        ("cri-tools", "LAB_CRI_TOOLS_VERSION", "crictl-v{v}-linux-amd64.tar.gz", "{name}.sha256", ["crictl"]),
    ],
)
def test_release_files_match_their_checksums(releases, project, version_key, name, sums, members):  # noqa: PLR0917
    version = releases[version_key].removeprefix("v")
    name = name.format(v=version)
    base = f"{releases['LAB_RELEASES_URL']}/{project}/v{version}"
    status, body = fetch(f"{base}/{name}")
    assert status == 200 and body, f"{base}/{name}"
    status, sums_body = fetch(f"{base}/{sums.format(name=name)}")
    assert status == 200
    assert hashlib.sha256(body).hexdigest() == checksum_for(sums_body, name)
    if members:
        with tarfile.open(fileobj=io.BytesIO(body)) as tar:
            assert set(members) <= set(tar.getnames()), tar.getnames()


def test_docker_layout_repo_serves_a_signed_containerd_io(releases, tmp_path):
    url = releases["LAB_DOCKER_REPO_URL"]
    status, key = fetch(f"{url}/gpg")
    assert status == 200 and key.startswith(b"-----BEGIN PGP PUBLIC KEY BLOCK-----")
    opts = apt_config(tmp_path, url, key, suite="bookworm stable")
    update = run(["apt-get", *opts, "update"])
    assert "InRelease" in update.stdout and "W:" not in update.stderr, update.stderr
    version = releases["LAB_CONTAINERD_IO_VERSION"]
    assert version.startswith(releases["LAB_CONTAINERD_VERSION"].removeprefix("v") + "-1~debian.12~")
    assert version in run(["apt-cache", *opts, "policy", "containerd.io"]).stdout
    (tmp_path / "dl").mkdir()
    run(["apt-get", *opts, "download", f"containerd.io={version}"], cwd=tmp_path / "dl")
    (deb,) = (tmp_path / "dl").glob("containerd.io_*.deb")
    listing = run(["dpkg-deb", "-c", str(deb)]).stdout
    for path in ("./usr/bin/containerd", "./usr/bin/ctr", "./usr/bin/runc", "./lib/systemd/system/containerd.service"):
        assert path in listing, path
    control = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Conflicts", "Provides"], capture_output=True, text=True, check=True
    ).stdout
    assert "Conflicts: containerd, runc" in control and "Provides: containerd, runc" in control
