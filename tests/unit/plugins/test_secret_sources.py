"""collect(): directory/files/literals/registries, required keys from examples, example values, empty values."""

import json
import os

import pytest
from ansible_collections.baremetal.k8s.plugins.module_utils.secret_files import SecretInputError
from ansible_collections.baremetal.k8s.plugins.module_utils.secret_sources import collect

DEFAULTS = {
    "glob": "*.secret",
    "exclude": ["*.secret.example"],
    "key_naming": "filename",
    "strip_newline": "auto",
    "required_keys": [],
    "required_from_examples": True,
    "allow_example_values": False,
    "allow_empty": False,
}


class Reader:
    """resolve/read for a temp dir; records what was read."""

    def __init__(self, base):
        self.base = base
        self.read_paths = []

    def resolve(self, path, kind):
        full = os.path.join(str(self.base), path)
        if not os.path.exists(full):
            raise SecretInputError("secret %s %s not found" % (kind, path))
        return full

    def read(self, path):
        self.read_paths.append(path)
        with open(path, "rb") as handle:
            return handle.read()


def run(tmp_path, **args):
    reader = Reader(tmp_path)
    return collect(dict(DEFAULTS, **args), reader.resolve, reader.read), reader


def collected(tmp_path, **args):
    return run(tmp_path, **args)[0]


@pytest.fixture
def devstats(tmp_path):
    d = tmp_path / "secrets"
    d.mkdir()
    for name, value, example in [
        ("PG_PASS.secret", b"pg-pw-1\n", b"password\n"),
        ("PG_HOST.secret", b"db.example\r\n", b"127.0.0.1\n"),
        ("GHA2DB_GITHUB_OAUTH.secret", b"tok1,tok2", b"token\n"),
    ]:
        (d / name).write_bytes(value)
        (d / (name + ".example")).write_bytes(example)
    (d / "README.md").write_text("not a secret")
    (d / "sub.secret").mkdir()  # directories are skipped like kubectl --from-file=DIR
    return tmp_path


def test_directory_keys_keep_suffix_and_strip_one_newline(devstats):
    got = collected(devstats, directory="secrets")
    assert got.data == {
        "GHA2DB_GITHUB_OAUTH.secret": b"tok1,tok2",
        "PG_HOST.secret": b"db.example",
        "PG_PASS.secret": b"pg-pw-1",
    }
    assert got.type == "Opaque"


def test_directory_stem_naming(devstats):
    got = collected(devstats, directory="secrets", key_naming="stem")
    assert sorted(got.data) == ["GHA2DB_GITHUB_OAUTH", "PG_HOST", "PG_PASS"]


def test_strip_never_keeps_bytes(devstats):
    got = collected(devstats, directory="secrets", strip_newline="never")
    assert got.data["PG_PASS.secret"] == b"pg-pw-1\n"


def test_missing_secret_named_with_example_to_copy(devstats):
    os.remove(devstats / "secrets" / "PG_PASS.secret")
    with pytest.raises(SecretInputError) as err:
        run(devstats, directory="secrets")
    msg = str(err.value)
    assert "missing required key(s): PG_PASS.secret" in msg
    assert "copy secrets/PG_PASS.secret.example to secrets/PG_PASS.secret" in msg


def test_missing_check_runs_before_any_read(devstats):
    os.remove(devstats / "secrets" / "PG_PASS.secret")
    reader = Reader(devstats)
    with pytest.raises(SecretInputError):
        collect(dict(DEFAULTS, directory="secrets"), reader.resolve, reader.read)
    assert reader.read_paths == []


def test_required_from_examples_can_be_off(devstats):
    os.remove(devstats / "secrets" / "PG_PASS.secret")
    got = collected(devstats, directory="secrets", required_from_examples=False)
    assert "PG_PASS.secret" not in got.data


def test_required_keys(devstats):
    with pytest.raises(SecretInputError, match="missing required key.*GF_SECURITY_ADMIN_PASSWORD.secret, other"):
        run(
            devstats,
            directory="secrets",
            required_keys=["PG_PASS.secret", "GF_SECURITY_ADMIN_PASSWORD.secret", "other"],
        )


def test_example_value_left_unchanged_is_refused(devstats):
    (devstats / "secrets" / "PG_PASS.secret").write_bytes(b"password")
    with pytest.raises(SecretInputError, match="PG_PASS.secret still holds the example value") as err:
        run(devstats, directory="secrets")
    assert "password" not in str(err.value).replace("put the real value", "")


def test_example_value_allowed(devstats):
    (devstats / "secrets" / "PG_PASS.secret").write_bytes(b"password")
    got = collected(devstats, directory="secrets", allow_example_values=True)
    assert got.data["PG_PASS.secret"] == b"password"


def test_empty_value_refused_and_allowed(devstats):
    (devstats / "secrets" / "PG_HOST.secret").write_bytes(b"\n")
    with pytest.raises(SecretInputError, match=r"empty value for key\(s\): PG_HOST.secret"):
        run(devstats, directory="secrets")
    got = collected(devstats, directory="secrets", allow_empty=True)
    assert got.data["PG_HOST.secret"] == b""


def test_missing_directory(tmp_path):
    with pytest.raises(SecretInputError, match="secret directory nope not found"):
        run(tmp_path, directory="nope")


def test_directory_is_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(SecretInputError, match="is not a directory"):
        run(tmp_path, directory="f")


def test_directory_without_matching_files(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.txt").write_text("x")
    with pytest.raises(SecretInputError, match=r"no file in secret directory d matches \*.secret"):
        run(tmp_path, directory="d")


def test_files_with_keys_and_json_kept_byte_for_byte(tmp_path):
    (tmp_path / "gcp.json").write_bytes(b'{"type": "service_account"}\n')
    (tmp_path / "api.secret").write_bytes(b"k-123\n")
    got = collected(
        tmp_path,
        files=[
            {"path": "gcp.json", "key": "gcp-credentials.json"},
            "api.secret",
            {"path": "api.secret", "key": "raw", "strip_newline": False},
        ],
    )
    assert got.data == {
        "gcp-credentials.json": b'{"type": "service_account"}\n',
        "api.secret": b"k-123",
        "raw": b"k-123\n",
    }


def test_file_example_sibling_detected(tmp_path):
    (tmp_path / "api.secret").write_bytes(b"changeme\n")
    (tmp_path / "api.secret.example").write_bytes(b"changeme\n")
    with pytest.raises(SecretInputError, match="still holds the example value"):
        run(tmp_path, files=["api.secret"])


def test_file_problems(tmp_path):
    (tmp_path / "adir").mkdir()
    with pytest.raises(SecretInputError, match="not a regular file"):
        run(tmp_path, files=["adir"])
    with pytest.raises(SecretInputError, match="secret file missing.secret not found"):
        run(tmp_path, files=["missing.secret"])
    with pytest.raises(SecretInputError, match="unknown field"):
        run(tmp_path, files=[{"path": "x", "mode": "0600"}])
    with pytest.raises(SecretInputError, match=r"files\[0\] must be"):
        run(tmp_path, files=[{"key": "x"}])


def test_unreadable_file_reported_without_content(tmp_path):
    (tmp_path / "a.secret").write_bytes(b"value-a")

    def deny(path):
        raise PermissionError(13, "Permission denied", path)

    reader = Reader(tmp_path)
    with pytest.raises(SecretInputError, match="cannot read .*a.secret: Permission denied"):
        collect(dict(DEFAULTS, files=["a.secret"]), reader.resolve, deny)


def test_literals(tmp_path):
    got = collected(tmp_path, literals={"api_key": "abc\n", "port": 5432})
    assert got.data == {"api_key": b"abc\n", "port": b"5432"}  # literals are never stripped


@pytest.mark.parametrize("value", [None, True, {"a": 1}, [1]])
def test_literal_bad_types(tmp_path, value):
    with pytest.raises(SecretInputError, match="literal 'k' must be a string or a number"):
        run(tmp_path, literals={"k": value})


def test_bad_key_names_fail_before_reading(tmp_path):
    (tmp_path / "ok.secret").write_bytes(b"x")
    reader = Reader(tmp_path)
    with pytest.raises(SecretInputError) as err:
        collect(
            dict(DEFAULTS, files=[{"path": "ok.secret", "key": "bad/key"}], literals={"..x": "v"}),
            reader.resolve,
            reader.read,
        )
    assert "'bad/key'" in str(err.value) and "'..x'" in str(err.value)
    assert reader.read_paths == []


def test_duplicate_keys(tmp_path):
    (tmp_path / "api_key").write_bytes(b"x")
    with pytest.raises(SecretInputError, match="key 'api_key' comes from both"):
        run(tmp_path, files=["api_key"], literals={"api_key": "y"})


def test_registries_make_dockerconfigjson(tmp_path):
    got = collected(tmp_path, registries=[{"server": "r:5000", "username": "u", "password": "p"}])
    assert got.type == "kubernetes.io/dockerconfigjson"
    assert json.loads(got.data[".dockerconfigjson"])["auths"]["r:5000"]["username"] == "u"


def test_registries_refuse_other_type(tmp_path):
    with pytest.raises(SecretInputError, match="not Opaque"):
        run(tmp_path, type="Opaque", registries=[{"server": "r", "username": "u", "password": "p"}])


def test_no_source(tmp_path):
    with pytest.raises(SecretInputError, match="no secret source"):
        run(tmp_path)


def test_explicit_type_kept(tmp_path):
    got = collected(tmp_path, type="kubernetes.io/basic-auth", literals={"username": "u", "password": "p"})
    assert got.type == "kubernetes.io/basic-auth"
