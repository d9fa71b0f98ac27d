#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: codescoring_admin_password
short_description: Set a CodeScoring user's password in the backend pod without a TTY
version_added: 0.3.0
description:
  - The unattended equivalent of C(kubectl exec -it BACKEND -- python manage.py changepassword USER) from
    CodeScoring's installation guide, which prompts on a TTY.
  - Picks a ready pod of the backend (O(selector)) and runs C(python manage.py shell -c SCRIPT) in it through the
    Kubernetes exec API. The script is fixed and holds no secret; the user name and the password reach it on
    standard input as one JSON line, so the password is on no command line (neither here nor in the pod).
  - The script checks the password first (C(check_password)) and sets it only when it differs, after Django's
    password validators accepted it, as C(changepassword) does. So the module is idempotent and reports a change
    only when the password was (or in check mode would be) changed.
  - In check mode the script only checks.
author:
  - baremetal.k8s maintainers (!UNKNOWN)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
requirements:
  - kubernetes >= 24.2.0 (Python client, on the host that runs the module)
options:
  namespace:
    description: Namespace of the CodeScoring release.
    type: str
    required: true
  selector:
    description: Label selector of the backend pods (one ready pod is used).
    type: str
    default: app=ipcs-backend
  container:
    description: Container to run in; the pod's first container when not set.
    type: str
  username:
    description: The Django user whose password is set (the superuser).
    type: str
    required: true
  password:
    description: The new password.
    type: str
    required: true
  python:
    description: The Python interpreter in the backend image.
    type: str
    default: python
  manage_py:
    description: Path of C(manage.py) in the backend image (relative to the container's working directory).
    type: str
    default: manage.py
  timeout:
    description: Seconds to wait for the command.
    type: int
    default: 120
notes:
  - Needs exec rights on pods (C(pods/exec) create) in O(namespace).
  - The password is never returned or logged; the task needs no C(no_log) for it.
seealso:
  - module: kubernetes.core.k8s_exec
"""

EXAMPLES = r"""
- name: The admin's password, as codescoring_superuser_password says
  baremetal.k8s.codescoring_admin_password:
    namespace: codescoring
    username: admin
    password: "{{ codescoring_superuser_password }}"
    kubeconfig: /etc/kubernetes/admin.conf
"""

RETURN = r"""
pod:
  description: The pod the command ran in.
  returned: always
  type: str
  sample: ipcs-backend-6d9f7c7b8-x2x4q
result:
  description: What the script found - C(unchanged), C(changed) (or would change, in check mode).
  returned: success
  type: str
  sample: changed
command:
  description: The command run in the pod (it holds no secret).
  returned: always
  type: list
  elements: str
"""

import json

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from kubernetes.client import CoreV1Api
    from kubernetes.stream import stream

    HAS_KUBERNETES = True
except ImportError:
    HAS_KUBERNETES = False

MARK = "CODESCORING_PASSWORD:"

# Runs inside the backend's Django (manage.py shell -c). It reads {"username", "password", "apply"} from one line
# of standard input, so no secret is in the pod's argv. Exit 3: no such user; 4: the validators refused it.
SCRIPT = "\n".join(
    [
        "import json, sys",
        "from django.contrib.auth import get_user_model, password_validation",
        "from django.core.exceptions import ValidationError",
        "req = json.loads(sys.stdin.readline())",
        "User = get_user_model()",
        "try:",
        "    user = User._default_manager.get_by_natural_key(req['username'])",
        "except User.DoesNotExist:",
        "    print('" + MARK + "nouser'); raise SystemExit(3)",
        "if user.check_password(req['password']):",
        "    print('" + MARK + "unchanged'); raise SystemExit(0)",
        "try:",
        "    password_validation.validate_password(req['password'], user)",
        "except ValidationError as err:",
        "    print('" + MARK + "invalid ' + json.dumps(list(err.messages))); raise SystemExit(4)",
        "if req['apply']:",
        "    user.set_password(req['password'])",
        "    user.save()",
        "print('" + MARK + "changed')",
    ]
)


def command(params):
    """The argv run in the pod: fixed, without the user name or the password."""
    return [params["python"], params["manage_py"], "shell", "-c", SCRIPT]


def stdin_line(params, check_mode):
    return json.dumps({"username": params["username"], "password": params["password"], "apply": not check_mode}) + "\n"


def ready(pod):
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    if meta.get("deletionTimestamp") or status.get("phase") != "Running":
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


def outcome(stdout, rc):
    """(result, error) from the script's output and exit code."""
    found = [line[len(MARK) :] for line in (stdout or "").splitlines() if line.startswith(MARK)]
    last = found[-1] if found else ""
    if rc == 0 and last in ("changed", "unchanged"):
        return last, None
    if last == "nouser":
        return None, "the user does not exist (the chart creates the superuser on the first install only)"
    if last.startswith("invalid"):
        return None, "Django's password validators refused the password: %s" % last[len("invalid") :].strip()
    return None, "the command failed (exit code %s) without a result line" % rc


def run(params, api, check_mode):
    """Find a ready backend pod, run the script with the request on stdin; returns the result dict or raises."""
    pods = [p for p in api.list_pods(params["namespace"], params["selector"]) if ready(p)]
    if not pods:
        raise RuntimeError("no ready pod matches %s in namespace %s" % (params["selector"], params["namespace"]))
    pod = sorted(pods, key=lambda p: p["metadata"]["name"])[0]
    container = params["container"] or pod["spec"]["containers"][0]["name"]
    argv = command(params)
    name = pod["metadata"]["name"]
    try:
        stdout, stderr, rc = api.exec_stdin(
            params["namespace"], name, container, argv, data=stdin_line(params, check_mode), timeout=params["timeout"]
        )
    except Exception as err:  # the API's and the websocket's errors; none carries the request's standard input
        raise RuntimeError("pod %s: exec failed: %s" % (name, err)) from None
    result, error = outcome(stdout, rc)
    if error:
        raise RuntimeError("pod %s: %s; stderr: %s" % (name, error, (stderr or "")[-2000:]))
    return {"changed": result == "changed", "result": result, "pod": name, "command": argv[:4] + ["SCRIPT"]}


class PodApi(object):
    """Pod listing and exec with standard input, through kubernetes.core's client configuration."""

    def __init__(self, client):
        self.core = CoreV1Api(client.client.client)

    def list_pods(self, namespace, selector):
        items = self.core.list_namespaced_pod(namespace, label_selector=selector).items
        return [self.core.api_client.sanitize_for_serialization(p) for p in items]

    def exec_stdin(self, namespace, pod, container, argv, *, data, timeout):
        resp = stream(
            self.core.connect_get_namespaced_pod_exec,
            pod,
            namespace,
            container=container,
            command=argv,
            stdin=True,
            stdout=True,
            stderr=True,
            tty=False,
            _preload_content=False,
        )
        try:
            resp.write_stdin(data)
            resp.run_forever(timeout=timeout)
            stdout, stderr = resp.read_stdout(), resp.read_stderr()
            rc = resp.returncode
        finally:
            resp.close()
        return stdout, stderr, rc


def main():
    spec = dict(AUTH_ARG_SPEC)
    spec.update(
        namespace=dict(type="str", required=True),
        selector=dict(type="str", default="app=ipcs-backend"),
        container=dict(type="str"),
        username=dict(type="str", required=True),
        password=dict(type="str", required=True, no_log=True),
        python=dict(type="str", default="python"),
        manage_py=dict(type="str", default="manage.py"),
        timeout=dict(type="int", default=120),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"))
    auth = dict((k, module.params[k]) for k in AUTH_ARG_SPEC if module.params.get(k) is not None)
    try:
        module.exit_json(**run(module.params, PodApi(get_api_client(**auth)), module.check_mode))
    except Exception as err:  # the API's and the stream's errors alike; none carries the password
        module.fail_json(msg="codescoring_admin_password: %s" % err, pod=None, command=command(module.params)[:4])


if __name__ == "__main__":
    main()
