#!/usr/bin/env bash
# Run ansible-test (`sanity` or `units`, plus its arguments) on this checkout, offline apart from the package index:
# * ansible-test wants the collection at .../ansible_collections/baremetal/k8s: the checkout's files (tracked and
#   untracked, not git-ignored, not in galaxy.yml's build_ignore) are copied to a fresh
#   .venv/ansible-test/run.*/ansible_collections/baremetal/k8s (made a git repository, as ansible-test lists
#   files with git), and the collections it depends on (kubernetes.core, ansible.posix, community.general,
#   bundled with the ansible package in .venv) are linked beside it, where ansible-test looks for them;
# * ansible-test's per-test virtual environments are ready-made by ansible_test_venvs.py (no pip bootstrap),
#   under a HOME of its own (.venv/ansible-test/home), so checkouts do not share them.
# Results land in tests/output/ansible-test/ of the checkout.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
venv=$repo/${VENV:-.venv}
py=$venv/bin/python
work=$venv/ansible-test
mkdir -p "$work/home"
run=$(mktemp -d "$work/run.XXXXXX")  # one tree per run: runs may overlap
trap 'rm -rf "$run"' EXIT
tree=$run/ansible_collections/baremetal/k8s
site=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ansible_collections

# Sanity checks the files `ansible-galaxy collection build` ships: galaxy.yml's build_ignore leaves out the lab
# tooling (tests/lab) and the Helm fixture charts (tests/charts, Go templates), which are not collection content.
# Units get every file (the fixture chart tests render tests/charts).
select='
import fnmatch, os, sys, yaml
ignore = yaml.safe_load(open("galaxy.yml")).get("build_ignore") or []
def shipped(path):
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return sys.argv[1] != "sanity" or not any(fnmatch.fnmatch(p, pat) for p in prefixes for pat in ignore)
paths = [p for p in sys.stdin.read().split("\0") if p and os.path.lexists(p) and shipped(p)]
sys.stdout.write("".join(p + "\0" for p in paths))
'
mkdir -p "$tree"
git ls-files -z -co --exclude-standard | "$py" -c "$select" "$1" | tar -c --null -T - -f - | tar -x -C "$tree" -f -
git -C "$tree" init -q && git -C "$tree" add -A
for ns in kubernetes ansible community; do ln -s "$site/$ns" "$run/ansible_collections/$ns"; done

export HOME=$work/home
unset ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH  # ansible-test sets up its own
flock "$work/venvs.lock" "$py" tests/sanity/ansible_test_venvs.py
cd "$tree"
rc=0
"$venv/bin/ansible-test" "$@" --python "$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" --color no || rc=$?
rm -rf "$repo/tests/output/ansible-test"
mkdir -p "$repo/tests/output"
[ -d tests/output ] && cp -r tests/output "$repo/tests/output/ansible-test"
exit "$rc"
