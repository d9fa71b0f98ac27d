# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the containerd role (documented in the *.yml files here)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.baremetal.k8s.plugins.module_utils import containerd_config as cc


def _wrap(name, func):
    def run(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except cc.ContainerdConfigError as err:
            raise AnsibleFilterError("%s: %s" % (name, err)) from None

    return run


class FilterModule(object):
    def filters(self):
        return {
            "to_toml": _wrap("to_toml", cc.to_toml),
            "containerd_config": _wrap("containerd_config", cc.cri_config),
            "containerd_config_version": _wrap("containerd_config_version", cc.config_version_for),
            "containerd_hosts": _wrap("containerd_hosts", cc.hosts_config),
        }
