# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan how a live Secret (a dict as the API returns it, or None) becomes the desired one. Pure logic."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.baremetal.k8s.plugins.module_utils.secret_files import (
    compare_data,
    decode_data,
    encode_data,
    keys_diff,
)

# kubectl apply stores the whole object here, data included: never keep it on a Secret.
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
HIDDEN = "(not shown)"


class Plan(object):
    """What to do: action is one of create, update, recreate, delete, none; body is what to send."""

    def __init__(self, action, body=None, *, added=(), changed=(), removed=(), metadata=(), diff=None):
        self.action = action
        self.body = body
        self.added = list(added)
        self.changed = list(changed)
        self.removed = list(removed)
        self.metadata = list(metadata)
        self.diff = diff

    @property
    def is_change(self):
        return self.action != "none"


def _meta_text(secret_type, labels, annotations, shown):
    lines = ["type: %s\n" % secret_type]
    for title, values in (("labels", labels), ("annotations", annotations)):
        if values:
            lines.append("%s:\n" % title)
            lines.extend("  %s: %s\n" % (k, values[k] if k in shown.get(title, ()) else HIDDEN) for k in sorted(values))
    return "".join(lines)


def _diff(live, want, changed, shown):
    """live and want are (type, labels, annotations, keys) or None."""
    before_data, after_data = keys_diff(live[3] if live else [], want[3] if want else [], changed)
    before = after = ""
    if live:
        before = _meta_text(live[0], live[1], live[2], shown) + "data:\n" + _indent(before_data)
    if want:
        after = _meta_text(want[0], want[1], want[2], shown) + "data:\n" + _indent(after_data)
    return {"before": before, "after": after}


def _indent(text):
    return "".join("  " + line + "\n" for line in text.splitlines())


def _merged(current, wanted):
    merged = dict(current or {})
    merged.update(wanted or {})
    return merged


def plan(live, *, name, namespace, state, secret_type, data, labels, annotations, prune=True, force=False):
    """Return a Plan. `data` is key -> bytes. Values never reach the diff: only key names and markers."""
    labels = dict((k, str(v)) for k, v in (labels or {}).items())
    annotations = dict((k, str(v)) for k, v in (annotations or {}).items())
    shown = {"labels": set(labels), "annotations": set(annotations)}
    live_meta = (live or {}).get("metadata") or {}
    live_labels = live_meta.get("labels") or {}
    live_annotations = live_meta.get("annotations") or {}
    live_data = decode_data((live or {}).get("data"))
    live_type = (live.get("type") or "Opaque") if live else None

    if state == "absent":
        if live is None:
            return Plan("none", diff={"before": "", "after": ""})
        return Plan(
            "delete",
            removed=sorted(live_data),
            diff=_diff((live_type, live_labels, live_annotations, live_data), None, [], shown),
        )

    want_labels = _merged(live_labels, labels) if live else labels
    want_annotations = _merged(live_annotations, annotations) if live else annotations
    want_annotations.pop(LAST_APPLIED, None)
    if live is None:
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace, "labels": labels, "annotations": annotations},
            "type": secret_type,
            "data": encode_data(data),
        }
        return Plan(
            "create",
            body,
            added=sorted(data),
            diff=_diff(None, (secret_type, want_labels, want_annotations, data), [], shown),
        )

    added, changed, removed = compare_data(live_data, data, prune=prune)
    metadata = ["label %s" % k for k in sorted(labels) if live_labels.get(k) != labels[k]]
    metadata += ["annotation %s" % k for k in sorted(annotations) if live_annotations.get(k) != annotations[k]]
    if LAST_APPLIED in live_annotations:
        metadata.append("annotation %s removed" % LAST_APPLIED)
    action = "update"
    if live_type != secret_type:
        action = "recreate" if force else "type_conflict"
        metadata.append("type %s -> %s" % (live_type, secret_type))
    elif not (added or changed or removed or metadata):
        action = "none"

    new_data = dict(live_data)
    for key in added + changed:
        new_data[key] = data[key]
    for key in removed:
        new_data.pop(key, None)
    body = copy.deepcopy(live)
    body.pop("stringData", None)
    body.get("metadata", {}).pop("managedFields", None)  # the server keeps and updates them
    body["data"] = encode_data(new_data)
    body["type"] = secret_type
    body.setdefault("metadata", {})["labels"] = want_labels
    body["metadata"]["annotations"] = want_annotations
    if action == "recreate":
        for field in ("resourceVersion", "uid", "creationTimestamp", "generation", "deletionTimestamp"):
            body["metadata"].pop(field, None)
    diff = _diff(
        (live_type, live_labels, live_annotations, live_data),
        (secret_type, want_labels, want_annotations, new_data),
        changed,
        shown,
    )
    return Plan(action, body, added=added, changed=changed, removed=removed, metadata=metadata, diff=diff)
