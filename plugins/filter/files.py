# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters on what baremetal.k8s.host_probe read of a host's files (documented in the *.yml files here)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def sha1_of(text):
    """The checksum Ansible's stat and copy use for a file (SHA-1: a content identity, not a security check)."""
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def file_matches(probed, content, mode, owner="root", group="root"):
    """Whether a host_probe stat entry is a regular file holding exactly content (None: any content), with this
    mode, owner and group."""
    if not isinstance(probed, Mapping):
        raise AnsibleFilterError("file_matches: the input must be one path's entry of host_probe's stat result")
    if content is not None and not isinstance(content, str):
        raise AnsibleFilterError("file_matches: content must be a string (or null to compare the attributes only)")
    return bool(
        probed.get("exists")
        and probed.get("type") == "file"
        and (content is None or probed.get("checksum") == sha1_of(content))
        and probed.get("mode") == "%04o" % int(str(mode), 8)
        and probed.get("owner") == owner
        and probed.get("group") == group
    )


def dir_matches(probed, mode, owner="root", group="root"):
    """Whether a host_probe stat entry is a directory with this mode, owner and group."""
    if not isinstance(probed, Mapping):
        raise AnsibleFilterError("dir_matches: the input must be one path's entry of host_probe's stat result")
    return bool(
        probed.get("exists")
        and probed.get("type") == "directory"
        and probed.get("mode") == "%04o" % int(str(mode), 8)
        and probed.get("owner") == owner
        and probed.get("group") == group
    )


def block_present(text, block, marker):
    """Whether text (None: no file) holds block between marker's BEGIN and END lines as blockinfile writes it."""
    if text is None:
        return False
    if not isinstance(text, str) or not isinstance(block, str) or "{mark}" not in str(marker):
        raise AnsibleFilterError("block_present: text and block must be strings, marker must contain {mark}")
    lines = [marker.replace("{mark}", "BEGIN")] + block.splitlines() + [marker.replace("{mark}", "END")]
    return ("\n" + "\n".join(lines) + "\n") in ("\n" + text if text.endswith("\n") else "\n" + text + "\n")


class FilterModule(object):
    def filters(self):
        return {"file_matches": file_matches, "dir_matches": dir_matches, "block_present": block_present}
