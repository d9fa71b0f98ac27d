#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: k8s_secret_files
short_description: Create Kubernetes Secrets from secret files, literals and registry credentials without leaking them
version_added: 0.1.0
description:
  - Builds one Kubernetes Secret from a directory of C(*.secret) files (DevStats' layout), single files,
    literal values and container registry credentials, and keeps it in sync idempotently.
  - Sources are read on the controller by the action plugin of the same name. Files may be encrypted with
    ansible-vault; they are decrypted on the controller into a mode 0600 temporary file that is always removed.
  - Every input is validated before the API is called (key names, required keys, example values left
    unchanged, empty values); bad input fails with a message naming keys and files and writes nothing.
  - Compares the decoded bytes of each key with the live Secret (the C(.dockerconfigjson) key as parsed JSON)
    and replaces the Secret only when something differs. No C(last-applied-configuration) annotation is
    written, and one left by C(kubectl apply) is removed because it carries the data.
  - Results, check mode and diff mode show key names only, never values, their base64 or hashes.
  - Part of the action group C(baremetal.k8s.k8s), so C(module_defaults) can set the connection options.
author:
  - baremetal.k8s maintainers (!UNKNOWN)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - action_common_attributes
  - action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
requirements:
  - kubernetes >= 24.2.0 (Python client, on the host that runs the module)
options:
  name:
    description: Name of the Secret. Required unless O(secrets) is given.
    type: str
  namespace:
    description: Namespace of the Secret. It must exist, unless O(create_namespace) is set.
    type: str
    default: default
  create_namespace:
    description:
      - Create the namespace of a Secret that is not there yet, when the namespace is missing too (like
        C(helm --create-namespace)). A run that finds the Secret reads nothing more.
    type: bool
    default: false
  secrets:
    description:
      - Several Secrets in one module run (one connection and one API client instead of one per Secret).
      - Each item takes the options of a single Secret; an option it leaves out is the task's (O(namespace),
        O(labels), O(state), O(prune), O(strip_newline) and so on), except its own O(name), O(type), sources
        (O(directory), O(files), O(literals), O(registries)) and O(required_keys), which the task may not set.
      - The result lists each Secret's result in RV(results), in the order given.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the Secret.
        type: str
        required: true
      namespace:
        description: As O(namespace).
        type: str
      state:
        description: As O(state).
        type: str
        choices: [present, absent]
      type:
        description: As O(type).
        type: str
      labels:
        description: As O(labels).
        type: dict
      annotations:
        description: As O(annotations).
        type: dict
      prune:
        description: As O(prune).
        type: bool
      force:
        description: As O(force).
        type: bool
      directory:
        description: As O(directory).
        type: path
      glob:
        description: As O(glob).
        type: str
      exclude:
        description: As O(exclude).
        type: list
        elements: str
      files:
        description: As O(files).
        type: list
        elements: raw
      literals:
        description: As O(literals).
        type: dict
      registries:
        description: As O(registries).
        type: list
        elements: dict
      key_naming:
        description: As O(key_naming).
        type: str
        choices: [filename, stem]
      strip_newline:
        description: As O(strip_newline).
        type: str
        choices: [auto, always, never]
      required_keys:
        description: As O(required_keys).
        type: list
        elements: str
      required_from_examples:
        description: As O(required_from_examples).
        type: bool
      allow_example_values:
        description: As O(allow_example_values).
        type: bool
      allow_empty:
        description: As O(allow_empty).
        type: bool
      data:
        description: Internal, as O(data).
        type: dict
  state:
    description: C(present) creates or updates the Secret; C(absent) deletes it (no sources are read).
    type: str
    choices: [present, absent]
    default: present
  type:
    description:
      - Secret type. Defaults to C(Opaque), or C(kubernetes.io/dockerconfigjson) when O(registries) is set.
      - The type of a live Secret cannot change; see O(force).
    type: str
  labels:
    description: Labels set on the Secret. Labels not listed here are kept.
    type: dict
    default: {}
  annotations:
    description: Annotations set on the Secret. Annotations not listed here are kept.
    type: dict
    default: {}
  prune:
    description: Remove keys of the live Secret that no source provides.
    type: bool
    default: true
  force:
    description: When the live Secret has another type, delete and recreate it instead of failing.
    type: bool
    default: false
  directory:
    description:
      - Directory on the controller whose files matching O(glob) (and no O(exclude) pattern) become keys.
        Only regular files are read, like C(kubectl create secret generic --from-file=DIR).
      - A relative path is searched in the role's C(files/) and the playbook directory.
    type: path
  glob:
    description: Shell pattern selecting files in O(directory).
    type: str
    default: "*.secret"
  exclude:
    description: Shell patterns of files in O(directory) that are never read.
    type: list
    elements: str
    default: ["*.secret.example"]
  files:
    description:
      - Single files on the controller. Each item is a path, or a mapping with C(path), optional C(key)
        (like C(--from-file=KEY=PATH)) and optional C(strip_newline) (a boolean or one of O(strip_newline)'s choices).
    type: list
    elements: raw
  literals:
    description: Key to value mapping (like C(--from-literal)); values are used byte for byte.
    type: dict
  registries:
    description:
      - Registry credentials, like C(kubectl create secret docker-registry). The Secret gets the type
        C(kubernetes.io/dockerconfigjson) and one key, C(.dockerconfigjson).
      - Each item has C(server), C(username), C(password) and optional C(email).
    type: list
    elements: dict
  key_naming:
    description:
      - How a file's key is named. C(filename) is the basename, as C(kubectl --from-file) and DevStats
        (keys keep the C(.secret) suffix). C(stem) drops the last suffix (C(PG_PASS.secret) becomes C(PG_PASS)).
    type: str
    choices: [filename, stem]
    default: filename
  strip_newline:
    description:
      - Strip exactly one trailing line ending (C(\n) or C(\r\n)) from file contents, as DevStats'
        C(truncate -s -1). C(auto) strips files named C(*.secret) only; C(always) and C(never) apply to
        every file. Literals are never stripped.
    type: str
    choices: [auto, always, never]
    default: auto
  required_keys:
    description: Keys that must be present; missing ones fail with a message listing them.
    type: list
    elements: str
    default: []
  required_from_examples:
    description:
      - Each C(NAME.secret.example) in O(directory) makes the key of C(NAME.secret) required, and the
        failure message says which example to copy.
    type: bool
    default: true
  allow_example_values:
    description: Accept a file whose content equals its C(.example) counterpart (trailing newline and blanks ignored).
    type: bool
    default: false
  allow_empty:
    description: Accept empty values (after newline stripping).
    type: bool
    default: false
  data:
    description:
      - Internal. Key to base64 value mapping that the action plugin builds from the sources. Do not set it.
    type: dict
notes:
  - Values never appear in results at any verbosity; the task does not need C(no_log) for that. Set
    C(no_log) on tasks that template secrets into other places.
seealso:
  - module: kubernetes.core.k8s
"""

EXAMPLES = r"""
- name: DevStats secrets from secrets/*.secret (keys keep the .secret suffix; every *.secret.example is required)
  baremetal.k8s.k8s_secret_files:
    name: devstats-secrets
    namespace: devstats-test
    directory: "{{ devstats_secrets_dir }}"
    kubeconfig: /etc/kubernetes/admin.conf

- name: Image pull secret, like kubectl create secret docker-registry
  baremetal.k8s.k8s_secret_files:
    name: codescoring-regcred
    namespace: codescoring
    registries:
      - server: "{{ codescoring_registry }}"
        username: "{{ codescoring_registry_username }}"
        password: "{{ codescoring_registry_password }}"

- name: ExaDeploy API key and GCS credentials (vault-encrypted file)
  baremetal.k8s.k8s_secret_files:
    name: exafunction-api-key
    namespace: exadeploy
    literals:
      api_key: "{{ exadeploy_api_key }}"
    files:
      - path: gcp-credentials.json.vault
        key: gcp-credentials.json
    required_keys: [api_key]

- name: Several Secrets in one run, the namespace made when missing (items inherit namespace and labels)
  baremetal.k8s.k8s_secret_files:
    namespace: cvat
    create_namespace: true
    labels:
      app.kubernetes.io/managed-by: baremetal.k8s
    secrets:
      - name: cvat-postgres
        literals:
          password: "{{ cvat_postgres_password }}"
      - name: cvat-redis
        literals:
          password: "{{ cvat_redis_password }}"

- name: Preview which keys would change
  baremetal.k8s.k8s_secret_files:
    name: devstats-secrets
    namespace: devstats-test
    directory: secrets
  check_mode: true
  diff: true

- name: Remove a Secret
  baremetal.k8s.k8s_secret_files:
    name: devstats-secrets
    namespace: devstats-test
    state: absent
"""

RETURN = r"""
method:
  description: What was done (or would be done in check mode).
  returned: always (with O(secrets), in each item of RV(results))
  type: str
  sample: updated
  choices: [created, updated, recreated, deleted, unchanged]
keys:
  description: Key names of the Secret after the task (empty when absent).
  returned: always (with O(secrets), in each item of RV(results))
  type: list
  elements: str
  sample: [PG_HOST.secret, PG_PASS.secret]
keys_added:
  description: Key names added.
  returned: always (with O(secrets), in each item of RV(results))
  type: list
  elements: str
keys_changed:
  description: Key names whose value changed.
  returned: always (with O(secrets), in each item of RV(results))
  type: list
  elements: str
  sample: [PG_PASS.secret]
keys_removed:
  description: Key names removed.
  returned: always (with O(secrets), in each item of RV(results))
  type: list
  elements: str
metadata_changed:
  description: Labels, annotations and type that changed, by name.
  returned: always (with O(secrets), in each item of RV(results))
  type: list
  elements: str
  sample: ["label app.kubernetes.io/part-of"]
sources:
  description: Where each key came from (a file path, C(literals) or C(registries)); returned by the action plugin.
  returned: when state is present
  type: dict
namespace_created:
  description: The namespace was missing and was created (or would be, in check mode); see O(create_namespace).
  returned: when the namespace was missing
  type: bool
results:
  description:
    - With O(secrets), each Secret's result (the keys above, with its C(name) and C(namespace)) in the order given;
      the task is changed when one of them is. Without O(secrets), the keys above are the task's result itself.
  returned: when O(secrets) is given
  type: list
  elements: dict
secret:
  description: Identity of the Secret; no data.
  returned: always (with O(secrets), in each item of RV(results))
  type: dict
  sample: {name: devstats-secrets, namespace: devstats-test, type: Opaque, resource_version: "1234"}
"""

import base64
import binascii
import json

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.baremetal.k8s.plugins.module_utils.secret_args import (
    AUTH_ARGS,
    MUTUALLY_EXCLUSIVE,
    REQUIRED_ONE_OF,
    module_spec,
    secret_items,
)
from ansible_collections.baremetal.k8s.plugins.module_utils.secret_files import (
    SecretInputError,
    scrub,
    validate_keys,
)
from ansible_collections.baremetal.k8s.plugins.module_utils.secret_reconcile import plan

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from kubernetes.client.rest import ApiException

    HAS_KUBERNETES = True
except ImportError:
    HAS_KUBERNETES = False

    class ApiException(Exception):
        """Stands in for kubernetes' ApiException when the library is missing (main() fails before any call)."""


FIELD_MANAGER = "baremetal.k8s"
METHODS = {"create": "created", "update": "updated", "recreate": "recreated", "delete": "deleted", "none": "unchanged"}


class SecretApi(object):
    """The four calls this module makes, through kubernetes.core's client (K8SClient and its dynamic
    resources). Objects come back as plain dicts of the API's JSON, so no field of the live object is lost."""

    def __init__(self, client):
        self.client = client
        self.secrets = client.resource("Secret", "v1")
        self.namespaces = None

    def namespace_exists(self, namespace):
        self.namespaces = self.namespaces or self.client.resource("Namespace", "v1")
        try:
            self.client.get(self.namespaces, name=namespace)
            return True
        except ApiException as err:
            if err.status == 404:
                return False
            raise

    def create_namespace(self, namespace):
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
        self.client.create(self.namespaces, body, field_manager=FIELD_MANAGER)

    def read(self, name, namespace):
        try:
            return self.client.get(self.secrets, name=name, namespace=namespace).to_dict()
        except ApiException as err:  # the dynamic client's NotFoundError is one
            if err.status == 404:
                return None
            raise

    def create(self, namespace, body):
        return self.client.create(self.secrets, body, namespace=namespace, field_manager=FIELD_MANAGER).to_dict()

    def replace(self, name, namespace, body):
        return self.client.replace(
            self.secrets, body, name=name, namespace=namespace, field_manager=FIELD_MANAGER
        ).to_dict()

    def delete(self, name, namespace):
        self.client.delete(self.secrets, name=name, namespace=namespace)


def _api_message(err):
    try:
        body = json.loads(err.body)
        return "%s (HTTP %s)" % (body.get("message") or err.reason, err.status)
    except (TypeError, ValueError, AttributeError):
        return "HTTP %s %s" % (getattr(err, "status", "?"), getattr(err, "reason", ""))


def _decode(module, data):
    try:
        return dict((k, base64.b64decode(v, validate=True)) for k, v in (data or {}).items())
    except (TypeError, binascii.Error):
        module.fail_json(msg="data must map keys to base64 strings", exception=None)


def _identity(obj, name, namespace, secret_type):
    meta = (obj or {}).get("metadata") or {}
    return {
        "name": name,
        "namespace": namespace,
        "type": (obj or {}).get("type") or secret_type,
        "resource_version": meta.get("resourceVersion"),
    }


def run(module, api, p=None):
    """Reconcile one Secret (p: its parameters, by default the module's) and return its result."""
    p = p or module.params
    api.where = "%s/%s" % (p["namespace"], p["name"])
    desired = None
    if p["state"] == "present":
        if p["data"] is None:
            module.fail_json(msg="data is missing: run k8s_secret_files as a task, its action plugin reads the sources")
        desired = _decode(module, p["data"])
        validate_keys(desired)
    secret_type = p["type"] or "Opaque"

    live = api.read(p["name"], p["namespace"])
    todo = plan(
        live,
        name=p["name"],
        namespace=p["namespace"],
        state=p["state"],
        secret_type=secret_type,
        data=desired,
        labels=p["labels"],
        annotations=p["annotations"],
        prune=p["prune"],
        force=p["force"],
    )
    if todo.action == "type_conflict":
        module.fail_json(
            msg="Secret %s/%s has type %s; its type cannot change to %s (set force: true to delete and "
            "recreate it)" % (p["namespace"], p["name"], live.get("type"), secret_type)
        )

    result = dict(
        changed=todo.is_change,
        method=METHODS[todo.action],
        keys=sorted(desired) if desired is not None else [],
        keys_added=todo.added,
        keys_changed=todo.changed,
        keys_removed=todo.removed,
        metadata_changed=todo.metadata,
    )
    if desired is not None and not p["prune"]:
        result["keys"] = sorted(set(desired) | set((live or {}).get("data") or {}))
    if module._diff:
        result["diff"] = todo.diff
    after = live
    # Only a Secret that is not there may lack its namespace: a no-op run reads nothing more.
    if todo.action == "create" and module.params.get("create_namespace") and not api.namespace_exists(p["namespace"]):
        result["namespace_created"] = True
        if not module.check_mode:
            api.create_namespace(p["namespace"])
    if todo.is_change and not module.check_mode:
        if todo.action == "create":
            after = api.create(p["namespace"], todo.body)
        elif todo.action == "update":
            after = api.replace(p["name"], p["namespace"], todo.body)
        elif todo.action == "recreate":
            api.delete(p["name"], p["namespace"])
            after = api.create(p["namespace"], todo.body)
        elif todo.action == "delete":
            api.delete(p["name"], p["namespace"])
            after = None
    result["secret"] = _identity(after, p["name"], p["namespace"], secret_type if p["state"] == "present" else None)
    return result


def _where(api, items):
    """The Secret being worked on when an error came (the first one before any API call)."""
    return getattr(api, "where", None) or "%s/%s" % (items[0]["namespace"], items[0]["name"])


def run_all(module, api, items):
    """The result of the task: one Secret's own, or for `secrets` each item's in `results`, in order."""
    if module.params.get("secrets") is None:
        return run(module, api, items[0])
    results = []
    for item in items:
        one = run(module, api, item)
        results.append(dict(one, name=item["name"], namespace=item["namespace"]))
    out = dict(changed=any(r["changed"] for r in results), results=results)
    if module._diff:
        out["diff"] = [r.pop("diff") for r in results if "diff" in r]
    return out


def main():
    module = AnsibleModule(
        argument_spec=module_spec(),
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        required_one_of=REQUIRED_ONE_OF,
        supports_check_mode=True,
    )
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"))
    items = secret_items(module.params)
    values = [v for item in items for v in _decode(module, item.get("data")).values()]
    auth = dict((k, module.params[k]) for k in AUTH_ARGS if module.params.get(k) is not None)
    api = None
    try:
        api = SecretApi(get_api_client(**auth))
        module.exit_json(**run_all(module, api, items))
    except SecretInputError as err:
        module.fail_json(msg=scrub(str(err), values), exception=None)
    except ApiException as err:
        module.fail_json(
            msg="Kubernetes API error on Secret %s: %s" % (_where(api, items), scrub(_api_message(err), values)),
            exception=None,
        )
    except Exception as err:  # connection and configuration errors: message only, scrubbed
        module.fail_json(
            msg="cannot manage Secret %s: %s" % (_where(api, items), scrub(str(err), values)), exception=None
        )


if __name__ == "__main__":
    main()
