"""Every bool option of a role is read through `| bool` wherever a task or template decides on it.

AWX sends survey answers for bool options as the strings "true"/"false" (a multiplechoice question), and role
argument validation checks them without converting the variable: `when: var` then fails in ansible-core 2.19
("Conditionals must have a boolean result"), and `'hold' if var else ...` takes "false" for true.
"""

import re
from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[3] / "roles"


def bool_options(role: Path) -> set[str]:
    spec = yaml.safe_load((role / "meta/argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    return {name for name, option in spec.items() if option.get("type") == "bool"}


def decision_lines(role: Path):
    """(file, line number, text) of lines that compute something: when/that, Jinja, filter keyword arguments."""
    for path in sorted(
        [*role.glob("tasks/*.yml"), *role.glob("vars/*.yml"), *role.glob("templates/*"), *role.glob("handlers/*.yml")]
    ):
        in_message = False
        for number, line in enumerate(path.read_text().splitlines(), 1):
            stripped = line.strip()
            if re.match(r"(fail_msg|msg):", stripped):
                in_message = True
                continue
            if in_message and (not stripped or re.match(r"[a-z_]+:", stripped) or stripped.startswith("- ")):
                in_message = False
            if in_message or stripped.startswith("#") or stripped.startswith("- name:"):
                continue
            yield path, number, line


WITH_BOOLS = sorted(p for p in ROLES.iterdir() if (p / "meta/argument_specs.yml").exists() and bool_options(p))


@pytest.mark.parametrize("role", WITH_BOOLS, ids=lambda p: p.name)
def test_bool_options_are_read_with_the_bool_filter(role):
    options = bool_options(role)
    pattern = re.compile(r"\b(" + "|".join(sorted(options, key=len, reverse=True)) + r")\b(?!\s*\|\s*bool)(?![\w:])")
    offenders = [
        f"{path.relative_to(ROLES)}:{n}: {line.strip()}"
        for path, n, line in decision_lines(role)
        if pattern.search(line)
    ]
    assert offenders == []
