# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Labels and taints from inventory as a patch of a Node object.

The role owns only what inventory gave it: the label keys and taints it set are recorded in two annotations on
the Node, so a later run can remove the ones dropped from inventory (when asked to) without touching labels and
taints that the kubelet, kubeadm or other tools set.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

LABELS_ANNOTATION = "baremetal.k8s.io/managed-labels"
TAINTS_ANNOTATION = "baremetal.k8s.io/managed-taints"
EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


class NodeLabelsError(ValueError):
    pass


def key_error(key):
    """Why key is not a valid label or taint key, or None (Kubernetes' qualified-name rules)."""
    key = str(key)
    prefix, _sep, name = key.rpartition("/")
    if "/" in prefix:
        return "%r has more than one '/'" % key
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return "%r: the prefix must be a DNS subdomain (lower case, at most 253 characters)" % key
    if not _NAME.match(name):
        return "%r: the name must be 1-63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric" % key
    return None


def value_error(value):
    value = "" if value is None else str(value)
    if value and not _NAME.match(value):
        return (
            "%r: a value must be empty or 1-63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric" % value
        )
    return None


def validate(labels, taints):
    """Every problem with one host's labels and taints, as messages."""
    problems = []
    if not isinstance(labels, dict):
        return ["node_labels must be a dict of label key to value"]
    for key, value in labels.items():
        problems += [p for p in (key_error(key), value_error(value)) if p]
    if not isinstance(taints, list):
        return problems + ["node_taints must be a list of {key, value, effect}"]
    seen = set()
    for taint in taints:
        if not isinstance(taint, dict) or set(taint) - {"key", "value", "effect"} or "key" not in taint:
            problems.append("node_taints entry %r must have key, optional value, effect" % (taint,))
            continue
        problems += [p for p in (key_error(taint["key"]), value_error(taint.get("value"))) if p]
        if taint.get("effect") not in EFFECTS:
            problems.append("node_taints %s: effect must be one of %s" % (taint["key"], ", ".join(EFFECTS)))
        ident = (taint["key"], taint.get("effect"))
        if ident in seen:
            problems.append("node_taints %s:%s is listed twice" % ident)
        seen.add(ident)
    return problems


def _taint(taint):
    out = {"key": str(taint["key"]), "effect": taint["effect"]}
    if taint.get("value") not in (None, ""):
        out["value"] = str(taint["value"])
    return out


def _ident(taint):
    return "%s:%s" % (taint["key"], taint["effect"])


def _recorded(annotations, name):
    try:
        value = json.loads(annotations.get(name) or "[]")
    except ValueError:
        return set()
    return set(value) if isinstance(value, list) else set()


def node_patch(node, labels, taints, prune=False):
    """The merge patch that gives node the inventory's labels and taints ({} when nothing changes).

    Without prune, labels and taints that inventory dropped stay on the node (and stay recorded, so a later
    prune removes them); with prune they are removed. Everything the role never set is left alone.
    """
    problems = validate(labels, taints)
    if problems:
        raise NodeLabelsError("; ".join(problems))
    metadata = node.get("metadata") or {}
    have_labels = metadata.get("labels") or {}
    annotations = metadata.get("annotations") or {}
    have_taints = (node.get("spec") or {}).get("taints") or []
    labels = {str(k): "" if v is None else str(v) for k, v in labels.items()}
    want_taints = [_taint(t) for t in taints]
    want_ids = {_ident(t) for t in want_taints}

    label_patch = {k: v for k, v in labels.items() if have_labels.get(k) != v}
    dropped_labels = {k for k in _recorded(annotations, LABELS_ANNOTATION) - set(labels) if k in have_labels}
    if prune:
        label_patch.update(dict.fromkeys(dropped_labels))
        managed_labels = set(labels)
    else:
        managed_labels = set(labels) | dropped_labels

    recorded_taints = _recorded(annotations, TAINTS_ANNOTATION)
    kept, dropped_taints = [], set()
    for taint in have_taints:
        ident = _ident(taint)
        if ident in want_ids:
            continue
        if ident in recorded_taints:
            dropped_taints.add(ident)
            if prune:
                continue
        kept.append(taint)
    new_taints = kept + want_taints
    managed_taints = want_ids | (set() if prune else dropped_taints)

    patch = {}
    if label_patch:
        patch.setdefault("metadata", {})["labels"] = label_patch
    annotation_patch = {}
    for name, managed in ((LABELS_ANNOTATION, managed_labels), (TAINTS_ANNOTATION, managed_taints)):
        value = json.dumps(sorted(managed)) if managed else None
        if value != annotations.get(name):
            annotation_patch[name] = value
    if annotation_patch:
        patch.setdefault("metadata", {})["annotations"] = annotation_patch

    def canon(items):
        return sorted((t["key"], t.get("value") or "", t["effect"]) for t in items)

    if canon(new_taints) != canon(have_taints):
        patch["spec"] = {"taints": new_taints or None}
    return patch
