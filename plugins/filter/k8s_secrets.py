# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small pure helpers for templates that deal with Kubernetes Secrets (documented in the *.yml files here)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.baremetal.k8s.plugins.module_utils.secret_files import (
    SecretInputError,
    dockerconfigjson,
    key_error,
    key_for_path,
    strip_one_newline,
)


def _dockerconfigjson(registries):
    try:
        return dockerconfigjson(registries)
    except SecretInputError as err:
        raise AnsibleFilterError("dockerconfigjson: %s" % err) from None


def _secret_key(path, naming="filename"):
    try:
        key = key_for_path(str(path), naming)
    except SecretInputError as err:
        raise AnsibleFilterError("secret_key: %s" % err) from None
    error = key_error(key)
    if error:
        raise AnsibleFilterError("secret_key: %s" % error)
    return key


def _strip_newline(value):
    if isinstance(value, bytes):
        return strip_one_newline(value)
    return strip_one_newline(str(value).encode("utf-8")).decode("utf-8")


class FilterModule(object):
    def filters(self):
        return {
            "dockerconfigjson": _dockerconfigjson,
            "secret_key": _secret_key,
            "strip_newline": _strip_newline,
        }
