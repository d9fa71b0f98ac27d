#!/usr/bin/env bash
# Benchmarks that print numbers (`make bench`): lab bring-up (warm), site.yml converge and no-op re-run on the
# lab, addons.yml alone (no-op, --check), apps.yml with the four apps on the fixture control plane, the lab's memory
# and disk footprint, and Patroni's write downtime (seed's way vs patroni_config).
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/lab/lib.sh
need_root
secs() { local t0=$EPOCHREALTIME; "$@" >/dev/null; awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}'; }

echo "bench: hosts: $(tests/lab/lab.sh inventory | xargs grep -c "ansible_host")"
echo "bench: lab up (reuses what is up): $(secs tests/lab/lab.sh up) s"
inv=$(tests/lab/lab.sh inventory)   # LAB_NODES=7 make bench: the 8-host lab
echo "bench: site.yml converge: $(secs ansible-playbook -i "$inv" playbooks/site.yml) s"
echo "bench: site.yml no-op re-run: $(secs ansible-playbook -i "$inv" playbooks/site.yml) s"
echo "bench: site.yml --check on the converged lab: $(secs ansible-playbook -i "$inv" playbooks/site.yml --check) s"
echo "bench: addons.yml no-op re-run: $(secs ansible-playbook -i "$inv" playbooks/addons.yml) s"
echo "bench: addons.yml --check --diff: $(secs ansible-playbook -i "$inv" playbooks/addons.yml --check --diff) s"
.venv/bin/python tests/bench/apps_timing.py
tests/bench/lab_footprint.sh
.venv/bin/python tests/bench/patroni_downtime.py --no-up "$@"
