"""The action plugin on the controller: real ansible-vault decryption through DataLoader, temp file hygiene,
bad input failing before the module runs, and what the module receives."""

import base64
import os
import re
import stat
from unittest.mock import MagicMock

import ansible.constants as C
import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultLib, VaultSecret
from ansible_collections.baremetal.k8s.plugins.action import k8s_secret_files as action_mod
from ansible_collections.baremetal.k8s.plugins.module_utils.secret_files import SecretInputError

VAULT_PASSWORD = b"unit-test-vault-password"
PLAIN = b"vaulted-pg-password\n"


@pytest.fixture
def local_tmp(tmp_path, monkeypatch):
    d = tmp_path / "local_tmp"
    d.mkdir()
    monkeypatch.setattr(C, "DEFAULT_LOCAL_TMP", str(d))
    return d


@pytest.fixture
def loader():
    dl = DataLoader()
    dl.set_vault_secrets([("default", VaultSecret(VAULT_PASSWORD))])
    return dl


def encrypt(path, data):
    vault = VaultLib([("default", VaultSecret(VAULT_PASSWORD))])
    path.write_bytes(vault.encrypt(data))


def make_action(loader, args, search_path):
    task = MagicMock()
    task.args = args
    task.async_val = 0
    task.check_mode = False
    task.action = "baremetal.k8s.k8s_secret_files"
    task.get_search_path.return_value = [str(search_path)]
    connection = MagicMock()
    connection._shell.tmpdir = None
    return action_mod.ActionModule(task, connection, MagicMock(), loader, MagicMock())


def test_vault_file_decrypted_through_0600_temp_file_that_is_removed(tmp_path, loader, local_tmp, monkeypatch):
    secret = tmp_path / "PG_PASS.secret"
    encrypt(secret, PLAIN)
    assert PLAIN not in secret.read_bytes()
    seen = []
    create = loader._create_content_tempfile

    def spy(content):
        path = create(content)
        seen.append((path, stat.S_IMODE(os.stat(path).st_mode)))
        return path

    monkeypatch.setattr(loader, "_create_content_tempfile", spy)
    action = make_action(loader, {}, tmp_path)
    assert action._read(str(secret)) == PLAIN
    assert len(seen) == 1 and seen[0][1] == 0o600
    assert not os.path.exists(seen[0][0]) and list(local_tmp.iterdir()) == []


def test_temp_file_removed_when_reading_fails(tmp_path, loader, local_tmp, monkeypatch):
    secret = tmp_path / "x.secret"
    encrypt(secret, PLAIN)

    def broken_open(path, mode="r"):
        assert os.path.exists(path)  # the decrypted temp file exists at this point
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(action_mod, "open", broken_open, raising=False)
    with pytest.raises(SecretInputError, match="Input/output error"):
        make_action(loader, {}, tmp_path)._read(str(secret))
    assert list(local_tmp.iterdir()) == []


def test_plain_file_needs_no_temp_file(tmp_path, loader, local_tmp):
    secret = tmp_path / "plain.secret"
    secret.write_bytes(b"plain\n")
    assert make_action(loader, {}, tmp_path)._read(str(secret)) == b"plain\n"
    assert list(local_tmp.iterdir()) == []


def test_vault_without_password_is_a_clear_error(tmp_path, local_tmp):
    secret = tmp_path / "x.secret"
    encrypt(secret, PLAIN)
    with pytest.raises(SecretInputError, match="cannot read .*x.secret: A vault password or secret must be specified"):
        make_action(DataLoader(), {}, tmp_path)._read(str(secret))


def test_vault_wrong_password(tmp_path, local_tmp):
    secret = tmp_path / "x.secret"
    encrypt(secret, PLAIN)
    other = DataLoader()
    other.set_vault_secrets([("default", VaultSecret(b"wrong"))])
    with pytest.raises(SecretInputError, match="cannot read .*x.secret") as err:
        make_action(other, {}, tmp_path)._read(str(secret))
    assert PLAIN.strip().decode() not in str(err.value)
    assert list(local_tmp.iterdir()) == []


def test_run_passes_base64_data_and_returns_no_values(tmp_path, loader, local_tmp, monkeypatch):
    d = tmp_path / "secrets"
    d.mkdir()
    encrypt(d / "PG_PASS.secret", PLAIN)
    (d / "PG_PASS.secret.example").write_bytes(b"changeme\n")
    (d / "PG_HOST.secret").write_bytes(b"db\n")
    calls = []

    def fake_execute(module_name, module_args, task_vars):
        calls.append((module_name, module_args))
        return {"changed": True, "keys": sorted(module_args["data"])}

    action = make_action(loader, {"name": "s", "namespace": "ns", "directory": str(d), "kubeconfig": "/k"}, tmp_path)
    monkeypatch.setattr(action, "_execute_module", fake_execute)
    result = action.run(task_vars={})
    ((name, args),) = calls
    assert name == "baremetal.k8s.k8s_secret_files"
    assert args["data"] == {
        "PG_PASS.secret": base64.b64encode(PLAIN[:-1]).decode(),
        "PG_HOST.secret": base64.b64encode(b"db").decode(),
    }
    assert args["kubeconfig"] == "/k" and args["type"] == "Opaque" and "directory" not in args
    assert result["sources"] == {
        "PG_HOST.secret": str(d / "PG_HOST.secret"),
        "PG_PASS.secret": str(d / "PG_PASS.secret"),
    }
    assert "vaulted-pg-password" not in repr(result)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ({"directory": "missing-dir"}, "secret directory missing-dir not found"),
        ({"literals": {"bad key": "hunter2-literal"}}, "invalid|may only contain"),
        ({"literals": {"k": ""}}, r"empty value for key\(s\): k"),
        (
            {"literals": {"k": "v"}, "registries": [{"server": "r", "username": "u", "password": "hunter2-literal"}]},
            "mutually exclusive",
        ),
        ({"literals": {"k": "v"}, "state": "gone"}, "state"),
    ],
)
@pytest.mark.usefixtures("local_tmp")
def test_bad_input_never_reaches_the_module(tmp_path, loader, monkeypatch, args, match):
    action = make_action(loader, dict({"name": "s"}, **args), tmp_path)
    monkeypatch.setattr(action, "_execute_module", MagicMock(side_effect=AssertionError("module must not run")))
    result = action.run(task_vars={})
    assert result["failed"] and not result["changed"]
    assert re.search(match, result["msg"])
    assert "hunter2-literal" not in repr(result)


def test_absent_reads_nothing(tmp_path, loader, monkeypatch):
    calls = []
    action = make_action(loader, {"name": "s", "state": "absent", "directory": "not-read"}, tmp_path)
    monkeypatch.setattr(action, "_execute_module", lambda **kw: calls.append(kw["module_args"]) or {"changed": False})
    action.run(task_vars={})
    assert calls and "data" not in calls[0] and calls[0]["state"] == "absent"


def test_os_error_reason_surfaces(tmp_path, loader, monkeypatch):
    secret = tmp_path / "x.secret"
    secret.write_bytes(b"x")
    real_open = open

    def deny(path, mode="r", *args, **kwargs):
        if str(path) == str(secret):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", deny)
    with pytest.raises(SecretInputError, match=r"cannot read .*x.secret: Permission denied"):
        make_action(loader, {}, tmp_path)._read(str(secret))


@pytest.mark.usefixtures("local_tmp")
def test_several_secrets_in_one_module_run_inherit_the_task_options(tmp_path, loader, monkeypatch):
    calls = []

    def fake_execute(module_name, module_args, task_vars):
        calls.append(module_args)
        return {"changed": False, "results": [{"name": i["name"]} for i in module_args["secrets"]]}

    args = {
        "namespace": "apps",
        "labels": {"team": "a"},
        "create_namespace": True,
        "secrets": [
            {"name": "db", "literals": {"password": "hunter2-literal"}},
            {"name": "reg", "namespace": "other", "registries": [{"server": "r", "username": "u", "password": "p"}]},
        ],
    }
    action = make_action(loader, args, tmp_path)
    monkeypatch.setattr(action, "_execute_module", fake_execute)
    result = action.run(task_vars={})
    ((sent,),) = [calls]
    assert sent["create_namespace"] is True and "name" not in sent
    db, reg = sent["secrets"]
    assert (db["name"], db["namespace"], db["labels"], db["type"]) == ("db", "apps", {"team": "a"}, "Opaque")
    assert base64.b64decode(db["data"]["password"]) == b"hunter2-literal"
    assert (reg["namespace"], reg["type"], list(reg["data"])) == (
        "other",
        "kubernetes.io/dockerconfigjson",
        [".dockerconfigjson"],
    )
    assert [r["sources"] for r in result["results"]] == [{"password": "literals"}, {".dockerconfigjson": "registries"}]
    assert "hunter2-literal" not in repr(result)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (
            {"secrets": [{"name": "a", "literals": {"k": "v"}}, {"name": "b", "literals": {"k": ""}}]},
            r"secrets\[1\] \(b\): empty value",
        ),
        (
            {"literals": {"k": "hunter2-literal"}, "secrets": [{"name": "a", "literals": {"k": "v"}}]},
            "mutually exclusive",
        ),
        ({"name": "x", "secrets": [{"name": "a", "literals": {"k": "v"}}]}, "mutually exclusive"),
        ({"secrets": [{"literals": {"k": "hunter2-literal"}}]}, "name"),
        ({"namespace": "n"}, "one of the following is required: name, secrets"),
    ],
)
@pytest.mark.usefixtures("local_tmp")
def test_bad_secrets_items_never_reach_the_module(tmp_path, loader, monkeypatch, args, match):
    action = make_action(loader, args, tmp_path)
    monkeypatch.setattr(action, "_execute_module", MagicMock(side_effect=AssertionError("module must not run")))
    result = action.run(task_vars={})
    assert result["failed"] and re.search(match, result["msg"]), result["msg"]
    assert "hunter2-literal" not in repr(result)
