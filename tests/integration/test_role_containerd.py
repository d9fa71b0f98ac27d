"""roles/containerd on the lab's nspawn hosts, by all three install methods: Debian's containerd 1.6 (config
version 2), the release tarballs of containerd 2.1.4 / runc / CNI plugins from the lab's files mirror (config
version 3) and containerd.io from the lab's Docker-layout apt repo. Each converges with SystemdCgroup, the
sandbox image and the CRI option in `containerd config dump`, the CRI plugin up, a second run and --check
changing nothing; switching methods removes the previous one; bad input fails before any change."""

import labenv
import pytest
import rolerun
import yaml
from rolerun import HOSTS, changed, converge_twice_and_check, run, ssh

PAUSE = "10.77.0.1:5000/pause:3.10"


@pytest.fixture(scope="module")
def env():
    return labenv.require("hosts", "sources", "releases")


@pytest.fixture()
def play(tmp_path):
    return rolerun.write_playbook(tmp_path, "containerd")


def assert_cri_ready(env, host, config_version):
    dump = ssh(env, host, "containerd config dump")
    assert dump.returncode == 0, (host, dump.stderr)
    text = dump.stdout
    assert f"version = {config_version}" in text, (host, text[:400])
    assert "SystemdCgroup = true" in text, host
    assert "restrict_oom_score_adj = true" in text, host
    assert "config_path = '/etc/containerd/certs.d'" in text or 'config_path = "/etc/containerd/certs.d"' in text
    if config_version == 2:
        assert f'sandbox_image = "{PAUSE}"' in text, host
    else:
        assert f"sandbox = '{PAUSE}'" in text or f'sandbox = "{PAUSE}"' in text, host
    plugins = ssh(env, host, "ctr plugins ls").stdout
    cri = [line.split() for line in plugins.splitlines() if line.split()[:2] == ["io.containerd.grpc.v1", "cri"]]
    assert len(cri) == 1 and cri[0][-1] == "ok", plugins
    assert ssh(env, host, "systemctl is-active containerd").stdout.strip() == "active"
    assert ssh(env, host, "systemctl is-enabled containerd").stdout.strip() == "enabled"
    hosts_toml = ssh(env, host, "cat /etc/containerd/certs.d/10.77.0.1:5000/hosts.toml").stdout
    assert 'server = "http://10.77.0.1:5000"' in hosts_toml, hosts_toml


def installed(env, host, package):
    out = ssh(env, host, f"dpkg-query -W -f '${{Status}} ${{Version}}' {package} 2>/dev/null").stdout
    return out.split()[-1] if out.startswith("install ok installed") else None


def test_distro_method_on_every_host(env, play, tmp_path):
    converge_twice_and_check(play, tmp_path, HOSTS)
    for host in HOSTS:
        assert installed(env, host, "containerd").startswith("1.6."), host
        assert_cri_ready(env, host, 2)
        first_line = ssh(env, host, "head -1 /etc/containerd/config.toml").stdout
        assert first_line.startswith("# Managed by baremetal.k8s.containerd"), first_line


def test_drift_in_config_or_service_is_seen_and_undone(env, play, tmp_path):
    """The role reads the host once (host_probe) and skips what already matches: an edited config.toml and a stopped,
    disabled containerd must still be found and undone, on that host only."""
    host = "node-2"
    ssh(env, host, "echo '# drift' >> /etc/containerd/config.toml && systemctl disable --now containerd")
    assert ssh(env, host, "systemctl is-active containerd").stdout.strip() != "active"
    proc, stats = run(play, tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:]
    # config.toml rewritten, the service enabled and started (the restart handler's change counts too)
    assert changed(stats)[host] >= 2 and {h: n for h, n in changed(stats).items() if h != host} == dict.fromkeys(
        [h for h in HOSTS if h != host], 0
    ), (changed(stats), proc.stdout[-4000:])
    assert "# drift" not in ssh(env, host, "cat /etc/containerd/config.toml").stdout
    assert_cri_ready(env, host, 2)
    again, stats = run(play, tmp_path)
    assert changed(stats) == dict.fromkeys(HOSTS, 0), changed(stats)


def test_release_method_then_back_to_distro(env, play, tmp_path):
    extra = {"containerd_install_method": "release"}
    converge_twice_and_check(play, tmp_path, ["node-1"], "--limit", "node-1", extra=extra)
    assert "v2.1.4" in ssh(env, "node-1", "/usr/local/bin/containerd --version").stdout
    assert "runc version 1.3.3" in ssh(env, "node-1", "/usr/local/sbin/runc --version").stdout
    assert ssh(env, "node-1", "test -x /opt/cni/bin/bridge && test -x /opt/cni/bin/host-local").returncode == 0
    assert installed(env, "node-1", "containerd") is None  # the distro package went with the switch
    assert "/usr/local/bin/containerd" in ssh(env, "node-1", "systemctl show -p ExecStart containerd").stdout
    assert_cri_ready(env, "node-1", 3)

    converge_twice_and_check(play, tmp_path, ["node-1"], "--limit", "node-1")
    leftovers = "ls /usr/local/bin/containerd /usr/local/sbin/runc /etc/systemd/system/containerd.service"
    assert ssh(env, "node-1", leftovers).stdout == ""
    assert installed(env, "node-1", "containerd").startswith("1.6.")
    assert_cri_ready(env, "node-1", 2)


def test_docker_method_then_back_to_distro(env, play, tmp_path):
    extra = {"containerd_install_method": "docker"}
    converge_twice_and_check(play, tmp_path, ["node-2"], "--limit", "node-2", extra=extra)
    assert installed(env, "node-2", "containerd.io") == env["LAB_CONTAINERD_IO_VERSION"]
    assert installed(env, "node-2", "containerd") is None
    sources = ssh(env, "node-2", "cat /etc/apt/sources.list.d/docker.sources").stdout
    assert "Signed-By: /etc/apt/keyrings/docker.asc" in sources and "Components: stable" in sources
    # Docker's package disables the CRI plugin in its config.toml; the role's file turns it on.
    assert_cri_ready(env, "node-2", 3)

    converge_twice_and_check(play, tmp_path, ["node-2"], "--limit", "node-2")
    assert installed(env, "node-2", "containerd.io") is None
    assert_cri_ready(env, "node-2", 2)


def test_registries_no_longer_listed_are_removed(env, play, tmp_path):
    """Registries dropped from containerd_registries lose their certs.d directory (no containerd restart: hosts.toml
    is read per pull); a directory the role did not write stays; listing them again brings them back."""
    inventory = yaml.safe_load((rolerun.REPO / "inventories/lab/group_vars/all.yml").read_text())[
        "containerd_registries"
    ]
    theirs = "/etc/containerd/certs.d/theirs.example"
    ssh(env, "master", f"mkdir -p {theirs} && echo 'server = \"https://theirs.example\"' > {theirs}/hosts.toml")
    started = ssh(env, "master", "systemctl show -p ActiveEnterTimestampMonotonic containerd").stdout
    only_lab = {"10.77.0.1:5000": inventory["10.77.0.1:5000"]}
    proc, stats = run(play, tmp_path, "--limit", "master", extra={"containerd_registries": only_lab})
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert changed(stats) == {"master": 1}, changed(stats)  # one task removes every dropped directory
    assert ssh(env, "master", "ls /etc/containerd/certs.d").stdout.split() == ["10.77.0.1:5000", "theirs.example"]
    assert ssh(env, "master", "systemctl show -p ActiveEnterTimestampMonotonic containerd").stdout == started

    proc, stats = run(play, tmp_path, "--limit", "master")
    assert proc.returncode == 0, proc.stdout[-4000:]
    listing = ssh(env, "master", "ls /etc/containerd/certs.d").stdout.split()
    assert listing == sorted([*inventory, "theirs.example"]), listing
    text = ssh(env, "master", "cat /etc/containerd/certs.d/docker.io/hosts.toml").stdout
    assert '[host."http://10.77.0.1:5000/v2/mirror/docker.io"]' in text and 'capabilities = ["pull", "resolve"]' in text
    ssh(env, "master", f"rm -rf {theirs}")
    proc, stats = run(play, tmp_path, "--limit", "master")
    assert proc.returncode == 0 and changed(stats) == {"master": 0}, changed(stats)


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"containerd_install_method": "snap"}, "containerd_install_method"),
        ({"containerd_release_version": "3.0.0"}, "containerd_release_version"),
        ({"containerd_registries": {"docker.io": {"mirrors": ["x"]}}}, "containerd_registries"),
        ({"containerd_cri_options": "restrict_oom_score_adj"}, "containerd_cri_options"),
        ({"containerd_release_checksum": "md5:abc"}, "containerd_release_checksum"),
    ],
)
def test_bad_input_fails_before_any_change(env, play, tmp_path, extra, named):
    proc, stats = run(play, tmp_path, extra=extra)
    assert proc.returncode != 0
    assert named in proc.stdout
    assert changed(stats) == dict.fromkeys(HOSTS, 0), changed(stats)
