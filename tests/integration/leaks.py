"""The forms a secret can take in output, for the leak tests (one grep for every test that looks for leaks)."""

import base64
import json


def secret_forms(value: str | bytes) -> set[str]:
    """Every form of a secret value output must not contain: text, base64, JSON-escaped (ASCII and not), repr."""
    raw = value if isinstance(value, bytes) else value.encode("utf-8")
    forms = {base64.b64encode(raw).decode()}
    text = raw.decode("utf-8")
    forms.update({text, json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]})
    forms.update({repr(text)[1:-1]})  # Python repr, as tracebacks would show it
    return {f for f in forms if len(f) >= 6}


def leaked(text: str, *secrets: str | bytes) -> list[str]:
    """The forms of the secrets found in text (empty when none leaked)."""
    return sorted(form for secret in secrets for form in secret_forms(secret) if form in text)
