"""roles/node_prep on the lab's four nspawn hosts over ssh: converge, the state that matters, a second run and
--check change nothing; container limits (no /proc/modules, vm.* refused) are reported, not failed; bad input
and a device holding a filesystem are refused before any change."""

import labenv
import pytest
import rolerun
from rolerun import HOSTS, changed, run, ssh

SYSCTL = {
    "net.bridge.bridge-nf-call-iptables": "1",
    "net.bridge.bridge-nf-call-ip6tables": "1",
    "net.ipv4.ip_forward": "1",
}


@pytest.fixture(scope="module")
def env():
    return labenv.require("hosts")


@pytest.fixture()
def play(tmp_path):
    return rolerun.write_playbook(tmp_path, "node_prep")


def test_converge_then_no_change_and_check(env, play, tmp_path):
    proc, stats = run(play, tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert sorted(stats) == HOSTS
    for host in HOSTS:
        swaps = ssh(env, host, "swapon --show --noheadings").stdout
        assert swaps.strip() == "", (host, swaps)
        live = ssh(env, host, "sysctl -n " + " ".join(SYSCTL)).stdout.split()
        assert live == list(SYSCTL.values()), (host, live)
        conf = ssh(env, host, "cat /etc/sysctl.d/99-kubernetes.conf").stdout
        assert all(f"{k} = {v}" in conf for k, v in SYSCTL.items()), conf
        modules = ssh(env, host, "grep -v '^#' /etc/modules-load.d/kubernetes.conf").stdout.split()
        assert modules == ["overlay", "br_netfilter"]
        hosts = ssh(env, host, "sed -n '/BEGIN baremetal.k8s/,/END baremetal.k8s/p' /etc/hosts").stdout
        for other in HOSTS:
            ip = env[f"LAB_HOST_IP_{other.upper().replace('-', '_')}"]
            assert f"{ip} {other}\n" in hosts, (host, hosts)
        pkgs = ssh(env, host, "dpkg-query -W -f '${db:Status-Status} ' nfs-common net-tools").stdout.split()
        assert pkgs == ["installed", "installed"], (host, pkgs)
    # the lab hosts are containers without /proc/modules: reported, not failed
    assert "cannot load kernel modules (no /proc/modules)" in proc.stdout

    again, stats = run(play, tmp_path)
    assert again.returncode == 0, again.stdout[-4000:]
    assert changed(stats) == dict.fromkeys(HOSTS, 0), changed(stats)

    check, stats = run(play, tmp_path, "--check", "--diff")
    assert check.returncode == 0, check.stdout[-4000:]
    assert changed(stats) == dict.fromkeys(HOSTS, 0), changed(stats)


def test_drift_in_each_written_file_is_seen_and_undone(env, play, tmp_path):
    """The role reads the host once (host_probe) and skips what already matches: each kind of drift must still be
    found and undone, and only there."""
    host = "node-2"
    ssh(env, host, "echo 'vm.swappiness = 60' >> /etc/sysctl.d/99-kubernetes.conf")
    ssh(env, host, "chmod 0600 /etc/modules-load.d/kubernetes.conf")
    ssh(env, host, "echo '/swapfile-drift none swap sw 0 0' >> /etc/fstab")
    ssh(env, host, "sed -i '/BEGIN baremetal.k8s/,/END baremetal.k8s/{/ master$/d}' /etc/hosts")
    proc, stats = run(play, tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert changed(stats) == {h: 4 if h == host else 0 for h in HOSTS}, (changed(stats), proc.stdout[-4000:])
    assert "vm.swappiness" not in ssh(env, host, "cat /etc/sysctl.d/99-kubernetes.conf").stdout
    assert ssh(env, host, "stat -c %a /etc/modules-load.d/kubernetes.conf").stdout.strip() == "644"
    assert "# /swapfile-drift none swap sw 0 0" in ssh(env, host, "cat /etc/fstab").stdout
    assert " master\n" in ssh(env, host, "sed -n '/BEGIN baremetal.k8s/,/END baremetal.k8s/p' /etc/hosts").stdout
    again, stats = run(play, tmp_path)
    assert changed(stats) == dict.fromkeys(HOSTS, 0), changed(stats)


def test_container_refused_sysctl_warns_and_stays_idempotent(env, play, tmp_path):
    extra = {"node_prep_sysctl": {**{k: int(v) for k, v in SYSCTL.items()}, "vm.max_map_count": 262145}}
    try:
        proc, stats = run(play, tmp_path, "--limit", "node-0", extra=extra)
        assert proc.returncode == 0, proc.stdout[-4000:]
        assert "refused vm.max_map_count" in proc.stdout
        assert "vm.max_map_count = 262145" in ssh(env, "node-0", "cat /etc/sysctl.d/99-kubernetes.conf").stdout
        again, stats = run(play, tmp_path, "--limit", "node-0", extra=extra)
        assert changed(stats) == {"node-0": 0}, changed(stats)
    finally:
        restore, _out = run(play, tmp_path, "--limit", "node-0")
    assert restore.returncode == 0
    assert "vm.max_map_count" not in ssh(env, "node-0", "cat /etc/sysctl.d/99-kubernetes.conf").stdout


def test_a_net_key_that_does_not_apply_fails(env, play, tmp_path):
    extra = {
        "node_prep_sysctl": {"net.ipv4.no_such_key_bmk8s": 1},
        "node_prep_sysctl_file": "/etc/sysctl.d/98-bmk8s-test.conf",
    }
    try:
        proc, stats = run(play, tmp_path, "--limit", "node-1", extra=extra)
        assert proc.returncode != 0
        assert "sysctl keys not live on node-1" in proc.stdout and "net.ipv4.no_such_key_bmk8s" in proc.stdout
    finally:
        ssh(env, "node-1", "rm -f /etc/sysctl.d/98-bmk8s-test.conf")


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"node_prep_data_disk_raid_level": 3}, "node_prep_data_disk_raid_level"),
        ({"node_prep_sysctl": ["net.ipv4.ip_forward"]}, "node_prep_sysctl"),
        ({"node_prep_data_disk_enabled": True}, "node_prep_data_disk_devices"),
        ({"node_prep_kernel_modules": ["overlay", "br netfilter"]}, "node_prep_kernel_modules"),
    ],
)
def test_bad_input_fails_before_any_change(env, play, tmp_path, extra, named):
    proc, stats = run(play, tmp_path, extra=extra)
    assert proc.returncode != 0
    assert named in proc.stdout
    assert changed(stats) == dict.fromkeys(HOSTS, 0), changed(stats)


def test_data_disk_refuses_a_device_holding_a_filesystem(env, play, tmp_path):
    # no loop devices inside the lab hosts: an image file under /dev stands in for the device; the signature
    # check runs before the block-device check, so the refusal is what fails here
    img = "/dev/bmk8s-test-disk.img"
    made = ssh(
        env, "node-2", f"truncate -s 8M {img} && mkfs.ext4 -q -L otherdata {img} && blkid -p -o value -s TYPE {img}"
    )
    assert made.stdout.strip() == "ext4", made.stderr
    extra = {"node_prep_data_disk_enabled": True, "node_prep_data_disk_devices": [img]}
    try:
        proc, stats = run(play, tmp_path, "--limit", "node-2", extra=extra)
        assert proc.returncode != 0
        assert f"{img} holds LABEL=otherdata TYPE=ext4" in proc.stdout and "node_prep_data_disk_force" in proc.stdout
        # told to wipe: the refusal passes, the block-device check stops it before any wipe
        forced, _out = run(play, tmp_path, "--limit", "node-2", extra={**extra, "node_prep_data_disk_force": True})
        assert forced.returncode != 0
        assert (
            "holds LABEL=otherdata" not in forced.stdout
            and f"node_prep_data_disk_devices {img} are not block devices" in forced.stdout
        )
        assert ssh(env, "node-2", f"blkid -p -o value -s LABEL {img}").stdout.strip() == "otherdata"
    finally:
        ssh(env, "node-2", f"rm -f {img}")
