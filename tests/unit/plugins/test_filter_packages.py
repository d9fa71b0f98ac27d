"""dpkg_missing / dpkg_installed against dpkg-query output (package, version, status)."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.baremetal.k8s.plugins.filter.packages import (
    dpkg_installed,
    dpkg_missing,
    dpkg_query_argv,
    pip_missing,
)

LINES = [
    "kubeadm 1.33.1-1.1 hold ok installed",
    "kubelet 1.33.0-1.1 install ok installed",
    "curl 7.88.1-10 install ok installed",
    "docker-ce  unknown ok not-installed",
    "containerd 1.6.20~ds1-1 deinstall ok config-files",
]


def test_installed_names_and_pins_are_not_missing():
    assert dpkg_missing(["curl", "kubeadm=1.33.1-1.1", "curl:amd64"], LINES) == []


def test_absent_other_version_and_removed_packages_are_missing():
    wanted = ["kubelet=1.33.1-1.1", "jq", "docker-ce", "containerd", "kubectl=1.33.1-1.1"]
    assert dpkg_missing(wanted, LINES) == wanted


def test_no_output_means_everything_is_missing():
    assert dpkg_missing(["curl"], []) == ["curl"]


def test_installed_keeps_the_input_order():
    assert dpkg_installed(["docker-ce", "curl", "containerd", "kubeadm"], LINES) == ["curl", "kubeadm"]
    assert dpkg_installed([], LINES) == []


def test_the_input_must_be_a_list():
    with pytest.raises(AnsibleFilterError, match="dpkg_missing: the input must be a list"):
        dpkg_missing("curl", LINES)


def test_dpkg_query_argv_is_the_format_the_filters_read():
    argv = dpkg_query_argv(["curl", "gpg"])
    assert argv == ["dpkg-query", "--show", "--showformat=${Package} ${Version} ${Status}\n", "curl", "gpg"]
    with pytest.raises(AnsibleFilterError, match="list of package names"):
        dpkg_query_argv("curl")


def test_pip_missing_compares_normalised_names_and_exact_versions():
    installed = ["kubernetes==37.0.2", "PyYAML==6.0.4", "python_dateutil==2.9.0", "garbage line"]
    assert pip_missing(["kubernetes==37.0.2", "pyyaml==6.0.4", "Python-Dateutil==2.9.0"], installed) == []
    assert pip_missing(["kubernetes[adal]==37.0.2"], installed) == []
    wanted = ["kubernetes==36.0.0", "requests==2.32.0"]
    assert pip_missing(wanted, installed) == wanted
    assert pip_missing(["kubernetes==37.0.2"], []) == ["kubernetes==37.0.2"]


def test_pip_missing_refuses_what_is_not_a_pin():
    with pytest.raises(AnsibleFilterError, match="NAME==VERSION"):
        pip_missing(["kubernetes"], [])
    with pytest.raises(AnsibleFilterError, match="list of NAME==VERSION"):
        pip_missing("kubernetes==1", [])
