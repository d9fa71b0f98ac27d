#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: host_probe
short_description: Read several files, file attributes and read-only command outputs of a host in one run
version_added: 0.1.0
description:
  - Everything a role needs to know about a host before it decides what to change, read in one module run where a
    C(slurp), C(stat) and C(command) task each would be a run of its own. Changes nothing.
  - The node roles (C(node_prep), C(containerd), C(kubernetes_packages)) call it once each, and skip a task whose
    target already holds what the task would write (see the C(file_matches) filter).
  - O(commands) must only read, as they run in check mode too.
author:
  - baremetal.k8s maintainers (!UNKNOWN)
extends_documentation_fragment:
  - action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  read:
    description: Text files whose content is returned (a missing or unreadable file gives null).
    type: list
    elements: path
    default: []
  stat:
    description: Paths whose type, mode, owner, group and (regular files) SHA-1 checksum are returned.
    type: list
    elements: path
    default: []
  commands:
    description:
      - Name to argv (a list, no shell) of commands that only read; each result is C(rc), C(stdout), C(stderr).
      - A command that is not installed gives rc 127 instead of failing the module.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Swap, a file's checksum and the installed packages in one run
  baremetal.k8s.host_probe:
    read: [/proc/swaps]
    stat: [/etc/sysctl.d/99-kubernetes.conf, /sys/module/br_netfilter]
    commands:
      dpkg: [dpkg-query, --show, "--showformat=${Package} ${Version} ${Status}\\n", curl, gpg]
  register: probe

- name: Only when the file is not already what we write
  ansible.builtin.copy:
    dest: /etc/sysctl.d/99-kubernetes.conf
    content: "{{ sysctl_content }}"
    mode: "0644"
  when: not probe.stat['/etc/sysctl.d/99-kubernetes.conf'] | baremetal.k8s.file_matches(sysctl_content, '0644')
"""

RETURN = r"""
content:
  description: Path (as given in O(read)) to its text, null when it cannot be read.
  returned: always
  type: dict
  sample: {"/proc/swaps": "Filename\tType\tSize\tUsed\tPriority\n"}
stat:
  description:
    - Path (as given in O(stat)) to C(exists), and when it exists C(type) (file, directory, link, other), C(mode)
      (octal string), C(owner), C(group), and C(checksum) (SHA-1 of a regular file's content).
    - A symbolic link is followed, as C(copy) and C(file) do.
  returned: always
  type: dict
  sample: {"/etc/containerd": {"exists": true, "type": "directory", "mode": "0755", "owner": "root", "group": "root"}}
commands:
  description: Name (as given in O(commands)) to its C(rc), C(stdout) and C(stderr).
  returned: always
  type: dict
  sample: {"dpkg": {"rc": 0, "stdout": "curl 7.88.1-10 install ok installed\n", "stderr": ""}}
"""

import grp
import hashlib
import os
import pwd
import stat as stat_mod

from ansible.module_utils.basic import AnsibleModule

MAX_READ = 1024 * 1024


def read_text(path):
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_READ).decode("utf-8", "replace")
    except (IOError, OSError):
        return None


def _name(lookup, ident):
    try:
        return lookup(ident)[0]
    except KeyError:
        return str(ident)


def stat_path(path):
    try:
        st = os.stat(path)
    except (IOError, OSError):
        return {"exists": False}
    if stat_mod.S_ISREG(st.st_mode):
        kind = "file"
    elif stat_mod.S_ISDIR(st.st_mode):
        kind = "directory"
    else:
        kind = "other"
    out = {
        "exists": True,
        "type": kind,
        "mode": "%04o" % stat_mod.S_IMODE(st.st_mode),
        "owner": _name(pwd.getpwuid, st.st_uid),
        "group": _name(grp.getgrgid, st.st_gid),
    }
    if kind == "file":
        digest = hashlib.sha1()  # noqa: S324 - the checksum stat and copy report: a content identity, not security
        try:
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(65536), b""):
                    digest.update(block)
            out["checksum"] = digest.hexdigest()
        except (IOError, OSError):
            out["checksum"] = None
    return out


def main():
    module = AnsibleModule(
        argument_spec=dict(
            read=dict(type="list", elements="path", default=[]),
            stat=dict(type="list", elements="path", default=[]),
            commands=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    commands = {}
    for name, given in module.params["commands"].items():
        if not isinstance(given, list) or not given or not all(isinstance(a, (str, int)) for a in given):
            module.fail_json(msg="host_probe: commands.%s must be a non-empty list of strings (an argv)" % name)
        argv = [str(a) for a in given]
        binary = module.get_bin_path(argv[0]) if "/" not in argv[0] else argv[0]
        if not binary or not os.path.exists(binary):
            commands[name] = {"rc": 127, "stdout": "", "stderr": "%s: not found" % argv[0]}
            continue
        rc, out, err = module.run_command([binary] + argv[1:])
        commands[name] = {"rc": rc, "stdout": out, "stderr": err}
    module.exit_json(
        changed=False,
        content=dict((path, read_text(path)) for path in module.params["read"]),
        stat=dict((path, stat_path(path)) for path in module.params["stat"]),
        commands=commands,
    )


if __name__ == "__main__":
    main()
