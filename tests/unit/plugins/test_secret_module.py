"""The module's run(): which API calls it makes in normal and check mode, and what it returns."""

import base64

import pytest
from ansible_collections.baremetal.k8s.plugins.modules import k8s_secret_files as mod

DATA = {"PG_PASS.secret": b"pg-pw-1", "PG_HOST.secret": b"db"}


class FakeApi:
    """Stands in for the four Secret calls; records writes."""

    def __init__(self, live=None):
        self.live = live
        self.writes = []

    def read(self, name, namespace):
        return self.live

    def create(self, namespace, body):
        self.writes.append(("create", body))
        return dict(body, metadata=dict(body["metadata"], resourceVersion="1"))

    def replace(self, name, namespace, body):
        self.writes.append(("replace", body))
        return body

    def delete(self, name, namespace):
        self.writes.append(("delete", name))


class Failed(Exception):
    pass


class FakeModule:
    def __init__(self, check_mode=False, diff=False, **params):
        self.params = dict(
            name="s",
            namespace="ns",
            state="present",
            type=None,
            labels={},
            annotations={},
            prune=True,
            force=False,
            data={k: base64.b64encode(v).decode() for k, v in DATA.items()},
        )
        self.params.update(params)
        self.check_mode = check_mode
        self._diff = diff

    def fail_json(self, msg, **kwargs):
        raise Failed(msg)


def live_of(data, secret_type="Opaque"):  # noqa: S107
    return {
        "metadata": {"name": "s", "namespace": "ns", "resourceVersion": "5"},
        "type": secret_type,
        "data": {k: base64.b64encode(v).decode() for k, v in data.items()},
    }


def test_create_then_unchanged():
    api = FakeApi()
    result = mod.run(FakeModule(), api)
    assert result["changed"] and result["method"] == "created" and [w[0] for w in api.writes] == ["create"]
    assert result["keys"] == sorted(DATA) and result["secret"]["resource_version"] == "1"
    api = FakeApi(live_of(DATA))
    result = mod.run(FakeModule(), api)
    assert not result["changed"] and result["method"] == "unchanged" and api.writes == []


@pytest.mark.parametrize("live", [None, live_of({"PG_PASS.secret": b"old"}), live_of(DATA, "kubernetes.io/tls")])
def test_check_mode_never_writes(live):
    api = FakeApi(live)
    result = mod.run(FakeModule(check_mode=True, diff=True, force=True), api)
    assert result["changed"] and api.writes == []
    assert "pg-pw-1" not in repr(result) and base64.b64encode(b"pg-pw-1").decode() not in repr(result)


def test_update_reports_one_changed_key_and_diff():
    api = FakeApi(live_of(dict(DATA, **{"PG_PASS.secret": b"old"})))
    result = mod.run(FakeModule(diff=True), api)
    assert result["keys_changed"] == ["PG_PASS.secret"] and result["keys_added"] == [] and result["method"] == "updated"
    assert "PG_PASS.secret: (new value)" in result["diff"]["after"]


def test_type_conflict_fails_without_writes():
    api = FakeApi(live_of(DATA, "kubernetes.io/tls"))
    with pytest.raises(Failed, match="cannot change to Opaque"):
        mod.run(FakeModule(), api)
    assert api.writes == []


def test_absent_deletes():
    api = FakeApi(live_of(DATA))
    result = mod.run(FakeModule(state="absent", data=None), api)
    assert result["method"] == "deleted" and result["keys_removed"] == sorted(DATA) and api.writes == [("delete", "s")]


def test_data_required_for_present():
    with pytest.raises(Failed, match="action plugin"):
        mod.run(FakeModule(data=None), FakeApi())


def test_bad_key_in_data_rejected_before_api():
    api = FakeApi()
    with pytest.raises(Exception, match="may only contain"):
        mod.run(FakeModule(data={"bad key": "eA=="}), api)
    assert api.writes == []


class NamespacedApi(FakeApi):
    """FakeApi with namespaces that may be missing."""

    def __init__(self, live=None, namespaces=()):
        super().__init__(live)
        self.existing = set(namespaces)

    def namespace_exists(self, namespace):
        self.writes.append(("read-namespace", namespace))
        return namespace in self.existing

    def create_namespace(self, namespace):
        self.writes.append(("create-namespace", namespace))
        self.existing.add(namespace)


@pytest.mark.parametrize("check_mode", [False, True])
def test_create_namespace_only_for_a_missing_secret_in_a_missing_namespace(check_mode):
    api = NamespacedApi()
    result = mod.run(FakeModule(check_mode=check_mode, create_namespace=True), api)
    assert result["changed"] and result["namespace_created"]
    expected = [("read-namespace", "ns")] + ([] if check_mode else [("create-namespace", "ns")])
    assert [w[:2] if w[0] != "create" else w[:1] for w in api.writes] == expected + (
        [] if check_mode else [("create",)]
    )
    api = NamespacedApi(namespaces=["ns"])
    result = mod.run(FakeModule(create_namespace=True), api)
    assert "namespace_created" not in result and [w[0] for w in api.writes] == ["read-namespace", "create"]
    api = NamespacedApi(live_of(DATA))  # the Secret is there: nothing about the namespace is read
    result = mod.run(FakeModule(create_namespace=True), api)
    assert not result["changed"] and api.writes == []


def test_several_secrets_each_reconciled_in_order():
    params = FakeModule().params
    items = [dict(params, name="a"), dict(params, name="b", state="absent")]
    module = FakeModule(diff=True, secrets=items)
    api = FakeApi()
    result = mod.run_all(module, api, items)
    assert [(r["name"], r["method"]) for r in result["results"]] == [("a", "created"), ("b", "unchanged")]
    assert result["changed"] and len(result["diff"]) == 2 and all("diff" not in r for r in result["results"])
    assert [w[0] for w in api.writes] == ["create"] and api.where == "ns/b"
