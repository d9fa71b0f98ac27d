# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the node_labels role (documented in the *.yml files here)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.baremetal.k8s.plugins.module_utils import node_labels as nl


def _node_patch(node, labels, taints, prune=False):
    try:
        return nl.node_patch(
            node or {}, {} if labels is None else labels, [] if taints is None else taints, prune=bool(prune)
        )
    except nl.NodeLabelsError as err:
        raise AnsibleFilterError("node_patch: %s" % err) from None


def _node_labels_problems(labels, taints):
    return nl.validate(labels if labels is not None else {}, taints if taints is not None else [])


class FilterModule(object):
    def filters(self):
        return {"node_patch": _node_patch, "node_labels_problems": _node_labels_problems}
