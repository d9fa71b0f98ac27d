"""patroni_config's merge against Patroni's own patroni.utils.patch_config, run by the Pythons that have Patroni:
the lab's PyPI 4.x venv and Debian's python3 with the patroni package (3.0.2). Fails, never skips, when
neither can import it.

For every case (a table of hand-written ones plus seeded random ones):
- Patroni's `changed` equals ours, and the document it stores equals ours up to the one documented deviation
  (nulls inside a subtree that did not exist are dropped, not stored);
- what the module really sends, minimal_patch(current, ours), makes Patroni produce exactly our document,
  and Patroni reports a change exactly when that patch is not empty.
"""

import json
import random
import subprocess
from pathlib import Path

import labenv
import pytest
from ansible_collections.baremetal.k8s.plugins.module_utils import patroni_logic as logic

PYTHONS = [labenv.LAB_DIR / "patroni" / "venv4" / "bin" / "python", "/usr/bin/python3"]

# Reads [[config, patch], ...] on stdin, prints [[changed, stored config, version], ...]: PATCH /config stores
# patch_config's result only when it reports a change, otherwise the DCS keeps the document as it was.
RUNNER = """
import copy, json, sys
from patroni.version import __version__
from patroni.utils import patch_config
out = []
for config, patch in json.load(sys.stdin):
    data = copy.deepcopy(config)
    changed = patch_config(data, patch)
    out.append([changed, data if changed else config, __version__])
json.dump(out, sys.stdout)
"""

BASE = {
    "ttl": 30,
    "loop_wait": 10,
    "postgresql": {"use_pg_rewind": True, "parameters": {"max_connections": 100, "work_mem": "4MB"}},
    "pg_hba": ["host all all 0.0.0.0/0 md5"],
}

TABLE = [
    (BASE, {"postgresql": {"parameters": {"work_mem": "8MB"}}}),  # nested leaf
    (BASE, {"postgresql": {"parameters": {"work_mem": None}}}),  # nested deletion
    (BASE, {"postgresql": {"parameters": {"absent": None}}}),  # deleting a missing key
    (BASE, {"loop_wait": "10", "postgresql": {"parameters": {"max_connections": "100"}}}),  # str() equal
    (BASE, {"postgresql": {"use_pg_rewind": "true"}}),  # str(True) is "True": a change
    (BASE, {"postgresql": {"use_pg_rewind": "True"}}),  # ... and this is none
    (BASE, {"pg_hba": ["host all all 0.0.0.0/0 md5"]}),  # same list
    (BASE, {"pg_hba": ["host all all 10.0.0.0/8 md5"]}),  # lists replace
    (BASE, {"pg_hba": None}),
    (BASE, {"postgresql": None}),  # a whole subtree deleted
    (BASE, {"postgresql": 5}),  # a dict replaced by a scalar
    (BASE, {"ttl": {"a": 1}}),  # a scalar replaced by a dict
    (BASE, {"standby_cluster": {"host": "h", "port": 5432, "primary_slot_name": None}}),  # null in a new subtree
    (BASE, {"ttl": {"a": 1, "b": None}}),  # null in a dict replacing a scalar
    ({"a": {"b": 1}}, {"a": "{'b': 1}"}),  # str() of the dict equals the string: no change
    ({"a": None}, {"a": None}),  # a stored null deleted: no change reported
    ({"a": None}, {"a": "None"}),
    ({}, {"synchronous_mode": True, "synchronous_node_count": 1}),
    (BASE, {"postgresql": {"parameters": {"max_connections": 100.0}}}),  # "100.0" != "100"
]


def _random_tree(rng, depth=0):
    tree = {}
    for _unused in range(rng.randint(0, 4)):
        key = rng.choice("abcdef")
        if depth < 2 and rng.random() < 0.3:
            tree[key] = _random_tree(rng, depth + 1)
        else:
            tree[key] = rng.choice([1, "1", 2, "x", True, "True", None, [1, 2], [1, "2"], 1.5])
    return tree


def cases():
    rng = random.Random(13)
    randoms = [(logic.strip_nulls(_random_tree(rng)), _random_tree(rng)) for _unused in range(400)]
    return TABLE + randoms


def patroni_pythons():
    found = []
    for python in PYTHONS:
        if not Path(python).exists():
            continue
        probe = subprocess.run([str(python), "-c", "import patroni.utils"], capture_output=True, check=False)
        if probe.returncode == 0:
            found.append(str(python))
    if not found:
        pytest.fail(
            "no Python can import patroni (tried %s): install Debian's patroni package "
            "or bring the lab up (tests/lab/lab.sh up patroni)" % ", ".join(map(str, PYTHONS))
        )
    return found


def run_patroni(python, pairs):
    proc = subprocess.run(
        [python, "-c", RUNNER], input=json.dumps(pairs), capture_output=True, text=True, check=False, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def test_merge_matches_patroni_patch_config():
    pythons = patroni_pythons()
    pairs = cases()
    ours = [logic.patroni_merge(config, patch) for config, patch in pairs]
    sent = [
        logic.minimal_patch(config, merged) for (config, _patch), (merged, _changed) in zip(pairs, ours, strict=True)
    ]
    versions = set()
    for python in pythons:
        theirs = run_patroni(python, [list(p) for p in pairs])
        applied = run_patroni(python, [[config, patch] for (config, _unused), patch in zip(pairs, sent, strict=True)])
        for i, ((config, request), (merged, changed)) in enumerate(zip(pairs, ours, strict=True)):
            their_changed, their_merged, version = theirs[i]
            versions.add(version)
            where = "patroni %s, case %d: %r + %r" % (version, i, config, request)
            assert their_changed == changed, where
            assert logic.strip_nulls(their_merged) == logic.strip_nulls(merged), where
            if json.dumps(request).count("null") == 0:
                assert their_merged == merged, where
            sent_changed, sent_merged, _unused = applied[i]
            assert sent_merged == merged, where + " (minimal patch %r)" % sent[i]
            assert sent_changed == bool(sent[i]), where
    print("compared %d cases with Patroni %s" % (len(pairs), ", ".join(sorted(versions))))


def test_table_deviation_is_only_nulls_in_new_subtrees():
    """The documented deviation, shown on the table: Patroni stores the null, the module drops it."""
    python = patroni_pythons()[0]
    config, request = BASE, {"standby_cluster": {"host": "h", "primary_slot_name": None}}
    their = run_patroni(python, [[config, request]])[0][1]
    assert their["standby_cluster"] == {"host": "h", "primary_slot_name": None}
    assert logic.patroni_merge(config, request)[0]["standby_cluster"] == {"host": "h"}
