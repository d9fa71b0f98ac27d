# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the node_prep role (documented in the *.yml files here)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def _words(value):
    return " ".join(str(value).split())


def sysctl_not_live(wanted, sysctl_lines):
    """The items of wanted ({key: value}) whose value in `sysctl KEY...` output ("KEY = VALUE" lines) is missing or
    differs, whitespace-insensitively (a tab-separated range reads like the same range with spaces)."""
    if not isinstance(wanted, Mapping):
        raise AnsibleFilterError("sysctl_not_live: the input must be a dict of sysctl keys to values")
    live = {}
    for line in sysctl_lines or []:
        key, sep, value = str(line).partition(" = ")
        if sep:
            live[key.strip().replace("/", ".")] = value
    return [
        {"key": key, "value": value}
        for key, value in wanted.items()
        if key.replace("/", ".") not in live or _words(live[key.replace("/", ".")]) != _words(value)
    ]


# An active swap entry of /etc/fstab: not a comment, its third field (the type) is swap. The role's replace task
# comments exactly these lines.
FSTAB_SWAP = r"^(\s*[^#\s]\S*\s+\S+\s+swap(\s.*)?)$"


def fstab_swap_entries(fstab):
    """The lines of an fstab text (None: no file) that mount swap and are not commented out."""
    if fstab is None:
        return []
    if not isinstance(fstab, str):
        raise AnsibleFilterError("fstab_swap_entries: the input must be the text of /etc/fstab")
    return [line for line in fstab.splitlines() if re.match(FSTAB_SWAP, line)]


class FilterModule(object):
    def filters(self):
        return {"sysctl_not_live": sysctl_not_live, "fstab_swap_entries": fstab_swap_entries}
