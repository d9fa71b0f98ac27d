# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the metallb role (documented in the *.yml files here)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.baremetal.k8s.plugins.module_utils import metallb_pools


class FilterModule(object):
    def filters(self):
        return {
            "metallb_pool_problems": metallb_pools.problems,
            "metallb_pool_objects": metallb_pools.objects,
            "metallb_pool_contains": metallb_pools.contains,
        }
