"""baremetal.k8s.k8s_secret_files against the lab's real kube-apiserver, driven by real ansible-playbook runs.

Covers: create, second run changed=0, one changed file updates one key, removed file removes its key, check mode
(no write, key names in the diff), state absent, registry credentials compared as JSON with a Secret laid out like
kubectl's, removal of a kubectl last-applied annotation, ansible-vault files, bad input that fails and writes
nothing, and a leak test: every secret value, its base64 and its JSON-escaped forms are absent from -vvv output.

They need the lab's control plane up (labenv.require): when it is not, they fail with the command that brings it
up (they never skip, and never build the lab themselves).
"""

import base64
import json
import os
import shutil
import stat
import subprocess
import uuid
from pathlib import Path

import labenv
import pytest
from ansible.parsing.vault import VaultLib, VaultSecret
from leaks import secret_forms

REPO = labenv.REPO
VENV_BIN = REPO / ".venv" / "bin"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "secrets"
MODULE = "baremetal.k8s.k8s_secret_files"
VAULT_PASSWORD = "it-vault-7c1e-password"
DEVSTATS_KEYS = [
    "GF_SECURITY_ADMIN_PASSWORD.secret",
    "GHA2DB_GITHUB_OAUTH.secret",
    "PG_HOST.secret",
    "PG_PASS.secret",
]


# ---------------------------------------------------------------- lab and helpers


@pytest.fixture(scope="module")
def lab():
    return labenv.require("controlplane")


def kubectl(lab, *args, stdin=None, check=True):
    cmd = [lab["LAB_KUBECTL"], "--kubeconfig", lab["KUBECONFIG"], *args]
    res = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=120, check=False)
    if check and res.returncode != 0:
        raise AssertionError("kubectl %s failed: %s" % (" ".join(args), res.stderr))
    return res


@pytest.fixture
def namespace(lab):
    name = "secret-it-%s" % uuid.uuid4().hex[:8]
    kubectl(lab, "create", "namespace", name)
    yield name
    kubectl(lab, "delete", "namespace", name, "--wait=false", check=False)


def get_secret(lab, namespace, name):
    """The live Secret as JSON (None when absent), with data decoded to bytes under `decoded`."""
    res = kubectl(lab, "get", "secret", name, "-n", namespace, "-o", "json", check=False)
    if res.returncode != 0:
        assert "NotFound" in res.stderr, res.stderr
        return None
    obj = json.loads(res.stdout)
    obj["decoded"] = {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
    return obj


def secret_names(lab, namespace):
    out = kubectl(lab, "get", "secrets", "-n", namespace, "-o", "json").stdout
    return sorted(item["metadata"]["name"] for item in json.loads(out)["items"])


class Runner:
    """Writes a one-play playbook and runs the real ansible-playbook on localhost with the lab's kubeconfig."""

    def __init__(self, lab, workdir):
        self.lab = lab
        self.workdir = workdir
        self.local_tmp = workdir / "ansible-local-tmp"
        self.local_tmp.mkdir(exist_ok=True)
        self.vault_file = workdir / "vault-password"
        self.vault_file.write_text(VAULT_PASSWORD)
        self.vault_file.chmod(0o600)
        self.count = 0

    def play(self, tasks, vars_file=None):
        play = {
            "name": "k8s_secret_files integration",
            "hosts": "localhost",
            "gather_facts": False,
            "module_defaults": {"group/baremetal.k8s.k8s": {"kubeconfig": self.lab["KUBECONFIG"]}},
            "tasks": tasks,
        }
        if vars_file:
            play["vars_files"] = [str(vars_file)]
        return [play]

    def run(self, tasks, *args, json_callback=True, vault=True, variables=None):
        """Run tasks; `variables` go to a vars file (0600) as real secrets would, not into the playbook text."""
        self.count += 1
        playbook = self.workdir / ("play-%d.yml" % self.count)
        vars_file = None
        if variables:
            vars_file = self.workdir / ("vars-%d.yml" % self.count)
            vars_file.touch(mode=0o600)
            vars_file.write_text(json.dumps(variables))
        playbook.write_text(json.dumps(self.play(tasks, vars_file), indent=2))  # JSON is YAML
        env = {k: v for k, v in os.environ.items() if not k.startswith(("K8S_AUTH_", "ANSIBLE_")) and k != "KUBECONFIG"}
        env.update(
            ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
            ANSIBLE_LOCAL_TEMP=str(self.local_tmp),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_PYTHON_INTERPRETER=str(VENV_BIN / "python"),
        )
        if json_callback:
            env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
        cmd = [str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook), *args]
        if vault:
            cmd[1:1] = ["--vault-password-file", str(self.vault_file)]
        res = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
        return PlayResult(res, json_callback)


class PlayResult:
    def __init__(self, res, parsed):
        self.rc = res.returncode
        self.stdout = res.stdout
        self.stderr = res.stderr
        self.data = None
        if parsed:
            try:
                self.data = json.loads(res.stdout)
            except ValueError as err:
                raise AssertionError(
                    "ansible-playbook output is not JSON: %s\n%s" % (res.stdout[-3000:], res.stderr)
                ) from err

    @property
    def tasks(self):
        return [t["hosts"]["localhost"] for t in self.data["plays"][0]["tasks"]]

    @property
    def changed(self):
        return self.data["stats"]["localhost"]["changed"]

    @property
    def failures(self):
        stats = self.data["stats"]["localhost"]
        return stats["failures"] + stats.get("unreachable", 0)


@pytest.fixture
def runner(lab, tmp_path):
    return Runner(lab, tmp_path)


@pytest.fixture
def devstats_dir(tmp_path):
    """A private copy of the DevStats-style fixture directory, files 0600 as secrets should be."""
    target = tmp_path / "secrets"
    shutil.copytree(FIXTURES / "devstats", target)
    for path in target.iterdir():
        path.chmod(0o600)
    return target


def task(namespace, name="devstats-secrets", **args):
    return {"name": "secret %s" % name, MODULE: dict({"name": name, "namespace": namespace}, **args)}


def ok(result):
    assert result.rc == 0 and result.failures == 0, "playbook failed: %s\n%s" % (
        json.dumps(result.data, indent=1)[-4000:] if result.data else result.stdout[-4000:],
        result.stderr[-2000:],
    )
    return result


# ---------------------------------------------------------------- behaviour


def test_lifecycle_create_idempotent_update_check_remove(lab, runner, namespace, devstats_dir):
    t = task(namespace, directory=str(devstats_dir), labels={"app.kubernetes.io/part-of": "devstats"})

    first = ok(runner.run([t]))
    assert first.changed == 1
    assert first.tasks[0]["method"] == "created" and first.tasks[0]["keys_added"] == DEVSTATS_KEYS
    live = get_secret(lab, namespace, "devstats-secrets")
    assert live["type"] == "Opaque" and sorted(live["decoded"]) == DEVSTATS_KEYS
    assert live["decoded"]["PG_PASS.secret"] == 'pg"pass\\word-Ü-7c1e'.encode()  # one \n stripped
    assert live["decoded"]["GHA2DB_GITHUB_OAUTH.secret"] == b"ghp_leaktoken7c1eAAAA,ghp_leaktoken7c1eBBBB"  # \r\n
    assert live["decoded"]["GF_SECURITY_ADMIN_PASSWORD.secret"] == b"grafana-7c1e-pw\n"  # exactly one stripped
    assert live["metadata"]["labels"] == {"app.kubernetes.io/part-of": "devstats"}
    assert "kubectl.kubernetes.io/last-applied-configuration" not in (live["metadata"].get("annotations") or {})
    version = live["metadata"]["resourceVersion"]

    second = ok(runner.run([t]))
    assert second.changed == 0 and second.tasks[0]["method"] == "unchanged"
    assert get_secret(lab, namespace, "devstats-secrets")["metadata"]["resourceVersion"] == version

    (devstats_dir / "PG_HOST.secret").write_bytes(b"db-7c1e-new.devstats.svc\n")
    check = ok(runner.run([t], "--check", "--diff"))
    assert check.changed == 1 and check.tasks[0]["keys_changed"] == ["PG_HOST.secret"]
    diff = check.tasks[0]["diff"]
    assert "PG_HOST.secret: (current value)" in diff["before"] and "PG_HOST.secret: (new value)" in diff["after"]
    assert "db-7c1e" not in json.dumps(check.data)
    assert get_secret(lab, namespace, "devstats-secrets")["metadata"]["resourceVersion"] == version  # no write

    third = ok(runner.run([t]))
    res = third.tasks[0]
    assert third.changed == 1 and res["method"] == "updated"
    assert (res["keys_added"], res["keys_changed"], res["keys_removed"]) == ([], ["PG_HOST.secret"], [])
    after = get_secret(lab, namespace, "devstats-secrets")
    assert after["decoded"]["PG_HOST.secret"] == b"db-7c1e-new.devstats.svc"
    assert {k: v for k, v in after["decoded"].items() if k != "PG_HOST.secret"} == {
        k: v for k, v in live["decoded"].items() if k != "PG_HOST.secret"
    }
    assert ok(runner.run([t])).changed == 0

    (devstats_dir / "GF_SECURITY_ADMIN_PASSWORD.secret").unlink()
    (devstats_dir / "GF_SECURITY_ADMIN_PASSWORD.secret.example").unlink()
    fourth = ok(runner.run([t]))
    assert fourth.tasks[0]["keys_removed"] == ["GF_SECURITY_ADMIN_PASSWORD.secret"]
    assert "GF_SECURITY_ADMIN_PASSWORD.secret" not in get_secret(lab, namespace, "devstats-secrets")["decoded"]

    absent = task(namespace, state="absent")
    check_absent = ok(runner.run([absent], "--check"))
    assert check_absent.changed == 1 and get_secret(lab, namespace, "devstats-secrets") is not None
    gone = ok(runner.run([absent]))
    assert gone.changed == 1 and gone.tasks[0]["method"] == "deleted"
    assert get_secret(lab, namespace, "devstats-secrets") is None
    assert ok(runner.run([absent])).changed == 0


def test_check_mode_on_new_secret_creates_nothing(lab, runner, namespace, devstats_dir):
    result = ok(runner.run([task(namespace, directory=str(devstats_dir))], "--check", "--diff"))
    assert result.changed == 1 and result.tasks[0]["keys_added"] == DEVSTATS_KEYS
    assert "devstats-secrets" not in secret_names(lab, namespace)


def test_stem_naming_files_and_literals(lab, runner, namespace, devstats_dir, tmp_path):
    gcp = tmp_path / "gcp.json"
    gcp.write_bytes(b'{"type": "service_account", "private_key": "k-7c1e"}\n')
    tasks = [
        task(namespace, name="by-stem", directory=str(devstats_dir), key_naming="stem"),
        task(
            namespace,
            name="exadeploy",
            literals={"api_key": "exa-7c1e-key", "postgres_password": "exa-pg-7c1e"},
            files=[{"path": str(gcp), "key": "gcp-credentials.json"}],
            required_keys=["api_key"],
        ),
    ]
    ok(runner.run(tasks))
    assert sorted(get_secret(lab, namespace, "by-stem")["decoded"]) == sorted(
        k[: -len(".secret")] for k in DEVSTATS_KEYS
    )
    exa = get_secret(lab, namespace, "exadeploy")["decoded"]
    assert exa == {
        "api_key": b"exa-7c1e-key",
        "postgres_password": b"exa-pg-7c1e",
        "gcp-credentials.json": gcp.read_bytes(),  # not a .secret file: byte for byte, newline kept
    }
    assert ok(runner.run(tasks)).changed == 0


def test_registry_secret_matches_kubectl_layout(lab, runner, namespace):
    # A Secret laid out as `kubectl create secret docker-registry` writes it (indentation and key order differ
    # from ours), created from stdin so no credential is on a command line.
    kubectl_json = json.dumps(
        {
            "auths": {
                "registry.lab:5000": {
                    "username": "robot",
                    "password": "reg-7c1e-pw",
                    "auth": base64.b64encode(b"robot:reg-7c1e-pw").decode(),
                }
            }
        },
        indent=4,
    )
    manifest = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "regcred", "namespace": namespace},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": base64.b64encode(kubectl_json.encode()).decode()},
    }
    kubectl(lab, "create", "-f", "-", stdin=json.dumps(manifest))
    creds = [{"server": "registry.lab:5000", "username": "robot", "password": "reg-7c1e-pw"}]
    t = task(namespace, name="regcred", registries=creds)
    assert ok(runner.run([t])).changed == 0  # same credentials, other bytes: compared as JSON

    creds[0]["password"] = "reg-7c1e-pw2"
    changed = ok(runner.run([t]))
    assert changed.changed == 1 and changed.tasks[0]["keys_changed"] == [".dockerconfigjson"]
    live = get_secret(lab, namespace, "regcred")
    doc = json.loads(live["decoded"][".dockerconfigjson"])
    assert doc["auths"]["registry.lab:5000"]["auth"] == base64.b64encode(b"robot:reg-7c1e-pw2").decode()
    assert live["type"] == "kubernetes.io/dockerconfigjson"
    assert ok(runner.run([t])).changed == 0

    other = task(namespace, name="regcred", literals={"x": "y"})
    wrong_type = runner.run([other])
    assert wrong_type.failures == 1 and "cannot change to Opaque" in wrong_type.tasks[0]["msg"]
    forced = ok(runner.run([dict(other, **{MODULE: dict(other[MODULE], force=True)})]))
    assert forced.tasks[0]["method"] == "recreated" and get_secret(lab, namespace, "regcred")["type"] == "Opaque"


def test_last_applied_annotation_is_removed(lab, runner, namespace):
    manifest = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "applied", "namespace": namespace},
        "data": {"api_key": base64.b64encode(b"applied-7c1e").decode()},
    }
    kubectl(lab, "apply", "-f", "-", stdin=json.dumps(manifest))
    before = get_secret(lab, namespace, "applied")
    assert "kubectl.kubernetes.io/last-applied-configuration" in before["metadata"]["annotations"]
    t = task(namespace, name="applied", literals={"api_key": "applied-7c1e"})
    first = ok(runner.run([t]))
    assert first.changed == 1 and first.tasks[0]["keys_changed"] == []
    assert "annotation kubectl.kubernetes.io/last-applied-configuration removed" in first.tasks[0]["metadata_changed"]
    after = get_secret(lab, namespace, "applied")
    assert "kubectl.kubernetes.io/last-applied-configuration" not in (after["metadata"].get("annotations") or {})
    assert after["decoded"] == {"api_key": b"applied-7c1e"}
    assert ok(runner.run([t])).changed == 0


def test_vault_encrypted_files(lab, runner, namespace, devstats_dir):
    vault = VaultLib([("default", VaultSecret(VAULT_PASSWORD.encode()))])
    secret = devstats_dir / "PG_PASS.secret"
    plain = secret.read_bytes()
    secret.write_bytes(vault.encrypt(plain))
    assert plain not in secret.read_bytes()
    ok(runner.run([task(namespace, directory=str(devstats_dir))]))
    assert get_secret(lab, namespace, "devstats-secrets")["decoded"]["PG_PASS.secret"] == plain[:-1]
    # The decrypted temp file lived in ANSIBLE_LOCAL_TEMP and is gone.
    assert [p for p in runner.local_tmp.rglob("*") if p.is_file()] == []

    no_password = runner.run([task(namespace, name="no-vault", directory=str(devstats_dir))], vault=False)
    assert no_password.failures == 1
    assert "cannot read" in no_password.tasks[0]["msg"] and "vault" in no_password.tasks[0]["msg"]
    assert "no-vault" not in secret_names(lab, namespace)


def _bad_inputs(devstats_dir, tmp_path):
    (tmp_path / "a-directory").mkdir()
    empty = tmp_path / "empty.secret"
    empty.write_bytes(b"\n")
    unchanged = tmp_path / "unchanged"
    shutil.copytree(devstats_dir, unchanged)
    shutil.copy(unchanged / "PG_PASS.secret.example", unchanged / "PG_PASS.secret")
    missing = tmp_path / "missing"
    shutil.copytree(devstats_dir, missing)
    (missing / "PG_HOST.secret").unlink()
    return [
        ({"directory": str(tmp_path / "no-such-dir")}, "secret directory %s not found" % (tmp_path / "no-such-dir")),
        ({"files": [str(tmp_path / "a-directory")]}, "is not a regular file"),
        ({"literals": {"bad key/name": "bad-7c1e-value"}}, "'bad key/name' may only contain"),
        ({"files": [str(empty)]}, "empty value for key(s): empty.secret"),
        ({"directory": str(unchanged)}, "PG_PASS.secret still holds the example value of PG_PASS.secret.example"),
        ({"directory": str(missing)}, "missing required key(s): PG_HOST.secret; copy"),
        ({"literals": {"a": "x"}, "required_keys": ["a", "b"]}, "missing required key(s): b"),
    ]


def test_bad_input_fails_clearly_and_writes_nothing(lab, runner, namespace, devstats_dir, tmp_path):
    ok(runner.run([task(namespace, name="existing", literals={"k": "v-7c1e"})]))
    version = get_secret(lab, namespace, "existing")["metadata"]["resourceVersion"]
    for args, message in _bad_inputs(devstats_dir, tmp_path):
        for name in ("fresh", "existing"):
            result = runner.run([task(namespace, name=name, **args)])
            assert result.failures == 1, (args, result.tasks)
            assert message in result.tasks[0]["msg"], (message, result.tasks[0]["msg"])
            assert "bad-7c1e-value" not in result.stdout + result.stderr
    assert secret_names(lab, namespace) == ["existing"]
    existing = get_secret(lab, namespace, "existing")
    assert existing["metadata"]["resourceVersion"] == version and existing["decoded"] == {"k": b"v-7c1e"}


def test_several_secrets_and_their_namespace_in_one_run(lab, runner):
    """`secrets` with `create_namespace`: --check makes nothing, the run makes the namespace and both Secrets (items
    inherit the task's labels), the next run changes nothing, and a change to one item changes only that one."""
    ns = "secret-it-new-%s" % uuid.uuid4().hex[:8]
    items = [
        {"name": "db", "literals": {"password": "db-7c1e-pw"}},
        {"name": "regcred", "registries": [{"server": "r.lab:5000", "username": "u", "password": "reg-7c1e-pw"}]},
    ]
    both = {
        "name": "several",
        MODULE: {"namespace": ns, "create_namespace": True, "labels": {"team": "it"}, "secrets": items},
    }
    try:
        check = ok(runner.run([both], "--check", "--diff"))
        assert check.changed == 1 and [r["namespace_created"] for r in check.tasks[0]["results"]] == [True, True]
        assert kubectl(lab, "get", "namespace", ns, check=False).returncode != 0
        first = ok(runner.run([both]))
        assert first.changed == 1 and [r["method"] for r in first.tasks[0]["results"]] == ["created", "created"]
        db, reg = get_secret(lab, ns, "db"), get_secret(lab, ns, "regcred")
        assert db["decoded"] == {"password": b"db-7c1e-pw"} and db["metadata"]["labels"] == {"team": "it"}
        assert reg["type"] == "kubernetes.io/dockerconfigjson" and reg["metadata"]["labels"] == {"team": "it"}
        assert ok(runner.run([both])).changed == 0
        items[0]["literals"]["password"] = "db-7c1e-rotated"
        third = ok(runner.run([both]))
        assert [r["method"] for r in third.tasks[0]["results"]] == ["updated", "unchanged"]
        assert get_secret(lab, ns, "db")["decoded"] == {"password": b"db-7c1e-rotated"}
        assert "db-7c1e" not in json.dumps(third.data)
    finally:
        kubectl(lab, "delete", "namespace", ns, "--wait=false", check=False)


def test_missing_namespace_is_a_clear_error(runner):
    result = runner.run([task("no-such-namespace-7c1e", literals={"k": "v"})])
    assert result.failures == 1 and "no-such-namespace-7c1e" in result.tasks[0]["msg"]


# ---------------------------------------------------------------- leak test


def test_leak_none_at_vvv(lab, runner, namespace, devstats_dir, tmp_path):
    vault = VaultLib([("default", VaultSecret(VAULT_PASSWORD.encode()))])
    (tmp_path / "gcp.json").write_bytes(vault.encrypt(b'{"private_key": "gcp-leak-7c1e-\\"k\\""}\n'))
    registry = {"server": "registry.lab:5000", "username": "leak-robot-7c1e", "password": 'reg"leak\\7c1e-ä'}
    literal = 'lit"leak\\7c1e-ö\tend'
    values = [
        (devstats_dir / name).read_bytes() for name in sorted(os.listdir(devstats_dir)) if name.endswith(".secret")
    ]
    values += [v[:-2] if v.endswith(b"\r\n") else v[:-1] for v in values]  # the stripped forms stored in the API
    values += [b'{"private_key": "gcp-leak-7c1e-\\"k\\""}\n', literal, registry["password"], VAULT_PASSWORD]
    auth = base64.b64encode(("%s:%s" % (registry["username"], registry["password"])).encode()).decode()
    entry = {"auth": auth, "password": registry["password"], "username": registry["username"]}
    dockerconfig = json.dumps({"auths": {registry["server"]: entry}}, sort_keys=True, separators=(",", ":"))
    values += [dockerconfig, json.dumps({"auths": {registry["server"]: entry}})]
    values += ["%s:%s" % (registry["username"], registry["password"])]  # its base64 is the auth field

    variables = {"leak_literal": literal, "leak_registry": registry, "leak_bad": "leak-bad-7c1e-value"}
    secret_tasks = [
        task(namespace, directory=str(devstats_dir), labels={"leak": "test"}),
        task(
            namespace,
            name="exa",
            literals={"api_key": "{{ leak_literal }}"},
            files=[{"path": str(tmp_path / "gcp.json")}],
        ),
        task(namespace, name="regcred", registries=["{{ leak_registry }}"]),
        {
            "name": "several",
            MODULE: {
                "namespace": namespace,
                "secrets": [
                    {"name": "several-lit", "literals": {"k": "{{ leak_literal }}"}},
                    {"name": "several-reg", "registries": ["{{ leak_registry }}"]},
                ],
            },
        },
    ]
    outputs = []

    def run(tasks, *args):
        result = runner.run(tasks, "-vvv", *args, json_callback=False, variables=variables)
        outputs.append(result.stdout + result.stderr)
        return result

    assert run(secret_tasks, "--diff").rc == 0  # create
    assert run(secret_tasks, "--diff").rc == 0  # unchanged
    (devstats_dir / "PG_PASS.secret").write_bytes(b'pg"pass\\word-\xc3\x9c-7c1e-rotated\n')
    values += [b'pg"pass\\word-\xc3\x9c-7c1e-rotated']
    assert run(secret_tasks, "--check", "--diff").rc == 0  # check mode with a change
    assert run(secret_tasks, "--diff").rc == 0  # update
    bad = [task(namespace, name="bad", literals={"bad key": "{{ leak_literal }}", "ok": "{{ leak_bad }}"})]
    values += ["leak-bad-7c1e-value"]
    assert run(bad).rc != 0  # a failure path
    assert (
        run(
            [
                task(namespace, name=n, state="absent")
                for n in ("devstats-secrets", "exa", "regcred", "several-lit", "several-reg")
            ],
            "--diff",
        ).rc
        == 0
    )

    output = "\n".join(outputs)
    assert "k8s_secret_files" in output and "PG_PASS.secret" in output  # the output is the real thing
    assert "<localhost> EXEC" in output or "ESTABLISH LOCAL CONNECTION" in output  # really -vvv
    forms = {form for value in values for form in secret_forms(value)}
    leaks = sorted(form for form in forms if form in output)
    print(
        "leak test: %d values, %d forms, %d runs, %d chars of -vvv output"
        % (len(values), len(forms), len(outputs), len(output))
    )
    assert leaks == [], "secret forms found in -vvv output: %d" % len(leaks)
    assert stat.S_IMODE(runner.vault_file.stat().st_mode) == 0o600
