# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side implementation of baremetal.k8s.warn: messages become Ansible warnings, never a failure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("msg",))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        spec = {"msg": {"type": "list", "elements": "str", "required": True}}
        args = self.validate_argument_spec(argument_spec=spec)[1]
        messages = [to_text(m) for m in args["msg"] if m]
        result.update(changed=False, warned=messages, warnings=messages)
        return result
