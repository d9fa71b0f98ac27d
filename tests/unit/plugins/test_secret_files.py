"""Pure rules of secret files: newline stripping, key names and validation, dockerconfigjson, comparison, scrub."""

import base64
import json

import pytest
from ansible_collections.baremetal.k8s.plugins.module_utils import secret_files as sf


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"s3cret\n", b"s3cret"),
        (b"s3cret\r\n", b"s3cret"),
        (b"s3cret\n\n", b"s3cret\n"),  # exactly one line ending
        (b"s3cret\r\n\r\n", b"s3cret\r\n"),
        (b"s3cret", b"s3cret"),
        (b"s3cret ", b"s3cret "),  # other whitespace is data
        (b"s3cret\r", b"s3cret\r"),  # a lone CR is not a line ending
        (b"\n", b""),
        (b"", b""),
    ],
)
def test_strip_one_newline(raw, expected):
    assert sf.strip_one_newline(raw) == expected


@pytest.mark.parametrize(
    ("name", "mode", "expected"),
    [
        ("PG_PASS.secret", "auto", True),
        ("dir/PG_PASS.secret", "auto", True),
        ("gcp-credentials.json", "auto", False),
        ("PG_PASS.secret.example", "auto", False),
        ("gcp-credentials.json", "always", True),
        ("PG_PASS.secret", "never", False),
    ],
)
def test_should_strip(name, mode, expected):
    assert sf.should_strip(name, mode) is expected


def test_should_strip_rejects_unknown_mode():
    with pytest.raises(sf.SecretInputError, match="strip_newline"):
        sf.should_strip("a.secret", "sometimes")


@pytest.mark.parametrize(
    ("path", "naming", "key"),
    [
        ("secrets/PG_PASS.secret", "filename", "PG_PASS.secret"),  # kubectl --from-file and DevStats
        ("secrets/PG_PASS.secret", "stem", "PG_PASS"),
        ("/a/b/gcp-credentials.json", "stem", "gcp-credentials"),
        ("/a/b/api_key", "stem", "api_key"),
        (".dockerconfigjson", "stem", ".dockerconfigjson"),  # a dotfile has no suffix to drop
        ("a/tls.crt.secret", "stem", "tls.crt"),
    ],
)
def test_key_for_path(path, naming, key):
    assert sf.key_for_path(path, naming) == key


@pytest.mark.parametrize(
    "key", ["PG_PASS.secret", "api_key", "gcp-credentials.json", ".dockerconfigjson", "a", "x" * 253, "a..b", ".a"]
)
def test_valid_keys(key):
    assert sf.key_error(key) is None


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("", "non-empty"),
        ("x" * 254, "longer than 253"),
        ("has space", "may only contain"),
        ("slash/key", "may only contain"),
        ("colon:key", "may only contain"),
        ("ünicode", "may only contain"),
        (".", "must not be"),
        ("..", "must not be"),
        ("..data", "must not be"),
    ],
)
def test_invalid_keys(key, reason):
    assert reason in sf.key_error(key)


def test_validate_keys_lists_every_bad_key():
    with pytest.raises(sf.SecretInputError) as err:
        sf.validate_keys(["good", "bad key", "..x"])
    assert "'bad key'" in str(err.value) and "'..x'" in str(err.value) and "'good'" not in str(err.value)


def test_select_files_ignores_examples_by_default():
    names = ["PG_PASS.secret", "PG_PASS.secret.example", "README.md", "GHA.secret", "x.secret.bak"]
    assert sf.select_files(names) == ["GHA.secret", "PG_PASS.secret"]
    assert sf.select_files(names, "*", ["*.example", "*.md"]) == ["GHA.secret", "PG_PASS.secret", "x.secret.bak"]


def test_example_target():
    assert sf.example_target("PG_PASS.secret.example") == "PG_PASS.secret"
    assert sf.example_target("notes.example") is None


@pytest.mark.parametrize(
    ("value", "example", "same"),
    [
        (b"changeme", b"changeme\n", True),
        (b"changeme\r\n", b"changeme", True),
        (b"  changeme  \n", b"changeme", True),
        (b"real-password", b"changeme\n", False),
        (b"changeme", None, False),
    ],
)
def test_is_example_value(value, example, same):
    assert sf.is_example_value(value, example) is same


def test_missing_required_keeps_order():
    assert sf.missing_required(["b", "a", "c"], {"c": 1}) == ["b", "a"]


def test_dockerconfigjson_matches_kubectl_layout():
    doc = json.loads(sf.dockerconfigjson([{"server": "reg.example:5000", "username": "u", "password": "p@ss"}]))
    entry = doc["auths"]["reg.example:5000"]
    assert entry == {"username": "u", "password": "p@ss", "auth": base64.b64encode(b"u:p@ss").decode()}
    assert "email" not in entry


def test_dockerconfigjson_mapping_form_and_email():
    doc = json.loads(sf.dockerconfigjson({"r1": {"username": "a", "password": "b", "email": "a@x"}}))
    assert doc["auths"]["r1"]["email"] == "a@x"


def test_dockerconfigjson_non_ascii_credentials():
    doc = json.loads(sf.dockerconfigjson([{"server": "r", "username": "ü", "password": "pä"}]))
    assert base64.b64decode(doc["auths"]["r"]["auth"]).decode("utf-8") == "ü:pä"


@pytest.mark.parametrize(
    ("registries", "match"),
    [
        ([], "non-empty list"),
        ([{"server": "r", "username": "u"}], "'password'"),
        ([{"server": "", "username": "u", "password": "p"}], "'server'"),
        ([{"server": "r", "username": "u", "password": "p"}] * 2, "listed twice"),
        (["r"], "mapping"),
    ],
)
def test_dockerconfigjson_bad_input(registries, match):
    with pytest.raises(sf.SecretInputError, match=match) as err:
        sf.dockerconfigjson(registries)
    assert "'p'" not in str(err.value)


def test_same_value_compares_dockerconfigjson_as_json():
    a = b'{"auths":{"r":{"username":"u","password":"p","auth":"dTpw"}}}'
    b = b'{ "auths": { "r": { "auth": "dTpw", "password": "p", "username": "u" } } }\n'
    assert sf.same_value(".dockerconfigjson", a, b)
    assert not sf.same_value("other", a, b)  # other keys compare bytes
    assert not sf.same_value(".dockerconfigjson", a, b"not json")


def test_compare_data():
    current = {"a": b"1", "b": b"2", "c": b"3"}
    desired = {"a": b"1", "b": b"20", "d": b"4"}
    assert sf.compare_data(current, desired) == (["d"], ["b"], ["c"])
    assert sf.compare_data(current, desired, prune=False) == (["d"], ["b"], [])


def test_encode_decode_roundtrip_binary():
    data = {"bin": bytes(range(256)), "empty": b""}
    assert sf.decode_data(sf.encode_data(data)) == data


def test_keys_diff_has_names_only():
    before, after = sf.keys_diff(["a", "b"], ["b", "c"], ["b"])
    assert before == "a: (unchanged)\nb: (current value)\n"
    assert after == "b: (new value)\nc: (unchanged)\n"


def test_scrub_masks_text_base64_and_json_forms():
    value = 'pa"ss\\word'
    message = "x %s y %s z %s" % (value, base64.b64encode(value.encode()).decode(), json.dumps(value)[1:-1])
    scrubbed = sf.scrub(message, [value.encode()])
    assert scrubbed == "x ******** y ******** z ********"
