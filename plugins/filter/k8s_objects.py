# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters on Kubernetes objects as the API returns them (documented in the *.yml files here)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def _contains(live, wanted):
    """live holds wanted: every key of a dict (recursively); a list element by element, with the same length (an
    apply replaces a custom resource's lists whole); anything else equal."""
    if isinstance(wanted, Mapping):
        return isinstance(live, Mapping) and all(k in live and _contains(live[k], v) for k, v in wanted.items())
    if isinstance(wanted, (list, tuple)):
        return (
            isinstance(live, (list, tuple))
            and len(live) == len(wanted)
            and all(_contains(a, b) for a, b in zip(live, wanted, strict=True))
        )
    return live == wanted


def _key(obj):
    meta = obj.get("metadata") or {}
    return (obj.get("kind"), meta.get("namespace") or "", meta.get("name"))


def k8s_to_apply(wanted, live):
    """The objects of wanted that no live object (same kind, namespace and name) already holds: the ones an apply
    would change. apiVersion, kind and metadata identity are compared by the key; labels, annotations, spec and
    every other field as a subset."""
    if not isinstance(wanted, (list, tuple)) or not isinstance(live, (list, tuple)):
        raise AnsibleFilterError("k8s_to_apply: the input and live must be lists of Kubernetes objects")
    by_key = dict((_key(obj), obj) for obj in live if isinstance(obj, Mapping))
    out = []
    for obj in wanted:
        if not isinstance(obj, Mapping) or not obj.get("kind") or not (obj.get("metadata") or {}).get("name"):
            raise AnsibleFilterError("k8s_to_apply: every wanted object needs kind and metadata.name")
        have = by_key.get(_key(obj))
        body = dict((k, v) for k, v in obj.items() if k not in ("apiVersion", "kind"))
        if have is None or have.get("apiVersion") != obj.get("apiVersion") or not _contains(have, body):
            out.append(obj)
    return out


class FilterModule(object):
    def filters(self):
        return {"k8s_to_apply": k8s_to_apply}
