# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter for helm_release's export mode (documented in helm_release_export.yml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.baremetal.k8s.plugins.module_utils import helm_export as he


def _helm_release_export(spec, values_file="values.yaml"):
    try:
        release, values = he.export(dict(spec or {}), values_file=values_file)
    except he.ExportError as err:
        raise AnsibleFilterError("helm_release export: %s" % err) from None
    return {"release": release, "values": values}


class FilterModule(object):
    def filters(self):
        return {"helm_release_export": _helm_release_export}
