"""plan(): create/update/delete/none decisions, byte and JSON comparison, metadata, diff without values."""

import base64

from ansible_collections.baremetal.k8s.plugins.module_utils.secret_reconcile import LAST_APPLIED, plan

VALUES = {"PG_PASS.secret": b"pg-pw-1", "PG_HOST.secret": b"db.example"}


def b64(value):
    return base64.b64encode(value).decode()


def live_secret(data, secret_type="Opaque", *, labels=None, annotations=None):  # noqa: S107
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "s",
            "namespace": "ns",
            "resourceVersion": "7",
            "uid": "u-1",
            "labels": labels or {},
            "annotations": annotations or {},
        },
        "type": secret_type,
        "data": {k: b64(v) for k, v in data.items()},
    }


def make(live, data=None, *, state="present", secret_type="Opaque", labels=None, annotations=None, **kw):  # noqa: S107
    return plan(
        live,
        name="s",
        namespace="ns",
        state=state,
        secret_type=secret_type,
        data=VALUES if data is None else data,
        labels=labels or {},
        annotations=annotations or {},
        **kw,
    )


def all_text(p):
    return repr(p.diff) + repr(p.added) + repr(p.changed) + repr(p.removed) + repr(p.metadata)


def assert_no_values(p, values=None):
    text = all_text(p)
    for value in VALUES.values() if values is None else values:
        assert value.decode() not in text and b64(value) not in text


def test_create():
    p = make(None, labels={"app": "devstats"})
    assert p.action == "create" and p.added == sorted(VALUES)
    assert p.body["data"] == {k: b64(v) for k, v in VALUES.items()}
    assert p.body["metadata"] == {"name": "s", "namespace": "ns", "labels": {"app": "devstats"}, "annotations": {}}
    assert "PG_PASS.secret: (unchanged)" in p.diff["after"] and p.diff["before"] == ""
    assert_no_values(p)


def test_unchanged():
    p = make(live_secret(VALUES))
    assert p.action == "none" and not p.is_change


def test_one_key_changed():
    p = make(live_secret(dict(VALUES, **{"PG_PASS.secret": b"old"})))
    assert p.action == "update" and p.changed == ["PG_PASS.secret"] and p.added == [] and p.removed == []
    assert "PG_PASS.secret: (current value)" in p.diff["before"]
    assert "PG_PASS.secret: (new value)" in p.diff["after"]
    assert p.body["metadata"]["resourceVersion"] == "7"  # optimistic concurrency on replace
    assert_no_values(p, [b"old", b"pg-pw-1"])


def test_removed_key_and_prune_off():
    live = live_secret(dict(VALUES, EXTRA=b"x"))
    p = make(live)
    assert p.removed == ["EXTRA"] and "EXTRA" not in p.body["data"]
    p = make(live, prune=False)
    assert p.action == "none"


def test_trailing_newline_is_a_change():
    assert make(live_secret(dict(VALUES, **{"PG_PASS.secret": b"pg-pw-1\n"}))).changed == ["PG_PASS.secret"]


def test_dockerconfigjson_compared_as_json():
    live = live_secret(
        {".dockerconfigjson": b'{"auths": {"r": {"password": "p", "username": "u"}}}'}, "kubernetes.io/dockerconfigjson"
    )
    want = {".dockerconfigjson": b'{"auths":{"r":{"username":"u","password":"p"}}}'}
    assert make(live, want, secret_type="kubernetes.io/dockerconfigjson").action == "none"
    want = {".dockerconfigjson": b'{"auths":{"r":{"username":"u","password":"q"}}}'}
    assert make(live, want, secret_type="kubernetes.io/dockerconfigjson").changed == [".dockerconfigjson"]


def test_labels_and_annotations_merge():
    live = live_secret(VALUES, labels={"keep": "1", "app": "old"}, annotations={"meta.helm.sh/x": "y"})
    p = make(live, labels={"app": "new"}, annotations={"team": "a"})
    assert p.action == "update" and p.metadata == ["label app", "annotation team"]
    assert p.body["metadata"]["labels"] == {"keep": "1", "app": "new"}
    assert p.body["metadata"]["annotations"] == {"meta.helm.sh/x": "y", "team": "a"}
    assert "meta.helm.sh/x: (not shown)" in p.diff["before"] and "team: a" in p.diff["after"]


def test_last_applied_annotation_removed_and_never_shown():
    leaked = '{"data":{"PG_PASS.secret":"%s"}}' % b64(b"pg-pw-1")
    p = make(live_secret(VALUES, annotations={LAST_APPLIED: leaked}))
    assert p.action == "update" and LAST_APPLIED not in p.body["metadata"]["annotations"]
    assert leaked not in all_text(p)
    assert_no_values(p)


def test_type_change_needs_force():
    live = live_secret(VALUES, "kubernetes.io/basic-auth")
    assert make(live).action == "type_conflict"
    p = make(live, force=True)
    assert p.action == "recreate" and "resourceVersion" not in p.body["metadata"] and "uid" not in p.body["metadata"]


def test_absent():
    assert make(None, state="absent").action == "none"
    p = make(live_secret(VALUES), state="absent")
    assert p.action == "delete" and p.removed == sorted(VALUES) and p.diff["after"] == ""
    assert_no_values(p)


def test_string_data_never_sent_back():
    live = live_secret(VALUES)
    live["stringData"] = {"x": "y"}
    p = make(live, data={"PG_PASS.secret": b"new"})
    assert "stringData" not in p.body
