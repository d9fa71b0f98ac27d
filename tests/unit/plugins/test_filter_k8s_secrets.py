"""The filters templates use: dockerconfigjson, secret_key, strip_newline."""

import base64
import json

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.baremetal.k8s.plugins.filter.k8s_secrets import FilterModule

F = FilterModule().filters()


def test_dockerconfigjson():
    out = F["dockerconfigjson"]([{"server": "registry.lab:5000", "username": "ci", "password": "pw:1"}])
    assert json.loads(out) == {
        "auths": {
            "registry.lab:5000": {"username": "ci", "password": "pw:1", "auth": base64.b64encode(b"ci:pw:1").decode()}
        }
    }


def test_dockerconfigjson_error_does_not_echo_password():
    with pytest.raises(AnsibleFilterError) as err:
        F["dockerconfigjson"]([{"server": "r", "password": "hunter2"}])
    assert "hunter2" not in str(err.value)


@pytest.mark.parametrize(
    ("path", "naming", "key"),
    [
        ("secrets/PG_PASS.secret", "filename", "PG_PASS.secret"),
        ("secrets/PG_PASS.secret", "stem", "PG_PASS"),
    ],
)
def test_secret_key(path, naming, key):
    assert F["secret_key"](path, naming) == key


@pytest.mark.parametrize("path", ["dir/bad name.secret", "dir/..x"])
def test_secret_key_invalid(path):
    with pytest.raises(AnsibleFilterError, match="secret_key"):
        F["secret_key"](path)


@pytest.mark.parametrize(("value", "out"), [("a\n", "a"), ("a\r\n", "a"), ("a\n\n", "a\n"), ("a ", "a "), ("a", "a")])
def test_strip_newline(value, out):
    assert F["strip_newline"](value) == out
    assert F["strip_newline"](value.encode()) == out.encode()
