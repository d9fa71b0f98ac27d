#!/usr/bin/env bash
# Sanity checks ansible-test does not do (tests/sanity/ansible-test.sh runs `ansible-test sanity`, whose
# validate-modules and ansible-doc tests check every module's and plugin's documentation): the collection
# builds, installs into an empty collections path, every role's argument_specs renders with ansible-doc,
# every playbook passes --syntax-check as installed, and the EE context builds.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

printf "[defaults]\n" > "$tmp/ansible.cfg"; export ANSIBLE_CONFIG="$tmp/ansible.cfg"  # not the checkout's ./.collections link
export ANSIBLE_COLLECTIONS_PATH="$tmp"
echo "sanity: build"
rm -rf build && mkdir -p build
ansible-galaxy collection build --output-path build --force >/dev/null
tarball=$(ls build/baremetal-k8s-*.tar.gz)
echo "sanity: install $tarball into $tmp"
# --no-deps: kubernetes.core, ansible.posix and community.general come bundled with the ansible package.
ansible-galaxy collection install --no-deps -p "$tmp" "$tarball" >/dev/null
installed="$tmp/ansible_collections/baremetal/k8s"
[ -f "$installed/MANIFEST.json" ] || { echo "sanity: collection did not install" >&2; exit 1; }

fail=0
doc() {  # $1 type, $2 name: ansible-doc must render, with no warning about broken docs
  local out
  if ! out=$(ansible-doc -t "$1" "baremetal.k8s.$2" 2>&1) || grep -qE '^\[(WARNING|ERROR)\]' <<<"$out"; then
    echo "sanity: ansible-doc -t $1 baremetal.k8s.$2 failed:" >&2; echo "$out" | head -20 >&2; fail=1
  else
    echo "sanity: ansible-doc -t $1 baremetal.k8s.$2 ok"
  fi
}
for f in "$installed"/roles/*/meta/argument_specs.yml; do [ -e "$f" ] && doc role "$(basename "$(dirname "$(dirname "$f")")")"; done

for pb in "$installed"/playbooks/*.yml; do
  name=$(basename "$pb" .yml)
  if ansible-playbook --syntax-check -i inventories/sample/hosts.yml "baremetal.k8s.$name" >/dev/null 2>"$tmp/err"; then
    echo "sanity: syntax-check baremetal.k8s.$name ok"
  else
    echo "sanity: syntax-check baremetal.k8s.$name failed:" >&2; cat "$tmp/err" >&2; fail=1
  fi
done

tests/sanity/ee-context.sh || fail=1
[ "$fail" = 0 ] && echo "sanity: all passed"
exit "$fail"
