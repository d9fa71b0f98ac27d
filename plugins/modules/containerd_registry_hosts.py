#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: containerd_registry_hosts
short_description: Keep containerd's per-registry hosts.toml files in one step
version_added: 0.1.0
description:
  - Writes C(<path>/<registry>/hosts.toml) for every entry of O(registries), each starting with O(marker), and
    removes the directories of registries whose C(hosts.toml) carries the marker but that are no longer listed.
    Directories without the marker (written by someone else) are left alone.
  - One module run per host instead of a task per registry (the role's no-op run time); containerd reads these
    files at each pull, so nothing is restarted.
  - Used by the C(baremetal.k8s.containerd) role; its C(containerd_registries) documents the entries.
author:
  - baremetal.k8s maintainers (!UNKNOWN)
extends_documentation_fragment:
  - action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  path:
    description: containerd's registry C(config_path) directory; made (0755) when missing.
    type: path
    required: true
  registries:
    description:
      - Registry name (as images name it, C(host[:port]) or C(_default)) to its entry, a dict with C(server)
        and/or C(hosts) (mirror URL to its options).
    type: dict
    required: true
  marker:
    description: The first line of every file this module writes; how it recognises its own directories.
    type: str
    default: "# Managed by baremetal.k8s.containerd"
"""

EXAMPLES = r"""
- name: Point docker.io at a mirror and trust a plain-HTTP registry
  baremetal.k8s.containerd_registry_hosts:
    path: /etc/containerd/certs.d
    registries:
      docker.io:
        server: https://registry-1.docker.io
        hosts:
          https://mirror.example.internal:5000: {capabilities: [pull, resolve]}
      10.0.0.5:5000:
        server: http://10.0.0.5:5000
"""

RETURN = r"""
written:
  description: The registries whose hosts.toml was written (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: ["docker.io"]
removed:
  description: The registry directories removed because they are no longer listed.
  returned: always
  type: list
  elements: str
  sample: ["/etc/containerd/certs.d/quay.io"]
"""

import os
import re
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.baremetal.k8s.plugins.module_utils import containerd_config as cc

_REGISTRY_NAME = re.compile(r"^([A-Za-z0-9._-]+(:[0-9]+)?|_default)$")
_FILE = "hosts.toml"


def render(registries, marker):
    """{registry: hosts.toml text}; raises ContainerdConfigError on a bad entry."""
    out = {}
    for name, entry in registries.items():
        if not _REGISTRY_NAME.match(str(name)) or str(name) in (".", ".."):
            raise cc.ContainerdConfigError("registry name %r is not host[:port] or _default" % (name,))
        try:
            out[str(name)] = marker + "\n" + cc.to_toml(cc.hosts_config(entry))
        except cc.ContainerdConfigError as err:
            raise cc.ContainerdConfigError("registry %s: %s" % (name, err)) from None
    return out


def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except UnicodeDecodeError:
        return ""


def plan(path, wanted, marker):
    """What to change: ({registry: (before, after)} to write, [directories] to remove)."""
    writes = {}
    for name, content in sorted(wanted.items()):
        target = os.path.join(path, name, _FILE)
        before = _read(target)
        if before != content or (os.stat(target).st_mode & 0o7777) != 0o644:
            writes[name] = (before, content)
    removes = []
    if os.path.isdir(path):
        for name in sorted(os.listdir(path)):
            if name in wanted:
                continue
            current = _read(os.path.join(path, name, _FILE))
            if current is not None and marker in current.splitlines():
                removes.append(os.path.join(path, name))
    return writes, removes


def _write(directory, content):
    os.makedirs(directory, mode=0o755, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".hosts.toml.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, os.path.join(directory, _FILE))
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def apply(path, writes, removes):
    os.makedirs(path, mode=0o755, exist_ok=True)
    for name, (_before, after) in writes.items():
        _write(os.path.join(path, name), after)
    for directory in removes:
        shutil.rmtree(directory)


def diffs(path, writes, removes):
    out = []
    for name, (before, after) in writes.items():
        target = os.path.join(path, name, _FILE)
        out.append({"before_header": target, "after_header": target, "before": before or "", "after": after})
    for directory in removes:
        target = os.path.join(directory, _FILE)
        out.append(
            {
                "before_header": target,
                "after_header": "%s (removed)" % directory,
                "before": _read(target) or "",
                "after": "",
            }
        )
    return out


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            registries=dict(type="dict", required=True),
            marker=dict(type="str", default="# Managed by baremetal.k8s.containerd"),
        ),
        supports_check_mode=True,
    )
    path, marker = module.params["path"], module.params["marker"]
    if not marker.strip() or "\n" in marker:
        module.fail_json(msg="marker must be one non-empty line")
    try:
        wanted = render(module.params["registries"], marker)
    except cc.ContainerdConfigError as err:
        module.fail_json(msg="registries: %s" % err)
    writes, removes = plan(path, wanted, marker)
    changed = bool(writes or removes or not os.path.isdir(path))
    result = dict(changed=changed, written=sorted(writes), removed=removes)
    if module._diff:
        result["diff"] = diffs(path, writes, removes)
    if changed and not module.check_mode:
        try:
            apply(path, writes, removes)
        except OSError as err:
            module.fail_json(msg="cannot update %s: %s" % (path, err), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
