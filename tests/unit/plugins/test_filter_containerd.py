"""containerd's config.toml/hosts.toml as data, and the TOML writer (read back with Python's tomllib)."""

import tomllib

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.baremetal.k8s.plugins.filter.containerd import FilterModule

F = FilterModule().filters()
PAUSE = "registry.k8s.io/pause:3.10"


def roundtrip(doc):
    return tomllib.loads(F["to_toml"](doc))


def test_version_2_has_the_cri_settings_kubeadm_needs():
    doc = roundtrip(F["containerd_config"](2, PAUSE))
    cri = doc["plugins"]["io.containerd.grpc.v1.cri"]
    assert doc["version"] == 2
    assert cri["sandbox_image"] == PAUSE
    assert cri["containerd"]["default_runtime_name"] == "runc"
    runc = cri["containerd"]["runtimes"]["runc"]
    assert runc == {"runtime_type": "io.containerd.runc.v2", "options": {"SystemdCgroup": True}}
    assert cri["cni"] == {"bin_dir": "/opt/cni/bin", "conf_dir": "/etc/cni/net.d"}
    assert cri["registry"] == {"config_path": "/etc/containerd/certs.d"}
    assert set(doc["plugins"]) == {"io.containerd.grpc.v1.cri"}


def test_version_3_splits_images_and_runtime():
    doc = roundtrip(F["containerd_config"](3, PAUSE, cni_bin_dir="/usr/lib/cni"))
    images = doc["plugins"]["io.containerd.cri.v1.images"]
    runtime = doc["plugins"]["io.containerd.cri.v1.runtime"]
    assert doc["version"] == 3
    assert images == {"pinned_images": {"sandbox": PAUSE}, "registry": {"config_path": "/etc/containerd/certs.d"}}
    assert runtime["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is True
    assert runtime["cni"] == {"bin_dirs": ["/usr/lib/cni"], "conf_dir": "/etc/cni/net.d"}
    assert "sandbox_image" not in str(doc)


@pytest.mark.parametrize(("version", "table"), [(2, "io.containerd.grpc.v1.cri"), (3, "io.containerd.cri.v1.runtime")])
def test_cri_options_land_in_the_runtime_table_and_overrides_win(version, table):
    doc = roundtrip(
        F["containerd_config"](
            version,
            PAUSE,
            systemd_cgroup=False,
            cri_options={"restrict_oom_score_adj": True, "containerd": {"snapshotter": "native"}},
            overrides={"root": "/data/containerd", "plugins": {table: {"restrict_oom_score_adj": False}}},
        )
    )
    cri = doc["plugins"][table]
    assert cri["restrict_oom_score_adj"] is False
    assert cri["containerd"]["snapshotter"] == "native"
    assert cri["containerd"]["default_runtime_name"] == "runc"  # merged, not replaced
    assert cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is False
    assert doc["root"] == "/data/containerd"


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3", 2),
        ("containerd containerd.io 1.7.28 b98a3aace656320842a23f4a392a33f46af97866", 2),
        ("containerd github.com/containerd/containerd/v2 v2.1.4 lab", 3),
        ("2.1.4", 3),
        ("1.7.0", 2),
    ],
)
def test_config_version_follows_the_major(text, version):
    assert F["containerd_config_version"](text) == version


@pytest.mark.parametrize("text", ["3.0.0", "containerd", "", "v2"])
def test_config_version_refuses_unknown(text):
    with pytest.raises(AnsibleFilterError, match="containerd_config_version"):
        F["containerd_config_version"](text)


def test_config_refuses_other_versions():
    with pytest.raises(AnsibleFilterError, match="config version must be 2"):
        F["containerd_config"](1, PAUSE)


def test_hosts_toml_for_a_plain_http_registry_and_a_mirror():
    # containerd 1.6 needs the plain-HTTP server as a host entry too, or it resolves it over HTTPS
    assert roundtrip(F["containerd_hosts"]({"server": "http://10.77.0.1:5000"})) == {
        "server": "http://10.77.0.1:5000",
        "host": {"http://10.77.0.1:5000": {"capabilities": ["pull", "resolve"]}},
    }
    own = {"http://10.77.0.1:5000": {"capabilities": ["pull"], "skip_verify": True}}
    assert roundtrip(F["containerd_hosts"]({"server": "http://10.77.0.1:5000", "hosts": own}))["host"] == own
    doc = roundtrip(
        F["containerd_hosts"](
            {
                "server": "https://registry-1.docker.io",
                "hosts": {"https://mirror.example:5000": {"capabilities": ["pull", "resolve"], "skip_verify": True}},
            }
        )
    )
    assert doc == {
        "server": "https://registry-1.docker.io",
        "host": {"https://mirror.example:5000": {"capabilities": ["pull", "resolve"], "skip_verify": True}},
    }


@pytest.mark.parametrize(
    ("entry", "message"),
    [({}, "needs server or hosts"), ({"mirrors": []}, "unknown registry keys mirrors"), ("x", "must be a dict")],
)
def test_hosts_refuses_bad_entries(entry, message):
    with pytest.raises(AnsibleFilterError, match=message):
        F["containerd_hosts"](entry)


def test_toml_quotes_keys_and_escapes_strings():
    doc = {"a": 1, "f": 0.5, "s": 'quote " and \\ and \n', "l": [1, "x"], "t": {"dotted.key": {"x": True}, "empty": {}}}
    assert roundtrip(doc) == doc
    text = F["to_toml"](doc)
    assert '[t."dotted.key"]' in text
    assert text.index("a = 1") < text.index("[t")  # root scalars before any table


def test_toml_refuses_what_it_cannot_write():
    with pytest.raises(AnsibleFilterError, match="t.x: cannot write a NoneType"):
        F["to_toml"]({"t": {"x": None}})
    with pytest.raises(AnsibleFilterError, match="arrays of tables"):
        F["to_toml"]({"t": [{"x": 1}]})
