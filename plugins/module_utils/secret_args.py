# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs of k8s_secret_files, shared by the action plugin (controller) and the module (API side)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

# What the Secret looks like and how it is reconciled: the module receives these.
SECRET_ARG_SPEC = dict(
    name=dict(type="str"),
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

# Options of the task only: create the namespaces, or manage several Secrets (items) in one module run.
TASK_ARG_SPEC = dict(create_namespace=dict(type="bool", default=False))

# What an item of `secrets` may not inherit from the task: its identity and its sources are its own.
ITEM_OWN = ("name", "type", "directory", "files", "literals", "registries", "required_keys")

MUTUALLY_EXCLUSIVE = [
    ("registries", "directory"),
    ("registries", "files"),
    ("registries", "literals"),
] + [("secrets", own) for own in ITEM_OWN]

REQUIRED_ONE_OF = [("name", "secrets")]

AUTH_ARGS = tuple(AUTH_ARG_SPEC)


def _item_spec(with_data):
    """An item of `secrets`: the Secret's and the sources' options without defaults (they come from the task)."""
    spec = dict((k, dict((a, v) for a, v in opt.items() if a != "default")) for k, opt in SECRET_ARG_SPEC.items())
    spec.update((k, dict((a, v) for a, v in opt.items() if a != "default")) for k, opt in SOURCE_ARG_SPEC.items())
    spec["name"]["required"] = True
    if with_data:
        spec.update(DATA_ARG_SPEC)
    return spec


def _spec(with_data):
    spec = dict(AUTH_ARG_SPEC)
    spec.update(SECRET_ARG_SPEC)
    spec.update(SOURCE_ARG_SPEC)
    spec.update(TASK_ARG_SPEC)
    # its sources and data are no_log suboptions; the names, labels and options are not secret
    spec["secrets"] = dict(type="list", elements="dict", no_log=False, options=_item_spec(with_data))
    if with_data:
        spec.update(DATA_ARG_SPEC)
    return spec


def action_spec():
    return _spec(with_data=False)


def module_spec():
    return _spec(with_data=True)


def secret_items(args):
    """The Secrets of a task's validated arguments: the task itself, or each item of `secrets` with every option
    it leaves unset taken from the task (not its name, type, sources or required keys)."""
    if args.get("secrets") is None:
        return [args]
    items = []
    for given in args["secrets"]:
        item = dict((k, v) for k, v in args.items() if k not in ITEM_OWN and k != "secrets")
        item.update((k, v) for k, v in given.items() if v is not None or k in ITEM_OWN)
        items.append(item)
    return items
