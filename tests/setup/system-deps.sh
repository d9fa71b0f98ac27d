#!/usr/bin/env bash
# tests/setup/system-deps.sh [GROUP...]: make sure the Debian packages of the given groups of
# tests/setup/debian-packages.txt (default: all) are installed. Missing ones are installed with apt-get as root
# (after apt-get update); without root it prints one line naming them and the command, and fails.
set -euo pipefail
list="$(dirname "$0")/debian-packages.txt"
groups=("$@")
[ ${#groups[@]} -gt 0 ] || mapfile -t groups < <(sed -n 's/^\[\(.*\)\]$/\1/p' "$list")

wanted=()
for g in "${groups[@]}"; do
  grep -qx "\[$g\]" "$list" || { echo "system-deps: unknown group '$g' in $list" >&2; exit 2; }
  mapfile -t -O "${#wanted[@]}" wanted < <(awk -v g="[$g]" '/^\[/{on=($0==g); next} on && !/^[[:space:]]*(#|$)/{print $1}' "$list")
done

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "system-deps: missing Debian packages: ${missing[*]}; run this command as root, or first: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system-deps: installed ${#missing[@]} package(s)"
