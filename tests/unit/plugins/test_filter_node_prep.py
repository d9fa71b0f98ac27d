"""node_prep's filters: sysctl values against `sysctl -e KEY...` output, the active swap lines of fstab."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.baremetal.k8s.plugins.filter.node_prep import fstab_swap_entries, sysctl_not_live

WANTED = {
    "net.ipv4.ip_forward": 1,
    "net.bridge.bridge-nf-call-iptables": 1,
    "net.ipv4.ip_local_port_range": "32768 60999",
}


def test_all_live_is_empty():
    lines = [
        "net.ipv4.ip_forward = 1",
        "net.bridge.bridge-nf-call-iptables = 1",
        "net.ipv4.ip_local_port_range = 32768\t60999",
    ]
    assert sysctl_not_live(WANTED, lines) == []


def test_different_and_missing_keys_are_pending_in_input_order():
    lines = ["net.ipv4.ip_forward = 0", "net.ipv4.ip_local_port_range = 32768\t60999"]
    assert sysctl_not_live(WANTED, lines) == [
        {"key": "net.ipv4.ip_forward", "value": 1},
        {"key": "net.bridge.bridge-nf-call-iptables", "value": 1},
    ]


def test_slash_keys_and_empty_values():
    assert sysctl_not_live({"kernel/domainname": ""}, ["kernel.domainname = "]) == []
    assert sysctl_not_live({"kernel.domainname": "x"}, ["kernel.domainname = "]) == [
        {"key": "kernel.domainname", "value": "x"}
    ]


def test_lines_that_are_not_settings_are_ignored():
    assert (
        sysctl_not_live({"vm.swappiness": 10}, ["sysctl: cannot stat /proc/sys/vm/swappines", "vm.swappiness = 10"])
        == []
    )


def test_the_input_must_be_a_dict():
    with pytest.raises(AnsibleFilterError, match="sysctl_not_live: the input must be a dict"):
        sysctl_not_live(["net.ipv4.ip_forward"], [])


def test_fstab_swap_entries_are_the_uncommented_swap_lines():
    fstab = (
        "# /etc/fstab\n"
        "UUID=1 / ext4 defaults 0 1\n"
        "/swapfile none swap sw 0 0\n"
        "# /dev/sdb2 none swap sw 0 0\n"
        "  /dev/sdc1   none   swap\n"
        "/dev/sdd1 /mnt/swap ext4 defaults 0 0\n"
    )
    assert fstab_swap_entries(fstab) == ["/swapfile none swap sw 0 0", "  /dev/sdc1   none   swap"]


def test_fstab_swap_entries_of_no_file_and_bad_input():
    assert fstab_swap_entries(None) == []
    assert fstab_swap_entries("") == []
    with pytest.raises(AnsibleFilterError, match="text of /etc/fstab"):
        fstab_swap_entries(["/swapfile none swap sw 0 0"])
