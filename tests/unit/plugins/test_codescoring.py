"""The codescoring role's Python parts: the volume modes (checked, and turned into chart values), dotted values
nested, and the admin password change run in the backend pod (its command, its standard input and its guard)."""

import json

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.baremetal.k8s.plugins.filter.codescoring_values import FilterModule
from ansible_collections.baremetal.k8s.plugins.modules import codescoring_admin_password as cap

F = FilterModule().filters()
problems = F["codescoring_volume_problems"]
values = F["codescoring_volume_values"]
nest = F["codescoring_nest"]

FOUR_MODES = {
    "analysis_root": {"storage_class": "fast"},
    "media_root": {"volume_name": "pv-media"},
    "django_static": {"existing_claim": "static"},
    "backup": {"local": {"path": "/srv/backup", "node": "node-0"}, "size": "5Gi"},
    "postgresql": {"existing_claim": "pg"},
}


def test_one_mode_each_is_fine():
    assert problems(FOUR_MODES) == []
    assert problems({"redis": {}, "huey_tmp": None}) == []  # no mode: the default StorageClass


@pytest.mark.parametrize(
    ("volumes", "kwargs", "message"),
    [
        (
            {"analysis_root": {"storage_class": "a", "existing_claim": "b"}},
            {},
            "codescoring_volumes.analysis_root: choose exactly one mode, not storage_class and existing_claim",
        ),
        ({"media_root": {"local": {"path": "/x"}}}, {}, "codescoring_volumes.media_root.local.node must name"),
        ({"media_root": {"local": {"path": "x", "node": "n"}}}, {}, "local.path must be an absolute directory"),
        ({"media_root": {"local": {"path": "/x", "node": "n", "host": "n"}}}, {}, "must be a dict of path and node"),
        ({"backup": {"storageClass": "a"}}, {}, "codescoring_volumes.backup: unknown keys storageClass"),
        ({"data": {}}, {}, "codescoring_volumes.data: unknown volume"),
        ({"backup": {"size": "20 GB"}}, {}, "codescoring_volumes.backup.size must be a quantity"),
        ({"backup": {"access_modes": ["RWX"]}}, {}, "codescoring_volumes.backup.access_modes must be"),
        ({"backup": {"existing_claim": ""}}, {}, "codescoring_volumes.backup.existing_claim must be a resource name"),
        ({"postgresql": {}}, {"builtin_postgresql": False}, "only the built-in PostgreSQL has a volume"),
        ({"redis": {}}, {"builtin_redis": False}, "only the built-in Redis has a volume"),
        (
            {"analysis_root": {"local": {"path": "/x", "node": "n"}}},
            {"horizontal_scaling": True},
            "cannot serve codescoring_horizontal_scaling",
        ),
        (
            {"media_root": {"access_modes": ["ReadWriteOnce"]}},
            {"horizontal_scaling": True},
            "codescoring_horizontal_scaling needs ReadWriteMany",
        ),
        ([], {}, "codescoring_volumes must be a dict"),
    ],
)
def test_problems_name_the_variable(volumes, kwargs, message):
    found = problems(volumes, **kwargs)
    assert any(message in p for p in found), found


def test_every_problem_at_once():
    bad = {"analysis_root": {"storage_class": "a", "volume_name": "b"}, "backup": {"size": "x"}, "nope": {}}
    assert len(problems(bad)) == 3


def test_values_of_the_four_modes():
    flat = values(FOUR_MODES)
    assert flat["codescoring.persistentVolumes.analysisRoot.storageClass"] == "fast"
    assert flat["codescoring.persistentVolumes.mediaRoot.volumeName"] == "pv-media"
    assert flat["codescoring.persistentVolumes.djangoStatic.existingClaim"] == "static"
    assert flat["codescoring.backup.persistentVolume.localVolume"] == {
        "enabled": True,
        "path": "/srv/backup",
        "nodeHostname": "node-0",
    }
    assert flat["codescoring.backup.persistentVolume.size"] == "5Gi"
    assert flat["postgresql.persistentVolume.exsistingClaim"] == "pg", "the vendor's spelling"
    assert not any(k.startswith("codescoring.huey") for k in flat), "no temp-scan volume listed"
    fixed = values(FOUR_MODES, {"postgresqlExistingClaim": "existingClaim"})
    assert fixed["postgresql.persistentVolume.existingClaim"] == "pg"


def test_temp_scan_volume_replaces_the_workers_tmp():
    flat = values({"huey_package_scan_tmp": {"storage_class": "nfs"}})
    assert flat["codescoring.huey.persistentVolumes.hueyPackageScanTmp.enabled"] is True
    assert flat["codescoring.huey.persistentVolumes.hueyPackageScanTmp.storageClass"] == "nfs"
    eph = flat["codescoring.huey.tasksOsaPackageScan.ephemeralVolumes"]
    assert eph == {
        "volumeMounts": [{"mountPath": "/etc/ssl/certs", "name": "package-scan-ssl-certs"}],
        "volumes": [{"name": "package-scan-ssl-certs", "emptyDir": {}}],
    }
    assert "codescoring.huey.ipcsQueue.ephemeralVolumes" not in flat


def test_horizontal_scaling_makes_shared_volumes_rwx():
    flat = values({"huey_tmp": {}}, {}, True)
    for key in ("analysisRoot", "mediaRoot", "djangoStatic"):
        assert flat[f"codescoring.persistentVolumes.{key}.accessModes"] == ["ReadWriteMany"]
    assert flat["codescoring.huey.persistentVolumes.hueyTmp.accessModes"] == ["ReadWriteMany"]
    assert "codescoring.backup.persistentVolume.accessModes" not in flat
    assert "codescoring.huey.persistentVolumes.hueyPackageScanTmp.accessModes" not in flat


def test_values_refuse_bad_volumes():
    with pytest.raises(AnsibleFilterError, match="choose exactly one mode"):
        values({"backup": {"storage_class": "a", "volume_name": "b"}})


def test_nest():
    out = nest({"a.b.c": 1, "a.d": {"e": 2}, "a.d.f": 3, "x": None})
    assert out == {"a": {"b": {"c": 1}, "d": {"e": 2, "f": 3}}, "x": None}
    with pytest.raises(AnsibleFilterError, match="not a dict"):
        nest({"a": 1, "a.b": 2})
    with pytest.raises(AnsibleFilterError, match="not a dotted path"):
        nest({"a..b": 1})


# --- the admin password change -------------------------------------------------------------------------------


PARAMS = {
    "namespace": "cs",
    "selector": "app=ipcs-backend",
    "container": None,
    "username": "admin",
    "password": "s3cret-New!pass",
    "python": "python",
    "manage_py": "manage.py",
    "timeout": 30,
}


def pod(name, phase="Running", ready="True", deleting=False):
    meta = {"name": name}
    if deleting:
        meta["deletionTimestamp"] = "2026-12-02T00:00:00Z"
    return {
        "metadata": meta,
        "spec": {"containers": [{"name": "ipcs-backend"}, {"name": "sidecar"}]},
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": ready}]},
    }


class FakeApi:
    def __init__(self, pods, stdout, rc=0, stderr=""):
        self.pods, self.stdout, self.rc, self.stderr = pods, stdout, rc, stderr
        self.calls = []

    def list_pods(self, namespace, selector):
        self.calls.append(("list", namespace, selector))
        return self.pods

    def exec_stdin(self, namespace, name, container, argv, *, data, timeout):
        self.calls.append(("exec", namespace, name, container, argv, data, timeout))
        return self.stdout, self.stderr, self.rc


def test_the_password_goes_on_stdin_never_in_the_command():
    api = FakeApi([pod("b-2"), pod("b-1")], "noise\nCODESCORING_PASSWORD:changed\n")
    out = cap.run(PARAMS, api, check_mode=False)
    assert out == {
        "changed": True,
        "result": "changed",
        "pod": "b-1",
        "command": ["python", "manage.py", "shell", "-c", "SCRIPT"],
    }
    _kind, ns, name, container, argv, data, timeout = api.calls[1]
    assert (ns, name, container, timeout) == ("cs", "b-1", "ipcs-backend", 30)
    assert argv[:4] == ["python", "manage.py", "shell", "-c"] and argv[4] == cap.SCRIPT
    assert not any(PARAMS["password"] in a or "admin" in a for a in argv)
    assert data.endswith("\n") and json.loads(data) == {
        "username": "admin",
        "password": PARAMS["password"],
        "apply": True,
    }


def test_the_script_checks_before_it_sets_and_validates_like_changepassword():
    check = cap.SCRIPT.index("check_password")
    assert check < cap.SCRIPT.index("validate_password") < cap.SCRIPT.index("set_password")
    assert "sys.stdin.readline()" in cap.SCRIPT and "if req['apply']:" in cap.SCRIPT
    compile(cap.SCRIPT, "script", "exec")


def test_unchanged_password_reports_no_change():
    api = FakeApi([pod("b-1")], "CODESCORING_PASSWORD:unchanged\n")
    assert cap.run(PARAMS, api, check_mode=False)["changed"] is False


def test_check_mode_only_checks():
    api = FakeApi([pod("b-1")], "CODESCORING_PASSWORD:changed\n")
    out = cap.run(PARAMS, api, check_mode=True)
    assert out["changed"] is True
    assert json.loads(api.calls[1][5])["apply"] is False


def test_only_ready_pods_that_are_not_going_away():
    pods = [pod("a", ready="False"), pod("b", deleting=True), pod("c", phase="Pending"), pod("d")]
    api = FakeApi(pods, "CODESCORING_PASSWORD:unchanged\n")
    assert cap.run(PARAMS | {"container": "web"}, api, False)["pod"] == "d"
    assert api.calls[1][3] == "web"
    with pytest.raises(RuntimeError, match="no ready pod matches app=ipcs-backend in namespace cs"):
        cap.run(PARAMS, FakeApi(pods[:3], ""), False)


@pytest.mark.parametrize(
    ("stdout", "rc", "message"),
    [
        ("CODESCORING_PASSWORD:nouser\n", 3, "the user does not exist"),
        ('CODESCORING_PASSWORD:invalid ["This password is too common."]\n', 4, "This password is too common."),
        ("Traceback ...\n", 1, "exit code 1"),
        ("CODESCORING_PASSWORD:changed\n", None, "exit code None"),  # timed out: no exit status
    ],
)
def test_failures_name_the_pod_and_never_the_password(stdout, rc, message):
    api = FakeApi([pod("b-1")], stdout, rc, stderr="boom")
    with pytest.raises(RuntimeError) as err:
        cap.run(PARAMS, api, False)
    assert message in str(err.value) and "pod b-1" in str(err.value)
    assert PARAMS["password"] not in str(err.value)


def test_an_exec_error_names_the_pod():
    class Broken(FakeApi):
        def exec_stdin(self, namespace, name, container, argv, *, data, timeout):
            raise OSError("error dialing backend")

    with pytest.raises(RuntimeError, match="pod b-1: exec failed: error dialing backend"):
        cap.run(PARAMS, Broken([pod("b-1")], ""), False)
