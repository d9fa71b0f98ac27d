#!/bin/sh
# Runs INSIDE an nspawn lab host, before containerd and the kubelet (the lab-cgroups.service unit):
# gives the host writable cgroup v1 controllers of its own. nspawn mounts each v1 controller read-only;
# a fresh mount shows the hierarchy from the cgroup-namespace root, which every host shares, so each
# controller gets a bmk8s-<hostname> directory that is bind-mounted onto /sys/fs/cgroup/<controller>.
# The fresh mount is unmounted again: while it is mounted, libcontainer (kubelet) finds it first in
# mountinfo and looks for kubepods.slice there. Also /dev/kmsg for the kubelet (nspawn's /dev is a fresh tmpfs at
# every boot). IPv4 forwarding is the product's job (node_prep's sysctl file).
set -eu
host=$(hostname)
mount -o remount,rw /sys/fs/cgroup
for c in memory cpu cpuacct pids devices cpuset freezer blkio; do
  [ -d "/sys/fs/cgroup/$c" ] || continue
  if [ "$(awk -v m="/sys/fs/cgroup/$c" '$5 == m {print $4}' /proc/self/mountinfo | tail -n1)" = "/bmk8s-$host" ]; then
    continue   # already done (the unit ran before)
  fi
  full="/run/lab-cgroup-full/$c"
  mkdir -p "$full"
  mount -t cgroup -o "$c" cgroup "$full"
  mkdir -p "$full/bmk8s-$host"
  if [ "$c" = cpuset ]; then
    cat "$full/cpuset.cpus" > "$full/bmk8s-$host/cpuset.cpus"
    cat "$full/cpuset.mems" > "$full/bmk8s-$host/cpuset.mems"
  fi
  umount "/sys/fs/cgroup/$c"
  mount --bind "$full/bmk8s-$host" "/sys/fs/cgroup/$c"
  umount "$full"
done
[ -e /dev/kmsg ] || ln -s /dev/console /dev/kmsg
