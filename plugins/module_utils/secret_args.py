# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs of k8s_secret_files, shared by the action plugin (controller) and the module (API side)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

# What the Secret looks like and how it is reconciled: the module receives these.
SECRET_ARG_SPEC = dict(
    name=dict(type="str", required=True),
    namespace=dict(type="str", default="default"),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    type=dict(type="str"),
    labels=dict(type="dict", default={}),
    annotations=dict(type="dict", default={}),
    prune=dict(type="bool", default=True),
    force=dict(type="bool", default=False),
)

# Where the values come from: the action plugin resolves these on the controller.
SOURCE_ARG_SPEC = dict(
    directory=dict(type="path"),
    glob=dict(type="str", default="*.secret"),
    exclude=dict(type="list", elements="str", default=["*.secret.example"]),
    files=dict(type="list", elements="raw"),
    literals=dict(type="dict", no_log=True),
    registries=dict(type="list", elements="dict", no_log=True),
    key_naming=dict(type="str", default="filename", choices=["filename", "stem"]),
    strip_newline=dict(type="str", default="auto", choices=["auto", "always", "never"]),
    required_keys=dict(type="list", elements="str", default=[], no_log=False),
    required_from_examples=dict(type="bool", default=True),
    allow_example_values=dict(type="bool", default=False),
    allow_empty=dict(type="bool", default=False),
)

# Base64 values per key, prepared by the action plugin.
DATA_ARG_SPEC = dict(data=dict(type="dict", no_log=True))

MUTUALLY_EXCLUSIVE = [
    ("registries", "directory"),
    ("registries", "files"),
    ("registries", "literals"),
]

AUTH_ARGS = tuple(AUTH_ARG_SPEC)


def action_spec():
    spec = dict(AUTH_ARG_SPEC)
    spec.update(SECRET_ARG_SPEC)
    spec.update(SOURCE_ARG_SPEC)
    return spec


def module_spec():
    spec = action_spec()
    spec.update(DATA_ARG_SPEC)
    return spec
