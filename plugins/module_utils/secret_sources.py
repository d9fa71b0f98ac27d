# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Collect a Secret's data from its sources: a directory of *.secret files, single files, literals, registries.

Runs on the controller (from the k8s_secret_files action plugin). File access goes through two callables so
the caller decides how paths are searched and how vault-encrypted files are decrypted:
  resolve(path, kind) -> absolute path (kind is "directory" or "file"), raising SecretInputError when not found
  read(path) -> bytes, the decrypted content, raising SecretInputError (or OSError) when unreadable
Every check runs before anything is returned, and error messages name keys and files, never values.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.baremetal.k8s.plugins.module_utils.secret_files import (
    DOCKERCONFIGJSON_KEY,
    DOCKERCONFIGJSON_TYPE,
    EXAMPLE_SUFFIX,
    SecretInputError,
    dockerconfigjson,
    example_target,
    is_example_value,
    key_error,
    key_for_path,
    missing_required,
    select_files,
    should_strip,
    strip_one_newline,
)


class _Item(object):
    __slots__ = ("key", "origin", "value", "example", "strip")

    def __init__(self, key, origin, value=None, example=None, strip=False):
        self.key, self.origin, self.value, self.example, self.strip = key, origin, value, example, strip


class CollectedSecret(object):
    """The outcome of collect(): data (key -> bytes), the Secret type and where each key came from."""

    def __init__(self, data, secret_type, origins):
        self.data = data
        self.type = secret_type
        self.origins = origins


def _file_entry(entry, index):
    if isinstance(entry, str):
        entry = {"path": entry}
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or not entry["path"]:
        raise SecretInputError("files[%d] must be a path or a mapping with path, key, strip_newline" % index)
    unknown = sorted(set(entry) - {"path", "key", "strip_newline"})
    if unknown:
        raise SecretInputError("files[%d] has unknown field(s): %s" % (index, ", ".join(unknown)))
    strip = entry.get("strip_newline")
    if strip is not None and not isinstance(strip, bool) and strip not in ("auto", "always", "never"):
        raise SecretInputError("files[%d].strip_newline must be true, false, auto, always or never" % index)
    return entry


def _strip_mode(value, default):
    if value is None:
        return default
    if isinstance(value, bool):
        return "always" if value else "never"
    return value


def _literal_bytes(key, value):
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        raise SecretInputError("literal %r must be a string or a number" % key)
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def _read(read, path, problems):
    try:
        return read(path)
    except SecretInputError as err:
        problems.append(str(err))
    except (IOError, OSError) as err:
        problems.append("cannot read %s: %s" % (path, err.strerror or err.__class__.__name__))
    return None


def collect(args, resolve, read):
    """Validate every source in `args` (the action's arguments) and return a CollectedSecret."""
    naming = args.get("key_naming") or "filename"
    strip_default = args.get("strip_newline") or "auto"
    items = []
    required = list(args.get("required_keys") or [])
    example_hint = {}

    directory = args.get("directory")
    if directory:
        real_dir = resolve(directory, "directory")
        if not os.path.isdir(real_dir):
            raise SecretInputError("secret directory %s is not a directory" % directory)
        try:
            names = os.listdir(real_dir)
        except OSError as err:
            raise SecretInputError("cannot list secret directory %s: %s" % (directory, err.strerror)) from None
        regular = [n for n in names if os.path.isfile(os.path.join(real_dir, n))]
        pattern = args.get("glob") or "*.secret"
        selected = select_files(regular, pattern, args.get("exclude"))
        if not selected and not any(n.endswith(EXAMPLE_SUFFIX) for n in regular):
            raise SecretInputError("no file in secret directory %s matches %s" % (directory, pattern))
        for name in selected:
            path = os.path.join(real_dir, name)
            example = path + ".example" if (name + ".example") in regular else None
            strip = should_strip(name, strip_default)
            items.append(_Item(key_for_path(name, naming), path, example=example, strip=strip))
        if args.get("required_from_examples", True):
            for name in sorted(n for n in regular if n.endswith(EXAMPLE_SUFFIX)):
                target = example_target(name)
                key = key_for_path(target, naming)
                required.append(key)
                example_hint[key] = "copy %s to %s and put the real value in it" % (
                    os.path.join(directory, name),
                    os.path.join(directory, target),
                )

    for index, raw in enumerate(args.get("files") or []):
        entry = _file_entry(raw, index)
        path = resolve(entry["path"], "file")
        if not os.path.isfile(path):
            raise SecretInputError("secret file %s is not a regular file" % entry["path"])
        example = path + ".example" if os.path.isfile(path + ".example") else None
        mode = _strip_mode(entry.get("strip_newline"), strip_default)
        items.append(
            _Item(entry.get("key") or key_for_path(path, naming), path, example=example, strip=should_strip(path, mode))
        )

    for key, value in sorted((args.get("literals") or {}).items()):
        items.append(_Item(key, "literals", value=_literal_bytes(key, value)))

    secret_type = args.get("type")
    if args.get("registries"):
        if secret_type not in (None, DOCKERCONFIGJSON_TYPE):
            raise SecretInputError("registries make a %s Secret, not %s" % (DOCKERCONFIGJSON_TYPE, secret_type))
        secret_type = DOCKERCONFIGJSON_TYPE
        items.append(
            _Item(DOCKERCONFIGJSON_KEY, "registries", value=dockerconfigjson(args["registries"]).encode("utf-8"))
        )

    # Key names first: nothing is read when a name is wrong.
    problems = [err for err in (key_error(i.key) for i in items) if err]
    seen = {}
    for item in items:
        if item.key in seen:
            problems.append("key %r comes from both %s and %s" % (item.key, seen[item.key], item.origin))
        seen.setdefault(item.key, item.origin)
    missing = missing_required(list(dict.fromkeys(required)), seen)
    if missing:
        hints = [example_hint[k] for k in missing if k in example_hint]
        problems.append(
            "missing required key(s): %s%s" % (", ".join(missing), ("; " + "; ".join(hints)) if hints else "")
        )
    if not items and not problems:
        problems.append("no secret source: give directory, files, literals or registries")
    if problems:
        raise SecretInputError("; ".join(problems))

    for item in items:
        if item.value is None:
            value = _read(read, item.origin, problems)
            if value is not None:
                item.value = strip_one_newline(value) if item.strip else value
            if item.example and value is not None and not args.get("allow_example_values"):
                example = _read(read, item.example, problems)
                if is_example_value(value, example):
                    problems.append(
                        "%s still holds the example value of %s; put the real value in it"
                        % (item.origin, os.path.basename(item.example))
                    )
    if problems:
        raise SecretInputError("; ".join(problems))

    if not args.get("allow_empty"):
        empty = [i.key for i in items if not i.value]
        if empty:
            raise SecretInputError("empty value for key(s): %s (set allow_empty: true to allow it)" % ", ".join(empty))

    return CollectedSecret(
        dict((i.key, i.value) for i in items), secret_type or "Opaque", dict((i.key, i.origin) for i in items)
    )
