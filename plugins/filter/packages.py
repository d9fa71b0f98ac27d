# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters on Debian package state (documented in the *.yml files here)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError


def _installed(lines):
    """{package: version} of the packages dpkg reports installed, from `dpkg-query --show
    --showformat='${Package} ${Version} ${Status}\\n'` lines (status "<want> ok installed"; no version when absent)."""
    out = {}
    for line in lines or []:
        fields = str(line).split()
        if len(fields) in (4, 5) and fields[-2:] == ["ok", "installed"]:
            out[fields[0]] = fields[1] if len(fields) == 5 else ""
    return out


# What the filters below read: one "package version status" line per package (no version when not installed).
DPKG_QUERY = ["dpkg-query", "--show", "--showformat=${Package} ${Version} ${Status}\n"]


def dpkg_query_argv(names):
    """The dpkg-query argv whose output dpkg_missing and dpkg_installed read, for these package names."""
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise AnsibleFilterError("dpkg_query_argv: the input must be a list of package names")
    return DPKG_QUERY + [str(name) for name in names]


def dpkg_missing(wanted, dpkg_lines):
    """The entries of wanted ("name" or "name=version") that dpkg does not report installed (at that version)."""
    if isinstance(wanted, str) or not isinstance(wanted, (list, tuple)):
        raise AnsibleFilterError("dpkg_missing: the input must be a list of package names (name or name=version)")
    installed = _installed(dpkg_lines)
    missing = []
    for entry in wanted:
        name, sep, version = str(entry).partition("=")
        name = name.split(":", maxsplit=1)[0]
        if name not in installed or (sep and installed[name] != version):
            missing.append(entry)
    return missing


def dpkg_installed(names, dpkg_lines):
    """The names (architecture qualifiers ignored) that dpkg reports installed, in the input's order."""
    installed = _installed(dpkg_lines)
    return [name for name in names or [] if str(name).split(":", maxsplit=1)[0] in installed]


def _pip_name(name):
    """A distribution name as pip compares them (PEP 503): lower case, runs of -, _ and . as one -."""
    return re.sub(r"[-_.]+", "-", str(name)).lower()


def pip_missing(pins, installed_lines):
    """The NAME==VERSION pins (NAME may carry [extras]) not installed at that version, given NAME==VERSION lines."""
    if isinstance(pins, str) or not isinstance(pins, (list, tuple)):
        raise AnsibleFilterError("pip_missing: the input must be a list of NAME==VERSION pins")
    installed = {}
    for line in installed_lines or []:
        name, sep, version = str(line).strip().partition("==")
        if sep:
            installed[_pip_name(name)] = version
    missing = []
    for pin in pins:
        name, sep, version = str(pin).partition("==")
        if not sep:
            raise AnsibleFilterError("pip_missing: %s is not a NAME==VERSION pin" % pin)
        if installed.get(_pip_name(name.split("[", 1)[0])) != version.strip():
            missing.append(pin)
    return missing


class FilterModule(object):
    def filters(self):
        return {
            "dpkg_missing": dpkg_missing,
            "dpkg_installed": dpkg_installed,
            "dpkg_query_argv": dpkg_query_argv,
            "pip_missing": pip_missing,
        }
