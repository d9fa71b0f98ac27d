# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers for turning secret files into Kubernetes Secrets.

Shared by the k8s_secret_files action plugin (controller side), the module (API side) and the filters.
Nothing here does I/O or logs; callers must never put the values these helpers handle into results.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import fnmatch
import json
import os
import re

DOCKERCONFIGJSON_TYPE = "kubernetes.io/dockerconfigjson"
DOCKERCONFIGJSON_KEY = ".dockerconfigjson"
SECRET_SUFFIX = ".secret"
EXAMPLE_SUFFIX = ".secret.example"
KEY_MAX_LENGTH = 253
# The rule Kubernetes applies to ConfigMap and Secret keys (IsConfigMapKey).
_KEY_RE = re.compile(r"^[-._a-zA-Z0-9]+$")
# kubectl's --from-file uses a file's basename as its key.
KEY_NAMING = ("filename", "stem")
STRIP_MODES = ("auto", "always", "never")
MASK = "********"


class SecretInputError(ValueError):
    """Bad input found before any API call. Messages name keys and files, never values."""


def key_error(key):
    """Return why `key` is not a valid Secret key, or None when it is valid."""
    if not isinstance(key, str) or not key:
        return "a key must be a non-empty string"
    if len(key) > KEY_MAX_LENGTH:
        return "key %r is longer than %d characters" % (key[:40] + "...", KEY_MAX_LENGTH)
    if not _KEY_RE.match(key):
        return "key %r may only contain letters, digits, '-', '_' and '.'" % key
    if key in (".", "..") or key.startswith(".."):
        return "key %r must not be '.', '..' or start with '..'" % key
    return None


def validate_keys(keys):
    """Raise SecretInputError listing every invalid key."""
    errors = [err for err in (key_error(k) for k in keys) if err]
    if errors:
        raise SecretInputError("invalid Secret key(s): " + "; ".join(errors))


def strip_one_newline(data):
    """Remove exactly one trailing line ending (\\r\\n or \\n) from bytes, like `truncate -s -1` on a vim file."""
    if data.endswith(b"\r\n"):
        return data[:-2]
    if data.endswith(b"\n"):
        return data[:-1]
    return data


def should_strip(filename, mode="auto"):
    """Whether the trailing newline of `filename` is stripped: auto strips *.secret files only."""
    if mode not in STRIP_MODES:
        raise SecretInputError("strip_newline must be one of %s, not %r" % (", ".join(STRIP_MODES), mode))
    if mode == "auto":
        return os.path.basename(filename).endswith(SECRET_SUFFIX)
    return mode == "always"


def key_for_path(path, naming="filename"):
    """The Secret key for a file: its basename (kubectl --from-file, DevStats) or its stem (last suffix removed)."""
    if naming not in KEY_NAMING:
        raise SecretInputError("key_naming must be one of %s, not %r" % (", ".join(KEY_NAMING), naming))
    name = os.path.basename(path.rstrip("/"))
    if naming == "stem":
        stem, ext = os.path.splitext(name)
        return stem if stem and ext else name
    return name


def example_target(example_name):
    """The .secret file an example stands for: PG_PASS.secret.example -> PG_PASS.secret."""
    return example_name[: -len(".example")] if example_name.endswith(EXAMPLE_SUFFIX) else None


def select_files(names, pattern="*.secret", exclude=("*" + EXAMPLE_SUFFIX,)):
    """Names matching the glob `pattern`, minus those matching any `exclude` glob, sorted."""
    exclude = list(exclude or [])
    return sorted(
        n for n in names if fnmatch.fnmatchcase(n, pattern) and not any(fnmatch.fnmatchcase(n, e) for e in exclude)
    )


def is_example_value(value, example):
    """True when a secret still holds its example's content (trailing newline and surrounding blanks ignored)."""
    if example is None:
        return False
    return strip_one_newline(value).strip() == strip_one_newline(example).strip()


def missing_required(required, present):
    """Required keys that are not present, in the order given."""
    have = set(present)
    return [k for k in required if k not in have]


def registry_auth(server, username, password, email=None):
    """One `auths` entry as `kubectl create secret docker-registry` writes it."""
    for field, value in (("server", server), ("username", username), ("password", password)):
        if not isinstance(value, str) or not value:
            raise SecretInputError("registry credential field %r must be a non-empty string" % field)
    entry = {
        "username": username,
        "password": password,
        "auth": base64.b64encode(("%s:%s" % (username, password)).encode("utf-8")).decode("ascii"),
    }
    if email:
        entry["email"] = email
    return entry


def dockerconfigjson(registries):
    """Build the .dockerconfigjson document (str) from a list of {server, username, password, email?}
    or a mapping {server: {username, password, email?}}."""
    if isinstance(registries, dict):
        registries = [dict(v or {}, server=k) for k, v in registries.items()]
    if not isinstance(registries, (list, tuple)) or not registries:
        raise SecretInputError("registries must be a non-empty list of {server, username, password, email}")
    auths = {}
    for item in registries:
        if not isinstance(item, dict):
            raise SecretInputError("each registry must be a mapping with server, username and password")
        server = item.get("server")
        if server in auths:
            raise SecretInputError("registry %r is listed twice" % server)
        auths[server] = registry_auth(server, item.get("username"), item.get("password"), item.get("email"))
    return json.dumps({"auths": auths}, sort_keys=True, separators=(",", ":"))


def same_value(key, current, desired):
    """Compare two values as bytes; the .dockerconfigjson of a registry Secret is compared as parsed JSON."""
    if current == desired:
        return True
    if key == DOCKERCONFIGJSON_KEY:
        try:
            return json.loads(current.decode("utf-8")) == json.loads(desired.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return False
    return False


def decode_data(data):
    """Decode a live Secret's `data` (base64 strings) to bytes per key."""
    return {k: base64.b64decode(v or "") for k, v in (data or {}).items()}


def encode_data(data):
    """Encode bytes per key to the base64 strings a Secret's `data` holds."""
    return {k: base64.b64encode(v).decode("ascii") for k, v in data.items()}


def compare_data(current, desired, prune=True):
    """Key names (added, changed, removed) turning `current` into `desired` (both key -> bytes)."""
    added = sorted(k for k in desired if k not in current)
    changed = sorted(k for k in desired if k in current and not same_value(k, current[k], desired[k]))
    removed = sorted(k for k in current if k not in desired) if prune else []
    return added, changed, removed


def diff_lines(keys, marker):
    """Text for the diff of a Secret's data: one line per key, values replaced by a marker."""
    return "".join("%s: %s\n" % (k, marker.get(k, "(unchanged)")) for k in sorted(keys))


def keys_diff(current_keys, desired_keys, changed):
    """before/after texts that show which keys are added, removed or changed, never a value."""
    before = {k: "(current value)" for k in changed}
    after = {k: "(new value)" for k in changed}
    return diff_lines(current_keys, before), diff_lines(desired_keys, after)


def secret_forms(value):
    """Every form of a secret value worth masking in a message: text, base64, JSON-escaped."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    forms = set()
    if not value:
        return forms
    forms.add(base64.b64encode(value).decode("ascii"))
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return forms
    forms.add(text)
    forms.add(json.dumps(text)[1:-1])
    stripped = text.strip()
    if stripped:
        forms.add(stripped)
    return forms


def scrub(message, values):
    """Replace every form of every value (at least 3 characters long) in `message` by a mask."""
    forms = set()
    for value in values:
        forms.update(secret_forms(value))
    for form in sorted((f for f in forms if len(f) >= 3), key=len, reverse=True):
        message = message.replace(form, MASK)
    return message
