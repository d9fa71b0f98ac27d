# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side implementation of baremetal.k8s.validate_role_inputs: the inventory's values for several of this
collection's roles checked against their meta/argument_specs.yml at once, before any of those roles runs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import yaml
from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

ROLES_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "roles")


def role_options(role):
    path = os.path.join(ROLES_DIR, role, "meta", "argument_specs.yml")
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)["argument_specs"]["main"].get("options") or {}
    except (OSError, KeyError, TypeError) as exc:
        raise AnsibleError("validate_role_inputs: no argument spec for role %s (%s)" % (role, exc)) from None


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("roles",))

    def _values(self, options, task_vars):
        """The variables of the spec that this host has, templated. A value built from another role's default (which
        is not loaded here) cannot be templated yet: that role checks it itself when it runs."""
        values = {}
        for name in options:
            if name not in task_vars:
                continue
            try:
                values[name] = self._templar.template(task_vars[name])
            except AnsibleError:
                continue
        return values

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        spec = {"roles": {"type": "list", "elements": "str", "required": True}}
        roles = self.validate_argument_spec(argument_spec=spec)[1]["roles"]
        errors, checked = [], {}
        for role in roles:
            options = role_options(role)
            values = self._values(options, task_vars or {})
            checked[role] = sorted(values)
            validation = ArgumentSpecValidator(options).validate(values, validate_role_argument_spec=True)
            errors.extend("%s: %s" % (role, msg) for msg in validation.error_messages)
        result.update(changed=False, checked=checked)
        if errors:
            result.update(failed=True, msg="bad role input: " + "; ".join(errors), argument_errors=errors)
        return result
