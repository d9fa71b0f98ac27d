# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of baremetal.k8s.k8s_secret_files.

Finds and reads the secret sources on the controller (decrypting ansible-vault files into a 0600 temp file
that is removed in a finally block), validates everything, then runs the module on the target with the
data as one no_log parameter. Results carry key names only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible_collections.baremetal.k8s.plugins.module_utils.secret_args import (
    AUTH_ARGS,
    MUTUALLY_EXCLUSIVE,
    REQUIRED_ONE_OF,
    SECRET_ARG_SPEC,
    TASK_ARG_SPEC,
    action_spec,
    secret_items,
)
from ansible_collections.baremetal.k8s.plugins.module_utils.secret_files import (
    SecretInputError,
    encode_data,
    scrub,
)
from ansible_collections.baremetal.k8s.plugins.module_utils.secret_sources import collect

MODULE = "baremetal.k8s.k8s_secret_files"


def _raw_secrets(args):
    """Values given inline (literals, registry credentials), of the task and its items: masked in any message this
    plugin returns."""
    values = [
        v if isinstance(v, (str, bytes)) else str(v)
        for v in (args.get("literals") or {}).values()
        if isinstance(v, (str, bytes, int, float))
    ]
    for registry in args.get("registries") or []:
        if isinstance(registry, dict):
            values.extend(v for k, v in registry.items() if k != "server" and isinstance(v, str))
    for item in args.get("secrets") or []:
        if isinstance(item, dict):
            values.extend(_raw_secrets(item))
    return values


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def _resolve(self, path, kind):
        try:
            return self._find_needle("files", path)
        except AnsibleError:
            raise SecretInputError(
                "secret %s %s not found (relative paths are searched in the role's files/ "
                "and the playbook directory)" % (kind, path)
            ) from None

    def _read(self, path):
        real = None
        try:
            real = self._loader.get_real_file(path, decrypt=True)
            with open(real, "rb") as handle:
                return handle.read()
        except AnsibleError as err:
            # Vault errors name the file and the vault id, never the content.
            cause = err.__cause__
            if isinstance(cause, OSError) and cause.strerror:
                reason = cause.strerror
            else:
                reason = to_text(getattr(err, "message", err)).splitlines()[0]
            raise SecretInputError("cannot read %s: %s" % (path, reason)) from None
        except OSError as err:
            raise SecretInputError("cannot read %s: %s" % (path, err.strerror or err.__class__.__name__)) from None
        finally:
            if real is not None:
                self._loader.cleanup_tmp_file(real)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        raw = dict(self._task.args)
        masked = _raw_secrets(raw)
        items, collected = [], []
        try:
            args = self.validate_argument_spec(
                argument_spec=action_spec(), mutually_exclusive=MUTUALLY_EXCLUSIVE, required_one_of=REQUIRED_ONE_OF
            )[1]
            items = secret_items(args)
            for index, item in enumerate(items):
                try:
                    found = collect(item, self._resolve, self._read) if item["state"] == "present" else None
                except SecretInputError as err:
                    if args.get("secrets") is None:
                        raise
                    raise SecretInputError("secrets[%d] (%s): %s" % (index, item["name"], err)) from None
                collected.append(found)
                masked.extend(found.data.values() if found is not None else [])
        except (SecretInputError, AnsibleError) as err:
            msg = to_text(getattr(err, "message", None) or err)
            result.update(failed=True, changed=False, msg=scrub(msg, masked))
            return result

        module_items = []
        for item, found in zip(items, collected, strict=True):
            module_item = dict((k, item[k]) for k in SECRET_ARG_SPEC)
            if found is not None:
                module_item["type"] = found.type
                module_item["data"] = encode_data(found.data)
            module_items.append(module_item)
        if args.get("secrets") is None:
            module_args = module_items[0]
        else:
            module_args = dict(secrets=module_items)
        module_args.update((k, args[k]) for k in TASK_ARG_SPEC)
        module_args.update((k, args[k]) for k in AUTH_ARGS if args.get(k) is not None)

        module_result = self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars)
        for key in ("msg", "warnings"):
            if isinstance(module_result.get(key), str):
                module_result[key] = scrub(module_result[key], masked)
        result.update(module_result)
        sources = [
            dict((k, found.origins[k]) for k in sorted(found.origins)) if found is not None else None
            for found in collected
        ]
        if args.get("secrets") is None:
            if sources[0] is not None:
                result["sources"] = sources[0]
        else:
            for one, origin in zip(result.get("results") or [], sources, strict=False):
                if origin is not None:
                    one["sources"] = origin
        return result
